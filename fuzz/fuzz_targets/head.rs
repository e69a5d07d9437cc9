//! HeadParser::parse on a growing buffer (the input, fed in the chosen pieces):
//! a complete head's length, spans and limits; an error's line and byte; the same
//! answer once complete or failed, and the same answer as parsing the whole at once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirepost::http::head::{HeadParser, MAX_LEADING_EMPTY_LINES};
use wirepost_fuzz::{Control, FLAG_STRICT};

fuzz_target!(|input: &[u8]| {
    let c = Control::parse(input);
    let limits = c.head_limits();
    let data = c.data;

    let mut whole = HeadParser::new(limits);
    whole.set_allow_bare_lf(!c.has(FLAG_STRICT));
    let whole_result = whole.parse(data);

    let mut parser = HeadParser::new(limits);
    parser.set_allow_bare_lf(!c.has(FLAG_STRICT));
    let mut end = 0;
    let mut result = Ok(None);
    for piece in c.pieces(data) {
        end += piece.len();
        result = parser.parse(&data[..end]);
        match result {
            Ok(None) => {
                assert!(parser.bytes_seen() == end);
                assert!(parser.line() >= 1);
            }
            Ok(Some(_)) | Err(_) => break,
        }
    }
    // A result on a prefix is the result on the whole (the head ends at its empty line).
    if !matches!(result, Ok(None)) {
        assert_eq!(result, whole_result, "prefix and whole disagree");
    }
    match whole_result {
        Ok(Some(len)) => {
            assert!(len > 0 && len <= data.len());
            assert_eq!(data[len - 1], b'\n');
            assert_eq!(whole.parse(data), Ok(Some(len)), "complete is sticky");
            assert_eq!(whole.bytes_seen(), len);
            let bound = 2 * MAX_LEADING_EMPTY_LINES + limits.max_header_section + 2;
            assert!(len <= bound, "head of {len} bytes past the limits");
            let head = whole.head(&data[..len]);
            assert!(!head.method_str().is_empty());
            let target = head.target();
            assert!(!target.is_empty() && target.len() <= limits.max_request_line);
            assert!(target.bytes().all(|b| b.is_ascii_graphic()));
            let n = head.headers().count();
            assert!(n <= limits.max_headers);
            // Lines: the request line, the fields, the final empty line.
            assert_eq!(whole.line() as usize, n + 2);
            for (name, value) in head.headers() {
                assert!(!name.is_empty());
                assert!(head.header(name).is_some());
                assert!(!value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0));
                assert!(!matches!(value.first(), Some(b' ' | b'\t')));
                assert!(!matches!(value.last(), Some(b' ' | b'\t')));
            }
            let path = head.path();
            if let Some(q) = head.query() {
                assert!(target.ends_with(q));
                assert!(!path.contains('?'));
            }
        }
        Ok(None) => {
            // Incomplete: nothing over the limits is held.
            assert!(whole.bytes_seen() == data.len());
            let bound = 2 * MAX_LEADING_EMPTY_LINES + limits.max_header_section + 2;
            assert!(
                data.len() <= bound,
                "{} bytes held, past the limits",
                data.len()
            );
        }
        Err(e) => {
            assert!(e.line >= 1);
            assert!(
                (e.byte as usize) < data.len(),
                "{e:?} past {} bytes",
                data.len()
            );
            // The line of the error holds no more line ends than the bytes before it.
            let lfs = data[..e.byte as usize]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            assert!(e.line as usize <= lfs + 1, "{e:?} after {lfs} LFs");
            assert_eq!(whole.parse(data), Err(e), "errors are sticky");
        }
    }
});
