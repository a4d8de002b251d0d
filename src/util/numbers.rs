//! Number parsing and formatting with Redis's exact rules: integers are
//! strict (no sign on zero, no leading zeros, no spaces, no '+'), doubles
//! print as C's `%.17g`.

/// Parses a signed 64-bit integer strictly, as Redis's string2ll does.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses an unsigned 64-bit integer with the same strictness.
pub fn parse_u64(b: &[u8]) -> Option<u64> {
    if b == b"0" {
        return Some(0);
    }
    if b.is_empty() || b.len() > 20 || !(b'1'..=b'9').contains(&b[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// Parses a double as Redis's getDoubleFromObject does: the whole string
/// must be a C `strtod` number, no leading space, not NaN, no overflow.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    if b.is_empty() || b.len() > 256 || b[0].is_ascii_whitespace() || b.contains(&0) {
        return None;
    }
    let mut buf = [0u8; 257];
    buf[..b.len()].copy_from_slice(b);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: buf is NUL-terminated (b has no NUL and buf is zeroed past it);
    // strtod only reads up to the terminator and writes `end` inside buf.
    let v = unsafe {
        *libc::__errno_location() = 0;
        libc::strtod(buf.as_ptr() as *const libc::c_char, &mut end)
    };
    let consumed = end as usize - buf.as_ptr() as usize;
    // SAFETY: reading errno of this thread.
    let erange = unsafe { *libc::__errno_location() } == libc::ERANGE;
    if consumed != b.len() || v.is_nan() || (erange && v.is_infinite()) {
        return None;
    }
    Some(v)
}

/// Formats a double as C's `%.17g` (what Redis 7.0 replies), with `inf`,
/// `-inf` and `nan` spelled the same way.
pub fn fmt_double(d: f64) -> String {
    let mut v = Vec::with_capacity(24);
    write_double(d, &mut v);
    String::from_utf8_lossy(&v).into_owned()
}

/// Appends `d` formatted as `fmt_double` does, without allocating.
pub fn write_double(d: f64, out: &mut Vec<u8>) {
    if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    // Integral values below 10^15 print as their digits under %.17g; the
    // integer formatter gives the same text much faster (a sorted set's
    // scores are mostly such values).
    if d == d.trunc() && d.abs() < 1e15 && !(d == 0.0 && d.is_sign_negative()) {
        out.extend_from_slice(itoa(d as i64).as_bytes());
        return;
    }
    let mut buf = [0u8; 64];
    // SAFETY: the format takes exactly one double; the buffer is large enough
    // for any %.17g output and snprintf never writes past its size argument.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr() as *mut libc::c_char, buf.len(), c"%.17g".as_ptr(), d) };
    out.extend_from_slice(&buf[..(n.max(0) as usize).min(buf.len() - 1)]);
}

/// A formatted integer on the stack.
pub struct Itoa {
    buf: [u8; 20],
    start: usize,
}

impl Itoa {
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    pub fn as_str(&self) -> &str {
        // SAFETY-free: only ASCII digits and '-' are ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or("0")
    }
}

#[inline]
pub fn itoa(n: i64) -> Itoa {
    let mut buf = [0u8; 20];
    let mut i = 20;
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    Itoa { buf, start: i }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        for bad in [&b"-0"[..], b"01", b"+1", b" 1", b"1 ", b"", b"-", b"9223372036854775808"] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn doubles() {
        assert_eq!(fmt_double(1.1), "1.1000000000000001");
        assert_eq!(fmt_double(3.0), "3");
        assert_eq!(fmt_double(1e20), "1e+20");
        assert_eq!(fmt_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(itoa(-120).as_bytes(), b"-120");
        assert_eq!(itoa(i64::MIN).as_bytes(), b"-9223372036854775808");
    }
}

#[cfg(test)]
mod double_format_tests {
    use super::*;

    fn via_printf(d: f64) -> String {
        let mut buf = [0u8; 64];
        // SAFETY: as in write_double.
        let n = unsafe { libc::snprintf(buf.as_mut_ptr() as *mut libc::c_char, buf.len(), c"%.17g".as_ptr(), d) };
        String::from_utf8_lossy(&buf[..n as usize]).into_owned()
    }

    #[test]
    fn integer_shortcut_prints_what_printf_prints() {
        for d in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            3.0,
            123456789.0,
            999999999999999.0,
            -999999999999999.0,
            1e15,
            1e16,
            1e17,
            0.5,
            0.1,
            2.5e-300,
        ] {
            assert_eq!(fmt_double(d), via_printf(d), "{d}");
        }
        assert_eq!(fmt_double(f64::INFINITY), "inf");
        assert_eq!(fmt_double(f64::NEG_INFINITY), "-inf");
    }
}
