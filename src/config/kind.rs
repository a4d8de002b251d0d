//! Directive value types: how each kind of directive (yes/no, number, memory
//! size, enum, flag set, string, and the special multi-argument ones) parses
//! its arguments, prints itself for CONFIG GET and writes itself for CONFIG
//! REWRITE.
//!
//! Invariant: `parse` is the only way a `Val` is made from text, so every
//! stored value passed the same checks, with Redis 7.0's error texts, whether
//! it came from a file, the command line or CONFIG SET; and `format` of a
//! parsed value reads back to the same value.

use super::parse::{c_strtoll_octal, format_memory, memtoull, repr, string2ll};
use super::special;

/// A parsed directive value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Bool(bool),
    /// Any number; percentages (maxmemory-clients "10%") are stored negated.
    Num(i128),
    /// An enum entry's id, or the OR of a flag set's bits.
    Enum(u32),
    Str(Vec<u8>),
    /// `bind` addresses.
    Words(Vec<Vec<u8>>),
    /// `save` rules as (seconds, changes).
    Save(Vec<(i64, i64)>),
    /// `client-output-buffer-limit` for normal, replica and pubsub clients.
    Obuf([ClientBufferLimit; 3]),
    /// `oom-score-adj-values`.
    Ints([i64; 3]),
    /// `latency-tracking-info-percentiles`.
    Floats(Vec<f64>),
    /// `replicaof` when not replicating.
    Absent,
}

/// One client class's output buffer limits (0 means no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientBufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

/// How a number is written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumForm {
    /// A strict decimal integer.
    Plain,
    /// A byte count with optional unit (k, kb, m, mb, g, gb).
    Memory,
    /// A byte count or a percentage "N%".
    MemoryOrPercent,
    /// An octal number (file permissions).
    Octal,
}

/// Extra validation of a string value; the error is Redis's reason text.
pub(crate) type Check = fn(&[u8]) -> Result<(), &'static str>;

/// Directives whose value has its own syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    Save,
    Dir,
    Bind,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    ReplicaOf,
    LatencyPercentiles,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Bool,
    Num {
        min: i128,
        max: i128,
        form: NumForm,
    },
    /// Names with their ids; several names may share an id (the first one is
    /// what CONFIG GET prints).
    Enum(&'static [(&'static str, u32)]),
    /// Like `Enum`, but several names may be given and their bits are ORed.
    Flags(&'static [(&'static str, u32)]),
    /// A string; `null_when_empty` strings have no default and are left out
    /// of a rewritten file when empty.
    Str {
        null_when_empty: bool,
        check: Option<Check>,
    },
    Special(Special),
}

/// What CONFIG REWRITE should do for one directive.
pub(crate) enum RewriteOut {
    /// Remove the directive's lines from the file.
    Drop,
    /// Lines to write, each with "force" (append even if the file lacks it).
    Lines(Vec<(String, bool)>),
}

impl Kind {
    /// Whether the directive takes several arguments (CONFIG SET splits its
    /// value on spaces; the file gives them as separate words).
    pub(crate) fn multi_arg(&self) -> bool {
        match self {
            Kind::Flags(_) => true,
            Kind::Special(s) => !matches!(s, Special::Dir | Special::NotifyKeyspaceEvents),
            _ => false,
        }
    }

    /// Parses arguments into a value. `current` is the value being replaced
    /// (client-output-buffer-limit keeps the classes it is not given).
    pub(crate) fn parse(&self, args: &[Vec<u8>], current: &Val) -> Result<Val, String> {
        let one = args.first().map(Vec::as_slice).unwrap_or(b"");
        match *self {
            Kind::Bool => parse_bool(one).map(Val::Bool).ok_or_else(|| "argument must be 'yes' or 'no'".to_string()),
            Kind::Num { min, max, form } => parse_num(one, min, max, form).map(Val::Num),
            Kind::Enum(names) => enum_id(names, one).map(Val::Enum).ok_or_else(|| enum_error(names)),
            Kind::Flags(names) => special::parse_flags(names, args),
            Kind::Str { check, .. } => {
                if let Some(check) = check {
                    check(one).map_err(str::to_string)?;
                }
                Ok(Val::Str(one.to_vec()))
            }
            Kind::Special(s) => special::parse(s, args, current),
        }
    }

