//! Hostile input against a running server: malformed and oversized RESP, silent clients that
//! announce huge lengths, seeded garbage, deep pipelines, huge and binary values.
//!
//! Each expectation is Redis 7.0's: where a check is cheap it runs against the reference
//! redis-server first (so a wrong expectation fails there), then against strata-server. Every
//! check ends by asking a fresh connection for PING: surviving the input is the point.
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;
use support::proc::{
    assert_ping, exchange_and_hang_up, pid_listening_on, raise_fd_limit, raw_connect, read_to_end_or_silence,
    rss_bytes, End, PlainServer, Rng,
};
use support::{encode_command, escape, ours_binary, reference_binary, Conn, TestServer};

/// How long a healthy server may take to answer PING on a fresh connection, whatever load the
/// hostile clients put on it.
const PROMPT: Duration = Duration::from_secs(2);
/// How long we listen to make sure a server is waiting (not replying, not closing).
const QUIET: Duration = Duration::from_millis(300);
/// How long a server may take to reply and close after a protocol error.
const CLOSE_WITHIN: Duration = Duration::from_secs(3);

/// Runs `check` against the reference Redis, then against Strata, each started with `extra`
/// directives; then checks each still answers PING.
fn on_both(extra: &[&str], check: impl Fn(&TestServer)) {
    on(&[reference_binary(), ours_binary()], extra, check)
}

fn on_ours(extra: &[&str], check: impl Fn(&TestServer)) {
    on(&[ours_binary()], extra, check)
}

fn on(binaries: &[PathBuf], extra: &[&str], check: impl Fn(&TestServer)) {
    for bin in binaries {
        let server = TestServer::start_with(bin, extra);
        check(&server);
        assert_ping(server.port, PROMPT);
    }
}

/// Sends `bytes` on a fresh connection and returns what the server wrote before closing it on
/// its own (we keep our side open: the server must be the one to close).
fn expect_close(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = raw_connect(port, CLOSE_WITHIN);
    let _ = s.write_all(bytes);
    let (got, end) = read_to_end_or_silence(&mut s);
    assert_eq!(
        end,
        End::Closed,
        "port {port}: connection not closed after {:?}; got {:?}",
        shorten(bytes),
        escape(&got)
    );
    got
}

/// Sends `bytes` and checks the server neither replies nor closes for a while: it is waiting
/// for the rest of a request. Returns the open connection.
fn expect_waiting(port: u16, bytes: &[u8]) -> TcpStream {
    let mut s = raw_connect(port, QUIET);
    s.write_all(bytes).unwrap();
    let (got, end) = read_to_end_or_silence(&mut s);
    assert!(
        got.is_empty() && end == End::Silent,
        "port {port}: after {:?} expected silence, got {:?} ({end:?})",
        shorten(bytes),
        escape(&got)
    );
    s
}

/// Sends `bytes` on a fresh connection: the server must answer `-ERR Protocol error: <text>`
/// and close the connection.
fn expect_protocol_error(port: u16, bytes: &[u8], text: &str) {
    let got = expect_close(port, bytes);
    assert_reply(&got, &protocol_error(text), &format!("port {port}: {}", shorten(bytes)));
}

fn protocol_error(text: &str) -> Vec<u8> {
    format!("-ERR Protocol error: {text}\r\n").into_bytes()
}

fn shorten(bytes: &[u8]) -> String {
    if bytes.len() <= 80 {
        escape(bytes)
    } else {
        format!("{}... ({} bytes)", escape(&bytes[..80]), bytes.len())
    }
}

fn assert_reply(got: &[u8], want: &[u8], what: &str) {
    assert!(got == want, "{what}: got {:?}, want {:?}", shorten(got), shorten(want));
}

