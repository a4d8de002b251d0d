//! Listpack: the compact encoding of small hashes and sorted sets and of each
//! quicklist node, byte for byte the format Redis 7.0 keeps in memory and in
//! RDB files (docs/formats/rdb.md describes it), so a snapshot writes it as
//! is.
//!
//! Layout: total bytes (u32 LE), element count (u16 LE, 65535 when it does
//! not fit), the entries, then the end byte 0xFF. An entry is its encoding
//! (an integer in 1 to 9 bytes, or a length-prefixed string), then a
//! "backlen" of 1 to 5 bytes giving the encoding's size, readable from the
//! right, so the list can be walked in both directions.
//!
//! Invariant: the buffer is always a valid listpack (`validate` accepts it);
//! the header's total equals the buffer length and its count equals the
//! number of entries (or 65535 with more than 65534 entries).

use std::borrow::Cow;

const HEADER: usize = 6;
const END: u8 = 0xFF;
/// Header count value meaning "count the entries".
const COUNT_UNKNOWN: u16 = u16::MAX;

/// One element as stored: integers are kept as integers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LpVal<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> LpVal<'a> {
    /// The element as the string a client sees.
    pub fn to_bytes(self) -> Cow<'a, [u8]> {
        match self {
            LpVal::Str(s) => Cow::Borrowed(s),
            LpVal::Int(v) => Cow::Owned(crate::util::itoa(v).as_bytes().to_vec()),
        }
    }

    /// Appends the element's string form to `out`.
    pub fn append_to(self, out: &mut Vec<u8>) {
        match self {
            LpVal::Str(s) => out.extend_from_slice(s),
            LpVal::Int(v) => out.extend_from_slice(crate::util::itoa(v).as_bytes()),
        }
    }

    /// Whether the element equals the client string `b`.
    pub fn eq_bytes(self, b: &[u8]) -> bool {
        match self {
            LpVal::Str(s) => s == b,
            LpVal::Int(v) => crate::util::parse_i64(b) == Some(v),
        }
    }

    /// String length of the element.
    pub fn str_len(self) -> usize {
        match self {
            LpVal::Str(s) => s.len(),
            LpVal::Int(v) => crate::util::itoa(v).as_bytes().len(),
        }
    }

    /// The element for a client string: canonical integers become integers,
    /// as Redis stores them.
    pub fn from_bytes(b: &'a [u8]) -> LpVal<'a> {
        match crate::util::parse_i64(b) {
            Some(v) => LpVal::Int(v),
            None => LpVal::Str(b),
        }
    }
}

/// Encoded size of an element (encoding plus data, without the backlen).
fn encoded_len(v: LpVal) -> usize {
    match v {
        LpVal::Int(n) => match n {
            0..=127 => 1,
            -4096..=4095 => 2,
            -32768..=32767 => 3,
            -8_388_608..=8_388_607 => 4,
            -2_147_483_648..=2_147_483_647 => 5,
            _ => 9,
        },
        LpVal::Str(s) => header_for_str(s.len()) + s.len(),
    }
}

fn header_for_str(len: usize) -> usize {
    if len < 64 {
        1
    } else if len < 4096 {
        2
    } else {
        5
    }
}

fn backlen_len(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// Bytes a whole entry takes: encoding, data and backlen.
pub fn entry_size(v: LpVal) -> usize {
    let l = encoded_len(v);
    l + backlen_len(l)
}

fn encode(v: LpVal, out: &mut Vec<u8>) {
    let start = out.len();
    match v {
        LpVal::Int(n) => match n {
            0..=127 => out.push(n as u8),
            -4096..=4095 => {
                let u = (n as u64 & 0x1FFF) as u16;
                out.push(0xC0 | (u >> 8) as u8);
                out.push(u as u8);
            }
            -32768..=32767 => {
                out.push(0xF1);
                out.extend_from_slice(&(n as i16).to_le_bytes());
            }
            -8_388_608..=8_388_607 => {
                out.push(0xF2);
                out.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
            }
            -2_147_483_648..=2_147_483_647 => {
                out.push(0xF3);
                out.extend_from_slice(&(n as i32).to_le_bytes());
            }
            _ => {
                out.push(0xF4);
                out.extend_from_slice(&n.to_le_bytes());
            }
        },
        LpVal::Str(s) => {
            let len = s.len();
            if len < 64 {
                out.push(0x80 | len as u8);
            } else if len < 4096 {
                out.push(0xE0 | (len >> 8) as u8);
                out.push(len as u8);
            } else {
                out.push(0xF0);
                out.extend_from_slice(&(len as u32).to_le_bytes());
            }
            out.extend_from_slice(s);
        }
    }
    let l = out.len() - start;
    // Backlen: most significant 7-bit group first; every byte but the
    // leftmost has its high bit set, so a reader going right to left knows
    // when to stop.
    let n = backlen_len(l);
    for i in (0..n).rev() {
        let group = ((l >> (7 * i)) & 0x7F) as u8;
        out.push(if i == n - 1 { group } else { group | 0x80 });
    }
    debug_assert_eq!(out.len() - start, l + n);
}

/// A decoded entry header: the element and the entry's total size.
struct Decoded<'a> {
    val: LpVal<'a>,
    /// Encoding plus data.
    enc_len: usize,
}

