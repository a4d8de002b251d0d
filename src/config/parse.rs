//! Lexing of redis.conf text: lines, argument splitting with Redis's quoting
//! rules, the quoting used when writing values back, and the number formats
//! (strict integers, C-style integers, octal, memory units, floats).
//!
//! Invariant: every function here is total on arbitrary bytes (no panics, no
//! unbounded recursion) and reproduces the Redis 7.0 helper it stands for
//! (`sdssplitargs`, `sdscatrepr`, `string2ll`, `strtoll`, `memtoull`,
//! `string2d`), so that the same text is accepted or refused as Redis would.

/// The characters C's `isspace` accepts in the C locale.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Strips the bytes of `set` from both ends of `s`.
pub(crate) fn trim<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|b| !set.contains(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !set.contains(b)).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// Splits config text into lines on `\n` the way Redis does: a text ending in
/// a newline yields a last, empty line; an empty text yields no line.
/// Each item is (byte offset of the line start, raw line).
pub(crate) fn lines(text: &[u8]) -> Vec<(usize, &[u8])> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in text.iter().enumerate() {
        if *b == b'\n' {
            out.push((start, &text[start..i]));
            start = i + 1;
        }
    }
    out.push((start, &text[start..]));
    out
}

/// Splits one line into arguments with Redis's rules: blanks separate,
/// "double quotes" understand \n \r \t \b \a \\ \" and \xHH, 'single quotes'
/// understand only \', and a closing quote must be followed by a blank or the
/// end. Returns None for unbalanced quotes. A NUL byte ends the line, as it
/// does for the C string Redis works on.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match line.iter().position(|b| *b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let (arg, next) = one_arg(line, i)?;
        args.push(arg);
        i = next;
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Quote {
    None,
    Double,
    Single,
}

/// Reads one argument starting at `i`; returns it and the index after it.
fn one_arg(line: &[u8], mut i: usize) -> Option<(Vec<u8>, usize)> {
    let at = |k: usize| line.get(k).copied().unwrap_or(0);
    let mut cur = Vec::new();
    let mut quote = Quote::None;
    loop {
        let c = at(i);
        match quote {
            Quote::Double => {
                if c == b'\\' && at(i + 1) == b'x' && is_hex(at(i + 2)) && is_hex(at(i + 3)) {
                    cur.push(hex(at(i + 2)) * 16 + hex(at(i + 3)));
                    i += 3;
                } else if c == b'\\' && i + 1 < line.len() {
                    i += 1;
                    cur.push(unescape(line[i]));
                } else if c == b'"' {
                    return closing_quote(line, i, cur);
                } else if i >= line.len() {
                    return None;
                } else {
                    cur.push(c);
                }
            }
            Quote::Single => {
                if c == b'\\' && at(i + 1) == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    return closing_quote(line, i, cur);
                } else if i >= line.len() {
                    return None;
                } else {
                    cur.push(c);
                }
            }
            Quote::None => match c {
                _ if i >= line.len() => return Some((cur, i)),
                b' ' | b'\n' | b'\r' | b'\t' => return Some((cur, i)),
                b'"' => quote = Quote::Double,
                b'\'' => quote = Quote::Single,
                _ => cur.push(c),
            },
        }
        i += 1;
    }
}

/// A closing quote at `i` must be followed by a blank or the end of line.
fn closing_quote(line: &[u8], i: usize, cur: Vec<u8>) -> Option<(Vec<u8>, usize)> {
    match line.get(i + 1) {
        Some(b) if !is_space(*b) => None,
        _ => Some((cur, i + 1)),
    }
}

