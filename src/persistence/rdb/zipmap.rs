//! Zipmap, the hash encoding of RDB versions 2 and 3 (read only). Layout in
//! docs/formats/rdb.md, "Zipmap"; loading converts it into a listpack.
//!
//! Invariant: `pairs` accepts a zipmap only when every length, free count
//! and the end byte lie inside the blob and its count (when below 254)
//! matches.

use super::format::zipmap::*;

fn length(b: &[u8], p: &mut usize) -> Result<usize, String> {
    let first = *b.get(*p).ok_or("zipmap is cut short")?;
    *p += 1;
    if first < BIGLEN {
        return Ok(first as usize);
    }
    if first == END {
        return Err(format!("zipmap has its end byte where a length should be, at byte {}", *p - 1));
    }
    let four = b.get(*p..*p + 4).ok_or("zipmap is cut short")?;
    *p += 4;
    Ok(u32::from_le_bytes(four.try_into().unwrap_or([0; 4])) as usize)
}

fn take<'a>(b: &'a [u8], p: &mut usize, n: usize) -> Result<&'a [u8], String> {
    let s = b.get(*p..p.checked_add(n).ok_or("zipmap length overflows")?).ok_or("zipmap is cut short")?;
    *p += n;
    Ok(s)
}

/// A field and its value.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// Every (field, value) pair of the zipmap `b`, after checking all of it.
pub fn pairs(b: &[u8]) -> Result<Vec<Pair<'_>>, String> {
    let count = *b.first().ok_or("zipmap is empty: not even a count byte")?;
    let mut p = 1;
    let mut out = Vec::new();
    loop {
        match b.get(p) {
            None => return Err("zipmap does not end with 0xFF".into()),
            Some(&END) => break,
            Some(_) => {}
        }
        let flen = length(b, &mut p)?;
        let field = take(b, &mut p, flen)?;
        let vlen = length(b, &mut p)?;
        let free = *take(b, &mut p, 1)?.first().unwrap_or(&0) as usize;
        let value = take(b, &mut p, vlen)?;
        take(b, &mut p, free)?;
        out.push((field, value));
    }
    if p + 1 != b.len() {
        return Err(format!("zipmap has {} bytes after its end byte", b.len() - p - 1));
    }
    if count < BIGLEN && count as usize != out.len() {
        return Err(format!("zipmap header counts {count} pairs, it holds {}", out.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_written_zipmap() {
        // The value of hash-zipmap.rdb (RDB v3): f1=v1, f2=v2.
        let zm = [2, 2, b'f', b'1', 2, 0, b'v', b'1', 2, b'f', b'2', 2, 0, b'v', b'2', 0xff];
        assert_eq!(pairs(&zm).unwrap(), vec![(&b"f1"[..], &b"v1"[..]), (&b"f2"[..], &b"v2"[..])]);
    }

    #[test]
    fn free_bytes_and_big_lengths() {
        let mut zm = vec![1, 254];
        zm.extend_from_slice(&300u32.to_le_bytes());
        zm.extend_from_slice(&[b'k'; 300]);
        zm.extend_from_slice(&[1, 2, b'v', 0, 0, 0xff]);
        let p = pairs(&zm).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0.len(), 300);
        assert_eq!(p[0].1, b"v");
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let zm = [2, 2, b'f', b'1', 2, 0, b'v', b'1', 2, b'f', b'2', 2, 0, b'v', b'2', 0xff];
        for i in 0..zm.len() {
            for bit in 0..8 {
                let mut d = zm.to_vec();
                d[i] ^= 1 << bit;
                let _ = pairs(&d);
                let _ = pairs(&d[..i]);
            }
        }
        assert!(pairs(&zm[..zm.len() - 1]).is_err());
    }
}
