//! Sorted set values: a listpack of member, score pairs ordered by score
//! then member while small, else a member→score table plus a skip list
//! ordered the same way (`zset-max-listpack-entries`/`-value` decide, as in
//! Redis 7.0). Every range query resolves to a span of ranks first, then
//! walks it, so both forms share one implementation of each command.
//!
//! Members are handed out as `LpVal`s (a listpack keeps integer-looking
//! members as integers), so reading a range allocates nothing per element.
//!
//! Invariants: no NaN score is ever stored; in the skip-list form the table
//! and the list hold exactly the same members with the same scores; a
//! listpack's pairs are in (score, member bytes) order. Only a listpack
//! loaded without the deep checks may break that order or repeat a member:
//! lookups and the conversion to a skip list then see its first pair.

use super::dict::{Dict, Keyed};
use super::listpack::{Listpack, LpVal};
use super::skiplist::{NodeRef, SkipList};
use super::CBytes;
use crate::util::{itoa, parse_f64, parse_i64};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

pub use super::skiplist::{LexBound, LexRange, ScoreRange};

/// A listpack is never let grow past this many bytes (Redis's safety
/// limit): a write that could cross it converts the set first.
pub const LISTPACK_SAFETY: usize = 1 << 30;

#[derive(Clone, Copy, Debug)]
pub struct ZsetLimits {
    pub entries: usize,
    pub value: usize,
}

impl ZsetLimits {
    /// Whether a set of `len` members, the longest `longest` bytes and all
    /// of them `total` bytes, is kept as a listpack.
    pub fn fit(&self, len: usize, longest: usize, total: usize) -> bool {
        len <= self.entries && longest <= self.value && total <= LISTPACK_SAFETY
    }
}

#[derive(Clone)]
pub struct ZMember {
    pub member: CBytes,
    pub score: f64,
}

impl Keyed for ZMember {
    #[inline]
    fn key(&self) -> &[u8] {
        &self.member
    }
}

#[derive(Clone)]
pub struct Skip {
    dict: Dict<ZMember>,
    list: SkipList,
}

pub enum ZSet {
    Lp(Listpack),
    /// Shared by copies until one changes (as `Hash::Table`).
    Skip(Arc<Skip>),
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ZSet({} members, {})", self.len(), self.encoding())
    }
}

impl Clone for ZSet {
    fn clone(&self) -> Self {
        match self {
            ZSet::Lp(lp) => ZSet::Lp(lp.clone()),
            ZSet::Skip(s) => ZSet::Skip(s.clone()),
        }
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.iter_from(0, false).zip(other.iter_from(0, false)).all(|(a, b)| a.0 == b.0 && a.1 == b.1)
    }
}

/// ZADD's options.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What one ZADD element did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    Added(f64),
    /// The member's score changed to this one.
    Updated(f64),
    /// The member kept its score (the one given, or the increment gave it
    /// back): a reply for INCR, but no change.
    Unchanged(f64),
    /// Nothing done (NX on an existing member, XX on a new one, GT/LT
    /// refused).
    Nop,
    /// INCR produced NaN.
    Nan,
}

/// The integer a listpack stores for `score`, when it stores one: integral
/// values within half the i64 range (-0 included, which so reads back as
/// 0). Others are stored as `%.17g` text.
#[inline]
fn score_int(score: f64) -> Option<i64> {
    (score == score.trunc() && score.abs() <= (i64::MAX / 2) as f64).then_some(score as i64)
}

/// Formats a score as stored in a listpack.
pub fn score_to_bytes(score: f64) -> Vec<u8> {
    match score_int(score) {
        Some(i) => itoa(i).as_bytes().to_vec(),
        None => crate::util::fmt_double(score).into_bytes(),
    }
}

/// A stored listpack score as a double.
#[inline]
pub fn lp_score(v: LpVal) -> f64 {
    match v {
        LpVal::Int(i) => i as f64,
        LpVal::Str(s) => parse_f64(s).unwrap_or(0.0),
    }
}

/// Compares a stored member with client bytes the way the set orders
/// members: as strings, byte by byte.
#[inline]
pub fn cmp_member(v: LpVal, m: &[u8]) -> Ordering {
    match v {
        LpVal::Str(s) => s.cmp(m),
        LpVal::Int(n) => itoa(n).as_bytes().cmp(m),
    }
}

