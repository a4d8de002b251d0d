//! The directives with a syntax of their own (`save`, `bind`,
//! `client-output-buffer-limit`, `oom-score-adj-values`,
//! `notify-keyspace-events`, `latency-tracking-info-percentiles`, `replicaof`,
//! `dir`), flag sets (`shutdown-on-sigint`), and the extra checks some string
//! directives make (file names, host names, process title templates).
//!
//! Invariant: each parser accepts exactly what Redis 7.0 accepts for that
//! directive and refuses the rest with Redis's reason text; printing a parsed
//! value and parsing it again gives the same value.

use super::kind::{enum_error, enum_id, ClientBufferLimit, RewriteOut, Special, Val};
use super::parse::{c_strtoll, format_memory, memtoull, repr, string2d, trim_double};

/// At most this many `bind` addresses.
const MAX_BIND: usize = 16;

/// Client classes of client-output-buffer-limit, in the order Redis prints.
const OBUF_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

pub(crate) fn parse(s: Special, args: &[Vec<u8>], current: &Val) -> Result<Val, String> {
    match s {
        Special::Save => parse_save(args),
        Special::Dir | Special::NotifyKeyspaceEvents => single(s, args),
        Special::Bind => parse_bind(args),
        Special::ClientOutputBufferLimit => parse_obuf(args, current),
        Special::OomScoreAdjValues => parse_oom(args),
        Special::ReplicaOf => Ok(Val::Absent),
        Special::LatencyPercentiles => parse_percentiles(args),
    }
}

/// True for the zero-argument form and for a single empty argument, which
/// both mean "none" for list-like directives.
fn is_empty_list(args: &[Vec<u8>]) -> bool {
    args.is_empty() || (args.len() == 1 && args[0].is_empty())
}

fn single(s: Special, args: &[Vec<u8>]) -> Result<Val, String> {
    let [arg] = args else {
        return Err("wrong number of arguments".into());
    };
    if s == Special::NotifyKeyspaceEvents && keyspace_event_flags(arg).is_none() {
        return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into());
    }
    Ok(Val::Str(arg.clone()))
}

fn parse_save(args: &[Vec<u8>]) -> Result<Val, String> {
    if is_empty_list(args) {
        return Ok(Val::Save(Vec::new()));
    }
    let bad = || "Invalid save parameters".to_string();
    if args.len() % 2 == 1 {
        return Err(bad());
    }
    let mut rules = Vec::new();
    for pair in args.chunks(2) {
        let seconds = c_strtoll(&pair[0]).filter(|s| *s >= 1).ok_or_else(bad)?;
        let changes = c_strtoll(&pair[1]).filter(|c| *c >= 0).ok_or_else(bad)?;
        // Redis keeps the change count in a C int.
        rules.push((seconds, i64::from(changes as i32)));
    }
    Ok(Val::Save(rules))
}

fn parse_bind(args: &[Vec<u8>]) -> Result<Val, String> {
    if args.len() > MAX_BIND {
        return Err("Too many bind addresses specified.".into());
    }
    if is_empty_list(args) {
        return Ok(Val::Words(Vec::new()));
    }
    Ok(Val::Words(args.to_vec()))
}

fn obuf_class(name: &[u8]) -> Option<usize> {
    match name.to_ascii_lowercase().as_slice() {
        b"normal" => Some(0),
        b"slave" | b"replica" => Some(1),
        b"pubsub" => Some(2),
        _ => None,
    }
}

fn parse_obuf(args: &[Vec<u8>], current: &Val) -> Result<Val, String> {
    let mut limits = match current {
        Val::Obuf(l) => *l,
        _ => [ClientBufferLimit::default(); 3],
    };
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    for group in args.chunks(4) {
        let class = obuf_class(&group[0])
            .ok_or_else(|| "Invalid client class specified in buffer limit configuration.".to_string())?;
        let hard = memtoull(&group[1]);
        let soft = memtoull(&group[2]);
        // Redis keeps the seconds in a C int and refuses negative results.
        let secs = c_strtoll(&group[3]).map(|s| s as i32).filter(|s| *s >= 0);
        let (Some(hard_bytes), Some(soft_bytes), Some(secs)) = (hard, soft, secs) else {
            return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into());
        };
        limits[class] = ClientBufferLimit { hard_bytes, soft_bytes, soft_seconds: secs as u64 };
    }
    Ok(Val::Obuf(limits))
}

