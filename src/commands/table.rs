//! The command table: one `Command` per command and subcommand, gathered
//! from the command modules, looked up case-insensitively.

use super::Ctx;
use std::collections::HashMap;
use std::sync::OnceLock;

pub type Handler = fn(&mut Ctx, &[&[u8]]);

pub struct Command {
    /// Full lowercase name: "get", or "config|get" for a subcommand.
    pub name: &'static str,
    /// Redis arity: exact count if positive, minimum count if negative
    /// (the command name counts).
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub handler: Handler,
    pub subcommands: &'static [Command],
}

impl Command {
    pub const fn new(name: &'static str, arity: i32, flags: u32, handler: Handler) -> Self {
        Command { name, arity, flags, first_key: 0, last_key: 0, step: 0, handler, subcommands: &[] }
    }

    /// Key positions (first, last, step) as COMMAND INFO reports them.
    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.first_key = first;
        self.last_key = last;
        self.step = step;
        self
    }

    pub const fn subs(mut self, subs: &'static [Command]) -> Self {
        self.subcommands = subs;
        self
    }

    /// The container command's name for a subcommand ("config").
    pub fn parent_name(&self) -> &'static str {
        self.name.split('|').next().unwrap_or(self.name)
    }

    /// The last part of the name ("get" for "config|get").
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a > 0 && argc as i32 == a) || (a < 0 && argc as i32 >= -a)
    }
}

fn unknown_container(_: &mut Ctx, _: &[&[u8]]) {}

/// Every module's table.
fn modules() -> [&'static [Command]; 19] {
    [
        super::strings::COMMANDS,
        super::bits::COMMANDS,
        super::expire::COMMANDS,
        super::client::COMMANDS,
        super::info::COMMANDS,
        super::command::COMMANDS,
        super::keys::COMMANDS,
        super::connection::COMMANDS,
        super::server::COMMANDS,
        super::multi::COMMANDS,
        super::pubsub::COMMANDS,
        super::lists::COMMANDS,
        super::hashes::COMMANDS,
        super::sets::COMMANDS,
        super::zsets::COMMANDS,
        super::sort::COMMANDS,
        super::persist::COMMANDS,
        super::aof::COMMANDS,
        super::dump::COMMANDS,
    ]
}

type Table = HashMap<Vec<u8>, &'static Command, foldhash::fast::FixedState>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut m = Table::default();
        for module in modules() {
            for c in module {
                let prev = m.insert(c.name.as_bytes().to_vec(), c);
                assert!(prev.is_none(), "command {} defined twice", c.name);
            }
        }
        m
    })
}

pub fn all_commands() -> impl Iterator<Item = &'static Command> {
    modules().into_iter().flat_map(|m| m.iter())
}

pub enum Lookup {
    Found(&'static Command),
    /// The error reply (raw bytes: it quotes what the client sent), and the
    /// command when one was resolved (for rejected_calls).
    Error(Vec<u8>, Option<&'static Command>),
}

fn lower<'b>(name: &[u8], buf: &'b mut [u8; 64]) -> Option<&'b [u8]> {
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    Some(&buf[..name.len()])
}

pub fn find(name: &[u8]) -> Option<&'static Command> {
    thread_local! {
        /// The command found last: pipelines mostly repeat one command, and
        /// a case-insensitive compare is cheaper than hashing the name.
        static LAST: std::cell::Cell<Option<&'static Command>> = const { std::cell::Cell::new(None) };
    }
    if let Some(c) = LAST.with(|l| l.get()) {
        if c.name.len() == name.len() && c.name.as_bytes().eq_ignore_ascii_case(name) {
            return Some(c);
        }
    }
    let mut buf = [0u8; 64];
    let found = table().get(lower(name, &mut buf)?).copied();
    if found.is_some() {
        LAST.with(|l| l.set(found));
    }
    found
}

/// Resolves `args` to a command or subcommand, checking arity.
pub fn lookup(args: &[&[u8]]) -> Lookup {
    let Some(cmd) = find(args[0]) else {
        return Lookup::Error(unknown_command(args), None);
    };
    let cmd = if cmd.subcommands.is_empty() || args.len() < 2 {
        cmd
    } else {
        let sub = args[1].to_ascii_lowercase();
        match cmd.subcommands.iter().find(|s| s.short_name().as_bytes() == sub.as_slice()) {
            Some(s) => s,
            None => {
                let mut msg = b"ERR unknown subcommand '".to_vec();
                msg.extend_from_slice(c_str(args[1], 128));
                msg.extend_from_slice(format!("'. Try {} HELP.", cmd.name.to_ascii_uppercase()).as_bytes());
                return Lookup::Error(msg, None);
            }
        }
    };
    if !cmd.arity_ok(args.len()) {
        let msg = format!("ERR wrong number of arguments for '{}' command", cmd.name);
        return Lookup::Error(msg.into_bytes(), Some(cmd));
    }
    let _ = unknown_container;
    Lookup::Found(cmd)
}

/// What C's `%.Ns` prints of an argument: up to the first NUL, at most
/// `max` bytes.
fn c_str(b: &[u8], max: usize) -> &[u8] {
    let b = b.split(|&c| c == 0).next().unwrap_or(b);
    &b[..b.len().min(max)]
}

fn unknown_command(args: &[&[u8]]) -> Vec<u8> {
    let mut rest: Vec<u8> = Vec::new();
    for a in &args[1..] {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        rest.push(b'\'');
        rest.extend_from_slice(c_str(a, room));
        rest.extend_from_slice(b"' ");
    }
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(c_str(args[0], 128));
    msg.extend_from_slice(b"', with args beginning with: ");
    msg.extend_from_slice(&rest);
    msg
}
