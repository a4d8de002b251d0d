//! Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
//! BITFIELD_RO. Bitmaps are string values; bit 0 is the most significant
//! bit of the first byte.

use super::flags::*;
use super::notify;
use super::strings::{grow_zeroed, read, set_key, str_of, zeroed, TOO_BIG};
use super::table::Command;
use super::{Ctx, NOT_INT, SYNTAX_ERR, WRONGTYPE};
use crate::keyspace::Value;
use crate::protocol::ReplyBuf;
use crate::util::bits::{
    clamp_range, first_bit, get_bit, get_signed, get_unsigned, popcount, set_field, signed_add, unsigned_add, Overflow,
};
use crate::util::{c_str, kw_eq, parse_i64};

pub const COMMANDS: &[Command] = &[
    Command::new("setbit", 4, WRITE | DENYOOM, setbit).keys(1, 1, 1),
    Command::new("getbit", 3, READONLY | FAST, getbit).keys(1, 1, 1),
    Command::new("bitcount", -2, READONLY, bitcount).keys(1, 1, 1),
    Command::new("bitpos", -3, READONLY, bitpos).keys(1, 1, 1),
    Command::new("bitop", -4, WRITE | DENYOOM, bitop).keys(2, -1, 1),
    Command::new("bitfield", -2, WRITE | DENYOOM, bitfield).keys(1, 1, 1),
    Command::new("bitfield_ro", -2, READONLY | FAST, bitfield_ro).keys(1, 1, 1),
];

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";
const BIT_ERR: &str = "ERR bit is not an integer or out of range";
const TYPE_ERR: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// Parses a bit offset. With `hash_bits` > 0 a `#N` form means `N *
/// hash_bits` (BITFIELD). Offsets must address a byte below
/// proto-max-bulk-len; `None` after replying the error.
fn bit_offset(ctx: &mut Ctx, arg: &[u8], hash_bits: u32) -> Option<u64> {
    let (digits, mul) = match arg.first() {
        Some(b'#') if hash_bits > 0 => (&arg[1..], hash_bits as i64),
        _ => (arg, 1),
    };
    // The multiplication wraps as it does in the reference.
    let off = parse_i64(digits).map(|n| n.wrapping_mul(mul));
    match off {
        Some(n) if n >= 0 && (n as u64 >> 3) < ctx.st.config.proto_max_bulk_len => Some(n as u64),
        _ => {
            ctx.err(OFFSET_ERR);
            None
        }
    }
}

/// Redis's lookupStringForBitCommand: makes the string at `key` raw and at
/// least `len` bytes long, creating it if missing. Returns whether it was
/// created or grown; `None` after replying an error.
fn grow_for_bits(ctx: &mut Ctx, key: &[u8], len: usize) -> Option<bool> {
    let now = ctx.now;
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    let grown = match db.get_mut(key, now) {
        None => match zeroed(len) {
            Some(v) => {
                db.add(key, Value::Raw(v), now);
                Some(true)
            }
            None => None,
        },
        Some(e) => {
            if !e.value.is_string() {
                ctx.wrongtype();
                return None;
            }
            let v = e.value.make_raw()?;
            let shorter = v.len() < len;
            grow_zeroed(v, len).then_some(shorter)
        }
    };
    if grown.is_none() {
        ctx.err(TOO_BIG);
    }
    grown
}

/// The raw bytes of the string at `key` (made raw by `grow_for_bits`) and
/// the reply buffer, borrowed apart.
fn raw_and_out<'c>(ctx: &'c mut Ctx, key: &[u8]) -> (Option<&'c mut Vec<u8>>, &'c mut ReplyBuf) {
    let now = ctx.now;
    let v = ctx.st.keyspace.dbs[ctx.db].get_mut(key, now).and_then(|e| e.value.make_raw());
    (v, &mut *ctx.out)
}

fn setbit(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let Some(offset) = bit_offset(ctx, args[2], 0) else {
        return;
    };
    let on = match parse_i64(args[3]) {
        Some(b @ (0 | 1)) => b == 1,
        _ => return ctx.err(BIT_ERR),
    };
    let byte = (offset >> 3) as usize;
    let Some(grown) = grow_for_bits(ctx, key, byte + 1) else {
        return;
    };
    let (Some(v), out) = raw_and_out(ctx, key) else {
        return;
    };
    let mask = 0x80u8 >> (offset & 7);
    let old = v[byte] & mask != 0;
    out.int(old as i64);
    if grown || old != on {
        if on {
            v[byte] |= mask;
        } else {
            v[byte] &= !mask;
        }
        ctx.changed(key, notify::STRING, "setbit");
    }
}

