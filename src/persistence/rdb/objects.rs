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
        ty::LIST => list_plain(inp, cx)?,
        ty::SET => set_plain(inp, cx)?,
        ty::ZSET | ty::ZSET_2 => zset_plain(inp, cx, t == ty::ZSET_2)?,
        ty::HASH => hash_plain(inp, cx)?,
        ty::HASH_ZIPMAP => hash_zipmap(inp, cx)?,
        ty::LIST_ZIPLIST => list_ziplist(inp, cx)?,
        ty::SET_INTSET => set_intset(inp, cx)?,
        ty::ZSET_ZIPLIST => zset_ziplist(inp, cx)?,
        ty::HASH_ZIPLIST => hash_ziplist(inp, cx)?,
        ty::LIST_QUICKLIST => list_quicklist(inp, false)?,
        ty::HASH_LISTPACK => hash_listpack(inp, cx)?,
        ty::ZSET_LISTPACK => zset_listpack(inp, cx)?,
        ty::LIST_QUICKLIST_2 => list_quicklist(inp, true)?,
        ty::SET_LISTPACK => set_listpack(inp, cx)?,
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
                    read_text_score(inp)?;
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

// ---- lists ----

fn list_plain(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    inp.what = "list";
    let n = inp.len()?;
    let mut ql = Quicklist::new();
    for _ in 0..n {
        inp.what = "list element";
        ql.push_back(inp.string()?.bytes(), cx.limits.list_max_listpack_size);
    }
    Ok((!ql.is_empty()).then(|| Value::List(Box::new(ql))))
}

fn list_ziplist(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, b) = blob(inp, "list ziplist")?;
    let vals = ziplist::entries(&b).map_err(|m| inp.corrupt(at, m))?;
    let mut ql = Quicklist::new();
    let mut buf = Vec::new();
    for v in vals {
        buf.clear();
        v.append_to(&mut buf);
        ql.push_back(&buf, cx.limits.list_max_listpack_size);
    }
    Ok((!ql.is_empty()).then(|| Value::List(Box::new(ql))))
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

/// LIST_QUICKLIST (ziplist nodes) or LIST_QUICKLIST_2 (containers).
fn list_quicklist(inp: &mut Input, v2: bool) -> Result<Option<Value>> {
    inp.what = "quicklist";
    let nodes = inp.len()?;
    let mut ql = Quicklist::new();
    for _ in 0..nodes {
        let kind = if v2 {
            inp.what = "quicklist node container";
            let at = inp.pos;
            match inp.len()? {
                c @ (container::PLAIN | container::PACKED) => c,
                c => {
                    return Err(
                        inp.corrupt(at, format!("quicklist node container {c} is neither 1 (plain) nor 2 (packed)"))
                    )
                }
            }
        } else {
            0
        };
        match kind {
            container::PLAIN => {
                inp.what = "quicklist plain node";
                let s = inp.string()?;
                let mut lp = Listpack::new();
                lp.push_back(lp_val(&s));
                ql.push_node(lp);
            }
            container::PACKED => ql.push_node(listpack(inp, "quicklist listpack node")?.1),
            _ => {
                let (at, b) = blob(inp, "quicklist ziplist node")?;
                let vals = ziplist::entries(&b).map_err(|m| inp.corrupt(at, m))?;
                ql.push_node(listpack_of(&vals));
            }
        }
    }
    // Empty nodes were skipped by push_node: a list of only those is empty.
    Ok((!ql.is_empty()).then(|| Value::List(Box::new(ql))))
}

// ---- sets ----

/// Builds a set from members: an intset while all are integers and there
/// are at most `set-max-intset-entries`, else a table. Duplicates are an
/// error.
struct SetBuilder {
    ints: Vec<i64>,
    table: Option<Box<Dict<Member>>>,
    max_intset: usize,
}

impl SetBuilder {
    /// For `n` announced members, of which at most `bound` can be present.
    fn new(n: u64, bound: usize, max_intset: usize) -> Self {
        let table = (n > max_intset as u64).then(|| table_for(n, bound));
        SetBuilder { ints: Vec::new(), table, max_intset }
    }

    /// Moves the integers gathered so far into a table; a repeated one is
    /// handed back.
    fn to_table(&mut self) -> std::result::Result<&mut Dict<Member>, i64> {
        if self.table.is_none() {
            let mut d: Box<Dict<Member>> = table_for(self.ints.len() as u64, self.ints.len());
            for v in self.ints.drain(..) {
                if d.insert_unique(Member(CBytes::new(crate::util::itoa(v).as_bytes()))).is_err() {
                    return Err(v);
                }
            }
            self.table = Some(d);
        }
        Ok(self.table.as_mut().expect("just made"))
    }

