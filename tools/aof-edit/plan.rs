//! Choosing the records a `drop` removes: the indexes asked for, widened
//! so transactions stay whole (dropping MULTI or EXEC drops the block, and
//! a block left with nothing inside goes too), and refused where removing
//! a record would change the meaning of others (a SELECT, the snapshot of
//! an RDB base).
//!
//! Invariant: a plan lists byte ranges of complete records of incremental
//! (or commands base) files only, sorted by file and offset, none
//! overlapping.

use crate::chain::Chain;
use crate::stream::{is, Rec};
use crate::timeline::{self, What};
use std::collections::BTreeSet;

/// One record to remove.
#[derive(Debug, Clone)]
pub struct Cut {
    pub index: u64,
    pub file_no: usize,
    pub offset: u64,
    pub len: u64,
    /// Where the data set stands just before it: its offset, or that of
    /// the MULTI of its transaction, and the database selected there.
    pub before: u64,
    pub db: i64,
    /// How `list` would show it.
    pub line: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub cuts: Vec<Cut>,
    /// Records in the timeline.
    pub records: u64,
    /// Records after the last cut (kept).
    pub after_last_cut: u64,
    /// The first few of them, as `list` shows them.
    pub kept_after: Vec<String>,
}

/// What to drop: explicit indexes, or the last record running one of some
/// commands (FLUSHALL, FLUSHDB).
pub enum Select {
    Indexes(BTreeSet<u64>),
    Last(Vec<String>),
}

/// Finds the records `sel` names and widens the choice to whole
/// transactions.
pub fn make(chain: &Chain, sel: &Select) -> Result<Plan, String> {
    let wanted: BTreeSet<u64> = match sel {
        Select::Indexes(s) => s.clone(),
        Select::Last(names) => {
            let mut last = None;
            timeline::walk(chain, false, |place, what| {
                if let What::Command(rec) = what {
                    if names.iter().any(|n| is(rec.args, n.as_bytes())) {
                        last = Some(place.index);
                    }
                }
                true
            })?;
            match last {
                Some(i) => BTreeSet::from([i]),
                None => {
                    let upper: Vec<String> = names.iter().map(|n| n.to_uppercase()).collect();
                    return Err(format!(
                        "no {} in this AOF (aof-edit list --command {} shows them). A rewrite folds the \
                         writes before it into a new base: once one ran after the command, only history \
                         files (strata-server keeps them, aof-history-keep) or a backup still hold them",
                        upper.join(" or "),
                        names[0]
                    ));
                }
            }
        }
    };
    let mut plan = Plan::default();
    let mut problems = Vec::new();
    // The transaction being read: its records, and whether any was wanted.
    let mut block: Vec<Cut> = Vec::new();
    let mut block_wanted = BTreeSet::new();
    let mut block_at = (0u64, 0i64);
    let mut kept_after: Vec<(u64, String)> = Vec::new();
    let walked = timeline::walk(chain, false, |place, what| {
        let rec = match what {
            What::Snapshot { .. } => {
                if wanted.contains(&place.index) {
                    problems.push(format!(
                        "record {} is the snapshot in the base file {}: it can't be dropped (restore-to picks \
                         a moment instead)",
                        place.index, place.file.name
                    ));
                }
                return true;
            }
            What::Command(rec) => rec,
        };
        if is(rec.args, b"multi") {
            block_at = (rec.offset, rec.db);
        }
        let (before, db) = if rec.in_multi { block_at } else { (rec.offset, rec.db) };
        let cut = || Cut {
            index: place.index,
            file_no: place.file_no,
            offset: rec.offset,
            len: rec.len,
            before,
            db,
            line: describe(place.index, &place.file.name, rec),
        };
        if rec.in_multi {
            if wanted.contains(&place.index) {
                block_wanted.insert(place.index);
            }
            block.push(cut());
            if is(rec.args, b"exec") {
                close_block(&mut block, &block_wanted, &mut plan.cuts);
                block.clear();
                block_wanted.clear();
            }
            note_after(&mut kept_after, &plan.cuts, place.index, || describe(place.index, &place.file.name, rec));
            return true;
        }
        if wanted.contains(&place.index) {
            if is(rec.args, b"select") {
                problems.push(format!(
                    "record {} is a SELECT: without it the writes after it would go to another database",
                    place.index
                ));
            } else {
                plan.cuts.push(cut());
            }
        }
        note_after(&mut kept_after, &plan.cuts, place.index, || describe(place.index, &place.file.name, rec));
        true
    })?;
    plan.records = walked.records;
    if let Some(&max) = wanted.iter().next_back() {
        if max > walked.records || wanted.contains(&0) {
            problems.push(format!("there is no record {max}: this AOF has records 1 to {}", walked.records));
        }
    }
    if let Some(i) = block_wanted.iter().next() {
        problems.push(format!(
            "record {i} is in a transaction the last file ends inside: a server drops that unfinished \
             transaction when it loads the file (aof-check --fix cuts it)"
        ));
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    plan.after_last_cut = plan.cuts.last().map_or(0, |c| walked.records - c.index);
    plan.kept_after = kept_after.into_iter().map(|(_, line)| line).collect();
    Ok(plan)
}

/// Records after the last one removed shown in the summary.
const KEPT_SHOWN: usize = 10;

/// Keeps the description of record `index` when it comes after every
/// record removed so far (and forgets those that no longer do).
fn note_after(kept: &mut Vec<(u64, String)>, cuts: &[Cut], index: u64, line: impl FnOnce() -> String) {
    let Some(last) = cuts.last().map(|c| c.index) else { return };
    kept.retain(|(i, _)| *i > last);
    if index > last && kept.len() < KEPT_SHOWN {
        kept.push((index, line()));
    }
}

/// Adds the records of a finished transaction to `cuts` as asked: all of
/// it when its MULTI or EXEC was wanted or nothing inside would be left.
fn close_block(block: &mut [Cut], wanted: &BTreeSet<u64>, cuts: &mut Vec<Cut>) {
    if wanted.is_empty() {
        return;
    }
    let first = block.first().map(|c| c.index);
    let last = block.last().map(|c| c.index);
    let inner = block.len().saturating_sub(2);
    let inner_wanted = wanted.iter().filter(|i| Some(**i) != first && Some(**i) != last).count();
    let whole = first.is_some_and(|i| wanted.contains(&i))
        || last.is_some_and(|i| wanted.contains(&i))
        || inner_wanted == inner;
    for c in block.iter() {
        if whole || wanted.contains(&c.index) {
            cuts.push(c.clone());
        }
    }
}

/// A record as `list` shows it (shortened).
pub fn describe(index: u64, file: &str, rec: &Rec) -> String {
    let keys = strata::commands::command::key_args(rec.args);
    let mut text = Vec::new();
    crate::list::command_text(&mut text, rec.args, &keys);
    let when = rec.ts.map_or("-".to_string(), crate::render::utc);
    format!("#{index} {file}:{} ({when}, db{}) {}", rec.offset, rec.db, String::from_utf8_lossy(&text))
}
