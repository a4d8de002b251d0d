#!/usr/bin/env python3
"""Writes src/commands/meta.rs: the interface facts of every Redis 7.0 command
(name, arity, flags, key positions, ACL categories, tips, key specs,
subcommands, and from COMMAND DOCS the group, version, doc flags and the
structure of the arguments), read from a running redis-server 7.0.

Summaries are not taken from the server: they come from
tools/command-summaries.txt, written for this project.

Usage:
    tools/gen-command-meta.py              # starts redis-server on a free port
    tools/gen-command-meta.py --port 6379  # uses a server that is already up
    tools/gen-command-meta.py --check      # fails if meta.rs is out of date
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "src", "commands", "meta.rs")
SUMMARIES = os.path.join(ROOT, "tools", "command-summaries.txt")


# --- a small RESP3 client -------------------------------------------------


class Status(str):
    """A simple string reply (+...), told apart from a bulk string."""


class Set(list):
    """A RESP3 set (~), told apart from an array."""


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2 :]
        return data

    def read(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return Status(rest.decode())
        if kind == b"-":
            raise RuntimeError("server error: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind in (b"$", b"="):
            n = int(rest)
            return None if n < 0 else self.exact(n).decode()
        if kind == b"_":
            return None
        if kind in (b"*", b"~"):
            items = [self.read() for _ in range(int(rest))]
            return Set(items) if kind == b"~" else items
        if kind == b"%":
            pairs = []
            for _ in range(int(rest)):
                k = self.read()
                pairs.append((k, self.read()))
            return pairs
        raise RuntimeError("unexpected reply type %r" % line)


def command(sock, reader, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    return reader.read()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_redis():
    binary = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if not binary:
        sys.exit("redis-server not found (set REDIS_SERVER)")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    if "v=7.0." not in version:
        sys.exit("%s is not Redis 7.0: %s" % (binary, version))
    port = free_port()
    tmp = tempfile.mkdtemp()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", tmp],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            return proc, socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            time.sleep(0.02)
    proc.kill()
    sys.exit("redis-server did not start")


# --- reading the facts ----------------------------------------------------


def as_map(pairs):
    return {k: v for k, v in pairs}


def expect(cond, what):
    if not cond:
        raise RuntimeError("unexpected shape: " + what)


def parse_info(entry):
    expect(len(entry) == 10, "COMMAND INFO entry of 10 fields")
    name, arity, flags, first, last, step, acl, tips, specs, subs = entry
    for f in flags:
        expect(isinstance(f, Status), "flag as status")
    for c in acl:
        expect(isinstance(c, Status), "ACL category as status")
    for t in tips:
        expect(not isinstance(t, Status), "tip as bulk")
    expect(isinstance(flags, Set) and isinstance(acl, Set) and isinstance(tips, Set), "sets")
    expect(isinstance(specs, Set), "key specs as a set")
    keyspecs = []
    for spec in specs:
        keys = [k for k, _ in spec]
        m = as_map(spec)
        expect(keys in (["flags", "begin_search", "find_keys"],
                        ["notes", "flags", "begin_search", "find_keys"]), "key spec fields %r" % keys)
        for f in m["flags"]:
            expect(isinstance(f, Status), "key spec flag as status")
        bs = as_map(m["begin_search"])
        fk = as_map(m["find_keys"])
        bspec = as_map(bs["spec"])
        fspec = as_map(fk["spec"])
        if bs["type"] == "index":
            expect(list(bspec) == ["index"], "index spec")
            begin = "Begin::Index(%d)" % bspec["index"]
        elif bs["type"] == "keyword":
            expect(list(bspec) == ["keyword", "startfrom"], "keyword spec")
            begin = "Begin::Keyword(%s, %d)" % (rs(bspec["keyword"]), bspec["startfrom"])
        else:
            expect(bs["type"] == "unknown" and not bspec, "unknown begin_search")
            begin = "Begin::Unknown"
        if fk["type"] == "range":
            expect(list(fspec) == ["lastkey", "keystep", "limit"], "range spec")
            find = "Find::Range(%d, %d, %d)" % (fspec["lastkey"], fspec["keystep"], fspec["limit"])
        elif fk["type"] == "keynum":
            expect(list(fspec) == ["keynumidx", "firstkey", "keystep"], "keynum spec")
            find = "Find::Keynum(%d, %d, %d)" % (fspec["keynumidx"], fspec["firstkey"], fspec["keystep"])
        else:
            expect(fk["type"] == "unknown" and not fspec, "unknown find_keys")
            find = "Find::Unknown"
        keyspecs.append({"notes": m.get("notes", ""), "flags": list(m["flags"]),
                         "begin": begin, "find": find})
    # Redis sends an empty set when there are none, else an array.
    expect(not isinstance(subs, Set) or not subs, "subcommands as array")
    return {
        "name": name, "arity": arity, "flags": list(flags), "first": first,
        "last": last, "step": step, "acl": list(acl), "tips": list(tips),
        "specs": keyspecs, "subs": [parse_info(s) for s in subs],
    }


DOC_KEYS = ["summary", "since", "group", "complexity", "module", "doc_flags",
            "deprecated_since", "replaced_by", "history", "arguments", "subcommands"]
ARG_KEYS = ["name", "type", "display_text", "key_spec_index", "token", "summary", "since",
            "flags", "deprecated_since", "value", "arguments"]


def parse_args(args):
    out = []
    for a in args:
        m = as_map(a)
        for k in m:
            expect(k in ARG_KEYS, "argument field %r" % k)
        expect("summary" not in m and "display_text" not in m, "argument texts")
        for f in m.get("flags", []):
            expect(isinstance(f, Status), "argument flag as status")
        out.append({
            "name": m["name"], "type": m["type"],
            "key_spec_index": m.get("key_spec_index", -1),
            "token": m.get("token"), "since": m.get("since"),
            "flags": list(m.get("flags", [])),
            "deprecated_since": m.get("deprecated_since"),
            "args": parse_args(m.get("arguments", [])),
        })
    return out


def parse_docs(name, pairs):
    keys = [k for k, _ in pairs]
    for k in keys:
        expect(k in DOC_KEYS, "doc field %r of %s" % (k, name))
    m = as_map(pairs)
    subs = {}
    for sname, sdoc in m.get("subcommands", []):
        subs[sname] = parse_docs(sname, sdoc)
    return {
        "since": m.get("since"), "group": m["group"],
        "doc_flags": list(m.get("doc_flags", [])),
        "deprecated_since": m.get("deprecated_since"),
        "args": parse_args(m.get("arguments", [])), "subs": subs,
    }


# --- writing Rust ---------------------------------------------------------


def rs(s):
    out = '"'
    for ch in s:
        if ch in '"\\':
            out += "\\" + ch
        elif 32 <= ord(ch) < 127:
            out += ch
        else:
            out += "\\u{%x}" % ord(ch)
    return out + '"'


def strs(items):
    return "&[" + ", ".join(rs(i) for i in items) + "]"


def opt(s):
    return "None" if s is None else "Some(%s)" % rs(s)


def write_args(args, indent):
    if not args:
        return "&[]"
    pad = " " * indent
    lines = ["&["]
    for a in args:
        lines.append(
            "%s    Arg { name: %s, kind: %s, key_spec: %d, token: %s, since: %s, flags: %s, deprecated_since: %s, args: %s },"
            % (pad, rs(a["name"]), rs(a["type"]), a["key_spec_index"], opt(a["token"]),
               opt(a["since"]), strs(a["flags"]), opt(a["deprecated_since"]),
               write_args(a["args"], indent + 4)))
    lines.append(pad + "]")
    return "\n".join(lines)


def write_cmd(info, docs, summaries, indent):
    pad = " " * indent
    name = info["name"]
    if name not in summaries:
        raise RuntimeError("no summary for %s in %s" % (name, SUMMARIES))
    specs = []
    for s in info["specs"]:
        specs.append("KeySpec { notes: %s, flags: %s, begin: %s, find: %s }"
                     % (rs(s["notes"]), strs(s["flags"]), s["begin"], s["find"]))
    subs = sorted(info["subs"], key=lambda s: s["name"])
    sub_text = "&[]"
    if subs:
        parts = ["&["]
        for s in subs:
            parts.append(write_cmd(s, docs["subs"][s["name"]], summaries, indent + 8) + ",")
        parts.append(pad + "    ]")
        sub_text = "\n".join(parts)
    return (
        "%sMeta {\n"
        "%s    name: %s,\n"
        "%s    arity: %d,\n"
        "%s    flags: %s,\n"
        "%s    first_key: %d,\n"
        "%s    last_key: %d,\n"
        "%s    step: %d,\n"
        "%s    acl: %s,\n"
        "%s    tips: %s,\n"
        "%s    key_specs: &[%s],\n"
        "%s    summary: %s,\n"
        "%s    since: %s,\n"
        "%s    group: %s,\n"
        "%s    doc_flags: %s,\n"
        "%s    deprecated_since: %s,\n"
        "%s    args: %s,\n"
        "%s    subcommands: %s,\n"
        "%s}"
    ) % (pad, pad, rs(name), pad, info["arity"], pad, strs(info["flags"]), pad, info["first"],
         pad, info["last"], pad, info["step"], pad, strs(info["acl"]), pad, strs(info["tips"]),
         pad, ", ".join(specs), pad, rs(summaries[name]), pad, rs(docs["since"] or ""),
         pad, rs(docs["group"]), pad, strs(docs["doc_flags"]), pad, opt(docs["deprecated_since"]),
         pad, write_args(docs["args"], indent + 4), pad, sub_text, pad)


HEADER = '''\
//! Interface facts of every Redis 7.0 command: what COMMAND INFO reports
//! (arity, flags, key positions, ACL categories, tips, key specs,
//! subcommands) and the structure COMMAND DOCS describes (group, version,
//! arguments). Summaries are this project's own.
//!
//! GENERATED by tools/gen-command-meta.py from a running redis-server 7.0
//! and tools/command-summaries.txt; do not edit by hand.

/// Where the search for a key spec's keys starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// At this argument index.
    Index(i32),
    /// After this keyword, searching from the argument index given (from the
    /// end when negative).
    Keyword(&'static str, i32),
    Unknown,
}

/// How the keys are found from where the search began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Find {
    /// lastkey (relative to the start; negative counts from the end), key
    /// step, limit (when lastkey is -1: take 1/limit of the remaining args).
    Range(i32, i32, i32),
    /// Index of the argument holding the key count, first key, key step
    /// (all relative to the start).
    Keynum(i32, i32, i32),
    Unknown,
}

#[derive(Debug)]
pub struct KeySpec {
    pub notes: &'static str,
    pub flags: &'static [&'static str],
    pub begin: Begin,
    pub find: Find,
}

/// One argument of a command, as COMMAND DOCS describes it.
#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    pub kind: &'static str,
    /// Index into the command's key specs, -1 when not a key.
    pub key_spec: i32,
    pub token: Option<&'static str>,
    pub since: Option<&'static str>,
    pub flags: &'static [&'static str],
    pub deprecated_since: Option<&'static str>,
    pub args: &'static [Arg],
}

#[derive(Debug)]
pub struct Meta {
    /// Lowercase, "parent|sub" for subcommands.
    pub name: &'static str,
    pub arity: i32,
    pub flags: &'static [&'static str],
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// ACL categories, with the leading '@'.
    pub acl: &'static [&'static str],
    pub tips: &'static [&'static str],
    pub key_specs: &'static [KeySpec],
    pub summary: &'static str,
    pub since: &'static str,
    pub group: &'static str,
    pub doc_flags: &'static [&'static str],
    pub deprecated_since: Option<&'static str>,
    pub args: &'static [Arg],
    /// Sorted by name.
    pub subcommands: &'static [Meta],
}

/// The facts of a command or subcommand by lowercase name ("get",
/// "config|get").
pub fn find(name: &str) -> Option<&'static Meta> {
    let parent = name.split('|').next().unwrap_or(name);
    let top = &COMMANDS[COMMANDS.binary_search_by(|m| m.name.cmp(parent)).ok()?];
    if parent.len() == name.len() {
        return Some(top);
    }
    let subs = top.subcommands;
    subs.binary_search_by(|m| m.name.cmp(name))
        .ok()
        .map(|i| &subs[i])
}

/// Every command, sorted by name.
#[rustfmt::skip]
pub static COMMANDS: &[Meta] = &[
'''


def load_summaries():
    out = {}
    with open(SUMMARIES) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            name, sep, text = line.partition(" ")
            if not sep or not text.strip():
                raise RuntimeError("%s:%d: expected 'name summary'" % (SUMMARIES, n))
            out[name] = text.strip()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--check", action="store_true")
    opts = ap.parse_args()
    proc = None
    if opts.port:
        sock = socket.create_connection(("127.0.0.1", opts.port), timeout=10)
    else:
        proc, sock = start_redis()
    try:
        reader = Reader(sock)
        command(sock, reader, "HELLO", "3")
        infos = [parse_info(e) for e in command(sock, reader, "COMMAND")]
        docs = {name: parse_docs(name, d) for name, d in command(sock, reader, "COMMAND", "DOCS")}
    finally:
        sock.close()
        if proc:
            proc.kill()
            proc.wait()
    summaries = load_summaries()
    infos.sort(key=lambda i: i["name"])
    body = [write_cmd(i, docs[i["name"]], summaries, 4) + "," for i in infos]
    text = HEADER + "\n".join(body) + "\n];\n"
    known = set()
    for i in infos:
        known.add(i["name"])
        known.update(s["name"] for s in i["subs"])
    extra = sorted(set(summaries) - known)
    if extra:
        raise RuntimeError("summaries for unknown commands: %s" % ", ".join(extra))
    if opts.check:
        with open(OUT) as f:
            if f.read() != text:
                sys.exit("src/commands/meta.rs is out of date: run tools/gen-command-meta.py")
        return
    with open(OUT, "w") as f:
        f.write(text)
    print("wrote %s: %d commands, %d with subcommands" % (OUT, len(infos), len(known) - len(infos)))


if __name__ == "__main__":
    main()
