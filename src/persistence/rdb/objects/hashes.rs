//! Hash loaders: plain hashes, zipmaps, ziplists and listpacks.

use super::*;

/// A table of field/value pairs; a field seen twice is an error.
pub(super) fn hash_table<'a>(
    inp: &Input,
    at: usize,
    n: usize,
    pairs: impl Iterator<Item = (LpVal<'a>, LpVal<'a>)>,
) -> Result<Hash> {
    let mut d: Box<Dict<FieldValue>> = table_for(n as u64, n);
    let (mut f, mut v) = (Vec::new(), Vec::new());
    for (k, val) in pairs {
        f.clear();
        v.clear();
        k.append_to(&mut f);
        val.append_to(&mut v);
        if d.insert_unique(FieldValue { field: CBytes::new(&f), value: CBytes::new(&v) }).is_err() {
            return Err(dup(inp, at, "hash field", &f));
        }
    }
    Ok(Hash::Table(d.into()))
}

pub(super) fn hash_plain(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    inp.what = "hash";
    let n = inp.len()?;
    let lim = cx.limits;
    let small_enough = n <= lim.hash_max_listpack_entries as u64;
    let mut small: Option<Vec<Str>> = small_enough.then(Vec::new);
    let mut table: Box<Dict<FieldValue>> =
        if small_enough { Box::default() } else { table_for(n, inp.remaining() / 2) };
    for _ in 0..n {
        inp.what = "hash field";
        let f_at = inp.pos;
        let f = inp.string()?;
        inp.what = "hash value";
        let v = inp.string()?;
        if let Some(pairs) = &mut small {
            if f.bytes().len() > lim.hash_max_listpack_value || v.bytes().len() > lim.hash_max_listpack_value {
                // Too long for a listpack: the pairs so far move to a table.
                let moved = std::mem::take(pairs);
                small = None;
                for p in moved.chunks(2) {
                    table.insert_new(FieldValue { field: CBytes::new(p[0].bytes()), value: CBytes::new(p[1].bytes()) });
                }
            } else {
                if pairs.chunks(2).any(|p| p[0].bytes() == f.bytes()) {
                    return Err(dup(inp, f_at, "hash field", f.bytes()));
                }
                pairs.push(f);
                pairs.push(v);
                continue;
            }
        }
        if table.insert_unique(FieldValue { field: CBytes::new(f.bytes()), value: CBytes::new(v.bytes()) }).is_err() {
            return Err(dup(inp, f_at, "hash field", f.bytes()));
        }
    }
    let h = match small {
        Some(pairs) if pairs.is_empty() => return Ok(None),
        Some(pairs) => {
            let vals: Vec<LpVal> = pairs.iter().map(lp_val).collect();
            let mut lp = Listpack::new();
            lp.extend(&vals);
            Hash::Lp(lp)
        }
        None if table.is_empty() => return Ok(None),
        None => Hash::Table(table.into()),
    };
    Ok(Some(Value::Hash(h)))
}

/// A hash from a listpack of pairs: checked, converted to a table when it
/// has more pairs than `hash-max-listpack-entries`.
pub(super) fn hash_from_lp(
    inp: &Input,
    at: usize,
    lp: Listpack,
    cx: &Ctx,
    checked_unique: bool,
) -> Result<Option<Value>> {
    let Some(pairs) = pair_count(inp, at, &lp, "hash")? else {
        return Ok(None);
    };
    if pairs > cx.limits.hash_max_listpack_entries {
        return hash_table(inp, at, pairs, lp_pairs(&lp)).map(|h| Some(Value::Hash(h)));
    }
    if cx.deep && !checked_unique {
        unique(inp, at, "hash field", lp_pairs(&lp).map(|(f, _)| f.to_bytes()))?;
    }
    Ok(Some(Value::Hash(Hash::Lp(lp))))
}

pub(super) fn hash_listpack(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, lp) = listpack(inp, "hash listpack")?;
    hash_from_lp(inp, at, lp, cx, false)
}

pub(super) fn hash_ziplist(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, lp) = pairs_ziplist(inp, "hash ziplist", "hash field")?;
    hash_from_lp(inp, at, lp, cx, true)
}

pub(super) fn hash_zipmap(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, b) = blob(inp, "hash zipmap")?;
    let pairs = zipmap::pairs(&b).map_err(|m| inp.corrupt(at, m))?;
    if pairs.is_empty() {
        return Ok(None);
    }
    unique(inp, at, "hash field", pairs.iter().map(|p| Cow::Borrowed(p.0)))?;
    let lim = cx.limits;
    let longest = pairs.iter().map(|(f, v)| f.len().max(v.len())).max().unwrap_or(0);
    let vals: Vec<LpVal> = pairs.iter().flat_map(|(f, v)| [LpVal::from_bytes(f), LpVal::from_bytes(v)]).collect();
    if pairs.len() > lim.hash_max_listpack_entries || longest > lim.hash_max_listpack_value {
        let it = vals.chunks(2).map(|p| (p[0], p[1]));
        return hash_table(inp, at, pairs.len(), it).map(|h| Some(Value::Hash(h)));
    }
    let mut lp = Listpack::new();
    lp.extend(&vals);
    Ok(Some(Value::Hash(Hash::Lp(lp))))
}
