//! Redis's own command-line tools against strata-server: redis-cli (arguments, --raw/--no-raw,
//! -n, -x, -r, --pipe, commands on stdin) and redis-benchmark. The tools must be installed
//! (redis-tools 7.0; ./tools/test.sh installs them): a missing tool fails, it is never skipped.
//!
//! Outputs are Redis's: run with `STRATA_SERVER=$(which redis-server)` to check them.
mod support;

use std::process::Output;
use std::time::Duration;
use support::proc::run_tool;
use support::{escape, ours_binary, TestServer};

/// Generous: every invocation here takes milliseconds on a healthy server.
const LIMIT: Duration = Duration::from_secs(30);

fn start() -> TestServer {
    TestServer::start(&ours_binary())
}

/// Runs `redis-cli -p <port> args...` with `stdin`; returns its output after checking it exited.
fn cli_with_stdin(server: &TestServer, args: &[&str], stdin: &[u8]) -> Output {
    let port = server.port.to_string();
    let mut all = vec!["-p", &port];
    all.extend_from_slice(args);
    run_tool("redis-cli", &all, stdin, LIMIT)
}

/// redis-cli's standard output for `args`, which must succeed.
fn cli(server: &TestServer, args: &[&str]) -> String {
    let out = cli_with_stdin(server, args, b"");
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {}\nstdout: {}\nstderr: {}",
        out.status,
        escape(&out.stdout),
        escape(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn cli_with_arguments() {
    let server = start();
    assert_eq!(cli(&server, &["SET", "a", "b"]), "OK\n");
    assert_eq!(cli(&server, &["GET", "a"]), "b\n");
    // Output to a pipe is raw by default; --no-raw forces the terminal formatting.
    assert_eq!(cli(&server, &["--raw", "GET", "a"]), "b\n");
    assert_eq!(cli(&server, &["--no-raw", "GET", "a"]), "\"b\"\n");
    assert_eq!(cli(&server, &["--no-raw", "GET", "missing"]), "(nil)\n");
    assert_eq!(cli(&server, &["--raw", "GET", "missing"]), "\n");
    assert_eq!(cli(&server, &["--no-raw", "EXISTS", "a", "a"]), "(integer) 2\n");
    // Arguments are passed as they are, spaces and all.
    assert_eq!(cli(&server, &["SET", "with space", "x\ty"]), "OK\n");
    assert_eq!(cli(&server, &["--no-raw", "GET", "with space"]), "\"x\\ty\"\n");
    // -n selects the database first.
    assert_eq!(cli(&server, &["-n", "2", "SET", "x", "y"]), "OK\n");
    assert_eq!(cli(&server, &["-n", "2", "GET", "x"]), "y\n");
    assert_eq!(cli(&server, &["--no-raw", "GET", "x"]), "(nil)\n");
    assert_eq!(cli(&server, &["-n", "2", "DBSIZE"]), "1\n");
    assert_eq!(cli(&server, &["DBSIZE"]), "2\n");
    // -x: the last argument comes from standard input.
    let out = cli_with_stdin(&server, &["-x", "SET", "from-stdin"], b"hello\0world");
    assert!(out.status.success());
    assert_eq!(cli(&server, &["--no-raw", "GET", "from-stdin"]), "\"hello\\x00world\"\n");
    // -r repeats a command.
    assert_eq!(cli(&server, &["-r", "3", "PING"]), "PONG\nPONG\nPONG\n");
    // Errors are printed, not fatal.
    let out = cli_with_stdin(&server, &["--no-raw", "NOSUCH"], b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "(error) ERR unknown command 'NOSUCH', with args beginning with: \n"
    );
}

#[test]
fn cli_reads_commands_from_stdin() {
    let server = start();
    let script = b"SET a 1\nGET a\nSET \"x y\" \"a\\x00b\"\nGET \"x y\"\nSELECT 2\nGET a\nNOSUCH\nSET a\nPING\n";
    let out = cli_with_stdin(&server, &[], script);
    assert!(out.status.success(), "{}", escape(&out.stderr));
    let want = concat!(
        "OK\n",
        "1\n",
        "OK\n",
        "a\0b\n",
        "OK\n",
        "\n",
        "ERR unknown command 'NOSUCH', with args beginning with: \n\n",
        "ERR wrong number of arguments for 'set' command\n\n",
        "PONG\n"
    );
    assert_eq!(escape(&out.stdout), escape(want.as_bytes()));
    // The same with the terminal formatting.
    let out = cli_with_stdin(&server, &["--no-raw"], b"GET \"x y\"\nGET nope\nDEL a a\n");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "\"a\\x00b\"\n(nil)\n(integer) 1\n");
}

#[test]
fn cli_pipe_mode_with_100k_commands() {
    const N: usize = 100_000;
    let server = start();
    let mut input = Vec::with_capacity(N * 40);
    for i in 0..N {
        let (key, value) = (format!("key:{i}"), format!("value:{i}"));
        input.extend(support::encode_command(&["SET", &key, &value]));
    }
    let out = cli_with_stdin(&server, &["--pipe"], &input);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "redis-cli --pipe: {}\n{stdout}\n{}", out.status, escape(&out.stderr));
    assert!(stdout.contains(&format!("errors: 0, replies: {N}")), "summary missing: {stdout}");
    assert_eq!(cli(&server, &["DBSIZE"]), format!("{N}\n"));
    assert_eq!(cli(&server, &["GET", "key:99999"]), "value:99999\n");
    // Errors are counted, not fatal; inline commands work too.
    let out = cli_with_stdin(&server, &["--pipe"], b"SET x 1\r\nNOSUCH\r\nGET x\r\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("errors: 1, replies: 3"), "summary missing: {stdout}");
}

/// The lines redis-benchmark printed with -q, progress updates (ended by CR) dropped.
fn benchmark_results(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .split('\n')
        .filter_map(|line| line.rsplit('\r').next())
        .map(|line| line.trim().to_string())
        .filter(|line| !line.is_empty())
        .collect()
}

fn benchmark(server: &TestServer, extra: &[&str]) -> Output {
    let port = server.port.to_string();
    let mut args = vec!["-p", &port, "-t", "set,get", "-n", "20000", "-c", "20", "-q"];
    args.extend_from_slice(extra);
    run_tool("redis-benchmark", &args, b"", LIMIT)
}

/// Exit status 0 and one "requests per second" line per test; no timing is judged.
fn assert_benchmark_ran(out: &Output, tests: &[&str]) {
    let lines = benchmark_results(out);
    assert!(out.status.success(), "redis-benchmark: {}\n{lines:#?}\n{}", out.status, escape(&out.stderr));
    for test in tests {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{test}: ")) && l.contains("requests per second")),
            "no result line for {test}: {lines:#?}"
        );
    }
}

