//! A real client library against strata-server: the `redis` crate (0.27, sync API) must work
//! with it as it does with Redis, from connecting to pipelines, transactions, pub/sub, binary
//! values, error mapping and RESP3.
//!
//! Run with `STRATA_SERVER=$(which redis-server)` to check the expectations against Redis.
mod support;

use redis::{Commands, ErrorKind, RedisResult, Value};
use std::time::{Duration, Instant};
use support::{ours_binary, TestServer};

const TIMEOUT: Duration = Duration::from_secs(5);

fn start() -> TestServer {
    TestServer::start(&ours_binary())
}

fn client(server: &TestServer, query: &str) -> redis::Client {
    redis::Client::open(format!("redis://127.0.0.1:{}/{query}", server.port)).expect("valid connection URL")
}

fn connect(server: &TestServer) -> redis::Connection {
    connect_with(server, "")
}

fn connect_with(server: &TestServer, query: &str) -> redis::Connection {
    let con = client(server, query)
        .get_connection_with_timeout(TIMEOUT)
        .unwrap_or_else(|e| panic!("connect to port {}: {e}", server.port));
    con.set_read_timeout(Some(TIMEOUT)).unwrap();
    con.set_write_timeout(Some(TIMEOUT)).unwrap();
    con
}

#[test]
fn connect_set_get_del() {
    let server = start();
    let mut con = connect(&server);
    let _: () = con.set("greeting", "hello").unwrap();
    let got: String = con.get("greeting").unwrap();
    assert_eq!(got, "hello");
    let missing: Option<String> = con.get("nope").unwrap();
    assert_eq!(missing, None);
    let n: i64 = con.get("nope").unwrap_or(-1);
    assert_eq!(n, -1, "nil is not an integer");
    let _: () = con.set("n", 42).unwrap();
    let n: i64 = con.get("n").unwrap();
    assert_eq!(n, 42);
    assert!(con.exists::<_, bool>("greeting").unwrap());
    assert_eq!(con.del::<_, i64>(&["greeting", "n", "nope"]).unwrap(), 2);
    assert!(!con.exists::<_, bool>("greeting").unwrap());
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    // A second connection to another database sees its own keyspace.
    let mut db3 = client(&server, "3").get_connection().unwrap();
    let _: () = db3.set("k", "in db 3").unwrap();
    assert!(!con.exists::<_, bool>("k").unwrap());
    assert_eq!(db3.get::<_, String>("k").unwrap(), "in db 3");
}

#[test]
fn pipeline_replies_in_order() {
    let server = start();
    let mut con = connect(&server);
    let (a, b): (i64, String) =
        redis::pipe().set("a", 1).ignore().set("b", "two").ignore().get("a").get("b").query(&mut con).unwrap();
    assert_eq!((a, b.as_str()), (1, "two"));
    let mut pipe = redis::pipe();
    for i in 0..2000 {
        pipe.set(format!("key:{i}"), i).ignore();
    }
    for i in 0..2000 {
        pipe.get(format!("key:{i}"));
    }
    let values: Vec<i64> = pipe.query(&mut con).unwrap();
    assert_eq!(values, (0..2000).collect::<Vec<i64>>());
    // An error inside a pipeline surfaces as the pipeline's error.
    let result: RedisResult<(String, String)> = redis::pipe().get("a").cmd("NOSUCHCOMMAND").query(&mut con);
    let err = result.unwrap_err();
    assert_eq!(err.code(), Some("ERR"), "{err:?}");
    // ... and the connection is still in step afterwards.
    assert_eq!(con.get::<_, String>("b").unwrap(), "two");
}

#[test]
fn transaction_helper_retries_when_watched_key_changes() {
    let server = start();
    let mut con = connect(&server);
    let mut other = connect(&server);
    let _: () = con.set("counter", 10).unwrap();
    let mut attempts = 0;
    let (value,): (i64,) = redis::transaction(&mut con, &["counter"], |con, pipe| {
        attempts += 1;
        let current: i64 = con.get("counter")?;
        if attempts == 1 {
            // Someone else writes between WATCH and EXEC: the first EXEC must fail.
            let _: () = other.set("counter", 100)?;
        }
        pipe.set("counter", current + 1).ignore().get("counter").query(con)
    })
    .unwrap();
    assert_eq!(attempts, 2, "the transaction should have been retried once");
    assert_eq!(value, 101);
    assert_eq!(other.get::<_, i64>("counter").unwrap(), 101);
}

#[test]
fn atomic_pipeline_and_exec_abort() {
    let server = start();
    let mut con = connect(&server);
    let (old, new): (Option<String>, String) =
        redis::pipe().atomic().get("t").set("t", "x").ignore().get("t").query(&mut con).unwrap();
    assert_eq!((old, new.as_str()), (None, "x"));
    // A command refused while queueing aborts the whole transaction (EXECABORT); the library
    // reports the first refusal, the more useful of the two.
    let result: RedisResult<Value> = redis::pipe().atomic().set("t", "y").cmd("SET").arg("only-a-key").query(&mut con);
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseError, "{err:?}");
    assert_eq!(err.detail(), Some("wrong number of arguments for 'set' command"));
    assert_eq!(con.get::<_, String>("t").unwrap(), "x", "nothing ran");
}

