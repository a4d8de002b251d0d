//! INFO against the reference Redis 7.0: the same sections, and in the
//! sections with fixed fields the same field names in the same order
//! (values differ by nature). Strata's own fields are named `strata_*`.
mod support;

use support::{Conn, TestServer};

/// (section header, field names) of an INFO reply.
fn sections(c: &mut Conn, args: &[&str]) -> Vec<(String, Vec<String>)> {
    let reply = c.call(args).unwrap();
    let text = String::from_utf8_lossy(reply.payload()).into_owned();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if let Some(h) = line.strip_prefix("# ") {
            out.push((h.to_string(), Vec::new()));
        } else {
            let name = line.split(':').next().unwrap().to_string();
            out.last_mut().expect("field before any section").1.push(name);
        }
    }
    out
}

#[test]
fn info_sections_and_fields_match_the_reference() {
    let ours_server = TestServer::start(&support::ours_binary());
    let ref_server = TestServer::start(&support::reference_binary());
    let (mut ours, mut theirs) = (ours_server.connect(), ref_server.connect());
    for c in [&mut ours, &mut theirs] {
        c.call(&["SET", "k", "v"]).unwrap();
        c.call(&["GET", "k"]).unwrap();
    }
    for args in [
        &["INFO"][..],
        &["INFO", "everything"],
        &["INFO", "all"],
        &["INFO", "default"],
        &["INFO", "keyspace", "server"],
    ] {
        let o = sections(&mut ours, args);
        let t = sections(&mut theirs, args);
        let heads = |s: &[(String, Vec<String>)]| s.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(heads(&o), heads(&t), "{args:?}");
        for ((name, of), (_, tf)) in o.iter().zip(&t) {
            // Per-command and per-database lines depend on what ran.
            if matches!(name.as_str(), "Commandstats" | "Latencystats" | "Errorstats" | "Keyspace") {
                continue;
            }
            let of: Vec<&String> = of.iter().filter(|f| !f.starts_with("strata_")).collect();
            let tf: Vec<&String> = tf.iter().collect();
            assert_eq!(of, tf, "{args:?}: fields of # {name}");
        }
    }
    let o = sections(&mut ours, &["INFO", "commandstats"]);
    assert!(o[0].1.contains(&"cmdstat_get".to_string()), "{o:?}");
    let o = sections(&mut ours, &["INFO", "latencystats"]);
    assert!(o[0].1.contains(&"latency_percentiles_usec_set".to_string()), "{o:?}");
}

#[test]
fn info_counters_follow_activity() {
    let server = TestServer::start(&support::ours_binary());
    let mut c = server.connect();
    let field = |c: &mut Conn, section: &str, name: &str| -> String {
        let reply = c.call(&["INFO", section]).unwrap();
        let text = String::from_utf8_lossy(reply.payload()).into_owned();
        let prefix = format!("{name}:");
        text.split("\r\n")
            .find_map(|l| l.strip_prefix(&prefix).map(String::from))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    let before: u64 = field(&mut c, "stats", "total_commands_processed").parse().unwrap();
    c.call(&["SET", "a", "1"]).unwrap();
    c.call(&["GET", "a"]).unwrap();
    c.call(&["GET", "missing"]).unwrap();
    let after: u64 = field(&mut c, "stats", "total_commands_processed").parse().unwrap();
    assert_eq!(after, before + 4, "INFO itself counts once it has run");
    assert_eq!(field(&mut c, "stats", "keyspace_hits"), "1");
    assert_eq!(field(&mut c, "stats", "keyspace_misses"), "1");
    assert_eq!(field(&mut c, "persistence", "rdb_changes_since_last_save"), "1");
    assert_eq!(field(&mut c, "clients", "connected_clients"), "1");
    let used: u64 = field(&mut c, "memory", "used_memory").parse().unwrap();
    let rss: u64 = field(&mut c, "memory", "used_memory_rss").parse().unwrap();
    assert!(used > 100_000 && rss > used / 2, "used {used} rss {rss}");
    let replid = field(&mut c, "replication", "master_replid");
    assert_eq!(replid.len(), 40);
    assert!(replid.bytes().all(|b| b.is_ascii_hexdigit()));
    let sys = field(&mut c, "cpu", "used_cpu_sys");
    assert!(sys.split_once('.').is_some_and(|(_, f)| f.len() == 6), "{sys}");
    c.call(&["NOSUCH"]).unwrap();
    let reply = c.call(&["INFO", "errorstats"]).unwrap();
    assert!(String::from_utf8_lossy(reply.payload()).contains("errorstat_ERR:count=1\r\n"));
    c.call(&["HELLO", "3"]).unwrap();
    let reply = c.call(&["INFO", "cluster"]).unwrap();
    assert_eq!(reply.bytes(), b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n");
}