fn parse_oom(args: &[Vec<u8>]) -> Result<Val, String> {
    let [a, b, c] = args else {
        return Err("wrong number of arguments".into());
    };
    let mut out = [0i64; 3];
    for (slot, arg) in out.iter_mut().zip([a, b, c]) {
        *slot = c_strtoll(arg)
            .filter(|v| (-2000..=2000).contains(v))
            .ok_or_else(|| "Invalid oom-score-adj-values, elements must be between -2000 and 2000.".to_string())?;
    }
    Ok(Val::Ints(out))
}

fn parse_percentiles(args: &[Vec<u8>]) -> Result<Val, String> {
    if is_empty_list(args) {
        return Ok(Val::Floats(Vec::new()));
    }
    let mut out = Vec::new();
    for arg in args {
        let p = string2d(arg).ok_or_else(|| "Invalid latency-tracking-info-percentiles parameters".to_string())?;
        if !(0.0..=100.0).contains(&p) {
            return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
        }
        out.push(p);
    }
    Ok(Val::Floats(out))
}

pub(crate) fn format(s: Special, v: &Val) -> Vec<u8> {
    match v {
        Val::Str(text) if s == Special::NotifyKeyspaceEvents => {
            keyspace_events_canonical(text).unwrap_or_default().into_bytes()
        }
        Val::Str(text) => text.clone(),
        Val::Save(rules) => {
            let parts: Vec<String> = rules.iter().map(|(s, c)| format!("{s} {c}")).collect();
            parts.join(" ").into_bytes()
        }
        Val::Words(words) => words.join(&b' '),
        Val::Obuf(limits) => {
            let parts: Vec<String> = OBUF_CLASSES
                .iter()
                .zip(limits)
                .map(|(n, l)| format!("{n} {} {} {}", l.hard_bytes, l.soft_bytes, l.soft_seconds))
                .collect();
            parts.join(" ").into_bytes()
        }
        Val::Ints(v) => format!("{} {} {}", v[0], v[1], v[2]).into_bytes(),
        Val::Floats(v) => {
            let parts: Vec<String> = v.iter().map(|p| trim_double(*p)).collect();
            parts.join(" ").into_bytes()
        }
        _ => Vec::new(),
    }
}

pub(crate) fn rewrite(s: Special, name: &str, v: &Val, default: &Val) -> RewriteOut {
    let changed = v != default;
    let text = |v: &Val| String::from_utf8_lossy(&format(s, v)).into_owned();
    let one = |line: String, force: bool| RewriteOut::Lines(vec![(line, force)]);
    match (s, v) {
        (Special::ReplicaOf, _) => RewriteOut::Drop,
        (Special::Bind, _) if !changed => RewriteOut::Drop,
        (Special::Bind, Val::Words(w)) if w.is_empty() => one(format!("{name} \"\""), true),
        (Special::Save, Val::Save(rules)) if rules.is_empty() => one("save \"\"".into(), true),
        (Special::Save, Val::Save(rules)) => {
            RewriteOut::Lines(rules.iter().map(|(s, c)| (format!("save {s} {c}"), true)).collect())
        }
        (Special::LatencyPercentiles, Val::Floats(p)) if p.is_empty() => one(format!("{name} \"\""), true),
        (Special::Dir, Val::Str(d)) => one(format!("{name} {}", repr(d)), true),
        (Special::NotifyKeyspaceEvents, Val::Str(_)) => {
            let canonical = format(s, v);
            one(format!("{name} {}", repr(&canonical)), !canonical.is_empty())
        }
        (Special::ClientOutputBufferLimit, Val::Obuf(l)) => obuf_rewrite(name, l, default),
        (Special::LatencyPercentiles | Special::Bind, _) => one(format!("{name} {}", text(v)), true),
        _ => one(format!("{name} {}", text(v)), changed),
    }
}

