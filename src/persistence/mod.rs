//! Persistence formats: the RDB snapshot codec (and later the AOF). Pure
//! byte codecs over the keyspace's values: no files, no clock, no server
//! state; the server decides where bytes go and when.

pub mod rdb;
