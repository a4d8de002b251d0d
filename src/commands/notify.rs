//! Keyspace notifications (`notify-keyspace-events`): flag parsing and the
//! publishing of `__keyspace@<db>__:<key>` / `__keyevent@<db>__:<event>`.

use crate::clients::ClientId;
use crate::protocol::ReplyBuf;
use crate::state::State;

pub const KEYSPACE: u32 = 1 << 0; // K
pub const KEYEVENT: u32 = 1 << 1; // E
pub const GENERIC: u32 = 1 << 2; // g
pub const STRING: u32 = 1 << 3; // $
pub const LIST: u32 = 1 << 4; // l
pub const SET: u32 = 1 << 5; // s
pub const HASH: u32 = 1 << 6; // h
pub const ZSET: u32 = 1 << 7; // z
pub const EXPIRED: u32 = 1 << 8; // x
pub const EVICTED: u32 = 1 << 9; // e
pub const STREAM: u32 = 1 << 10; // t
pub const KEY_MISS: u32 = 1 << 11; // m
pub const MODULE: u32 = 1 << 12; // d
pub const NEW: u32 = 1 << 13; // n
/// What `A` stands for.
pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// Parses a flag string; `None` on a character Redis does not know. The
/// configuration module owns the parsing; the bits are the constants above.
pub fn parse_flags(s: &[u8]) -> Option<u32> {
    crate::config::keyspace_event_flags(s)
}

/// Publishes the notification for an event of class `class` on `key`.
pub fn notify(st: &mut State, me: Option<(ClientId, &mut ReplyBuf)>, class: u32, event: &str, key: &[u8], db: usize) {
    let flags = st.notify_flags;
    if flags & class == 0 {
        return;
    }
    let mut me = me;
    if flags & KEYSPACE != 0 {
        let mut ch = format!("__keyspace@{db}__:").into_bytes();
        ch.extend_from_slice(key);
        super::pubsub::publish(st, me.as_mut().map(|(id, out)| (*id, &mut **out)), &ch, event.as_bytes());
    }
    if flags & KEYEVENT != 0 {
        let ch = format!("__keyevent@{db}__:{event}").into_bytes();
        super::pubsub::publish(st, me.as_mut().map(|(id, out)| (*id, &mut **out)), &ch, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_bits_are_these_classes() {
        let classes = [
            (b'K', KEYSPACE),
            (b'E', KEYEVENT),
            (b'g', GENERIC),
            (b'$', STRING),
            (b'l', LIST),
            (b's', SET),
            (b'h', HASH),
            (b'z', ZSET),
            (b'x', EXPIRED),
            (b'e', EVICTED),
            (b't', STREAM),
            (b'm', KEY_MISS),
            (b'd', MODULE),
            (b'n', NEW),
            (b'A', ALL),
        ];
        for (c, bit) in classes {
            assert_eq!(parse_flags(&[c]), Some(bit), "{}", c as char);
        }
        assert_eq!(parse_flags(b"Q"), None);
    }
}
