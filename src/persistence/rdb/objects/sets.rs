//! Set loaders: plain sets, intsets and (version 11) listpack sets, built
//! as an intset or a table by Redis 7.0's rule.

use super::*;

/// Builds a set from members: an intset while all are integers and there
/// are at most `set-max-intset-entries`, else a table. Duplicates are an
/// error.
pub(super) struct SetBuilder {
    ints: Vec<i64>,
    table: Option<Box<Dict<Member>>>,
    max_intset: usize,
}

impl SetBuilder {
    /// For `n` announced members, of which at most `bound` can be present.
    fn new(n: u64, bound: usize, max_intset: usize) -> Self {
        let table = (n > max_intset as u64).then(|| table_for(n, bound));
        SetBuilder { ints: Vec::new(), table, max_intset }
    }

    /// Moves the integers gathered so far into a table; a repeated one is
    /// handed back.
    fn make_table(&mut self) -> std::result::Result<&mut Dict<Member>, i64> {
        if self.table.is_none() {
            let mut d: Box<Dict<Member>> = table_for(self.ints.len() as u64, self.ints.len());
            for v in self.ints.drain(..) {
                if d.insert_unique(Member(CBytes::new(crate::util::itoa(v).as_bytes()))).is_err() {
                    return Err(v);
                }
            }
            self.table = Some(d);
        }
        Ok(self.table.as_mut().expect("just made"))
    }

    /// Adds a member; on a duplicate, returns its text.
    fn add(&mut self, m: LpVal) -> std::result::Result<(), Vec<u8>> {
        if self.table.is_none() {
            if let LpVal::Int(v) = m {
                self.ints.push(v);
                return Ok(());
            }
        }
        let member = match m {
            LpVal::Str(s) => CBytes::new(s),
            LpVal::Int(v) => CBytes::new(crate::util::itoa(v).as_bytes()),
        };
        let d = self.make_table().map_err(|v| crate::util::itoa(v).as_bytes().to_vec())?;
        d.insert_unique(Member(member)).map_err(|m| m.0.to_vec())
    }

    /// The set, or the duplicate integer found while sorting.
    fn finish(mut self) -> std::result::Result<Option<Set>, i64> {
        if self.table.is_none() {
            self.ints.sort_unstable();
            if let Some(w) = self.ints.windows(2).find(|w| w[0] == w[1]) {
                return Err(w[0]);
            }
            if self.ints.len() <= self.max_intset {
                return Ok((!self.ints.is_empty()).then(|| Set::Int(intset_of(&self.ints))));
            }
            self.make_table()?;
        }
        let d = self.table.expect("table form");
        Ok((!d.is_empty()).then(|| Set::Table(d.into())))
    }
}

/// An intset of sorted, distinct integers.
pub(super) fn intset_of(sorted: &[i64]) -> Intset {
    let (lo, hi) = (sorted[0], sorted[sorted.len() - 1]);
    let fits = |min: i64, max: i64| lo >= min && hi <= max;
    let width = if fits(i16::MIN as i64, i16::MAX as i64) {
        2
    } else if fits(i32::MIN as i64, i32::MAX as i64) {
        4
    } else {
        8
    };
    let mut b = Vec::with_capacity(8 + sorted.len() * width);
    b.extend_from_slice(&(width as u32).to_le_bytes());
    b.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for v in sorted {
        b.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    Intset::from_bytes(b.into_boxed_slice()).expect("sorted distinct integers make a valid intset")
}

pub(super) fn set_done(inp: &Input, at: usize, b: SetBuilder) -> Result<Option<Value>> {
    match b.finish() {
        Ok(s) => Ok(s.map(Value::Set)),
        Err(v) => Err(dup(inp, at, "set member", crate::util::itoa(v).as_bytes())),
    }
}

pub(super) fn set_plain(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    inp.what = "set";
    let at = inp.pos;
    let n = inp.len()?;
    let mut b = SetBuilder::new(n, inp.remaining(), cx.limits.set_max_intset_entries);
    for _ in 0..n {
        inp.what = "set member";
        let m_at = inp.pos;
        let s = inp.string()?;
        if let Err(m) = b.add(lp_val(&s)) {
            return Err(dup(inp, m_at, "set member", &m));
        }
    }
    set_done(inp, at, b)
}

pub(super) fn set_intset(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, b) = blob(inp, "set intset")?;
    let is = Intset::from_bytes(b).map_err(|m| inp.corrupt(at, m))?;
    if is.is_empty() {
        return Ok(None);
    }
    let mut s = Set::Int(is);
    if s.len() > cx.limits.set_max_intset_entries {
        s.to_table();
    }
    Ok(Some(Value::Set(s)))
}

pub(super) fn set_listpack(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, lp) = listpack(inp, "set listpack")?;
    let mut b = SetBuilder::new(lp.len() as u64, lp.len(), cx.limits.set_max_intset_entries);
    for m in lp.iter() {
        if let Err(m) = b.add(m) {
            return Err(dup(inp, at, "set member", &m));
        }
    }
    set_done(inp, at, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_width_follows_the_extremes() {
        assert_eq!(intset_of(&[1, 2]).as_bytes()[0], 2);
        assert_eq!(intset_of(&[-40000, 2]).as_bytes()[0], 4);
        assert_eq!(intset_of(&[0, i64::MAX]).as_bytes()[0], 8);
    }
}