fn read_le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64)
}

/// Decodes the entry at the start of `b`, or `None` when it is malformed or
/// runs past `b`.
fn decode(b: &[u8]) -> Option<Decoded<'_>> {
    let first = *b.first()?;
    let (val, enc_len) = if first & 0x80 == 0 {
        (LpVal::Int((first & 0x7F) as i64), 1)
    } else if first & 0xC0 == 0x80 {
        let len = (first & 0x3F) as usize;
        (LpVal::Str(b.get(1..1 + len)?), 1 + len)
    } else if first & 0xE0 == 0xC0 {
        let u = (((first & 0x1F) as i64) << 8) | *b.get(1)? as i64;
        let v = if u >= 1 << 12 { u - (1 << 13) } else { u };
        (LpVal::Int(v), 2)
    } else if first & 0xF0 == 0xE0 {
        let len = (((first & 0x0F) as usize) << 8) | *b.get(1)? as usize;
        (LpVal::Str(b.get(2..2 + len)?), 2 + len)
    } else {
        match first {
            0xF0 => {
                let len = read_le(b.get(1..5)?) as usize;
                (LpVal::Str(b.get(5..5usize.checked_add(len)?)?), 5 + len)
            }
            0xF1 => (LpVal::Int(read_le(b.get(1..3)?) as u16 as i16 as i64), 3),
            0xF2 => {
                let u = read_le(b.get(1..4)?) as u32;
                (LpVal::Int(((u << 8) as i32 >> 8) as i64), 4)
            }
            0xF3 => (LpVal::Int(read_le(b.get(1..5)?) as u32 as i32 as i64), 5),
            0xF4 => (LpVal::Int(read_le(b.get(1..9)?) as i64), 9),
            _ => return None,
        }
    };
    Some(Decoded { val, enc_len })
}

