//! (to be filled)

use super::table::Command;

pub const COMMANDS: &[Command] = &[];