#[test]
fn pubsub_through_the_library() {
    let server = start();
    let mut sub_con = connect(&server);
    let mut publisher = connect(&server);
    let mut sub = sub_con.as_pubsub();
    sub.set_read_timeout(Some(TIMEOUT)).unwrap();
    sub.subscribe("news").unwrap();
    sub.psubscribe("n*").unwrap();
    let receivers: i64 = publisher.publish("news", "hello").unwrap();
    assert_eq!(receivers, 2, "one channel and one pattern subscription");
    let first = sub.get_message().unwrap();
    assert_eq!(first.get_channel_name(), "news");
    assert!(!first.from_pattern());
    assert_eq!(first.get_payload::<String>().unwrap(), "hello");
    let second = sub.get_message().unwrap();
    assert!(second.from_pattern());
    assert_eq!(second.get_pattern::<String>().unwrap(), "n*");
    assert_eq!(second.get_payload::<String>().unwrap(), "hello");
    let binary: Vec<u8> = (0..=255).collect();
    let _: i64 = publisher.publish("nothing-else", &binary).unwrap();
    let third = sub.get_message().unwrap();
    assert_eq!(third.get_channel_name(), "nothing-else");
    assert_eq!(third.get_payload_bytes(), binary.as_slice());
    sub.unsubscribe("news").unwrap();
    sub.punsubscribe("n*").unwrap();
    drop(sub);
    // Dropping the PubSub leaves the connection usable for ordinary commands.
    assert_eq!(publisher.publish::<_, _, i64>("news", "x").unwrap(), 0);
    let _: () = sub_con.set("after", "pubsub").unwrap();
    assert_eq!(sub_con.get::<_, String>("after").unwrap(), "pubsub");
}

#[test]
fn binary_safe_keys_and_values() {
    let server = start();
    let mut con = connect(&server);
    let all: Vec<u8> = (0..=255).collect();
    let cases: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (b"nul\0key".to_vec(), b"\0".to_vec()),
        (b"\r\n".to_vec(), b"\r\n$3\r\nabc\r\n".to_vec()),
        (all.clone(), all.iter().rev().copied().collect()),
        (b"empty".to_vec(), Vec::new()),
        (vec![0xff; 1000], vec![0; 1 << 20]),
    ];
    for (k, v) in &cases {
        let _: () = con.set(k, v).unwrap();
    }
    for (k, v) in &cases {
        let got: Vec<u8> = con.get(k).unwrap();
        assert_eq!(&got, v, "value of {k:?}");
    }
    let missing: Option<Vec<u8>> = con.get(b"nul".as_slice()).unwrap();
    assert_eq!(missing, None, "a prefix of a key up to its NUL is another key");
}

#[test]
fn incr_and_friends() {
    let server = start();
    let mut con = connect(&server);
    let n: i64 = redis::cmd("INCR").arg("n").query(&mut con).unwrap();
    assert_eq!(n, 1);
    assert_eq!(con.incr::<_, _, i64>("n", 41).unwrap(), 42);
    assert_eq!(con.decr::<_, _, i64>("n", 50).unwrap(), -8);
    assert_eq!(con.get::<_, i64>("n").unwrap(), -8);
    let _: () = con.set("s", "abc").unwrap();
    let err = con.incr::<_, _, i64>("s", 1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseError);
    assert_eq!(err.detail(), Some("value is not an integer or out of range"));
}

#[test]
fn mget_through_the_library() {
    let server = start();
    let mut con = connect(&server);
    let _: () = con.set("a", "1").unwrap();
    let _: () = con.set("b", "2").unwrap();
    let got: Vec<Option<String>> = con.mget(&["a", "missing", "b"]).unwrap();
    assert_eq!(got, vec![Some("1".into()), None, Some("2".into())]);
    // `get` with several keys is MGET too.
    let got: (String, String) = con.get(&["b", "a"]).unwrap();
    assert_eq!(got, ("2".into(), "1".into()));
}

#[test]
fn expiry_through_the_library() {
    let server = start();
    let mut con = connect(&server);
    let opts = redis::SetOptions::default().with_expiration(redis::SetExpiry::EX(100));
    let _: () = con.set_options("e", "v", opts).unwrap();
    assert_eq!(con.ttl::<_, i64>("e").unwrap(), 100);
    let _: () = con.set_ex("f", "v", 50).unwrap();
    assert_eq!(con.ttl::<_, i64>("f").unwrap(), 50);
    let _: () = con.set("g", "v").unwrap();
    assert_eq!(con.ttl::<_, i64>("g").unwrap(), -1);
    assert_eq!(con.ttl::<_, i64>("missing").unwrap(), -2);
}

