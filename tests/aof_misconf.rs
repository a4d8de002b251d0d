//! A failed AOF write latches: later writes (and PING) get Redis's
//! `-MISCONF Errors writing to the AOF file: <reason>`, reads go on, the
//! write is retried and once the disk recovers writes are accepted again
//! and nothing that was acknowledged is missing after a restart.

mod support;

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata::persistence::aof::fs::{Disk, FileLayer, LayerFile};
use support::{Conn, TestServer};

/// The real disk, except that appends fail with ENOSPC while `full` is set.
struct FullDisk {
    full: Arc<AtomicBool>,
}

struct FullFile {
    inner: Arc<dyn LayerFile>,
    full: Arc<AtomicBool>,
}

impl LayerFile for FullFile {
    fn append(&self, buf: &[u8]) -> Result<(), (usize, io::Error)> {
        if self.full.load(Ordering::SeqCst) {
            return Err((0, io::Error::from_raw_os_error(libc::ENOSPC)));
        }
        self.inner.append(buf)
    }
    fn sync(&self) -> io::Result<()> {
        self.inner.sync()
    }
    fn truncate(&self, len: u64) -> io::Result<()> {
        self.inner.truncate(len)
    }
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
}

impl FileLayer for FullDisk {
    fn create(&self, path: &Path) -> io::Result<Arc<dyn LayerFile>> {
        Ok(Arc::new(FullFile { inner: Disk.create(path)?, full: self.full.clone() }))
    }
    fn open_append(&self, path: &Path) -> io::Result<Arc<dyn LayerFile>> {
        Ok(Arc::new(FullFile { inner: Disk.open_append(path)?, full: self.full.clone() }))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        Disk.rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        Disk.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        Disk.sync_dir(dir)
    }
    fn create_dir(&self, dir: &Path) -> io::Result<()> {
        Disk.create_dir(dir)
    }
}

fn text(c: &mut Conn, args: &[&str]) -> String {
    String::from_utf8_lossy(&c.call(args).expect("reply").bytes()).into_owned()
}

fn poll(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_full_disk_refuses_writes_until_it_recovers_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let args: Vec<String> = ["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"]
        .iter()
        .map(|s| s.to_string())
        .chain(["--dir".to_string(), dir.path().display().to_string()])
        .collect();
    let config = strata::config::Config::from_args(&args).expect("config");
    let full = Arc::new(AtomicBool::new(false));
    let layer = Arc::new(FullDisk { full: full.clone() });
    let server = std::thread::spawn(move || strata::server::run_on(config, layer).expect("server ran"));
    let mut c = None;
    poll("the server to answer", || {
        c = Conn::connect(port).ok();
        c.is_some()
    });
    let mut c = c.unwrap();
    poll("the load to end", || text(&mut c, &["PING"]) == "+PONG\r\n");
    assert_eq!(text(&mut c, &["SET", "a", "1"]), "+OK\r\n");

    full.store(true, Ordering::SeqCst);
    // The write that meets the full disk is already done in memory: it is
    // acknowledged, kept for a retry, and what follows is refused.
    assert_eq!(text(&mut c, &["SET", "b", "2"]), "+OK\r\n");
    let misconf = "-MISCONF Errors writing to the AOF file: No space left on device\r\n";
    assert_eq!(text(&mut c, &["SET", "c", "3"]), misconf);
    assert_eq!(text(&mut c, &["PING"]), misconf);
    assert_eq!(text(&mut c, &["GET", "a"]), "$1\r\n1\r\n");
    assert!(text(&mut c, &["INFO", "persistence"]).contains("aof_last_write_status:err"));

    full.store(false, Ordering::SeqCst);
    poll("writes to be accepted again", || text(&mut c, &["SET", "c", "3"]) == "+OK\r\n");
    assert!(text(&mut c, &["INFO", "persistence"]).contains("aof_last_write_status:ok"));
    let _ = c.call(&["SHUTDOWN", "NOSAVE"]);
    server.join().expect("server thread");

    // A fresh process on the same files has every acknowledged write.
    let ours = support::ours_binary();
    let dir_arg = dir.path().display().to_string();
    let s = TestServer::start_with(&ours, &["--appendonly", "yes", "--dir", &dir_arg]);
    let mut c = s.connect();
    for (k, v) in [("a", "1"), ("b", "2"), ("c", "3")] {
        assert_eq!(text(&mut c, &["GET", k]), format!("${}\r\n{v}\r\n", v.len()), "key {k}");
    }
}
