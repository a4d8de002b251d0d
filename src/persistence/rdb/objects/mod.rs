//! One loader per object type: reads a value's body and builds the
//! in-memory value in the encoding Redis 7.0 would pick for it under the
//! given limits (docs/formats/rdb.md, "What Strata reads").
//!
//! Invariant: a value returned here is well formed for the keyspace code
//! (every listpack walkable, pairs complete, scores numbers and not NaN,
//! no member twice in a table) whatever the input bytes were; anything else
//! is an error, and empty collections are reported as `Loaded::Empty`.

use super::error::ErrorKind;
use super::format::{container, module, score, ty};
use super::input::{Input, Result, Str};
use super::{ziplist, zipmap};
use crate::keyspace::dict::Dict;
use crate::keyspace::hash::{FieldValue, Hash};
use crate::keyspace::intset::Intset;
use crate::keyspace::listpack::{Listpack, LpVal};
use crate::keyspace::quicklist::Quicklist;
use crate::keyspace::set::{Member, Set};
use crate::keyspace::zset::{AddFlags, AddOutcome, ZSet, ZsetLimits};
use crate::keyspace::{CBytes, Value};
use crate::util::parse_f64;
use std::borrow::Cow;
use std::collections::HashSet;

mod hashes;
mod lists;
mod sets;
mod zsets;

/// The configuration that decides a loaded collection's encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub list_max_listpack_size: i32,
}

impl Default for Limits {
    /// Redis 7.0's defaults.
    fn default() -> Self {
        Limits {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
        }
    }
}

impl Limits {
    pub fn from_config(c: &crate::config::Config) -> Self {
        let u = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Limits {
            hash_max_listpack_entries: u(c.hash_max_listpack_entries),
            hash_max_listpack_value: u(c.hash_max_listpack_value),
            set_max_intset_entries: u(c.set_max_intset_entries),
            zset_max_listpack_entries: u(c.zset_max_listpack_entries),
            zset_max_listpack_value: u(c.zset_max_listpack_value),
            list_max_listpack_size: c.list_max_listpack_size,
        }
    }

    fn zset(&self) -> ZsetLimits {
        ZsetLimits { entries: self.zset_max_listpack_entries, value: self.zset_max_listpack_value }
    }
}

/// How values are read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx<'a> {
    pub limits: &'a Limits,
    /// Check listpack, ziplist and zipmap contents for duplicates and order.
    pub deep: bool,
    /// Build values (else only walk past them).
    pub build: bool,
}

pub(crate) enum Loaded {
    Value(Value),
    /// A collection with no elements: not a value the keyspace may hold.
    Empty,
    /// Walked past without building (`Ctx::build` off).
    Skipped,
}

/// Reads the body of an object of type `t`.
pub(crate) fn read(inp: &mut Input, t: u8, cx: &Ctx) -> Result<Loaded> {
    if !cx.build {
        return skip(inp, t).map(|()| Loaded::Skipped);
    }
    let v = match t {
        ty::STRING => {
            inp.what = "string value";
            Some(string_value(inp.string()?))
        }
        ty::LIST => lists::list_plain(inp, cx)?,
        ty::SET => sets::set_plain(inp, cx)?,
        ty::ZSET | ty::ZSET_2 => zsets::zset_plain(inp, cx, t == ty::ZSET_2)?,
        ty::HASH => hashes::hash_plain(inp, cx)?,
        ty::HASH_ZIPMAP => hashes::hash_zipmap(inp, cx)?,
        ty::LIST_ZIPLIST => lists::list_ziplist(inp, cx)?,
        ty::SET_INTSET => sets::set_intset(inp, cx)?,
        ty::ZSET_ZIPLIST => zsets::zset_ziplist(inp, cx)?,
        ty::HASH_ZIPLIST => hashes::hash_ziplist(inp, cx)?,
        ty::LIST_QUICKLIST => lists::list_quicklist(inp, false)?,
        ty::HASH_LISTPACK => hashes::hash_listpack(inp, cx)?,
        ty::ZSET_LISTPACK => zsets::zset_listpack(inp, cx)?,
        ty::LIST_QUICKLIST_2 => lists::list_quicklist(inp, true)?,
        ty::SET_LISTPACK => sets::set_listpack(inp, cx)?,
        _ => return Err(unloadable(inp, t)),
    };
    Ok(v.map_or(Loaded::Empty, Loaded::Value))
}