/// Whether a stored member is `m`, whose integer reading is `m_int`. A
/// string entry may spell an integer (a listpack from a file or a DUMP
/// payload), so its bytes are compared whatever `m` looks like.
#[inline]
fn member_is(v: LpVal, m: &[u8], m_int: Option<i64>) -> bool {
    match v {
        LpVal::Str(s) => s == m,
        LpVal::Int(n) => m_int == Some(n),
    }
}

/// Calls `f` with the bytes of a stored member (integers formatted on the
/// stack).
#[inline]
pub fn with_bytes<R>(v: LpVal, f: impl FnOnce(&[u8]) -> R) -> R {
    match v {
        LpVal::Str(s) => f(s),
        LpVal::Int(n) => f(itoa(n).as_bytes()),
    }
}

pub fn score_in(r: &ScoreRange, s: f64) -> bool {
    r.contains(s)
}

pub fn lex_in(r: &LexRange, m: &[u8]) -> bool {
    r.contains(m)
}

impl Skip {
    fn new() -> Self {
        Skip { dict: Dict::new(), list: SkipList::new(0x5EED_2545_F491_4F6D) }
    }

    fn insert_new(&mut self, score: f64, member: &[u8]) {
        self.list.insert(score, member);
        self.dict.insert_new(ZMember { member: CBytes::new(member), score });
    }

    /// Like `insert_new`, but a member already present is left as it is: a
    /// listpack loaded without the deep checks may hold a member twice, and
    /// the first one is the one its lookups found.
    fn insert_first(&mut self, score: f64, member: &[u8]) {
        if self.dict.insert_unique(ZMember { member: CBytes::new(member), score }).is_ok() {
            self.list.insert(score, member);
        }
    }
}

impl ZSet {
    /// An empty sorted set of the form Redis 7.0 creates for a first member
    /// of `first_len` bytes.
    pub fn for_first(first_len: usize, lim: ZsetLimits) -> Self {
        if lim.entries == 0 || first_len > lim.value {
            ZSet::Skip(Arc::new(Skip::new()))
        } else {
            ZSet::Lp(Listpack::new())
        }
    }

    /// An empty sorted set in listpack form (stores convert it as needed).
    pub fn new_lp() -> Self {
        ZSet::Lp(Listpack::new())
    }

    pub fn new_skip() -> Self {
        ZSet::Skip(Arc::new(Skip::new()))
    }

    /// The sorted set holding `items`, which are in the set's order
    /// (ascending score, then member), in the form Redis gives a stored
    /// result (ZUNIONSTORE, ZRANGESTORE...): a listpack when the limits
    /// allow, else a skip list.
    pub fn from_sorted<M: AsRef<[u8]>>(items: &[(f64, M)], lim: ZsetLimits) -> Self {
        let (mut longest, mut total) = (0, 0usize);
        for (_, m) in items {
            longest = longest.max(m.as_ref().len());
            total = total.saturating_add(m.as_ref().len());
        }
        if !lim.fit(items.len(), longest, total) {
            let mut s = Skip::new();
            for (score, m) in items {
                s.insert_new(*score, m.as_ref());
            }
            return ZSet::Skip(Arc::new(s));
        }
        // Non-integral scores are stored as text: format them all into one
        // buffer first, so the entries can borrow from it.
        let mut text = Vec::new();
        let mut ends = Vec::with_capacity(items.len());
        for (score, _) in items {
            if score_int(*score).is_none() {
                crate::util::write_double(*score, &mut text);
            }
            ends.push(text.len());
        }
        let mut vals = Vec::with_capacity(2 * items.len());
        let mut start = 0;
        for ((score, m), &end) in items.iter().zip(&ends) {
            vals.push(LpVal::from_bytes(m.as_ref()));
            vals.push(match score_int(*score) {
                Some(i) => LpVal::Int(i),
                None => LpVal::Str(&text[start..end]),
            });
            start = end;
        }
        let mut lp = Listpack::new();
        lp.extend(&vals);
        ZSet::Lp(lp)
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Lp(_) => "listpack",
            ZSet::Skip(_) => "skiplist",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Lp(lp) => lp.len() / 2,
            ZSet::Skip(s) => s.dict.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Offset of `member` in listpack form.
    fn lp_find(lp: &Listpack, member: &[u8]) -> Option<usize> {
        lp.find(lp.first(), member, 1)
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Lp(lp) => Self::lp_find(lp, member).map(|o| lp_score(lp.get(lp.next(o).expect("score")))),
            ZSet::Skip(s) => s.dict.get(member).map(|z| z.score),
        }
    }

