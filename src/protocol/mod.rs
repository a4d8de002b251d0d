//! RESP wire protocol: the incremental request decoder and the reply writer.
//!
//! Pure: no sockets, no tokio, no keyspace. The decoder never allocates in
//! proportion to a length a client announced but has not sent.

pub mod decode;
pub mod reply;

pub use decode::{DecodeError, Decoder, Request};
pub use reply::{Proto, ReplyBuf};
