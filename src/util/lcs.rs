//! Longest common subsequence of two byte strings, with the matching
//! ranges LCS IDX reports.

/// A contiguous run of the common subsequence: inclusive ranges in `a`
/// and in `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub a: (u32, u32),
    pub b: (u32, u32),
}

impl Match {
    /// Number of bytes in the run.
    pub fn length(&self) -> u32 {
        self.a.1 - self.a.0 + 1
    }
}

pub struct Lcs {
    /// `(alen + 1) * (blen + 1)` table: `t[i * (blen + 1) + j]` is the LCS
    /// length of `a[..i]` and `b[..j]`.
    table: Vec<u32>,
    blen: usize,
}

/// Why the table could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LcsError {
    /// A string is too long for 32-bit indexes.
    TooLong,
    /// The table would take more than the allowed bytes.
    OverLimit,
    /// The allocation failed.
    NoMemory,
}

impl Lcs {
    /// Builds the dynamic-programming table, refusing one of more than
    /// `limit` bytes.
    pub fn new(a: &[u8], b: &[u8], limit: u64) -> Result<Lcs, LcsError> {
        if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
            return Err(LcsError::TooLong);
        }
        let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
        let bytes = cells.checked_mul(4).ok_or(LcsError::NoMemory)?;
        if bytes > limit {
            return Err(LcsError::OverLimit);
        }
        let cells = usize::try_from(cells).map_err(|_| LcsError::NoMemory)?;
        let mut table: Vec<u32> = Vec::new();
        table.try_reserve_exact(cells).map_err(|_| LcsError::NoMemory)?;
        table.resize(cells, 0);
        let w = b.len() + 1;
        for i in 1..=a.len() {
            let ai = a[i - 1];
            for j in 1..=b.len() {
                table[i * w + j] = if ai == b[j - 1] {
                    table[(i - 1) * w + j - 1] + 1
                } else {
                    table[(i - 1) * w + j].max(table[i * w + j - 1])
                };
            }
        }
        Ok(Lcs { table, blen: b.len() })
    }

    #[inline]
    fn at(&self, i: usize, j: usize) -> u32 {
        self.table[i * (self.blen + 1) + j]
    }

    /// Length of the longest common subsequence.
    pub fn len(&self) -> u32 {
        *self.table.last().unwrap_or(&0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Walks the table back from the ends of both strings (which must be
    /// the ones the table was built from): returns the subsequence and its
    /// runs, last run first (the order LCS IDX replies in). On a mismatch
    /// the walk steps back in `a` only when that keeps a strictly longer
    /// subsequence.
    pub fn walk(&self, a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<Match>) {
        let mut seq = vec![0u8; self.len() as usize];
        let mut k = seq.len();
        let mut runs = Vec::new();
        let (mut i, mut j) = (a.len(), b.len().min(self.blen));
        let mut cur: Option<Match> = None;
        while i > 0 && j > 0 && k > 0 {
            if a[i - 1] == b[j - 1] {
                k -= 1;
                seq[k] = a[i - 1];
                let (ai, bj) = (i as u32 - 1, j as u32 - 1);
                // Runs only ever grow backwards: the previous step was the
                // diagonal from (ai + 1, bj + 1).
                let m = match cur {
                    Some(m) => Match { a: (ai, m.a.1), b: (bj, m.b.1) },
                    None => Match { a: (ai, ai), b: (bj, bj) },
                };
                i -= 1;
                j -= 1;
                if ai == 0 || bj == 0 {
                    runs.push(m);
                    cur = None;
                } else {
                    cur = Some(m);
                }
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                runs.extend(cur.take());
            }
        }
        runs.extend(cur.take());
        (seq, runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsequence_and_runs() {
        let (a, b) = (&b"ohmytext"[..], &b"mynewtext"[..]);
        let l = Lcs::new(a, b, u64::MAX).unwrap();
        assert_eq!(l.len(), 6);
        let (seq, runs) = l.walk(a, b);
        assert_eq!(seq, b"mytext");
        assert_eq!(runs, vec![Match { a: (4, 7), b: (5, 8) }, Match { a: (2, 3), b: (0, 1) }]);
        assert_eq!(runs[0].length(), 4);
        let l = Lcs::new(b"", b"abc", u64::MAX).unwrap();
        assert_eq!(l.walk(b"", b"abc"), (vec![], vec![]));
        assert_eq!(Lcs::new(b"abc", b"abc", 10).err(), Some(LcsError::OverLimit));
    }
}