    /// Inserts a member known to be absent, in order (no conversion).
    fn insert_new(&mut self, score: f64, member: &[u8]) {
        match self {
            ZSet::Lp(lp) => {
                // Before the first pair that sorts after the new one.
                let mut o = lp.first();
                while let Some(off) = o {
                    let sc_off = lp.next(off).expect("score follows member");
                    let sc = lp_score(lp.get(sc_off));
                    if sc > score || (sc == score && cmp_member(lp.get(off), member) == Ordering::Greater) {
                        break;
                    }
                    o = lp.next(sc_off);
                }
                let at = o.unwrap_or_else(|| lp.end_offset());
                let stored;
                let sv = match score_int(score) {
                    Some(i) => LpVal::Int(i),
                    None => {
                        stored = crate::util::fmt_double(score);
                        LpVal::Str(stored.as_bytes())
                    }
                };
                lp.insert(at, &[LpVal::from_bytes(member), sv]);
            }
            ZSet::Skip(s) => Arc::make_mut(s).insert_new(score, member),
        }
    }

    /// Adds one member with ZADD semantics (Redis's zsetAdd): a listpack
    /// converts before taking a member that would break its limits.
    pub fn add(&mut self, score: f64, member: &[u8], f: AddFlags, lim: ZsetLimits) -> AddOutcome {
        if let ZSet::Skip(s) = self {
            // One table lookup finds the member and takes its new score.
            let s = Arc::make_mut(s);
            let Skip { dict, list } = &mut *s;
            if let Some(z) = dict.get_mut(member) {
                let cur = z.score;
                let out = Self::new_score(cur, score, f);
                if let AddOutcome::Updated(new) = out {
                    z.score = new;
                    list.update_score(cur, member, new);
                }
                return out;
            }
            if f.xx {
                return AddOutcome::Nop;
            }
            s.insert_new(score, member);
            return AddOutcome::Added(score);
        }
        match self.score(member) {
            // A listpack member: moved to its new place.
            Some(cur) => {
                let out = Self::new_score(cur, score, f);
                if let AddOutcome::Updated(new) = out {
                    self.remove(member);
                    self.insert_new(new, member);
                }
                out
            }
            None => {
                if f.xx {
                    return AddOutcome::Nop;
                }
                if let ZSet::Lp(lp) = self {
                    if lp.len() / 2 + 1 > lim.entries
                        || member.len() > lim.value
                        || lp.bytes_len() + member.len() > LISTPACK_SAFETY
                    {
                        self.to_skip();
                    }
                }
                self.insert_new(score, member);
                AddOutcome::Added(score)
            }
        }
    }

