//! SORT and SORT_RO: sorting the elements of a list, set or sorted set
//! numerically or as strings, by their own value or by the value of other
//! keys (`BY weight_*`, `BY obj_*->field`), with LIMIT, GET patterns and
//! STORE into a list.
//!
//! Invariants, as in Redis 7.0: the result is deterministic whatever the
//! set's internal order when it is stored (an unsorted set is sorted as
//! strings before STORE); equal numeric scores are ordered by the elements'
//! bytes, so the order never depends on the sort algorithm.

use super::flags::*;
use super::strings::{read, str_of};
use super::typed::{as_hash, list_fill};
use super::{notify, Command, Ctx, SYNTAX_ERR, WRONGTYPE};
use crate::keyspace::quicklist::Quicklist;
use crate::keyspace::Value;
use crate::util::{kw_eq, parse_i64};
use std::cmp::Ordering;

pub const COMMANDS: &[Command] = &[
    Command::new("sort", -2, WRITE | DENYOOM | MOVABLE_KEYS, sort).keys(1, 1, 1),
    Command::new("sort_ro", -2, READONLY | MOVABLE_KEYS, sort_ro).keys(1, 1, 1),
];

fn sort(ctx: &mut Ctx, args: &[&[u8]]) {
    sort_generic(ctx, args, false);
}

fn sort_ro(ctx: &mut Ctx, args: &[&[u8]]) {
    sort_generic(ctx, args, true);
}

struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    by: Option<&'a [u8]>,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

fn parse_options<'a>(ctx: &mut Ctx, args: &[&'a [u8]], readonly: bool) -> Option<Options<'a>> {
    let mut o = Options { desc: false, alpha: false, limit: None, by: None, gets: Vec::new(), store: None };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args[j];
        if kw_eq(a, b"asc") {
            o.desc = false;
        } else if kw_eq(a, b"desc") {
            o.desc = true;
        } else if kw_eq(a, b"alpha") {
            o.alpha = true;
        } else if kw_eq(a, b"limit") && left >= 2 {
            let start = super::arg_i64(ctx, args[j + 1])?;
            let count = super::arg_i64(ctx, args[j + 2])?;
            o.limit = Some((start, count));
            j += 2;
        } else if !readonly && kw_eq(a, b"store") && left >= 1 {
            o.store = Some(args[j + 1]);
            j += 1;
        } else if kw_eq(a, b"by") && left >= 1 {
            o.by = Some(args[j + 1]);
            j += 1;
        } else if kw_eq(a, b"get") && left >= 1 {
            o.gets.push(args[j + 1]);
            j += 1;
        } else {
            ctx.err(SYNTAX_ERR);
            return None;
        }
        j += 1;
    }
    Some(o)
}

/// The bytes of a pattern up to its first NUL (patterns are C strings).
fn c_part(b: &[u8]) -> &[u8] {
    b.split(|&c| c == 0).next().unwrap_or(b)
}

