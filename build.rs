//! Compiles the small C helper for long double arithmetic (INCRBYFLOAT):
//! Rust has no extended-precision float type, and the reference server's
//! results depend on the platform's C `long double`.

fn main() {
    println!("cargo:rerun-if-changed=src/util/longdouble.c");
    cc::Build::new().file("src/util/longdouble.c").opt_level(2).warnings(true).compile("strata_longdouble");
}
