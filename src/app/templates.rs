//! The pages' HTML lives in `www/templates/*.html`, rendered by
//! [minijinja](https://docs.rs/minijinja) (Jinja's syntax); their data is a
//! `serde_json::Value`, so the same data renders as HTML or goes out as JSON (SPEC:
//! "every HTML page also answers `Accept: application/json` with the same data").
//!
//! # Theory of operation
//!
//! [`Templates::load`] reads every `*.html` file of the directory and compiles each
//! into a minijinja environment. A syntax error stops the server from starting, with
//! the file and the line: `www/templates/cart.html:12: syntax error: unexpected end of
//! input, expected end of block`. Each template is then rendered once with an empty
//! context, so an `extends` or `include` of a template that does not exist stops the
//! start too (rather than the first request that shows the page).
//!
//! [`Templates::render`] renders a template against a context (a JSON object).
//!
//! In debug builds a render first checks the templates' files (names, sizes, mtimes)
//! and reloads them all when one changed: edit a template, reload the page. A template
//! that no longer compiles is logged and the previous ones are kept. Release builds
//! load once.
//!
//! # The syntax we use (a small part of Jinja's)
//!
//! | syntax | meaning |
//! |---|---|
//! | `{{ name }}`, `{{ product.price }}`, `{{ items[0].id }}` | the value, **HTML-escaped** (strings as text, numbers and booleans as JSON writes them, `null` and missing values as nothing) |
//! | `{{ name\|safe }}` | the value **not escaped**: the opt-out, for trusted fragments the server built itself |
//! | `{% if x %}…{% elif y %}…{% else %}…{% endif %}`, `{% if not x %}` | truthiness as in Python: `null`, `false`, `0`, `""`, `[]`, `{}` and missing are false |
//! | `{% for p in products %}…{% else %}…{% endfor %}` | a loop; the `else` part renders when the list is empty (or missing). Inside, `loop.index` (from 1), `loop.first`, `loop.last` |
//! | `{% extends "base.html" %}`, `{% block content %}…{% endblock %}` | a layout and the parts a page fills |
//! | `{% include "part.html" %}` | another template, same context |
//! | `{# a comment #}` | nothing |
//!
//! Decisions:
//!
//! - **Auto-escaping for `.html`**, through the same [`escape_into`] the pages that
//!   build markup in code use (`&`, `<`, `>`, `"`, `'`), by our own formatter.
//! - **A variable that is not in the context renders as nothing**, and so does a
//!   member of a missing one (`o.x.y`, minijinja's "chainable" undefined): whether a
//!   name exists depends on each request's data. `null` renders as nothing too.
//! - **Block tags leave no blank lines**: `trim_blocks` (the newline after a tag goes)
//!   and `lstrip_blocks` (spaces before a tag on its line go), so the HTML sent reads
//!   like the template. The template's final newline is kept.
//! - Pages compute what they show (totals, formatted prices) in Rust and put it in
//!   the data, where the JSON form gets it too: templates use no filters but `safe`.

use crate::app::html::escape_into;
use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, RwLock};

/// A template that could not be loaded or rendered: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    /// The file (or the directory, when it could not be read).
    pub file: PathBuf,
    /// 1-based line of the problem; 0 when the problem is the file as a whole.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for TemplateError {}

/// What identifies one version of the directory's templates: `(name, size, mtime)`
/// of each `*.html` file, sorted by name.
type Stamp = Vec<(String, u64, Option<std::time::SystemTime>)>;

/// Every template of the site, compiled.
pub(crate) struct Templates {
    /// The directory loaded from (`None` for [`from_sources`](Self::from_sources)).
    dir: Option<PathBuf>,
    env: RwLock<Environment<'static>>,
    /// The files as last loaded (debug builds compare it before each render).
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    stamp: Mutex<Stamp>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates").field("dir", &self.dir).finish()
    }
}

