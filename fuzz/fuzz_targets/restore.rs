//! Fuzz target: arbitrary bytes as the body of a DUMP payload (type byte
//! and value). The trailer is computed for them (version 10, the right
//! CRC-64), as an attacker able to compute a checksum would, so the value
//! loaders and their deep checks are what is exercised. RESTORE must refuse
//! the payload or store a value that every later command handles.
//!
//! Each input goes through the RESTORE command under the default and the
//! smallest encoding limits; `restore_value` in shallow mode is tried too
//! (values that only the deep checks refuse), and its verdict in deep mode
//! must match the command's.

#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::persistence::rdb::{restore_value, verify_payload, RestoreOptions};
use strata_fuzz::{exercise_restore, exercise_value, limits, seal, PROFILES};

fuzz_target!(|data: &[u8]| {
    // The trailer check alone, on the bytes as they are.
    let _ = verify_payload(data, false);
    let payload = seal(data);
    assert_eq!(verify_payload(&payload, false).ok(), Some(data), "a sealed payload passes the trailer check");
    for p in PROFILES {
        let limits = limits(p);
        let deep = restore_value(&payload, &RestoreOptions { limits, deep: true, skip_checksum: false });
        let accepted = exercise_restore(p, &payload);
        assert_eq!(accepted, deep.is_ok(), "RESTORE and restore_value disagree: {deep:?}");
        if accepted {
            continue;
        }
        if let Ok(v) = restore_value(&payload, &RestoreOptions { limits, deep: false, skip_checksum: false }) {
            exercise_value(p, v, false);
        }
    }
});
