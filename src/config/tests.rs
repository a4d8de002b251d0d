//! Tests of loading (files, quoting, units, includes, errors), CONFIG GET,
//! CONFIG SET and CONFIG REWRITE, checked against what Redis 7.0.15 does.
//!
//! Invariant: no test changes the process's working directory or depends on
//! it, so they can all run in parallel; files live in temporary directories.

use std::path::Path;

use super::load::{self, LoadOptions};
use super::*;

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn load_args(a: &[&str]) -> Result<Config, ConfigError> {
    load::from_args(&args(a), &mut std::io::empty(), LoadOptions::default())
}

/// Writes `text` to a config file in a fresh temporary directory.
fn conf_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strata.conf");
    std::fs::write(&path, text).unwrap();
    (dir, path.to_string_lossy().into_owned())
}

/// Loads `text` as a config file followed by command-line `extra`.
fn load_conf(text: &str, extra: &[&str]) -> (tempfile::TempDir, Result<Config, ConfigError>) {
    let (dir, path) = conf_file(text);
    let mut a = vec![path.as_str()];
    a.extend_from_slice(extra);
    let cfg = load_args(&a);
    (dir, cfg)
}

fn ok_conf(text: &str) -> Config {
    let (_dir, cfg) = load_conf(text, &[]);
    cfg.unwrap_or_else(|e| panic!("{e}"))
}

fn err_conf(text: &str) -> String {
    let (_dir, cfg) = load_conf(text, &[]);
    cfg.expect_err("should fail").message
}

fn get1(cfg: &Config, name: &str) -> String {
    let got = cfg.get(name.as_bytes());
    assert_eq!(got.len(), 1, "{name}: {got:?}");
    got[0].1.clone()
}

fn set(cfg: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, String> {
    let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())).collect();
    cfg.set(&pairs)
}

fn set_err(name: &str, value: &str) -> String {
    set(&mut Config::default(), &[(name, value)]).expect_err("should fail")
}

fn banner() -> String {
    format!("*** FATAL CONFIG FILE ERROR (Strata {}) ***", env!("CARGO_PKG_VERSION"))
}

// ---------------------------------------------------------------- defaults

#[test]
fn defaults_match_redis() {
    let c = Config::default();
    assert_eq!(c.port, 6379);
    assert_eq!(c.bind, ["*", "-::*"]);
    assert!(c.protected_mode);
    assert_eq!(c.requirepass, None);
    assert_eq!(c.databases, 16);
    assert_eq!(c.hz, 10);
    assert_eq!(c.maxclients, 10000);
    assert_eq!(c.proto_max_bulk_len, 512 << 20);
    assert_eq!(c.client_query_buffer_limit, 1 << 30);
    assert_eq!((c.timeout, c.tcp_keepalive), (0, 300));
    assert!(!c.daemonize);
    assert_eq!(c.pidfile, None);
    assert_eq!(c.logfile, "");
    assert_eq!(c.loglevel, LogLevel::Notice);
    assert_eq!(c.dir, ".");
    assert_eq!(c.dbfilename, "dump.rdb");
    assert_eq!(c.notify_keyspace_events, "");
    assert_eq!(c.enable_debug_command, "no");
    assert!(c.active_expire_enabled);
    assert_eq!(c.save_params, [(3600, 1), (300, 100), (60, 10000)]);
    assert_eq!(c.appendfsync, AppendFsync::Everysec);
    assert_eq!(c.appendfilename, "appendonly.aof");
    assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::NoEviction);
    assert_eq!(c.list_max_listpack_size, -2);
    assert_eq!(c.slowlog_log_slower_than, 10000);
    assert_eq!(c.busy_reply_threshold, 5000);
    assert_eq!(c.client_output_buffer_limit[1].hard_bytes, 256 << 20);
}

#[test]
fn empty_command_line_gives_defaults_with_absolute_dir() {
    let c = load_args(&[]).unwrap();
    assert_eq!(c.port, 6379);
    assert!(Path::new(&c.dir).is_absolute());
    assert_eq!(c.config_file, None);
}

// ----------------------------------------------------------------- parsing