#[test]
fn huge_multibulk_count_then_silence() {
    on_both(&[], |server| {
        let pid = pid_listening_on(server.port);
        let before = rss_bytes(pid);
        // 200 clients each announce 2^31-1 arguments and send nothing more.
        let waiting: Vec<TcpStream> = (0..200)
            .map(|_| {
                let mut s = raw_connect(server.port, QUIET);
                s.write_all(b"*2147483647\r\n").unwrap();
                s
            })
            .collect();
        let last = expect_waiting(server.port, b"*2147483647\r\n");
        assert_ping(server.port, PROMPT);
        let grown = rss_bytes(pid).saturating_sub(before);
        // Argument slots may be reserved up to a small fixed cap per client, never per announced
        // argument (that would be 16 GiB per client): 64 MiB covers 201 clients generously.
        assert!(
            grown < 64 << 20,
            "{}: RSS grew by {} MiB for 201 clients announcing 2^31-1 arguments",
            server.binary.display(),
            grown >> 20
        );
        // Hanging up on the server frees the waiting clients.
        drop(last);
        drop(waiting);
        // One past i32::MAX is refused outright.
        expect_protocol_error(server.port, b"*2147483648\r\n", "invalid multibulk length");
    });
}

#[test]
fn bulk_length_beyond_any_limit() {
    on_both(&[], |server| {
        expect_protocol_error(server.port, b"*1\r\n$999999999999\r\n", "invalid bulk length");
        expect_protocol_error(server.port, b"*1\r\n$-1\r\n", "invalid bulk length");
        expect_protocol_error(server.port, b"*1\r\n$04\r\nPING\r\n", "invalid bulk length");
        expect_protocol_error(server.port, b"*01\r\n$4\r\nPING\r\n", "invalid multibulk length");
        // Replies to complete requests before the bad one are still delivered.
        let got = expect_close(server.port, b"*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n");
        let mut want = b"+PONG\r\n".to_vec();
        want.extend_from_slice(&protocol_error("invalid bulk length"));
        assert_reply(&got, &want, "PING then $x");
    });
}

/// A thousand clients each start a SET whose value they announce as 500 MB, send `slices`
/// slices of 8 KiB of it, and go silent.
///
/// RSS bound: the server must buffer what was really sent (16 KiB per client at most, 16 MiB in
/// all) plus per-client bookkeeping and read buffers. A server that reserves and touches memory
/// in proportion to the announced length would need 500 GB; one that fills even a 1 MiB buffer
/// per client would need 1 GB. 200 MiB (about 200 KiB per client) is generous for the first and
/// far below either failure.
fn silent_clients_announcing_500mb(slices: usize) {
    const CLIENTS: usize = 1000;
    const GROWTH_MAX: u64 = 200 << 20;
    raise_fd_limit(2 * CLIENTS as u64 + 256);
    on_both(&[], |server| {
        let port = server.port;
        let pid = pid_listening_on(port);
        let before = rss_bytes(pid);
        let chunk = vec![b'x'; 8 * 1024];
        let mut clients: Vec<TcpStream> = (0..CLIENTS)
            .map(|i| {
                let mut s = raw_connect(port, QUIET);
                let key = format!("half:{i}");
                let head = format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$524288000\r\n", key.len());
                s.write_all(head.as_bytes()).unwrap();
                s
            })
            .collect();
        // Slices go out once everyone is connected (and the server has read the headers), so a
        // server that grows its buffer towards the announced size on later reads gets to.
        for _ in 0..slices {
            assert_ping(port, PROMPT);
            for s in &mut clients {
                s.write_all(&chunk).unwrap();
            }
        }
        for _ in 0..5 {
            assert_ping(port, PROMPT);
        }
        let grown = rss_bytes(pid).saturating_sub(before);
        assert!(
            grown < GROWTH_MAX,
            "{}: RSS grew by {} MiB with {CLIENTS} clients announcing 500 MB bulks (bound {} MiB)",
            server.binary.display(),
            grown >> 20,
            GROWTH_MAX >> 20
        );
        // None of the half-sent commands ran, and the server was not waiting on them.
        let mut conn = server.connect();
        assert_eq!(conn.call(&["EXISTS", "half:0"]).unwrap().bytes(), b":0\r\n");
        drop(clients);
        assert_ping(port, PROMPT);
    });
}