/// Reads the backlen that ends just before `end`: (value, its size).
fn decode_backlen(b: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut val = 0usize;
    let mut shift = 0;
    let mut p = end;
    loop {
        if p == 0 || end - p >= 5 {
            return None;
        }
        p -= 1;
        let c = b[p];
        val |= ((c & 0x7F) as usize) << shift;
        if c & 0x80 == 0 {
            return Some((val, end - p));
        }
        shift += 7;
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Listpack(Box<[u8]>);

impl Default for Listpack {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Listpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Listpack {
    pub fn new() -> Self {
        let mut b = Vec::with_capacity(HEADER + 1);
        b.extend_from_slice(&((HEADER + 1) as u32).to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.push(END);
        Listpack(b.into_boxed_slice())
    }

    /// Takes a listpack read from a file after checking every entry
    /// (`deep`) or only the header and end byte.
    pub fn from_bytes(b: Box<[u8]>, deep: bool) -> Result<Self, String> {
        validate(&b, deep)?;
        Ok(Listpack(b))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Bytes used (the header's total).
    pub fn bytes_len(&self) -> usize {
        self.0.len()
    }

    pub fn len(&self) -> usize {
        let c = u16::from_le_bytes([self.0[4], self.0[5]]);
        if c != COUNT_UNKNOWN {
            return c as usize;
        }
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0[HEADER] == END
    }

    /// Offset of the first entry.
    #[inline]
    pub fn first(&self) -> Option<usize> {
        (self.0[HEADER] != END).then_some(HEADER)
    }

    /// Offset of the last entry.
    pub fn last(&self) -> Option<usize> {
        self.prev(self.0.len() - 1)
    }

    /// Offset of the entry after the one at `off`.
    #[inline]
    pub fn next(&self, off: usize) -> Option<usize> {
        let n = off + self.entry_len(off);
        (self.0[n] != END).then_some(n)
    }

    /// Offset of the entry before `off` (`off` may be the end byte).
    #[inline]
    pub fn prev(&self, off: usize) -> Option<usize> {
        if off <= HEADER {
            return None;
        }
        let (l, bl) = decode_backlen(&self.0, off).expect("valid listpack backlen");
        Some(off - bl - l)
    }

    /// Whole size of the entry at `off`.
    #[inline]
    fn entry_len(&self, off: usize) -> usize {
        let l = decode(&self.0[off..]).expect("valid listpack entry").enc_len;
        l + backlen_len(l)
    }

    #[inline]
    pub fn get(&self, off: usize) -> LpVal<'_> {
        decode(&self.0[off..]).expect("valid listpack entry").val
    }

    /// The entry at `off` and the offset of the one after it, decoded once
    /// (the forward walks' step).
    #[inline]
    pub fn get_and_next(&self, off: usize) -> (LpVal<'_>, Option<usize>) {
        let d = decode(&self.0[off..]).expect("valid listpack entry");
        let n = off + d.enc_len + backlen_len(d.enc_len);
        (d.val, (self.0[n] != END).then_some(n))
    }

    /// Offset of element `index` (negative counts from the end).
    pub fn seek(&self, index: i64) -> Option<usize> {
        if index >= 0 {
            let mut off = self.first()?;
            for _ in 0..index {
                off = self.next(off)?;
            }
            Some(off)
        } else {
            let mut off = self.last()?;
            for _ in 0..(-(index + 1)) {
                off = self.prev(off)?;
            }
            Some(off)
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { lp: self, off: self.first() }
    }

    /// Iterates from the last element to the first.
    pub fn iter_rev(&self) -> RevIter<'_> {
        RevIter { lp: self, off: self.last() }
    }

    /// Offset where a new element would go to be last.
    pub fn end_offset(&self) -> usize {
        self.0.len() - 1
    }

    fn set_header(buf: &mut [u8], count: usize) {
        let total = buf.len() as u32;
        buf[..4].copy_from_slice(&total.to_le_bytes());
        let c = if count < COUNT_UNKNOWN as usize { count as u16 } else { COUNT_UNKNOWN };
        buf[4..6].copy_from_slice(&c.to_le_bytes());
    }

    fn count_after(&self, delta: isize) -> usize {
        (self.len() as isize + delta) as usize
    }

    /// Replaces the bytes `off..off+remove` with the encoded `vals` (each
    /// becoming one entry) and fixes the header; the element count changes by
    /// `vals.len() - removed_entries`.
    fn splice(&mut self, off: usize, remove: usize, removed_entries: usize, vals: &[LpVal]) {
        thread_local! {
            /// Encoded entries on their way in, reused between calls.
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let count = self.count_after(vals.len() as isize - removed_entries as isize);
        SCRATCH.with(|scratch| {
            let mut enc = scratch.borrow_mut();
            enc.clear();
            for v in vals {
                encode(*v, &mut enc);
            }
            // In place: one reallocation to the exact new size (which the
            // allocator can often do without moving) and one shift of the
            // tail, as a C listpack does.
            let mut buf = std::mem::take(&mut self.0).into_vec();
            if enc.len() > remove {
                buf.reserve_exact(enc.len() - remove);
            }
            buf.splice(off..off + remove, enc.iter().copied());
            if enc.len() < remove {
                buf.shrink_to_fit();
            }
            if enc.capacity() > 1 << 16 {
                *enc = Vec::new();
            }
            Self::set_header(&mut buf, count);
            self.0 = buf.into_boxed_slice();
        });
    }

    /// Inserts elements before the entry at `off` (or at the end when `off`
    /// is `end_offset()`); returns the offset of the first one inserted.
    pub fn insert(&mut self, off: usize, vals: &[LpVal]) -> usize {
        self.splice(off, 0, 0, vals);
        off
    }

    pub fn push_back(&mut self, v: LpVal) {
        let off = self.end_offset();
        self.insert(off, &[v]);
    }

    pub fn push_front(&mut self, v: LpVal) {
        self.insert(HEADER, &[v]);
    }

    /// Appends several elements at once (one reallocation).
    pub fn extend(&mut self, vals: &[LpVal]) {
        let off = self.end_offset();
        self.insert(off, vals);
    }

    /// Replaces the element at `off`; returns its offset (unchanged).
    pub fn replace(&mut self, off: usize, v: LpVal) -> usize {
        let len = self.entry_len(off);
        self.splice(off, len, 1, &[v]);
        off
    }

    /// Deletes `n` elements starting at `off` (fewer if the list ends);
    /// returns the offset of the element that followed them, if any.
    pub fn delete(&mut self, off: usize, n: usize) -> Option<usize> {
        let mut end = off;
        let mut removed = 0;
        while removed < n && self.0[end] != END {
            end += self.entry_len(end);
            removed += 1;
        }
        self.splice(off, end - off, removed, &[]);
        (self.0[off] != END).then_some(off)
    }

    /// Deletes the elements with positions `start..start+n`.
    pub fn delete_range(&mut self, start: usize, n: usize) {
        if let Some(off) = self.seek(start as i64) {
            self.delete(off, n);
        }
    }

    /// Finds the first element equal to `b`, stepping over `skip` elements
    /// after each comparison (1 to look at pairs' keys); starts at `off`.
    pub fn find(&self, mut off: Option<usize>, b: &[u8], skip: usize) -> Option<usize> {
        let as_int = crate::util::parse_i64(b);
        while let Some(o) = off {
            let hit = match self.get(o) {
                // A string entry can still spell an integer (files, DUMP
                // payloads): compare the bytes whatever they look like.
                LpVal::Str(s) => s == b,
                LpVal::Int(v) => as_int == Some(v),
            };
            if hit {
                return Some(o);
            }
            off = self.next(o);
            for _ in 0..skip {
                off = off.and_then(|x| self.next(x));
            }
        }
        None
    }
}

pub struct Iter<'a> {
    lp: &'a Listpack,
    off: Option<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpVal<'a>;
    #[inline]
    fn next(&mut self) -> Option<LpVal<'a>> {
        let (v, next) = self.lp.get_and_next(self.off?);
        self.off = next;
        Some(v)
    }
}

pub struct RevIter<'a> {
    lp: &'a Listpack,
    off: Option<usize>,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = LpVal<'a>;
    fn next(&mut self) -> Option<LpVal<'a>> {
        let off = self.off?;
        self.off = self.lp.prev(off);
        Some(self.lp.get(off))
    }
}

/// Checks that `b` is a well-formed listpack: header total and count, every
/// entry (when `deep`) decodable with a matching backlen, and the end byte.
pub fn validate(b: &[u8], deep: bool) -> Result<(), String> {
    if b.len() < HEADER + 1 {
        return Err(format!("listpack of {} bytes is shorter than its header", b.len()));
    }
    let total = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    if total != b.len() {
        return Err(format!("listpack header says {total} bytes, found {}", b.len()));
    }
    if b[b.len() - 1] != END {
        return Err("listpack does not end with 0xFF".into());
    }
    if !deep {
        return Ok(());
    }
    let count = u16::from_le_bytes([b[4], b[5]]);
    let mut off = HEADER;
    let mut n = 0usize;
    while b[off] != END {
        let d = decode(&b[off..b.len() - 1]).ok_or_else(|| format!("listpack entry {n} at byte {off} is malformed"))?;
        let end = off + d.enc_len + backlen_len(d.enc_len);
        if end > b.len() - 1 {
            return Err(format!("listpack entry {n} at byte {off} runs past the end"));
        }
        match decode_backlen(b, end) {
            Some((l, bl)) if l == d.enc_len && bl == backlen_len(l) => {}
            _ => return Err(format!("listpack entry {n} at byte {off} has a wrong back length")),
        }
        off = end;
        n += 1;
    }
    if off != b.len() - 1 {
        return Err(format!("listpack has bytes after its end marker at byte {off}"));
    }
    if count != COUNT_UNKNOWN && count as usize != n {
        return Err(format!("listpack header counts {count} entries, found {n}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|v| v.to_bytes().into_owned()).collect()
    }

    #[test]
    fn integers_of_every_width_round_trip() {
        let vals: Vec<i64> = vec![
            0,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            8_388_607,
            -8_388_608,
            8_388_608,
            i32::MAX as i64,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i64::MAX,
            i64::MIN,
        ];
        let mut lp = Listpack::new();
        for v in &vals {
            lp.push_back(LpVal::Int(*v));
        }
        validate(lp.as_bytes(), true).unwrap();
        let back: Vec<LpVal> = lp.iter().collect();
        assert_eq!(back, vals.iter().map(|v| LpVal::Int(*v)).collect::<Vec<_>>());
        let rev: Vec<LpVal> = lp.iter_rev().collect();
        assert_eq!(rev.len(), vals.len());
        assert_eq!(rev[0], LpVal::Int(i64::MIN));
    }

    #[test]
    fn strings_of_every_header_size_and_backlen() {
        let mut lp = Listpack::new();
        let sizes = [0usize, 1, 63, 64, 127, 128, 4095, 4096, 16383, 20000, 70000];
        for &s in &sizes {
            lp.push_back(LpVal::Str(&vec![b'x'; s]));
        }
        validate(lp.as_bytes(), true).unwrap();
        let lens: Vec<usize> = lp.iter().map(|v| v.str_len()).collect();
        assert_eq!(lens, sizes);
        let rlens: Vec<usize> = lp.iter_rev().map(|v| v.str_len()).collect();
        assert_eq!(rlens, sizes.iter().rev().copied().collect::<Vec<_>>());
    }

    #[test]
    fn known_bytes_match_the_format() {
        let mut lp = Listpack::new();
        lp.push_back(LpVal::from_bytes(b"a"));
        lp.push_back(LpVal::from_bytes(b"5"));
        lp.push_back(LpVal::from_bytes(b"-1"));
        // total 15, count 3, "a": 0x81 'a' backlen 2; 5: 0x05 backlen 1;
        // -1: 13-bit 0xDF 0xFF backlen 2; end.
        assert_eq!(lp.as_bytes(), &[15, 0, 0, 0, 3, 0, 0x81, b'a', 2, 5, 1, 0xDF, 0xFF, 2, 0xFF]);
    }

    #[test]
    fn insert_replace_delete_keep_it_valid() {
        let mut lp = Listpack::new();
        let mut model: Vec<Vec<u8>> = Vec::new();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let r = rnd();
            let val: Vec<u8> = match r % 5 {
                0 => (r >> 8).to_string().into_bytes(),
                1 => format!("-{}", r % 10_000).into_bytes(),
                2 => vec![b'v'; (r % 300) as usize],
                3 => b"007".to_vec(),
                _ => vec![b'z'; (r % 5000) as usize],
            };
            let pos = if model.is_empty() { 0 } else { (rnd() % (model.len() as u64 + 1)) as usize };
            match rnd() % 4 {
                0 | 1 => {
                    let off = if pos == model.len() { lp.end_offset() } else { lp.seek(pos as i64).unwrap() };
                    lp.insert(off, &[LpVal::from_bytes(&val)]);
                    model.insert(pos, val);
                }
                2 if pos < model.len() => {
                    let off = lp.seek(pos as i64).unwrap();
                    lp.replace(off, LpVal::from_bytes(&val));
                    model[pos] = val;
                }
                _ if pos < model.len() => {
                    let n = (rnd() % 3) as usize + 1;
                    lp.delete_range(pos, n);
                    let end = (pos + n).min(model.len());
                    model.drain(pos..end);
                }
                _ => {}
            }
            assert_eq!(lp.len(), model.len());
        }
        validate(lp.as_bytes(), true).unwrap();
        assert_eq!(strings(&lp), model);
        let mut rev = strings(&lp);
        rev.reverse();
        assert_eq!(lp.iter_rev().map(|v| v.to_bytes().into_owned()).collect::<Vec<_>>(), rev);
    }

    #[test]
    fn count_saturates_and_is_recounted() {
        let mut lp = Listpack::new();
        let many: Vec<LpVal> = (0..70_000).map(|i| LpVal::Int(i % 100)).collect();
        lp.extend(&many);
        assert_eq!(u16::from_le_bytes([lp.0[4], lp.0[5]]), COUNT_UNKNOWN);
        assert_eq!(lp.len(), 70_000);
        validate(lp.as_bytes(), true).unwrap();
        lp.delete_range(0, 69_000);
        assert_eq!(lp.len(), 1000);
        assert_eq!(u16::from_le_bytes([lp.0[4], lp.0[5]]), 1000);
    }

    #[test]
    fn find_compares_integers_by_value() {
        let mut lp = Listpack::new();
        for s in [&b"f1"[..], b"10", b"f2", b"x", b"007", b"y"] {
            lp.push_back(LpVal::from_bytes(s));
        }
        assert_eq!(lp.find(lp.first(), b"007", 1).map(|o| lp.get(o)), Some(LpVal::Str(b"007")));
        assert_eq!(lp.find(lp.first(), b"7", 1), None);
        assert_eq!(lp.find(lp.first(), b"10", 1), None, "10 is a value, not a field");
        assert!(lp.find(lp.first(), b"f2", 1).is_some());
    }

    #[test]
    fn validate_rejects_damage() {
        let mut lp = Listpack::new();
        lp.push_back(LpVal::Str(b"hello"));
        lp.push_back(LpVal::Int(1000));
        let good = lp.as_bytes().to_vec();
        for i in 0..good.len() {
            for bit in 0..8 {
                let mut b = good.clone();
                b[i] ^= 1 << bit;
                // Must never panic; most flips are caught.
                let _ = validate(&b, true);
            }
        }
        let mut short = good.clone();
        short.truncate(good.len() - 2);
        assert!(validate(&short, true).is_err());
    }
}