    /// What ZADD does to a member of score `cur` given `score`.
    fn new_score(cur: f64, score: f64, f: AddFlags) -> AddOutcome {
        if f.nx {
            return AddOutcome::Nop;
        }
        let mut new = score;
        if f.incr {
            new += cur;
            if new.is_nan() {
                return AddOutcome::Nan;
            }
        }
        if (f.lt && new >= cur) || (f.gt && new <= cur) {
            return AddOutcome::Nop;
        }
        if new == cur {
            return AddOutcome::Unchanged(new);
        }
        AddOutcome::Updated(new)
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSet::Lp(lp) => match Self::lp_find(lp, member) {
                Some(o) => {
                    lp.delete(o, 2);
                    true
                }
                None => false,
            },
            ZSet::Skip(s) => {
                let s = Arc::make_mut(s);
                match s.dict.remove(member) {
                    Some(z) => {
                        s.list.delete(z.score, member);
                        s.dict.resize_if_sparse();
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// 0-based rank of `member` from the lowest (or highest when `rev`).
    pub fn rank(&self, member: &[u8], rev: bool) -> Option<usize> {
        let r = match self {
            ZSet::Lp(lp) => {
                let m_int = parse_i64(member);
                let mut o = lp.first();
                let mut i = 0;
                loop {
                    let off = o?;
                    if member_is(lp.get(off), member, m_int) {
                        break i;
                    }
                    o = lp.next(off).and_then(|x| lp.next(x));
                    i += 1;
                }
            }
            ZSet::Skip(s) => {
                let score = s.dict.get(member)?.score;
                s.list.rank(score, member)?
            }
        };
        Some(if rev { self.len() - 1 - r } else { r })
    }

    /// Elements from rank `start` (counted from the lowest, or from the
    /// highest when `rev`) in that direction, members as stored.
    pub fn entries(&self, start: usize, rev: bool) -> Entries<'_> {
        let len = self.len();
        if start >= len {
            return Entries::Done;
        }
        let asc = if rev { len - 1 - start } else { start };
        match self {
            ZSet::Lp(lp) => Entries::Lp { lp, off: lp.seek(2 * asc as i64), rev },
            ZSet::Skip(s) => Entries::Skip { list: &s.list, node: s.list.first_at_rank(asc), rev },
        }
    }

    /// Like `entries`, members as byte strings.
    pub fn iter_from(&self, start: usize, rev: bool) -> ZIter<'_> {
        ZIter(self.entries(start, rev))
    }

    /// Ascending ranks (first, last) of the elements in a score range.
    pub fn score_ranks(&self, r: &ScoreRange) -> Option<(usize, usize)> {
        if r.is_empty_range() {
            return None;
        }
        match self {
            ZSet::Lp(_) => self.lp_span(false, |s, _| r.gte_min(s), |s, _| r.lte_max(s)),
            ZSet::Skip(s) => {
                let first = s.list.first_in_score_range(r)?;
                let last = s.list.last_in_score_range(r)?;
                Some((s.list.rank_of(first)?, s.list.rank_of(last)?))
            }
        }
    }

    /// Ascending ranks (first, last) of the elements in a lex range, as
    /// Redis walks it: from the first member at or past the start bound
    /// (the highest at or below `max` when `rev`), while members stay within
    /// the other bound. On a set whose scores are all equal this is exactly
    /// the members in the range.
    pub fn lex_span(&self, r: &LexRange, rev: bool) -> Option<(usize, usize)> {
        if r.is_empty_range() {
            return None;
        }
        match self {
            ZSet::Lp(_) => {
                // Redis first checks that the range overlaps the ends.
                let first = self.entries(0, false).next()?;
                let last = self.entries(0, true).next()?;
                if !with_bytes(first.1, |m| r.lte_max(m)) || !with_bytes(last.1, |m| r.gte_min(m)) {
                    return None;
                }
                let min = |_: f64, m: LpVal| with_bytes(m, |m| r.gte_min(m));
                let max = |_: f64, m: LpVal| with_bytes(m, |m| r.lte_max(m));
                if rev {
                    self.lp_span(true, max, min)
                } else {
                    self.lp_span(false, min, max)
                }
            }
            ZSet::Skip(s) => {
                let first = s.list.first_in_lex_range(r)?;
                let last = s.list.last_in_lex_range(r)?;
                Some((s.list.rank_of(first)?, s.list.rank_of(last)?))
            }
        }
    }

    /// Listpack form: walking in one direction, the first element where
    /// `starts` holds (if `within` holds there too) and the run after it
    /// while `within` holds; as ascending ranks.
    fn lp_span(
        &self,
        rev: bool,
        starts: impl Fn(f64, LpVal) -> bool,
        within: impl Fn(f64, LpVal) -> bool,
    ) -> Option<(usize, usize)> {
        let mut it = self.entries(0, rev).enumerate();
        let first = loop {
            let (i, (s, m)) = it.next()?;
            if starts(s, m) {
                if !within(s, m) {
                    return None;
                }
                break i;
            }
        };
        let mut last = first;
        for (i, (s, m)) in it {
            if !within(s, m) {
                break;
            }
            last = i;
        }
        let top = self.len() - 1;
        Some(if rev { (top - last, top - first) } else { (first, last) })
    }

    /// Removes the elements with ascending ranks `start..=end`; returns how
    /// many went.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        if start > end || start >= self.len() {
            return 0;
        }
        let end = end.min(self.len() - 1);
        let n = end - start + 1;
        match self {
            ZSet::Lp(lp) => lp.delete_range(2 * start, 2 * n),
            ZSet::Skip(s) => {
                let Skip { dict, list } = Arc::make_mut(s);
                list.delete_range_by_rank(start, end, |m| {
                    dict.remove(m);
                });
                dict.resize_if_sparse();
            }
        }
        n
    }

