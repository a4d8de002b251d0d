//! Bit-level helpers for the bitmap commands: population count, first set
//! or clear bit, and big-endian bit fields of 1 to 64 bits with the
//! WRAP/SAT/FAIL overflow rules of BITFIELD.
//!
//! Bit 0 is the most significant bit of byte 0, as in Redis's bitmaps.

/// Number of set bits in `p`.
pub fn popcount(p: &[u8]) -> u64 {
    let mut chunks = p.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from_ne_bytes(w).count_ones() as u64;
    }
    n + chunks.remainder().iter().map(|b| b.count_ones() as u64).sum::<u64>()
}

/// Position of the first bit equal to `bit` in `p`. When there is none:
/// -1 for a set bit, and the first position past the end (`8 * len`) for
/// a clear bit, as if the string went on with zeros.
pub fn first_bit(p: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0u8 } else { 0xff };
    let mut i = 0;
    while i + 8 <= p.len() && p[i..i + 8].iter().all(|&b| b == skip) {
        i += 8;
    }
    while i < p.len() {
        let b = p[i];
        if b != skip {
            let lead = if bit { b.leading_zeros() } else { (!b).leading_zeros() };
            return (i as i64) * 8 + lead as i64;
        }
        i += 1;
    }
    if bit {
        -1
    } else {
        p.len() as i64 * 8
    }
}

/// Reads the bit at `offset`; bits past the end are 0.
#[inline]
pub fn get_bit(p: &[u8], offset: u64) -> bool {
    let byte = (offset >> 3) as usize;
    byte < p.len() && p[byte] & (0x80 >> (offset & 7)) != 0
}

/// Reads `bits` bits (1..=64) at `offset` as an unsigned number, most
/// significant first; bits past the end of `p` read as 0.
pub fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v: u64 = 0;
    for j in 0..bits as u64 {
        v = (v << 1) | get_bit(p, offset + j) as u64;
    }
    v
}

/// Reads a two's complement signed field of `bits` bits.
pub fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(p, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` bits of `value` at `offset`; `p` must be long
/// enough.
pub fn set_field(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let on = value & (1 << (bits as u64 - 1 - j)) != 0;
        let o = offset + j;
        let byte = (o >> 3) as usize;
        let mask = 0x80u8 >> (o & 7);
        if on {
            p[byte] |= mask;
        } else {
            p[byte] &= !mask;
        }
    }
}

/// BITFIELD's OVERFLOW modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// The value to store for `value + incr` in an unsigned field of `bits`
/// bits (1..=63): `(overflowed, result)`. On overflow the result is wrapped
/// or saturated per `mode` (unused for FAIL). `value` may already be out of
/// range (a SET of a negative or too large number).
pub fn unsigned_add(value: u64, incr: i64, bits: u32, mode: Overflow) -> (bool, u64) {
    let max: u64 = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    // Signed views, as the reference computes them.
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let wrapped = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > maxincr) {
        match mode {
            Overflow::Wrap => (true, wrapped()),
            _ => (true, max),
        }
    } else if incr < 0 && incr < minincr {
        match mode {
            Overflow::Wrap => (true, wrapped()),
            _ => (true, 0),
        }
    } else {
        (false, value.wrapping_add(incr as u64))
    }
}

/// The value to store for `value + incr` in a signed field of `bits` bits
/// (1..=64): `(overflowed, result)`, like `unsigned_add`.
pub fn signed_add(value: i64, incr: i64, bits: u32, mode: Overflow) -> (bool, i64) {
    let max: i64 = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min: i64 = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrapped = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        match mode {
            Overflow::Wrap => (true, wrapped()),
            _ => (true, max),
        }
    } else if value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
        match mode {
            Overflow::Wrap => (true, wrapped()),
            _ => (true, min),
        }
    } else {
        (false, value.wrapping_add(incr))
    }
}

/// Resolves a start/end pair given by a client against a length `len`, the
/// way GETRANGE, BITCOUNT and BITPOS do: negative values count from the
/// end, both are clamped into the string. `None` when the range is empty.
pub fn clamp_range(start: i64, end: i64, len: i64) -> Option<(i64, i64)> {
    let start = if start < 0 { (len + start).max(0) } else { start };
    let mut end = if end < 0 { (len + end).max(0) } else { end };
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        None
    } else {
        Some((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_finds_bits() {
        assert_eq!(popcount(b"foobar"), 26);
        assert_eq!(popcount(&[0xff; 17]), 136);
        assert_eq!(first_bit(&[0xff, 0xf0, 0x00], false), 12);
        assert_eq!(first_bit(&[0xff, 0xf0, 0x00], true), 0);
        assert_eq!(first_bit(&[0; 20], true), -1);
        assert_eq!(first_bit(&[0xff; 20], false), 160);
        let mut v = vec![0u8; 20];
        v[19] = 1;
        assert_eq!(first_bit(&v, true), 159);
        assert_eq!(first_bit(&[], false), 0);
    }

    #[test]
    fn fields_round_trip() {
        let mut p = vec![0u8; 9];
        set_field(&mut p, 3, 64, 0x8123_4567_89ab_cdef);
        assert_eq!(get_unsigned(&p, 3, 64), 0x8123_4567_89ab_cdef);
        assert_eq!(get_signed(&p, 3, 64), 0x8123_4567_89ab_cdefu64 as i64);
        assert_eq!(get_signed(&p, 3, 4), -8);
        assert_eq!(get_unsigned(&p, 70, 10), get_unsigned(&p, 70, 10));
        assert_eq!(get_unsigned(&[0xff], 4, 8), 0xf0);
    }

    #[test]
    fn overflow_modes() {
        assert_eq!(unsigned_add(200, 100, 8, Overflow::Wrap), (true, 44));
        assert_eq!(unsigned_add(200, 100, 8, Overflow::Sat), (true, 255));
        assert_eq!(unsigned_add(5, -10, 8, Overflow::Sat), (true, 0));
        assert_eq!(unsigned_add(5, -1, 8, Overflow::Sat), (false, 4));
        assert_eq!(unsigned_add((-3i64) as u64, 0, 4, Overflow::Sat), (true, 15));
        assert_eq!(signed_add(127, 1, 8, Overflow::Wrap), (true, -128));
        assert_eq!(signed_add(-128, -1000, 8, Overflow::Sat), (true, -128));
        assert_eq!(signed_add(i64::MAX, 1, 64, Overflow::Wrap), (true, i64::MIN));
        assert_eq!(signed_add(i64::MAX, 1, 64, Overflow::Sat), (true, i64::MAX));
        assert_eq!(signed_add(-2, -i64::MAX, 64, Overflow::Sat), (true, i64::MIN));
        assert_eq!(signed_add(100, 0, 4, Overflow::Wrap), (true, 4));
    }

    #[test]
    fn ranges() {
        assert_eq!(clamp_range(0, -1, 11), Some((0, 10)));
        assert_eq!(clamp_range(-5, -1, 11), Some((6, 10)));
        assert_eq!(clamp_range(6, 100, 11), Some((6, 10)));
        assert_eq!(clamp_range(5, 2, 11), None);
        assert_eq!(clamp_range(i64::MIN, -1, 11), Some((0, 10)));
        assert_eq!(clamp_range(0, i64::MAX, 11), Some((0, 10)));
        assert_eq!(clamp_range(0, -1, 0), None);
    }
}
