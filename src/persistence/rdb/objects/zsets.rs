//! Sorted-set loaders: text and binary scores, ziplists and listpacks.

use super::*;

/// A ZSET (type 3) score: a length byte with three special values, then
/// the text of a double.
pub(super) fn read_text_score(inp: &mut Input) -> Result<f64> {
    let at = inp.pos;
    let n = inp.u8()?;
    Ok(match n {
        score::NAN => f64::NAN,
        score::POS_INF => f64::INFINITY,
        score::NEG_INF => f64::NEG_INFINITY,
        _ => {
            let t = inp.take(n as usize)?;
            parse_f64(t).ok_or_else(|| {
                inp.corrupt(at, format!("score \"{}\" is not a number", crate::persistence::rdb::error::show(t)))
            })?
        }
    })
}

/// A sorted set from members with scores, in the form Redis 7.0 picks:
/// listpack when small enough, else skip list.
pub(super) fn zset_plain(inp: &mut Input, cx: &Ctx, binary: bool) -> Result<Option<Value>> {
    inp.what = "sorted set";
    let n = inp.len()?;
    let mut z = ZSet::new_skip();
    let big = ZsetLimits { entries: usize::MAX, value: usize::MAX };
    for _ in 0..n {
        inp.what = "sorted set member";
        let m_at = inp.pos;
        let m = inp.string()?;
        inp.what = "sorted set score";
        let s_at = inp.pos;
        let score = if binary { f64::from_le_bytes(inp.array()?) } else { read_text_score(inp)? };
        if score.is_nan() {
            return Err(inp.corrupt(s_at, "sorted set score is NaN"));
        }
        if z.add(score, m.bytes(), AddFlags::default(), big) != AddOutcome::Added(score) {
            return Err(dup(inp, m_at, "sorted set member", m.bytes()));
        }
    }
    if z.is_empty() {
        return Ok(None);
    }
    z.shrink_if_fits(cx.limits.zset());
    Ok(Some(Value::ZSet(z)))
}

/// The longest `%.17g` text: sign, 17 digits, point and a 3-digit exponent
/// (`-1.2345678901234567e-308`).
const G17_TEXT_MAX: usize = 24;

/// The score of a listpack entry, when it is a number and not NaN: the
/// double the keyspace reads from it (`parse_f64`), or refused.
pub(super) fn lp_score(v: LpVal) -> Option<f64> {
    match v {
        LpVal::Int(i) => Some(i as f64),
        // Scores are written as `%.17g`: Rust's parser reads those much
        // faster than strtod, to the same double. It also reads an
        // overflow as infinity and text of any length, which strtod's rules
        // (and so the keyspace) refuse: those, and anything else, are left
        // to strtod.
        LpVal::Str(s) => match std::str::from_utf8(s).ok().and_then(|t| t.parse::<f64>().ok()) {
            Some(f)
                if f.is_finite()
                    && s.len() <= G17_TEXT_MAX
                    && s.iter().all(|c| c.is_ascii_digit() || b".eE+-".contains(c)) =>
            {
                Some(f)
            }
            _ => parse_f64(s),
        },
    }
}

/// A sorted set from a listpack of member, score pairs: checked, converted
/// to a skip list when it has more members than `zset-max-listpack-entries`.
pub(super) fn zset_from_lp(
    inp: &Input,
    at: usize,
    lp: Listpack,
    cx: &Ctx,
    checked_unique: bool,
) -> Result<Option<Value>> {
    let Some(pairs) = pair_count(inp, at, &lp, "sorted set")? else {
        return Ok(None);
    };
    let mut prev: Option<(f64, Cow<[u8]>)> = None;
    for (m, s) in lp_pairs(&lp) {
        let score = lp_score(s).ok_or_else(|| {
            inp.corrupt(
                at,
                format!("sorted set score \"{}\" is not a number", crate::persistence::rdb::error::show(&s.to_bytes())),
            )
        })?;
        if cx.deep {
            let m = m.to_bytes();
            if let Some((ps, pm)) = &prev {
                if (*ps, pm.as_ref()) > (score, m.as_ref()) {
                    return Err(inp.corrupt(at, "sorted set listpack is not in score order"));
                }
            }
            prev = Some((score, m));
        }
    }
    if cx.deep && !checked_unique {
        unique(inp, at, "sorted set member", lp_pairs(&lp).map(|(m, _)| m.to_bytes()))?;
    }
    if pairs <= cx.limits.zset_max_listpack_entries {
        return Ok(Some(Value::ZSet(ZSet::Lp(lp))));
    }
    let mut z = ZSet::new_skip();
    let big = ZsetLimits { entries: usize::MAX, value: usize::MAX };
    for (m, s) in lp_pairs(&lp) {
        let m = m.to_bytes();
        let score = lp_score(s).unwrap_or(0.0);
        if z.add(score, &m, AddFlags::default(), big) != AddOutcome::Added(score) {
            return Err(dup(inp, at, "sorted set member", &m));
        }
    }
    Ok(Some(Value::ZSet(z)))
}

pub(super) fn zset_listpack(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, lp) = listpack(inp, "sorted set listpack")?;
    zset_from_lp(inp, at, lp, cx, false)
}

pub(super) fn zset_ziplist(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, lp) = pairs_ziplist(inp, "sorted set ziplist", "sorted set member")?;
    zset_from_lp(inp, at, lp, cx, true)
}
