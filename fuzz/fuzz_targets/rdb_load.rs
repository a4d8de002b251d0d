//! Fuzz target: arbitrary bytes as a snapshot file. The reader must give
//! items or an error, never a panic, a hang or an allocation out of
//! proportion to the input; every value it accepts must then survive the
//! commands of a live server (strata_fuzz::check_value, exercise_value:
//! the first few values of each input).
//!
//! Each input is read in shallow and deep mode, under the default and the
//! smallest encoding limits, with the checksum not verified (so mutations
//! get past it), then loaded as the server loads at start-up.

#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::keyspace::Keyspace;
use strata::persistence::load::load_all;
use strata::persistence::rdb::{Item, LoadOptions, RdbReader};
use strata_fuzz::{check_value, exercise_value, limits, NOW_MS, PROFILES};

/// Values per input and profile that go through the commands (the others
/// are only checked): a file holds many keys, and the `restore` target
/// drives single values far faster.
const DRIVEN_MAX: usize = 3;

/// Reads every item; returns how many were read before the end or an error.
fn read_all(data: &[u8], opts: LoadOptions, mut on_value: impl FnMut(strata::keyspace::Value)) -> usize {
    let Ok(mut r) = RdbReader::new(data, opts) else {
        return 0;
    };
    let _ = r.version();
    let mut items = 0;
    while let Ok(Some(item)) = r.next_item() {
        items += 1;
        assert!(r.offset() <= data.len() && r.remaining() == data.len() - r.offset());
        match item {
            Item::Key(k) => {
                assert!(k.offset + k.size <= data.len());
                match k.value {
                    Some(v) => on_value(v),
                    None => assert!(!opts.build_values, "a key without its value"),
                }
            }
            Item::End { .. } => break,
            _ => {}
        }
    }
    // After the end or an error the reader yields nothing more.
    assert!(matches!(r.next_item(), Ok(None)));
    items
}

fuzz_target!(|data: &[u8]| {
    for p in PROFILES {
        let limits = limits(p);
        let opts = |deep| LoadOptions { limits, deep, verify_checksum: false, build_values: true };
        // Deep mode checks more: whatever it accepts, shallow mode accepts.
        let deep = read_all(data, opts(true), |v| check_value(&v, true));
        let mut driven = 0;
        let shallow = read_all(data, opts(false), |v| {
            if driven < DRIVEN_MAX {
                driven += 1;
                exercise_value(p, v, false);
            } else {
                check_value(&v, false);
            }
        });
        assert!(shallow >= deep, "deep mode read {deep} items, shallow mode only {shallow}");
    }
    // Walking past values without building them (scans, statistics).
    read_all(data, LoadOptions { build_values: false, verify_checksum: false, ..Default::default() }, |_| {});
    // The server's start-up load into a keyspace: expired keys dropped,
    // duplicates and missing databases refused.
    let mut ks = Keyspace::new(16);
    let opts = LoadOptions { verify_checksum: false, ..Default::default() };
    if let Ok(stats) = load_all(&mut ks, data, opts, NOW_MS, true, false, &mut |_| {}) {
        assert_eq!(stats.keys_loaded as usize, ks.total_keys());
    }
});