impl Templates {
    /// Load and compile every `*.html` file of `dir` (not its subdirectories).
    pub(crate) fn load(dir: &Path) -> Result<Templates, TemplateError> {
        let (sources, stamp) = read_dir(dir)?;
        let env = compile(Some(dir), sources)?;
        Ok(Templates {
            dir: Some(dir.to_path_buf()),
            env: RwLock::new(env),
            stamp: Mutex::new(stamp),
        })
    }

    /// Compile templates given as `(name, source)` pairs (tests).
    #[cfg(test)]
    pub(crate) fn from_sources(sources: &[(&str, &str)]) -> Result<Templates, TemplateError> {
        let sources = sources
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        Ok(Templates {
            dir: None,
            env: RwLock::new(compile(None, sources)?),
            stamp: Mutex::new(Vec::new()),
        })
    }

    /// Whether a template of this name was loaded.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.env
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get_template(name)
            .is_ok()
    }

    /// Fail unless every one of `names` was loaded (checked once at start, so a page
    /// never finds its template missing).
    pub(crate) fn require(&self, dir: &Path, names: &[&str]) -> Result<(), TemplateError> {
        match names.iter().find(|n| !self.has(n)) {
            None => Ok(()),
            Some(missing) => Err(TemplateError {
                file: dir.join(missing),
                line: 0,
                message: "template missing (the pages need it)".into(),
            }),
        }
    }

    /// Render the template `name` with `context` (a JSON object; anything else is an
    /// empty context). Fails if there is no such template (pages only render names
    /// checked by [`require`](Self::require) at start) or the template fails at run
    /// time.
    pub(crate) fn render(&self, name: &str, context: &Value) -> Result<String, TemplateError> {
        #[cfg(debug_assertions)]
        self.reload_if_changed();
        let env = self.env.read().unwrap_or_else(PoisonError::into_inner);
        let context = if context.is_object() {
            context
        } else {
            &Value::Object(serde_json::Map::new())
        };
        env.get_template(name)
            .and_then(|t| t.render(context))
            .map_err(|e| to_error(self.dir.as_deref(), &e))
    }

    /// Debug builds: reload every template if a file was added, removed or changed
    /// since the last load. A template that no longer compiles is logged; the
    /// previous templates stay.
    #[cfg(debug_assertions)]
    fn reload_if_changed(&self) {
        let Some(dir) = &self.dir else { return };
        let mut stamp = self.stamp.lock().unwrap_or_else(PoisonError::into_inner);
        let (sources, now) = match read_dir(dir) {
            Ok(found) => found,
            Err(e) => {
                log::error!("templates not reloaded: {e}");
                return;
            }
        };
        if now == *stamp {
            return;
        }
        *stamp = now;
        match compile(Some(dir), sources) {
            Ok(env) => {
                *self.env.write().unwrap_or_else(PoisonError::into_inner) = env;
                log::info!("templates reloaded from {}", dir.display());
            }
            Err(e) => log::error!("templates not reloaded: {e}"),
        }
    }
}

