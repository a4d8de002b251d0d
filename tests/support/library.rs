//! Drives the command pipeline in-process (no server, no socket): runs
//! commands on a `State` with a manual clock and returns each reply with
//! what the call handed to the write path.

use strata::commands;
use strata::config::Config;
use strata::protocol::{Proto, ReplyBuf};
use strata::state::{Clock, State};

pub struct Harness {
    pub st: State,
    pub cid: u64,
}

impl Harness {
    /// A fresh state at `now_ms`, propagation on, nothing written yet.
    pub fn at(now_ms: i64) -> Self {
        let mut st = State::new(Config::default());
        st.prop.enabled = true;
        st.clock = Clock::Manual(now_ms);
        let cid = st.add_detached_client();
        Harness { st, cid }
    }

    /// Like `at`, with a first write done so that later writes do not
    /// start with a SELECT.
    pub fn warmed(now_ms: i64) -> Self {
        let mut h = Harness::at(now_ms);
        h.run(&["SET", "warm", "up"]);
        h
    }

    /// Runs a command; returns (reply bytes, propagated bytes).
    pub fn run(&mut self, args: &[&str]) -> (String, String) {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.run_bytes(&argv)
    }

    /// `run` for arguments that are not text (DUMP payloads).
    #[allow(dead_code)]
    pub fn run_bytes(&mut self, argv: &[&[u8]]) -> (String, String) {
        let mut out = ReplyBuf::new(Proto::Resp2);
        commands::process(&mut self.st, self.cid, argv, &mut out);
        let prop = self.st.prop.take();
        (String::from_utf8_lossy(&out.buf).into_owned(), String::from_utf8_lossy(&prop).into_owned())
    }

    /// Runs a command; returns only what it propagated.
    pub fn prop(&mut self, args: &[&str]) -> String {
        self.run(args).1
    }

    /// Moves the manual clock forward.
    pub fn advance_ms(&mut self, ms: i64) {
        if let Clock::Manual(t) = self.st.clock {
            self.st.clock = Clock::Manual(t + ms);
        }
    }
}

/// A command encoded as RESP, for comparisons.
pub fn resp(args: &[&str]) -> String {
    let mut s = format!("*{}\r\n", args.len());
    for a in args {
        s.push_str(&format!("${}\r\n{}\r\n", a.len(), a));
    }
    s
}