    /// Removes and returns up to `count` elements from the lowest (or the
    /// highest when `max`).
    pub fn pop(&mut self, count: usize, max: bool) -> Vec<(Vec<u8>, f64)> {
        let n = count.min(self.len());
        let out: Vec<(Vec<u8>, f64)> = self.iter_from(0, max).take(n).map(|(s, m)| (m.into_owned(), s)).collect();
        self.remove_end(n, max);
        out
    }

    /// Removes `n` elements from the lowest end (the highest when `max`).
    pub fn remove_end(&mut self, n: usize, max: bool) {
        let len = self.len();
        let n = n.min(len);
        if n > 0 {
            if max {
                self.remove_ranks(len - n, len - 1);
            } else {
                self.remove_ranks(0, n - 1);
            }
        }
    }

    /// A uniformly drawn element (`rand` supplies the randomness).
    pub fn random_entry(&self, mut rand: impl FnMut() -> u64) -> Option<(f64, LpVal<'_>)> {
        match self {
            ZSet::Lp(lp) => {
                let n = self.len();
                if n == 0 {
                    return None;
                }
                let m = lp.seek(2 * (rand() % n as u64) as i64)?;
                Some((lp_score(lp.get(lp.next(m)?)), lp.get(m)))
            }
            ZSet::Skip(s) => s.dict.random(rand).map(|z| (z.score, LpVal::Str(&z.member))),
        }
    }

    /// ZSCAN step (the listpack form returns everything at once, cursor 0).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Lp(_) => {
                self.iter_from(0, false).for_each(|(s, m)| f(&m, s));
                0
            }
            ZSet::Skip(s) => s.dict.scan(cursor, |z| f(&z.member, z.score)),
        }
    }

    pub fn to_skip(&mut self) {
        if let ZSet::Lp(_) = self {
            let mut n = Skip::new();
            for (s, m) in self.iter_from(0, false) {
                n.insert_first(s, &m);
            }
            *self = ZSet::Skip(Arc::new(n));
        }
    }

    /// Converts a skip-list set back to a listpack when it is small enough
    /// (what the STORE commands do with their result).
    pub fn shrink_if_fits(&mut self, lim: ZsetLimits) {
        if let ZSet::Skip(_) = self {
            let items: Vec<(f64, Cow<[u8]>)> = self.iter_from(0, false).collect();
            let small = ZSet::from_sorted(&items, lim);
            if let ZSet::Lp(_) = small {
                *self = small;
            }
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            ZSet::Lp(lp) => lp.bytes_len(),
            ZSet::Skip(s) => s.dict.slots() * 8 + s.list.heap_size() + s.dict.len() * 56,
        }
    }

    pub fn free_effort(&self) -> usize {
        match self {
            ZSet::Lp(_) => 1,
            ZSet::Skip(s) => s.dict.len(),
        }
    }
}

/// Elements of a sorted set by rank, in one direction: (score, member as
/// stored).
pub enum Entries<'a> {
    Done,
    Lp { lp: &'a Listpack, off: Option<usize>, rev: bool },
    Skip { list: &'a SkipList, node: Option<NodeRef>, rev: bool },
}

impl<'a> Iterator for Entries<'a> {
    type Item = (f64, LpVal<'a>);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Entries::Done => None,
            Entries::Lp { lp, off, rev } => {
                let m_off = (*off)?;
                let s_off = lp.next(m_off).expect("score follows member");
                *off = if *rev { lp.prev(m_off).and_then(|x| lp.prev(x)) } else { lp.next(s_off) };
                Some((lp_score(lp.get(s_off)), lp.get(m_off)))
            }
            Entries::Skip { list, node, rev } => {
                let n = (*node)?;
                *node = if *rev { list.prev(n) } else { list.next(n) };
                let (s, m) = list.get(n);
                Some((s, LpVal::Str(m)))
            }
        }
    }
}

/// `Entries` with members as byte strings (integers formatted).
pub struct ZIter<'a>(Entries<'a>);

