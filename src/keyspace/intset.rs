//! Intset: the compact encoding of small sets of integers, the same bytes as
//! Redis's (so snapshots carry it as is): element width (u32 LE: 2, 4 or 8),
//! element count (u32 LE), then the elements in ascending order, little
//! endian, all of the width of the widest.
//!
//! Invariant: elements are strictly ascending and the width is the smallest
//! of 2, 4, 8 that every element fits (widths only grow, as in Redis).

const HEADER: usize = 8;

#[derive(Clone, PartialEq, Eq)]
pub struct Intset(Box<[u8]>);

impl Default for Intset {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Intset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

fn width_for(v: i64) -> usize {
    if v >= i16::MIN as i64 && v <= i16::MAX as i64 {
        2
    } else if v >= i32::MIN as i64 && v <= i32::MAX as i64 {
        4
    } else {
        8
    }
}

impl Intset {
    pub fn new() -> Self {
        let mut b = vec![0u8; HEADER];
        b[..4].copy_from_slice(&2u32.to_le_bytes());
        Intset(b.into_boxed_slice())
    }

    /// Takes an intset read from a file after checking it.
    pub fn from_bytes(b: Box<[u8]>) -> Result<Self, String> {
        if b.len() < HEADER {
            return Err(format!("intset of {} bytes is shorter than its header", b.len()));
        }
        let w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if !matches!(w, 2 | 4 | 8) {
            return Err(format!("intset element width {w} is not 2, 4 or 8"));
        }
        let n = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
        if n.checked_mul(w).and_then(|x| x.checked_add(HEADER)) != Some(b.len()) {
            return Err(format!("intset says {n} elements of {w} bytes but holds {} bytes", b.len() - HEADER));
        }
        let s = Intset(b);
        if s.iter().zip(s.iter().skip(1)).any(|(a, b)| a >= b) {
            return Err("intset elements are not strictly ascending".into());
        }
        Ok(s)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    #[inline]
    fn width(&self) -> usize {
        self.0[0] as usize
    }

    #[inline]
    pub fn len(&self) -> usize {
        u32::from_le_bytes([self.0[4], self.0[5], self.0[6], self.0[7]]) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        let w = self.width();
        let p = &self.0[HEADER + i * w..HEADER + (i + 1) * w];
        match w {
            2 => i16::from_le_bytes([p[0], p[1]]) as i64,
            4 => i32::from_le_bytes([p[0], p[1], p[2], p[3]]) as i64,
            _ => i64::from_le_bytes(p.try_into().expect("8 bytes")),
        }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Position of `v`, or where it would be inserted.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        width_for(v) <= self.width() && self.search(v).is_ok()
    }

    fn rebuild(&mut self, width: usize, vals: impl Iterator<Item = i64>, n: usize) {
        let mut b = Vec::with_capacity(HEADER + n * width);
        b.extend_from_slice(&(width as u32).to_le_bytes());
        b.extend_from_slice(&(n as u32).to_le_bytes());
        for v in vals {
            b.extend_from_slice(&v.to_le_bytes()[..width]);
        }
        self.0 = b.into_boxed_slice();
    }

    /// Adds `v`; false when it was already there.
    pub fn insert(&mut self, v: i64) -> bool {
        let w = self.width();
        let n = self.len();
        let pos = match self.search(v) {
            Ok(_) if width_for(v) <= w => return false,
            Ok(p) | Err(p) => p,
        };
        let nw = w.max(width_for(v));
        let old = std::mem::take(&mut self.0);
        let tmp = Intset(old);
        let before = (0..pos).map(|i| tmp.get(i));
        let after = (pos..n).map(|i| tmp.get(i));
        let vals: Vec<i64> = if nw != w {
            // Upgrading: the new value is the smallest or the largest.
            let mut all: Vec<i64> = tmp.iter().collect();
            if v < 0 {
                all.insert(0, v)
            } else {
                all.push(v)
            }
            all
        } else {
            before.chain(std::iter::once(v)).chain(after).collect()
        };
        self.rebuild(nw, vals.into_iter(), n + 1);
        true
    }

    /// Removes `v`; false when it was not there.
    pub fn remove(&mut self, v: i64) -> bool {
        if width_for(v) > self.width() {
            return false;
        }
        let Ok(pos) = self.search(v) else {
            return false;
        };
        let w = self.width();
        let mut b = std::mem::take(&mut self.0).into_vec();
        b.drain(HEADER + pos * w..HEADER + (pos + 1) * w);
        let n = (b.len() - HEADER) / w;
        b[4..8].copy_from_slice(&(n as u32).to_le_bytes());
        b.shrink_to_fit();
        self.0 = b.into_boxed_slice();
        true
    }

    pub fn heap_size(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_in_width_and_stays_sorted() {
        let mut s = Intset::new();
        assert!(s.insert(5));
        assert!(s.insert(-3));
        assert!(!s.insert(5));
        assert_eq!(s.as_bytes()[0], 2);
        assert!(s.insert(100_000));
        assert_eq!(s.as_bytes()[0], 4);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.as_bytes()[0], 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![i64::MIN, -3, 5, 100_000]);
        assert!(s.contains(100_000) && !s.contains(4));
        assert!(s.remove(-3) && !s.remove(-3));
        assert_eq!(s.len(), 3);
        assert!(Intset::from_bytes(s.as_bytes().into()).is_ok());
    }

    #[test]
    fn rejects_bad_bytes() {
        assert!(Intset::from_bytes(vec![2, 0, 0, 0, 1, 0, 0, 0].into()).is_err());
        assert!(Intset::from_bytes(vec![3, 0, 0, 0, 0, 0, 0, 0].into()).is_err());
        assert!(Intset::from_bytes(vec![2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0].into()).is_err());
        assert!(Intset::from_bytes(vec![2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 5, 0].into()).is_ok());
    }

    #[test]
    fn random_against_a_model() {
        let mut s = Intset::new();
        let mut m = std::collections::BTreeSet::new();
        let mut x = 88172645463325252u64;
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = match x % 3 {
                0 => (x >> 40) as i64 % 100,
                1 => (x >> 20) as i32 as i64,
                _ => x as i64,
            };
            if x % 4 == 0 {
                assert_eq!(s.remove(v), m.remove(&v));
            } else {
                assert_eq!(s.insert(v), m.insert(v));
            }
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), m.into_iter().collect::<Vec<_>>());
    }
}
