//! COMMAND and its subcommands: introspection of the commands this server
//! serves, answered from the interface facts in `meta.rs` (what Redis 7.0
//! reports) for the commands present in the dispatch table, and key
//! extraction from a full command line (GETKEYS, GETKEYSANDFLAGS).

use super::flags::*;
use super::meta::{self, Arg, Begin, Find, KeySpec, Meta};
use super::table::{all_commands, Command};
use super::Ctx;
use crate::protocol::ReplyBuf;
use crate::util::{eq_ic, glob_match, parse_i64};
use std::collections::HashMap;
use std::sync::OnceLock;

pub const COMMANDS: &[Command] = &[Command::new("command", -1, LOADING | STALE, command_all).subs(SUBS)];

const SUBS: &[Command] = &[
    Command::new("command|count", 2, LOADING | STALE, count),
    Command::new("command|info", -2, LOADING | STALE, info),
    Command::new("command|docs", -2, LOADING | STALE, docs),
    Command::new("command|list", -2, LOADING | STALE, list),
    Command::new("command|getkeys", -4, LOADING | STALE, getkeys),
    Command::new("command|getkeysandflags", -4, LOADING | STALE, getkeysandflags),
    Command::new("command|help", 2, LOADING | STALE, help),
];

/// A served command or subcommand with its facts.
struct Served {
    cmd: &'static Command,
    meta: &'static Meta,
}

/// Every served command by full lowercase name, and the top-level ones in
/// table order.
struct Index {
    by_name: HashMap<&'static str, Served>,
    top: Vec<&'static str>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut by_name = HashMap::new();
        let mut top = Vec::new();
        for c in all_commands() {
            // Commands without facts are not reported (the unit test below
            // makes sure there are none).
            let Some(m) = meta::find(c.name) else {
                continue;
            };
            top.push(c.name);
            by_name.insert(c.name, Served { cmd: c, meta: m });
            for s in c.subcommands {
                if let Some(sm) = meta::find(s.name) {
                    by_name.insert(s.name, Served { cmd: s, meta: sm });
                }
            }
        }
        Index { by_name, top }
    })
}

/// Resolves a name as COMMAND INFO/DOCS take it: "get", "CONFIG|GET".
fn served(name: &[u8]) -> Option<&'static Served> {
    let lower = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    index().by_name.get(lower.as_str())
}

/// Number of top-level commands served (COMMAND COUNT).
pub fn served_count() -> usize {
    index().top.len()
}

fn command_all(ctx: &mut Ctx, _: &[&[u8]]) {
    all_info(ctx.out);
}

fn all_info(out: &mut ReplyBuf) {
    let idx = index();
    out.array(idx.top.len());
    for name in &idx.top {
        write_info(out, &idx.by_name[name]);
    }
}

fn count(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.out.int(served_count() as i64);
}

fn info(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() == 2 {
        return all_info(ctx.out);
    }
    ctx.out.array(args.len() - 2);
    for name in &args[2..] {
        match served(name) {
            Some(s) => write_info(ctx.out, s),
            None => ctx.out.null(),
        }
    }
}

/// The served subcommands of a served command, by name.
fn served_subs(s: &Served) -> Vec<&'static Served> {
    let idx = index();
    let mut subs: Vec<&Served> = s.cmd.subcommands.iter().filter_map(|c| idx.by_name.get(c.name)).collect();
    subs.sort_by_key(|x| x.cmd.name);
    subs
}

fn write_info(out: &mut ReplyBuf, s: &Served) {
    let m = s.meta;
    out.array(10);
    out.bulk(m.name.as_bytes());
    out.int(m.arity as i64);
    simple_set(out, m.flags);
    out.int(m.first_key as i64);
    out.int(m.last_key as i64);
    out.int(m.step as i64);
    simple_set(out, m.acl);
    out.set(m.tips.len());
    for t in m.tips {
        out.bulk(t.as_bytes());
    }
    out.set(m.key_specs.len());
    for k in m.key_specs {
        write_key_spec(out, k);
    }
    let subs = served_subs(s);
    if subs.is_empty() {
        out.set(0);
    } else {
        out.array(subs.len());
        for sub in subs {
            write_info(out, sub);
        }
    }
}

fn simple_set(out: &mut ReplyBuf, items: &[&str]) {
    out.set(items.len());
    for i in items {
        out.simple(i);
    }
}