fn obuf_rewrite(name: &str, limits: &[ClientBufferLimit; 3], default: &Val) -> RewriteOut {
    let defaults = match default {
        Val::Obuf(d) => *d,
        _ => [ClientBufferLimit::default(); 3],
    };
    let class_names = ["normal", "replica", "pubsub"];
    let lines = limits
        .iter()
        .zip(defaults)
        .zip(class_names)
        .map(|((l, d), class)| {
            let line = format!(
                "{name} {class} {} {} {}",
                format_memory(l.hard_bytes),
                format_memory(l.soft_bytes),
                l.soft_seconds
            );
            (line, *l != d)
        })
        .collect();
    RewriteOut::Lines(lines)
}

/// Flag sets: every argument must name a flag; SAVE and NOSAVE exclude each
/// other (the only flag set in Redis 7.0 is the shutdown one).
pub(crate) fn parse_flags(names: &[(&str, u32)], args: &[Vec<u8>]) -> Result<Val, String> {
    if args.is_empty() {
        return Err(enum_error(names));
    }
    let mut bits = 0;
    for arg in args {
        bits |= enum_id(names, arg).ok_or_else(|| enum_error(names))?;
    }
    let save = enum_id(names, b"save").unwrap_or(0);
    let nosave = enum_id(names, b"nosave").unwrap_or(0);
    if save != 0 && bits & save != 0 && bits & nosave != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    Ok(Val::Enum(bits))
}

pub(crate) fn format_flags(names: &[(&'static str, u32)], bits: u32) -> String {
    if bits == 0 {
        return names.iter().find(|(_, b)| *b == 0).map_or("", |(n, _)| n).into();
    }
    let set: Vec<&str> = names.iter().filter(|(_, b)| *b != 0 && bits & b == *b).map(|(n, _)| *n).collect();
    set.join(" ")
}

// Keyspace notification classes, in the order Redis prints them.
const EVENT_CLASSES: &[(u8, u32)] = &[
    (b'g', 1 << 2),
    (b'$', 1 << 3),
    (b'l', 1 << 4),
    (b's', 1 << 5),
    (b'h', 1 << 6),
    (b'z', 1 << 7),
    (b'x', 1 << 8),
    (b'e', 1 << 9),
    (b't', 1 << 10),
    (b'd', 1 << 12),
    (b'n', 1 << 13),
];
const EV_KEYSPACE: u32 = 1 << 0;
const EV_KEYEVENT: u32 = 1 << 1;
const EV_KEY_MISS: u32 = 1 << 11;
/// What 'A' stands for: every class but key-miss (m) and new-key (n).
const EV_ALL: u32 = 0b1_0111_1111_1100;

/// The flag bits of a notify-keyspace-events string, or None when it holds a
/// character outside "KEg$lshzxetmdnA". The bits are the classes that
/// `commands::notify` names; this is the one parser of the string.
pub fn keyspace_event_flags(s: &[u8]) -> Option<u32> {
    let mut flags = 0;
    for &c in s {
        flags |= match c {
            b'A' => EV_ALL,
            b'K' => EV_KEYSPACE,
            b'E' => EV_KEYEVENT,
            b'm' => EV_KEY_MISS,
            _ => EVENT_CLASSES.iter().find(|(ch, _)| *ch == c)?.1,
        };
    }
    Some(flags)
}

/// Redis's canonical spelling of a notify-keyspace-events string (what CONFIG
/// GET shows): "KEA" becomes "AKE", "Ex" becomes "xE". None when invalid.
pub fn keyspace_events_canonical(s: &[u8]) -> Option<String> {
    let flags = keyspace_event_flags(s)?;
    let mut out = String::new();
    if flags & EV_ALL == EV_ALL {
        out.push('A');
    } else {
        for (c, bit) in EVENT_CLASSES {
            if flags & bit != 0 {
                out.push(*c as char);
            }
        }
    }
    for (c, bit) in [('K', EV_KEYSPACE), ('E', EV_KEYEVENT), ('m', EV_KEY_MISS)] {
        if flags & bit != 0 {
            out.push(c);
        }
    }
    Some(out)
}

fn is_base_name(s: &[u8]) -> bool {
    !s.contains(&b'/') && !s.contains(&b'\\')
}

pub(crate) fn check_dbfilename(s: &[u8]) -> Result<(), &'static str> {
    if is_base_name(s) {
        Ok(())
    } else {
        Err("dbfilename can't be a path, just a filename")
    }
}

pub(crate) fn check_appendfilename(s: &[u8]) -> Result<(), &'static str> {
    match s {
        b"" => Err("appendfilename can't be empty"),
        _ if !is_base_name(s) => Err("appendfilename can't be a path, just a filename"),
        _ => Ok(()),
    }
}

