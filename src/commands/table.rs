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
        Command {
            name,
            arity,
            flags,
            first_key: 0,
            last_key: 0,
            step: 0,
            handler,
            subcommands: &[],
        }
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
fn modules() -> [&'static [Command]; 11] {
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
    ]
}

fn table() -> &'static HashMap<Vec<u8>, &'static Command> {
    static TABLE: OnceLock<HashMap<Vec<u8>, &'static Command>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut m = HashMap::new();
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
    /// The error reply, and the command when one was resolved (for
    /// rejected_calls).
    Error(String, Option<&'static Command>),
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
    let mut buf = [0u8; 64];
    table().get(lower(name, &mut buf)?).copied()
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
        match cmd
            .subcommands
            .iter()
            .find(|s| s.short_name().as_bytes() == sub.as_slice())
        {
            Some(s) => s,
            None => {
                let msg = format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    truncate(args[1], 128),
                    cmd.name.to_ascii_uppercase()
                );
                return Lookup::Error(msg, None);
            }
        }
    };
    if !cmd.arity_ok(args.len()) {
        return Lookup::Error(
            format!("ERR wrong number of arguments for '{}' command", cmd.name),
            Some(cmd),
        );
    }
    let _ = unknown_container;
    Lookup::Found(cmd)
}

fn truncate(b: &[u8], n: usize) -> String {
    let b = &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]; // C string: ends at NUL
    String::from_utf8_lossy(&b[..b.len().min(n)]).into_owned()
}

fn unknown_command(args: &[&[u8]]) -> String {
    let mut rest = String::new();
    for a in &args[1..] {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        rest.push('\'');
        rest.push_str(&truncate(a, room));
        rest.push_str("' ");
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        truncate(args[0], 128),
        rest
    )
}
