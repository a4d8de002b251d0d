//! `SkipList`: the ordered index of a large sorted set, Redis's zskiplist.
//!
//! Elements are `(score, member)` pairs ordered by score, then by member
//! bytes (memcmp order, a prefix before its extensions). Every forward link
//! carries a span (how many level-0 steps it jumps), so rank queries and
//! rank-addressed lookups are O(log n).
//!
//! Nodes live in an arena (`Vec<Node>` addressed by `u32`; slot 0 is the
//! header) and freed slots are chained into a free list and reused. Each
//! node's levels are one exact-size `Box<[Level]>`. Node heights come from
//! an internal xorshift seeded at construction (p = 1/4, at most 32), so a
//! given seed and operation sequence always builds the same shape.
//!
//! Invariants: level 0 links every element in order and `backward` links
//! them in reverse (the first element's `backward` is `NIL`); at level `i`,
//! a link's span is the number of level-0 steps to its target, and a link
//! with no target spans the elements after its node (so the header's spans
//! along any level `< level` sum to `len`); `level` is 1 or the height of
//! the tallest element; free slots have no levels and an empty member.
//!
//! Caller contract: members are unique (`insert` of a present member and
//! NaN scores are debug-asserted); at most `u32::MAX - 1` elements. A
//! `NodeRef` is valid until the next mutation; a stale one gives
//! unspecified (but memory-safe, panic-free) results.

use super::CBytes;

/// Tallest node height.
pub const MAX_LEVEL: usize = 32;
const NIL: u32 = u32::MAX;
const HEADER: u32 = 0;

#[derive(Clone, Copy, Debug)]
struct Level {
    forward: u32,
    span: u32,
}

const EMPTY_LEVEL: Level = Level { forward: NIL, span: 0 };

struct Node {
    member: CBytes,
    score: f64,
    /// Previous element, `NIL` for the first; in a free slot, the next free slot.
    backward: u32,
    /// Exactly the node's height; empty in a free slot.
    levels: Box<[Level]>,
}

/// A position in the list, valid until the next mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeRef(u32);

/// A score interval with Redis's ZRANGEBYSCORE semantics (`(` = exclusive).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    #[inline]
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    #[inline]
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    #[inline]
    pub fn contains(&self, v: f64) -> bool {
        self.gte_min(v) && self.lte_max(v)
    }

    /// True when no score can be in the range: `min > max`, or equal with an
    /// exclusive end.
    pub fn is_empty_range(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic range: `-`, `+`, `[member` or `(member`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

impl LexBound {
    /// Parses Redis's syntax (`-`, `+`, `[x`, `(x`); `None` for anything else.
    pub fn parse(b: &[u8]) -> Option<LexBound> {
        match b {
            b"-" => Some(LexBound::NegInf),
            b"+" => Some(LexBound::PosInf),
            [b'[', rest @ ..] => Some(LexBound::Incl(rest.to_vec())),
            [b'(', rest @ ..] => Some(LexBound::Excl(rest.to_vec())),
            _ => None,
        }
    }
}

/// A member interval with Redis's ZRANGEBYLEX semantics (memcmp order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    #[inline]
    pub fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Incl(b) => m >= b.as_slice(),
            LexBound::Excl(b) => m > b.as_slice(),
        }
    }

    #[inline]
    pub fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(b) => m <= b.as_slice(),
            LexBound::Excl(b) => m < b.as_slice(),
        }
    }

    #[inline]
    pub fn contains(&self, m: &[u8]) -> bool {
        self.gte_min(m) && self.lte_max(m)
    }

    /// True when no member can be in the range: `min > max`, or equal with
    /// an exclusive end (`+` as min and `-` as max included).
    pub fn is_empty_range(&self) -> bool {
        use LexBound::*;
        match (&self.min, &self.max) {
            (PosInf, _) | (_, NegInf) => true,
            (NegInf, _) | (_, PosInf) => false,
            (Incl(a), Incl(b)) => a > b,
            (Incl(a) | Excl(a), Incl(b) | Excl(b)) => a >= b,
        }
    }
}