fn getbit(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(offset) = bit_offset(ctx, args[2], 0) else {
        return;
    };
    let (v, out) = read(ctx, args[1]);
    match v.map(str_of) {
        None => out.int(0),
        Some(None) => out.error(WRONGTYPE),
        Some(Some(s)) => out.int(get_bit(&s, offset) as i64),
    }
}

/// A start/end range argument pair with an optional BYTE|BIT unit, parsed
/// in the reference's order; `Err` carries the error reply.
fn parse_int(arg: &[u8]) -> Result<i64, &'static str> {
    parse_i64(arg).ok_or(NOT_INT)
}

fn parse_unit(arg: &[u8]) -> Result<bool, &'static str> {
    if kw_eq(arg, b"bit") {
        Ok(true)
    } else if kw_eq(arg, b"byte") {
        Ok(false)
    } else {
        Err(SYNTAX_ERR)
    }
}

/// Bytes `first..=last` of a bit range `sb..=eb`, and the masks of the bits
/// of the first and last bytes that fall outside it.
fn bit_span(sb: i64, eb: i64) -> (usize, usize, u8, u8) {
    let first_out = !(0xffu8 >> (sb & 7));
    let last_out = ((1u16 << (7 - (eb & 7))) - 1) as u8;
    ((sb >> 3) as usize, (eb >> 3) as usize, first_out, last_out)
}

fn bitcount(ctx: &mut Ctx, args: &[&[u8]]) {
    let (v, out) = read(ctx, args[1]);
    let Some(v) = v else { return out.int(0) };
    let Some(s) = str_of(v) else { return out.error(WRONGTYPE) };
    let count = |s: &[u8]| -> Result<u64, &'static str> {
        if args.len() == 2 {
            return Ok(popcount(s));
        }
        if args.len() > 5 || args.len() == 3 {
            return Err(SYNTAX_ERR);
        }
        let start = parse_int(args[2])?;
        let end = parse_int(args[3])?;
        // An inverted negative range is empty, whatever the unit says.
        if start < 0 && end < 0 && start > end {
            return Ok(0);
        }
        let isbit = args.get(4).map_or(Ok(false), |u| parse_unit(u))?;
        if !isbit {
            return Ok(
                clamp_range(start, end, s.len() as i64).map_or(0, |(a, b)| popcount(&s[a as usize..=b as usize]))
            );
        }
        Ok(clamp_range(start, end, s.len() as i64 * 8).map_or(0, |(sb, eb)| {
            let (a, b, first_out, last_out) = bit_span(sb, eb);
            popcount(&s[a..=b]) - (s[a] & first_out).count_ones() as u64 - (s[b] & last_out).count_ones() as u64
        }))
    };
    match count(&s) {
        Ok(n) => out.int(n as i64),
        Err(e) => out.error(e),
    }
}

/// First bit equal to `bit` within bits `sb..=eb` of `p`, or -1.
fn first_bit_between(p: &[u8], sb: i64, eb: i64, bit: bool) -> i64 {
    let (a, b, first_out, last_out) = bit_span(sb, eb);
    let look = |i: usize, outside: u8| -> Option<i64> {
        let byte = if bit { p[i] & !outside } else { !p[i] & !outside };
        (byte != 0).then(|| i as i64 * 8 + byte.leading_zeros() as i64)
    };
    if a == b {
        return look(a, first_out | last_out).unwrap_or(-1);
    }
    if let Some(pos) = look(a, first_out) {
        return pos;
    }
    if b > a + 1 {
        let pos = first_bit(&p[a + 1..b], bit);
        if pos != -1 && pos != (b - a - 1) as i64 * 8 {
            return pos + (a as i64 + 1) * 8;
        }
    }
    look(b, last_out).unwrap_or(-1)
}

