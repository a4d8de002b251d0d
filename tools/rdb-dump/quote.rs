//! How byte strings and numbers are spelled in the outputs.
//!
//! - Text: in double quotes, printable ASCII as is, `\"` and `\\`, `\n`,
//!   `\r`, `\t`, and every other byte as `\xHH` (the spelling redis-cli
//!   uses, so a quoted string can be pasted back into redis-cli).
//! - JSON: a string when the bytes are valid UTF-8 (escaped per RFC 8259),
//!   else `{"base64":"..."}`; or always a base64 string. Both reversible.
//! - Scores: the shortest decimal that reads back as the same double, or
//!   `inf` / `-inf`.
//!
//! Invariant: every spelling here decodes back to exactly the bytes (or
//! the double) it was made from.

use strata::keyspace::listpack::LpVal;
use strata::util::itoa;

/// Calls `f` with the bytes of a stored element (integers formatted on the
/// stack, no allocation).
#[inline]
pub fn with_bytes<R>(v: LpVal, f: impl FnOnce(&[u8]) -> R) -> R {
    match v {
        LpVal::Str(s) => f(s),
        LpVal::Int(n) => f(itoa(n).as_bytes()),
    }
}

/// Appends the decimal digits of `n`.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, n: u64) {
    match i64::try_from(n) {
        Ok(v) => out.extend_from_slice(itoa(v).as_bytes()),
        Err(_) => out.extend_from_slice(n.to_string().as_bytes()),
    }
}

/// Appends `b` quoted for the text format: as redis-cli and MONITOR show
/// arguments (the server's own quoting).
pub fn text(buf: &mut Vec<u8>, b: &[u8]) {
    strata::commands::server::quote_into(buf, b);
}

/// `b` quoted for the text format, as a string (for messages).
pub fn text_string(b: &[u8]) -> String {
    let mut v = Vec::new();
    text(&mut v, b);
    String::from_utf8_lossy(&v).into_owned()
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `b` as a JSON value: a string when it is UTF-8 (and `base64` is
/// off), else an object holding its base64 form; with `base64`, always a
/// base64 string.
pub fn json(out: &mut Vec<u8>, b: &[u8], base64: bool) {
    if base64 {
        out.push(b'"');
        base64_into(out, b);
        out.push(b'"');
        return;
    }
    match std::str::from_utf8(b) {
        Ok(s) => json_str(out, s),
        Err(_) => {
            out.extend_from_slice(b"{\"base64\":\"");
            base64_into(out, b);
            out.extend_from_slice(b"\"}");
        }
    }
}

/// Bytes a JSON string cannot hold as they are: control characters,
/// `"` and `\`.
const JSON_ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Writes a JSON string: `"` and `\` escaped, control characters as
/// `\n`, `\r`, `\t` or `\u00XX`, everything else as its UTF-8 bytes.
pub fn json_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let b = s.as_bytes();
    let mut start = 0;
    while let Some(n) = b[start..].iter().position(|&c| JSON_ESCAPED[c as usize]) {
        let i = start + n;
        out.extend_from_slice(&b[start..i]);
        let c = b[i];
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]),
        }
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends the standard base64 form of `b` (RFC 4648, padded).
pub fn base64_into(out: &mut Vec<u8>, b: &[u8]) {
    let mut chunks = b.chunks_exact(3);
    for c in &mut chunks {
        let n = (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32;
        out.extend_from_slice(&[
            B64[(n >> 18) as usize & 63],
            B64[(n >> 12) as usize & 63],
            B64[(n >> 6) as usize & 63],
            B64[n as usize & 63],
        ]);
    }
    match *chunks.remainder() {
        [a] => {
            let n = (a as u32) << 16;
            out.extend_from_slice(&[B64[(n >> 18) as usize & 63], B64[(n >> 12) as usize & 63], b'=', b'=']);
        }
        [a, b] => {
            let n = (a as u32) << 16 | (b as u32) << 8;
            out.extend_from_slice(&[
                B64[(n >> 18) as usize & 63],
                B64[(n >> 12) as usize & 63],
                B64[(n >> 6) as usize & 63],
                b'=',
            ]);
        }
        _ => {}
    }
}

/// The shortest decimal that reads back as `d` (`inf`, `-inf` for the
/// infinities; integral values without a fraction: `3`, `-0`, `1e300`).
pub fn score(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // Debug formatting is Rust's shortest round-trip form, switching to an
    // exponent for very large and very small magnitudes.
    let s = format!("{d:?}");
    match s.strip_suffix(".0") {
        Some(t) => t.to_string(),
        None => s,
    }
}

/// A time in ms since the Unix epoch as ISO 8601 UTC,
/// `2030-01-01T00:00:00.000Z`; any `i64` gives a date (proleptic
/// Gregorian calendar).
pub fn iso_utc(ms: i64) -> String {
    const DAY_MS: i64 = 86_400_000;
    let (days, t) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    let (y, m, d) = civil_date(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000)
}

/// Year, month, day of a day number (0 = 1970-01-01).
fn civil_date(days: i64) -> (i64, i64, i64) {
    // Count from 0000-03-01, so that the leap day closes each year, in
    // 400-year cycles of 146097 days.
    let z = days + 719_468;
    let cycle = z.div_euclid(146_097);
    let day_of_cycle = z.rem_euclid(146_097);
    let year_of_cycle = (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36_524 - day_of_cycle / 146_096) / 365;
    let day_of_year = day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
    // Months from March, of 153 days per five months.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_cycle + cycle * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(1_893_456_000_000), "2030-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(951_782_400_000 + 3_723_004), "2000-02-29T01:02:03.004Z");
        assert_eq!(iso_utc(-1), "1969-12-31T23:59:59.999Z");
        // The extremes give some date, without overflow.
        iso_utc(i64::MAX);
        iso_utc(i64::MIN);
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")]
        {
            let mut v = Vec::new();
            base64_into(&mut v, i.as_bytes());
            assert_eq!(v, o.as_bytes());
        }
    }

    #[test]
    fn json_strings_and_bytes() {
        let mut v = Vec::new();
        json(&mut v, "a\"\\\n\u{1}é".as_bytes(), false);
        assert_eq!(String::from_utf8(v).unwrap(), "\"a\\\"\\\\\\n\\u0001é\"");
        let mut v = Vec::new();
        json(&mut v, b"\xff\x00", false);
        assert_eq!(v, b"{\"base64\":\"/wA=\"}");
    }

    #[test]
    fn scores_read_back_exactly() {
        for d in [0.1, 1.0 / 3.0, -0.0, 3.0, 1e300, 5e-324, f64::MAX, -2.5e-7, 123456789012345680.0] {
            let s = score(d);
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), d.to_bits(), "{s}");
        }
        assert_eq!(score(3.0), "3");
        assert_eq!(score(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn text_quoting() {
        let mut v = Vec::new();
        text(&mut v, b"a b\"\\\n\x00\xff");
        assert_eq!(v, b"\"a b\\\"\\\\\\n\\x00\\xff\"");
    }
}
