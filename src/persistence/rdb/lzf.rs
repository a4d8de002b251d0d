//! LZF compression as RDB strings use it (docs/formats/rdb.md, "LZF"): a
//! small hash-table compressor of our own and a bounds-checked decompressor.
//!
//! Invariant: `decompress` never reads past its input, never writes past the
//! announced length, and fails unless it produces exactly that length.

/// Longest back reference: 7 + 255 + 2 bytes.
const MAX_REF: usize = 264;
/// Farthest back reference: 13 bits of distance, plus one.
const MAX_OFF: usize = 8192;
/// Longest literal run one control byte announces.
const MAX_LIT: usize = 32;
/// Most output bytes one input byte can stand for (a 3-byte long
/// reference copying 264 bytes); bounds an announced length before any
/// allocation.
pub const MAX_EXPANSION: usize = MAX_REF / 3;
const HASH_LOG_MAX: u32 = 14;

#[inline]
fn hash3(b: &[u8], i: usize, log: u32) -> usize {
    let v = (b[i] as u32) << 16 | (b[i + 1] as u32) << 8 | b[i + 2] as u32;
    (v.wrapping_mul(2_654_435_761) >> (32 - log)) as usize
}

fn push_literals(out: &mut Vec<u8>, mut lit: &[u8]) {
    while !lit.is_empty() {
        let n = lit.len().min(MAX_LIT);
        out.push((n - 1) as u8);
        out.extend_from_slice(&lit[..n]);
        lit = &lit[n..];
    }
}

fn push_ref(out: &mut Vec<u8>, len: usize, off: usize) {
    debug_assert!((3..=MAX_REF).contains(&len) && off < MAX_OFF);
    let l = len - 2;
    let hi = (off >> 8) as u8;
    if l < 7 {
        out.push(((l as u8) << 5) | hi);
    } else {
        out.push((7 << 5) | hi);
        out.push((l - 7) as u8);
    }
    out.push(off as u8);
}

/// Compresses `input`; `None` when the result would be longer than
/// `max_out` bytes (the caller then stores the input as it is).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let len = input.len();
    // A table sized to the input: most strings are short, and clearing a
    // big table for each would cost more than compressing them.
    let log = (usize::BITS - len.max(256).leading_zeros()).min(HASH_LOG_MAX);
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        let table = &mut t[..1 << log];
        table.fill(0);
        compress_with(input, max_out, table, log)
    })
}

thread_local! {
    static TABLE: std::cell::RefCell<Box<[u32]>> = std::cell::RefCell::new(vec![0u32; 1 << HASH_LOG_MAX].into_boxed_slice());
}

fn compress_with(input: &[u8], max_out: usize, table: &mut [u32], log: u32) -> Option<Vec<u8>> {
    let len = input.len();
    let mut out = Vec::with_capacity(max_out.min(len + len / MAX_LIT + 1));
    let mut lit_start = 0;
    let mut ip = 0;
    while ip + 2 < len {
        let h = hash3(input, ip, log);
        let cand = table[h] as usize;
        table[h] = ip as u32 + 1;
        if cand != 0 {
            let r = cand - 1;
            let off = ip - r - 1;
            if off < MAX_OFF && input[r..r + 3] == input[ip..ip + 3] {
                let max = MAX_REF.min(len - ip);
                let mut l = 3;
                while l < max && input[r + l] == input[ip + l] {
                    l += 1;
                }
                push_literals(&mut out, &input[lit_start..ip]);
                push_ref(&mut out, l, off);
                if out.len() > max_out {
                    return None;
                }
                // Index the match's last positions so the next one can
                // start right after it.
                let end = ip + l;
                for p in end.saturating_sub(2).max(ip + 1)..end {
                    if p + 2 < len {
                        table[hash3(input, p, log)] = p as u32 + 1;
                    }
                }
                ip = end;
                lit_start = ip;
                continue;
            }
        }
        ip += 1;
    }
    push_literals(&mut out, &input[lit_start..]);
    (out.len() <= max_out).then_some(out)
}

