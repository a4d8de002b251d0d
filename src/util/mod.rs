//! Small pure helpers shared by the protocol, commands and config: strict
//! number parsing and formatting as Redis does it, argument splitting, globs.

pub mod bits;
mod glob;
mod keyword;
pub mod lcs;
mod longdouble;
mod numbers;
mod split;

pub use glob::{glob_match, GlobPattern};
pub use keyword::{c_str, kw_eq};
pub use longdouble::{ld_add, ld_timeout_ms, ld_valid, LdError};
pub use numbers::{fmt_double, itoa, parse_f64, parse_i64, parse_u64, write_double, Itoa};
pub use split::split_args;

/// ASCII case-insensitive equality, for command names and options.
#[inline]
pub fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Appends `s` in double quotes the way Redis quotes a string it shows or
/// writes back (MONITOR lines, config and manifest files): printable bytes
/// as they are, C escapes, `\xHH` for the rest.
pub fn quote_into(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(&[b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]),
        }
    }
    out.push(b'"');
}

/// The C library's text for `errno` ("No space left on device"), as Redis
/// puts it in its replies and log lines.
pub fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated static or
    // thread-local message, read at once.
    unsafe {
        let p = libc::strerror(errno);
        if p.is_null() {
            return format!("errno {errno}");
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}
