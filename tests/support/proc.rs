//! Process-level helpers for the hostile-input, client-library and tool tests: which process
//! serves a port and how much memory it holds, raw sockets read to the end, a seeded random
//! source, and the Redis command-line tools.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The pid of the process (of ours) listening on 127.0.0.1:`port`: the socket's inode from
/// /proc/net/tcp, then the process holding a descriptor to it.
pub fn pid_listening_on(port: u16) -> u32 {
    let inode = listening_inode(port).unwrap_or_else(|| panic!("no listening socket on port {port} in /proc/net/tcp"));
    let target = format!("socket:[{inode}]");
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy() == target) {
                return pid;
            }
        }
    }
    panic!("no process of ours holds the listening socket of port {port}");
}

fn listening_inode(port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let want = format!(":{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // local_address is cols[1] (hex ip:port), state cols[3] (0A = LISTEN), inode cols[9].
        (cols.len() > 9 && cols[1].ends_with(&want) && cols[3] == "0A").then(|| cols[9].parse().ok()).flatten()
    })
}

/// Resident set size of `pid` in bytes (VmRSS of /proc/<pid>/status).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    let line =
        status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("bad VmRSS line {line:?}"));
    kib * 1024
}

/// Raises this process's soft limit on open files to at least `want` (children inherit it);
/// panics with a clear message when the hard limit does not allow it.
pub fn raise_fd_limit(want: u64) {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed in.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        if lim.rlim_cur >= want {
            return;
        }
        assert!(
            lim.rlim_max >= want,
            "this test needs {want} open files but the hard limit is {}: raise it (ulimit -Hn)",
            lim.rlim_max
        );
        lim.rlim_cur = want;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
}

/// Connects a raw socket with a read timeout.
pub fn raw_connect(port: u16, read_timeout: Duration) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connect to port {port}: {e}"));
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(read_timeout)).unwrap();
    s
}

/// How a raw exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The server closed the connection (orderly or by reset).
    Closed,
    /// Nothing more came within the read timeout; the connection is still open.
    Silent,
}

/// Reads everything until the server closes or stays silent for the socket's read timeout.
pub fn read_to_end_or_silence(s: &mut TcpStream) -> (Vec<u8>, End) {
    let mut got = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return (got, End::Closed),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return (got, End::Silent)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return (got, End::Closed),
        }
    }
}

/// Sends `bytes` on a fresh connection, ends our side of it, and returns everything the server
/// wrote and whether it then closed within `limit` (it should: the client is gone).
pub fn exchange_and_hang_up(port: u16, bytes: &[u8], limit: Duration) -> (Vec<u8>, End) {
    let mut s = raw_connect(port, limit);
    // The server may close early (protocol error) while we still write: that is fine.
    let _ = s.write_all(bytes);
    let _ = s.shutdown(Shutdown::Write);
    read_to_end_or_silence(&mut s)
}

/// Opens a fresh connection and checks that PING is answered within `limit`; returns how long
/// the round trip took.
pub fn assert_ping(port: u16, limit: Duration) -> Duration {
    let start = Instant::now();
    let mut s = raw_connect(port, limit);
    s.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut got = Vec::new();
    let mut byte = [0u8; 64];
    while !got.ends_with(b"\r\n") {
        match s.read(&mut byte) {
            Ok(0) => panic!("port {port}: connection closed before the PING reply"),
            Ok(n) => got.extend_from_slice(&byte[..n]),
            Err(e) => panic!("port {port}: no PING reply within {limit:?}: {e}"),
        }
    }
    assert_eq!(got, b"+PONG\r\n", "port {port}: PING reply");
    start.elapsed()
}

/// A small deterministic random source (splitmix64): the same seed gives the same bytes on every
/// machine, so a failure can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A Redis command-line tool (`redis-cli`, `redis-benchmark`) from PATH; missing is a failure.
pub fn tool(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file()))
        .unwrap_or_else(|| panic!("{name} not found on PATH: install redis-tools (Redis 7.0; ./tools/test.sh does)"))
}

/// Runs a tool from PATH with `args`, feeding `stdin`, and fails if it does not finish within `limit`.
pub fn run_tool(name: &str, args: &[&str], stdin: &[u8], limit: Duration) -> Output {
    run_program(&tool(name), args, stdin, limit)
}

/// Runs the program at `path` with `args`, feeding `stdin`, and fails if it does not finish within
/// `limit`.
pub fn run_program(path: &std::path::Path, args: &[&str], stdin: &[u8], limit: Duration) -> Output {
    let name = path.display();
    let mut child = Command::new(path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let out = child.wait_with_output();
        let _ = done_tx.send(());
        out
    });
    if done_rx.recv_timeout(limit).is_err() {
        // SAFETY: kill(2) on the pid of the child we spawned and have not reaped yet.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
        let _ = waiter.join();
        panic!("{name} {args:?} did not finish within {limit:?}");
    }
    let _ = feeder.join();
    waiter.join().unwrap().unwrap_or_else(|e| panic!("wait for {name}: {e}"))
}

/// A server started directly, for arguments the standard helper cannot wait on (with a password,
/// its readiness PING gets NOAUTH): ready once PING gets any reply at all. Killed on drop.
pub struct PlainServer {
    pub port: u16,
    binary: PathBuf,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl PlainServer {
    pub fn start(binary: &std::path::Path, extra: &[&str]) -> PlainServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("probe a free port").port();
        let mut args = vec!["--port".to_string(), port.to_string()];
        for a in ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir"] {
            args.push(a.to_string());
        }
        args.push(dir.path().to_string_lossy().into_owned());
        args.extend(extra.iter().map(|a| a.to_string()));
        let child = Command::new(binary)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", binary.display()));
        let server = PlainServer { port, binary: binary.to_path_buf(), child, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
                let mut first = [0u8; 1];
                if s.write_all(b"PING\r\n").is_ok() && s.read(&mut first).is_ok_and(|n| n == 1) {
                    return server;
                }
            }
            assert!(Instant::now() < deadline, "{} {args:?} not answering after 10s", binary.display());
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for PlainServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- that was {} on port {}", self.binary.display(), self.port);
        }
    }
}

/// Starts `bin` with `args` on a free loopback port (`--port` and `--bind` are added), its
/// output appended to `log`, and waits until it answers PING, for at most `limit`. A port taken
/// between the probe and the bind is retried on another. Err holds the tail of the log when the
/// process exits first or does not answer in time (the process is then killed).
pub fn spawn_serving(
    bin: &std::path::Path,
    args: &[&str],
    log: &std::path::Path,
    limit: Duration,
) -> Result<(std::process::Child, u16), String> {
    let tail = || {
        let t = std::fs::read_to_string(log).unwrap_or_default();
        let all: Vec<&str> = t.lines().collect();
        all[all.len().saturating_sub(15)..].join("\n")
    };
    let mut last = String::new();
    for _ in 0..5 {
        let port = super::free_port();
        let out = std::fs::OpenOptions::new().create(true).append(true).open(log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                last = format!("exited ({status}) before answering PING; log:\n{}", tail());
                break;
            }
            if let Ok(mut c) = super::Conn::connect(port) {
                if c.call(&["PING"]).is_ok_and(|r| r.bytes() == b"+PONG\r\n") {
                    return Ok((child, port));
                }
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("not answering PING after {limit:?}; log:\n{}", tail()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if !last.contains("listening socket") && !last.contains("Address already in use") {
            return Err(last);
        }
    }
    Err(last)
}