#[test]
fn reads_comments_quotes_units_and_booleans() {
    let c = ok_conf(
        "# a comment\n\
         \t  # indented comment\n\
         \n\
         PORT 7000\n\
         requirepass \"a b\\x41\\n\"\n\
         pidfile '/tmp/x y.pid'\n\
         maxmemory 2MB\n\
         proto-max-bulk-len 2g\n\
         client-query-buffer-limit 1024kb\n\
         daemonize YES\n\
         protected-mode No\n\
         loglevel WARNING\n\
         bind 127.0.0.1 ::1\n\
         notify-keyspace-events KEA\r\n",
    );
    assert_eq!(c.port, 7000);
    assert_eq!(c.requirepass.as_deref(), Some(&b"a bA\n"[..]));
    assert_eq!(c.pidfile.as_deref(), Some("/tmp/x y.pid"));
    assert_eq!(c.maxmemory, 2 << 20);
    assert_eq!(c.proto_max_bulk_len, 2_000_000_000);
    assert_eq!(c.client_query_buffer_limit, 1 << 20);
    assert!(c.daemonize);
    assert!(!c.protected_mode);
    assert_eq!(c.loglevel, LogLevel::Warning);
    assert_eq!(c.bind, ["127.0.0.1", "::1"]);
    assert_eq!(c.notify_keyspace_events, "KEA");
    assert_eq!(c.notify_keyspace_events_canonical(), "AKE");
    assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
}

#[test]
fn save_lines_replace_then_accumulate_and_empty_resets() {
    let c = ok_conf("save 100 1\nsave 200 2 300 3\n");
    assert_eq!(c.save_params, [(100, 1), (200, 2), (300, 3)]);
    assert_eq!(get1(&c, "save"), "100 1 200 2 300 3");
    assert!(ok_conf("save 5 5\nsave \"\"\n").save_params.is_empty());
    assert_eq!(ok_conf("save \"\"\nsave 5 5\n").save_params, [(5, 5)]);
    assert!(ok_conf("save\n").save_params.is_empty());
    let (_d, c) = load_conf("save 5 5\n", &["--save", "7", "7"]);
    assert_eq!(c.unwrap().save_params, [(5, 5), (7, 7)]);
    let (_d, c) = load_conf("save 5 5\n", &["--save"]);
    assert!(c.unwrap().save_params.is_empty());
    for bad in ["save 5", "save 0 5", "save 5 -1", "save 5 5 6", "save a 1", "save \"\" \"\""] {
        assert!(err_conf(bad).ends_with("\nInvalid save parameters"), "{bad}");
    }
}

#[test]
fn multi_argument_directives() {
    let c = ok_conf(
        "client-output-buffer-limit normal 0 0 0\n\
         client-output-buffer-limit replica 256mb 64mb 60\n\
         client-output-buffer-limit pubsub 32mb 8mb 60 normal 1k 2kb 3\n\
         oom-score-adj-values 0 200 800\n\
         latency-tracking-info-percentiles 50 99.90 100\n\
         shutdown-on-sigterm nosave NOW\n",
    );
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 1000 2048 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99.9 100");
    assert_eq!(get1(&c, "shutdown-on-sigterm"), "nosave now");
    assert_eq!(get1(&c, "oom-score-adj-values"), "0 200 800");
}

#[test]
fn old_names_set_the_new_directive() {
    let c = ok_conf(
        "slave-read-only no\nhash-max-ziplist-entries 7\nzset-max-ziplist-value 9\n\
         list-max-ziplist-size 5\nslave-serve-stale-data no\nslave-priority 3\n\
         lua-time-limit 100\nmin-slaves-to-write 2\n",
    );
    assert_eq!(get1(&c, "replica-read-only"), "no");
    assert_eq!(c.hash_max_listpack_entries, 7);
    assert_eq!(c.zset_max_listpack_value, 9);
    assert_eq!(c.list_max_listpack_size, 5);
    assert_eq!(get1(&c, "replica-serve-stale-data"), "no");
    assert_eq!(get1(&c, "slave-priority"), "3");
    assert_eq!(c.busy_reply_threshold, 100);
    assert_eq!(get1(&c, "min-replicas-to-write"), "2");
}