#[test]
fn thousand_silent_clients_announcing_500mb_bulks() {
    silent_clients_announcing_500mb(0);
}

#[test]
fn thousand_clients_trickling_500mb_bulks() {
    silent_clients_announcing_500mb(2);
}

/// A RESP-flavoured garbage sample: random bytes mixed with protocol tokens, so the decoder is
/// driven into its deeper states, not only into inline parsing.
fn garbage(rng: &mut Rng) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b"*",
        b"$",
        b"\r\n",
        b"\n",
        b"\r",
        b"-1",
        b"0",
        b"1",
        b"2",
        b"3",
        b"4",
        b"10",
        b"11",
        b"16385",
        b"2147483648",
        b"999999999999",
        b"PING",
        b"ECHO",
        b"GET",
        b"SET",
        b"EXISTS",
        b"\"",
        b"'",
        b"\\x4",
        b" ",
        b"\0",
        b"*1\r\n$4\r\nPING\r\n",
        b"*2\r\n$4\r\nECHO\r\n",
    ];
    let mut out = Vec::new();
    if rng.below(2) == 0 {
        out.push(b'*');
    }
    for _ in 0..1 + rng.below(16) {
        match rng.below(4) {
            0 => {
                let n = 1 + rng.below(48) as usize;
                out.extend(rng.bytes(n));
            }
            _ => out.extend_from_slice(*rng.pick(TOKENS)),
        }
    }
    out
}

const GARBAGE_SEED: u64 = 0x5eed_0fba_db17_e5;
const GARBAGE_SAMPLES: usize = 300;

/// Splits RESP2 replies; Err names the first malformed one.
fn split_resp2(mut bytes: &[u8]) -> Result<usize, String> {
    fn line(b: &[u8]) -> Option<(&[u8], &[u8])> {
        let at = b.windows(2).position(|w| w == b"\r\n")?;
        Some((&b[..at], &b[at + 2..]))
    }
    fn one(b: &[u8]) -> Result<&[u8], String> {
        let (head, rest) = line(b).ok_or("reply without CRLF")?;
        let num = || -> Result<i64, String> {
            std::str::from_utf8(&head[1..])
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or(format!("bad number in {:?}", escape(head)))
        };
        match head.first() {
            Some(b'+' | b'-' | b':') => Ok(rest),
            Some(b'$') => match num()? {
                -1 => Ok(rest),
                n if n >= 0 && rest.len() >= n as usize + 2 => {
                    let (_, tail) = rest.split_at(n as usize);
                    tail.strip_prefix(b"\r\n".as_slice()).ok_or("blob without CRLF".into())
                }
                _ => Err(format!("bad blob {:?}", escape(head))),
            },
            Some(b'*') => {
                let mut rest = rest;
                for _ in 0..num()?.max(0) {
                    rest = one(rest)?;
                }
                Ok(rest)
            }
            _ => Err(format!("unknown reply type in {:?}", escape(head))),
        }
    }
    let mut count = 0;
    while !bytes.is_empty() {
        bytes = one(bytes)?;
        count += 1;
    }
    Ok(count)
}

/// Seeded garbage, one connection per sample: whatever the server answers must be well-formed
/// replies, it must close when the client hangs up, and it must go on serving.
#[test]
fn seeded_garbage_leaves_the_server_serving() {
    on_ours(&[], |server| {
        let mut rng = Rng::new(GARBAGE_SEED);
        for i in 0..GARBAGE_SAMPLES {
            let sample = garbage(&mut rng);
            let (got, end) = exchange_and_hang_up(server.port, &sample, CLOSE_WITHIN);
            assert_eq!(
                end,
                End::Closed,
                "sample {i} {:?}: connection still open after the client hung up; got {:?}",
                escape(&sample),
                escape(&got)
            );
            if let Err(e) = split_resp2(&got) {
                panic!("sample {i} {:?}: malformed reply {:?}: {e}", escape(&sample), escape(&got));
            }
            if i % 50 == 0 {
                assert_ping(server.port, PROMPT);
            }
        }
    });
}