fn write_key_spec(out: &mut ReplyBuf, k: &KeySpec) {
    out.map(if k.notes.is_empty() { 3 } else { 4 });
    if !k.notes.is_empty() {
        out.bulk(b"notes");
        out.bulk(k.notes.as_bytes());
    }
    out.bulk(b"flags");
    simple_set(out, k.flags);
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    match k.begin {
        Begin::Index(i) => {
            out.bulk(b"index");
            out.bulk(b"spec");
            out.map(1);
            out.bulk(b"index");
            out.int(i as i64);
        }
        Begin::Keyword(kw, from) => {
            out.bulk(b"keyword");
            out.bulk(b"spec");
            out.map(2);
            out.bulk(b"keyword");
            out.bulk(kw.as_bytes());
            out.bulk(b"startfrom");
            out.int(from as i64);
        }
        Begin::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    match k.find {
        Find::Range(last, step, limit) => {
            out.bulk(b"range");
            out.bulk(b"spec");
            out.map(3);
            for (name, v) in [("lastkey", last), ("keystep", step), ("limit", limit)] {
                out.bulk(name.as_bytes());
                out.int(v as i64);
            }
        }
        Find::Keynum(idx, first, step) => {
            out.bulk(b"keynum");
            out.bulk(b"spec");
            out.map(3);
            for (name, v) in [("keynumidx", idx), ("firstkey", first), ("keystep", step)] {
                out.bulk(name.as_bytes());
                out.int(v as i64);
            }
        }
        Find::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
}

fn docs(ctx: &mut Ctx, args: &[&[u8]]) {
    let found: Vec<&Served> = if args.len() == 2 {
        let idx = index();
        idx.top.iter().map(|n| &idx.by_name[n]).collect()
    } else {
        args[2..].iter().filter_map(|n| served(n)).collect()
    };
    ctx.out.map(found.len());
    for s in found {
        ctx.out.bulk(s.meta.name.as_bytes());
        write_docs(ctx.out, s);
    }
}

fn write_docs(out: &mut ReplyBuf, s: &Served) {
    let m = s.meta;
    let subs = served_subs(s);
    let n = 3
        + usize::from(!m.doc_flags.is_empty())
        + usize::from(m.deprecated_since.is_some())
        + usize::from(!m.args.is_empty())
        + usize::from(!subs.is_empty());
    out.map(n);
    out.bulk(b"summary");
    out.bulk(m.summary.as_bytes());
    out.bulk(b"since");
    out.bulk(m.since.as_bytes());
    out.bulk(b"group");
    out.bulk(m.group.as_bytes());
    if !m.doc_flags.is_empty() {
        out.bulk(b"doc_flags");
        simple_set(out, m.doc_flags);
    }
    if let Some(d) = m.deprecated_since {
        out.bulk(b"deprecated_since");
        out.bulk(d.as_bytes());
    }
    if !m.args.is_empty() {
        out.bulk(b"arguments");
        write_args(out, m.args);
    }
    if !subs.is_empty() {
        out.bulk(b"subcommands");
        out.map(subs.len());
        for sub in subs {
            out.bulk(sub.meta.name.as_bytes());
            write_docs(out, sub);
        }
    }
}

fn write_args(out: &mut ReplyBuf, args: &[Arg]) {
    out.array(args.len());
    for a in args {
        let n = 2
            + usize::from(a.key_spec >= 0)
            + usize::from(a.token.is_some())
            + usize::from(a.since.is_some())
            + usize::from(!a.flags.is_empty())
            + usize::from(a.deprecated_since.is_some())
            + usize::from(!a.args.is_empty());
        out.map(n);
        out.bulk(b"name");
        out.bulk(a.name.as_bytes());
        out.bulk(b"type");
        out.bulk(a.kind.as_bytes());
        if a.key_spec >= 0 {
            out.bulk(b"key_spec_index");
            out.int(a.key_spec as i64);
        }
        if let Some(t) = a.token {
            out.bulk(b"token");
            out.bulk(t.as_bytes());
        }
        if let Some(s) = a.since {
            out.bulk(b"since");
            out.bulk(s.as_bytes());
        }
        if !a.flags.is_empty() {
            out.bulk(b"flags");
            simple_set(out, a.flags);
        }
        if let Some(d) = a.deprecated_since {
            out.bulk(b"deprecated_since");
            out.bulk(d.as_bytes());
        }
        if !a.args.is_empty() {
            out.bulk(b"arguments");
            write_args(out, a.args);
        }
    }
}

fn list(ctx: &mut Ctx, args: &[&[u8]]) {
    enum Filter<'a> {
        All,
        Module,
        AclCat(&'a [u8]),
        Pattern(&'a [u8]),
    }
    let filter = match args.len() {
        2 => Filter::All,
        5 if eq_ic(args[2], b"filterby") => {
            if eq_ic(args[3], b"module") {
                Filter::Module
            } else if eq_ic(args[3], b"aclcat") {
                Filter::AclCat(args[4])
            } else if eq_ic(args[3], b"pattern") {
                Filter::Pattern(args[4])
            } else {
                return ctx.syntax();
            }
        }
        _ => return ctx.syntax(),
    };
    let idx = index();
    let mut names: Vec<&str> = Vec::new();
    for top in &idx.top {
        let s = &idx.by_name[top];
        let subs = served_subs(s);
        for m in std::iter::once(s).chain(subs) {
            let keep = match filter {
                Filter::All => true,
                Filter::Module => false,
                Filter::AclCat(cat) => m.meta.acl.iter().any(|c| eq_ic(&c.as_bytes()[1..], cat)),
                Filter::Pattern(p) => glob_match(p, m.meta.name.as_bytes(), true),
            };
            if keep {
                names.push(m.meta.name);
            }
        }
    }
    ctx.out.bulks(names.iter());
}

fn help(ctx: &mut Ctx, _: &[&[u8]]) {
    super::server::help_reply(
        ctx,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Describe every command this server serves.",
            "COUNT",
            "    Count the commands this server serves.",
            "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
            "    List command names, all of them or those passing the filter.",
            "INFO [<command-name> ...]",
            "    Describe the named commands (all of them without names).",
            "DOCS [<command-name> ...]",
            "    Documentation facts of the named commands (all of them without names).",
            "GETKEYS <full-command>",
            "    Extract the key names from a complete command line.",
            "GETKEYSANDFLAGS <full-command>",
            "    Extract the key names from a complete command line, with their access flags.",
        ],
    );
}

// --- key extraction ---------------------------------------------------------

/// Access flags of a key, as GETKEYSANDFLAGS names them.
pub type KeyFlags = &'static [&'static str];

const RO_ACCESS: KeyFlags = &["RO", "access"];
const RW_ACCESS_UPDATE: KeyFlags = &["RW", "access", "update"];
const OW_UPDATE: KeyFlags = &["OW", "update"];
const RW_ACCESS_DELETE: KeyFlags = &["RW", "access", "delete"];

/// Why no keys could be extracted.
pub enum KeysError {
    /// The arguments do not fit the command's key layout.
    Invalid,
}

/// The positions (argument indexes) and flags of the keys in a full
/// command line `args` for command facts `m`, as Redis derives them: from
/// the key specs when they are complete and their flags fixed, otherwise
/// by the command's own rules.
pub fn keys_of(m: &Meta, args: &[&[u8]]) -> Result<Vec<(usize, KeyFlags)>, KeysError> {
    let has_keyspec = m.key_specs.iter().any(|k| !k.flags.contains(&"not_key"));
    let variable = m.key_specs.iter().any(|k| k.flags.contains(&"variable_flags"));
    if has_keyspec && !variable {
        if let Some(keys) = keys_from_specs(m, args) {
            return Ok(keys);
        }
    }
    special_keys(m, args)
}

/// The key arguments of a full command line `args`, as COMMAND GETKEYS
/// finds them; empty for an unknown command, one without keys, or
/// arguments that do not fit it (tools that list what a file holds).
pub fn key_args<'a>(args: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let Some(s) = args.first().and_then(|_| resolve(args)) else { return Vec::new() };
    let m = s.meta;
    let argc = args.len() as i32;
    if (m.arity > 0 && m.arity != argc) || argc < -m.arity {
        return Vec::new();
    }
    keys_of(m, args).map(|ks| ks.into_iter().filter_map(|(i, _)| args.get(i).copied()).collect()).unwrap_or_default()
}