    /// Adds a member; on a duplicate, returns its text.
    fn add(&mut self, m: LpVal) -> std::result::Result<(), Vec<u8>> {
        if self.table.is_none() {
            if let LpVal::Int(v) = m {
                self.ints.push(v);
                return Ok(());
            }
        }
        let member = match m {
            LpVal::Str(s) => CBytes::new(s),
            LpVal::Int(v) => CBytes::new(crate::util::itoa(v).as_bytes()),
        };
        let d = self.to_table().map_err(|v| crate::util::itoa(v).as_bytes().to_vec())?;
        d.insert_unique(Member(member)).map_err(|m| m.0.to_vec())
    }

    /// The set, or the duplicate integer found while sorting.
    fn finish(mut self) -> std::result::Result<Option<Set>, i64> {
        if self.table.is_none() {
            self.ints.sort_unstable();
            if let Some(w) = self.ints.windows(2).find(|w| w[0] == w[1]) {
                return Err(w[0]);
            }
            if self.ints.len() <= self.max_intset {
                return Ok((!self.ints.is_empty()).then(|| Set::Int(intset_of(&self.ints))));
            }
            self.to_table()?;
        }
        let d = self.table.expect("table form");
        Ok((!d.is_empty()).then(|| Set::Table(d)))
    }
}

/// An empty table sized for `n` announced elements, of which at most
/// `bound` fit in the input that remains: an announced count alone never
/// decides an allocation.
fn table_for<T: crate::keyspace::dict::Keyed>(n: u64, bound: usize) -> Box<Dict<T>> {
    let mut d: Box<Dict<T>> = Box::default();
    d.reserve_empty(n.min(bound as u64) as usize);
    d
}

/// An intset of sorted, distinct integers.
fn intset_of(sorted: &[i64]) -> Intset {
    let (lo, hi) = (sorted[0], sorted[sorted.len() - 1]);
    let fits = |min: i64, max: i64| lo >= min && hi <= max;
    let width = if fits(i16::MIN as i64, i16::MAX as i64) {
        2
    } else if fits(i32::MIN as i64, i32::MAX as i64) {
        4
    } else {
        8
    };
    let mut b = Vec::with_capacity(8 + sorted.len() * width);
    b.extend_from_slice(&(width as u32).to_le_bytes());
    b.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for v in sorted {
        b.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    Intset::from_bytes(b.into_boxed_slice()).expect("sorted distinct integers make a valid intset")
}

fn set_done(inp: &Input, at: usize, b: SetBuilder) -> Result<Option<Value>> {
    match b.finish() {
        Ok(s) => Ok(s.map(Value::Set)),
        Err(v) => Err(dup(inp, at, "set member", crate::util::itoa(v).as_bytes())),
    }
}

fn set_plain(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    inp.what = "set";
    let at = inp.pos;
    let n = inp.len()?;
    let mut b = SetBuilder::new(n, inp.remaining(), cx.limits.set_max_intset_entries);
    for _ in 0..n {
        inp.what = "set member";
        let m_at = inp.pos;
        let s = inp.string()?;
        if let Err(m) = b.add(lp_val(&s)) {
            return Err(dup(inp, m_at, "set member", &m));
        }
    }
    set_done(inp, at, b)
}

fn set_intset(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, b) = blob(inp, "set intset")?;
    let is = Intset::from_bytes(b).map_err(|m| inp.corrupt(at, m))?;
    if is.is_empty() {
        return Ok(None);
    }
    let mut s = Set::Int(is);
    if s.len() > cx.limits.set_max_intset_entries {
        s.to_table();
    }
    Ok(Some(Value::Set(s)))
}

fn set_listpack(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, lp) = listpack(inp, "set listpack")?;
    let mut b = SetBuilder::new(lp.len() as u64, lp.len(), cx.limits.set_max_intset_entries);
    for m in lp.iter() {
        if let Err(m) = b.add(m) {
            return Err(dup(inp, at, "set member", &m));
        }
    }
    set_done(inp, at, b)
}

// ---- hashes ----

/// A table of field/value pairs; a field seen twice is an error.
fn hash_table<'a>(
    inp: &Input,
    at: usize,
    n: usize,
    pairs: impl Iterator<Item = (LpVal<'a>, LpVal<'a>)>,
) -> Result<Hash> {
    let mut d: Box<Dict<FieldValue>> = table_for(n as u64, n);
    let (mut f, mut v) = (Vec::new(), Vec::new());
    for (k, val) in pairs {
        f.clear();
        v.clear();
        k.append_to(&mut f);
        val.append_to(&mut v);
        if d.insert_unique(FieldValue { field: CBytes::new(&f), value: CBytes::new(&v) }).is_err() {
            return Err(dup(inp, at, "hash field", &f));
        }
    }
    Ok(Hash::Table(d))
}

