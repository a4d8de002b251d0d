//! Tests of loading, CONFIG GET/SET and REWRITE.