fn keys_from_specs(m: &Meta, args: &[&[u8]]) -> Option<Vec<(usize, KeyFlags)>> {
    let argc = args.len() as i64;
    let mut keys = Vec::new();
    for spec in m.key_specs {
        let mut first = match spec.begin {
            Begin::Index(i) => i as i64,
            Begin::Keyword(kw, from) => {
                let from = from as i64;
                let (start, end) = if from > 0 { (from, argc - 1) } else { (argc + from, 1) };
                let step = if start <= end { 1 } else { -1 };
                let mut found = None;
                let mut i = start;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if eq_ic(args[i as usize], kw.as_bytes()) {
                        found = Some(i + 1);
                        break;
                    }
                    i += step;
                }
                match found {
                    Some(f) => f,
                    None => continue,
                }
            }
            Begin::Unknown => return None,
        };
        let (last, step) = match spec.find {
            Find::Range(lastkey, keystep, limit) => {
                let (lastkey, limit) = (lastkey as i64, limit as i64);
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, keystep as i64)
            }
            Find::Keynum(keynumidx, firstkey, keystep) => {
                let at = first + keynumidx as i64;
                if at >= argc {
                    return None;
                }
                let n = parse_i64(args[at as usize]).filter(|&n| n >= 0)?;
                first += firstkey as i64;
                (first + n - 1, keystep as i64)
            }
            Find::Unknown => return None,
        };
        let mut i = first;
        while i <= last {
            if i < argc && i >= first {
                keys.push((i as usize, spec.flags));
            }
            if step <= 0 {
                break;
            }
            i += step;
        }
        if spec.flags.contains(&"incomplete") {
            return None;
        }
    }
    Some(keys)
}