    /// The value as CONFIG GET shows it.
    pub(crate) fn format(&self, v: &Val) -> Vec<u8> {
        match (self, v) {
            (Kind::Bool, Val::Bool(b)) => yes_no(*b).into(),
            (Kind::Num { form, .. }, Val::Num(n)) => format_num(*n, *form, false).into_bytes(),
            (Kind::Enum(names), Val::Enum(id)) => enum_name(names, *id).into(),
            (Kind::Flags(names), Val::Enum(bits)) => special::format_flags(names, *bits).into_bytes(),
            (Kind::Str { .. }, Val::Str(s)) => s.clone(),
            (Kind::Special(s), v) => special::format(*s, v),
            _ => Vec::new(),
        }
    }

    /// The line(s) CONFIG REWRITE writes for `name` holding `v`.
    pub(crate) fn rewrite(&self, name: &str, v: &Val, default: &Val) -> RewriteOut {
        let changed = v != default;
        let simple = |value: String| RewriteOut::Lines(vec![(format!("{name} {value}"), changed)]);
        match (self, v) {
            (Kind::Num { form, .. }, Val::Num(n)) => simple(format_num(*n, *form, true)),
            (Kind::Str { null_when_empty, .. }, Val::Str(s)) => {
                if *null_when_empty && s.is_empty() {
                    return RewriteOut::Drop;
                }
                let line = format!("{name} {}", repr(s));
                RewriteOut::Lines(vec![(line, *null_when_empty || changed)])
            }
            (Kind::Special(s), v) => special::rewrite(*s, name, v, default),
            _ => simple(String::from_utf8_lossy(&self.format(v)).into_owned()),
        }
    }
}

pub(crate) fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

pub(crate) fn parse_bool(s: &[u8]) -> Option<bool> {
    if s.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

pub(crate) fn enum_id(names: &[(&str, u32)], s: &[u8]) -> Option<u32> {
    names.iter().find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(s)).map(|(_, id)| *id)
}

pub(crate) fn enum_name(names: &[(&'static str, u32)], id: u32) -> &'static str {
    names.iter().find(|(_, i)| *i == id).map_or("unknown", |(n, _)| n)
}

pub(crate) fn enum_error(names: &[(&str, u32)]) -> String {
    let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    format!("argument(s) must be one of the following: {}", list.join(", "))
}

fn parse_num(s: &[u8], min: i128, max: i128, form: NumForm) -> Result<i128, String> {
    let v = read_num(s, form).ok_or_else(|| num_error(form).to_string())?;
    if form == NumForm::MemoryOrPercent && v < 0 {
        return if v < min { Err(format!("percentage argument must be less or equal to {}", -min)) } else { Ok(v) };
    }
    if v < min || v > max {
        return Err(match form {
            NumForm::Octal => format!("argument must be between {min:o} and {max:o} inclusive"),
            _ => format!("argument must be between {min} and {max} inclusive"),
        });
    }
    Ok(v)
}

fn read_num(s: &[u8], form: NumForm) -> Option<i128> {
    match form {
        NumForm::Plain => string2ll(s).map(i128::from),
        NumForm::Octal => c_strtoll_octal(s).map(i128::from),
        NumForm::Memory => memtoull(s).map(i128::from),
        NumForm::MemoryOrPercent => memtoull(s).map(i128::from).or_else(|| {
            let digits = s.strip_suffix(b"%").filter(|d| !d.is_empty())?;
            let p = string2ll(digits).filter(|p| *p >= 0)?;
            Some(-i128::from(p))
        }),
    }
}

fn num_error(form: NumForm) -> &'static str {
    match form {
        NumForm::Plain => "argument couldn't be parsed into an integer",
        NumForm::Memory => "argument must be a memory value",
        NumForm::MemoryOrPercent => "argument must be a memory or percent value",
        NumForm::Octal => "argument couldn't be parsed as an octal number",
    }
}

/// Prints a number; `for_file` uses memory units where they are exact.
fn format_num(n: i128, form: NumForm, for_file: bool) -> String {
    match form {
        NumForm::MemoryOrPercent if n < 0 => format!("{}%", -n),
        NumForm::Memory | NumForm::MemoryOrPercent if for_file => format_memory(u64::try_from(n).unwrap_or(0)),
        NumForm::Octal => format!("{n:o}"),
        _ => n.to_string(),
    }
}
