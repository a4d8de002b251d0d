//! Pins the key commands' side effects that a single reply does not show, as
//! Redis 7.0.15 behaves: keyspace events (with `new` and `keymiss`), WATCH
//! invalidation by FLUSH*, SWAPDB, MOVE and COPY, access times and shared
//! integers in OBJECT, a SCAN that sees every key present throughout, and
//! background freeing by FLUSHALL ASYNC.

use std::collections::HashSet;
use std::time::{Duration, Instant};
use strata::commands::{self, notify};
use strata::config::Config;
use strata::protocol::{Proto, ReplyBuf};
use strata::state::{Clock, State};

const T0: i64 = 1_700_000_000_000;

struct World {
    st: State,
    clients: Vec<u64>,
}

impl World {
    fn new(clients: usize) -> Self {
        let mut st = State::new(Config::default());
        st.clock = Clock::Manual(T0);
        let clients = (0..clients).map(|_| st.add_detached_client()).collect();
        World { st, clients }
    }

    /// Runs a command as client `c`; returns its reply.
    fn run(&mut self, c: usize, line: &str) -> String {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let mut out = ReplyBuf::new(Proto::Resp2);
        commands::process(&mut self.st, self.clients[c], &args, &mut out);
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    /// Runs several commands as client `c`.
    fn runs(&mut self, c: usize, lines: &[&str]) {
        for l in lines {
            self.run(c, l);
        }
    }

    /// Messages delivered to client `c` so far, as "channel payload".
    fn messages(&mut self, c: usize) -> Vec<String> {
        let id = self.clients[c];
        let pending = std::mem::take(&mut self.st.clients.get_mut(id).expect("client").pending);
        let text = String::from_utf8_lossy(&pending).into_owned();
        // Each pmessage is *4 then pmessage, pattern, channel, payload.
        let bulks: Vec<&str> =
            text.split("\r\n").filter(|l| !l.is_empty() && !l.starts_with('*') && !l.starts_with('$')).collect();
        bulks.chunks(4).filter(|m| m[0] == "pmessage").map(|m| format!("{} {}", m[2], m[3])).collect()
    }

    fn advance_ms(&mut self, ms: i64) {
        let now = self.st.clock.now_ms();
        self.st.clock = Clock::Manual(now + ms);
    }

    /// Client 0 watches `key`, client 1 runs `other`, and client 0 runs an
    /// empty transaction: true when EXEC was refused.
    fn watch_broken_by(&mut self, key: &str, other: &[&str]) -> bool {
        assert_eq!(self.run(0, &format!("WATCH {key}")), "+OK\r\n");
        self.runs(1, other);
        self.run(0, "MULTI");
        self.run(0, "PING");
        self.run(0, "EXEC") == "*-1\r\n"
    }
}

fn events(w: &mut World, flags: &str) {
    w.st.notify_flags = notify::parse_flags(flags.as_bytes()).expect("valid flags");
    w.run(1, "PSUBSCRIBE __key*");
    w.messages(1);
}

#[test]
fn key_commands_send_redis_events_in_redis_order() {
    let mut w = World::new(2);
    events(&mut w, "KEAn");
    w.runs(0, &["SET a 1", "SET c 1"]);
    w.messages(1);
    w.runs(0, &["RENAME a b", "RENAME b c"]);
    let expect = [
        "__keyspace@0__:b new",
        "__keyevent@0__:new b",
        "__keyspace@0__:a rename_from",
        "__keyevent@0__:rename_from a",
        "__keyspace@0__:b rename_to",
        "__keyevent@0__:rename_to b",
        "__keyspace@0__:c new",
        "__keyevent@0__:new c",
        "__keyspace@0__:b rename_from",
        "__keyevent@0__:rename_from b",
        "__keyspace@0__:c rename_to",
        "__keyevent@0__:rename_to c",
    ];
    assert_eq!(w.messages(1), expect);
    w.runs(0, &["COPY c d", "MOVE d 1"]);
    let expect = [
        "__keyspace@0__:d new",
        "__keyevent@0__:new d",
        "__keyspace@0__:d copy_to",
        "__keyevent@0__:copy_to d",
        "__keyspace@1__:d new",
        "__keyevent@1__:new d",
        "__keyspace@0__:d move_from",
        "__keyevent@0__:move_from d",
        "__keyspace@1__:d move_to",
        "__keyevent@1__:move_to d",
    ];
    assert_eq!(w.messages(1), expect);
    w.runs(0, &["SET e 1"]);
    w.messages(1);
    w.runs(0, &["EXPIRE e 100", "PERSIST e", "EXPIRE e -1", "UNLINK c"]);
    let expect = [
        "__keyspace@0__:e expire",
        "__keyevent@0__:expire e",
        "__keyspace@0__:e persist",
        "__keyevent@0__:persist e",
        "__keyspace@0__:e del",
        "__keyevent@0__:del e",
        "__keyspace@0__:c del",
        "__keyevent@0__:del c",
    ];
    assert_eq!(w.messages(1), expect);
    // No event: nothing changed, or whole databases changed.
    w.runs(0, &["SET f 1", "RENAMENX f f", "RENAME f f", "SWAPDB 0 1", "FLUSHDB", "TOUCH f", "PERSIST nosuch"]);
    let msgs = w.messages(1);
    assert!(
        msgs.iter().all(|m| m.ends_with(" set") || m.ends_with(" new") || m.contains(":set ") || m.contains(":new ")),
        "{msgs:?}"
    );
    w.run(0, "SET g 1 PX 10");
    w.messages(1);
    w.advance_ms(20);
    w.run(0, "GET g");
    assert_eq!(w.messages(1), ["__keyspace@0__:g expired", "__keyevent@0__:expired g"]);
}

#[test]
fn read_lookups_of_missing_keys_send_keymiss() {
    let mut w = World::new(2);
    events(&mut w, "Km");
    for cmd in ["TOUCH t1", "TTL t2", "TYPE t3", "EXISTS t4", "COPY t5 x", "PTTL t6", "EXPIRETIME t7", "PEXPIRETIME t8"]
    {
        w.run(0, cmd);
    }
    let expect: Vec<String> = (1..=8).map(|i| format!("__keyspace@0__:t{i} keymiss")).collect();
    assert_eq!(w.messages(1), expect);
    for cmd in [
        "EXPIRE u 1",
        "OBJECT ENCODING u",
        "OBJECT REFCOUNT u",
        "RENAME u x",
        "RENAMENX u x",
        "MOVE u 1",
        "PERSIST u",
        "DEL u",
        "UNLINK u",
    ] {
        w.run(0, cmd);
    }
    assert_eq!(w.messages(1), Vec::<String>::new());
    // SCAN's type filter looks keys up: an expired key is a miss.
    w.runs(0, &["SET a 1", "SET b 1 PX 10"]);
    w.advance_ms(20);
    assert_eq!(w.run(0, "SCAN 0 TYPE string"), "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n");
    assert_eq!(w.messages(1), ["__keyspace@0__:b keymiss"]);
    // Eight misses above, two OBJECT lookups, and SCAN's.
    assert_eq!(w.st.stats.keyspace_misses, 11);
}

#[test]
fn flushes_break_watches_of_existing_keys_only() {
    let mut w = World::new(2);
    w.run(0, "SET k 1");
    assert!(w.watch_broken_by("k", &["FLUSHALL"]));
    assert!(!w.watch_broken_by("k", &["SET other 1", "FLUSHALL"]));
    w.run(0, "SET k 1");
    assert!(w.watch_broken_by("k", &["FLUSHDB"]));
    w.run(0, "SET k 1");
    assert!(!w.watch_broken_by("k", &["SELECT 1", "SET k x", "FLUSHDB ASYNC", "SELECT 0"]));
}

#[test]
fn swapdb_breaks_watches_of_keys_in_either_database() {
    let mut w = World::new(2);
    w.run(0, "SET k 1");
    assert!(w.watch_broken_by("k", &["SWAPDB 0 1"]));
    // k now lives in db 1: swapping it back in breaks the watch too.
    assert!(w.watch_broken_by("k", &["SWAPDB 1 0"]));
    w.run(0, "FLUSHALL");
    assert!(!w.watch_broken_by("k", &["SET x 1", "SWAPDB 0 1"]));
    assert!(!w.watch_broken_by("k", &["SWAPDB 0 0"]));
    // The client stays on its database number: it now sees db 1's contents.
    w.runs(0, &["FLUSHALL", "SET here 0", "SELECT 2", "SET there 2", "SELECT 0"]);
    w.run(1, "SWAPDB 0 2");
    assert_eq!(w.run(0, "KEYS *"), "*1\r\n$5\r\nthere\r\n");
}

#[test]
fn move_copy_and_rename_break_watches_where_they_write() {
    let mut w = World::new(2);
    w.run(0, "SET k 1");
    assert!(w.watch_broken_by("k", &["MOVE k 1"]));
    // The watch on db 0's k is broken by a key moved in from db 1.
    assert!(w.watch_broken_by("k", &["SELECT 1", "MOVE k 0", "SELECT 0"]));
    assert!(w.watch_broken_by("dst", &["COPY k dst"]));
    assert!(!w.watch_broken_by("k", &["COPY k dst"]));
    assert!(w.watch_broken_by("k", &["RENAME dst k"]));
    assert!(!w.watch_broken_by("k", &["COPY k k DB 3"]));
    assert!(w.watch_broken_by("k", &["EXPIRE k 100"]));
    assert!(w.watch_broken_by("k", &["PERSIST k"]));
    assert!(!w.watch_broken_by("k", &["PERSIST k", "EXPIRE k 10 XX", "RENAMENX k k"]));
}

#[test]
fn object_reports_access_times_and_shared_integers() {
    let mut w = World::new(1);
    w.runs(0, &["SET s abc", "SET n 100", "SET big 100000", "SET neg -1"]);
    assert_eq!(w.run(0, "OBJECT REFCOUNT n"), ":2147483647\r\n");
    assert_eq!(w.run(0, "OBJECT REFCOUNT big"), ":1\r\n");
    assert_eq!(w.run(0, "OBJECT REFCOUNT neg"), ":1\r\n");
    assert_eq!(w.run(0, "OBJECT REFCOUNT s"), ":1\r\n");
    // A copy is a value of its own, even a small integer; a rename is not.
    w.runs(0, &["COPY n m", "RENAME n n2"]);
    assert_eq!(w.run(0, "OBJECT REFCOUNT m"), ":1\r\n");
    assert_eq!(w.run(0, "OBJECT ENCODING m"), "$3\r\nint\r\n");
    assert_eq!(w.run(0, "OBJECT REFCOUNT n2"), ":2147483647\r\n");
    w.run(0, "SET m 100");
    assert_eq!(w.run(0, "OBJECT REFCOUNT m"), ":2147483647\r\n");

    w.advance_ms(10_000);
    assert_eq!(w.run(0, "OBJECT IDLETIME s"), ":10\r\n");
    // Looking at a key's type, existence or ttl is not an access.
    w.runs(0, &["TYPE s", "EXISTS s", "TTL s", "OBJECT ENCODING s"]);
    assert_eq!(w.run(0, "OBJECT IDLETIME s"), ":10\r\n");
    w.run(0, "TOUCH s");
    assert_eq!(w.run(0, "OBJECT IDLETIME s"), ":0\r\n");
    w.advance_ms(5_000);
    w.run(0, "GET s");
    assert_eq!(w.run(0, "OBJECT IDLETIME s"), ":0\r\n");
    w.advance_ms(5_000);
    w.run(0, "RENAME s s2");
    assert_eq!(w.run(0, "OBJECT IDLETIME s2"), ":0\r\n");
    w.advance_ms(7_000);
    w.run(0, "COPY s2 s3");
    assert_eq!(w.run(0, "OBJECT IDLETIME s2"), ":0\r\n");
    assert_eq!(w.run(0, "OBJECT IDLETIME s3"), ":0\r\n");
    assert_eq!(w.run(0, "OBJECT IDLETIME big"), ":27\r\n");
    w.run(0, "EXPIRE big 1000");
    assert_eq!(w.run(0, "OBJECT IDLETIME big"), ":0\r\n");
}

#[test]
fn idle_time_of_a_shared_integer_is_the_integer_s() {
    let mut w = World::new(1);
    w.st.start_ms = T0;
    // Setting a key does not access the shared integer it stores: its idle
    // time runs from the server's start.
    w.advance_ms(4_000);
    w.run(0, "SET n 100");
    w.advance_ms(10_000);
    assert_eq!(w.run(0, "OBJECT IDLETIME n"), ":14\r\n");
    w.run(0, "GET n");
    w.advance_ms(3_000);
    w.runs(0, &["SELECT 5", "SET other 100"]);
    assert_eq!(w.run(0, "OBJECT IDLETIME other"), ":3\r\n");
    w.run(0, "TOUCH other");
    w.run(0, "SELECT 0");
    assert_eq!(w.run(0, "OBJECT IDLETIME n"), ":0\r\n");
    // A copy, or an integer outside the shared range, has its own.
    w.run(0, "COPY n m");
    w.runs(0, &["SET big 10000"]);
    w.advance_ms(2_000);
    w.run(0, "GET n");
    assert_eq!(w.run(0, "OBJECT IDLETIME m"), ":2\r\n");
    assert_eq!(w.run(0, "OBJECT IDLETIME big"), ":2\r\n");
    assert_eq!(w.run(0, "OBJECT IDLETIME n"), ":0\r\n");
}

#[test]
fn scan_returns_every_key_present_for_the_whole_iteration() {
    let mut w = World::new(1);
    let n = 2_000;
    for i in 0..n {
        w.run(0, &format!("SET stable:{i} v"));
    }
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut round = 0;
    loop {
        let reply = w.run(0, &format!("SCAN {cursor} COUNT 7"));
        let lines: Vec<&str> = reply.split("\r\n").collect();
        cursor = lines[2].to_string();
        for l in lines[4..].iter().filter(|l| l.starts_with("stable:")) {
            seen.insert(l.to_string());
        }
        // Grow the table under the scan, then shrink it.
        round += 1;
        if round < 60 {
            for j in 0..50 {
                w.run(0, &format!("SET extra:{round}:{j} v"));
            }
        } else if round < 120 {
            for j in 0..50 {
                w.run(0, &format!("DEL extra:{}:{j}", round - 59));
            }
            let db = &mut w.st.keyspace.dbs[0];
            db.dict.resize_if_sparse();
            db.dict.rehash(10);
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), n, "every stable key is returned");
}

#[test]
fn flushall_async_frees_in_the_background() {
    let mut w = World::new(1);
    for i in 0..20_000 {
        w.run(0, &format!("SET k{i} v"));
    }
    w.run(0, "SELECT 3");
    for i in 0..5_000 {
        w.run(0, &format!("SET k{i} v"));
    }
    assert_eq!(w.run(0, "FLUSHALL ASYNC"), "+OK\r\n");
    assert_eq!(w.st.keyspace.total_keys(), 0);
    let lf = &w.st.keyspace.lazyfree;
    let start = Instant::now();
    while lf.freed_objects() < 25_000 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(lf.freed_objects(), 25_000);
    assert_eq!(lf.pending_objects(), 0);
    // SYNC frees in place.
    w.run(0, "SET a 1");
    w.run(0, "FLUSHALL SYNC");
    assert_eq!(w.st.keyspace.lazyfree.freed_objects(), 25_000);
}