#[test]
fn hz_is_clamped_like_redis() {
    assert_eq!(ok_conf("hz 0\n").hz, 1);
    assert_eq!(ok_conf("hz 1000\n").hz, 500);
}

#[test]
fn deprecated_directives_are_ignored() {
    ok_conf("list-max-ziplist-entries 5\nlist-max-ziplist-value 6\nlua-replicate-commands yes\n");
    let e = err_conf("list-max-ziplist-entries 5 6\n");
    assert!(e.ends_with("Bad directive or wrong number of arguments"));
}

#[test]
fn rename_command_and_user_are_kept_with_their_origin() {
    let (_d, path) = conf_file("port 1\nrename-command FLUSHALL \"\"\nuser bob on >pw ~* +@all\n");
    let c = load_args(&[&path]).unwrap();
    assert_eq!(c.rename_commands.len(), 1);
    let r = &c.rename_commands[0];
    assert_eq!((r.from.as_slice(), r.to.as_slice()), (&b"FLUSHALL"[..], &b""[..]));
    assert_eq!(r.origin.line, 2);
    assert_eq!(r.origin.source, Source::File(path.clone().into()));
    let msg = ConfigError::at(&r.origin, "No such command in rename-command").message;
    assert!(msg.contains(">>> 'rename-command FLUSHALL \"\"'\nNo such command"), "{msg}");
    assert_eq!(c.users[0].args[0], b"bob");
    assert_eq!(c.users[0].args.len(), 5);
}

#[test]
fn stdin_is_read_between_file_and_options() {
    let (_d, path) = conf_file("port 1\n");
    let mut input: &[u8] = b"port 2\nhz 20\n";
    let a = args(&[&path, "--hz", "30", "-"]);
    let c = load::from_args(&a, &mut input, LoadOptions::default()).unwrap();
    assert_eq!((c.port, c.hz), (2, 30));
    assert!(c.config_file.is_some());
    let mut input: &[u8] = b"port x\n";
    let e = load::from_args(&args(&["-"]), &mut input, LoadOptions::default()).unwrap_err();
    assert!(e.message.contains("at line 1 of standard input\n>>> 'port x'"), "{e}");
}

#[test]
fn command_line_options_follow_redis_rules() {
    let c = load_args(&["--port", "7001", "--bind", "1.2.3.4", "5.6.7.8", "--save", "--hz", "20"]);
    let c = c.unwrap();
    assert_eq!(c.port, 7001);
    assert_eq!(c.bind, ["1.2.3.4", "5.6.7.8"]);
    assert!(c.save_params.is_empty());
    assert_eq!(c.hz, 20);
    let c = load_args(&["--port 7002", "--requirepass", "p w"]).unwrap();
    assert_eq!((c.port, c.requirepass.as_deref()), (7002, Some(&b"p w"[..])));
}

// ------------------------------------------------------------------ errors

#[test]
fn bad_directive_names_file_and_line() {
    let (_d, path) = conf_file("port 7000\nfoo \"bar\"\n");
    let e = load_args(&[&path]).unwrap_err();
    let want = format!(
        "{}\nReading the configuration file, at line 2 of '{path}'\n>>> 'foo \"bar\"'\n\
         Bad directive or wrong number of arguments",
        banner()
    );
    assert_eq!(e.message, want);
    assert_eq!(e.to_string(), want);
}

#[test]
fn option_errors_count_lines_after_the_file() {
    let e = load_args(&["--foo", "bar"]).unwrap_err().message;
    assert!(e.contains("at line 2 of the command-line options\n>>> 'foo \"bar\"'\nBad directive"));
    let (_d, e) = load_conf("port 7000\n", &["--port", "abc"]);
    let e = e.unwrap_err().message;
    assert!(
        e.ends_with(
            "at line 3 of the command-line options\n>>> 'port \"abc\"'\n\
                         argument couldn't be parsed into an integer"
        ),
        "{e}"
    );
    let (_d, e) = load_conf("port 7000", &["--hz", "5", "--port", "abc"]);
    assert!(e.unwrap_err().message.contains("at line 3 of the command-line options"));
    let e = load_args(&["--hz", "--port", "0"]).unwrap_err().message;
    assert!(e.ends_with(">>> 'hz \"--port\" \"0\"'\nwrong number of arguments"), "{e}");
}