impl<'a> Iterator for ZIter<'a> {
    type Item = (f64, Cow<'a, [u8]>);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(s, m)| (s, m.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: ZsetLimits = ZsetLimits { entries: 4, value: 8 };

    fn members(z: &ZSet) -> Vec<(f64, Vec<u8>)> {
        z.iter_from(0, false).map(|(s, m)| (s, m.into_owned())).collect()
    }

    #[test]
    fn a_copy_shares_the_index_until_either_side_changes() {
        let mut a = ZSet::new_skip();
        for i in 0..10 {
            a.add(i as f64, format!("m{i}").as_bytes(), AddFlags::default(), LIM);
        }
        let before = members(&a);
        let b = a.clone();
        assert!(matches!((&a, &b), (ZSet::Skip(p), ZSet::Skip(q)) if Arc::ptr_eq(p, q)));
        a.add(100.0, b"m0", AddFlags::default(), LIM);
        assert!(a.remove(b"m1"));
        a.pop(2, true);
        assert_eq!(members(&b), before);
        let mut c = b.clone();
        c.pop(3, false);
        assert_eq!(members(&b), before);
        assert_eq!((a.len(), b.len(), c.len()), (7, 10, 7));
    }

    #[test]
    fn both_forms_agree() {
        let mut a = ZSet::new_lp();
        let mut b = ZSet::new_skip();
        let big = ZsetLimits { entries: 1000, value: 1000 };
        let mut x = 0x1234_5678_9ABC_DEF1u64;
        for _ in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = format!("m{}", x % 60).into_bytes();
            let s = match x % 5 {
                0 => f64::INFINITY,
                1 => (x % 7) as f64,
                2 => -((x % 100) as f64) / 3.0,
                _ => ((x >> 8) % 10) as f64,
            };
            if x % 3 == 0 {
                assert_eq!(a.remove(&m), b.remove(&m));
            } else {
                let f = AddFlags { incr: x % 4 == 0, ..Default::default() };
                assert_eq!(a.add(s, &m, f, big), b.add(s, &m, f, big));
            }
            assert_eq!(members(&a), members(&b));
        }
        let r = ScoreRange { min: 1.0, max: 5.0, minex: true, maxex: false };
        assert_eq!(a.score_ranks(&r), b.score_ranks(&r));
        for m in members(&a) {
            assert_eq!(a.rank(&m.1, true), b.rank(&m.1, true));
        }
        assert_eq!(a.pop(3, true), b.pop(3, true));
        assert_eq!(members(&a), members(&b));
    }

    #[test]
    fn converts_on_count_and_member_length() {
        let mut z = ZSet::for_first(1, LIM);
        for i in 0..4 {
            z.add(i as f64, format!("{i}").as_bytes(), AddFlags::default(), LIM);
        }
        assert_eq!(z.encoding(), "listpack");
        z.add(9.0, b"x", AddFlags::default(), LIM);
        assert_eq!(z.encoding(), "skiplist");
        z.remove(b"x");
        z.shrink_if_fits(LIM);
        assert_eq!(z.encoding(), "listpack");
        assert_eq!(z.score(b"2"), Some(2.0));
        z.add(1.0, b"123456789", AddFlags::default(), LIM);
        assert_eq!(z.encoding(), "skiplist");
    }

    fn lp_of(pairs: &[(f64, &str)]) -> ZSet {
        let mut z = ZSet::new_lp();
        let big = ZsetLimits { entries: 1000, value: 1000 };
        for (s, m) in pairs {
            z.add(*s, m.as_bytes(), AddFlags::default(), big);
        }
        z
    }

    #[test]
    fn add_tells_an_unchanged_score_from_an_update() {
        let mut z = lp_of(&[(1.0, "a")]);
        let incr = AddFlags { incr: true, ..Default::default() };
        assert_eq!(z.add(1.0, b"a", AddFlags::default(), LIM), AddOutcome::Unchanged(1.0));
        assert_eq!(z.add(0.0, b"a", incr, LIM), AddOutcome::Unchanged(1.0));
        assert_eq!(z.add(-0.0, b"a", AddFlags { gt: true, ..Default::default() }, LIM), AddOutcome::Nop);
        assert_eq!(z.add(2.0, b"a", AddFlags::default(), LIM), AddOutcome::Updated(2.0));
        z.add(f64::INFINITY, b"a", AddFlags::default(), LIM);
        assert_eq!(z.add(f64::NEG_INFINITY, b"a", incr, LIM), AddOutcome::Nan);
    }

    #[test]
    fn listpack_orders_integer_members_as_strings() {
        let z = lp_of(&[(1.0, "10"), (1.0, "9"), (1.0, "-1"), (1.0, "a"), (0.5, "z")]);
        let got: Vec<Vec<u8>> = z.iter_from(0, false).map(|(_, m)| m.into_owned()).collect();
        assert_eq!(got, [&b"z"[..], b"-1", b"10", b"9", b"a"]);
        assert_eq!(z.rank(b"9", false), Some(3));
        assert_eq!(z.rank(b"09", false), None);
        assert_eq!(z.rank(b"z", true), Some(4));
        let rev: Vec<f64> = z.entries(1, true).map(|(s, _)| s).collect();
        assert_eq!(rev, [1.0, 1.0, 1.0, 0.5]);
    }

