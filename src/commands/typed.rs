//! Lookups of collection values for the type-specific command groups: the
//! read and write lookups with Redis's WRONGTYPE rule, creation on first
//! write, deletion of a collection left empty, and the encoding limits
//! taken from the configuration.
//!
//! Invariant: no command leaves an empty collection in the keyspace; every
//! removal path ends in `delete_if_empty`.

use super::{notify, Ctx, WRONGTYPE};
use crate::keyspace::hash::{Hash, HashLimits};
use crate::keyspace::quicklist::Quicklist;
use crate::keyspace::set::Set;
use crate::keyspace::zset::{ZSet, ZsetLimits};
use crate::keyspace::Value;
use crate::protocol::ReplyBuf;

pub fn as_list(v: &Value) -> Option<&Quicklist> {
    match v {
        Value::List(l) => Some(l),
        _ => None,
    }
}

pub fn as_list_mut(v: &mut Value) -> Option<&mut Quicklist> {
    match v {
        Value::List(l) => Some(l),
        _ => None,
    }
}

pub fn as_hash(v: &Value) -> Option<&Hash> {
    match v {
        Value::Hash(h) => Some(h),
        _ => None,
    }
}

pub fn as_hash_mut(v: &mut Value) -> Option<&mut Hash> {
    match v {
        Value::Hash(h) => Some(h),
        _ => None,
    }
}

pub fn as_set(v: &Value) -> Option<&Set> {
    match v {
        Value::Set(s) => Some(s),
        _ => None,
    }
}

pub fn as_set_mut(v: &mut Value) -> Option<&mut Set> {
    match v {
        Value::Set(s) => Some(s),
        _ => None,
    }
}

pub fn as_zset(v: &Value) -> Option<&ZSet> {
    match v {
        Value::ZSet(z) => Some(z),
        _ => None,
    }
}

pub fn as_zset_mut(v: &mut Value) -> Option<&mut ZSet> {
    match v {
        Value::ZSet(z) => Some(z),
        _ => None,
    }
}

/// Looks `key` up for reading (hits, misses, `keymiss`): `Ok(None)` when it
/// is missing, `Err(())` after replying WRONGTYPE when it holds another type.
#[inline]
pub fn read_as<'c, T: ?Sized>(
    ctx: &'c mut Ctx,
    key: &[u8],
    pick: fn(&Value) -> Option<&T>,
) -> Result<(Option<&'c T>, &'c mut ReplyBuf), ()> {
    let (v, out) = super::strings::read(ctx, key);
    match v {
        None => Ok((None, out)),
        Some(v) => match pick(v) {
            Some(t) => Ok((Some(t), out)),
            None => {
                out.error(WRONGTYPE);
                Err(())
            }
        },
    }
}

/// Looks `key` up for writing: `Ok(None)` when missing, `Err(())` after
/// replying WRONGTYPE.
#[inline]
pub fn write_as<'c, T: ?Sized>(
    ctx: &'c mut Ctx,
    key: &[u8],
    pick: fn(&mut Value) -> Option<&mut T>,
) -> Result<Option<&'c mut T>, ()> {
    write_as_out(ctx, key, pick).map(|(t, _)| t)
}

/// Like `write_as`, lending the reply buffer alongside, so a command can
/// reply from the value before changing it (pops).
#[inline]
pub fn write_as_out<'c, T: ?Sized>(
    ctx: &'c mut Ctx,
    key: &[u8],
    pick: fn(&mut Value) -> Option<&mut T>,
) -> Result<(Option<&'c mut T>, &'c mut ReplyBuf), ()> {
    let now = ctx.now;
    let out = &mut *ctx.out;
    match ctx.st.keyspace.dbs[ctx.db].get_mut(key, now) {
        None => Ok((None, out)),
        Some(e) => match pick(&mut e.value) {
            Some(t) => Ok((Some(t), out)),
            None => {
                out.error(WRONGTYPE);
                Err(())
            }
        },
    }
}

