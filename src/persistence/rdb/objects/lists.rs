//! List loaders: plain lists, list ziplists and both quicklist layouts.

use super::*;

pub(super) fn list_plain(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    inp.what = "list";
    let n = inp.len()?;
    let mut ql = Quicklist::new();
    for _ in 0..n {
        inp.what = "list element";
        ql.push_back(inp.string()?.bytes(), cx.limits.list_max_listpack_size);
    }
    Ok((!ql.is_empty()).then(|| Value::List(Box::new(ql))))
}

pub(super) fn list_ziplist(inp: &mut Input, cx: &Ctx) -> Result<Option<Value>> {
    let (at, b) = blob(inp, "list ziplist")?;
    let vals = ziplist::entries(&b).map_err(|m| inp.corrupt(at, m))?;
    let mut ql = Quicklist::new();
    let mut buf = Vec::new();
    for v in vals {
        buf.clear();
        v.append_to(&mut buf);
        ql.push_back(&buf, cx.limits.list_max_listpack_size);
    }
    Ok((!ql.is_empty()).then(|| Value::List(Box::new(ql))))
}

/// LIST_QUICKLIST (ziplist nodes) or LIST_QUICKLIST_2 (containers).
pub(super) fn list_quicklist(inp: &mut Input, v2: bool) -> Result<Option<Value>> {
    inp.what = "quicklist";
    let nodes = inp.len()?;
    let mut ql = Quicklist::new();
    for _ in 0..nodes {
        let kind = if v2 {
            inp.what = "quicklist node container";
            let at = inp.pos;
            match inp.len()? {
                c @ (container::PLAIN | container::PACKED) => c,
                c => {
                    return Err(
                        inp.corrupt(at, format!("quicklist node container {c} is neither 1 (plain) nor 2 (packed)"))
                    )
                }
            }
        } else {
            0
        };
        match kind {
            container::PLAIN => {
                inp.what = "quicklist plain node";
                let s = inp.string()?;
                let mut lp = Listpack::new();
                lp.push_back(lp_val(&s));
                ql.push_node(lp);
            }
            container::PACKED => ql.push_node(listpack(inp, "quicklist listpack node")?.1),
            _ => {
                let (at, b) = blob(inp, "quicklist ziplist node")?;
                let vals = ziplist::entries(&b).map_err(|m| inp.corrupt(at, m))?;
                ql.push_node(listpack_of(&vals));
            }
        }
    }
    // Empty nodes were skipped by push_node: a list of only those is empty.
    Ok((!ql.is_empty()).then(|| Value::List(Box::new(ql))))
}
