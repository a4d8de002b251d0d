//! What an edit does to the data set, worked out by loading the files in
//! memory as a server would (the library's own loader and commands): the
//! keys of each database just before the first record removed, and after
//! the edit. Used by `undo-flushall` to show what comes back.
//!
//! Invariant: nothing here writes a file; the data set lives only in this
//! process's memory.

use crate::chain::Chain;
use crate::plan::Plan;
use crate::write::Layout;
use strata::commands::aof_load::{hold_expiry, FileLoad};
use strata::config::Config;
use strata::state::State;

pub struct Counts {
    /// Keys per database just before the first removed record.
    pub before: Vec<u64>,
    /// Keys per database once the edit is done.
    pub after: Vec<u64>,
}

pub fn counts(chain: &Chain, plan: &Plan, lay: &Layout) -> Result<Counts, String> {
    let mut st = State::new(Config::default());
    st.loading = true;
    hold_expiry(&mut st, true);
    let first = plan.cuts.first();
    let mut before = None;
    for (entry, no, _) in &lay.files {
        let path = chain.path(entry);
        let bytes = std::fs::read(&path).map_err(|e| format!("can't read {}: {e}", path.display()))?;
        let here: Vec<&crate::plan::Cut> = plan.cuts.iter().filter(|c| Some(c.file_no) == *no).collect();
        match first.filter(|c| Some(c.file_no) == *no) {
            Some(c) => {
                let split = c.before as usize;
                load(&mut st, &bytes[..split], &entry.name)?;
                before = Some(keys(&st));
                let mut rest = select(c.db);
                let mut pos = split;
                for cut in &here {
                    let start = cut.offset as usize;
                    rest.extend_from_slice(&bytes[pos..start.max(pos)]);
                    pos = (cut.offset + cut.len) as usize;
                }
                rest.extend_from_slice(&bytes[pos.min(bytes.len())..]);
                load(&mut st, &rest, &entry.name)?;
            }
            None => {
                let mut kept = Vec::with_capacity(bytes.len());
                let mut pos = 0;
                for cut in &here {
                    kept.extend_from_slice(&bytes[pos..cut.offset as usize]);
                    pos = (cut.offset + cut.len) as usize;
                }
                kept.extend_from_slice(&bytes[pos..]);
                load(&mut st, &kept, &entry.name)?;
            }
        }
    }
    let after = keys(&st);
    Ok(Counts { before: before.unwrap_or_else(|| after.clone()), after })
}

fn keys(st: &State) -> Vec<u64> {
    st.keyspace.dbs.iter().map(|d| d.len() as u64).collect()
}

fn select(db: i64) -> Vec<u8> {
    let n = db.to_string();
    format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{n}\r\n", n.len()).into_bytes()
}

/// Loads `bytes` (a whole file, or part of one cut at a record boundary);
/// an unfinished transaction or command at the end is left out, as a
/// server leaves it out.
fn load(st: &mut State, bytes: &[u8], name: &str) -> Result<(), String> {
    let mut fl = FileLoad::new(st, bytes, name)?;
    let r = loop {
        match fl.step(st, 4096) {
            Ok(Some(_)) => break Ok(()),
            Ok(None) => {}
            Err(e) => break Err(e),
        }
    };
    fl.finish(st);
    r
}