pub(crate) fn check_appenddirname(s: &[u8]) -> Result<(), &'static str> {
    match s {
        b"" => Err("appenddirname can't be empty"),
        _ if !is_base_name(s) => Err("appenddirname can't be a path, just a dirname"),
        _ => Ok(()),
    }
}

/// Longest accepted host name (Redis's NET_HOST_STR_LEN minus one).
const MAX_HOSTNAME: usize = 255;

pub(crate) fn check_hostname(s: &[u8]) -> Result<(), &'static str> {
    if s.len() > MAX_HOSTNAME {
        return Err("Hostnames must be less than 256 characters");
    }
    if s.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.') {
        Ok(())
    } else {
        Err("Hostnames may only contain alphanumeric characters, hyphens or dots")
    }
}

/// Variables a process title template may use, and whether each can expand
/// to nothing (the title itself and the server mode of a plain server).
const TITLE_VARS: &[(&[u8], bool)] = &[
    (b"title", true),
    (b"listen-addr", false),
    (b"server-mode", true),
    (b"port", false),
    (b"tls-port", false),
    (b"unixsocket", false),
    (b"config-file", false),
];

/// A template is valid when its braces are well formed, it names only known
/// variables, and it cannot expand to a blank title.
pub(crate) fn check_proc_title(s: &[u8]) -> Result<(), &'static str> {
    const BAD: &str = "template format is invalid or contains unknown variables";
    let mut visible = false;
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'{' {
            visible |= s[i] != b' ';
            i += 1;
            continue;
        }
        if s.get(i + 1) == Some(&b'{') {
            visible = true;
            i += 2;
            continue;
        }
        let end = s[i + 1..].iter().position(|c| *c == b'}').ok_or(BAD)? + i + 1;
        let var = &s[i + 1..end];
        let (_, may_be_empty) = TITLE_VARS.iter().find(|(v, _)| *v == var).ok_or(BAD)?;
        visible |= !may_be_empty;
        i = end + 1;
    }
    if visible {
        Ok(())
    } else {
        Err(BAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> Option<String> {
        keyspace_events_canonical(s.as_bytes())
    }

    #[test]
    fn keyspace_events_canonical_forms() {
        for (given, shown) in [
            ("KEA", "AKE"),
            ("AKE", "AKE"),
            ("", ""),
            ("Ex", "xE"),
            ("KEg", "gKE"),
            ("lshzxetmdn", "lshzxetdnm"),
            ("g$lshzxetd", "A"),
            ("KEAmdn", "AKEm"),
            ("gA", "A"),
            ("An", "A"),
            ("nK", "nK"),
            ("ee", "e"),
        ] {
            assert_eq!(canon(given).as_deref(), Some(shown), "{given:?}");
        }
        assert_eq!(canon("Kx!"), None);
        assert_eq!(canon("a"), None);
    }

    #[test]
    fn proc_title_templates() {
        for ok in ["{title} {listen-addr} {server-mode}", "zzz", "{{", "}", "a}b", "{port}"] {
            assert!(check_proc_title(ok.as_bytes()).is_ok(), "{ok:?}");
        }
        for bad in ["", " ", "{title}", "{title", "x{}", "{foo}", "{title} {server-mode}"] {
            assert!(check_proc_title(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hostnames() {
        assert!(check_hostname(b"a-b.c1").is_ok());
        assert!(check_hostname(b"").is_ok());
        assert!(check_hostname(b"a_b").is_err());
        assert!(check_hostname(&[b'a'; 256]).is_err());
    }
}
