//! Persistence: the RDB snapshot codec (`rdb`, pure bytes) and the writing
//! of snapshot files (`snapshot`: foreground and background saves, atomic
//! replacement). The server decides when to save and load; this layer
//! knows nothing of clients or commands.

pub mod aof;
pub mod load;
pub mod rdb;
pub mod snapshot;
pub mod status;