fn lp_pairs(lp: &Listpack) -> impl Iterator<Item = (LpVal<'_>, LpVal<'_>)> {
    let mut it = lp.iter();
    std::iter::from_fn(move || Some((it.next()?, it.next()?)))
}

fn hash_plain(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    inp.what = "hash";
    let n = inp.len()?;
    let lim = cx.limits;
    let small_enough = n <= lim.hash_max_listpack_entries as u64;
    let mut small: Option<Vec<Str>> = small_enough.then(Vec::new);
    let mut table: Box<Dict<FieldValue>> =
        if small_enough { Box::default() } else { table_for(n, inp.remaining() / 2) };
    for _ in 0..n {
        inp.what = "hash field";
        let f_at = inp.pos;
        let f = inp.string()?;
        inp.what = "hash value";
        let v = inp.string()?;
        if let Some(pairs) = &mut small {
            if f.bytes().len() > lim.hash_max_listpack_value || v.bytes().len() > lim.hash_max_listpack_value {
                // Too long for a listpack: the pairs so far move to a table.
                let moved = std::mem::take(pairs);
                small = None;
                for p in moved.chunks(2) {
                    table.insert_new(FieldValue { field: CBytes::new(p[0].bytes()), value: CBytes::new(p[1].bytes()) });
                }
            } else {
                if pairs.chunks(2).any(|p| p[0].bytes() == f.bytes()) {
                    return Err(dup(inp, f_at, "hash field", f.bytes()));
                }
                pairs.push(f);
                pairs.push(v);
                continue;
            }
        }
        if table.insert_unique(FieldValue { field: CBytes::new(f.bytes()), value: CBytes::new(v.bytes()) }).is_err() {
            return Err(dup(inp, f_at, "hash field", f.bytes()));
        }
    }
    let h = match small {
        Some(pairs) if pairs.is_empty() => return Ok(None),
        Some(pairs) => {
            let vals: Vec<LpVal> = pairs.iter().map(lp_val).collect();
            let mut lp = Listpack::new();
            lp.extend(&vals);
            Hash::Lp(lp)
        }
        None if table.is_empty() => return Ok(None),
        None => Hash::Table(table),
    };
    Ok(Some(Value::Hash(h)))
}

/// A hash from a listpack of pairs: checked, converted to a table when it
/// has more pairs than `hash-max-listpack-entries`.
fn hash_from_lp(inp: &Input, at: usize, lp: Listpack, cx: &Ctx, checked_unique: bool) -> Result<Option<Value>> {
    let n = lp.len();
    if n == 0 {
        return Ok(None);
    }
    if n % 2 != 0 {
        return Err(inp.corrupt(at, format!("hash listpack holds {n} entries: not field, value pairs")));
    }
    if n / 2 > cx.limits.hash_max_listpack_entries {
        return hash_table(inp, at, n / 2, lp_pairs(&lp)).map(|h| Some(Value::Hash(h)));
    }
    if cx.deep && !checked_unique {
        unique(inp, at, "hash field", lp_pairs(&lp).map(|(f, _)| f.to_bytes()))?;
    }
    Ok(Some(Value::Hash(Hash::Lp(lp))))
}

fn hash_listpack(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, lp) = listpack(inp, "hash listpack")?;
    hash_from_lp(inp, at, lp, cx, false)
}

fn hash_ziplist(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, lp) = pairs_ziplist(inp, "hash ziplist", "hash field")?;
    hash_from_lp(inp, at, lp, cx, true)
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

fn hash_zipmap(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, b) = blob(inp, "hash zipmap")?;
    let pairs = zipmap::pairs(&b).map_err(|m| inp.corrupt(at, m))?;
    if pairs.is_empty() {
        return Ok(None);
    }
    unique(inp, at, "hash field", pairs.iter().map(|p| Cow::Borrowed(p.0)))?;
    let lim = cx.limits;
    let longest = pairs.iter().map(|(f, v)| f.len().max(v.len())).max().unwrap_or(0);
    let vals: Vec<LpVal> = pairs.iter().flat_map(|(f, v)| [LpVal::from_bytes(f), LpVal::from_bytes(v)]).collect();
    if pairs.len() > lim.hash_max_listpack_entries || longest > lim.hash_max_listpack_value {
        let it = vals.chunks(2).map(|p| (p[0], p[1]));
        return hash_table(inp, at, pairs.len(), it).map(|h| Some(Value::Hash(h)));
    }
    let mut lp = Listpack::new();
    lp.extend(&vals);
    Ok(Some(Value::Hash(Hash::Lp(lp))))
}

// ---- sorted sets ----