#[test]
fn set_with_expiry_options() {
    let server = start();
    let mut con = connect(&server);
    let opts = redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(60_000));
    let _: () = con.set_options("e", "v", opts).unwrap();
    assert_eq!(con.get::<_, String>("e").unwrap(), "v");
    let nx = redis::SetOptions::default().conditional_set(redis::ExistenceCheck::NX);
    let set: Option<String> = con.set_options("e", "w", nx).unwrap();
    assert_eq!(set, None, "NX on an existing key sets nothing");
    let get = redis::SetOptions::default().get(true);
    let old: Option<String> = con.set_options("e", "w", get).unwrap();
    assert_eq!(old.as_deref(), Some("v"));
}

#[test]
fn errors_map_to_library_kinds() {
    let server = start();
    let mut con = connect(&server);
    let err = redis::cmd("NOSUCHCOMMAND").arg("x").query::<Value>(&mut con).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseError, "{err:?}");
    assert_eq!(err.code(), Some("ERR"));
    assert_eq!(err.detail(), Some("unknown command 'NOSUCHCOMMAND', with args beginning with: 'x' "));
    let err = redis::cmd("GET").query::<Value>(&mut con).unwrap_err();
    assert_eq!(err.detail(), Some("wrong number of arguments for 'get' command"));
    let err = redis::cmd("SET").arg("k").arg("v").arg("EX").arg("soon").query::<Value>(&mut con).unwrap_err();
    assert_eq!(err.detail(), Some("value is not an integer or out of range"));
    // Type conversion errors are the library's own.
    let _: () = con.set("word", "abc").unwrap();
    let err = con.get::<_, i64>("word").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeError);
    // The connection survives all of it.
    assert_eq!(con.get::<_, String>("word").unwrap(), "abc");
}

#[test]
fn wrongtype_error() {
    let server = start();
    let mut con = connect(&server);
    let _: i64 = redis::cmd("LPUSH").arg("list").arg("a").query(&mut con).unwrap();
    let err = con.get::<_, String>("list").unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"), "{err:?}");
    assert_eq!(err.detail(), Some("Operation against a key holding the wrong kind of value"));
}

#[test]
fn password_through_the_url() {
    // The standard helper cannot wait on a password-protected server; start one directly.
    let server = support::proc::PlainServer::start(&ours_binary(), &["--requirepass", "pw"]);
    let url = |auth: &str| format!("redis://{auth}127.0.0.1:{}/", server.port);
    let mut con = redis::Client::open(url(":pw@")).unwrap().get_connection_with_timeout(TIMEOUT).unwrap();
    let _: () = con.set("k", "v").unwrap();
    assert_eq!(con.get::<_, String>("k").unwrap(), "v");
    let mut anonymous = redis::Client::open(url("")).unwrap().get_connection_with_timeout(TIMEOUT).unwrap();
    let err = anonymous.get::<_, String>("k").unwrap_err();
    assert_eq!(err.code(), Some("NOAUTH"), "{err:?}");
    let wrong = redis::Client::open(url(":nope@"))
        .unwrap()
        .get_connection_with_timeout(TIMEOUT)
        .err()
        .expect("a wrong password must fail the connection");
    assert_eq!(wrong.kind(), ErrorKind::AuthenticationFailed, "{wrong:?}");
}

/// The 0.27 crate speaks RESP3 when the URL asks for it (it sends HELLO 3 on connect).
#[test]
fn resp3_connection() {
    let server = start();
    let mut con = connect_with(&server, "?protocol=resp3");
    let _: () = con.set("k", "v").unwrap();
    assert_eq!(con.get::<_, String>("k").unwrap(), "v");
    let missing: Value = con.get("missing").unwrap();
    assert_eq!(missing, Value::Nil);
    let hello: Value = redis::cmd("HELLO").arg(3).query(&mut con).unwrap();
    let Value::Map(fields) = hello else { panic!("HELLO 3 should be a map, got {hello:?}") };
    let proto = fields.iter().find(|(k, _)| *k == Value::BulkString(b"proto".to_vec())).map(|(_, v)| v.clone());
    assert_eq!(proto, Some(Value::Int(3)));
    // Pub/sub messages arrive as pushes; the library's PubSub handles both protocols. Over
    // RESP3 it does not wait for the subscription to be confirmed, so we poll until it is.
    let mut publisher = connect(&server);
    let mut sub = con.as_pubsub();
    sub.set_read_timeout(Some(TIMEOUT)).unwrap();
    sub.subscribe("ch").unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let (_, n): (String, i64) = redis::cmd("PUBSUB").arg("NUMSUB").arg("ch").query(&mut publisher).unwrap();
        if n == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "subscription never registered");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(publisher.publish::<_, _, i64>("ch", "push").unwrap(), 1);
    let msg = sub.get_message().unwrap();
    assert_eq!(msg.get_channel_name(), "ch");
    assert_eq!(msg.get_payload::<String>().unwrap(), "push");
    sub.unsubscribe("ch").unwrap();
    drop(sub);
    assert_eq!(con.get::<_, String>("k").unwrap(), "v");
}
