//! DEBUG: the testing and introspection helpers that make sense here
//! (SLEEP, SET-ACTIVE-EXPIRE, POPULATE, OBJECT, LOG, ERROR, CHANGE-REPL-ID,
//! DIGEST, DIGEST-VALUE, RELOAD, LOADAOF).

use crate::commands::Ctx;
use crate::config::LogLevel;
use crate::keyspace::db::lru_clock;
use crate::keyspace::Value;
use crate::util::{eq_ic, parse_i64};

pub fn debug(ctx: &mut Ctx, args: &[&[u8]]) {
    let sub = args[1];
    let n = args.len();
    if eq_ic(sub, b"help") && n == 2 {
        help(ctx)
    } else if eq_ic(sub, b"sleep") && n == 3 {
        let secs = lenient_f64(args[2]);
        if secs > 0.0 && secs.is_finite() {
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(1e9)));
        }
        ctx.out.ok();
    } else if eq_ic(sub, b"set-active-expire") && n == 3 {
        ctx.st.active_expire = lenient_i64(args[2]) != 0;
        ctx.out.ok();
    } else if eq_ic(sub, b"populate") && (3..=5).contains(&n) {
        populate(ctx, args)
    } else if eq_ic(sub, b"protocol") && n == 3 {
        protocol(ctx, args[2])
    } else if eq_ic(sub, b"object") && n == 3 {
        object(ctx, args[2])
    } else if eq_ic(sub, b"log") && n == 3 {
        let msg = format!("DEBUG LOG: {}", String::from_utf8_lossy(args[2]));
        ctx.st.log(LogLevel::Warning, &msg);
        ctx.out.ok();
    } else if eq_ic(sub, b"error") && n == 3 {
        // Written as is: not counted as an error reply in the statistics.
        let mut reply = vec![b'-'];
        reply.extend(args[2].iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
        reply.extend_from_slice(b"\r\n");
        ctx.out.raw(&reply);
    } else if eq_ic(sub, b"change-repl-id") && n == 2 {
        ctx.st.change_replid();
        ctx.out.ok();
    } else if eq_ic(sub, b"digest") && n == 2 {
        let d = super::digest::dataset_digest(&ctx.st.keyspace);
        ctx.out.simple(&super::digest::hex(&d));
    } else if eq_ic(sub, b"digest-value") {
        digest_value(ctx, &args[2..])
    } else if eq_ic(sub, b"reload") {
        reload(ctx, &args[2..])
    } else if eq_ic(sub, b"loadaof") {
        loadaof(ctx)
    } else {
        let msg = format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(sub)
        );
        ctx.err(&msg);
    }
}

