//! `aof-edit restore-to`: the data set as it was at a moment, from the
//! timeline (chain.rs): every record up to that moment, nothing after.
//! The moment is a time (placed by the `#TS:` annotations a server writes
//! with `aof-timestamp-enabled yes`) or a record number from `list` (the
//! data set just before that record, for files without annotations).
//!
//! Invariant: the result starts from the newest base made before the
//! moment and ends at a record boundary outside any transaction; a moment
//! older than the oldest data the directory holds is refused, never
//! approximated.

use crate::chain::Chain;
use crate::plan::{describe, Cut, Plan};
use crate::render::utc;
use crate::timeline::{self, What};

pub enum Moment {
    Time(i64),
    /// Just before this record.
    Before(u64),
}

/// Where the timeline is cut, as a plan that removes everything after.
pub struct Restore {
    pub plan: Plan,
    /// Position in `Chain::files()` of the file cut; files after it go.
    pub last_file: Option<usize>,
    /// The last record kept: its index and description.
    pub last_kept: Option<String>,
    /// Records left out.
    pub left_out: u64,
}

pub fn find(chain: &Chain, moment: &Moment) -> Result<Restore, String> {
    let mut last_kept: Option<String> = None;
    let mut cut: Option<Cut> = None;
    let mut left_out = 0u64;
    let mut multi_at = 0u64;
    let mut oldest: Option<i64> = None;
    let mut first_index = None;
    let walked = timeline::walk(chain, false, |place, what| {
        let (ts, rec) = match what {
            What::Snapshot { made, .. } => (made, None),
            What::Command(rec) => (rec.ts, Some(rec)),
        };
        first_index.get_or_insert(place.index);
        if oldest.is_none() {
            oldest = ts;
        }
        if let Some(r) = rec {
            if crate::stream::is(r.args, b"multi") {
                multi_at = r.offset;
            }
        }
        if cut.is_some() {
            left_out += 1;
            return true;
        }
        let past = match moment {
            Moment::Time(t) => ts.is_some_and(|x| x > *t),
            Moment::Before(i) => place.index >= *i,
        };
        match (past, rec) {
            (false, Some(r)) => last_kept = Some(describe(place.index, &place.file.name, r)),
            (false, None) => last_kept = Some(format!("#{} {} (the base snapshot)", place.index, place.file.name)),
            (true, r) => {
                let offset = r.map_or(0, |r| if r.in_multi { multi_at } else { r.offset });
                let line = match r {
                    Some(r) => describe(place.index, &place.file.name, r),
                    None => format!("#{} {} (the base snapshot)", place.index, place.file.name),
                };
                let size = std::fs::metadata(chain.path(place.file)).map_or(offset, |m| m.len());
                cut = Some(Cut {
                    index: place.index,
                    file_no: place.file_no,
                    offset,
                    len: size.saturating_sub(offset),
                    before: offset,
                    db: 0,
                    line,
                });
                left_out += 1;
            }
        }
        true
    });
    // Damage past the moment does not matter: it is left out anyway.
    let walked = match walked {
        Ok(w) => w,
        Err(e) if cut.is_some() => {
            eprintln!("note: {e}\nnote: that is after the moment chosen, so it is left out of the result");
            timeline::Walked {
                records: cut.as_ref().map_or(0, |c| c.index - 1) + left_out,
                timed: true,
                ..Default::default()
            }
        }
        Err(e) => return Err(e),
    };
    if let Moment::Time(_) = moment {
        if !walked.timed && oldest.is_none() {
            return Err("no record in this AOF has a time: it was written without aof-timestamp-enabled yes. \
                        Pick the moment by record instead: aof-edit list shows the numbers, restore-to --index N \
                        keeps everything before record N"
                .into());
        }
    }
    if let Some(c) = &cut {
        let at_start = Some(c.index) == first_index || (c.file_no == 0 && c.offset == 0);
        let in_base = c.file_no == 0 && crate::chain::is_base(chain.files()[0]);
        if at_start || in_base {
            let oldest = oldest.map_or("an unknown time".to_string(), utc);
            return Err(format!(
                "that moment is older than the oldest data this AOF holds (the base, from {oldest}): \
                 nothing here can give it back; a backup (dump.rdb, a copy of the directory) might"
            ));
        }
    }
    if let Moment::Before(i) = moment {
        if *i == 0 || *i > walked.records + 1 {
            return Err(format!("there is no record {i}: this AOF has records 1 to {}", walked.records));
        }
    }
    let last_file = cut.as_ref().map(|c| c.file_no);
    let plan = Plan { records: walked.records, cuts: cut.into_iter().collect(), ..Plan::default() };
    Ok(Restore { plan, last_file, last_kept, left_out })
}