/// A ZSET (type 3) score: a length byte with three special values, then
/// the text of a double.
fn read_text_score(inp: &mut Input) -> Result<f64> {
    let at = inp.pos;
    let n = inp.u8()?;
    Ok(match n {
        score::NAN => f64::NAN,
        score::POS_INF => f64::INFINITY,
        score::NEG_INF => f64::NEG_INFINITY,
        _ => {
            let t = inp.take(n as usize)?;
            parse_f64(t)
                .ok_or_else(|| inp.corrupt(at, format!("score \"{}\" is not a number", super::error::show(t))))?
        }
    })
}

/// A sorted set from members with scores, in the form Redis 7.0 picks:
/// listpack when small enough, else skip list.
fn zset_plain(inp: &mut Input, cx: &Ctx, binary: bool) -> Result<Option<Value>> {
    inp.what = "sorted set";
    let n = inp.len()?;
    let mut z = ZSet::new_skip();
    let big = ZsetLimits { entries: usize::MAX, value: usize::MAX };
    for _ in 0..n {
        inp.what = "sorted set member";
        let m_at = inp.pos;
        let m = inp.string()?;
        inp.what = "sorted set score";
        let s_at = inp.pos;
        let score = if binary { f64::from_le_bytes(inp.array()?) } else { read_text_score(inp)? };
        if score.is_nan() {
            return Err(inp.corrupt(s_at, "sorted set score is NaN"));
        }
        if z.add(score, m.bytes(), AddFlags::default(), big) != AddOutcome::Added(score) {
            return Err(dup(inp, m_at, "sorted set member", m.bytes()));
        }
    }
    if z.is_empty() {
        return Ok(None);
    }
    z.shrink_if_fits(cx.limits.zset());
    Ok(Some(Value::ZSet(z)))
}

/// The score of a listpack entry, when it is a number and not NaN.
fn lp_score(v: LpVal) -> Option<f64> {
    match v {
        LpVal::Int(i) => Some(i as f64),
        // Scores are written as `%.17g`: Rust's parser reads those much
        // faster than strtod, which stays the judge of anything else.
        LpVal::Str(s) => match std::str::from_utf8(s).ok().and_then(|t| t.parse::<f64>().ok()) {
            Some(f) if !f.is_nan() && s.iter().all(|c| c.is_ascii_digit() || b".eE+-".contains(c)) => Some(f),
            _ => parse_f64(s),
        },
    }
}

/// A sorted set from a listpack of member, score pairs: checked, converted
/// to a skip list when it has more members than `zset-max-listpack-entries`.
fn zset_from_lp(inp: &Input, at: usize, lp: Listpack, cx: &Ctx, checked_unique: bool) -> Result<Option<Value>> {
    let n = lp.len();
    if n == 0 {
        return Ok(None);
    }
    if n % 2 != 0 {
        return Err(inp.corrupt(at, format!("sorted set listpack holds {n} entries: not member, score pairs")));
    }
    let mut prev: Option<(f64, Cow<[u8]>)> = None;
    for (m, s) in lp_pairs(&lp) {
        let score = lp_score(s).ok_or_else(|| {
            inp.corrupt(at, format!("sorted set score \"{}\" is not a number", super::error::show(&s.to_bytes())))
        })?;
        if cx.deep {
            let m = m.to_bytes();
            if let Some((ps, pm)) = &prev {
                if (*ps, pm.as_ref()) > (score, m.as_ref()) {
                    return Err(inp.corrupt(at, "sorted set listpack is not in score order"));
                }
            }
            prev = Some((score, m));
        }
    }
    if cx.deep && !checked_unique {
        unique(inp, at, "sorted set member", lp_pairs(&lp).map(|(m, _)| m.to_bytes()))?;
    }
    if n / 2 <= cx.limits.zset_max_listpack_entries {
        return Ok(Some(Value::ZSet(ZSet::Lp(lp))));
    }
    let mut z = ZSet::new_skip();
    let big = ZsetLimits { entries: usize::MAX, value: usize::MAX };
    for (m, s) in lp_pairs(&lp) {
        let m = m.to_bytes();
        let score = lp_score(s).unwrap_or(0.0);
        if z.add(score, &m, AddFlags::default(), big) != AddOutcome::Added(score) {
            return Err(dup(inp, at, "sorted set member", &m));
        }
    }
    Ok(Some(Value::ZSet(z)))
}

fn zset_listpack(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, lp) = listpack(inp, "sorted set listpack")?;
    zset_from_lp(inp, at, lp, cx, false)
}

fn zset_ziplist(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, lp) = pairs_ziplist(inp, "sorted set ziplist", "sorted set member")?;
    zset_from_lp(inp, at, lp, cx, true)
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

    #[test]
    fn intset_width_follows_the_extremes() {
        assert_eq!(intset_of(&[1, 2]).as_bytes()[0], 2);
        assert_eq!(intset_of(&[-40000, 2]).as_bytes()[0], 4);
        assert_eq!(intset_of(&[0, i64::MAX]).as_bytes()[0], 8);
    }
}