fn unescape(c: u8) -> u8 {
    match c {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    }
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Quotes bytes the way Redis writes string values into a config file:
/// always in double quotes, with C escapes and \xHH for unprintable bytes.
pub(crate) fn repr(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    crate::util::quote_into(&mut out, s);
    // Only ASCII comes out of the quoting.
    String::from_utf8(out).unwrap_or_default()
}

/// Strict integer: optional '-', no '+', no blanks, no leading zeros, no
/// overflow ("-0" and "007" are refused, like Redis's `string2ll`).
pub(crate) fn string2ll(s: &[u8]) -> Option<i64> {
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: i128 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i128::from(d - b'0');
        if v > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// C `strtoll` read to the end of the string: leading blanks and a sign are
/// allowed, overflow saturates, and the empty string reads as 0. None when
/// anything follows the number (or there is no number in a non-empty string).
pub(crate) fn c_strtoll(s: &[u8]) -> Option<i64> {
    c_strtoll_base(s, 10).map(|(v, _)| v)
}

/// Like [`c_strtoll`] in base 8, but overflow is an error (Redis checks errno).
pub(crate) fn c_strtoll_octal(s: &[u8]) -> Option<i64> {
    match c_strtoll_base(s, 8) {
        Some((v, false)) => Some(v),
        _ => None,
    }
}

/// Returns (value, overflowed) when the whole string is consumed.
fn c_strtoll_base(s: &[u8], base: u32) -> Option<(i64, bool)> {
    if s.is_empty() {
        return Some((0, false));
    }
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let neg = matches!(s.get(i), Some(b'-'));
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let start = i;
    let mut v: i128 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|b| (*b as char).to_digit(base)) {
        v = v * i128::from(base) + i128::from(d);
        if v > i128::from(u64::MAX) {
            v = i128::from(u64::MAX);
            overflow = true;
        }
        i += 1;
    }
    if i == start || i != s.len() {
        return None;
    }
    let v = if neg { -v } else { v };
    let clamped = v.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    Some((clamped as i64, overflow || clamped != v))
}

/// A memory size: digits then an optional unit (b, k=1000, kb=1024, m, mb,
/// g, gb; any case). As in Redis, a missing number reads as 0, a too large
/// number saturates and the unit multiplication wraps around.
pub(crate) fn memtoull(s: &[u8]) -> Option<u64> {
    if s.first() == Some(&b'-') {
        return None;
    }
    let ndigits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if ndigits >= 128 {
        return None;
    }
    let mul: u64 = match s[ndigits..].to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let mut v: u64 = 0;
    for &d in &s[..ndigits] {
        v = v.saturating_mul(10).saturating_add(u64::from(d - b'0'));
    }
    Some(v.wrapping_mul(mul))
}

/// A float as Redis's `string2d` accepts it: no blanks, the whole string,
/// no NaN, and no overflow of a finite literal.
pub(crate) fn string2d(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty() || is_space(s[0]) {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    let literal_inf = text.to_ascii_lowercase().contains("inf");
    if v.is_nan() || (v.is_infinite() && !literal_inf) {
        return None;
    }
    Some(v)
}

/// `%f` with trailing zeros (and a trailing dot) removed, as Redis prints
/// percentiles.
pub(crate) fn trim_double(v: f64) -> String {
    let mut s = format!("{v:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// A byte count written with the largest exact unit (gb, mb, kb), as CONFIG
/// REWRITE writes memory values.
pub(crate) fn format_memory(v: u64) -> String {
    const KB: u64 = 1024;
    for (unit, size) in [("gb", KB * KB * KB), ("mb", KB * KB), ("kb", KB)] {
        if v != 0 && v.is_multiple_of(size) {
            return format!("{}{unit}", v / size);
        }
    }
    v.to_string()
}

/// Lossy text for messages and CONFIG GET replies.
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| v.iter().map(|a| text(a)).collect())
    }

    #[test]
    fn splits_plain_and_quoted_arguments() {
        assert_eq!(args("a  b\tc").unwrap(), ["a", "b", "c"]);
        assert_eq!(args("save \"\"").unwrap(), ["save", ""]);
        assert_eq!(args("x \"a b\" 'c d'").unwrap(), ["x", "a b", "c d"]);
        assert_eq!(args("x ab\"c d\"").unwrap(), ["x", "abc d"]);
        assert_eq!(args("   ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn double_quote_escapes() {
        let got = split_args(b"\"\\n\\r\\t\\b\\a\\\\\\\"\\x41\\xzz\\q\"").unwrap();
        assert_eq!(got[0], b"\n\r\t\x08\x07\\\"Axzzq".to_vec());
    }

    #[test]
    fn single_quote_only_escapes_quote() {
        assert_eq!(args("'it\\'s \\n'").unwrap(), ["it's \\n"]);
    }

    #[test]
    fn unbalanced_or_glued_quotes_fail() {
        assert!(args("port \"1").is_none());
        assert!(args("port '1").is_none());
        assert!(args("\"a\"b").is_none());
        assert!(args("'a'b").is_none());
        assert!(args("\"a\\\"").is_none());
    }

    #[test]
    fn nul_ends_the_line() {
        assert_eq!(args("port 1\0 2").unwrap(), ["port", "1"]);
    }

    #[test]
    fn repr_round_trips() {
        let raw = b"a b\"c\\\n\x01\xff";
        let quoted = repr(raw);
        assert_eq!(quoted, "\"a b\\\"c\\\\\\n\\x01\\xff\"");
        assert_eq!(split_args(quoted.as_bytes()).unwrap()[0], raw.to_vec());
    }

    #[test]
    fn lines_keep_a_trailing_empty_line() {
        let l = lines(b"a\nb\n");
        assert_eq!(l, vec![(0, &b"a"[..]), (2, &b"b"[..]), (4, &b""[..])]);
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn strict_integers() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-15"), Some(-15));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in ["", "-0", "007", "+5", " 5", "5 ", "9223372036854775808", "1k", "-"] {
            assert_eq!(string2ll(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn c_style_integers() {
        assert_eq!(c_strtoll(b""), Some(0));
        assert_eq!(c_strtoll(b" +12"), Some(12));
        assert_eq!(c_strtoll(b"-3"), Some(-3));
        assert_eq!(c_strtoll(b"99999999999999999999"), Some(i64::MAX));
        assert_eq!(c_strtoll(b" "), None);
        assert_eq!(c_strtoll(b"1x"), None);
        assert_eq!(c_strtoll_octal(b"777"), Some(0o777));
        assert_eq!(c_strtoll_octal(b"-1"), Some(-1));
        assert_eq!(c_strtoll_octal(b"8"), None);
        assert_eq!(c_strtoll_octal(b"7777777777777777777777777"), None);
    }

    #[test]
    fn memory_units() {
        assert_eq!(memtoull(b"1k"), Some(1000));
        assert_eq!(memtoull(b"1kb"), Some(1024));
        assert_eq!(memtoull(b"1KB"), Some(1024));
        assert_eq!(memtoull(b"2m"), Some(2_000_000));
        assert_eq!(memtoull(b"2Mb"), Some(2 * 1024 * 1024));
        assert_eq!(memtoull(b"3g"), Some(3_000_000_000));
        assert_eq!(memtoull(b"3gB"), Some(3 << 30));
        assert_eq!(memtoull(b"10b"), Some(10));
        assert_eq!(memtoull(b"0010"), Some(10));
        assert_eq!(memtoull(b""), Some(0));
        assert_eq!(memtoull(b"k"), Some(0));
        assert_eq!(memtoull(b"18446744073709551616"), Some(u64::MAX));
        assert_eq!(memtoull(b"99999999999999999999k"), Some(u64::MAX.wrapping_mul(1000)));
        for bad in ["-1", " 5", "5 ", "+5", "1.5gb", "1t", "0x10"] {
            assert_eq!(memtoull(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn floats_and_their_printing() {
        assert_eq!(string2d(b"99.9"), Some(99.9));
        assert_eq!(string2d(b"1e1"), Some(10.0));
        assert_eq!(string2d(b" 1"), None);
        assert_eq!(string2d(b"nan"), None);
        assert_eq!(string2d(b"1e400"), None);
        assert_eq!(trim_double(99.9), "99.9");
        assert_eq!(trim_double(50.0), "50");
        assert_eq!(trim_double(12.5), "12.5");
        assert_eq!(trim_double(0.0001), "0.0001");
    }

    #[test]
    fn memory_formatting() {
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory(64 << 20), "64mb");
        assert_eq!(format_memory(2048), "2kb");
        assert_eq!(format_memory(2000), "2000");
    }

    #[test]
    fn trims_both_ends() {
        assert_eq!(trim(b" \t a b \r\n", b" \t\r\n"), b"a b");
        assert_eq!(trim(b"   ", b" "), b"");
    }
}
