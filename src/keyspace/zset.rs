//! Sorted set values: a listpack of member, score pairs ordered by score
//! then member while small, else a member→score table plus a skip list
//! ordered the same way (`zset-max-listpack-entries`/`-value` decide, as in
//! Redis 7.0). Every range query resolves to a span of ranks first, then
//! walks it, so both forms share one implementation of each command.
//!
//! Invariants: no NaN score is ever stored; in the skip-list form the table
//! and the list hold exactly the same members with the same scores.

use super::dict::{Dict, Keyed};
use super::listpack::{Listpack, LpVal};
use super::skiplist::{NodeRef, SkipList};
use super::CBytes;
use crate::util::parse_f64;
use std::borrow::Cow;
use std::cmp::Ordering;

pub use super::skiplist::{LexBound, LexRange, ScoreRange};

#[derive(Clone, Copy, Debug)]
pub struct ZsetLimits {
    pub entries: usize,
    pub value: usize,
}

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

pub struct Skip {
    dict: Dict<ZMember>,
    list: SkipList,
}

pub enum ZSet {
    Lp(Listpack),
    Skip(Box<Skip>),
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
            ZSet::Skip(_) => {
                let mut n = ZSet::Skip(Box::new(Skip::new()));
                for (score, m) in self.iter_from(0, false) {
                    n.insert_new(score, &m);
                }
                n
            }
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
    Updated(f64),
    /// Nothing changed (NX on an existing member, XX on a new one, GT/LT
    /// refused); the score is the current one when the member exists.
    Nop,
    /// INCR produced NaN.
    Nan,
}

/// Formats a score as stored in a listpack: integral values (-0 included,
/// which so reads back as 0) plainly, else `%.17g`.
pub fn score_to_bytes(score: f64) -> Vec<u8> {
    if score == score.trunc() && score.abs() <= (i64::MAX / 2) as f64 {
        crate::util::itoa(score as i64).as_bytes().to_vec()
    } else {
        crate::util::fmt_double(score).into_bytes()
    }
}

fn lp_score(v: LpVal) -> f64 {
    match v {
        LpVal::Int(i) => i as f64,
        LpVal::Str(s) => parse_f64(s).unwrap_or(0.0),
    }
}

/// Orders (score, member) pairs as the sorted set does.
fn cmp_pair(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2).unwrap_or(Ordering::Equal).then_with(|| m1.cmp(m2))
}

pub fn score_in(r: &ScoreRange, s: f64) -> bool {
    let above_min = if r.minex { s > r.min } else { s >= r.min };
    let below_max = if r.maxex { s < r.max } else { s <= r.max };
    above_min && below_max
}

fn above_lex_min(b: &LexBound, m: &[u8]) -> bool {
    match b {
        LexBound::NegInf => true,
        LexBound::PosInf => false,
        LexBound::Incl(x) => m >= x.as_slice(),
        LexBound::Excl(x) => m > x.as_slice(),
    }
}

fn below_lex_max(b: &LexBound, m: &[u8]) -> bool {
    match b {
        LexBound::NegInf => false,
        LexBound::PosInf => true,
        LexBound::Incl(x) => m <= x.as_slice(),
        LexBound::Excl(x) => m < x.as_slice(),
    }
}

pub fn lex_in(r: &LexRange, m: &[u8]) -> bool {
    above_lex_min(&r.min, m) && below_lex_max(&r.max, m)
}

impl Skip {
    fn new() -> Self {
        Skip { dict: Dict::new(), list: SkipList::new(0x5EED_2545_F491_4F6D) }
    }
}

impl ZSet {
    /// An empty sorted set of the form Redis 7.0 creates for a first member
    /// of `first_len` bytes.
    pub fn for_first(first_len: usize, lim: ZsetLimits) -> Self {
        if lim.entries == 0 || first_len > lim.value {
            ZSet::Skip(Box::new(Skip::new()))
        } else {
            ZSet::Lp(Listpack::new())
        }
    }

    /// An empty sorted set in listpack form (stores convert it as needed).
    pub fn new_lp() -> Self {
        ZSet::Lp(Listpack::new())
    }

