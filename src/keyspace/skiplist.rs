//! `SkipList`: the ordered index of a large sorted set, Redis's zskiplist.
//!
//! Elements are `(score, member)` pairs ordered by score, then by member
//! bytes (memcmp order, a prefix before its extensions). Every forward link
//! carries a span (how many level-0 steps it jumps), so rank queries and
//! rank-addressed lookups are O(log n).
//!
//! Nodes live in an arena (`Vec<Node>` addressed by `u32`; slot 0 is the
//! header) and freed slots are chained into a free list and reused. A
//! node's level 0 is `base[node]`; its levels above, if any, are one run
//! of exactly that many links in `upper` (runs freed are reused by nodes of
//! the same height). Every link carries its target's score, and an upper
//! link the start of its target's run, so a walk reads only links: one
//! memory access per step, as with Redis's levels stored inside the node,
//! and no node is loaded unless scores tie. Node heights come from
//! an internal xorshift seeded at construction (p = 1/4, at most 32), so a
//! given seed and operation sequence always builds the same shape.
//!
//! Invariants: level 0 links every element in order and `backward` links
//! them in reverse (the first element's `backward` is `NIL`); at level `i`,
//! a link's span is the number of level-0 steps to its target, and a link
//! with no target spans the elements after its node (so the header's spans
//! along any level `< level` sum to `len`); `level` is 1 or the height of
//! the tallest element; a link's `score` (and an upper link's `links`) are
//! its target's; free slots have height 0 and an empty member.
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

/// A link at any level, as the walks see it; stored as is above level 0.
#[derive(Clone, Copy, Debug)]
struct Level {
    forward: u32,
    /// Where `forward`'s upper run starts (`NIL` for a level-0 link).
    links: u32,
    span: u32,
    /// `forward`'s score.
    score: f64,
}

/// A level-0 link: every node has one, so it is kept small.
#[derive(Clone, Copy, Debug)]
struct Base {
    forward: u32,
    span: u32,
    score: f64,
}

const EMPTY_LEVEL: Level = Level { forward: NIL, links: NIL, span: 0, score: 0.0 };
const EMPTY_BASE: Base = Base { forward: NIL, span: 0, score: 0.0 };

