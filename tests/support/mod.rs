//! Test helpers: start a server binary on a free port, and talk raw RESP to it byte for byte.
#![allow(dead_code)]

pub mod library;
pub mod proc;
pub mod recording_fs;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The reference Redis: `$REDIS_SERVER`, else `redis-server` from PATH. It must be 7.0.x;
/// a missing reference is a failure, never a skip.
pub fn reference_binary() -> PathBuf {
    let bin = std::env::var_os("REDIS_SERVER")
        .map(PathBuf::from)
        .or_else(|| find_in_path("redis-server"))
        .unwrap_or_else(|| {
            panic!("reference redis-server not found on PATH and REDIS_SERVER is unset: install Redis 7.0 (./tools/test.sh does)")
        });
    let out = Command::new(&bin)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} --version: {e}", bin.display()));
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(version.contains("v=7.0."), "reference {} is not Redis 7.0: {version}", bin.display());
    bin
}

/// The server under test: `$STRATA_SERVER` if set (e.g. a redis-server, to check the harness), else our binary.
pub fn ours_binary() -> PathBuf {
    std::env::var_os("STRATA_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_strata-server")))
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// A server process on 127.0.0.1 with its own temporary directory; killed on drop.
pub struct TestServer {
    pub port: u16,
    pub binary: PathBuf,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub fn start(binary: &Path) -> TestServer {
        Self::start_with(binary, &[])
    }

    /// Starts `binary` with the standard test directives plus `extra` ones (`--name value` pairs).
    pub fn start_with(binary: &Path, extra: &[&str]) -> TestServer {
        let mut last_error = String::new();
        // The probed port can be taken by someone else before the server binds it: retry.
        for _ in 0..3 {
            match Self::try_start(binary, extra) {
                Ok(server) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("could not start {}: {last_error}", binary.display());
    }

    fn try_start(binary: &Path, extra: &[&str]) -> Result<TestServer, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = dir.path().join("server.log");
        let out = File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let port = free_port();
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no", "--enable-debug-command", "yes", "--dir"])
            .arg(dir.path())
            .args(extra)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("spawn failed: {e}"))?;
        let mut server = TestServer { port, binary: binary.to_path_buf(), child, log, _dir: dir };
        server.wait_ready()?;
        Ok(server)
    }

    /// Polls PING until the server answers +PONG, with a deadline.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("server exited early ({status}); log tail:\n{}", self.log_tail(30)));
            }
            if let Ok(mut conn) = Conn::connect(self.port) {
                if let Ok(reply) = conn.call(&["PING"]) {
                    if reply.bytes() == b"+PONG\r\n" {
                        return Ok(());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(format!("server not answering PING after 10s; log tail:\n{}", self.log_tail(30)))
    }

    pub fn connect(&self) -> Conn {
        Conn::connect(self.port).unwrap_or_else(|e| panic!("connect to port {}: {e}", self.port))
    }

    /// The last `lines` lines of the server's stdout/stderr.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- {} (port {}) log tail ---\n{}", self.binary.display(), self.port, self.log_tail(20));
        }
    }
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

/// One reply as it came off the wire. `head` is the type line (plus the payload and its CRLF
/// for blob types); `items` are the elements of an aggregate, in order. An attribute (`|`) keeps
/// its key/value pairs and then the reply it annotates as its last item.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Frame {
    pub head: Vec<u8>,
    pub items: Vec<Frame>,
}

impl Frame {
    /// The RESP type byte: `+ - : $ * _ , # ! = ( % ~ > |`.
    pub fn kind(&self) -> u8 {
        self.head[0]
    }

    /// The exact bytes of the reply.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.head);
        for item in &self.items {
            item.write_to(out);
        }
    }

    /// The text of a simple or blob reply, without type byte, length line or trailing CRLF
    /// (empty for a null blob).
    pub fn payload(&self) -> &[u8] {
        let line_end = self.head.windows(2).position(|w| w == b"\r\n").unwrap_or(self.head.len());
        match self.kind() {
            b'$' | b'!' | b'=' if self.head.len() > line_end + 2 => &self.head[line_end + 2..self.head.len() - 2],
            b'$' | b'!' | b'=' => &[], // null
            _ => &self.head[1..line_end],
        }
    }
}

const MAX_AGGREGATE: i64 = 1 << 24;
const MAX_BLOB: i64 = 1 << 30;

/// A blocking RESP connection; a reply that takes over 3 seconds is a `TimedOut`/`WouldBlock` error.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    pub fn connect(port: u16) -> io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(3)))?;
        Ok(Conn { reader: BufReader::new(stream.try_clone()?), writer: stream })
    }

    pub fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.writer.set_read_timeout(Some(timeout))
    }

    /// Sends one command as a RESP array of bulk strings.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        self.send_raw(&encode_command(args))
    }

    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes)
    }

    /// Reads exactly one complete reply (or push).
    pub fn read_reply(&mut self) -> io::Result<Frame> {
        read_frame(&mut self.reader)
    }

    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Frame> {
        self.send(args)?;
        self.read_reply()
    }
}

pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn read_frame(r: &mut impl BufRead) -> io::Result<Frame> {
    let mut head = Vec::new();
    r.read_until(b'\n', &mut head)?;
    if head.is_empty() {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    if !head.ends_with(b"\r\n") || head.len() < 3 {
        return Err(bad(format!("malformed reply line {:?}", escape(&head))));
    }
    let number = || -> io::Result<i64> {
        let text = std::str::from_utf8(&head[1..head.len() - 2]).unwrap_or("");
        text.parse().map_err(|_| bad(format!("bad length in {:?}", escape(&head))))
    };
    let mut items = Vec::new();
    match head[0] {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => {}
        b'$' | b'!' | b'=' => {
            let len = number()?;
            if len > MAX_BLOB {
                return Err(bad(format!("blob too long in {:?}", escape(&head))));
            }
            if len >= 0 {
                let start = head.len();
                head.resize(start + len as usize + 2, 0);
                r.read_exact(&mut head[start..])?;
                if !head.ends_with(b"\r\n") {
                    return Err(bad("blob not followed by CRLF".into()));
                }
            }
        }
        kind @ (b'*' | b'~' | b'>' | b'%' | b'|') => {
            let count = number()?;
            if count > MAX_AGGREGATE {
                return Err(bad(format!("aggregate too long in {:?}", escape(&head))));
            }
            let pairs = if matches!(kind, b'%' | b'|') { 2 } else { 1 };
            for _ in 0..count.max(0) * pairs {
                items.push(read_frame(r)?);
            }
            if kind == b'|' {
                items.push(read_frame(r)?);
            }
        }
        _ => return Err(bad(format!("unknown reply type in {:?}", escape(&head)))),
    }
    Ok(Frame { head, items })
}

/// Printable form of raw bytes: CR, LF, tab, backslash and non-ASCII escaped.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// Splits a line the way redis-cli does: whitespace-separated words; "double quotes" with
/// \n \r \t \b \a \\ \" \xHH escapes; 'single quotes' with \' only. A closing quote must be
/// followed by whitespace or the end of the line.
pub fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let s = line.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < s.len() && s[p].is_ascii_whitespace() {
            p += 1;
        }
        if p == s.len() {
            return Ok(args);
        }
        let mut cur = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = s.get(p).copied();
            let next = s.get(p + 1).copied();
            if in_dq || in_sq {
                let Some(c) = c else {
                    return Err(format!("unbalanced quotes in {line:?}"));
                };
                if in_dq && c == b'\\' && next == Some(b'x') {
                    match (s.get(p + 2).and_then(|&h| hex(h)), s.get(p + 3).and_then(|&h| hex(h))) {
                        (Some(hi), Some(lo)) => {
                            cur.push(hi * 16 + lo);
                            p += 3;
                        }
                        _ => cur.push(b'x'),
                    }
                } else if in_dq && c == b'\\' && next.is_some() {
                    p += 1;
                    cur.push(match next.unwrap() {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if in_sq && c == b'\\' && next == Some(b'\'') {
                    p += 1;
                    cur.push(b'\'');
                } else if (in_dq && c == b'"') || (in_sq && c == b'\'') {
                    if next.is_some_and(|n| !n.is_ascii_whitespace()) {
                        return Err(format!("closing quote must be followed by a space in {line:?}"));
                    }
                    p += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(c) => cur.push(c),
                }
            }
            p += 1;
        }
        args.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_args_quoting() {
        let got = split_args(r#"x"\"" 'it\'s'"#).unwrap();
        assert_eq!(got, vec![b"x\"".to_vec(), b"it's".to_vec()], "a quote inside a bare word opens a quoted part");
        let got = split_args(r#"  SET "a b\x00\r\n\\" 'it\'s "q"'  plain "" "#).unwrap();
        let want: Vec<Vec<u8>> =
            vec![b"SET".to_vec(), b"a b\0\r\n\\".to_vec(), b"it's \"q\"".to_vec(), b"plain".to_vec(), Vec::new()];
        assert_eq!(got, want);
        assert!(split_args(r#""abc"def"#).is_err());
        assert!(split_args("'open").is_err());
    }

    #[test]
    fn reads_nested_resp3() {
        let wire = b"|1\r\n+ttl\r\n:3\r\n%2\r\n$1\r\na\r\n*2\r\n_\r\n,1.5\r\n=7\r\ntxt:abc\r\n~1\r\n#t\r\n>2\r\n(12\r\n!3\r\nERR\r\n";
        let mut r = &wire[..];
        let frame = read_frame(&mut r).unwrap();
        let push_at = wire.windows(2).position(|w| w == b">2").unwrap();
        assert_eq!(frame.bytes(), wire[..push_at].to_vec());
        let push = read_frame(&mut r).unwrap();
        assert_eq!(push.kind(), b'>');
        assert_eq!(push.items[1].payload(), b"ERR");
        assert!(r.is_empty());
    }
}