/// Resolves a BY or GET pattern for element `elem`: `#` is the element
/// itself; otherwise the first `*` is replaced by the element, and a `->`
/// after it names a hash field. `None` when the key or field is missing or
/// holds another type, or the pattern has no `*`.
fn lookup_pattern(ctx: &mut Ctx, pattern: &[u8], elem: &[u8], write: bool) -> Option<Vec<u8>> {
    let pat = c_part(pattern);
    if pat == b"#" {
        return Some(elem.to_vec());
    }
    let star = pat.iter().position(|&c| c == b'*')?;
    let after = &pat[star + 1..];
    let (post, field) = match after.windows(2).position(|w| w == b"->") {
        Some(p) if p + 2 < after.len() => (&after[..p], Some(&after[p + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(pat.len() + elem.len());
    key.extend_from_slice(&pat[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(post);
    let v = if write {
        let now = ctx.now;
        ctx.st.keyspace.dbs[ctx.db].get(&key, now).map(|e| &e.value)
    } else {
        read(ctx, &key).0
    }?;
    match field {
        Some(f) => as_hash(v)?.get(f).map(|c| c.into_owned()),
        None => str_of(v).map(|s| s.to_vec()),
    }
}

/// A score as Redis's SORT reads it: C `strtod` of the string up to its
/// first NUL, whole, in range and not NaN.
fn sort_score(b: &[u8]) -> Option<f64> {
    if let Some(n) = parse_i64(b) {
        return Some(n as f64);
    }
    let s = c_part(b);
    let mut buf = Vec::with_capacity(s.len() + 1);
    buf.extend_from_slice(s);
    buf.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: buf is NUL-terminated; strtod reads up to the terminator and
    // sets `end` inside buf.
    let v = unsafe {
        *libc::__errno_location() = 0;
        libc::strtod(buf.as_ptr() as *const libc::c_char, &mut end)
    };
    // SAFETY: reading this thread's errno.
    let erange = unsafe { *libc::__errno_location() } == libc::ERANGE;
    let consumed = end as usize - buf.as_ptr() as usize;
    (consumed == s.len() && !erange && !v.is_nan()).then_some(v)
}

/// String order as `strcoll` in the C locale: byte order up to a NUL.
fn c_cmp(a: &[u8], b: &[u8]) -> Ordering {
    c_part(a).cmp(c_part(b))
}

struct Item {
    elem: Vec<u8>,
    score: f64,
    by: Option<Vec<u8>>,
}

fn sort_generic(ctx: &mut Ctx, args: &[&[u8]], readonly: bool) {
    let Some(mut o) = parse_options(ctx, args, readonly) else {
        return;
    };
    let key = args[1];
    let mut dontsort = o.by.is_some_and(|p| !c_part(p).contains(&b'*'));
    let kind = match read(ctx, key).0 {
        None => None,
        Some(Value::List(_)) => Some("list"),
        Some(Value::Set(_)) => Some("set"),
        Some(Value::ZSet(_)) => Some("zset"),
        Some(_) => return ctx.err(WRONGTYPE),
    };
    // An unsorted set would be stored in its internal order, which differs
    // between servers: sort it as strings instead.
    if dontsort && kind == Some("set") && o.store.is_some() {
        dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let now = ctx.now;
    if kind == Some("zset") {
        // Redis converts a small sorted set to its skip-list form here.
        if let Some(Value::ZSet(z)) = ctx.st.keyspace.dbs[ctx.db].get_mut(key, now).map(|e| &mut e.value) {
            z.to_skip();
        }
    }
    let total = ctx.st.keyspace.dbs[ctx.db].peek(key).map_or(0, |e| e.value.elements()) as i64;
    let (lstart, lcount) = o.limit.unwrap_or((0, -1));
    let mut start = lstart.max(0);
    let mut end = if lcount < 0 { total - 1 } else { start.saturating_add(lcount).saturating_sub(1) };
    if start >= total {
        start = total - 1;
        end = total - 2;
    }
    if end >= total {
        end = total - 1;
    }
    let elems: Vec<Vec<u8>> = load(ctx, key, dontsort, o.desc, start, end);
    let (start, end) =
        if dontsort && matches!(kind, Some("list") | Some("zset")) { (0, end - start) } else { (start, end) };
    let mut items: Vec<Item> = elems.into_iter().map(|elem| Item { elem, score: 0.0, by: None }).collect();
    let write = o.store.is_some();
    if !dontsort {
        let mut bad = false;
        for it in items.iter_mut() {
            let byval = match o.by {
                Some(p) => match lookup_pattern(ctx, p, &it.elem, write) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.elem.clone(),
            };
            if o.alpha {
                if o.by.is_some() {
                    it.by = Some(byval);
                }
            } else {
                match sort_score(&byval) {
                    Some(s) => it.score = s,
                    None => bad = true,
                }
            }
        }
        if bad {
            return ctx.err("ERR One or more scores can't be converted into double");
        }
        let (alpha, by, desc) = (o.alpha, o.by.is_some(), o.desc);
        items.sort_by(|a, b| {
            let c = if !alpha {
                a.score.partial_cmp(&b.score).unwrap_or(Ordering::Equal).then_with(|| a.elem.cmp(&b.elem))
            } else if by {
                match (&a.by, &b.by) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => {
                        if write {
                            x.cmp(y)
                        } else {
                            c_cmp(x, y)
                        }
                    }
                }
            } else if write {
                a.elem.cmp(&b.elem)
            } else {
                c_cmp(&a.elem, &b.elem)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    let range: &[Item] = if end >= start && start >= 0 { &items[start as usize..=end as usize] } else { &[] };
    let per = o.gets.len().max(1);
    let outputlen = range.len() * per;
    match o.store {
        None => {
            ctx.out.array(outputlen);
            for it in range {
                if o.gets.is_empty() {
                    ctx.out.bulk(&it.elem);
                }
                for g in &o.gets {
                    match lookup_pattern(ctx, g, &it.elem, false) {
                        Some(v) => ctx.out.bulk(&v),
                        None => ctx.out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let fill = list_fill(ctx);
            let mut list = Quicklist::new();
            for it in range {
                if o.gets.is_empty() {
                    list.push_back(&it.elem, fill);
                }
                for g in &o.gets {
                    let v = lookup_pattern(ctx, g, &it.elem, true).unwrap_or_default();
                    list.push_back(&v, fill);
                }
            }
            if outputlen > 0 {
                super::typed::store(ctx, dst, Value::List(Box::new(list)));
                ctx.changed(dst, notify::LIST, "sortstore");
                ctx.dirty += outputlen as u64 - 1;
            } else {
                let db = &mut ctx.st.keyspace.dbs[ctx.db];
                if db.exists(dst, now) {
                    super::typed::store(ctx, dst, Value::List(Box::new(list)));
                    ctx.changed(dst, notify::GENERIC, "del");
                }
            }
            ctx.out.int(outputlen as i64);
        }
    }
}

/// The elements to sort: all of them, or when nothing is sorted and the
/// value keeps an order (list, sorted set) just the LIMIT range in the
/// requested direction.
fn load(ctx: &mut Ctx, key: &[u8], dontsort: bool, desc: bool, start: i64, end: i64) -> Vec<Vec<u8>> {
    let Some(e) = ctx.st.keyspace.dbs[ctx.db].peek(key) else {
        return Vec::new();
    };
    let ranged = |len: usize| -> (usize, usize) {
        if end >= start && start >= 0 {
            (start as usize, (end - start + 1) as usize)
        } else {
            (len, 0)
        }
    };
    match &e.value {
        Value::List(l) if dontsort => {
            let (s, n) = ranged(l.len());
            if n == 0 {
                return Vec::new();
            }
            let it: Box<dyn Iterator<Item = _>> =
                if desc { Box::new(l.iter_rev_from(-(s as i64) - 1)) } else { Box::new(l.iter_from(s as i64)) };
            it.take(n).map(|v| v.to_bytes().into_owned()).collect()
        }
        Value::List(l) => l.iter().map(|v| v.to_bytes().into_owned()).collect(),
        Value::Set(s) => s.members(),
        Value::ZSet(z) if dontsort => {
            let (s, n) = ranged(z.len());
            z.iter_from(s, desc).take(n).map(|(_, m)| m.into_owned()).collect()
        }
        Value::ZSet(z) => z.iter_from(0, false).map(|(_, m)| m.into_owned()).collect(),
        _ => Vec::new(),
    }
}