#[derive(Clone)]
struct Node {
    member: CBytes,
    score: f64,
    /// Previous element, `NIL` for the first; in a free slot, the next free slot.
    backward: u32,
    /// Start of the node's levels above 0 in `upper` (`NIL` for a node of
    /// height 1).
    up: u32,
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
    /// Redis reads `-` and `+` as C strings, so a NUL may follow them.
    pub fn parse(b: &[u8]) -> Option<LexBound> {
        match b {
            [b'-'] | [b'-', 0, ..] => Some(LexBound::NegInf),
            [b'+'] | [b'+', 0, ..] => Some(LexBound::PosInf),
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

#[derive(Clone)]
pub struct SkipList {
    nodes: Vec<Node>,
    /// Each node's level-0 link, by node index.
    base: Vec<Base>,
    /// Each node's height, by node index; 0 for a free slot.
    heights: Vec<u8>,
    /// Every node's levels above 0, the header's first (`0..MAX_LEVEL - 1`).
    upper: Vec<Level>,
    /// Per length, the first free run of `upper` that long, chained through
    /// the run's first `forward`.
    free_runs: [u32; MAX_LEVEL],
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

/// A walk by rank: steps over link `l` when that does not pass 1-based rank
/// `target`, counting the steps in `traversed`.
#[inline]
fn step_to(traversed: &mut usize, l: &Level, target: usize) -> bool {
    let next = *traversed + l.span as usize;
    let ok = next <= target;
    if ok {
        *traversed = next;
    }
    ok
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SkipList {
    pub fn new(seed: u64) -> Self {
        let header = Node { member: CBytes::new(b""), score: 0.0, backward: NIL, up: 0 };
        let rng = match splitmix64(seed) {
            0 => 0x2545_F491_4F6C_DD1D,
            r => r,
        };
        SkipList {
            nodes: vec![header],
            base: vec![EMPTY_BASE],
            heights: vec![MAX_LEVEL as u8],
            upper: vec![EMPTY_LEVEL; MAX_LEVEL - 1],
            free_runs: [NIL; MAX_LEVEL],
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

    /// Approximate heap bytes: the arenas (capacity, free slots included)
    /// and long members.
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.base.capacity() * std::mem::size_of::<Base>()
            + self.heights.capacity()
            + self.upper.capacity() * std::mem::size_of::<Level>()
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
    fn height(&self, x: u32) -> usize {
        self.heights[x as usize] as usize
    }

    /// Link `i` of node `x` (`i` below its height).
    #[inline]
    fn lvl(&self, x: u32, i: usize) -> Level {
        if i == 0 {
            let b = self.base[x as usize];
            Level { forward: b.forward, links: NIL, span: b.span, score: b.score }
        } else {
            self.upper[self.nodes[x as usize].up as usize + i - 1]
        }
    }

    /// Sets link `i` of node `x` (a level-0 link keeps no `links`).
    #[inline]
    fn set_lvl(&mut self, x: u32, i: usize, l: Level) {
        if i == 0 {
            self.base[x as usize] = Base { forward: l.forward, span: l.span, score: l.score };
        } else {
            let at = self.nodes[x as usize].up as usize + i - 1;
            self.upper[at] = l;
        }
    }

    /// Changes the span of link `i` of node `x`.
    #[inline]
    fn set_span(&mut self, x: u32, i: usize, span: u32) {
        let l = self.lvl(x, i);
        self.set_lvl(x, i, Level { span, ..l });
    }

    #[inline]
    fn fwd0(&self, x: u32) -> u32 {
        self.base[x as usize].forward
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
    /// link satisfies `pred` (which must hold for a prefix of the order; it
    /// sees the link's target index, score and span, and loads the target
    /// only when those do not decide).
    /// Fills `update[i]` with the last node reached at level `i` and
    /// `rank[i]` with its 1-based rank (0 for the header); returns the last
    /// node reached overall.
    fn descend(&self, mut pred: impl FnMut(&Level) -> bool, update: &mut Path, rank: &mut Path) -> u32 {
        // The header's upper run starts at 0; `xu` is the current node's.
        let (mut x, mut xu) = (HEADER, 0usize);
        let mut r = 0u32;
        for i in (0..self.level).rev() {
            loop {
                let l = if i == 0 {
                    let b = self.base[x as usize];
                    Level { forward: b.forward, links: NIL, span: b.span, score: b.score }
                } else {
                    self.upper[xu + i - 1]
                };
                if l.forward != NIL && pred(&l) {
                    r = r.wrapping_add(l.span);
                    (x, xu) = (l.forward, l.links as usize);
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
            |l| l.score < score || (l.score == score && self.node(l.forward).member.as_bytes() < member),
            update,
            rank,
        )
    }

    /// A run of `len` (> 0) empty links in `upper`, a freed one if any.
    fn alloc_run(&mut self, len: usize) -> u32 {
        let head = self.free_runs[len];
        if head != NIL {
            self.free_runs[len] = self.upper[head as usize].forward;
            self.upper[head as usize..][..len].fill(EMPTY_LEVEL);
            return head;
        }
        let at = u32::try_from(self.upper.len()).ok().filter(|&i| i != NIL).expect("skiplist: too many levels");
        self.upper.resize(self.upper.len() + len, EMPTY_LEVEL);
        at
    }

    fn alloc(&mut self, score: f64, member: &[u8], height: usize) -> u32 {
        let up = if height > 1 { self.alloc_run(height - 1) } else { NIL };
        let node = Node { member: CBytes::new(member), score, backward: NIL, up };
        self.level_slots += height;
        self.member_heap += node.member.heap_size();
        if self.free != NIL {
            let idx = self.free;
            self.free = self.node(idx).backward;
            self.free_len -= 1;
            self.nodes[idx as usize] = node;
            self.base[idx as usize] = EMPTY_BASE;
            self.heights[idx as usize] = height as u8;
            idx
        } else {
            let idx = u32::try_from(self.nodes.len()).ok().filter(|&i| i != NIL).expect("skiplist: too many elements");
            self.nodes.push(node);
            self.base.push(EMPTY_BASE);
            self.heights.push(height as u8);
            idx
        }
    }

    /// Frees an unlinked node's slot, returning its member.
    fn release(&mut self, x: u32) -> CBytes {
        let free = self.free;
        let n = &mut self.nodes[x as usize];
        let member = std::mem::replace(&mut n.member, CBytes::new(b""));
        let run = std::mem::replace(&mut n.up, NIL) as usize;
        n.backward = free;
        let height = std::mem::replace(&mut self.heights[x as usize], 0) as usize;
        self.free = x;
        self.free_len += 1;
        if height > 1 {
            self.upper[run].forward = self.free_runs[height - 1];
            self.free_runs[height - 1] = run as u32;
        }
        self.level_slots -= height;
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
            self.base.truncate(1);
            self.base.shrink_to_fit();
            self.base[0] = EMPTY_BASE;
            self.heights.truncate(1);
            self.heights.shrink_to_fit();
            self.upper.truncate(MAX_LEVEL - 1);
            self.upper.shrink_to_fit();
            self.upper.fill(EMPTY_LEVEL);
            self.free_runs = [NIL; MAX_LEVEL];
        }
    }

    /// Links node `x` (its score, member and height set) after `update`,
    /// whose ranks are `rank` (as filled by `path_before`).
    fn link(&mut self, x: u32, update: &mut Path, rank: &mut Path) {
        let height = self.height(x);
        if height > self.level {
            let len = self.len as u32;
            for i in self.level..height {
                rank[i] = 0;
                update[i] = HEADER;
                self.set_span(HEADER, i, len);
            }
            self.level = height;
        }
        let (score, links) = (self.node(x).score, self.node(x).up);
        for i in 0..height {
            let u = update[i];
            let ul = self.lvl(u, i);
            let d = rank[0] - rank[i];
            self.set_lvl(x, i, Level { span: ul.span - d, ..ul });
            self.set_lvl(u, i, Level { forward: x, links, span: d + 1, score });
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(height) {
            let span = self.lvl(u, i).span + 1;
            self.set_span(u, i, span);
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
                self.set_lvl(u, i, Level { span: ul.span + xl.span - 1, ..xl });
            } else {
                self.set_span(u, i, ul.span - 1);
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
            // The path before x links to it on each of its levels.
            for (i, &u) in update.iter().enumerate().take(self.height(x)) {
                let l = self.lvl(u, i);
                self.set_lvl(u, i, Level { score: new_score, ..l });
            }
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
        self.descend(|l| !range.gte_min(l.score), &mut update, &mut rank);
        self.delete_run(&update, |n, _| range.lte_max(n.score), &mut on_delete)
    }

    /// Removes every element whose member is in `range` (all scores assumed
    /// equal), passing each member to `on_delete`; returns how many.
    pub fn delete_range_by_lex(&mut self, range: &LexRange, mut on_delete: impl FnMut(&[u8])) -> usize {
        if range.is_empty_range() {
            return 0;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        self.descend(|l| !range.gte_min(self.node(l.forward).member.as_bytes()), &mut update, &mut rank);
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
        self.descend(|l| step_to(&mut traversed, l, start), &mut update, &mut rank);
        self.delete_run(&update, |_, k| k < count, &mut on_delete)
    }

    /// Rebuilds the arena without free slots (O(n)); `NodeRef`s are
    /// invalidated. Deleting never shrinks the arena except when the list
    /// empties; call this when `free_slots()` is large.
    pub fn shrink_to_fit(&mut self) {
        if self.free_len > 0 {
            let keep: Vec<bool> = self.heights.iter().enumerate().map(|(i, &h)| i == 0 || h > 0).collect();
            let mut map = vec![NIL; self.nodes.len()];
            let mut next = 0u32;
            for (i, _) in keep.iter().enumerate().filter(|(_, &k)| k) {
                map[i] = next;
                next += 1;
            }
            let mut it = keep.iter();
            self.nodes.retain(|_| *it.next().unwrap_or(&false));
            let mut it = keep.iter();
            self.base.retain(|_| *it.next().unwrap_or(&false));
            let mut it = keep.iter();
            self.heights.retain(|_| *it.next().unwrap_or(&false));
            let remap = |x: u32| if x == NIL { NIL } else { map[x as usize] };
            for n in self.nodes.iter_mut() {
                n.backward = remap(n.backward);
            }
            for b in self.base.iter_mut() {
                b.forward = remap(b.forward);
            }
            self.tail = remap(self.tail);
            self.free = NIL;
            self.free_len = 0;
            // Rebuild the upper runs in node order, without free ones.
            let mut starts = vec![NIL; self.upper.len()];
            let mut upper = Vec::with_capacity(self.level_slots + MAX_LEVEL - 1 - self.len);
            for (n, &h) in self.nodes.iter_mut().zip(&self.heights) {
                if h > 1 {
                    let run = &self.upper[n.up as usize..][..h as usize - 1];
                    starts[n.up as usize] = upper.len() as u32;
                    n.up = upper.len() as u32;
                    upper.extend_from_slice(run);
                }
            }
            for l in upper.iter_mut() {
                if l.forward != NIL {
                    l.forward = remap(l.forward);
                    l.links = starts[l.links as usize];
                }
            }
            self.upper = upper;
            self.free_runs = [NIL; MAX_LEVEL];
        }
        self.nodes.shrink_to_fit();
        self.base.shrink_to_fit();
        self.heights.shrink_to_fit();
        self.upper.shrink_to_fit();
    }

    // ---- queries ---------------------------------------------------------

    /// 0-based rank of `(score, member)`, if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        let x = self.descend(
            |l| l.score < score || (l.score == score && self.node(l.forward).member.as_bytes() <= member),
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
        let (mut update, mut ranks) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        let x = self.descend(|l| step_to(&mut traversed, l, target), &mut update, &mut ranks);
        if traversed == target {
            Self::node_ref(x)
        } else {
            None
        }
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
        if *self.heights.get(r.0 as usize)? == 0 {
            return None;
        }
        Self::node_ref(self.fwd0(r.0))
    }

    pub fn prev(&self, r: NodeRef) -> Option<NodeRef> {
        if *self.heights.get(r.0 as usize)? == 0 {
            return None;
        }
        Self::node_ref(self.node(r.0).backward)
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
        let x = self.fwd0(self.descend(|l| !range.gte_min(l.score), &mut update, &mut rank));
        Self::node_ref(x).filter(|&r| range.lte_max(self.get(r).0))
    }

    /// Last element with the highest score in `range`.
    pub fn last_in_score_range(&self, range: &ScoreRange) -> Option<NodeRef> {
        let first = self.fwd0(HEADER);
        if range.is_empty_range() || first == NIL || !range.lte_max(self.node(first).score) {
            return None;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        let x = self.descend(|l| range.lte_max(l.score), &mut update, &mut rank);
        Self::node_ref(x).filter(|&r| range.gte_min(self.get(r).0))
    }

    /// First element whose member is in `range` (all scores assumed equal).
    pub fn first_in_lex_range(&self, range: &LexRange) -> Option<NodeRef> {
        if range.is_empty_range() || self.tail == NIL || !range.gte_min(self.node(self.tail).member.as_bytes()) {
            return None;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        let x =
            self.fwd0(self.descend(|l| !range.gte_min(self.node(l.forward).member.as_bytes()), &mut update, &mut rank));
        Self::node_ref(x).filter(|&r| range.lte_max(self.get(r).1))
    }

    /// Last element whose member is in `range` (all scores assumed equal).
    pub fn last_in_lex_range(&self, range: &LexRange) -> Option<NodeRef> {
        let first = self.fwd0(HEADER);
        if range.is_empty_range() || first == NIL || !range.lte_max(self.node(first).member.as_bytes()) {
            return None;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        let x = self.descend(|l| range.lte_max(self.node(l.forward).member.as_bytes()), &mut update, &mut rank);
        Self::node_ref(x).filter(|&r| range.gte_min(self.get(r).1))
    }

    /// Elements whose score is in `range` (O(log n), ZCOUNT).
    pub fn count_in_score_range(&self, range: &ScoreRange) -> usize {
        if range.is_empty_range() {
            return 0;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        self.descend(|l| !range.gte_min(l.score), &mut update, &mut rank);
        let before = rank[0] as usize;
        self.descend(|l| range.lte_max(l.score), &mut update, &mut rank);
        (rank[0] as usize).saturating_sub(before)
    }

    /// Elements whose member is in `range`, scores assumed equal (O(log n),
    /// ZLEXCOUNT).
    pub fn count_in_lex_range(&self, range: &LexRange) -> usize {
        if range.is_empty_range() {
            return 0;
        }
        let (mut update, mut rank) = ([HEADER; MAX_LEVEL], [0u32; MAX_LEVEL]);
        self.descend(|l| !range.gte_min(self.node(l.forward).member.as_bytes()), &mut update, &mut rank);
        let before = rank[0] as usize;
        self.descend(|l| range.lte_max(self.node(l.forward).member.as_bytes()), &mut update, &mut rank);
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
        self.cur = if self.rev { n.backward } else { self.list.fwd0(self.cur) };
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(1);
            splitmix64(self.0)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn chance(&mut self, pct: u64) -> bool {
            self.next() % 100 < pct
        }
    }

    type Model = Vec<(f64, Vec<u8>)>;

    fn cmp(e: &(f64, Vec<u8>), s: f64, m: &[u8]) -> Ordering {
        e.0.partial_cmp(&s).unwrap().then_with(|| e.1.as_slice().cmp(m))
    }

    fn model_insert(model: &mut Model, s: f64, m: &[u8]) {
        let pos = model.partition_point(|e| cmp(e, s, m) == Ordering::Less);
        model.insert(pos, (s, m.to_vec()));
    }

    fn model_find(model: &Model, m: &[u8]) -> Option<usize> {
        model.iter().position(|e| e.1 == m)
    }

    const SCORES: [f64; 14] =
        [f64::NEG_INFINITY, -1e300, -2.5, -1.0, -0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 3.0, 7.25, 1e300, f64::INFINITY];

    fn rand_score(r: &mut Rng) -> f64 {
        if r.chance(70) {
            SCORES[r.below(SCORES.len())]
        } else {
            (r.below(21) as f64 - 10.0) / 2.0
        }
    }

    /// A pool of members: empty, prefixes of each other, bytes 0 and 255,
    /// and long (heap) ones.
    fn member_pool(n: usize) -> Vec<Vec<u8>> {
        let mut r = Rng(99);
        let mut pool: Vec<Vec<u8>> = vec![vec![], vec![0], vec![0, 0], vec![255], b"a".to_vec(), b"ab".to_vec()];
        while pool.len() < n {
            let len = match r.below(10) {
                0 => 23 + r.below(40),
                1..=3 => r.below(3),
                _ => 1 + r.below(8),
            };
            let alphabet: &[u8] = if r.chance(80) { b"abc" } else { &[0, 1, 127, 128, 255] };
            let m: Vec<u8> = (0..len).map(|_| alphabet[r.below(alphabet.len())]).collect();
            if !pool.contains(&m) {
                pool.push(m);
            }
        }
        pool
    }

    fn rand_score_range(r: &mut Rng) -> ScoreRange {
        let (a, b) = (rand_score(r), rand_score(r));
        let (min, max) = if r.chance(85) { (a.min(b), a.max(b)) } else { (a, b) };
        ScoreRange { min, max, minex: r.chance(30), maxex: r.chance(30) }
    }

    fn rand_lex_bound(r: &mut Rng, pool: &[Vec<u8>]) -> LexBound {
        let m = if r.chance(70) {
            pool[r.below(pool.len())].clone()
        } else {
            (0..r.below(3)).map(|_| b"abc"[r.below(3)]).collect()
        };
        match r.below(10) {
            0 => LexBound::NegInf,
            1 => LexBound::PosInf,
            2..=5 => LexBound::Incl(m),
            _ => LexBound::Excl(m),
        }
    }

    fn rand_lex_range(r: &mut Rng, pool: &[Vec<u8>]) -> LexRange {
        LexRange { min: rand_lex_bound(r, pool), max: rand_lex_bound(r, pool) }
    }

    /// Structural invariants, checked against the raw arena.
    fn check_structure(sl: &SkipList) {
        let n = sl.nodes.len();
        let mut pos = vec![usize::MAX; n];
        pos[0] = 0;
        let mut x = sl.fwd0(HEADER);
        let mut prev = NIL;
        let (mut k, mut slots, mut upper, mut heap) = (0, 0, 0, 0);
        assert_eq!((sl.nodes.len(), sl.heights.len()), (sl.base.len(), sl.nodes.len()));
        while x != NIL {
            k += 1;
            assert!(k <= sl.len, "level 0 longer than len");
            pos[x as usize] = k;
            let node = sl.node(x);
            let height = sl.height(x);
            assert!(height >= 1 && height <= MAX_LEVEL);
            assert_eq!(node.up == NIL, height == 1);
            for i in 0..height {
                let l = sl.lvl(x, i);
                if l.forward != NIL {
                    assert_eq!(l.score.to_bits(), sl.node(l.forward).score.to_bits(), "cached score");
                    if i > 0 {
                        assert_eq!(l.links, sl.node(l.forward).up, "cached run");
                    }
                }
            }
            assert_eq!(node.backward, prev, "backward link");
            slots += height;
            upper += height - 1;
            heap += node.member.heap_size();
            prev = x;
            x = sl.fwd0(x);
        }
        assert_eq!(k, sl.len, "level 0 length");
        assert_eq!(sl.tail, prev, "tail");
        assert_eq!(slots, sl.level_slots);
        assert_eq!(heap, sl.member_heap);
        assert!(sl.level >= 1 && sl.level <= MAX_LEVEL);
        for i in 0..sl.level {
            let (mut x, mut sum) = (HEADER, 0usize);
            loop {
                let l = sl.lvl(x, i);
                if l.forward == NIL {
                    assert_eq!(l.span as usize, sl.len - pos[x as usize], "span to end, level {i}");
                    sum += l.span as usize;
                    break;
                }
                assert!(sl.height(l.forward) > i);
                assert_eq!(l.span as usize, pos[l.forward as usize] - pos[x as usize], "span, level {i}");
                sum += l.span as usize;
                x = l.forward;
            }
            assert_eq!(sum, sl.len, "sum of spans, level {i}");
        }
        for i in sl.level..MAX_LEVEL {
            assert_eq!(sl.lvl(HEADER, i).forward, NIL);
        }
        if sl.level > 1 {
            assert_ne!(sl.lvl(HEADER, sl.level - 1).forward, NIL, "level not minimal");
        }
        let (mut f, mut frees) = (sl.free, 0);
        while f != NIL {
            frees += 1;
            assert!(frees <= sl.free_len);
            assert!(sl.height(f) == 0 && sl.node(f).member.is_empty());
            assert_eq!(pos[f as usize], usize::MAX, "free slot is linked");
            f = sl.node(f).backward;
        }
        assert_eq!(frees, sl.free_len);
        assert_eq!(1 + sl.len + sl.free_len, n, "arena accounting");
        let mut free_links = 0;
        for (len, &head) in sl.free_runs.iter().enumerate() {
            let mut run = head;
            while run != NIL {
                free_links += len;
                run = sl.upper[run as usize].forward;
            }
        }
        assert_eq!(MAX_LEVEL - 1 + upper + free_links, sl.upper.len(), "upper accounting");
    }

    fn same(a: (f64, &[u8]), b: &(f64, Vec<u8>)) -> bool {
        a.0.to_bits() == b.0.to_bits() && a.1 == b.1.as_slice()
    }

    fn check_all(sl: &SkipList, model: &Model, r: &mut Rng, pool: &[Vec<u8>], lex: bool) {
        check_structure(sl);
        assert_eq!(sl.len(), model.len());
        assert_eq!(sl.is_empty(), model.is_empty());
        let got: Vec<(f64, Vec<u8>)> = sl.iter().map(|(s, m)| (s, m.to_vec())).collect();
        assert_eq!(got.len(), model.len());
        for (g, e) in got.iter().zip(model) {
            assert!(same((g.0, &g.1), e), "order: got {g:?}, want {e:?}");
        }
        assert_eq!(sl.iter().len(), model.len());
        let rev: Vec<(f64, Vec<u8>)> = sl.iter_rev().map(|(s, m)| (s, m.to_vec())).collect();
        assert!(rev.iter().rev().zip(model).all(|(g, e)| same((g.0, &g.1), e)) && rev.len() == model.len());
        for (i, e) in model.iter().enumerate() {
            assert_eq!(sl.rank(e.0, &e.1), Some(i), "rank of {e:?}");
            assert!(same(sl.by_rank(i).unwrap(), e));
            let nr = sl.first_at_rank(i).unwrap();
            assert!(same(sl.get(nr), e));
            assert_eq!(sl.rank_of(nr), Some(i));
        }
        assert_eq!(sl.by_rank(model.len()), None);
        assert_eq!(sl.first_at_rank(usize::MAX), None);
        // Absent elements have no rank.
        for _ in 0..20 {
            let m = &pool[r.below(pool.len())];
            let s = rand_score(r);
            let present = model.iter().any(|e| e.0 == s && e.1 == *m);
            assert_eq!(sl.rank(s, m).is_some(), present);
        }
        // Walk both ways.
        let mut cur = sl.first();
        for e in model {
            let c = cur.expect("walk ended early");
            assert!(same(sl.get(c), e));
            cur = sl.next(c);
        }
        assert_eq!(cur, None);
        let mut cur = sl.last();
        for e in model.iter().rev() {
            let c = cur.expect("reverse walk ended early");
            assert!(same(sl.get(c), e));
            cur = sl.prev(c);
        }
        assert_eq!(cur, None);
        // Ranges.
        for _ in 0..30 {
            let rg = rand_score_range(r);
            let first = model.iter().position(|e| score_range_contains(&rg, e.0));
            let last = model.iter().rposition(|e| score_range_contains(&rg, e.0));
            let count = model.iter().filter(|e| rg.contains(e.0)).count();
            if rg.is_empty_range() {
                assert_eq!(count, 0);
            }
            match (sl.first_in_score_range(&rg), first) {
                (None, None) => {}
                (Some(n), Some(i)) => assert!(same(sl.get(n), &model[i])),
                (a, b) => panic!("first_in_score_range {rg:?}: {a:?} vs {b:?}"),
            }
            match (sl.last_in_score_range(&rg), last) {
                (None, None) => {}
                (Some(n), Some(i)) => assert!(same(sl.get(n), &model[i])),
                (a, b) => panic!("last_in_score_range {rg:?}: {a:?} vs {b:?}"),
            }
            assert_eq!(sl.count_in_score_range(&rg), count, "{rg:?}");
        }
        if lex {
            for _ in 0..30 {
                let rg = rand_lex_range(r, pool);
                let first = model.iter().position(|e| lex_range_contains(&rg, &e.1));
                let last = model.iter().rposition(|e| lex_range_contains(&rg, &e.1));
                let count = model.iter().filter(|e| rg.contains(&e.1)).count();
                if rg.is_empty_range() {
                    assert_eq!(count, 0);
                }
                match (sl.first_in_lex_range(&rg), first) {
                    (None, None) => {}
                    (Some(n), Some(i)) => assert!(same(sl.get(n), &model[i])),
                    (a, b) => panic!("first_in_lex_range {rg:?}: {a:?} vs {b:?}"),
                }
                match (sl.last_in_lex_range(&rg), last) {
                    (None, None) => {}
                    (Some(n), Some(i)) => assert!(same(sl.get(n), &model[i])),
                    (a, b) => panic!("last_in_lex_range {rg:?}: {a:?} vs {b:?}"),
                }
                assert_eq!(sl.count_in_lex_range(&rg), count, "{rg:?}");
            }
        }
    }

    /// Random operations against the model. With `lex`, every score is
    /// 0.0 or -0.0 (equal), and lex ranges are exercised too.
    fn run(seed: u64, pool_size: usize, ops: usize, check_every: usize, lex: bool) {
        let pool = member_pool(pool_size);
        let mut r = Rng(seed.wrapping_mul(0x1000_0001));
        let mut sl = SkipList::new(seed);
        let mut model: Model = Vec::new();
        let score = |r: &mut Rng| if lex { [0.0, -0.0][r.below(2)] } else { rand_score(r) };
        for op in 0..ops {
            let m = pool[r.below(pool.len())].clone();
            let found = model_find(&model, &m);
            match r.below(100) {
                0..=39 => match found {
                    None => {
                        let s = score(&mut r);
                        sl.insert(s, &m);
                        model_insert(&mut model, s, &m);
                    }
                    Some(i) => {
                        let (old, new) = (model[i].0, score(&mut r));
                        sl.update_score(old, &m, new);
                        model.remove(i);
                        model_insert(&mut model, new, &m);
                    }
                },
                40..=59 => match found {
                    None => assert!(!sl.delete(score(&mut r), &m)),
                    Some(i) => {
                        let s = model[i].0;
                        let wrong = score(&mut r);
                        if wrong != s {
                            assert!(!sl.delete(wrong, &m));
                        }
                        // -0.0 and 0.0 are the same score.
                        let s = if s == 0.0 && r.chance(50) { -s } else { s };
                        assert!(sl.delete(s, &m));
                        model.remove(i);
                    }
                },
                60..=84 => {
                    if !model.is_empty() {
                        let i = r.below(model.len());
                        let (old, m) = model.remove(i);
                        let new = if r.chance(30) {
                            // Small moves, often in place.
                            let d = [-0.25, 0.25, 0.0][r.below(3)];
                            if old.is_finite() && !lex {
                                old + d
                            } else {
                                old
                            }
                        } else {
                            score(&mut r)
                        };
                        sl.update_score(old, &m, new);
                        model_insert(&mut model, new, &m);
                    }
                }
                85..=90 => {
                    let mut got = Vec::new();
                    let n = if lex {
                        let rg = rand_lex_range(&mut r, &pool);
                        let n = sl.delete_range_by_lex(&rg, |m| got.push(m.to_vec()));
                        let want: Vec<Vec<u8>> =
                            model.iter().filter(|e| rg.contains(&e.1)).map(|e| e.1.clone()).collect();
                        assert_eq!(got, want, "{rg:?}");
                        model.retain(|e| !rg.contains(&e.1));
                        n
                    } else {
                        let rg = rand_score_range(&mut r);
                        let n = sl.delete_range_by_score(&rg, |m| got.push(m.to_vec()));
                        let want: Vec<Vec<u8>> =
                            model.iter().filter(|e| rg.contains(e.0)).map(|e| e.1.clone()).collect();
                        assert_eq!(got, want, "{rg:?}");
                        model.retain(|e| !rg.contains(e.0));
                        n
                    };
                    assert_eq!(n, got.len());
                }
                91..=95 => {
                    let len = model.len().max(1);
                    let start = if r.chance(10) { len + r.below(3) } else { r.below(len) };
                    let end = if r.chance(10) { usize::MAX } else { start.saturating_sub(2) + r.below(8) };
                    let mut got = Vec::new();
                    let n = sl.delete_range_by_rank(start, end, |m| got.push(m.to_vec()));
                    let hi = end.min(model.len().saturating_sub(1));
                    let want: Vec<Vec<u8>> = if start < model.len() && start <= end {
                        model.drain(start..=hi).map(|e| e.1).collect()
                    } else {
                        Vec::new()
                    };
                    assert_eq!(got, want, "rank range {start}..={end}");
                    assert_eq!(n, want.len());
                }
                96 => sl.shrink_to_fit(),
                _ => {
                    // Bulk insert a few absent members.
                    for _ in 0..10 {
                        let m = &pool[r.below(pool.len())];
                        if model_find(&model, m).is_none() {
                            let s = score(&mut r);
                            sl.insert(s, m);
                            model_insert(&mut model, s, m);
                        }
                    }
                }
            }
            if op % check_every == check_every - 1 {
                check_all(&sl, &model, &mut r, &pool, lex);
            }
        }
        check_all(&sl, &model, &mut r, &pool, lex);
    }

    #[test]
    fn random_ops_against_model() {
        for seed in 1..=6 {
            run(seed, 150, 6000, 50, false);
        }
    }

    #[test]
    fn random_ops_large_against_model() {
        for seed in 100..=102 {
            run(seed, 3000, 20000, 2500, false);
        }
    }

    #[test]
    fn random_lex_ops_against_model() {
        for seed in 200..=205 {
            run(seed, 200, 5000, 50, true);
        }
    }

    #[test]
    fn empty_list_and_ranges() {
        let mut sl = SkipList::new(0);
        assert!(sl.is_empty() && sl.first().is_none() && sl.last().is_none());
        assert_eq!(sl.by_rank(0), None);
        assert_eq!(sl.rank(1.0, b"a"), None);
        assert!(!sl.delete(1.0, b"a"));
        let all = ScoreRange { min: f64::NEG_INFINITY, max: f64::INFINITY, minex: false, maxex: false };
        assert_eq!(sl.first_in_score_range(&all), None);
        assert_eq!(sl.delete_range_by_score(&all, |_| {}), 0);
        assert_eq!(sl.delete_range_by_rank(0, usize::MAX, |_| {}), 0);
        let lex = LexRange { min: LexBound::NegInf, max: LexBound::PosInf };
        assert_eq!(sl.first_in_lex_range(&lex), None);
        assert_eq!(sl.delete_range_by_lex(&lex, |_| {}), 0);
        assert_eq!(sl.iter().count() + sl.iter_rev().count(), 0);
        check_structure(&sl);

        assert!(ScoreRange { min: 1.0, max: 1.0, minex: true, maxex: false }.is_empty_range());
        assert!(!ScoreRange { min: 1.0, max: 1.0, minex: false, maxex: false }.is_empty_range());
        assert!(ScoreRange { min: 2.0, max: 1.0, minex: false, maxex: false }.is_empty_range());
        assert!(!ScoreRange { min: -0.0, max: 0.0, minex: false, maxex: false }.is_empty_range());
        let l = |a: &[u8], b: &[u8]| LexRange { min: LexBound::parse(a).unwrap(), max: LexBound::parse(b).unwrap() };
        assert!(l(b"+", b"+").is_empty_range());
        assert!(l(b"-", b"-").is_empty_range());
        assert!(!l(b"-", b"+").is_empty_range());
        assert!(!l(b"[a", b"[a").is_empty_range());
        assert!(l(b"(a", b"[a").is_empty_range());
        assert!(l(b"[b", b"[a").is_empty_range());
        assert!(!l(b"[a", b"(ab").is_empty_range());
        assert!(l(b"[", b"+").contains(b"") && !l(b"(", b"+").contains(b""));
        assert_eq!(LexBound::parse(b"x"), None);
        assert_eq!(LexBound::parse(b""), None);
        assert_eq!(LexBound::parse(b"+\0x"), Some(LexBound::PosInf));
        assert_eq!(LexBound::parse(b"-x"), None);

        sl.insert(1.0, b"a");
        let r = sl.first().unwrap();
        assert_eq!(sl.get(r), (1.0, &b"a"[..]));
        assert!(sl.delete(1.0, b"a"));
        // Stale reference: no panic.
        let _ = (sl.get(r), sl.next(r), sl.prev(r));
        assert!(sl.heap_size() > 0);
    }

    #[test]
    fn zero_and_negative_zero_are_one_score() {
        let mut sl = SkipList::new(7);
        sl.insert(0.0, b"b");
        sl.insert(-0.0, b"a");
        sl.insert(-0.0, b"c");
        let v: Vec<&[u8]> = sl.iter().map(|e| e.1).collect();
        assert_eq!(v, [&b"a"[..], b"b", b"c"]);
        assert_eq!(sl.rank(0.0, b"a"), Some(0));
        sl.update_score(0.0, b"b", -0.0);
        assert_eq!(sl.by_rank(1).unwrap().0.to_bits(), (-0.0f64).to_bits());
        let rg = ScoreRange { min: 0.0, max: 0.0, minex: false, maxex: false };
        assert_eq!(sl.count_in_score_range(&rg), 3);
        assert!(sl.delete(0.0, b"c"));
        check_structure(&sl);
    }

    #[test]
    fn million_inserts_and_deletes_reuse_slots() {
        const N: usize = 1_000_000;
        let mut r = Rng(5);
        let mut sl = SkipList::new(42);
        let scores: Vec<f64> = (0..N).map(|_| r.below(1000) as f64).collect();
        for (i, &s) in scores.iter().enumerate() {
            sl.insert(s, &(i as u64).to_be_bytes());
        }
        assert_eq!(sl.len(), N);
        assert_eq!(sl.nodes.len(), N + 1);
        check_structure(&sl);
        let prev = sl.iter().next().unwrap();
        assert_eq!(sl.rank(prev.0, prev.1), Some(0));
        // Delete the even members, reinsert as many new ones: same arena.
        for i in (0..N).step_by(2) {
            assert!(sl.delete(scores[i], &(i as u64).to_be_bytes()));
        }
        assert_eq!(sl.len(), N / 2);
        assert_eq!(sl.free_slots(), N / 2);
        assert_eq!(sl.nodes.len(), N + 1);
        for i in (0..N).step_by(2) {
            sl.insert(scores[i] + 0.5, &((i + N) as u64).to_be_bytes());
        }
        assert_eq!(sl.len(), N);
        assert_eq!(sl.free_slots(), 0);
        assert_eq!(sl.nodes.len(), N + 1, "freed slots reused");
        check_structure(&sl);
        let mut last = f64::NEG_INFINITY;
        for (s, _) in sl.iter() {
            assert!(s >= last);
            last = s;
        }
        // Delete half again, compact, then delete everything.
        for i in (0..N).step_by(2) {
            assert!(sl.delete(scores[i] + 0.5, &((i + N) as u64).to_be_bytes()));
        }
        sl.shrink_to_fit();
        assert_eq!(sl.nodes.len(), N / 2 + 1);
        check_structure(&sl);
        assert_eq!(sl.by_rank(N / 2 - 1).map(|e| e.0), sl.last().map(|r| sl.get(r).0));
        for i in (1..N).step_by(2) {
            assert!(sl.delete(scores[i], &(i as u64).to_be_bytes()));
        }
        assert!(sl.is_empty());
        assert_eq!(sl.nodes.len(), 1);
        check_structure(&sl);
    }

    #[test]
    fn heights_are_reproducible_and_geometric() {
        let build = |seed| {
            let mut sl = SkipList::new(seed);
            for i in 0..10_000u32 {
                sl.insert(i as f64, b"m");
            }
            sl
        };
        let (a, b) = (build(3), build(3));
        let ha: Vec<usize> = a.heights.iter().map(|&h| h as usize).collect();
        let hb: Vec<usize> = b.heights.iter().map(|&h| h as usize).collect();
        assert_eq!(ha, hb);
        let ones = ha[1..].iter().filter(|&&h| h == 1).count();
        assert!((7000..8000).contains(&ones), "{ones} of 10000 at height 1");
        assert!(a.level > 3 && a.level < 16);
    }
}
