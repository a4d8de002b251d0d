//! Generic key commands.

use super::flags::*;
use super::notify;
use super::table::Command;
use super::Ctx;

pub const COMMANDS: &[Command] = &[
    Command::new("del", -2, WRITE, del).keys(1, -1, 1),
    Command::new("exists", -2, READONLY | FAST, exists).keys(1, -1, 1),
    Command::new("dbsize", 1, READONLY | FAST, dbsize),
    Command::new("flushall", -1, WRITE, flushall),
    Command::new("flushdb", -1, WRITE, flushdb),
    Command::new("select", 2, LOADING | STALE | FAST, select),
];

fn del(ctx: &mut Ctx, args: &[&[u8]]) {
    let now = ctx.now;
    let mut n = 0;
    for k in &args[1..] {
        let db = &mut ctx.st.keyspace.dbs[ctx.db];
        db.expire_if_needed(k, now);
        if db.remove(k).is_some() {
            n += 1;
            ctx.changed(k, notify::GENERIC, "del");
        }
    }
    ctx.out.int(n);
}

fn exists(ctx: &mut Ctx, args: &[&[u8]]) {
    let now = ctx.now;
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    let n = args[1..].iter().filter(|k| db.exists(k, now)).count();
    ctx.out.int(n as i64);
}

fn dbsize(ctx: &mut Ctx, _: &[&[u8]]) {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
}

fn flushall(ctx: &mut Ctx, _: &[&[u8]]) {
    let mut removed = 0;
    for db in ctx.st.keyspace.dbs.iter_mut() {
        removed += db.len() as u64;
        db.touch_all_watched(true);
        let _ = db.flush();
    }
    ctx.dirty += removed.max(1);
    ctx.out.ok();
}

fn flushdb(ctx: &mut Ctx, _: &[&[u8]]) {
    let db = ctx.db();
    let removed = db.len() as u64;
    db.touch_all_watched(true);
    let _ = db.flush();
    ctx.dirty += removed.max(1);
    ctx.out.ok();
}

fn select(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(id) = crate::util::parse_i64(args[1]) else {
        return ctx.err(super::NOT_INT);
    };
    if id < 0 || id as usize >= ctx.st.keyspace.dbs.len() {
        return ctx.err("ERR DB index is out of range");
    }
    ctx.db = id as usize;
    ctx.out.ok();
}
