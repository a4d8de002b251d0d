//! Quicklist: a list as a sequence of listpack nodes, the one list encoding
//! of Redis 7.0. Node size follows `list-max-listpack-size` (the `fill`
//! argument): a negative fill caps a node's bytes (-1: 4 KB ... -5: 64 KB),
//! a positive one its element count (with an 8 KB safety cap).
//!
//! Invariant: no node is empty, and `len` is the sum of the nodes' counts.

use super::listpack::{Listpack, LpVal};
use std::collections::VecDeque;

/// Node byte caps for fill -1 to -5.
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// A node with a count cap never grows beyond this many bytes.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Per-element overhead assumed when estimating a node's growth.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;

#[derive(Clone, Debug)]
struct Node {
    lp: Listpack,
    count: u32,
}

impl Node {
    fn new() -> Self {
        Node { lp: Listpack::new(), count: 0 }
    }

    /// Whether an element of `sz` string bytes may join this node.
    fn allows(&self, sz: usize, fill: i32) -> bool {
        let new_sz = self.lp.bytes_len() + sz + SIZE_ESTIMATE_OVERHEAD;
        if fill < 0 {
            let level = (-(fill as i64) - 1) as usize;
            if level < SIZE_LEVELS.len() && new_sz <= SIZE_LEVELS[level] {
                return true;
            }
        }
        new_sz <= SIZE_SAFETY_LIMIT && (self.count as i64) < fill as i64
    }
}

#[derive(Clone, Debug, Default)]
pub struct Quicklist {
    nodes: VecDeque<Node>,
    len: usize,
}

impl PartialEq for Quicklist {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

/// Where an element is: node index and byte offset in its listpack.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pos {
    node: usize,
    off: usize,
}

impl Quicklist {
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of nodes (DEBUG and memory figures).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes' listpacks in order (snapshot writer).
    pub fn node_listpacks(&self) -> impl Iterator<Item = &Listpack> {
        self.nodes.iter().map(|n| &n.lp)
    }