/// Checks that `key` is missing or of the type `pick` accepts, replying
/// WRONGTYPE otherwise (a write lookup: expires the key if due).
pub fn check_type(ctx: &mut Ctx, key: &[u8], pick: fn(&Value) -> bool) -> Result<bool, ()> {
    let now = ctx.now;
    match ctx.st.keyspace.dbs[ctx.db].get(key, now) {
        None => Ok(false),
        Some(e) if pick(&e.value) => Ok(true),
        Some(_) => {
            ctx.out.error(WRONGTYPE);
            Err(())
        }
    }
}

/// Like `write_as`, creating the key with `make()` when it is missing.
#[inline]
pub fn write_or_create<'c, T: ?Sized>(
    ctx: &'c mut Ctx,
    key: &[u8],
    make: impl FnOnce() -> Value,
    pick: fn(&mut Value) -> Option<&mut T>,
) -> Result<&'c mut T, ()> {
    let now = ctx.now;
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    if !db.exists(key, now) {
        db.add(key, make(), now);
    }
    match write_as(ctx, key, pick)? {
        Some(t) => Ok(t),
        None => unreachable!("key was just created"),
    }
}

/// Deletes `key` if its collection is empty, sending `del`; true if it did.
pub fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) -> bool {
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    let empty = db.peek(key).is_some_and(|e| !e.value.is_string() && e.value.elements() == 0);
    if empty {
        if let Some(e) = db.remove(key) {
            ctx.st.keyspace.lazyfree.drop_entry(e);
        }
        ctx.notify(notify::GENERIC, "del", key);
    }
    empty
}

/// The removal commands (HDEL, SREM, ZREM): removes each of `items` from
/// the collection at `key`, stopping once it is empty. When anything went,
/// counts one change per item removed, sends `event` and deletes the
/// emptied key; then replies how many went (events first, as Redis).
#[allow(clippy::too_many_arguments)]
pub fn remove_each<T: ?Sized>(
    ctx: &mut Ctx,
    key: &[u8],
    items: &[&[u8]],
    pick: fn(&mut Value) -> Option<&mut T>,
    class: u32,
    event: &str,
    remove: impl Fn(&mut T, &[u8]) -> bool,
    is_empty: impl Fn(&T) -> bool,
) {
    let c = match write_as(ctx, key, pick) {
        Err(()) => return,
        Ok(None) => return ctx.out.int(0),
        Ok(Some(c)) => c,
    };
    let mut removed = 0u64;
    for it in items {
        if remove(c, it) {
            removed += 1;
            if is_empty(c) {
                break;
            }
        }
    }
    if removed > 0 {
        ctx.changed(key, class, event);
        ctx.dirty += removed - 1;
        delete_if_empty(ctx, key);
    }
    ctx.out.int(removed as i64);
}

pub fn hash_limits(ctx: &Ctx) -> HashLimits {
    let c = &ctx.st.config;
    HashLimits { entries: c.hash_max_listpack_entries as usize, value: c.hash_max_listpack_value as usize }
}

pub fn zset_limits(ctx: &Ctx) -> ZsetLimits {
    let c = &ctx.st.config;
    ZsetLimits { entries: c.zset_max_listpack_entries as usize, value: c.zset_max_listpack_value as usize }
}

pub fn intset_max(ctx: &Ctx) -> usize {
    ctx.st.config.set_max_intset_entries as usize
}

pub fn list_fill(ctx: &Ctx) -> i32 {
    ctx.st.config.list_max_listpack_size
}

/// Stores `value` at `dst` for the STORE forms (replacing whatever was
/// there, dropping its TTL), or deletes `dst` when `value` is empty.
/// Returns whether something was stored; the caller sends the events.
pub fn store(ctx: &mut Ctx, dst: &[u8], value: Value) -> bool {
    let now = ctx.now;
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    if value.elements() == 0 {
        db.expire_if_needed(dst, now);
        if let Some(e) = db.remove(dst) {
            ctx.st.keyspace.lazyfree.drop_entry(e);
        }
        false
    } else {
        db.expire_if_needed(dst, now);
        if let Some(e) = db.remove(dst) {
            ctx.st.keyspace.lazyfree.drop_entry(e);
        }
        db.add(dst, value, now);
        true
    }
}
