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

/// Commands (or keys of an RDB base) loaded between two progress ticks.
const LOAD_STEP: usize = 256;

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
    let total: u64 = lay.files.iter().map(|(e, _, _)| std::fs::metadata(chain.path(e)).map_or(0, |m| m.len())).sum();
    let mut progress =
        crate::progress::Progress::new("aof-edit: loading", crate::progress::stderr_is_terminal(), total as usize);
    let mut done = 0u64;
    for (entry, no, _) in &lay.files {
        let path = chain.path(entry);
        let file = std::fs::File::open(&path).map_err(|e| format!("can't open {}: {e}", path.display()))?;
        let len = file.metadata().map_err(|e| format!("can't read {}: {e}", path.display()))?.len();
        // SAFETY: read only, and the files are not changed while the tool
        // runs (a running server only appends past what is read here).
        let map = if len == 0 {
            None
        } else {
            Some(unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("can't map {}: {e}", path.display()))?)
        };
        let bytes: &[u8] = map.as_deref().unwrap_or(&[]);
        let here: Vec<&crate::plan::Cut> = plan.cuts.iter().filter(|c| Some(c.file_no) == *no).collect();
        let mut tick = |n: usize| progress.tick(done as usize + n);
        let Some(first_here) = here.first() else {
            load(&mut st, bytes, &entry.name, &mut tick)?;
            done += len;
            continue;
        };
        // Up to the first record removed, straight from the file; the rest
        // (usually short: a flush is undone soon after) copied without the
        // records removed, starting in the database selected there.
        let split = first_here.before as usize;
        load(&mut st, &bytes[..split], &entry.name, &mut tick)?;
        if first.is_some_and(|c| std::ptr::eq(c, *first_here)) {
            before = Some(keys(&st));
        }
        let mut rest = select(first_here.db);
        let mut pos = split;
        for cut in &here {
            let start = (cut.offset as usize).min(bytes.len());
            rest.extend_from_slice(&bytes[pos.min(start)..start]);
            pos = ((cut.offset + cut.len) as usize).min(bytes.len());
        }
        rest.extend_from_slice(&bytes[pos..]);
        load(&mut st, &rest, &entry.name, &mut |_| {})?;
        done += len;
    }
    progress.clear();
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
fn load(st: &mut State, bytes: &[u8], name: &str, tick: &mut dyn FnMut(usize)) -> Result<(), String> {
    let mut fl = FileLoad::new(st, bytes, name)?;
    let r = loop {
        match fl.step(st, LOAD_STEP) {
            Ok(Some(_)) => break Ok(()),
            Ok(None) => tick(fl.offset()),
            Err(e) => break Err(e),
        }
    };
    fl.finish(st);
    r
}