/// The error for types we do not load: streams, modules, unknown codes.
fn unloadable(inp: &mut Input, t: u8) -> super::error::DecodeError {
    let at = inp.pos;
    match t {
        ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 | ty::STREAM_LISTPACKS_3 => {
            inp.what = "stream";
            inp.err(
                at,
                ErrorKind::Unsupported(format!(
                    "streams (type {t}, {}) are not supported yet: remove the key or load the file into Redis",
                    ty::name(t)
                )),
            )
        }
        ty::MODULE_PRE_GA | ty::MODULE_2 => {
            inp.what = "module value";
            let name = inp.len().map(module_name).unwrap_or_else(|_| "?".into());
            inp.err(
                at,
                ErrorKind::Unsupported(format!(
                    "module value (type {t}, {}) of module type '{name}': no module can load it here",
                    ty::name(t)
                )),
            )
        }
        _ => inp.err(at.saturating_sub(1), ErrorKind::UnknownType(t)),
    }
}

/// The module type name held in the top 54 bits of a module id.
pub(crate) fn module_name(id: u64) -> String {
    (0..9).map(|j| module::NAME_CHARSET[((id >> (64 - 6 * (j + 1))) & 63) as usize] as char).collect()
}

/// Walks past a value without building it.
fn skip(inp: &mut Input, t: u8) -> Result<()> {
    inp.what = "value";
    let strings = |inp: &mut Input, per: usize| -> Result<()> {
        let n = inp.len()?;
        for _ in 0..n {
            for _ in 0..per {
                inp.skip_string()?;
            }
        }
        Ok(())
    };
    match t {
        ty::LIST | ty::SET => strings(inp, 1),
        ty::HASH => strings(inp, 2),
        ty::ZSET | ty::ZSET_2 => {
            let n = inp.len()?;
            for _ in 0..n {
                inp.skip_string()?;
                if t == ty::ZSET_2 {
                    inp.take(8)?;
                } else {
                    zsets::read_text_score(inp)?;
                }
            }
            Ok(())
        }
        ty::LIST_QUICKLIST => strings(inp, 1),
        ty::LIST_QUICKLIST_2 => {
            let n = inp.len()?;
            for _ in 0..n {
                inp.len()?;
                inp.skip_string()?;
            }
            Ok(())
        }
        ty::STRING
        | ty::HASH_ZIPMAP
        | ty::LIST_ZIPLIST
        | ty::SET_INTSET
        | ty::ZSET_ZIPLIST
        | ty::HASH_ZIPLIST
        | ty::HASH_LISTPACK
        | ty::ZSET_LISTPACK
        | ty::SET_LISTPACK => inp.skip_string(),
        _ => Err(unloadable(inp, t)),
    }
}

/// A string value in the encoding Redis's load gives it.
fn string_value(s: Str) -> Value {
    match s {
        Str::Int(v, _) => Value::Int(v),
        Str::Owned(v) => Value::string_owned(v),
        Str::Slice(b) => Value::string(b),
    }
}

/// A string as a listpack element (canonical integers as integers).
#[inline]
fn lp_val<'a>(s: &'a Str) -> LpVal<'a> {
    match s {
        Str::Int(v, _) => LpVal::Int(*v),
        other => LpVal::from_bytes(other.bytes()),
    }
}