#[test]
fn value_errors_use_redis_reasons() {
    let cases = [
        ("port 1 2", "wrong number of arguments"),
        ("port \"1", "Unbalanced quotes in configuration line"),
        ("port '1", "Unbalanced quotes in configuration line"),
        ("port 65536", "argument must be between 0 and 65535 inclusive"),
        ("daemonize maybe", "argument must be 'yes' or 'no'"),
        ("maxmemory 1.5gb", "argument must be a memory value"),
        ("maxmemory-clients -5%", "argument must be a memory or percent value"),
        ("maxmemory-clients 101%", "percentage argument must be less or equal to 100"),
        ("unixsocketperm 999", "argument couldn't be parsed as an octal number"),
        ("unixsocketperm 1000", "argument must be between 0 and 777 inclusive"),
        ("loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning"),
        ("dbfilename a/b", "dbfilename can't be a path, just a filename"),
        ("appendfilename \"\"", "appendfilename can't be empty"),
        ("appenddirname a/b", "appenddirname can't be a path, just a dirname"),
        ("notify-keyspace-events KEQ", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        ("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."),
        ("client-output-buffer-limit master 1 2 3", "Invalid client class specified in buffer limit configuration."),
        ("client-output-buffer-limit normal 1 2", "Wrong number of arguments in buffer limit configuration."),
        (
            "client-output-buffer-limit normal 1 2 -3",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
        ("oom-score-adj-values 0 200 3000", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."),
        ("shutdown-on-sigint save nosave", "shutdown options SAVE and NOSAVE can't be used simultaneously"),
        ("proc-title-template {title}", "template format is invalid or contains unknown variables"),
        ("cluster-announce-hostname a_b", "Hostnames may only contain alphanumeric characters, hyphens or dots"),
        (
            "latency-tracking-info-percentiles 101",
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
        ),
        ("include", "Bad directive or wrong number of arguments"),
        ("rename-command a", "Bad directive or wrong number of arguments"),
    ];
    for (line, reason) in cases {
        let e = err_conf(line);
        assert!(e.ends_with(&format!("\n>>> '{line}'\n{reason}")), "{line}: {e}");
    }
}

#[test]
fn unsupported_features_are_refused() {
    for line in [
        "replicaof 127.0.0.1 6379",
        "slaveof no one",
        "cluster-enabled yes",
        "tls-port 6380",
        "loadmodule /x/mod.so",
        "sentinel monitor m 127.0.0.1 6379 2",
        "sentinel",
        "mymodule.setting 5",
    ] {
        assert!(err_conf(line).ends_with("not supported yet"), "{line}");
    }
    let c = ok_conf(
        "cluster-enabled no\ntls-port 0\nrepl-diskless-sync no\nreplica-read-only no\n\
         cluster-config-file n.conf\nunixsocket /tmp/strata.sock\nmasterauth x\n",
    );
    assert_eq!(get1(&c, "cluster-config-file"), "n.conf");
    assert_eq!(c.unixsocket.as_deref(), Some("/tmp/strata.sock"));
}

#[test]
fn missing_files_and_directories_are_reported() {
    let e = load_args(&["/nonexistent/strata.conf"]).unwrap_err().message;
    assert_eq!(e, "Fatal error, can't open config file '/nonexistent/strata.conf': No such file or directory");
    let e = err_conf("dir /nonexistent-strata-dir\n");
    assert!(e.ends_with(">>> 'dir /nonexistent-strata-dir'\nNo such file or directory"));
    let e = err_conf("logfile /nonexistent-strata-dir/x.log\n");
    assert_eq!(e, format!("{}\nCan't open the log file: No such file or directory", banner()));
}

// ---------------------------------------------------------------- includes

#[test]
fn includes_resolve_against_dir_and_expand_globs() {
    let root = tempfile::tempdir().unwrap();
    let conf_d = root.path().join("conf.d");
    std::fs::create_dir(&conf_d).unwrap();
    std::fs::write(conf_d.join("a.conf"), "hz 11\n").unwrap();
    // Relative includes follow the working directory (here set by `dir`),
    // not the including file's location, as in Redis.
    std::fs::write(conf_d.join("b.conf"), "hz 12\ninclude leaf.conf\n").unwrap();
    std::fs::write(conf_d.join(".hidden.conf"), "hz 99\n").unwrap();
    std::fs::write(conf_d.join("c.txt"), "hz 98\n").unwrap();
    std::fs::write(root.path().join("leaf.conf"), "timeout 7\n").unwrap();
    let main = format!("dir {}\ninclude conf.d/*.conf\ninclude nothing-*.conf\nport 1\n", root.path().display());
    let (_d, c) = load_conf(&main, &[]);
    let c = c.unwrap();
    assert_eq!((c.hz, c.timeout, c.port), (12, 7, 1));
    let main = format!("dir {}\ninclude b.conf\n", conf_d.display());
    let e = err_conf(&main);
    assert_eq!(e, "Fatal error, can't open config file 'leaf.conf': No such file or directory");
}

#[test]
fn include_errors_point_into_the_included_file() {
    let root = tempfile::tempdir().unwrap();
    let inc = root.path().join("inc.conf");
    std::fs::write(&inc, "\nhz nope\n").unwrap();
    let e = err_conf(&format!("port 1\ninclude {}\n", inc.display()));
    assert!(e.contains(&format!("at line 2 of '{}'\n>>> 'hz nope'", inc.display())), "{e}");
    let e = err_conf("include /nonexistent-strata.conf\n");
    assert!(e.starts_with("Fatal error, can't open config file '/nonexistent-strata.conf'"));
}

#[test]
fn include_loops_stop() {
    let root = tempfile::tempdir().unwrap();
    let me = root.path().join("loop.conf");
    std::fs::write(&me, format!("include {}\n", me.display())).unwrap();
    let e = load_args(&[me.to_str().unwrap()]).unwrap_err().message;
    assert!(e.contains("include nesting is deeper than 16 levels"), "{e}");
}

#[test]
fn debian_stock_config_loads() {
    let path = "/etc/redis/redis.conf";
    if !Path::new(path).exists() {
        println!("note: {path} is absent; skipping the stock redis.conf test");
        return;
    }
    // Paths in that file belong to a system install; load without touching them.
    let opts = LoadOptions { check_paths: false };
    let c = load::from_args(&args(&[path]), &mut std::io::empty(), opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.port, 6379);
    assert_eq!(c.bind, ["127.0.0.1", "-::1"]);
    assert_eq!(c.save_params, [(3600, 1), (300, 100), (60, 10000)]);
    assert_eq!(c.dir, "/var/lib/redis");
}

// --------------------------------------------------------------- CONFIG GET

#[test]
fn get_exact_names_keep_the_given_spelling() {
    let c = Config::default();
    assert_eq!(c.get(b"HZ"), [("HZ".to_string(), "10".to_string())]);
    assert_eq!(c.get(b"slave-read-only"), [("slave-read-only".into(), "yes".into())]);
    assert_eq!(c.get(b"key-load-delay"), [("key-load-delay".into(), "0".into())]);
    assert!(c.get(b"no-such").is_empty());
    assert!(c.get(b"include").is_empty());
}

#[test]
fn get_patterns_list_aliases_but_not_hidden_names() {
    let c = Config::default();
    let names: Vec<String> = c.get(b"*zip*").into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "hash-max-ziplist-entries",
            "hash-max-ziplist-value",
            "list-max-ziplist-size",
            "zset-max-ziplist-entries",
            "zset-max-ziplist-value"
        ]
    );
    assert!(c.get(b"key-load-*").is_empty());
    assert_eq!(c.get(b"*").len(), 192);
    assert_eq!(c.get(b"MAXMEMORY").len(), 1);
    assert_eq!(c.get(b"MAXMEMORY*").len(), 5);
}

#[test]
fn get_formats_values_like_redis() {
    let c = Config::default();
    assert_eq!(get1(&c, "bind"), "* -::*");
    assert_eq!(get1(&c, "save"), "3600 1 300 100 60 10000");
    assert_eq!(get1(&c, "maxmemory"), "0");
    assert_eq!(get1(&c, "proto-max-bulk-len"), "536870912");
    assert_eq!(get1(&c, "unixsocketperm"), "0");
    assert_eq!(get1(&c, "appendfsync"), "everysec");
    assert_eq!(get1(&c, "oom-score-adj-values"), "0 200 800");
    assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99 99.9");
    assert_eq!(get1(&c, "shutdown-on-sigint"), "default");
    assert_eq!(get1(&c, "replicaof"), "");
    assert!(Path::new(&get1(&c, "dir")).is_absolute());
}

// --------------------------------------------------------------- CONFIG SET

fn fails(name: &str, reason: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
}

#[test]
fn set_changes_typed_fields_and_reports_changes() {
    let mut c = Config::default();
    let changed = set(&mut c, &[("maxmemory", "1gb"), ("hz", "10"), ("appendonly", "yes")]);
    assert_eq!(changed.unwrap(), ["maxmemory", "appendonly"]);
    assert_eq!(c.maxmemory, 1 << 30);
    assert!(c.appendonly);
    assert_eq!(get1(&c, "maxmemory"), "1073741824");
    set(&mut c, &[("save", "10 1 20 2"), ("bind", "127.0.0.1 ::1")]).unwrap();
    assert_eq!(c.save_params, [(10, 1), (20, 2)]);
    assert_eq!(c.bind, ["127.0.0.1", "::1"]);
    set(&mut c, &[("save", ""), ("notify-keyspace-events", "Ex")]).unwrap();
    assert!(c.save_params.is_empty());
    assert_eq!(get1(&c, "notify-keyspace-events"), "xE");
    set(&mut c, &[("hz", "1000"), ("maxmemory-policy", "ALLKEYS-LRU")]).unwrap();
    assert_eq!(c.hz, 500);
    assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
    set(&mut c, &[("client-output-buffer-limit", "replica 1 2 3")]).unwrap();
    assert_eq!(c.client_output_buffer_limit[1].soft_seconds, 3);
    assert_eq!(c.client_output_buffer_limit[2].hard_bytes, 32 << 20);
}

#[test]
fn direct_field_changes_show_in_get() {
    let mut c = Config { port: 1234, ..Config::default() };
    assert_eq!(get1(&c, "port"), "1234");
    c.requirepass = Some(b"pw".to_vec());
    assert_eq!(get1(&c, "requirepass"), "pw");
}

#[test]
fn set_error_texts_match_redis() {
    let unknown = "ERR Unknown option or number of arguments for CONFIG SET - 'foo'";
    assert_eq!(set_err("foo", "bar"), unknown);
    assert_eq!(set_err("DAEMONIZE", "yes"), fails("DAEMONIZE", "can't set immutable config"));
    assert_eq!(set_err("enable-debug-command", "yes"), fails("enable-debug-command", "can't set immutable config"));
    assert_eq!(set_err("dir", "/tmp"), fails("dir", "can't set protected config"));
    assert_eq!(set_err("dbfilename", "x.rdb"), fails("dbfilename", "can't set protected config"));
    assert_eq!(set_err("port", "abc"), fails("port", "argument couldn't be parsed into an integer"));
    assert_eq!(set_err("timeout", "-1"), fails("timeout", "argument must be between 0 and 2147483647 inclusive"));
    assert_eq!(set_err("SLAVE-READ-ONLY", "maybe"), fails("slave-read-only", "argument must be 'yes' or 'no'"));
    assert_eq!(set_err("maxmemory", "1zz"), fails("maxmemory", "argument must be a memory value"));
    assert_eq!(
        set_err("maxmemory-policy", "lru"),
        fails("maxmemory-policy", "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")
    );
    assert_eq!(set_err("save", "1 2 "), fails("save", "Invalid save parameters"));
    assert_eq!(
        set_err("oom-score-adj-values", "0  200 800"),
        fails("oom-score-adj-values", "wrong number of arguments")
    );
    assert_eq!(set_err("tls-port", "6380"), fails("tls-port", "TLS (a non-zero tls-port) is not supported yet"));
    assert_eq!(set_err("replicaof", "no one"), fails("replicaof", "can't set immutable config"));
}

#[test]
fn set_reports_the_first_problem_in_argument_order() {
    let mut c = Config::default();
    let e = set(&mut c, &[("daemonize", "yes"), ("foo", "bar")]).unwrap_err();
    assert_eq!(e, fails("daemonize", "can't set immutable config"));
    let e = set(&mut c, &[("foo", "bar"), ("daemonize", "yes")]).unwrap_err();
    assert!(e.starts_with("ERR Unknown option"));
    let e = set(&mut c, &[("hz", "5"), ("timeout", "-1"), ("daemonize", "yes")]).unwrap_err();
    assert_eq!(e, fails("daemonize", "can't set immutable config"), "names are checked first");
    let e = set(&mut c, &[("HZ", "5"), ("hz", "6")]).unwrap_err();
    assert_eq!(e, fails("hz", "duplicate parameter"));
}

#[test]
fn set_is_all_or_nothing() {
    let mut c = Config::default();
    let e = set(&mut c, &[("maxmemory", "5mb"), ("timeout", "x")]);
    assert!(e.is_err());
    assert_eq!(c.maxmemory, 0);
    assert_eq!(get1(&c, "maxmemory"), "0");
}

#[test]
fn old_and_new_names_may_both_be_set_in_one_call() {
    let mut c = Config::default();
    set(&mut c, &[("slave-priority", "3"), ("replica-priority", "4")]).unwrap();
    assert_eq!(get1(&c, "replica-priority"), "4");
}

#[test]
fn protected_directives_follow_enable_protected_configs() {
    let dir = tempfile::tempdir().unwrap();
    let real = std::fs::canonicalize(dir.path()).unwrap();
    let mut c = Config { enable_protected_configs: "local".into(), ..Config::default() };
    let pair = [(&b"dir"[..], real.to_str().unwrap().as_bytes())];
    assert!(c.set_from(&pair, false).is_err());
    assert_eq!(c.set_from(&pair, true).unwrap(), ["dir"]);
    assert_eq!(c.dir, real.to_str().unwrap());
    c.enable_protected_configs = "yes".into();
    let e = set(&mut c, &[("dir", "/nonexistent-strata")]).unwrap_err();
    assert_eq!(e, fails("dir", "No such file or directory"));
}

// ----------------------------------------------------------- CONFIG REWRITE

fn rewritten(original: &str, pairs: &[(&str, &str)]) -> String {
    let (dir, path) = conf_file(original);
    let mut c = load_args(&[&path]).unwrap_or_else(|e| panic!("{e}"));
    set(&mut c, pairs).unwrap();
    c.rewrite().unwrap();
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file is left behind");
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn rewrite_updates_in_place_and_appends_after_the_marker() {
    let original = "# top comment\nport 7000\n  # indented\nslave-read-only no\nsave 100 1\n\
                    save 200 2\nhz 20\nlist-max-ziplist-entries 5\nmaxmemory 1gb\n\
                    rename-command FLUSHALL \"\"\n\n\n\ntimeout 5\nloglevel   warning\n";
    let out = rewritten(
        original,
        &[("hz", "10"), ("maxmemory", "3000000"), ("maxmemory-policy", "allkeys-lru"), ("save", "300 3")],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        &lines[..14],
        [
            "# top comment",
            "port 7000",
            "# indented",
            "replica-read-only no",
            "save 300 3",
            "",
            "hz 10",
            "# ??? list-max-ziplist-entries 5",
            "maxmemory 3000000",
            "rename-command FLUSHALL \"\"",
            "",
            "timeout 5",
            "loglevel warning",
            "",
        ]
    );
    assert_eq!(lines[14], "# Generated by CONFIG REWRITE");
    assert!(lines.contains(&"maxmemory-policy allkeys-lru"));
    assert!(lines.iter().any(|l| l.starts_with("dir \"/")));
    assert!(lines.contains(&"latency-tracking-info-percentiles 50 99 99.9"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("# Generated")).count(), 1);
}

#[test]
fn rewrite_keeps_default_values_present_in_the_file() {
    let out =
        rewritten("timeout 5\nhash-max-ziplist-entries 5\n", &[("timeout", "0"), ("hash-max-listpack-entries", "512")]);
    assert!(out.starts_with("timeout 0\nhash-max-listpack-entries 512\n"), "{out}");
}

#[test]
fn rewrite_quotes_strings_and_drops_unset_ones() {
    let out = rewritten(
        "masterauth secret\nbind * -::*\nunixsocketperm 700\n",
        &[
            ("masterauth", ""),
            ("requirepass", "a b\"c"),
            ("notify-keyspace-events", "KEA"),
            ("maxmemory-clients", "10%"),
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..4], ["", "unixsocketperm 700", "", "# Generated by CONFIG REWRITE"]);
    assert!(lines.contains(&"requirepass \"a b\\\"c\""));
    assert!(lines.contains(&"notify-keyspace-events \"AKE\""));
    assert!(lines.contains(&"maxmemory-clients 10%"));
    assert!(lines.contains(&"save 3600 1"));
}

#[test]
fn rewrite_result_loads_back_to_the_same_values() {
    let (_d, path) = conf_file("port 7000\n");
    let mut c = load_args(&[&path]).unwrap();
    set(
        &mut c,
        &[
            ("client-output-buffer-limit", "normal 1mb 2mb 3 pubsub 1 2 3"),
            ("bind", "127.0.0.1"),
            ("shutdown-on-sigint", "nosave now"),
            ("latency-tracking-info-percentiles", ""),
            ("requirepass", "p\n\"w"),
        ],
    )
    .unwrap();
    c.rewrite().unwrap();
    c.rewrite().unwrap();
    let again = load_args(&[&path]).unwrap();
    assert_eq!(again.get(b"*"), c.get(b"*"));
}

#[test]
fn rewrite_needs_a_config_file() {
    let c = Config::default();
    assert_eq!(c.rewrite().unwrap_err(), "ERR The server is running without a config file");
    let dir = tempfile::tempdir().unwrap();
    let c = Config { config_file: Some(dir.path().join("new.conf")), ..Config::default() };
    c.rewrite().unwrap();
    let out = std::fs::read_to_string(dir.path().join("new.conf")).unwrap();
    assert!(out.starts_with("# Generated by CONFIG REWRITE\n"));
    let c = Config { config_file: Some("/nonexistent-strata/x.conf".into()), ..Config::default() };
    assert!(c.rewrite().unwrap_err().starts_with("ERR Rewriting config file: "));
}

// ------------------------------------------------------------- robustness

#[test]
fn arbitrary_bytes_never_panic() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let alphabet = b" \t\r\n\"'\\x0aAzkm#-_*?[]^$%{}.\x00\xff";
    let words = ["port ", "save ", "bind ", "include ", "dir ", "client-output-buffer-limit "];
    for _ in 0..400 {
        let mut text = Vec::new();
        for _ in 0..40 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = (seed >> 33) as usize;
            if r.is_multiple_of(7) {
                text.extend_from_slice(words[r % words.len()].as_bytes());
            } else {
                text.push(alphabet[r % alphabet.len()]);
            }
        }
        let mut loader = load::Loader::new(LoadOptions { check_paths: false });
        let _ = loader.load_text(&text, &[(0, Source::CommandLine)]);
        let mut c = Config::default();
        let value = text.clone();
        for name in ["save", "bind", "client-output-buffer-limit", "notify-keyspace-events", "maxmemory"] {
            let _ = c.set(&[(name.as_bytes(), value.as_slice())]);
        }
        let _ = c.get(&text);
        let _ = glob_match(&text, b"client-output-buffer-limit", true);
    }
}

#[test]
fn docs_list_every_directive() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/config.md")).expect("docs/config.md");
    for (name, alias, _) in Config::directives() {
        assert!(doc.contains(&format!("`{name}`")), "docs/config.md lacks {name}");
        if let Some(alias) = alias {
            assert!(doc.contains(&format!("`{alias}`")), "docs/config.md lacks {alias}");
        }
    }
}