    pub fn new_skip() -> Self {
        ZSet::Skip(Box::new(Skip::new()))
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
                let mut o = lp.first();
                while let Some(off) = o {
                    let sc_off = lp.next(off).expect("score");
                    let sc = lp_score(lp.get(sc_off));
                    let m = lp.get(off).to_bytes();
                    if cmp_pair(sc, &m, score, member) == Ordering::Greater {
                        break;
                    }
                    o = lp.next(sc_off);
                }
                let at = o.unwrap_or_else(|| lp.end_offset());
                let sb = score_to_bytes(score);
                lp.insert(at, &[LpVal::from_bytes(member), LpVal::from_bytes(&sb)]);
            }
            ZSet::Skip(s) => {
                s.list.insert(score, member);
                s.dict.insert_new(ZMember { member: CBytes::new(member), score });
            }
        }
    }

    /// Adds one member with ZADD semantics (Redis's zsetAdd).
    pub fn add(&mut self, score: f64, member: &[u8], f: AddFlags, lim: ZsetLimits) -> AddOutcome {
        match self.score(member) {
            Some(cur) => {
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
                if new != cur {
                    self.update(cur, new, member);
                }
                AddOutcome::Updated(new)
            }
            None => {
                if f.xx {
                    return AddOutcome::Nop;
                }
                if let ZSet::Lp(_) = self {
                    if self.len() + 1 > lim.entries || member.len() > lim.value {
                        self.to_skip();
                    }
                }
                self.insert_new(score, member);
                AddOutcome::Added(score)
            }
        }
    }

    fn update(&mut self, cur: f64, new: f64, member: &[u8]) {
        match self {
            ZSet::Lp(_) => {
                self.remove(member);
                self.insert_new(new, member);
            }
            ZSet::Skip(s) => {
                s.list.update_score(cur, member, new);
                if let Some(z) = s.dict.get_mut(member) {
                    z.score = new;
                }
            }
        }
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
            ZSet::Skip(s) => match s.dict.remove(member) {
                Some(z) => {
                    s.list.delete(z.score, member);
                    s.dict.resize_if_sparse();
                    true
                }
                None => false,
            },
        }
    }

    /// 0-based rank of `member` from the lowest (or highest when `rev`).
    pub fn rank(&self, member: &[u8], rev: bool) -> Option<usize> {
        let r = match self {
            ZSet::Lp(lp) => {
                let mut o = lp.first();
                let mut i = 0;
                loop {
                    let off = o?;
                    if lp.get(off).eq_bytes(member) {
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
    /// highest when `rev`) in that direction.
    pub fn iter_from(&self, start: usize, rev: bool) -> ZIter<'_> {
        let len = self.len();
        if start >= len {
            return ZIter::Done;
        }
        let asc = if rev { len - 1 - start } else { start };
        match self {
            ZSet::Lp(lp) => ZIter::Lp { lp, off: lp.seek(2 * asc as i64), rev },
            ZSet::Skip(s) => ZIter::Skip { list: &s.list, node: s.list.first_at_rank(asc), rev },
        }
    }

    /// Ascending ranks (first, last) of the elements in a score range.
    pub fn score_ranks(&self, r: &ScoreRange) -> Option<(usize, usize)> {
        if r.min > r.max || (r.min == r.max && (r.minex || r.maxex)) {
            return None;
        }
        match self {
            ZSet::Lp(_) => self.lp_ranks(|s, _| score_in(r, s), |s, _| !(if r.minex { s > r.min } else { s >= r.min })),
            ZSet::Skip(s) => {
                let first = s.list.first_in_score_range(r)?;
                let last = s.list.last_in_score_range(r)?;
                let (fs, fm) = s.list.get(first);
                let (ls, lm) = s.list.get(last);
                Some((s.list.rank(fs, fm)?, s.list.rank(ls, lm)?))
            }
        }
    }

    /// Ascending ranks (first, last) of the elements in a lex range.
    pub fn lex_ranks(&self, r: &LexRange) -> Option<(usize, usize)> {
        match self {
            ZSet::Lp(_) => self.lp_ranks(|_, m| lex_in(r, m), |_, m| !above_lex_min(&r.min, m)),
            ZSet::Skip(s) => {
                let first = s.list.first_in_lex_range(r)?;
                let last = s.list.last_in_lex_range(r)?;
                let (fs, fm) = s.list.get(first);
                let (ls, lm) = s.list.get(last);
                Some((s.list.rank(fs, fm)?, s.list.rank(ls, lm)?))
            }
        }
    }

    /// Listpack form: the span of ranks where `inside` holds, scanning past
    /// elements `before` says precede the range.
    fn lp_ranks(
        &self,
        inside: impl Fn(f64, &[u8]) -> bool,
        before: impl Fn(f64, &[u8]) -> bool,
    ) -> Option<(usize, usize)> {
        let mut first = None;
        let mut last = None;
        for (i, (s, m)) in self.iter_from(0, false).enumerate() {
            if inside(s, &m) {
                first.get_or_insert(i);
                last = Some(i);
            } else if !before(s, &m) {
                break;
            }
        }
        Some((first?, last?))
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
                let Skip { dict, list } = &mut **s;
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
        if n > 0 {
            let len = self.len();
            if max {
                self.remove_ranks(len - n, len - 1);
            } else {
                self.remove_ranks(0, n - 1);
            }
        }
        out
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
            let mut n = ZSet::new_skip();
            for (s, m) in self.iter_from(0, false) {
                n.insert_new(s, &m);
            }
            *self = n;
        }
    }

    /// Converts a skip-list set back to a listpack when it is small enough
    /// (what the STORE commands do with their result).
    pub fn shrink_if_fits(&mut self, lim: ZsetLimits) {
        if let ZSet::Skip(_) = self {
            if self.len() <= lim.entries && self.iter_from(0, false).all(|(_, m)| m.len() <= lim.value) {
                let mut lp = Listpack::new();
                let mut vals: Vec<Vec<u8>> = Vec::with_capacity(self.len() * 2);
                for (s, m) in self.iter_from(0, false) {
                    vals.push(m.into_owned());
                    vals.push(score_to_bytes(s));
                }
                let lv: Vec<LpVal> = vals.iter().map(|v| LpVal::from_bytes(v)).collect();
                lp.extend(&lv);
                *self = ZSet::Lp(lp);
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

/// Elements of a sorted set by rank, in one direction.
pub enum ZIter<'a> {
    Done,
    Lp { lp: &'a Listpack, off: Option<usize>, rev: bool },
    Skip { list: &'a SkipList, node: Option<NodeRef>, rev: bool },
}

impl<'a> Iterator for ZIter<'a> {
    type Item = (f64, Cow<'a, [u8]>);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            ZIter::Done => None,
            ZIter::Lp { lp, off, rev } => {
                let m_off = (*off)?;
                let s_off = lp.next(m_off).expect("score follows member");
                *off = if *rev { lp.prev(m_off).and_then(|x| lp.prev(x)) } else { lp.next(s_off) };
                Some((lp_score(lp.get(s_off)), lp.get(m_off).to_bytes()))
            }
            ZIter::Skip { list, node, rev } => {
                let n = (*node)?;
                *node = if *rev { list.prev(n) } else { list.next(n) };
                let (s, m) = list.get(n);
                Some((s, Cow::Borrowed(m)))
            }
        }
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
}