/// The command-specific key rules, for commands whose specs are
/// incomplete or whose key flags depend on the arguments.
fn special_keys(m: &Meta, args: &[&[u8]]) -> Result<Vec<(usize, KeyFlags)>, KeysError> {
    match m.name {
        "set" => {
            let get = args.iter().skip(3).any(|a| eq_ic(a, b"get"));
            Ok(vec![(1, if get { RW_ACCESS_UPDATE } else { OW_UPDATE })])
        }
        "bitfield" => {
            let mut readonly = true;
            let mut i = 2;
            while i < args.len() {
                let rest = args.len() - i - 1;
                let a = args[i];
                if eq_ic(a, b"get") && rest >= 2 {
                    i += 2;
                } else if (eq_ic(a, b"set") || eq_ic(a, b"incrby")) && rest >= 3 {
                    readonly = false;
                    break;
                } else if eq_ic(a, b"overflow") && rest >= 1 {
                    i += 1;
                } else {
                    readonly = false;
                    break;
                }
                i += 1;
            }
            Ok(vec![(1, if readonly { RO_ACCESS } else { RW_ACCESS_UPDATE })])
        }
        "sort" => {
            let mut keys = vec![(1, RO_ACCESS)];
            let mut store = None;
            let mut i = 2;
            while i < args.len() {
                let a = args[i];
                if eq_ic(a, b"limit") {
                    i += 2;
                } else if eq_ic(a, b"get") || eq_ic(a, b"by") {
                    i += 1;
                } else if eq_ic(a, b"store") && i + 1 < args.len() {
                    store = Some(i + 1);
                }
                i += 1;
            }
            if let Some(s) = store {
                keys.push((s, OW_UPDATE));
            }
            Ok(keys)
        }
        "sort_ro" => Ok(vec![(1, RO_ACCESS)]),
        "migrate" => {
            let (mut first, mut num) = (3, 1);
            let mut i = 6;
            while i < args.len() {
                let a = args[i];
                if eq_ic(a, b"auth") {
                    i += 1;
                } else if eq_ic(a, b"auth2") {
                    i += 2;
                } else if eq_ic(a, b"keys") {
                    if !args[3].is_empty() {
                        return Err(KeysError::Invalid);
                    }
                    first = i + 1;
                    num = args.len() - first;
                    break;
                }
                i += 1;
            }
            Ok((first..first + num).map(|p| (p, RW_ACCESS_DELETE)).collect())
        }
        _ => Ok(Vec::new()),
    }
}

/// Resolves the command of a full command line as the dispatcher would
/// (container plus subcommand), among the served commands.
fn resolve(args: &[&[u8]]) -> Option<&'static Served> {
    let top = served(args[0])?;
    if top.cmd.subcommands.is_empty() || args.len() < 2 {
        return Some(top);
    }
    let mut name = top.meta.name.as_bytes().to_vec();
    name.push(b'|');
    name.extend_from_slice(args[1]);
    served(&name)
}

fn getkeys_impl(ctx: &mut Ctx, args: &[&[u8]], with_flags: bool) {
    let line = &args[2..];
    let Some(s) = resolve(line) else {
        return ctx.err("ERR Invalid command specified");
    };
    let m = s.meta;
    let has_keys = m.key_specs.iter().any(|k| !k.flags.contains(&"not_key"))
        || matches!(m.name, "sort" | "sort_ro" | "migrate")
        || m.flags.contains(&"movablekeys");
    if !has_keys {
        return ctx.err("ERR The command has no key arguments");
    }
    let argc = line.len() as i32;
    if (m.arity > 0 && m.arity != argc) || argc < -m.arity {
        return ctx.err("ERR Invalid number of arguments specified for command");
    }
    let keys = keys_of(m, line).unwrap_or_default();
    if keys.is_empty() {
        if m.flags.contains(&"no_mandatory_keys") {
            ctx.out.array(0);
        } else {
            ctx.err("ERR Invalid arguments specified for command");
        }
        return;
    }
    ctx.out.array(keys.len());
    for (pos, flags) in keys {
        if with_flags {
            ctx.out.array(2);
            ctx.out.bulk(line[pos]);
            simple_set(ctx.out, flags);
        } else {
            ctx.out.bulk(line[pos]);
        }
    }
}