fn bitpos(ctx: &mut Ctx, args: &[&[u8]]) {
    let bit = match parse_i64(args[2]) {
        None => return ctx.err(NOT_INT),
        Some(b @ (0 | 1)) => b == 1,
        Some(_) => return ctx.err("ERR The bit argument must be 1 or 0."),
    };
    let (v, out) = read(ctx, args[1]);
    let Some(v) = v else {
        return out.int(if bit { -1 } else { 0 });
    };
    let Some(s) = str_of(v) else {
        return out.error(WRONGTYPE);
    };
    let len = s.len() as i64;
    let range = match args.len() {
        3 => Ok((0, len - 1, false, false)),
        4..=6 => (|| {
            let start = parse_int(args[3])?;
            let isbit = match args.get(5) {
                Some(u) => parse_unit(u)?,
                None => false,
            };
            match args.get(4) {
                Some(e) => Ok((start, parse_int(e)?, isbit, true)),
                None => Ok((start, len - 1, isbit, false)),
            }
        })(),
        _ => Err(SYNTAX_ERR),
    };
    let (start, end, isbit, end_given) = match range {
        Ok(r) => r,
        Err(e) => return out.error(e),
    };
    let pos = if isbit {
        match clamp_range(start, end, len * 8) {
            Some((sb, eb)) => first_bit_between(&s, sb, eb, bit),
            None => -1,
        }
    } else {
        match clamp_range(start, end, len) {
            Some((a, b)) => {
                let pos = first_bit(&s[a as usize..=b as usize], bit);
                if pos == -1 || (end_given && !bit && pos == (b - a + 1) * 8) {
                    -1
                } else {
                    pos + a * 8
                }
            }
            None => -1,
        }
    };
    out.int(pos);
}

#[derive(Clone, Copy, PartialEq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

fn bitop(ctx: &mut Ctx, args: &[&[u8]]) {
    let op = match args[1] {
        a if kw_eq(a, b"and") => BitOp::And,
        a if kw_eq(a, b"or") => BitOp::Or,
        a if kw_eq(a, b"xor") => BitOp::Xor,
        a if kw_eq(a, b"not") => BitOp::Not,
        _ => return ctx.syntax(),
    };
    if op == BitOp::Not && args.len() != 4 {
        return ctx.err("ERR BITOP NOT must be called with a single source key.");
    }
    let (dest, srcs) = (args[2], &args[3..]);
    for k in srcs {
        let (v, out) = read(ctx, k);
        if v.is_some_and(|v| !v.is_string()) {
            return out.error(WRONGTYPE);
        }
    }
    let now = ctx.now;
    let db = &ctx.st.keyspace.dbs[ctx.db];
    let views: Vec<_> =
        srcs.iter().map(|k| db.peek(k).filter(|_| !db.is_expired(k, now)).and_then(|e| str_of(&e.value))).collect();
    let maxlen = views.iter().map(|s| s.as_ref().map_or(0, |s| s.len())).max().unwrap_or(0);
    let mut res = Vec::new();
    if maxlen > 0 {
        let Some(buf) = zeroed(maxlen) else {
            return ctx.err(TOO_BIG);
        };
        res = buf;
        let src = |i: usize| views[i].as_deref().unwrap_or(b"");
        let first = src(0);
        res[..first.len()].copy_from_slice(first);
        for i in 1..views.len() {
            let s = src(i);
            let (head, tail) = res.split_at_mut(s.len());
            match op {
                BitOp::And => {
                    head.iter_mut().zip(s).for_each(|(r, b)| *r &= b);
                    tail.fill(0);
                }
                BitOp::Or => head.iter_mut().zip(s).for_each(|(r, b)| *r |= b),
                BitOp::Xor => head.iter_mut().zip(s).for_each(|(r, b)| *r ^= b),
                BitOp::Not => {}
            }
        }
        if op == BitOp::Not {
            res.iter_mut().for_each(|r| *r = !*r);
        }
    }
    drop(views);
    if maxlen > 0 {
        set_key(ctx, dest, Value::Raw(res), false);
        ctx.changed(dest, notify::STRING, "set");
    } else if ctx.db().remove(dest).is_some() {
        ctx.changed(dest, notify::GENERIC, "del");
    }
    ctx.out.int(maxlen as i64);
}

#[derive(Clone, Copy, PartialEq)]
enum FieldOp {
    Get,
    Set,
    Incr,
}

struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

/// Parses a field type: `i1`..`i64` or `u1`..`u63` (read as a C string).
fn field_type(arg: &[u8]) -> Option<(bool, u32)> {
    let (&t, width) = c_str(arg).split_first()?;
    let signed = match t {
        b'i' => true,
        b'u' => false,
        _ => return None,
    };
    let n = parse_i64(width)?;
    (n >= 1 && n <= if signed { 64 } else { 63 }).then_some((signed, n as u32))
}