pub fn score_range_contains(r: &ScoreRange, v: f64) -> bool {
    r.contains(v)
}

pub fn lex_range_contains(r: &LexRange, m: &[u8]) -> bool {
    r.contains(m)
}

pub struct SkipList {
    nodes: Vec<Node>,
    /// First free slot, chained through `backward`.
    free: u32,
    free_len: usize,
    tail: u32,
    len: usize,
    /// Levels in use, 1..=MAX_LEVEL.
    level: usize,
    rng: u64,
    /// `Level` entries over all element nodes (not the header).
    level_slots: usize,
    /// Heap bytes of members.
    member_heap: usize,
}

type Path = [u32; MAX_LEVEL];

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SkipList {
    pub fn new(seed: u64) -> Self {
        let header =
            Node { member: CBytes::new(b""), score: 0.0, backward: NIL, levels: vec![EMPTY_LEVEL; MAX_LEVEL].into() };
        let rng = match splitmix64(seed) {
            0 => 0x2545_F491_4F6C_DD1D,
            r => r,
        };
        SkipList {
            nodes: vec![header],
            free: NIL,
            free_len: 0,
            tail: NIL,
            len: 0,
            level: 1,
            rng,
            level_slots: 0,
            member_heap: 0,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Approximate heap bytes: the arena (capacity, free slots included),
    /// node levels and long members.
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + (self.level_slots + MAX_LEVEL) * std::mem::size_of::<Level>()
            + self.member_heap
    }

    /// Arena slots currently free for reuse.
    pub fn free_slots(&self) -> usize {
        self.free_len
    }

    // ---- internals -------------------------------------------------------

    #[inline]
    fn node(&self, x: u32) -> &Node {
        &self.nodes[x as usize]
    }

    #[inline]
    fn lvl(&self, x: u32, i: usize) -> Level {
        self.nodes[x as usize].levels[i]
    }

    #[inline]
    fn lvl_mut(&mut self, x: u32, i: usize) -> &mut Level {
        &mut self.nodes[x as usize].levels[i]
    }

    #[inline]
    fn fwd0(&self, x: u32) -> u32 {
        self.lvl(x, 0).forward
    }

    fn random_level(&mut self) -> usize {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        // Each pair of low bits is zero with probability 1/4.
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((r.trailing_zeros() / 2) as usize + 1).min(MAX_LEVEL)
    }

    /// Walks down from the header, at each level advancing while the next
    /// node satisfies `pred` (which must hold for a prefix of the order).
    /// Fills `update[i]` with the last node reached at level `i` and
    /// `rank[i]` with its 1-based rank (0 for the header); returns the last
    /// node reached overall.
    fn descend(&self, mut pred: impl FnMut(&Node) -> bool, update: &mut Path, rank: &mut Path) -> u32 {
        let mut x = HEADER;
        let mut r = 0u32;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lvl(x, i);
                if l.forward != NIL && pred(self.node(l.forward)) {
                    r = r.wrapping_add(l.span);
                    x = l.forward;
                } else {
                    break;
                }
            }
            update[i] = x;
            rank[i] = r;
        }
        x
    }

    /// The insertion/deletion path for `(score, member)`: the last nodes
    /// ordered strictly before it.
    fn path_before(&self, score: f64, member: &[u8], update: &mut Path, rank: &mut Path) -> u32 {
        self.descend(
            |n| n.score < score || (n.score == score && n.member.as_bytes() < member),
            update,
            rank,
        )
    }

    fn alloc(&mut self, score: f64, member: &[u8], height: usize) -> u32 {
        let node = Node { member: CBytes::new(member), score, backward: NIL, levels: vec![EMPTY_LEVEL; height].into() };
        self.level_slots += height;
        self.member_heap += node.member.heap_size();
        if self.free != NIL {
            let idx = self.free;
            self.free = self.node(idx).backward;
            self.free_len -= 1;
            self.nodes[idx as usize] = node;
            idx
        } else {
            let idx = u32::try_from(self.nodes.len()).ok().filter(|&i| i != NIL).expect("skiplist: too many elements");
            self.nodes.push(node);
            idx
        }
    }

    /// Frees an unlinked node's slot, returning its member.
    fn release(&mut self, x: u32) -> CBytes {
        let free = self.free;
        let n = &mut self.nodes[x as usize];
        let member = std::mem::replace(&mut n.member, CBytes::new(b""));
        let levels = std::mem::take(&mut n.levels);
        n.backward = free;
        self.free = x;
        self.free_len += 1;
        self.level_slots -= levels.len();
        self.member_heap -= member.heap_size();
        member
    }

    /// Once empty, the arena goes back to just the header.
    fn reset_if_empty(&mut self) {
        if self.len == 0 && self.nodes.len() > 1 {
            self.nodes.truncate(1);
            self.nodes.shrink_to_fit();
            self.free = NIL;
            self.free_len = 0;
            self.tail = NIL;
            self.level = 1;
            for l in self.nodes[0].levels.iter_mut() {
                *l = EMPTY_LEVEL;
            }
        }
    }

    /// Links node `x` (its score, member and height set) after `update`,
    /// whose ranks are `rank` (as filled by `path_before`).
    fn link(&mut self, x: u32, update: &mut Path, rank: &mut Path) {
        let height = self.node(x).levels.len();
        if height > self.level {
            let len = self.len as u32;
            for i in self.level..height {
                rank[i] = 0;
                update[i] = HEADER;
                self.lvl_mut(HEADER, i).span = len;
            }
            self.level = height;
        }
        for i in 0..height {
            let u = update[i];
            let ul = self.lvl(u, i);
            let d = rank[0] - rank[i];
            *self.lvl_mut(x, i) = Level { forward: ul.forward, span: ul.span - d };
            *self.lvl_mut(u, i) = Level { forward: x, span: d + 1 };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(height) {
            self.lvl_mut(u, i).span += 1;
        }
        self.nodes[x as usize].backward = if update[0] == HEADER { NIL } else { update[0] };
        let f = self.fwd0(x);
        if f != NIL {
            self.nodes[f as usize].backward = x;
        } else {
            self.tail = x;
        }
        self.len += 1;
    }

    /// Unlinks node `x`, `update` being the last nodes before it per level.
    fn unlink(&mut self, x: u32, update: &Path) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.lvl(u, i);
            if ul.forward == x {
                let xl = self.lvl(x, i);
                *self.lvl_mut(u, i) = Level { forward: xl.forward, span: ul.span + xl.span - 1 };
            } else {
                self.lvl_mut(u, i).span = ul.span - 1;
            }
        }
        let (f, b) = (self.fwd0(x), self.node(x).backward);
        if f != NIL {
            self.nodes[f as usize].backward = b;
        } else {
            self.tail = b;
        }
        while self.level > 1 && self.lvl(HEADER, self.level - 1).forward == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    #[inline]
    fn node_ref(x: u32) -> Option<NodeRef> {
        if x == NIL || x == HEADER {
            None
        } else {
            Some(NodeRef(x))
        }
    }

    // ---- updates ---------------------------------------------------------

    /// Adds `member` with `score`. The caller guarantees `member` is absent
    /// and `score` is not NaN.
    pub fn insert(&mut self, score: f64, member: &[u8]) {
        debug_assert!(!score.is_nan(), "skiplist: NaN score");
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        self.path_before(score, member, &mut update, &mut rank);
        debug_assert!(
            {
                let f = self.fwd0(update[0]);
                f == NIL || !(self.node(f).score == score && self.node(f).member.as_bytes() == member)
            },
            "skiplist: duplicate insert"
        );
        let height = self.random_level();
        let x = self.alloc(score, member, height);
        self.link(x, &mut update, &mut rank);
    }

    /// Removes `(score, member)`; false if it is not there.
    pub fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        self.path_before(score, member, &mut update, &mut rank);
        let x = self.fwd0(update[0]);
        if x == NIL || !(self.node(x).score == score && self.node(x).member.as_bytes() == member) {
            return false;
        }
        self.unlink(x, &update);
        self.release(x);
        self.reset_if_empty();
        true
    }

    /// Changes `member`'s score from `cur_score` to `new_score`: in place
    /// when its neighbours' scores still bracket the new one strictly (as
    /// zslUpdateScore), else the node is relinked (same slot, same height).
    /// The caller guarantees `(cur_score, member)` is present (debug-asserted;
    /// in release an absent one is a no-op) and `new_score` is not NaN.
    pub fn update_score(&mut self, cur_score: f64, member: &[u8], new_score: f64) {
        debug_assert!(!new_score.is_nan(), "skiplist: NaN score");
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        self.path_before(cur_score, member, &mut update, &mut rank);
        let x = self.fwd0(update[0]);
        if x == NIL || !(self.node(x).score == cur_score && self.node(x).member.as_bytes() == member) {
            debug_assert!(false, "skiplist: update_score of an absent element");
            return;
        }
        let (b, f) = (self.node(x).backward, self.fwd0(x));
        if (b == NIL || self.node(b).score < new_score) && (f == NIL || self.node(f).score > new_score) {
            self.nodes[x as usize].score = new_score;
            return;
        }
        self.unlink(x, &update);
        self.nodes[x as usize].score = new_score;
        self.path_before(new_score, member, &mut update, &mut rank);
        self.link(x, &mut update, &mut rank);
    }

    /// Unlinks and frees the run of nodes starting after `update[0]` while
    /// `keep_going(node, index_in_run)` holds; returns how many.
    fn delete_run(
        &mut self,
        update: &Path,
        mut keep_going: impl FnMut(&Node, usize) -> bool,
        on_delete: &mut impl FnMut(&[u8]),
    ) -> usize {
        let mut removed = 0;
        let mut x = self.fwd0(update[0]);
        while x != NIL && keep_going(self.node(x), removed) {
            let next = self.fwd0(x);
            self.unlink(x, update);
            let member = self.release(x);
            on_delete(member.as_bytes());
            removed += 1;
            x = next;
        }
        self.reset_if_empty();
        removed
    }

    /// Removes every element whose score is in `range`, passing each
    /// member to `on_delete`; returns how many.
    pub fn delete_range_by_score(&mut self, range: &ScoreRange, mut on_delete: impl FnMut(&[u8])) -> usize {
        if range.is_empty_range() {
            return 0;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        self.descend(|n| !range.gte_min(n.score), &mut update, &mut rank);
        self.delete_run(&update, |n, _| range.lte_max(n.score), &mut on_delete)
    }

    /// Removes every element whose member is in `range` (all scores assumed
    /// equal), passing each member to `on_delete`; returns how many.
    pub fn delete_range_by_lex(&mut self, range: &LexRange, mut on_delete: impl FnMut(&[u8])) -> usize {
        if range.is_empty_range() {
            return 0;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        self.descend(|n| !range.gte_min(n.member.as_bytes()), &mut update, &mut rank);
        self.delete_run(&update, |n, _| range.lte_max(n.member.as_bytes()), &mut on_delete)
    }

    /// Removes the elements of 0-based ranks `start..=end` (clamped to the
    /// list), passing each member to `on_delete`; returns how many.
    pub fn delete_range_by_rank(&mut self, start: usize, end: usize, mut on_delete: impl FnMut(&[u8])) -> usize {
        if self.len == 0 || start > end || start >= self.len {
            return 0;
        }
        let count = end.min(self.len - 1) - start + 1;
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        // Advance over nodes of 1-based rank <= start.
        let mut traversed = 0usize;
        let mut x = HEADER;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lvl(x, i);
                if l.forward != NIL && traversed + l.span as usize <= start {
                    traversed += l.span as usize;
                    x = l.forward;
                } else {
                    break;
                }
            }
            update[i] = x;
            rank[i] = traversed as u32;
        }
        self.delete_run(&update, |_, k| k < count, &mut on_delete)
    }

    /// Rebuilds the arena without free slots (O(n)); `NodeRef`s are
    /// invalidated. Deleting never shrinks the arena except when the list
    /// empties; call this when `free_slots()` is large.
    pub fn shrink_to_fit(&mut self) {
        if self.free_len > 0 {
            let mut map = vec![NIL; self.nodes.len()];
            let mut next = 0u32;
            for (i, n) in self.nodes.iter().enumerate() {
                if i == 0 || !n.levels.is_empty() {
                    map[i] = next;
                    next += 1;
                }
            }
            let mut i = 0;
            self.nodes.retain(|n| {
                let keep = i == 0 || !n.levels.is_empty();
                i += 1;
                keep
            });
            let remap = |x: u32| if x == NIL { NIL } else { map[x as usize] };
            for n in self.nodes.iter_mut() {
                n.backward = remap(n.backward);
                for l in n.levels.iter_mut() {
                    l.forward = remap(l.forward);
                }
            }
            self.tail = remap(self.tail);
            self.free = NIL;
            self.free_len = 0;
        }
        self.nodes.shrink_to_fit();
    }

    // ---- queries ---------------------------------------------------------

    /// 0-based rank of `(score, member)`, if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        let x = self.descend(
            |n| n.score < score || (n.score == score && n.member.as_bytes() <= member),
            &mut update,
            &mut rank,
        );
        if x != HEADER && self.node(x).score == score && self.node(x).member.as_bytes() == member {
            Some(rank[0] as usize - 1)
        } else {
            None
        }
    }

    /// The element at 0-based `rank`.
    pub fn first_at_rank(&self, rank: usize) -> Option<NodeRef> {
        if rank >= self.len {
            return None;
        }
        let target = rank + 1;
        let mut traversed = 0usize;
        let mut x = HEADER;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lvl(x, i);
                if l.forward != NIL && traversed + l.span as usize <= target {
                    traversed += l.span as usize;
                    x = l.forward;
                } else {
                    break;
                }
            }
            if traversed == target {
                return Self::node_ref(x);
            }
        }
        None
    }

    pub fn by_rank(&self, rank: usize) -> Option<(f64, &[u8])> {
        self.first_at_rank(rank).map(|r| self.get(r))
    }

    pub fn first(&self) -> Option<NodeRef> {
        Self::node_ref(self.fwd0(HEADER))
    }

    pub fn last(&self) -> Option<NodeRef> {
        Self::node_ref(self.tail)
    }

    pub fn next(&self, r: NodeRef) -> Option<NodeRef> {
        let n = self.nodes.get(r.0 as usize)?;
        Self::node_ref(n.levels.first()?.forward)
    }

    pub fn prev(&self, r: NodeRef) -> Option<NodeRef> {
        let n = self.nodes.get(r.0 as usize)?;
        if n.levels.is_empty() {
            return None;
        }
        Self::node_ref(n.backward)
    }

    /// The score and member at `r` (`(0.0, b"")` for a stale reference).
    pub fn get(&self, r: NodeRef) -> (f64, &[u8]) {
        match self.nodes.get(r.0 as usize) {
            Some(n) => (n.score, n.member.as_bytes()),
            None => (0.0, b""),
        }
    }

    /// 0-based rank of the node at `r` (O(log n)).
    pub fn rank_of(&self, r: NodeRef) -> Option<usize> {
        let (score, member) = self.get(r);
        self.rank(score, member)
    }

    /// First element with the lowest score in `range`.
    pub fn first_in_score_range(&self, range: &ScoreRange) -> Option<NodeRef> {
        if range.is_empty_range() || self.tail == NIL || !range.gte_min(self.node(self.tail).score) {
            return None;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        let x = self.fwd0(self.descend(|n| !range.gte_min(n.score), &mut update, &mut rank));
        Self::node_ref(x).filter(|&r| range.lte_max(self.get(r).0))
    }

    /// Last element with the highest score in `range`.
    pub fn last_in_score_range(&self, range: &ScoreRange) -> Option<NodeRef> {
        let first = self.fwd0(HEADER);
        if range.is_empty_range() || first == NIL || !range.lte_max(self.node(first).score) {
            return None;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        let x = self.descend(|n| range.lte_max(n.score), &mut update, &mut rank);
        Self::node_ref(x).filter(|&r| range.gte_min(self.get(r).0))
    }

    /// First element whose member is in `range` (all scores assumed equal).
    pub fn first_in_lex_range(&self, range: &LexRange) -> Option<NodeRef> {
        if range.is_empty_range() || self.tail == NIL || !range.gte_min(self.node(self.tail).member.as_bytes()) {
            return None;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        let x = self.fwd0(self.descend(|n| !range.gte_min(n.member.as_bytes()), &mut update, &mut rank));
        Self::node_ref(x).filter(|&r| range.lte_max(self.get(r).1))
    }

    /// Last element whose member is in `range` (all scores assumed equal).
    pub fn last_in_lex_range(&self, range: &LexRange) -> Option<NodeRef> {
        let first = self.fwd0(HEADER);
        if range.is_empty_range() || first == NIL || !range.lte_max(self.node(first).member.as_bytes()) {
            return None;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        let x = self.descend(|n| range.lte_max(n.member.as_bytes()), &mut update, &mut rank);
        Self::node_ref(x).filter(|&r| range.gte_min(self.get(r).1))
    }

    /// Elements whose score is in `range` (O(log n), ZCOUNT).
    pub fn count_in_score_range(&self, range: &ScoreRange) -> usize {
        if range.is_empty_range() {
            return 0;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        self.descend(|n| !range.gte_min(n.score), &mut update, &mut rank);
        let before = rank[0] as usize;
        self.descend(|n| range.lte_max(n.score), &mut update, &mut rank);
        (rank[0] as usize).saturating_sub(before)
    }

    /// Elements whose member is in `range`, scores assumed equal (O(log n),
    /// ZLEXCOUNT).
    pub fn count_in_lex_range(&self, range: &LexRange) -> usize {
        if range.is_empty_range() {
            return 0;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        self.descend(|n| !range.gte_min(n.member.as_bytes()), &mut update, &mut rank);
        let before = rank[0] as usize;
        self.descend(|n| range.lte_max(n.member.as_bytes()), &mut update, &mut rank);
        (rank[0] as usize).saturating_sub(before)
    }

    /// Elements in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { list: self, cur: self.fwd0(HEADER), left: self.len, rev: false }
    }

    /// Elements in reverse order.
    pub fn iter_rev(&self) -> Iter<'_> {
        Iter { list: self, cur: self.tail, left: self.len, rev: true }
    }
}

/// In-order (or reverse) iterator over `(score, member)`.
pub struct Iter<'a> {
    list: &'a SkipList,
    cur: u32,
    left: usize,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (f64, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.cur == NIL || self.left == 0 {
            return None;
        }
        let n = self.list.node(self.cur);
        self.cur = if self.rev { n.backward } else { n.levels[0].forward };
        self.left -= 1;
        Some((n.score, n.member.as_bytes()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl std::fmt::Debug for SkipList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(|(s, m)| (s, String::from_utf8_lossy(m)))).finish()
    }
}