#[test]
fn benchmark_set_get() {
    let server = start();
    let out = benchmark(&server, &[]);
    assert_benchmark_ran(&out, &["SET", "GET"]);
    // Without -r every request uses the one key "key:__rand_int__".
    assert_eq!(cli(&server, &["DBSIZE"]), "1\n");
    // Its values are 3 bytes by default (-d).
    let value = cli(&server, &["GET", "key:__rand_int__"]);
    assert_eq!(value.len(), "xxx\n".len(), "{value:?}");
}

#[test]
fn benchmark_pipelined_with_random_keys() {
    let server = start();
    let out = benchmark(&server, &["-P", "16", "-r", "1000"]);
    assert_benchmark_ran(&out, &["SET", "GET"]);
    let keys: usize = cli(&server, &["DBSIZE"]).trim().parse().unwrap();
    assert!(keys > 1 && keys <= 1000, "{keys} keys");
}

/// redis-benchmark reads `save` and `appendonly` with CONFIG GET before it starts, and warns
/// when it cannot.
#[test]
fn benchmark_fetches_server_config() {
    let server = start();
    let out = benchmark(&server, &["-n", "100"]);
    assert_benchmark_ran(&out, &["SET", "GET"]);
    let all = [out.stdout.as_slice(), &out.stderr].concat();
    assert!(!String::from_utf8_lossy(&all).contains("Could not fetch server CONFIG"), "{}", escape(&all));
}

/// More of the benchmark's tests; it stops at the first error reply.
#[test]
fn benchmark_string_commands() {
    let server = start();
    let port = server.port.to_string();
    let args = ["-p", &port, "-t", "ping,incr,mset", "-n", "5000", "-q"];
    let out = run_tool("redis-benchmark", &args, b"", LIMIT);
    assert_benchmark_ran(&out, &["PING_INLINE", "PING_MBULK", "INCR", "MSET (10 keys)"]);
}