fn read_field(p: &[u8], f: &Field) -> i64 {
    if f.signed {
        get_signed(p, f.offset, f.bits)
    } else {
        get_unsigned(p, f.offset, f.bits) as i64
    }
}

/// Applies a SET or INCRBY to `p`: `(reply, changed)`, the reply `None` when
/// OVERFLOW FAIL refused the write.
fn write_field(p: &mut [u8], f: &Field) -> (Option<i64>, bool) {
    let (old, overflowed, new) = if f.signed {
        let old = get_signed(p, f.offset, f.bits);
        let (base, incr) = if f.op == FieldOp::Incr { (old, f.value) } else { (f.value, 0) };
        let (o, n) = signed_add(base, incr, f.bits, f.overflow);
        (old, o, n)
    } else {
        let old = get_unsigned(p, f.offset, f.bits);
        let (base, incr) = if f.op == FieldOp::Incr { (old, f.value) } else { (f.value as u64, 0) };
        let (o, n) = unsigned_add(base, incr, f.bits, f.overflow);
        (old as i64, o, n as i64)
    };
    if overflowed && f.overflow == Overflow::Fail {
        return (None, false);
    }
    set_field(p, f.offset, f.bits, new as u64);
    let reply = if f.op == FieldOp::Incr { new } else { old };
    (Some(reply), old != new)
}

fn bitfield(ctx: &mut Ctx, args: &[&[u8]]) {
    bitfield_generic(ctx, args, false);
}

fn bitfield_ro(ctx: &mut Ctx, args: &[&[u8]]) {
    bitfield_generic(ctx, args, true);
}

fn bitfield_generic(ctx: &mut Ctx, args: &[&[u8]], ro: bool) {
    let key = args[1];
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest: Option<u64> = None;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let sub = args[j];
        let op = if kw_eq(sub, b"get") && rem >= 2 {
            FieldOp::Get
        } else if kw_eq(sub, b"set") && rem >= 3 {
            FieldOp::Set
        } else if kw_eq(sub, b"incrby") && rem >= 3 {
            FieldOp::Incr
        } else if kw_eq(sub, b"overflow") && rem >= 1 {
            overflow = match args[j + 1] {
                a if kw_eq(a, b"wrap") => Overflow::Wrap,
                a if kw_eq(a, b"sat") => Overflow::Sat,
                a if kw_eq(a, b"fail") => Overflow::Fail,
                _ => return ctx.err("ERR Invalid OVERFLOW type specified"),
            };
            j += 2;
            continue;
        } else {
            return ctx.syntax();
        };
        let Some((signed, bits)) = field_type(args[j + 1]) else {
            return ctx.err(TYPE_ERR);
        };
        let Some(offset) = bit_offset(ctx, args[j + 2], bits) else {
            return;
        };
        let mut value = 0;
        if op != FieldOp::Get {
            let last = offset + bits as u64 - 1;
            highest = Some(highest.map_or(last, |h| h.max(last)));
            let Some(v) = parse_i64(args[j + 3]) else {
                return ctx.err(NOT_INT);
            };
            value = v;
        }
        fields.push(Field { op, signed, bits, offset, value, overflow });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }

    let Some(highest) = highest else {
        // Only GETs: a read, fine on a missing key.
        let (v, out) = read(ctx, key);
        let s = match v.map(str_of) {
            Some(None) => return out.error(WRONGTYPE),
            Some(Some(s)) => Some(s),
            None => None,
        };
        let p = s.as_deref().unwrap_or(b"");
        out.array(fields.len());
        for f in &fields {
            out.int(read_field(p, f));
        }
        return;
    };
    if ro {
        return ctx.err("ERR BITFIELD_RO only supports the GET subcommand");
    }
    let Some(grown) = grow_for_bits(ctx, key, (highest >> 3) as usize + 1) else {
        return;
    };
    let (Some(p), out) = raw_and_out(ctx, key) else {
        return;
    };
    out.array(fields.len());
    let mut changes = 0;
    for f in &fields {
        if f.op == FieldOp::Get {
            out.int(read_field(p, f));
            continue;
        }
        match write_field(p, f) {
            (Some(reply), changed) => {
                out.int(reply);
                if grown || changed {
                    changes += 1;
                }
            }
            (None, _) => out.null(),
        }
    }
    if changes > 0 {
        ctx.changed(key, notify::STRING, "setbit");
        ctx.dirty += changes - 1;
    }
}