/// DEBUG DIGEST-VALUE key...: the digest of each value (zeros for a
/// missing key), without touching access times.
fn digest_value(ctx: &mut Ctx, keys: &[&[u8]]) {
    let now = ctx.now;
    ctx.out.array(keys.len());
    for k in keys {
        let db = &mut ctx.st.keyspace.dbs[ctx.db];
        db.expire_if_needed(k, now);
        let d = match db.peek(k) {
            Some(e) => super::digest::value_digest(&e.value, db.expire_of(k).is_some()),
            None => [0u8; 20],
        };
        ctx.out.simple(&super::digest::hex(&d));
    }
    crate::commands::collect_side_effects(ctx.st);
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves the snapshot, empties the
/// dataset and loads the snapshot back, all before replying.
fn reload(ctx: &mut Ctx, opts: &[&[u8]]) {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for o in opts {
        if eq_ic(o, b"merge") {
            merge = true;
        } else if eq_ic(o, b"noflush") {
            flush = false;
        } else if eq_ic(o, b"nosave") {
            save = false;
        } else {
            return ctx.err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
        }
    }
    if save && crate::commands::persist::save_now(ctx.st).is_err() {
        return ctx.err("ERR");
    }
    if flush {
        ctx.st.keyspace.flush(None, false);
    }
    match crate::commands::persist::load_file(ctx.st, merge) {
        Ok(()) => {
            ctx.st.log(LogLevel::Warning, "DB reloaded by DEBUG RELOAD");
            ctx.out.ok();
        }
        Err(e) => {
            ctx.st.log(LogLevel::Warning, &e);
            ctx.err("ERR Error trying to load the RDB dump");
        }
    }
}

/// DEBUG LOADAOF: everything written is synced, the data set emptied and
/// loaded again from the AOF files. A failure to load stops the server, as
/// in Redis: going on with part of the data could later overwrite the
/// files with it.
fn loadaof(ctx: &mut Ctx) {
    let st = &mut *ctx.st;
    if st.aof.status == crate::persistence::aof::Status::On {
        st.flush_writes();
        if let Some(w) = st.aof.writer.as_mut() {
            let _ = w.sync_all();
        }
    }
    st.keyspace.flush(None, false);
    if let Err(e) = crate::commands::aof::load_now(st) {
        st.log(LogLevel::Warning, &e);
        st.log(
            LogLevel::Warning,
            "DEBUG LOADAOF could not load the append only file: exiting to keep the files as they are",
        );
        std::process::exit(1);
    }
    st.dirty = 0;
    st.log(LogLevel::Warning, "Append Only File loaded by DEBUG LOADAOF");
    ctx.out.ok();
}

/// The leading number of `b`, 0 when there is none (C's atoi).
fn lenient_i64(b: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(b);
    let t = s.trim_start();
    let end = t
        .char_indices()
        .take_while(|&(i, c)| c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+')))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    t[..end].parse().unwrap_or(0)
}

/// The longest leading decimal number of `b`, 0 when there is none (C's
/// strtod without hex forms).
fn lenient_f64(b: &[u8]) -> f64 {
    let s = String::from_utf8_lossy(b);
    let t = s.trim_start();
    (1..=t.len()).rev().filter(|&i| t.is_char_boundary(i)).find_map(|i| t[..i].parse::<f64>().ok()).unwrap_or(0.0)
}

/// DEBUG PROTOCOL <type>: a fixed sample reply of each RESP type, for
/// testing clients.
fn protocol(ctx: &mut Ctx, kind: &[u8]) {
    let out = &mut *ctx.out;
    let resp3 = out.resp3();
    match kind.to_ascii_lowercase().as_slice() {
        b"string" => out.bulk(b"Hello World"),
        b"integer" => out.int(12345),
        b"double" => out.double(3.141),
        b"bignum" => {
            const BIG: &[u8] = b"1234567999999999999999999999999999999";
            if resp3 {
                out.raw(b"(");
                out.raw(BIG);
                out.raw(b"\r\n");
            } else {
                out.bulk(BIG);
            }
        }
        b"null" => out.null(),
        b"array" | b"set" => {
            if kind.eq_ignore_ascii_case(b"set") {
                out.set(3);
            } else {
                out.array(3);
            }
            (0..3).for_each(|i| out.int(i));
        }
        b"map" => {
            out.map(3);
            for i in 0..3 {
                out.int(i);
                out.boolean(i == 1);
            }
        }
        b"attrib" => {
            if resp3 {
                out.raw(b"|1\r\n");
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.int(90);
            }
            out.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !resp3 {
                return ctx.err("ERR RESP2 is not supported by this command");
            }
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.int(42);
            out.bulk(b"Some real reply following the push reply");
        }
        b"verbatim" => out.verbatim(b"This is a verbatim\nstring", "txt"),
        b"true" => out.boolean(true),
        b"false" => out.boolean(false),
        _ => ctx.err(
            "ERR Wrong protocol type name. Please use one of the following: \
             string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ),
    }
}

fn populate(ctx: &mut Ctx, args: &[&[u8]]) {
    const RANGE: &str = "ERR value is out of range, must be positive";
    let Some(count) = parse_i64(args[2]).filter(|&c| c >= 0) else {
        return ctx.err(RANGE);
    };
    let prefix: &[u8] = args.get(3).copied().unwrap_or(b"key");
    let size = match args.get(4) {
        None => 0,
        Some(s) => match parse_i64(s).filter(|&v| v >= 0) {
            Some(v) => v as usize,
            None => return ctx.err(RANGE),
        },
    };
    let now = ctx.now;
    let db = ctx.db;
    let mut key = Vec::with_capacity(prefix.len() + 21);
    for i in 0..count {
        key.clear();
        key.extend_from_slice(prefix);
        key.push(b':');
        key.extend_from_slice(crate::util::itoa(i).as_bytes());
        let d = &mut ctx.st.keyspace.dbs[db];
        if d.exists(&key, now) {
            continue;
        }
        let mut val = format!("value:{i}").into_bytes();
        if size > 0 {
            val.resize(size, 0);
        }
        d.add(&key, Value::string_owned(val), now);
        d.touch(&key);
    }
    ctx.out.ok();
}

/// Bytes an RDB file would use for a length.
fn rdb_len_size(len: usize) -> usize {
    match len {
        0..=63 => 1,
        64..=16383 => 2,
        _ if len as u64 <= u32::MAX as u64 => 5,
        _ => 9,
    }
}

/// Bytes an RDB file would use for an integer-looking string.
fn rdb_int_size(n: i64) -> usize {
    if (-128..=127).contains(&n) {
        2
    } else if (-32768..=32767).contains(&n) {
        3
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&n) {
        5
    } else {
        let digits = crate::util::itoa(n).as_bytes().len();
        rdb_len_size(digits) + digits
    }
}

/// Approximate size of a value in an RDB file (strings are not compressed
/// in this estimate).
pub fn serialized_len(v: &Value) -> usize {
    match v {
        Value::Int(n) => rdb_int_size(*n),
        other => match other.as_bytes() {
            Some(b) => {
                if b.len() <= 11 {
                    if let Some(n) = parse_i64(&b) {
                        return rdb_int_size(n);
                    }
                }
                rdb_len_size(b.len()) + b.len()
            }
            None => other.heap_size() + 1,
        },
    }
}

fn object(ctx: &mut Ctx, key: &[u8]) {
    let now = ctx.now;
    let Some(e) = ctx.st.keyspace.dbs[ctx.db].peek(key) else {
        return ctx.err("ERR no such key");
    };
    if ctx.st.keyspace.dbs[ctx.db].is_expired(key, now) {
        return ctx.err("ERR no such key");
    }
    let shared = matches!(e.value, Value::Int(n) if (0..10000).contains(&n));
    let refcount: i64 = if shared { i32::MAX as i64 } else { 1 };
    let clock = lru_clock(now);
    const LRU_MAX: u32 = (1 << 24) - 1;
    let idle = if clock >= e.lru { clock - e.lru } else { clock + (LRU_MAX - e.lru) };
    let line = format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        &e.value as *const Value,
        refcount,
        e.value.encoding(),
        serialized_len(&e.value),
        e.lru,
        idle
    );
    ctx.out.simple(&line);
}

fn help(ctx: &mut Ctx) {
    crate::commands::server::help_reply(
        ctx,
        "DEBUG",
        &[
            "CHANGE-REPL-ID",
            "    Give the server a new replication id.",
            "ERROR <string>",
            "    Reply with an error carrying <string>.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "OBJECT <key>",
            "    Low level facts about the value of <key>: encoding, approximate",
            "    serialized length, access clock.",
            "PROTOCOL <type>",
            "    Reply with a sample of a reply type: string, integer, double, bignum, null,",
            "    array, set, map, attrib, push, verbatim, true, false.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys <prefix>:<n> (prefix defaults to 'key')",
            "    holding value:<n>, cut or zero-padded to <size> bytes when given.",
            "    Existing keys are left alone; nothing is propagated.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Switch the background deletion of expired keys off (0) or on (1).",
            "SLEEP <seconds>",
            "    Block the server for <seconds> (decimals allowed).",
            "RELOAD, LOADAOF, DIGEST, DIGEST-VALUE",
            "    Not available until the persistence layer lands.",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_numbers() {
        assert_eq!(lenient_i64(b"12abc"), 12);
        assert_eq!(lenient_i64(b"abc"), 0);
        assert_eq!(lenient_i64(b"-3"), -3);
        assert_eq!(lenient_f64(b"0.5s"), 0.5);
        assert_eq!(lenient_f64(b"x"), 0.0);
    }

    #[test]
    fn serialized_lengths() {
        assert_eq!(serialized_len(&Value::string(b"123")), 2);
        assert_eq!(serialized_len(&Value::string(b"value:0")), 8);
        assert_eq!(serialized_len(&Value::string(b"hello")), 6);
    }
}