/// The `*.html` files of `dir` as `(name, source)`, sorted by name, and their stamp.
fn read_dir(dir: &Path) -> Result<(Vec<(String, String)>, Stamp), TemplateError> {
    let whole = |message: String| TemplateError {
        file: dir.to_path_buf(),
        line: 0,
        message,
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| whole(format!("cannot read templates: {e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| whole(format!("cannot read templates: {e}")))?
            .path();
        if path.extension().is_some_and(|x| x == "html") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let mut sources = Vec::with_capacity(files.len());
    let mut stamp = Vec::with_capacity(files.len());
    for path in files {
        let cannot = |e: std::io::Error| TemplateError {
            file: path.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        };
        let meta = std::fs::metadata(&path).map_err(cannot)?;
        let text = std::fs::read_to_string(&path).map_err(cannot)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        stamp.push((name.clone(), meta.len(), meta.modified().ok()));
        sources.push((name, text));
    }
    Ok((sources, stamp))
}

/// An environment holding `sources`, each compiled and rendered once with an empty
/// context (which finds `extends` and `include` of missing templates).
fn compile(
    dir: Option<&Path>,
    sources: Vec<(String, String)>,
) -> Result<Environment<'static>, TemplateError> {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_formatter(|out, state, value| {
        if value.is_undefined() || value.is_none() {
            return Ok(());
        }
        let escape = !matches!(state.auto_escape(), AutoEscape::None) && !value.is_safe();
        let text;
        let s = match value.as_str() {
            Some(s) => s,
            // As JSON writes them (minijinja's own formatter writes Python's `True`).
            None if value.kind() == ValueKind::Bool => {
                if value.is_true() {
                    "true"
                } else {
                    "false"
                }
            }
            None => {
                text = value.to_string();
                &text
            }
        };
        if escape {
            let mut escaped = String::with_capacity(s.len() + 8);
            escape_into(&mut escaped, s);
            out.write_str(&escaped)?;
        } else {
            out.write_str(s)?;
        }
        Ok(())
    });
    let names: Vec<String> = sources.iter().map(|(n, _)| n.clone()).collect();
    for (name, text) in sources {
        env.add_template_owned(name, text)
            .map_err(|e| to_error(dir, &e))?;
    }
    let empty = Value::Object(serde_json::Map::new());
    for name in &names {
        env.get_template(name)
            .and_then(|t| t.render(&empty))
            .map_err(|e| to_error(dir, &e))?;
    }
    Ok(env)
}

