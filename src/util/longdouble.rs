//! Extended-precision addition as INCRBYFLOAT and HINCRBYFLOAT do it: the
//! operands are parsed as C `long double`, added, and the sum printed with
//! 17 digits after the point, trailing zeros trimmed. The arithmetic is in
//! `longdouble.c` (Rust has no `long double`).

use std::os::raw::{c_char, c_int};

extern "C" {
    fn strata_ld_add(
        cur: *const c_char,
        curlen: usize,
        incr: *const c_char,
        incrlen: usize,
        out: *mut c_char,
        cap: usize,
        outlen: *mut usize,
    ) -> c_int;
    fn strata_ld_valid(s: *const c_char, len: usize) -> c_int;
    fn strata_ld_timeout_ms(s: *const c_char, len: usize, ms: *mut i64) -> c_int;
}

/// Output buffer size; any finite long double fits.
const CAP: usize = 5120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdError {
    /// An operand is not a valid float.
    NotFloat,
    /// The sum is infinite or NaN.
    NotFinite,
}

/// `cur + incr` (a missing `cur` is 0), formatted as the reference does.
pub fn ld_add(cur: Option<&[u8]>, incr: &[u8]) -> Result<Vec<u8>, LdError> {
    let mut out = vec![0u8; CAP];
    let mut len = 0usize;
    let (cp, cl) = match cur {
        Some(c) => (c.as_ptr() as *const c_char, c.len()),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: every pointer comes with its length and is only read within
    // it; `out` has CAP writable bytes and the C side never writes past cap.
    let rc = unsafe {
        strata_ld_add(
            cp,
            cl,
            incr.as_ptr() as *const c_char,
            incr.len(),
            out.as_mut_ptr() as *mut c_char,
            CAP,
            &mut len,
        )
    };
    match rc {
        0 => {
            out.truncate(len.min(CAP));
            out.shrink_to_fit();
            Ok(out)
        }
        2 => Err(LdError::NotFinite),
        _ => Err(LdError::NotFloat),
    }
}

/// Whether `s` parses as a long double the way `ld_add` accepts operands.
pub fn ld_valid(s: &[u8]) -> bool {
    // SAFETY: the C side reads exactly `s.len()` bytes from `s`.
    unsafe { strata_ld_valid(s.as_ptr() as *const c_char, s.len()) != 0 }
}

/// A blocking timeout in seconds as milliseconds, computed in long double
/// and rounded up as the reference does; `None` when `s` is not a number.
/// Products beyond the i64 range come back as `i64::MIN` (the reference
/// calls them negative).
pub fn ld_timeout_ms(s: &[u8]) -> Option<i64> {
    let mut ms = 0i64;
    // SAFETY: the C side reads exactly `s.len()` bytes from `s` and writes
    // one i64 (a C long long) to `ms`.
    let ok = unsafe { strata_ld_timeout_ms(s.as_ptr() as *const c_char, s.len(), &mut ms) };
    (ok != 0).then_some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(a: Option<&str>, b: &str) -> Result<String, LdError> {
        ld_add(a.map(|s| s.as_bytes()), b.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn formats_like_the_reference() {
        assert_eq!(add(None, "10.5").unwrap(), "10.5");
        assert_eq!(add(Some("10.5"), "0.1").unwrap(), "10.6");
        assert_eq!(add(None, "5.0e3").unwrap(), "5000");
        assert_eq!(add(Some("1.1"), "2.2").unwrap(), "3.3");
        assert_eq!(add(None, "-0.0").unwrap(), "0");
        assert_eq!(add(None, "1e-20").unwrap(), "0");
        assert_eq!(add(Some("-1"), "1").unwrap(), "0");
        assert_eq!(add(None, "1e30").unwrap(), "1000000000000000000024696061952");
        assert_eq!(add(Some("9223372036854775807"), "1").unwrap(), "9223372036854775808");
    }

    #[test]
    fn rejects_what_the_reference_rejects() {
        for bad in ["", " 1", "1 ", "abc", "nan", "1e5000", "1e-5000", "0x", "1\u{0}"] {
            assert_eq!(add(None, bad), Err(LdError::NotFloat), "{bad:?}");
            assert!(!ld_valid(bad.as_bytes()));
        }
        assert_eq!(add(Some("abc"), "1"), Err(LdError::NotFloat));
        assert_eq!(add(None, "inf"), Err(LdError::NotFinite));
        assert_eq!(add(Some("1e4932"), "1e4932"), Err(LdError::NotFinite));
        assert!(add(Some("1e308"), "1e308").unwrap().starts_with("19999999999999999999337"));
    }

    #[test]
    fn timeouts_round_up_and_overflow_to_negative() {
        let t = |s: &str| ld_timeout_ms(s.as_bytes());
        assert_eq!(t("0.0001"), Some(1));
        assert_eq!(t("1e-400"), Some(1));
        assert_eq!(t("-0.0001"), Some(0));
        assert_eq!(t("0x10"), Some(16000));
        assert_eq!(t(".5"), Some(500));
        assert_eq!(t("9223372036854775"), Some(9223372036854775000));
        for big in ["9223372036854776", "1e16", "inf", "-inf", "1e400", "9223372036854775807"] {
            assert_eq!(t(big), Some(i64::MIN), "{big}");
        }
        for bad in ["", " 1", "1 ", "nan", "1x", "1e5000"] {
            assert_eq!(t(bad), None, "{bad:?}");
        }
    }
}