/// The same garbage corpus against both servers: byte-for-byte the same replies.
#[test]
fn seeded_garbage_gets_the_same_replies_as_redis() {
    let run = |bin: PathBuf| -> Vec<Vec<u8>> {
        let server = TestServer::start(&bin);
        let mut rng = Rng::new(GARBAGE_SEED);
        let got = (0..GARBAGE_SAMPLES)
            .map(|_| {
                let (got, end) = exchange_and_hang_up(server.port, &garbage(&mut rng), CLOSE_WITHIN);
                [got, format!("{end:?}").into_bytes()].concat()
            })
            .collect();
        assert_ping(server.port, PROMPT);
        got
    };
    let theirs = run(reference_binary());
    let ours = run(ours_binary());
    let mut rng = Rng::new(GARBAGE_SEED);
    let mut mismatches = Vec::new();
    for (i, (t, o)) in theirs.iter().zip(&ours).enumerate() {
        let sample = garbage(&mut rng);
        if t != o {
            mismatches.push(format!(
                "sample {i} {:?}\n  redis:  {:?}\n  strata: {:?}",
                escape(&sample),
                escape(t),
                escape(o)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {GARBAGE_SAMPLES} samples differ; first ones:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(10)].join("\n")
    );
}

#[test]
fn oversized_lines_without_newline() {
    on_both(&[], |server| {
        let port = server.port;
        // An inline request may be up to 64 KiB long; one byte more without a newline is refused.
        let mut s = expect_waiting(port, &vec![b'a'; 64 * 1024]);
        s.write_all(b"\r\n").unwrap();
        s.set_read_timeout(Some(CLOSE_WITHIN)).unwrap();
        let mut conn_reply = Vec::new();
        while !conn_reply.ends_with(b"\r\n") {
            let (got, end) = read_to_end_or_silence(&mut s);
            conn_reply.extend(got);
            assert_eq!(end, End::Silent, "64 KiB inline line: connection closed");
        }
        let name = "a".repeat(128);
        let want = format!("-ERR unknown command '{name}', with args beginning with: \r\n");
        assert_reply(&conn_reply, want.as_bytes(), "64 KiB inline line");

        expect_protocol_error(port, &[b'a'; 64 * 1024 + 1], "too big inline request");
        let mut mbulk = b"*".to_vec();
        mbulk.extend(vec![b'1'; 70_000]);
        expect_protocol_error(port, &mbulk, "too big mbulk count string");
        let mut bulk = b"*1\r\n$".to_vec();
        bulk.extend(vec![b'1'; 70_000]);
        expect_protocol_error(port, &bulk, "too big bulk count string");
    });
}

#[test]
fn unbalanced_quotes() {
    on_both(&[], |server| {
        for line in [&b"SET \"a b\r\n"[..], b"SET 'a\r\n", b"SET \"a\"b c\r\n", b"ECHO \"\\\"\r\n"] {
            expect_protocol_error(server.port, line, "unbalanced quotes in request");
        }
        // Balanced quoting with escapes is fine, and binary-safe.
        let mut s = raw_connect(server.port, CLOSE_WITHIN);
        s.write_all(b"ECHO \"a\\x00b\\r\\n\" 'it\\'s'\r\n").unwrap();
        s.write_all(b"ECHO \"a\\x00b\\r\\n\"\r\n").unwrap();
        let mut got = Vec::new();
        while !got.ends_with(b"$5\r\na\0b\r\n\r\n") {
            let (more, end) = read_to_end_or_silence(&mut s);
            assert!(!more.is_empty(), "no reply ({end:?}), so far {:?}", escape(&got));
            got.extend(more);
        }
        let arity = b"-ERR wrong number of arguments for 'echo' command\r\n";
        assert_reply(&got, &[&arity[..], b"$5\r\na\0b\r\n\r\n"].concat(), "quoted");
    });
}

#[test]
fn bulk_header_must_start_with_dollar() {
    on_both(&[], |server| {
        // Without the end of its line the header is not judged yet.
        let mut s = expect_waiting(server.port, b"*1\r\nx");
        s.write_all(b"\r\n").unwrap();
        s.set_read_timeout(Some(CLOSE_WITHIN)).unwrap();
        let (got, end) = read_to_end_or_silence(&mut s);
        assert_eq!(end, End::Closed);
        assert_reply(&got, &protocol_error("expected '$', got 'x'"), "*1 x");
        expect_protocol_error(server.port, b"*2\r\n$4\r\nECHO\r\n:1\r\n", "expected '$', got ':'");
    });
}

/// With proto-max-bulk-len at 1 MiB: a bulk of exactly 1 MiB is fine, one byte more is refused
/// as soon as its header arrives.
fn check_bulk_limit_1mb(server: &TestServer) {
    let port = server.port;
    let mut conn = server.connect();
    let value = vec![b'v'; 1 << 20];
    let reply = conn.call(&[b"SET".as_slice(), b"k", &value]).unwrap();
    assert_eq!(reply.bytes(), b"+OK\r\n");
    expect_protocol_error(port, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n", "invalid bulk length");
}

#[test]
fn proto_max_bulk_len_start_option() {
    on_both(&["--proto-max-bulk-len", "1mb"], check_bulk_limit_1mb);
}

#[test]
fn proto_max_bulk_len_config_set() {
    on_both(&[], |server| {
        let mut conn = server.connect();
        let reply = conn.call(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]).unwrap();
        assert_eq!(reply.bytes(), b"+OK\r\n");
        check_bulk_limit_1mb(server);
    });
}

#[test]
fn unauthenticated_limits_with_requirepass() {
    for bin in [reference_binary(), ours_binary()] {
        let server = PlainServer::start(&bin, &["--requirepass", "s3cret"]);
        let port = server.port;
        let what = bin.display();
        expect_protocol_error(port, b"*11\r\n", "unauthenticated multibulk length");
        let auth = b"*2\r\n$4\r\nAUTH\r\n$16385\r\n";
        expect_protocol_error(port, auth, "unauthenticated bulk length");
        // At the limits: parsed, then refused as a command.
        drop(expect_waiting(port, b"*10\r\n"));
        let mut conn = Conn::connect(port).unwrap();
        let big = vec![b'p'; 16384];
        let reply = conn.call(&[b"AUTH".as_slice(), &big]).unwrap();
        assert_eq!(reply.kind(), b'-', "{what}: {:?}", escape(&reply.bytes()));
        let reply = conn.call(&["PING"]).unwrap();
        assert_eq!(reply.bytes(), b"-NOAUTH Authentication required.\r\n");
        // Authenticated: no such limits.
        let reply = conn.call(&["AUTH", "s3cret"]).unwrap();
        assert_eq!(reply.bytes(), b"+OK\r\n", "{what}");
        let mut del = vec!["DEL".to_string()];
        del.extend((0..11).map(|i| format!("k{i}")));
        assert_eq!(conn.call(&del).unwrap().bytes(), b":0\r\n", "{what}");
        let value = vec![b'v'; 100_000];
        let reply = conn.call(&[b"SET".as_slice(), b"k", &value]).unwrap();
        assert_eq!(reply.bytes(), b"+OK\r\n", "{what}");
        // A fresh, unauthenticated connection gets the strict limits again.
        expect_protocol_error(port, b"*11\r\n", "unauthenticated multibulk length");
        assert_eq!(conn.call(&["PING"]).unwrap().bytes(), b"+PONG\r\n");
    }
}

#[test]
fn query_buffer_limit_closes_the_client_only() {
    on_both(&["--client-query-buffer-limit", "1mb"], |server| {
        let port = server.port;
        // A 2 MB value cannot fit in a 1 MB query buffer: the connection is closed, silently.
        let mut s = raw_connect(port, CLOSE_WITHIN);
        let _ = s.write_all(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$2000000\r\n");
        let _ = s.write_all(&vec![b'v'; 2_000_000]);
        let _ = s.write_all(b"\r\n");
        let (got, end) = read_to_end_or_silence(&mut s);
        assert_eq!(end, End::Closed, "over the query buffer limit");
        assert!(got.is_empty(), "reply {:?}", shorten(&got));
        let mut conn = server.connect();
        assert_eq!(conn.call(&["EXISTS", "big"]).unwrap().bytes(), b":0\r\n");
        // Pipelined traffic worth more than the limit is fine: it is consumed as it comes.
        let size = pipelined_pings(port, 40_000, &[b'p'; 40]);
        assert!(size > 2 << 20, "pipeline of {size} bytes");
    });
}

/// Sends `PING <i><pad>` for i in 0..n in one write, reading the replies on this thread
/// while another writes; checks they are the n echoes, in order. Returns the request size.
fn pipelined_pings(port: u16, n: usize, pad: &[u8]) -> usize {
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for i in 0..n {
        let mut arg = i.to_string().into_bytes();
        arg.extend_from_slice(pad);
        request.extend(encode_command(&[b"PING".as_slice(), &arg]));
        expected.extend(format!("${}\r\n", arg.len()).into_bytes());
        expected.extend(arg);
        expected.extend_from_slice(b"\r\n");
    }
    let size = request.len();
    let mut s = raw_connect(port, CLOSE_WITHIN);
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || w.write_all(&request));
    let mut got = vec![0u8; expected.len()];
    let read = s.read_exact(&mut got);
    writer.join().unwrap().expect("write the pipeline");
    read.unwrap_or_else(|e| panic!("port {port}: reading {n} pipelined replies: {e}"));
    if let Some(at) = got.iter().zip(&expected).position(|(a, b)| a != b) {
        let reply = expected[..at].iter().filter(|&&b| b == b'$').count();
        panic!(
            "port {port}: pipelined replies differ near reply {reply}: got {:?}, want {:?}",
            escape(&got[at.saturating_sub(20)..(at + 40).min(got.len())]),
            escape(&expected[at.saturating_sub(20)..(at + 40).min(expected.len())])
        );
    }
    size
}

#[test]
fn pipeline_of_100k_pings_in_one_write() {
    on_both(&[], |server| {
        pipelined_pings(server.port, 100_000, b"");
    });
}

#[test]
fn value_of_100mb() {
    on_ours(&[], |server| {
        let mut conn = server.connect();
        let value: Vec<u8> = (0..100 << 20).map(|i: u32| (i % 251) as u8).collect();
        let reply = conn.call(&[b"SET".as_slice(), b"big", &value]).unwrap();
        assert_eq!(reply.bytes(), b"+OK\r\n");
        let reply = conn.call(&["GET", "big"]).unwrap();
        assert_eq!(reply.kind(), b'$');
        assert_eq!(reply.payload().len(), value.len());
        assert!(reply.payload() == value.as_slice(), "100 MB value changed");
    });
}

#[test]
fn value_of_100mb_strlen() {
    on_ours(&[], |server| {
        let mut conn = server.connect();
        let value = vec![b'z'; 100 << 20];
        let reply = conn.call(&[b"SET".as_slice(), b"big", &value]).unwrap();
        assert_eq!(reply.bytes(), b"+OK\r\n");
        let reply = conn.call(&["STRLEN", "big"]).unwrap();
        assert_eq!(reply.bytes(), format!(":{}\r\n", 100 << 20).as_bytes());
    });
}

#[test]
fn binary_keys_and_values() {
    on_both(&[], |server| {
        let mut conn = server.connect();
        let all: Vec<u8> = (0..=255u8).collect();
        let cases: Vec<(&[u8], &[u8])> = vec![
            (b"\0", b"\0\0"),
            (b"a\0b", b"\r\n"),
            (b"\r\n", b"x\r\ny\r\n"),
            (b"\n", b"\r"),
            (b"*1\r\n$4\r\nPING\r\n", b"$-1\r\n"),
            (&all, &all),
            (b" ", b""),
        ];
        for (k, v) in &cases {
            let reply = conn.call(&[b"SET".as_slice(), k, v]).unwrap();
            assert_eq!(reply.bytes(), b"+OK\r\n", "SET {:?}", escape(k));
        }
        for (k, v) in &cases {
            let reply = conn.call(&[b"GET".as_slice(), k]).unwrap();
            assert_eq!(reply.payload(), *v, "GET {:?}", escape(k));
            assert_eq!(reply.kind(), b'$');
        }
        // Prefixes and neighbours of binary keys are other keys.
        let reply = conn.call(&[b"EXISTS".as_slice(), b"a", b"a\0", b"\0\0", b"\r"]).unwrap();
        assert_eq!(reply.bytes(), b":0\r\n");
        let reply = conn.call(&[b"DEL".as_slice(), b"a\0b", b"\r\n", &all]).unwrap();
        assert_eq!(reply.bytes(), b":3\r\n");
        let reply = conn.call(&["DBSIZE"]).unwrap();
        assert_eq!(reply.bytes(), b":4\r\n");
    });
}

/// Redis looks for the end of an inline line with a C string search, which stops at a NUL
/// byte: a line holding a NUL never ends (until it is too long), whatever follows it.
#[test]
fn inline_request_with_nul_byte() {
    on_both(&[], |server| {
        for line in [&b"\0\r\n"[..], b"ECHO a\0b\r\n", b"ECHO \"a\0\"\r\n"] {
            drop(expect_waiting(server.port, line));
            assert_ping(server.port, PROMPT);
        }
        let mut long = b"ECHO \0\r\n".to_vec();
        long.resize(64 * 1024 + 1, b'a');
        expect_protocol_error(server.port, &long, "too big inline request");
    });
}

/// Redis ends a multibulk or bulk header line at its first CR, whatever byte follows it (that
/// byte is skipped as if it were the LF).
#[test]
fn header_line_ends_at_first_cr() {
    on_both(&[], |server| {
        let (got, _) = exchange_and_hang_up(server.port, b"*1\rX$4\r\nPING\r\n", CLOSE_WITHIN);
        assert_reply(&got, b"+PONG\r\n", "*1 CR X");
        let (got, _) = exchange_and_hang_up(server.port, b"*1\r\n$4\rXPING\r\n", CLOSE_WITHIN);
        assert_reply(&got, b"+PONG\r\n", "$4 CR X");
        expect_protocol_error(server.port, b"*x\ry", "invalid multibulk length");
        expect_protocol_error(server.port, b"*1\r\n$x\ry", "invalid bulk length");
    });
}

/// Error texts quote the client's bytes as they are (C strings: up to the first NUL), not
/// re-encoded as UTF-8.
#[test]
fn error_texts_quote_raw_bytes() {
    on_both(&[], |server| {
        let mut conn = server.connect();
        let reply = conn.call(&[&b"\xc0\xff"[..]]).unwrap();
        let want = b"-ERR unknown command '\xc0\xff', with args beginning with: \r\n";
        assert_reply(&reply.bytes(), want, "non-UTF-8 command name");
        let reply = conn.call(&[&b"a\0b"[..], b"c\0d"]).unwrap();
        let want = b"-ERR unknown command 'a', with args beginning with: 'c' \r\n";
        assert_reply(&reply.bytes(), want, "NUL in command name");
        let reply = conn.call(&[&b"CONFIG"[..], b"\xc0\0x"]).unwrap();
        let want = b"-ERR unknown subcommand '\xc0'. Try CONFIG HELP.\r\n";
        assert_reply(&reply.bytes(), want, "non-UTF-8 subcommand");
    });
}