fn getkeys(ctx: &mut Ctx, args: &[&[u8]]) {
    getkeys_impl(ctx, args, false)
}

fn getkeysandflags(ctx: &mut Ctx, args: &[&[u8]]) {
    getkeys_impl(ctx, args, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names of our flag bits that COMMAND INFO reports.
    const REPORTED: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (MOVABLE_KEYS, "movablekeys"),
    ];

    fn every_command() -> Vec<&'static Command> {
        let mut v = Vec::new();
        for c in all_commands() {
            v.push(c);
            v.extend(c.subcommands.iter());
        }
        v
    }

    #[test]
    fn every_served_command_has_facts() {
        let missing: Vec<&str> =
            every_command().iter().filter(|c| meta::find(c.name).is_none()).map(|c| c.name).collect();
        assert!(missing.is_empty(), "commands without metadata: {missing:?}");
    }

    #[test]
    fn arity_and_key_positions_match_the_facts() {
        let mut wrong = Vec::new();
        for c in every_command() {
            let Some(m) = meta::find(c.name) else {
                continue;
            };
            let ours = (c.arity, c.first_key, c.last_key, c.step);
            let theirs = (m.arity, m.first_key, m.last_key, m.step);
            if ours != theirs {
                wrong.push(format!("{}: table {ours:?}, facts {theirs:?}", c.name));
            }
        }
        assert!(wrong.is_empty(), "(arity, first, last, step) differ:\n{}", wrong.join("\n"));
    }

    #[test]
    fn flags_match_the_facts() {
        let mut wrong = Vec::new();
        for c in every_command() {
            let Some(m) = meta::find(c.name) else {
                continue;
            };
            let ours: Vec<&str> = REPORTED.iter().filter(|(bit, _)| c.flags & bit != 0).map(|(_, n)| *n).collect();
            let known: Vec<&str> = REPORTED.iter().map(|(_, n)| *n).collect();
            let mut theirs: Vec<&str> = m.flags.iter().copied().filter(|f| known.contains(f)).collect();
            let mut ours_sorted = ours.clone();
            ours_sorted.sort_unstable();
            theirs.sort_unstable();
            if ours_sorted != theirs {
                wrong.push(format!("{}: table {ours_sorted:?}, facts {theirs:?}", c.name));
            }
        }
        assert!(wrong.is_empty(), "flags differ:\n{}", wrong.join("\n"));
    }

    #[test]
    fn subcommands_have_facts_under_their_parent() {
        for c in all_commands() {
            for s in c.subcommands {
                assert_eq!(s.parent_name(), c.name, "{}", s.name);
            }
        }
    }

    fn keys(line: &str) -> Vec<String> {
        let args: Vec<&[u8]> = line.split(' ').map(|a| a.as_bytes()).collect();
        let m = meta::find(&line.split(' ').next().unwrap().to_ascii_lowercase()).unwrap();
        match keys_of(m, &args) {
            Ok(k) => {
                k.into_iter().map(|(p, f)| format!("{}:{}", line.split(' ').nth(p).unwrap(), f.join("+"))).collect()
            }
            Err(_) => vec!["invalid".into()],
        }
    }

    #[test]
    fn key_extraction() {
        assert_eq!(keys("get k"), ["k:RO+access"]);
        assert_eq!(keys("set k v"), ["k:OW+update"]);
        assert_eq!(keys("set k v GET"), ["k:RW+access+update"]);
        assert_eq!(keys("mset a 1 b 2"), ["a:OW+update", "b:OW+update"]);
        assert_eq!(keys("zunionstore d 2 a b"), ["d:OW+update", "a:RO+access", "b:RO+access"]);
        assert_eq!(keys("xread COUNT 1 STREAMS a b 0 0"), ["a:RO+access", "b:RO+access"]);
        assert_eq!(keys("sort k LIMIT 0 1 STORE d"), ["k:RO+access", "d:OW+update"]);
        assert_eq!(keys("bitfield k GET u8 0"), ["k:RO+access"]);
        assert_eq!(keys("bitfield k SET u8 0 1"), ["k:RW+access+update"]);
        assert_eq!(keys("migrate h p k 0 5 KEYS a b"), ["invalid"]);
        assert_eq!(keys("eval s 0"), Vec::<String>::new());
    }
}
