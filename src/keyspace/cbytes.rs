//! `CBytes`: an immutable byte string of 24 bytes that keeps up to 22 bytes
//! inline and longer ones in one exact-size heap allocation.
//!
//! Keys and short values are the bulk of a keyspace; keeping them inline
//! saves an allocation and its allocator overhead per key.

use std::borrow::Borrow;
use std::fmt;

const INLINE_MAX: usize = 22;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CBytes {
    Inline { len: u8, data: [u8; INLINE_MAX] },
    Heap(Box<[u8]>),
}

impl CBytes {
    #[inline]
    pub fn new(b: &[u8]) -> Self {
        if b.len() <= INLINE_MAX {
            let mut data = [0u8; INLINE_MAX];
            data[..b.len()].copy_from_slice(b);
            CBytes::Inline { len: b.len() as u8, data }
        } else {
            CBytes::Heap(b.into())
        }
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            CBytes::Inline { len, data } => &data[..*len as usize],
            CBytes::Heap(b) => b,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes owned beyond the struct itself.
    pub fn heap_size(&self) -> usize {
        match self {
            CBytes::Inline { .. } => 0,
            CBytes::Heap(b) => b.len(),
        }
    }
}

impl From<&[u8]> for CBytes {
    fn from(b: &[u8]) -> Self {
        CBytes::new(b)
    }
}

impl From<Vec<u8>> for CBytes {
    fn from(v: Vec<u8>) -> Self {
        if v.len() <= INLINE_MAX {
            CBytes::new(&v)
        } else {
            CBytes::Heap(v.into_boxed_slice())
        }
    }
}

impl AsRef<[u8]> for CBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for CBytes {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::ops::Deref for CBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for CBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap() {
        assert_eq!(std::mem::size_of::<CBytes>(), 24);
        for n in [0, 1, 22, 23, 100] {
            let v = vec![7u8; n];
            let c = CBytes::new(&v);
            assert_eq!(c.as_bytes(), &v[..]);
            assert_eq!(CBytes::from(v.clone()).as_bytes(), &v[..]);
        }
    }
}
