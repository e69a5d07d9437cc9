//! parse_urlencoded, parse_urlencoded_limited and the query of a request target.
//! Asserts: one pair per non-empty `&` piece; a decoded pair no longer than 3 bytes
//! (U+FFFD) per raw byte; components without `%`/`+` that are UTF-8 come back as
//! sent; percent-encoding every pair and parsing again gives the same map (a round
//! trip); the limited parser refuses exactly the inputs over the limit and otherwise
//! agrees; a head's path and query split its target at the first `?`, and the query
//! is the bytes sent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::fmt::Write as _;
use wirepost::http::head::{HeadLimits, HeadParser};
use wirepost::http::query::{parse_urlencoded, parse_urlencoded_limited};

fn encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._*".contains(&b) {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            write!(out, "%{b:02X}").unwrap();
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let (max_fields, data) = match input.split_first() {
        Some((&m, rest)) => (usize::from(m), rest),
        None => (0, input),
    };
    let map = parse_urlencoded(data);
    let pieces: Vec<&[u8]> = data
        .split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .collect();
    assert_eq!(map.len(), pieces.len(), "one pair per piece");
    assert_eq!(map.is_empty(), pieces.is_empty());
    for ((k, v), piece) in map.iter().zip(&pieces) {
        assert!(
            k.len() + v.len() <= 3 * piece.len(),
            "{k:?}={v:?} from {piece:?}"
        );
        let (rk, rv) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (&piece[..], &b""[..]),
        };
        for (raw, decoded) in [(rk, k), (rv, v)] {
            if !raw.contains(&b'%')
                && !raw.contains(&b'+')
                && let Ok(s) = std::str::from_utf8(raw)
            {
                assert_eq!(s, decoded, "a plain component changed");
            }
        }
    }
    // Round trip through a strict encoder.
    let mut encoded = String::new();
    for (k, v) in map.iter() {
        if !encoded.is_empty() {
            encoded.push('&');
        }
        encode(k, &mut encoded);
        encoded.push('=');
        encode(v, &mut encoded);
    }
    let again = parse_urlencoded(encoded.as_bytes());
    // An empty pair ("=") encodes as a piece of its own, so it round-trips too.
    assert_eq!(again, map, "round trip through {encoded:?}");
    for (k, _) in map.iter() {
        assert!(map.get(k).is_some());
        assert!(map.get_all(k).count() >= 1);
    }
    let grouped: usize = map.grouped().iter().map(|(_, vs)| vs.len()).sum();
    assert_eq!(grouped, map.len());

    match parse_urlencoded_limited(data, max_fields) {
        Ok(m) => {
            assert!(pieces.len() <= max_fields);
            assert_eq!(m, map);
        }
        Err(e) => {
            assert!(pieces.len() > max_fields);
            assert!(!e.to_string().is_empty());
        }
    }

    // The query of a request target.
    let mut req = b"GET /".to_vec();
    req.extend_from_slice(data);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\n\r\n");
    let mut head = HeadParser::new(HeadLimits::default());
    if let Ok(Some(len)) = head.parse(&req) {
        let h = head.head(&req[..len]);
        let target = h.target();
        assert_eq!(target.as_bytes(), &req[4..4 + target.len()]);
        match h.query() {
            Some(q) => {
                let i = target.find('?').unwrap();
                assert_eq!(&target[i + 1..], q);
                assert_eq!(h.path(), &target[..i]);
                let _ = parse_urlencoded(q.as_bytes());
            }
            None => {
                assert!(!target.contains('?'));
                assert_eq!(h.path(), target);
            }
        }
    }
});