/// A minijinja error as ours: the template's file (under `dir`), line and message.
fn to_error(dir: Option<&Path>, e: &minijinja::Error) -> TemplateError {
    let name = e.name().unwrap_or("");
    let file = match dir {
        Some(d) => d.join(name),
        None => PathBuf::from(name),
    };
    let message = match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    TemplateError {
        file,
        line: e.line().unwrap_or(0),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(src: &str) -> Templates {
        Templates::from_sources(&[("t.html", src)]).unwrap()
    }

    fn render(src: &str, ctx: Value) -> String {
        t(src).render("t.html", &ctx).unwrap()
    }

    fn error(sources: &[(&str, &str)]) -> String {
        Templates::from_sources(sources).unwrap_err().to_string()
    }

    #[test]
    fn variables_are_escaped_by_default() {
        let ctx = json!({"name": "<script>alert(\"x\")</script> & 'y'"});
        assert_eq!(
            render("Hi {{ name }}!", ctx.clone()),
            "Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;!"
        );
        assert_eq!(
            render("<a title=\"{{name}}\">", json!({"name": "\" onclick=\"x"})),
            "<a title=\"&quot; onclick=&quot;x\">"
        );
        assert_eq!(
            render("{{ name|safe }}", ctx),
            "<script>alert(\"x\")</script> & 'y'"
        );
        assert_eq!(render("{{ html | safe }}", json!({"html": "<b>"})), "<b>");
    }

    #[test]
    fn values_render_by_type_and_missing_ones_are_empty() {
        let ctx = json!({"n": 3, "f": 1.5, "b": true, "z": null,
                         "o": {"a": {"b": "deep"}}, "items": [{"id": 7}]});
        assert_eq!(
            render("{{n}} {{f}} {{b}} [{{z}}] [{{missing}}]", ctx.clone()),
            "3 1.5 true [] []"
        );
        assert_eq!(
            render(
                "{{ o.a.b }} {{ items[0].id }} [{{ o.x.y }}] [{{ n.x }}]",
                ctx
            ),
            "deep 7 [] []"
        );
    }

    #[test]
    fn if_elif_else_and_truthiness() {
        let src = "{% if a %}A{% elif b %}B{% else %}C{% endif %}";
        assert_eq!(render(src, json!({"a": 1})), "A");
        assert_eq!(render(src, json!({"a": 0, "b": "x"})), "B");
        assert_eq!(render(src, json!({"a": "", "b": []})), "C");
        for falsy in [
            json!(null),
            json!(false),
            json!(0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert_eq!(render(src, json!({"a": falsy})), "C");
        }
        for truthy in [
            json!(true),
            json!(-1),
            json!("0"),
            json!([0]),
            json!({"k": 0}),
        ] {
            assert_eq!(render(src, json!({"a": truthy})), "A");
        }
        assert_eq!(render("{% if not a %}no{% endif %}", json!({})), "no");
        assert_eq!(render("{% if not a %}no{% endif %}", json!({"a": 1})), "");
    }

    #[test]
    fn for_loops_with_else_and_loop_meta() {
        let src = "{% for p in ps %}{{ loop.index }}:{{ p.name }}{% if not loop.last %}, {% endif %}\
                   {% else %}none{% endfor %}";
        assert_eq!(
            render(src, json!({"ps": [{"name": "a"}, {"name": "<b>"}]})),
            "1:a, 2:&lt;b&gt;"
        );
        assert_eq!(render(src, json!({"ps": []})), "none");
        assert_eq!(render(src, json!({})), "none");
    }

    #[test]
    fn nesting_shadows_and_reaches_outer_names() {
        let src = "{% for row in rows %}[{% for x in row.xs %}{{ title }}{{ x }}{% if loop.first %}^{% endif %}\
                   {% endfor %}]{% endfor %}{{ x }}";
        assert_eq!(
            render(
                src,
                json!({"title": "t", "x": "outer", "rows": [{"xs": [1, 2]}, {"xs": [3]}]})
            ),
            "[t1^t2][t3^]outer"
        );
        // An inner loop variable shadows an outer one of the same name.
        assert_eq!(
            render(
                "{% for x in a %}{% for x in b %}{{x}}{% endfor %}{{x}}{% endfor %}",
                json!({"a": [1], "b": [2, 3]})
            ),
            "231"
        );
    }

    #[test]
    fn block_tags_take_their_line() {
        let src = "<ul>\n  {% for x in xs %}\n  <li>{{ x }}</li>\n  {% endfor %}\n</ul>\n{# note #}\nend\n";
        assert_eq!(
            render(src, json!({"xs": [1, 2]})),
            "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>\nend\n"
        );
        // Text before a tag on its line stays.
        assert_eq!(
            render("a {% if x %}b{% endif %} c\n", json!({"x": 1})),
            "a b c\n"
        );
        // A lone brace is text.
        assert_eq!(render("a { b } {x}", json!({})), "a { b } {x}");
    }

    #[test]
    fn extends_blocks_and_include() {
        let ts = Templates::from_sources(&[
            (
                "base.html",
                "<title>{% block title %}site{% endblock %}</title>\n\
                 {% include \"nav.html\" %}\
                 <main>{% block content %}{% endblock %}</main>",
            ),
            ("nav.html", "<nav>{{ who }}</nav>\n"),
            (
                "page.html",
                "{% extends \"base.html\" %}\n{# the page #}\n\
                 {% block content %}<p>{{ who }}</p>{% endblock content %}\n",
            ),
            (
                "titled.html",
                "{% extends \"page.html\" %}{% block title %}T{% endblock %}",
            ),
        ])
        .unwrap();
        let ctx = json!({"who": "<Ada>"});
        assert_eq!(
            ts.render("page.html", &ctx).unwrap(),
            "<title>site</title>\n<nav>&lt;Ada&gt;</nav>\n<main><p>&lt;Ada&gt;</p></main>"
        );
        assert_eq!(
            ts.render("titled.html", &ctx).unwrap(),
            "<title>T</title>\n<nav>&lt;Ada&gt;</nav>\n<main><p>&lt;Ada&gt;</p></main>"
        );
        assert!(
            ts.require(Path::new("x"), &["page.html", "base.html"])
                .is_ok()
        );
        assert_eq!(
            ts.require(Path::new("x"), &["page.html", "gone.html"])
                .unwrap_err()
                .to_string(),
            "x/gone.html: template missing (the pages need it)"
        );
        assert!(ts.render("gone.html", &ctx).is_err());
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let cases: &[(&str, &str)] = &[
            ("a\nb {{ x\n", "t.html:2: syntax error"),
            ("a\n\n{% if x %}b", "t.html:3: syntax error"),
            ("x\n{% endif %}", "t.html:2: syntax error"),
            ("\n{% frobnicate %}", "t.html:2: syntax error"),
            ("{{ a b }}", "t.html:1: syntax error"),
            ("{{ }}", "t.html:1: syntax error"),
            ("{# open", "t.html:1: syntax error"),
        ];
        for (src, want) in cases {
            let got = error(&[("t.html", src)]);
            assert!(got.starts_with(want), "{src:?}: got {got:?}, want {want:?}");
        }
        // Missing templates are found at load, not by the first request.
        assert!(
            error(&[("c.html", "{% extends \"gone.html\" %}")]).contains("gone.html"),
            "{}",
            error(&[("c.html", "{% extends \"gone.html\" %}")])
        );
        assert!(error(&[("c.html", "\n{% include \"nope.html\" %}")]).starts_with("c.html:2: "));
    }

    #[test]
    fn errors_at_render_time_name_file_and_line() {
        // Loads (the include is not reached with empty data), fails when it is.
        let ts = t("a\n{% if x %}\n{% include \"nope.html\" %}{% endif %}");
        assert_eq!(ts.render("t.html", &json!({})).unwrap(), "a\n");
        let e = ts.render("t.html", &json!({"x": 1})).unwrap_err();
        assert_eq!((e.file.as_path(), e.line), (Path::new("t.html"), 3), "{e}");
        assert!(e.message.contains("nope.html"), "{e}");
    }

    #[test]
    fn loads_a_directory_and_reports_paths() {
        let dir = crate::testing::TempDir::new("templates");
        std::fs::write(dir.file("ok.html"), "hi {{ x }}").unwrap();
        std::fs::write(dir.file("notes.txt"), "{% ignored").unwrap();
        let ts = Templates::load(dir.path()).unwrap();
        assert_eq!(ts.render("ok.html", &json!({"x": 1})).unwrap(), "hi 1");
        assert!(!ts.has("notes.txt"));
        std::fs::write(dir.file("bad.html"), "one\ntwo {% if %}").unwrap();
        let e = Templates::load(dir.path()).unwrap_err();
        assert_eq!(e.file, dir.file("bad.html"));
        assert_eq!(e.line, 2);
        assert!(
            e.to_string().starts_with(&format!(
                "{}:2: syntax error",
                dir.file("bad.html").display()
            )),
            "{e}"
        );
        let gone = dir.file("gone");
        let e = Templates::load(&gone).unwrap_err();
        assert!(e.to_string().contains("cannot read templates"), "{e}");
    }

    #[cfg(debug_assertions)]
    #[test]
    fn debug_builds_reload_a_changed_template() {
        let dir = crate::testing::TempDir::new("templates-reload");
        std::fs::write(dir.file("t.html"), "one {{ x }}").unwrap();
        let ts = Templates::load(dir.path()).unwrap();
        assert_eq!(ts.render("t.html", &json!({"x": 1})).unwrap(), "one 1");
        // A different size, so the change shows even where mtimes are coarse.
        std::fs::write(dir.file("t.html"), "two, longer {{ x }}").unwrap();
        assert_eq!(
            ts.render("t.html", &json!({"x": 1})).unwrap(),
            "two, longer 1"
        );
        // A broken edit keeps the last good templates.
        std::fs::write(dir.file("t.html"), "{% if %}").unwrap();
        assert_eq!(
            ts.render("t.html", &json!({"x": 1})).unwrap(),
            "two, longer 1"
        );
    }
}
