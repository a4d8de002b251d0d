//! Ziplist, the compact encoding of RDB versions 2 to 9 (read only: lists,
//! hashes and sorted sets, and the nodes of the first quicklist). Layout in
//! docs/formats/rdb.md, "Ziplist"; loading converts every ziplist into a
//! listpack.
//!
//! Invariant: `entries` accepts a ziplist only when its header (total
//! bytes, tail offset, count), every entry's previous-length and encoding,
//! and its end byte all agree.

use super::format::ziplist::*;
use crate::keyspace::listpack::LpVal;

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64)
}

/// Decodes the entry at `off`; returns the element and the entry's size.
fn entry(b: &[u8], off: usize, prev_size: usize) -> Result<(LpVal<'_>, usize), String> {
    let at = |what: &str| format!("ziplist entry at byte {off} {what}");
    let first = *b.get(off).ok_or_else(|| at("runs past the end"))?;
    let (prevlen, mut p) = if first < PREVLEN_BIG {
        (first as usize, off + 1)
    } else if first == PREVLEN_BIG {
        (le(b.get(off + 1..off + 5).ok_or_else(|| at("runs past the end"))?) as usize, off + 5)
    } else {
        return Err(at("has an invalid previous-entry length"));
    };
    if prevlen != prev_size {
        return Err(at(&format!("says the previous entry has {prevlen} bytes, it has {prev_size}")));
    }
    let e = *b.get(p).ok_or_else(|| at("runs past the end"))?;
    p += 1;
    let need = |p: usize, n: usize| p.checked_add(n).and_then(|e| b.get(p..e)).ok_or_else(|| at("runs past the end"));
    let val = match e >> 6 {
        STR_6 | STR_14 | STR_32 => {
            let len = match e >> 6 {
                STR_6 => (e & 0x3F) as usize,
                STR_14 => {
                    let n = ((e & 0x3F) as usize) << 8 | *need(p, 1)?.first().unwrap_or(&0) as usize;
                    p += 1;
                    n
                }
                _ => {
                    if e != 0x80 {
                        return Err(at(&format!("has invalid encoding byte 0x{e:02x}")));
                    }
                    let n = u32::from_be_bytes(need(p, 4)?.try_into().unwrap_or([0; 4])) as usize;
                    p += 4;
                    n
                }
            };
            let s = need(p, len)?;
            p += len;
            LpVal::Str(s)
        }
        _ => {
            let (v, n) = match e {
                INT16 => (le(need(p, 2)?) as u16 as i16 as i64, 2),
                INT32 => (le(need(p, 4)?) as u32 as i32 as i64, 4),
                INT64 => (le(need(p, 8)?) as i64, 8),
                INT24 => ((((le(need(p, 3)?) as u32) << 8) as i32 >> 8) as i64, 3),
                INT8 => (need(p, 1)?[0] as i8 as i64, 1),
                IMM_MIN..=IMM_MAX => ((e & 0x0F) as i64 - 1, 0),
                _ => return Err(at(&format!("has invalid encoding byte 0x{e:02x}"))),
            };
            p += n;
            LpVal::Int(v)
        }
    };
    Ok((val, p - off))
}

