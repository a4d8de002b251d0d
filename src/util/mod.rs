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