    /// Appends a whole node read from a file (empty ones are skipped).
    pub fn push_node(&mut self, lp: Listpack) {
        let count = lp.len();
        if count > 0 {
            self.len += count;
            self.nodes.push_back(Node { lp, count: count as u32 });
        }
    }

    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>() + self.nodes.iter().map(|n| n.lp.bytes_len()).sum::<usize>()
    }

    pub fn push_back(&mut self, v: &[u8], fill: i32) {
        if !self.nodes.back().is_some_and(|n| n.allows(v.len(), fill)) {
            self.nodes.push_back(Node::new());
        }
        let n = self.nodes.back_mut().expect("a node");
        n.lp.push_back(LpVal::from_bytes(v));
        n.count += 1;
        self.len += 1;
    }

    pub fn push_front(&mut self, v: &[u8], fill: i32) {
        if !self.nodes.front().is_some_and(|n| n.allows(v.len(), fill)) {
            self.nodes.push_front(Node::new());
        }
        let n = self.nodes.front_mut().expect("a node");
        n.lp.push_front(LpVal::from_bytes(v));
        n.count += 1;
        self.len += 1;
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.front_mut()?;
        let off = n.lp.first()?;
        let v = n.lp.get(off).to_bytes().into_owned();
        self.delete_at(Pos { node: 0, off });
        Some(v)
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let last = self.nodes.len().checked_sub(1)?;
        let off = self.nodes[last].lp.last()?;
        let v = self.nodes[last].lp.get(off).to_bytes().into_owned();
        self.delete_at(Pos { node: last, off });
        Some(v)
    }

    /// Position of element `index` (negative counts from the end).
    pub fn pos(&self, index: i64) -> Option<Pos> {
        let len = self.len as i64;
        let i = if index < 0 { len + index } else { index };
        if i < 0 || i >= len {
            return None;
        }
        if i <= len / 2 {
            let mut i = i as usize;
            for (ni, n) in self.nodes.iter().enumerate() {
                if i < n.count as usize {
                    return Some(Pos { node: ni, off: n.lp.seek(i as i64)? });
                }
                i -= n.count as usize;
            }
        } else {
            let mut back = (len - 1 - i) as usize;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if back < n.count as usize {
                    return Some(Pos { node: ni, off: n.lp.seek(-(back as i64) - 1)? });
                }
                back -= n.count as usize;
            }
        }
        None
    }

    #[inline]
    pub fn get_at(&self, p: Pos) -> LpVal<'_> {
        self.nodes[p.node].lp.get(p.off)
    }

    pub fn get(&self, index: i64) -> Option<LpVal<'_>> {
        self.pos(index).map(|p| self.get_at(p))
    }

    #[inline]
    pub fn next_pos(&self, p: Pos) -> Option<Pos> {
        if let Some(off) = self.nodes[p.node].lp.next(p.off) {
            return Some(Pos { node: p.node, off });
        }
        let node = p.node + 1;
        Some(Pos { node, off: self.nodes.get(node)?.lp.first()? })
    }

    #[inline]
    pub fn prev_pos(&self, p: Pos) -> Option<Pos> {
        if let Some(off) = self.nodes[p.node].lp.prev(p.off) {
            return Some(Pos { node: p.node, off });
        }
        let node = p.node.checked_sub(1)?;
        Some(Pos { node, off: self.nodes[node].lp.last()? })
    }

    /// Elements from `index` on, front to back.
    pub fn iter_from(&self, index: i64) -> Iter<'_> {
        Iter { ql: self, pos: self.pos(index), rev: false }
    }

    /// Elements from `index` towards the front.
    pub fn iter_rev_from(&self, index: i64) -> Iter<'_> {
        Iter { ql: self, pos: self.pos(index), rev: true }
    }

    pub fn iter(&self) -> impl Iterator<Item = LpVal<'_>> {
        self.nodes.iter().flat_map(|n| n.lp.iter())
    }

    /// Replaces the element at `index`; false when out of range.
    pub fn set(&mut self, index: i64, v: &[u8], fill: i32) -> bool {
        let Some(p) = self.pos(index) else {
            return false;
        };
        let node = &mut self.nodes[p.node];
        let old = node.lp.get(p.off).str_len();
        if v.len() <= old || node.allows(v.len() - old, fill) {
            node.lp.replace(p.off, LpVal::from_bytes(v));
        } else {
            self.delete_at(p);
            let i = if index < 0 { self.len as i64 + 1 + index } else { index };
            self.insert_at_index(i as usize, v, fill);
        }
        true
    }

    /// Removes the element at `p`; returns the position of the element that
    /// followed it.
    pub fn delete_at(&mut self, p: Pos) -> Option<Pos> {
        let node = &mut self.nodes[p.node];
        let next = node.lp.delete(p.off, 1);
        node.count -= 1;
        self.len -= 1;
        match next {
            Some(off) => Some(Pos { node: p.node, off }),
            None => {
                let mut ni = p.node;
                if self.nodes[ni].count == 0 {
                    self.nodes.remove(ni);
                } else {
                    ni += 1;
                }
                Some(Pos { node: ni, off: self.nodes.get(ni)?.lp.first()? })
            }
        }
    }

    /// Inserts `v` so that it becomes element `index` (0..=len).
    pub fn insert_at_index(&mut self, index: usize, v: &[u8], fill: i32) {
        if index == 0 {
            return self.push_front(v, fill);
        }
        if index >= self.len {
            return self.push_back(v, fill);
        }
        let p = self.pos(index as i64).expect("index in range");
        self.insert_before(p, v, fill);
    }

    /// Inserts `v` before the element at `p`.
    pub fn insert_before(&mut self, p: Pos, v: &[u8], fill: i32) {
        let val = LpVal::from_bytes(v);
        let node = &mut self.nodes[p.node];
        if node.allows(v.len(), fill) {
            node.lp.insert(p.off, &[val]);
            node.count += 1;
            self.len += 1;
            return;
        }
        // At a node's head: try the previous node's tail.
        if node.lp.first() == Some(p.off) && p.node > 0 {
            let prev = &mut self.nodes[p.node - 1];
            if prev.allows(v.len(), fill) {
                prev.lp.push_back(val);
                prev.count += 1;
                self.len += 1;
                return;
            }
        }
        // Split the node at `p`: the new element ends the first half, or
        // starts a node of its own between the halves.
        let node = &mut self.nodes[p.node];
        let mut tail = Listpack::new();
        let moved: Vec<Vec<u8>> = {
            let mut out = Vec::new();
            let mut o = Some(p.off);
            while let Some(x) = o {
                out.push(node.lp.get(x).to_bytes().into_owned());
                o = node.lp.next(x);
            }
            out
        };
        if !moved.is_empty() {
            node.lp.delete(p.off, moved.len());
            node.count -= moved.len() as u32;
            let vals: Vec<LpVal> = moved.iter().map(|m| LpVal::from_bytes(m)).collect();
            tail.extend(&vals);
        }
        let mut at = p.node + 1;
        if node.count == 0 {
            self.nodes.remove(p.node);
            at -= 1;
        }
        if !moved.is_empty() {
            self.nodes.insert(at, Node { lp: tail, count: moved.len() as u32 });
        }
        let mut single = Node::new();
        single.lp.push_back(val);
        single.count = 1;
        self.nodes.insert(at, single);
        self.len += 1;
    }

    /// Inserts `v` after the element at `p`.
    pub fn insert_after(&mut self, p: Pos, v: &[u8], fill: i32) {
        match self.next_pos(p) {
            Some(n) => self.insert_before(n, v, fill),
            None => self.push_back(v, fill),
        }
    }

    /// Deletes `n` elements starting at `start` (0-based, in range).
    pub fn delete_range(&mut self, start: usize, n: usize) {
        let mut left = n.min(self.len.saturating_sub(start));
        let Some(mut p) = self.pos(start as i64) else {
            return;
        };
        while left > 0 {
            let node = &mut self.nodes[p.node];
            let take = left.min(node.count as usize - index_of(&node.lp, p.off));
            if take == node.count as usize {
                self.nodes.remove(p.node);
            } else {
                node.lp.delete(p.off, take);
                node.count -= take as u32;
                p.node += 1;
            }
            self.len -= take;
            left -= take;
            if left == 0 {
                break;
            }
            match self.nodes.get(p.node).and_then(|n| n.lp.first()) {
                Some(off) => p.off = off,
                None => break,
            }
        }
    }

    /// Removes up to `count` elements equal to `v` (all when 0), from the
    /// tail when `from_tail`; returns how many went.
    pub fn remove_value(&mut self, v: &[u8], count: usize, from_tail: bool) -> usize {
        let mut removed = 0;
        let mut p = if from_tail { self.pos(-1) } else { self.pos(0) };
        while let Some(cur) = p {
            if count != 0 && removed == count {
                break;
            }
            if self.get_at(cur).eq_bytes(v) {
                removed += 1;
                if from_tail {
                    // The element before `cur` sits at a lower offset of the
                    // same node or in an earlier node: deleting `cur` moves
                    // neither.
                    let prev = self.prev_pos(cur);
                    self.delete_at(cur);
                    p = prev;
                } else {
                    p = self.delete_at(cur);
                }
            } else {
                p = if from_tail { self.prev_pos(cur) } else { self.next_pos(cur) };
            }
        }
        removed
    }
}