/// Reads a string blob (listpack, intset, ziplist, zipmap) as owned bytes.
fn blob(inp: &mut Input, what: &'static str) -> Result<(usize, Box<[u8]>)> {
    inp.what = what;
    let at = inp.pos;
    Ok((at, inp.string()?.into_vec().into_boxed_slice()))
}

/// Reads a listpack blob, checking its structure entry by entry.
fn listpack(inp: &mut Input, what: &'static str) -> Result<(usize, Listpack)> {
    let (at, b) = blob(inp, what)?;
    Listpack::from_bytes(b, true).map(|lp| (at, lp)).map_err(|m| inp.corrupt(at, m))
}

fn dup(inp: &Input, at: usize, what: &'static str, item: &[u8]) -> super::error::DecodeError {
    inp.err(at, ErrorKind::Duplicate { what, item: item.to_vec() })
}

/// Checks that no item repeats.
fn unique<'a>(inp: &Input, at: usize, what: &'static str, items: impl Iterator<Item = Cow<'a, [u8]>>) -> Result<()> {
    let mut seen: HashSet<Cow<[u8]>, foldhash::fast::RandomState> = HashSet::default();
    for i in items {
        if seen.contains(&i) {
            return Err(dup(inp, at, what, &i));
        }
        seen.insert(i);
    }
    Ok(())
}

/// A listpack holding `vals` (ziplist strings made canonical).
fn listpack_of(vals: &[LpVal]) -> Listpack {
    let canon: Vec<LpVal> = vals
        .iter()
        .map(|v| match *v {
            LpVal::Str(s) => LpVal::from_bytes(s),
            i => i,
        })
        .collect();
    let mut lp = Listpack::new();
    lp.extend(&canon);
    lp
}

/// An empty table sized for `n` announced elements, of which at most
/// `bound` fit in the input that remains: an announced count alone never
/// decides an allocation.
fn table_for<T: crate::keyspace::dict::Keyed>(n: u64, bound: usize) -> Box<Dict<T>> {
    let mut d: Box<Dict<T>> = Box::default();
    d.reserve_empty(n.min(bound as u64) as usize);
    d
}

fn lp_pairs(lp: &Listpack) -> impl Iterator<Item = (LpVal<'_>, LpVal<'_>)> {
    let mut it = lp.iter();
    std::iter::from_fn(move || Some((it.next()?, it.next()?)))
}

/// The number of pairs in a listpack of pairs (`None` when empty); an odd
/// number of entries is an error.
fn pair_count(inp: &Input, at: usize, lp: &Listpack, what: &str) -> Result<Option<usize>> {
    let n = lp.len();
    if !n.is_multiple_of(2) {
        return Err(inp.corrupt(at, format!("{what} listpack holds {n} entries: not pairs")));
    }
    Ok((n > 0).then_some(n / 2))
}

/// A ziplist of pairs (hash or sorted set) as a listpack: an even number
/// of entries and, since converting always checks it, unique first items.
fn pairs_ziplist(inp: &mut Input, what: &'static str, item: &'static str) -> Result<(usize, Listpack)> {
    let (at, b) = blob(inp, what)?;
    let vals = ziplist::entries(&b).map_err(|m| inp.corrupt(at, m))?;
    if vals.len() % 2 != 0 {
        return Err(inp.corrupt(at, format!("{what} holds {} entries: not pairs", vals.len())));
    }
    unique(inp, at, item, vals.chunks(2).map(|p| p[0].to_bytes()))?;
    Ok((at, listpack_of(&vals)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_decode_from_ids() {
        // Nine 6-bit characters, first in the highest bits, then 10 bits of
        // encoding version.
        let name = b"hellotype";
        let mut id = 0u64;
        for &c in name {
            let i = module::NAME_CHARSET.iter().position(|&x| x == c).unwrap() as u64;
            id = (id << 6) | i;
        }
        id = (id << 10) | 3;
        assert_eq!(module_name(id), "hellotype");
    }
}