    #[test]
    fn lex_spans_walk_as_redis_does() {
        let r = |a: &[u8], b: &[u8]| LexRange { min: LexBound::parse(a).unwrap(), max: LexBound::parse(b).unwrap() };
        let z = lp_of(&[(0.0, "a"), (0.0, "b"), (0.0, "c"), (0.0, "d")]);
        let mut s = ZSet::new_skip();
        for m in ["a", "b", "c", "d"] {
            s.add(0.0, m.as_bytes(), AddFlags::default(), LIM);
        }
        for (lo, hi) in [(&b"[b"[..], &b"(d"[..]), (b"-", b"+"), (b"(a", b"[a"), (b"[e", b"+"), (b"-", b"(a")] {
            for rev in [false, true] {
                assert_eq!(z.lex_span(&r(lo, hi), rev), s.lex_span(&r(lo, hi), rev), "{lo:?} {hi:?}");
            }
        }
        assert_eq!(z.lex_span(&r(b"[b", b"(d"), false), Some((1, 2)));
        // Scores that differ: the walk stops at the first member past the
        // far bound, in the direction of the walk.
        let mixed = lp_of(&[(0.0, "c"), (1.0, "a"), (2.0, "d"), (3.0, "b")]);
        assert_eq!(mixed.lex_span(&r(b"[b", b"[c"), false), Some((0, 1)));
        assert_eq!(mixed.lex_span(&r(b"[b", b"[c"), true), Some((2, 3)));
        assert_eq!(mixed.lex_span(&r(b"[a", b"[z"), false), Some((0, 3)));
    }

    #[test]
    fn stored_results_pick_their_form_by_the_limits() {
        let items = [(-0.0, "a"), (1.5, "b"), (1e17, "c"), (f64::INFINITY, "d")];
        let z = ZSet::from_sorted(&items, LIM);
        assert_eq!(z.encoding(), "listpack");
        let got: Vec<(f64, Vec<u8>)> = members(&z);
        assert_eq!(got.len(), 4);
        assert!(got[0].0 == 0.0 && got[0].0.is_sign_positive(), "-0 is stored as 0 in a listpack");
        assert_eq!((got[1].0, got[2].0, got[3].0), (1.5, 1e17, f64::INFINITY));
        let z = ZSet::from_sorted(&[(-0.0, "a"), (1.0, "123456789")], LIM);
        assert_eq!(z.encoding(), "skiplist");
        assert!(z.score(b"a").unwrap().is_sign_negative());
        let five: Vec<(f64, String)> = (0..5).map(|i| (i as f64, i.to_string())).collect();
        assert_eq!(ZSet::from_sorted(&five, LIM).encoding(), "skiplist");
        assert_eq!(ZSet::from_sorted(&five[..4], LIM).encoding(), "listpack");
        assert!(ZSet::from_sorted::<&str>(&[], LIM).is_empty());
    }

    #[test]
    fn random_entries_come_from_the_set() {
        let mut x = 7u64;
        let mut rand = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let z = lp_of(&[(1.0, "a"), (2.0, "7")]);
        let mut s = ZSet::new_skip();
        s.add(3.0, b"q", AddFlags::default(), LIM);
        for _ in 0..20 {
            let (score, m) = z.random_entry(&mut rand).unwrap();
            assert_eq!(z.score(&m.to_bytes()), Some(score));
            assert_eq!(
                s.random_entry(&mut rand).map(|(sc, m)| (sc, m.to_bytes().into_owned())),
                Some((3.0, b"q".to_vec()))
            );
        }
        assert!(ZSet::new_lp().random_entry(&mut rand).is_none());
    }

    #[test]
    fn remove_end_pops_from_either_side() {
        let mut z = lp_of(&[(1.0, "a"), (2.0, "b"), (3.0, "c")]);
        z.remove_end(1, true);
        z.remove_end(1, false);
        assert_eq!(members(&z), [(2.0, b"b".to_vec())]);
        z.remove_end(usize::MAX, false);
        assert!(z.is_empty());
    }
}
