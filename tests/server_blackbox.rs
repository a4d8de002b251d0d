//! Black-box tests of the server binary: connection management (CLIENT
//! KILL, PAUSE, UNBLOCK, timeout, maxclients, protected mode), MONITOR, and
//! the process life cycle (SHUTDOWN, SIGTERM, daemonize with a pid file,
//! log lines). Every wait polls with a deadline; every process started is
//! killed when its guard drops.
mod support;

use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use support::{Conn, Frame};

const DEADLINE: Duration = Duration::from_secs(10);

/// The server under test (`STRATA_SERVER` can point at a redis-server to
/// check the tests themselves).
fn binary() -> PathBuf {
    support::ours_binary()
}

/// Directives of a test server: `port` on loopback, no snapshots.
fn local_server(port: u16) -> Vec<String> {
    let args = ["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""].map(String::from);
    args.to_vec()
}

/// Polls `f` until it returns Some, failing after the deadline.
fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A server process in its own temporary directory, logging to a file;
/// killed on drop if still running.
struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = support::free_port();
        let log = std::fs::File::create(dir.path().join("stdout.log")).unwrap();
        let child = Command::new(binary())
            .args(local_server(port))
            .args(["--enable-debug-command", "yes", "--dir"])
            .arg(dir.path())
            .args(extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn strata-server");
        let mut s = Server { child, port, dir };
        until("the server to answer PING", || {
            if let Ok(Some(status)) = s.child.try_wait() {
                panic!("server exited early: {status}\n{}", s.stdout());
            }
            let mut c = Conn::connect(s.port).ok()?;
            (c.call(&["PING"]).ok()?.bytes() == b"+PONG\r\n").then_some(())
        });
        s
    }

    fn conn(&self) -> Conn {
        Conn::connect(self.port).expect("connect")
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stdout.log")).unwrap_or_default()
    }

    fn wait_exit(&mut self) -> ExitStatus {
        until("the server to exit", || self.child.try_wait().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn call(c: &mut Conn, args: &[&str]) -> Vec<u8> {
    c.call(args).expect("reply").bytes()
}

fn int_reply(f: &Frame) -> i64 {
    std::str::from_utf8(f.payload()).unwrap().parse().unwrap()
}

/// True once the server has closed `c` (reads end of stream).
fn closed(c: &mut Conn) -> bool {
    c.set_read_timeout(Duration::from_millis(50)).unwrap();
    match c.read_reply() {
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
        Ok(f) => panic!("unexpected reply {:?}", support::escape(&f.bytes())),
    }
}

/// Asserts that nothing arrives on `c` for a short while.
fn silent(c: &mut Conn) {
    c.set_read_timeout(Duration::from_millis(200)).unwrap();
    match c.read_reply() {
        Err(e) => assert!(
            matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
            "connection failed: {e}"
        ),
        Ok(f) => panic!("unexpected reply {:?}", support::escape(&f.bytes())),
    }
    c.set_read_timeout(Duration::from_secs(3)).unwrap();
}

#[test]
fn client_kill_closes_the_other_connection() {
    let s = Server::start(&[]);
    let mut a = s.conn();
    let mut b = s.conn();
    let id = int_reply(&b.call(&["CLIENT", "ID"]).unwrap());
    assert_eq!(call(&mut a, &["CLIENT", "KILL", "ID", &id.to_string()]), b":1\r\n");
    until("the killed connection to close", || closed(&mut b).then_some(()));
    // The old form, by address, and the killer itself survives.
    let mut c = s.conn();
    let list = c.call(&["CLIENT", "INFO"]).unwrap();
    let text = String::from_utf8_lossy(list.payload()).into_owned();
    let addr = text.split(' ').find_map(|f| f.strip_prefix("addr=")).unwrap().to_string();
    assert_eq!(call(&mut a, &["CLIENT", "KILL", &addr]), b"+OK\r\n");
    until("the connection killed by address to close", || closed(&mut c).then_some(()));
    assert_eq!(call(&mut a, &["PING"]), b"+PONG\r\n");
}

#[test]
fn client_kill_of_itself_replies_first() {
    let s = Server::start(&[]);
    let mut a = s.conn();
    let id = int_reply(&a.call(&["CLIENT", "ID"]).unwrap());
    let reply = call(&mut a, &["CLIENT", "KILL", "ID", &id.to_string(), "SKIPME", "no"]);
    assert_eq!(reply, b":1\r\n");
    until("the connection to close", || closed(&mut a).then_some(()));
}

#[test]
fn client_pause_write_holds_writes_until_unpause() {
    let s = Server::start(&[]);
    let mut admin = s.conn();
    let mut writer = s.conn();
    let mut reader = s.conn();
    let mut publisher = s.conn();
    assert_eq!(call(&mut admin, &["CLIENT", "PAUSE", "60000", "WRITE"]), b"+OK\r\n");
    writer.send(&["SET", "k", "v"]).unwrap();
    writer.send(&["GET", "k"]).unwrap();
    publisher.send(&["PUBLISH", "ch", "m"]).unwrap();
    silent(&mut writer);
    silent(&mut publisher);
    // Reads are not held.
    assert_eq!(call(&mut reader, &["GET", "k"]), b"$-1\r\n");
    assert_eq!(call(&mut admin, &["CLIENT", "UNPAUSE"]), b"+OK\r\n");
    assert_eq!(writer.read_reply().unwrap().bytes(), b"+OK\r\n");
    assert_eq!(writer.read_reply().unwrap().bytes(), b"$1\r\nv\r\n");
    assert_eq!(publisher.read_reply().unwrap().bytes(), b":0\r\n");
}

#[test]
fn client_pause_all_ends_at_its_timeout() {
    let s = Server::start(&[]);
    let mut admin = s.conn();
    let mut other = s.conn();
    let start = Instant::now();
    assert_eq!(call(&mut admin, &["CLIENT", "PAUSE", "300", "ALL"]), b"+OK\r\n");
    assert_eq!(call(&mut other, &["PING"]), b"+PONG\r\n");
    assert!(start.elapsed() >= Duration::from_millis(250), "PING ran during the pause");
    // Unknown commands are refused at once, even during a pause.
    assert_eq!(call(&mut admin, &["CLIENT", "PAUSE", "60000", "ALL"]), b"+OK\r\n");
    let err = call(&mut other, &["NOSUCH"]);
    assert!(err.starts_with(b"-ERR unknown command"));
}

#[test]
fn wait_blocks_until_client_unblock() {
    let s = Server::start(&[]);
    let mut waiter = s.conn();
    let mut admin = s.conn();
    let id = int_reply(&waiter.call(&["CLIENT", "ID"]).unwrap()).to_string();
    waiter.send(&["WAIT", "1", "0"]).unwrap();
    until("the waiter to be blocked", || {
        let list = admin.call(&["CLIENT", "LIST", "ID", &id]).unwrap();
        String::from_utf8_lossy(list.payload()).contains("flags=b").then_some(())
    });
    assert_eq!(call(&mut admin, &["CLIENT", "UNBLOCK", &id]), b":1\r\n");
    assert_eq!(waiter.read_reply().unwrap().bytes(), b":0\r\n");
    waiter.send(&["WAIT", "1", "0"]).unwrap();
    until("the waiter to block again", || {
        (int_reply(&admin.call(&["CLIENT", "UNBLOCK", &id, "ERROR"]).unwrap()) == 1).then_some(())
    });
    let err = waiter.read_reply().unwrap().bytes();
    assert_eq!(err, b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    // With a timeout the wait ends by itself.
    assert_eq!(call(&mut waiter, &["WAIT", "2", "20"]), b":0\r\n");
}

#[test]
fn monitor_streams_executed_commands() {
    let s = Server::start(&[]);
    let mut m = s.conn();
    let mut c = s.conn();
    assert_eq!(call(&mut m, &["MONITOR"]), b"+OK\r\n");
    assert_eq!(call(&mut c, &["SET", "k", "a \"b\"\n"]), b"+OK\r\n");
    assert_eq!(call(&mut c, &["CONFIG", "GET", "hz"]).first(), Some(&b'*'));
    assert_eq!(call(&mut c, &["AUTH", "secret"]).first(), Some(&b'-'));
    let line = m.read_reply().unwrap();
    let text = String::from_utf8_lossy(line.payload()).into_owned();
    let (stamp, rest) = text.split_once(' ').unwrap();
    let (secs, micros) = stamp.split_once('.').unwrap();
    assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{text}");
    assert!(rest.starts_with("[0 127.0.0.1:"), "{text}");
    assert!(rest.ends_with("] \"SET\" \"k\" \"a \\\"b\\\"\\n\""), "{text}");
    // CONFIG is an administrative command: not shown. AUTH is, redacted.
    let line = m.read_reply().unwrap();
    let text = String::from_utf8_lossy(line.payload()).into_owned();
    assert!(text.ends_with("\"AUTH\" \"(redacted)\""), "{text}");
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let s = Server::start(&["--timeout", "1"]);
    let mut idle = s.conn();
    let mut subscriber = s.conn();
    assert_eq!(call(&mut idle, &["PING"]), b"+PONG\r\n");
    subscriber.send(&["SUBSCRIBE", "ch"]).unwrap();
    subscriber.read_reply().unwrap();
    until("the idle client to be closed", || closed(&mut idle).then_some(()));
    // Subscribers are expected to be quiet and stay.
    let mut admin = s.conn();
    assert_eq!(call(&mut admin, &["PUBLISH", "ch", "m"]), b":1\r\n");
}

#[test]
fn maxclients_refuses_extra_connections() {
    let s = Server::start(&["--maxclients", "2"]);
    let mut a = s.conn();
    let mut b = s.conn();
    assert_eq!(call(&mut a, &["PING"]), b"+PONG\r\n");
    assert_eq!(call(&mut b, &["PING"]), b"+PONG\r\n");
    let mut c = s.conn();
    assert_eq!(c.read_reply().unwrap().bytes(), b"-ERR max number of clients reached\r\n");
    until("the refused connection to close", || closed(&mut c).then_some(()));
    drop(b);
    until("a slot to free up", || {
        let mut d = s.conn();
        (d.call(&["PING"]).ok()?.bytes() == b"+PONG\r\n").then_some(())
    });
    let info = a.call(&["INFO", "stats"]).unwrap();
    assert!(String::from_utf8_lossy(info.payload()).contains("rejected_connections:"));
}

/// A local address of this machine that is not loopback, if there is one.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let s = UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").or_else(|_| s.connect("10.255.255.1:9")).ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn protected_mode_denies_non_loopback_clients() {
    let s = Server::start(&["--bind", "0.0.0.0", "--protected-mode", "yes"]);
    let mut local = s.conn();
    assert_eq!(call(&mut local, &["PING"]), b"+PONG\r\n");
    let Some(ip) = non_loopback_ip() else {
        eprintln!("no non-loopback address on this machine: only the loopback side was checked");
        return;
    };
    let stream = TcpStream::connect((ip, s.port)).expect("connect to the non-loopback address");
    stream.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut text = String::new();
    use std::io::Read;
    (&stream).read_to_string(&mut text).unwrap();
    assert!(text.starts_with("-DENIED "), "{text}");
    assert!(text.ends_with("\r\n") && text.matches("\r\n").count() == 1, "{text}");
    // Once protected mode is off, the same address is served.
    assert_eq!(call(&mut local, &["CONFIG", "SET", "protected-mode", "no"]), b"+OK\r\n");
    let mut remote = TcpStream::connect((ip, s.port)).unwrap();
    remote.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    use std::io::Write;
    remote.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    remote.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
}

#[test]
fn shutdown_command_stops_the_server() {
    let mut s = Server::start(&["--loglevel", "verbose"]);
    let mut c = s.conn();
    assert_eq!(call(&mut c, &["SHUTDOWN", "ABORT"]), b"-ERR No shutdown in progress.\r\n");
    c.send(&["SHUTDOWN", "NOSAVE"]).unwrap();
    assert!(c.read_reply().is_err(), "SHUTDOWN got a reply");
    let status = s.wait_exit();
    assert!(status.success(), "{status}");
    let log = s.stdout();
    assert!(log.contains("User requested shutdown..."), "{log}");
    assert!(log.trim_end().ends_with("is now ready to exit, bye bye..."), "{log}");
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let mut s = Server::start(&[]);
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(s.child.id() as i32, libc::SIGTERM) };
    let status = s.wait_exit();
    assert!(status.success(), "{status}");
    let log = s.stdout();
    assert!(log.contains("Received SIGTERM scheduling shutdown..."), "{log}");
    assert!(log.contains("bye bye"), "{log}");
}

#[test]
fn sigint_stops_the_server_gracefully() {
    let mut s = Server::start(&[]);
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(s.child.id() as i32, libc::SIGINT) };
    assert!(s.wait_exit().success());
    assert!(s.stdout().contains("Received SIGINT scheduling shutdown..."));
}

/// Kills a daemonized server by pid if a test fails before stopping it.
struct PidGuard(i32);

impl Drop for PidGuard {
    fn drop(&mut self) {
        if self.0 > 0 {
            // SAFETY: the pid is the daemon this test started.
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn daemonize_writes_and_removes_the_pid_file() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("strata.pid");
    let logfile = dir.path().join("strata.log");
    let port = support::free_port();
    let status = Command::new(binary())
        .args(local_server(port))
        .args(["--daemonize", "yes", "--pidfile"])
        .arg(&pidfile)
        .arg("--logfile")
        .arg(&logfile)
        .arg("--dir")
        .arg(dir.path())
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the launching process failed: {status}");
    let pid: i32 = until("the pid file", || std::fs::read_to_string(&pidfile).ok()?.trim().parse().ok());
    let mut guard = PidGuard(pid);
    assert!(alive(pid));
    let mut c = until("the daemon to answer", || Conn::connect(port).ok());
    assert_eq!(call(&mut c, &["PING"]), b"+PONG\r\n");
    let info = c.call(&["INFO", "server"]).unwrap();
    let text = String::from_utf8_lossy(info.payload()).into_owned();
    assert!(text.contains(&format!("process_id:{pid}\r\n")), "{text}");
    c.send(&["SHUTDOWN"]).unwrap();
    until("the daemon to exit", || (!alive(pid)).then_some(()));
    guard.0 = 0;
    assert!(!pidfile.exists(), "pid file left behind");
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(log.contains("Removing the pid file."), "{log}");
}

#[test]
fn start_up_log_lines_carry_version_pid_and_port() {
    let s = Server::start(&[]);
    let log = until("the ready line", || {
        let log = s.stdout();
        log.contains("Ready to accept connections").then_some(log)
    });
    let pid = s.child.id();
    let lines: Vec<&str> = log.lines().collect();
    let ready = lines.iter().position(|l| l.ends_with("Ready to accept connections")).unwrap();
    let startup = &lines[..=ready];
    assert!(startup.iter().any(|l| l.contains(&format!("redis_version={}", "7.0.15"))));
    assert!(startup.iter().any(|l| l.contains(&format!("pid={pid}"))));
    assert!(startup.iter().any(|l| l.contains(&format!("port={}", s.port))));
    for l in startup {
        assert!(l.starts_with(&format!("{pid}:M ")), "log line layout: {l}");
    }
}

#[test]
fn logfile_and_loglevel_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let logfile: &Path = &dir.path().join("server.log");
    let s = Server::start(&["--logfile", logfile.to_str().unwrap(), "--loglevel", "warning"]);
    let mut c = s.conn();
    assert_eq!(call(&mut c, &["DEBUG", "LOG", "marker-line"]), b"+OK\r\n");
    let log = until("the marker in the log file", || {
        let log = std::fs::read_to_string(logfile).ok()?;
        log.contains("marker-line").then_some(log)
    });
    // Notice lines are below the warning level.
    assert!(!log.contains("Ready to accept connections"), "{log}");
    assert!(!s.stdout().contains("marker-line"));
}

#[test]
fn a_client_held_by_a_pause_can_be_killed() {
    let s = Server::start(&[]);
    let mut admin = s.conn();
    let mut writer = s.conn();
    let id = int_reply(&writer.call(&["CLIENT", "ID"]).unwrap()).to_string();
    assert_eq!(call(&mut admin, &["CLIENT", "PAUSE", "60000", "WRITE"]), b"+OK\r\n");
    writer.send(&["SET", "k", "v"]).unwrap();
    silent(&mut writer);
    assert_eq!(call(&mut admin, &["CLIENT", "KILL", "ID", &id]), b":1\r\n");
    until("the held client to close", || closed(&mut writer).then_some(()));
    assert_eq!(call(&mut admin, &["CLIENT", "UNPAUSE"]), b"+OK\r\n");
    assert_eq!(call(&mut admin, &["EXISTS", "k"]), b":0\r\n");
}

/// Threads of process `pid` with the given name.
fn threads_named(pid: u32, name: &str) -> usize {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .flatten()
        .filter(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim_end() == name))
        .count()
}

#[test]
fn jemalloc_bg_thread_starts_and_stops_the_allocator_threads() {
    // On by default, as in Redis: the allocator returns memory from
    // threads of its own, not from the command thread.
    let s = Server::start(&[]);
    let pid = s.child.id();
    let mut c = s.conn();
    assert_eq!(
        call(&mut c, &["CONFIG", "GET", "jemalloc-bg-thread"]),
        b"*2\r\n$18\r\njemalloc-bg-thread\r\n$3\r\nyes\r\n"
    );
    until("an allocator background thread", || (threads_named(pid, "jemalloc_bg_thd") > 0).then_some(()));
    assert_eq!(call(&mut c, &["CONFIG", "SET", "jemalloc-bg-thread", "no"]), b"+OK\r\n");
    until("the allocator threads to stop", || (threads_named(pid, "jemalloc_bg_thd") == 0).then_some(()));
    assert_eq!(call(&mut c, &["CONFIG", "SET", "jemalloc-bg-thread", "yes"]), b"+OK\r\n");
    until("an allocator thread again", || (threads_named(pid, "jemalloc_bg_thd") > 0).then_some(()));

    let s = Server::start(&["--jemalloc-bg-thread", "no"]);
    let pid = s.child.id();
    let mut c = s.conn();
    assert_eq!(call(&mut c, &["SET", "k", "v"]), b"+OK\r\n");
    assert_eq!(threads_named(pid, "jemalloc_bg_thd"), 0);
}