/// Every element of the ziplist `b`, after checking all of it.
pub fn entries(b: &[u8]) -> Result<Vec<LpVal<'_>>, String> {
    if b.len() < HEADER + 1 {
        return Err(format!(
            "ziplist of {} bytes is shorter than its {}-byte header and end byte",
            b.len(),
            HEADER + 1
        ));
    }
    let total = le(&b[0..4]) as usize;
    let tail = le(&b[4..8]) as usize;
    let count = le(&b[8..10]) as u16;
    if total != b.len() {
        return Err(format!("ziplist header says {total} bytes, it has {}", b.len()));
    }
    if b[b.len() - 1] != END {
        return Err("ziplist does not end with 0xFF".into());
    }
    let end = b.len() - 1;
    let body = &b[..end];
    let mut out = Vec::with_capacity((count as usize).min(end / 2));
    let mut off = HEADER;
    let mut prev_size = 0;
    let mut last = HEADER;
    while off < end {
        let (v, size) = entry(body, off, prev_size)?;
        out.push(v);
        last = off;
        prev_size = size;
        off += size;
    }
    if last != tail {
        return Err(format!("ziplist header puts its last entry at byte {tail}, it is at byte {last}"));
    }
    if count != COUNT_UNKNOWN && count as usize != out.len() {
        return Err(format!("ziplist header counts {count} entries, it holds {}", out.len()));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a ziplist (for tests of the loader: Redis no longer writes
    /// them).
    pub fn build(vals: &[LpVal]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut last = HEADER;
        for v in vals {
            let start = body.len();
            last = HEADER + start;
            if prev < PREVLEN_BIG as usize {
                body.push(prev as u8);
            } else {
                body.push(PREVLEN_BIG);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            match *v {
                LpVal::Str(s) if s.len() < 64 => {
                    body.push(s.len() as u8);
                    body.extend_from_slice(s);
                }
                LpVal::Str(s) if s.len() < 16384 => {
                    body.push(0x40 | (s.len() >> 8) as u8);
                    body.push(s.len() as u8);
                    body.extend_from_slice(s);
                }
                LpVal::Str(s) => {
                    body.push(0x80);
                    body.extend_from_slice(&(s.len() as u32).to_be_bytes());
                    body.extend_from_slice(s);
                }
                LpVal::Int(n @ 0..=12) => body.push(IMM_MIN + n as u8),
                LpVal::Int(n @ -128..=127) => {
                    body.push(INT8);
                    body.push(n as i8 as u8);
                }
                LpVal::Int(n @ -32768..=32767) => {
                    body.push(INT16);
                    body.extend_from_slice(&(n as i16).to_le_bytes());
                }
                LpVal::Int(n @ -8_388_608..=8_388_607) => {
                    body.push(INT24);
                    body.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
                }
                LpVal::Int(n) if n as i32 as i64 == n => {
                    body.push(INT32);
                    body.extend_from_slice(&(n as i32).to_le_bytes());
                }
                LpVal::Int(n) => {
                    body.push(INT64);
                    body.extend_from_slice(&n.to_le_bytes());
                }
            }
            prev = body.len() - start;
        }
        let total = HEADER + body.len() + 1;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&(total as u32).to_le_bytes());
        out.extend_from_slice(&(last as u32).to_le_bytes());
        out.extend_from_slice(&(vals.len().min(COUNT_UNKNOWN as usize) as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(END);
        out
    }

    #[test]
    fn round_trips_every_encoding() {
        let long = vec![b'z'; 300];
        let huge = vec![b'q'; 20000];
        let vals = [
            LpVal::Int(0),
            LpVal::Int(12),
            LpVal::Int(13),
            LpVal::Int(-128),
            LpVal::Int(30000),
            LpVal::Int(-8_000_000),
            LpVal::Int(2_000_000_000),
            LpVal::Int(i64::MIN),
            LpVal::Str(b""),
            LpVal::Str(&long),
            LpVal::Str(&huge),
            LpVal::Str(b"after a big one"),
        ];
        let zl = build(&vals);
        assert_eq!(entries(&zl).unwrap(), vals.to_vec());
    }

    #[test]
    fn redis_written_list_node() {
        // The node of list-quicklist.rdb (written by Redis 4.0.9): one entry, 7.
        let zl = [0x0d, 0, 0, 0, 0x0a, 0, 0, 0, 1, 0, 0, 0xf8, 0xff];
        assert_eq!(entries(&zl).unwrap(), vec![LpVal::Int(7)]);
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let zl = build(&[LpVal::Str(b"hello"), LpVal::Int(1000), LpVal::Str(&[b'x'; 70])]);
        assert!(entries(&zl[..5]).is_err());
        for i in 0..zl.len() {
            for bit in 0..8 {
                let mut d = zl.clone();
                d[i] ^= 1 << bit;
                let _ = entries(&d);
            }
        }
        let mut bad_count = zl.clone();
        bad_count[8] = 2;
        assert!(entries(&bad_count).unwrap_err().contains("counts 2"));
    }
}