/// Decompresses `input`, which must produce exactly `out_len` bytes. The
/// caller has checked `out_len` against `MAX_EXPANSION`.
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, &'static str> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < MAX_LIT {
            let n = ctrl + 1;
            let lit = input.get(ip..ip + n).ok_or("a literal run goes past the compressed data")?;
            if out.len() + n > out_len {
                return Err("the data decompresses to more than the announced length");
            }
            out.extend_from_slice(lit);
            ip += n;
        } else {
            let mut l = ctrl >> 5;
            if l == 7 {
                l += *input.get(ip).ok_or("a back reference is cut short")? as usize;
                ip += 1;
            }
            l += 2;
            let lo = *input.get(ip).ok_or("a back reference is cut short")? as usize;
            ip += 1;
            let off = (((ctrl & 0x1F) << 8) | lo) + 1;
            if off > out.len() {
                return Err("a back reference points before the start of the data");
            }
            if out.len() + l > out_len {
                return Err("the data decompresses to more than the announced length");
            }
            let start = out.len() - off;
            if off >= l {
                out.extend_from_within(start..start + l);
            } else {
                for i in 0..l {
                    let b = out[start + i];
                    out.push(b);
                }
            }
        }
    }
    if out.len() != out_len {
        return Err("the data decompresses to fewer bytes than announced");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn round_trips_over_generated_inputs() {
        let mut r = rng(0xC0FFEE);
        for case in 0..2000 {
            let len = (r() % 3000) as usize;
            let alphabet = 1 + (r() % 255) as u8;
            let runs = case % 3 == 0;
            let mut v = Vec::with_capacity(len);
            while v.len() < len {
                let b = (r() % alphabet as u64) as u8;
                let n = if runs { 1 + (r() % 300) as usize } else { 1 };
                v.extend(std::iter::repeat_n(b, n.min(len - v.len())));
            }
            if let Some(c) = compress(&v, len + len / 32 + 8) {
                assert_eq!(decompress(&c, v.len()).unwrap(), v, "case {case}");
                assert!(v.len() <= c.len() * MAX_EXPANSION + MAX_EXPANSION);
            }
        }
    }

    #[test]
    fn compresses_repetition_and_respects_the_bound() {
        let v = vec![b'a'; 100_000];
        let c = compress(&v, 100_000 - 4).unwrap();
        assert!(c.len() < 1200, "{}", c.len());
        assert_eq!(decompress(&c, v.len()).unwrap(), v);
        let noise: Vec<u8> = {
            let mut r = rng(7);
            (0..1000).map(|_| r() as u8).collect()
        };
        assert!(compress(&noise, 996).is_none());
    }

    #[test]
    fn known_stream_from_redis() {
        // 100 'x' as Redis 7.0.15 wrote them: literal "xx", a long reference
        // of 96 bytes at distance 1, literal "xx".
        let c = [0x01, b'x', b'x', 0xE0, 0x57, 0x00, 0x01, b'x', b'x'];
        assert_eq!(decompress(&c, 100).unwrap(), vec![b'x'; 100]);
        assert_eq!(decompress(&c[3..], 98).unwrap_err(), "a back reference points before the start of the data");
    }

    #[test]
    fn damaged_streams_fail_cleanly() {
        let v: Vec<u8> = b"abcabcabcabcabcabcabc-hello-hello-hello".repeat(20);
        let c = compress(&v, v.len()).unwrap();
        let mut r = rng(99);
        for _ in 0..5000 {
            let mut d = c.clone();
            let i = (r() as usize) % d.len();
            d[i] ^= 1 << (r() % 8);
            let cut = (r() as usize) % (d.len() + 1);
            let _ = decompress(&d[..cut], v.len());
            let _ = decompress(&d, v.len());
        }
        assert!(decompress(&c, v.len() + 1).is_err());
        assert!(decompress(&c, v.len() - 1).is_err());
    }
}
