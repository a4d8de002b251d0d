//! Option keywords as the reference server compares them: case-insensitive,
//! and (being C strings there) only up to the first NUL byte of the
//! argument, so `"nx\0anything"` is `NX`.

/// Whether argument `arg` is the keyword `kw` (ASCII, any case).
#[inline]
pub fn kw_eq(arg: &[u8], kw: &[u8]) -> bool {
    let end = arg.iter().position(|&c| c == 0).unwrap_or(arg.len());
    arg[..end].eq_ignore_ascii_case(kw)
}

/// The argument as a C string would see it: up to the first NUL.
#[inline]
pub fn c_str(arg: &[u8]) -> &[u8] {
    let end = arg.iter().position(|&c| c == 0).unwrap_or(arg.len());
    &arg[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_stop_at_nul() {
        assert!(kw_eq(b"Nx", b"nx"));
        assert!(kw_eq(b"nx\0zz", b"nx"));
        assert!(!kw_eq(b"nxx", b"nx"));
        assert!(!kw_eq(b"\0nx", b"nx"));
        assert_eq!(c_str(b"u8\0x"), b"u8");
    }
}
