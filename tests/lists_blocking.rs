//! Blocked list pops leave no trace once their wait ends without being
//! served: a client that times out, hangs up or is unblocked with CLIENT
//! UNBLOCK is no longer counted in `blocked_clients`, and a later push to
//! the key it waited on stays in the list instead of going to a ghost.

mod support;

use std::time::{Duration, Instant};
use support::{ours_binary, Conn, TestServer};

const CLIENTS: usize = 40;

/// A field of INFO's reply, as a number.
fn info_field(c: &mut Conn, section: &str, field: &str) -> i64 {
    let reply = c.call(&["INFO", section]).expect("INFO");
    let text = String::from_utf8_lossy(reply.payload()).into_owned();
    let prefix = format!("{field}:");
    let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {field} in {text}"));
    line[prefix.len()..].trim().parse().unwrap_or_else(|_| panic!("bad {line}"))
}

/// Polls INFO until `field` reads `want` (the server notices hang-ups
/// asynchronously).
fn wait_for(c: &mut Conn, section: &str, field: &str, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = info_field(c, section, field);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{field} stays {got}, expected {want}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Pushes one element to each key and checks that it stayed there.
fn pushes_stay(c: &mut Conn, keys: &[String]) {
    for k in keys {
        assert_eq!(c.call(&["RPUSH", k.as_str(), "x"]).unwrap().bytes(), b":1\r\n", "{k}");
    }
    // Anything served would have been served right after its push.
    for k in keys {
        assert_eq!(c.call(&["LLEN", k.as_str()]).unwrap().bytes(), b":1\r\n", "{k} was consumed");
    }
}

/// Sends a blocking command on each connection, one per key (every third
/// connection waits on a shared key too), and waits until all are blocked.
fn block_all(admin: &mut Conn, conns: &mut [Conn], keys: &[String], timeout: &str) {
    for (i, (c, k)) in conns.iter_mut().zip(keys).enumerate() {
        let cmd: Vec<&str> = match i % 3 {
            0 => vec!["BLPOP", k, "shared", timeout],
            1 => vec!["BLMOVE", k, "dst", "LEFT", "RIGHT", timeout],
            _ => vec!["BLMPOP", timeout, "2", k, "shared", "RIGHT", "COUNT", "3"],
        };
        c.send(&cmd).unwrap();
    }
    wait_for(admin, "clients", "blocked_clients", conns.len() as i64);
}

fn keys(prefix: &str) -> Vec<String> {
    (0..CLIENTS).map(|i| format!("{prefix}:{i}")).collect()
}

#[test]
fn waits_that_time_out_leave_no_trace() {
    let server = TestServer::start(&ours_binary());
    let mut admin = server.connect();
    let keys = keys("timeout");
    let mut conns: Vec<Conn> = (0..CLIENTS).map(|_| server.connect()).collect();
    block_all(&mut admin, &mut conns, &keys, "0.2");
    for c in &mut conns {
        assert_eq!(c.read_reply().unwrap().bytes(), b"*-1\r\n");
    }
    assert_eq!(info_field(&mut admin, "clients", "blocked_clients"), 0);
    pushes_stay(&mut admin, &keys);
    pushes_stay(&mut admin, &["shared".to_string()]);
    // The connections are usable again and block afresh.
    conns[0].send(&["BLPOP", "fresh", "0"]).unwrap();
    wait_for(&mut admin, "clients", "blocked_clients", 1);
    admin.call(&["RPUSH", "fresh", "v"]).unwrap();
    assert_eq!(conns[0].read_reply().unwrap().bytes(), b"*2\r\n$5\r\nfresh\r\n$1\r\nv\r\n");
}

#[test]
fn clients_that_hang_up_while_blocked_leave_no_trace() {
    let server = TestServer::start(&ours_binary());
    let mut admin = server.connect();
    let keys = keys("gone");
    let mut conns: Vec<Conn> = (0..CLIENTS).map(|_| server.connect()).collect();
    block_all(&mut admin, &mut conns, &keys, "0");
    drop(conns);
    wait_for(&mut admin, "clients", "connected_clients", 1);
    assert_eq!(info_field(&mut admin, "clients", "blocked_clients"), 0);
    pushes_stay(&mut admin, &keys);
    pushes_stay(&mut admin, &["shared".to_string()]);
}

#[test]
fn clients_unblocked_by_command_leave_no_trace() {
    let server = TestServer::start(&ours_binary());
    let mut admin = server.connect();
    let keys = keys("unblocked");
    let mut conns: Vec<Conn> = (0..CLIENTS).map(|_| server.connect()).collect();
    let ids: Vec<Vec<u8>> = conns.iter_mut().map(|c| c.call(&["CLIENT", "ID"]).unwrap().payload().to_vec()).collect();
    block_all(&mut admin, &mut conns, &keys, "0");
    for (i, (c, id)) in conns.iter_mut().zip(&ids).enumerate() {
        let how: &[u8] = if i % 2 == 0 { b"TIMEOUT" } else { b"ERROR" };
        let args: [&[u8]; 4] = [b"CLIENT", b"UNBLOCK", id, how];
        assert_eq!(admin.call(&args).unwrap().bytes(), b":1\r\n");
        let reply = c.read_reply().unwrap();
        assert_eq!(reply.kind(), if i % 2 == 0 { b'*' } else { b'-' }, "{:?}", reply);
    }
    assert_eq!(info_field(&mut admin, "clients", "blocked_clients"), 0);
    pushes_stay(&mut admin, &keys);
    pushes_stay(&mut admin, &["shared".to_string()]);
}

#[test]
fn a_served_client_is_waiting_on_none_of_its_other_keys() {
    let server = TestServer::start(&ours_binary());
    let mut admin = server.connect();
    let mut c = server.connect();
    c.send(&["BLPOP", "a", "b", "c", "0"]).unwrap();
    wait_for(&mut admin, "clients", "blocked_clients", 1);
    admin.call(&["RPUSH", "b", "1"]).unwrap();
    assert_eq!(c.read_reply().unwrap().bytes(), b"*2\r\n$1\r\nb\r\n$1\r\n1\r\n");
    assert_eq!(info_field(&mut admin, "clients", "blocked_clients"), 0);
    pushes_stay(&mut admin, &["a".to_string(), "c".to_string()]);
}