/// Number of elements of `lp` before the one at `off`.
fn index_of(lp: &Listpack, off: usize) -> usize {
    let mut n = 0;
    let mut o = lp.first();
    while let Some(x) = o {
        if x == off {
            break;
        }
        n += 1;
        o = lp.next(x);
    }
    n
}

pub struct Iter<'a> {
    ql: &'a Quicklist,
    pos: Option<Pos>,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpVal<'a>;
    #[inline]
    fn next(&mut self) -> Option<LpVal<'a>> {
        let p = self.pos?;
        self.pos = if self.rev { self.ql.prev_pos(p) } else { self.ql.next_pos(p) };
        Some(self.ql.get_at(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(q: &Quicklist) -> Vec<Vec<u8>> {
        q.iter().map(|v| v.to_bytes().into_owned()).collect()
    }

    #[test]
    fn nodes_split_by_size_and_count() {
        let mut q = Quicklist::new();
        for i in 0..1000 {
            q.push_back(format!("value-{i:06}").as_bytes(), -2);
        }
        assert!(q.node_count() > 1, "8 KB nodes");
        assert!(q.nodes.iter().all(|n| n.lp.bytes_len() <= 8192));
        let mut q = Quicklist::new();
        for i in 0..10 {
            q.push_front(i.to_string().as_bytes(), 3);
        }
        assert_eq!(q.node_count(), 4);
        assert_eq!(q.get(0).unwrap(), LpVal::Int(9));
        assert_eq!(q.get(-1).unwrap(), LpVal::Int(0));
    }

    #[test]
    fn random_operations_match_a_vec() {
        for fill in [-2, 1, 2, 5, -1] {
            let mut q = Quicklist::new();
            let mut m: Vec<Vec<u8>> = Vec::new();
            let mut x = 0x2545_F491_4F6C_DD1Du64;
            for step in 0..4000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let v: Vec<u8> = match x % 4 {
                    0 => (x % 50).to_string().into_bytes(),
                    1 => vec![b'a' + (x % 26) as u8; (x % 700) as usize],
                    _ => format!("e{}", x % 7).into_bytes(),
                };
                let idx = if m.is_empty() { 0 } else { ((x >> 20) as usize) % m.len() };
                match (x >> 8) % 9 {
                    0 => {
                        q.push_back(&v, fill);
                        m.push(v)
                    }
                    1 => {
                        q.push_front(&v, fill);
                        m.insert(0, v)
                    }
                    2 => assert_eq!(q.pop_front(), if m.is_empty() { None } else { Some(m.remove(0)) }),
                    3 => assert_eq!(q.pop_back(), m.pop()),
                    4 if !m.is_empty() => {
                        let p = q.pos(idx as i64).unwrap();
                        q.insert_before(p, &v, fill);
                        m.insert(idx, v);
                    }
                    5 if !m.is_empty() => {
                        let p = q.pos(idx as i64).unwrap();
                        q.insert_after(p, &v, fill);
                        m.insert(idx + 1, v);
                    }
                    6 if !m.is_empty() => {
                        assert!(q.set(idx as i64, &v, fill));
                        m[idx] = v;
                    }
                    7 => {
                        let n = (x % 5) as usize;
                        q.delete_range(idx, n);
                        let end = (idx + n).min(m.len());
                        if idx < m.len() {
                            m.drain(idx..end);
                        }
                    }
                    8 => {
                        let target = format!("e{}", x % 7).into_bytes();
                        let count = (x % 3) as usize;
                        let tail = x % 2 == 0;
                        let got = q.remove_value(&target, count, tail);
                        let mut want = 0;
                        if tail {
                            let mut i = m.len();
                            while i > 0 && (count == 0 || want < count) {
                                i -= 1;
                                if m[i] == target {
                                    m.remove(i);
                                    want += 1;
                                }
                            }
                        } else {
                            let mut i = 0;
                            while i < m.len() && (count == 0 || want < count) {
                                if m[i] == target {
                                    m.remove(i);
                                    want += 1;
                                } else {
                                    i += 1;
                                }
                            }
                        }
                        assert_eq!(got, want, "step {step}");
                    }
                    _ => {}
                }
                assert_eq!(q.len(), m.len(), "step {step} fill {fill}");
                assert!(q.nodes.iter().all(|n| n.count > 0 && n.count as usize == n.lp.len()));
            }
            assert_eq!(all(&q), m);
            let rev: Vec<Vec<u8>> = q.iter_rev_from(-1).map(|v| v.to_bytes().into_owned()).collect();
            assert_eq!(rev, m.iter().rev().cloned().collect::<Vec<_>>());
        }
    }
}
