//! The colours of `www/static/style.css` meet WCAG AA (4.5:1 for normal text) in both
//! colour schemes: text, links and error text against their backgrounds. A colour
//! change that breaks it fails here.

use std::collections::HashMap;

/// The `--name: #rrggbb` custom properties of the first rule of `block` that starts
/// with `:root {`.
fn custom_properties(block: &str) -> HashMap<String, String> {
    let start = block.find(":root {").expect("a :root rule") + ":root {".len();
    let end = start + block[start..].find('}').expect("the end of :root");
    block[start..end]
        .split(';')
        .filter_map(|decl| {
            let (name, value) = decl.split_once(':')?;
            let name = name.trim();
            name.starts_with("--")
                .then(|| (name.to_string(), value.trim().to_string()))
        })
        .collect()
}

/// `#rgb` or `#rrggbb` as 0..=1 channels.
fn rgb(hex: &str) -> [f64; 3] {
    let h = hex
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("{hex:?} is not #hex"));
    let h: String = match h.len() {
        3 => h.chars().flat_map(|c| [c, c]).collect(),
        6 => h.to_string(),
        _ => panic!("{hex:?} is not #rgb or #rrggbb"),
    };
    let ch = |i: usize| f64::from(u8::from_str_radix(&h[i..i + 2], 16).unwrap()) / 255.0;
    [ch(0), ch(2), ch(4)]
}

/// WCAG 2.x relative luminance.
fn luminance(hex: &str) -> f64 {
    let lin = |c: f64| {
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let [r, g, b] = rgb(hex);
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG contrast ratio, 1..=21.
fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The (foreground, background) pairs that must read at 4.5:1.
const PAIRS: &[(&str, &str)] = &[
    ("--text", "--bg"),
    ("--accent", "--bg"),
    ("--error", "--bg"),
    ("--error", "--error-bg"),
    ("--text", "--error-bg"),
    ("--accent", "--error-bg"),
];

fn check(scheme: &str, props: &HashMap<String, String>) -> Vec<String> {
    let mut bad = Vec::new();
    for (fg, bg) in PAIRS {
        let (Some(f), Some(b)) = (props.get(*fg), props.get(*bg)) else {
            bad.push(format!("{scheme}: {fg} or {bg} is not defined"));
            continue;
        };
        let ratio = contrast(f, b);
        if ratio < 4.5 {
            bad.push(format!(
                "{scheme}: {fg} {f} on {bg} {b} is {ratio:.2}:1 (< 4.5)"
            ));
        }
    }
    bad
}

#[test]
fn the_formula_is_wcags() {
    assert!((contrast("#000", "#fff") - 21.0).abs() < 1e-9);
    assert!((contrast("#fff", "#fff") - 1.0).abs() < 1e-9);
    // #777 on white is the classic near miss: 4.48:1.
    let grey = contrast("#777777", "#ffffff");
    assert!(grey > 4.47 && grey < 4.49, "{grey}");
    let props = HashMap::from([
        ("--text".to_string(), "#777".to_string()),
        ("--bg".to_string(), "#fff".to_string()),
    ]);
    assert!(!check("test", &props).is_empty());
}

#[test]
fn text_links_and_errors_meet_wcag_aa_in_both_schemes() {
    let css = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/www/static/style.css"))
        .expect("read style.css");
    let dark_at = css
        .find("@media (prefers-color-scheme: dark)")
        .expect("a dark scheme block");
    let light = custom_properties(&css[..dark_at]);
    // The dark block overrides the light values it names.
    let mut dark = light.clone();
    dark.extend(custom_properties(&css[dark_at..]));
    let mut bad = check("light", &light);
    bad.extend(check("dark", &dark));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
