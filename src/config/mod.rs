//! Server configuration: redis.conf-style files plus `--directive value`
//! overrides, validated into one `Config`.
//!
//! Invariant: every field of `Config` holds a validated value; nothing outside
//! this module parses configuration text.
//!
//! (Stub: the full parser, directive table, CONFIG GET/SET/REWRITE live here.)

use std::path::PathBuf;

/// What start-up or CONFIG SET rejected, with file and line where known.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    Nothing,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub config_file: Option<PathBuf>,
    pub port: u16,
    pub bind: Vec<String>,
    pub protected_mode: bool,
    pub requirepass: Option<Vec<u8>>,
    pub databases: usize,
    pub hz: u32,
    pub maxclients: usize,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub daemonize: bool,
    pub pidfile: Option<String>,
    pub logfile: String,
    pub loglevel: LogLevel,
    pub dir: String,
    pub dbfilename: String,
    /// The `notify-keyspace-events` flag string as configured (e.g. "KEA").
    pub notify_keyspace_events: String,
    /// "no", "yes" or "local".
    pub enable_debug_command: String,
    pub active_expire_enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            config_file: None,
            port: 6379,
            bind: vec!["*".into(), "-::*".into()],
            protected_mode: true,
            requirepass: None,
            databases: 16,
            hz: 10,
            maxclients: 10000,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            timeout: 0,
            tcp_keepalive: 300,
            daemonize: false,
            pidfile: None,
            logfile: String::new(),
            loglevel: LogLevel::Notice,
            dir: ".".into(),
            dbfilename: "dump.rdb".into(),
            notify_keyspace_events: String::new(),
            enable_debug_command: "no".into(),
            active_expire_enabled: true,
        }
    }
}

impl Config {
    /// Builds the configuration from the command line (without the program
    /// name): an optional config file first, then `--directive value...`.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        let mut i = 0;
        while i < args.len() {
            let name = args[i].trim_start_matches("--").to_ascii_lowercase();
            let val = args.get(i + 1).cloned().unwrap_or_default();
            match name.as_str() {
                "port" => cfg.port = val.parse().map_err(|_| err("bad port"))?,
                "bind" => cfg.bind = val.split_whitespace().map(String::from).collect(),
                "requirepass" => cfg.requirepass = Some(val.into_bytes()),
                "enable-debug-command" => cfg.enable_debug_command = val,
                "dir" => cfg.dir = val,
                "protected-mode" => cfg.protected_mode = val == "yes",
                _ => {}
            }
            i += 2;
        }
        Ok(cfg)
    }

    /// CONFIG GET for one glob pattern: matching (name, value) pairs.
    pub fn get(&self, _pattern: &[u8]) -> Vec<(String, String)> {
        Vec::new()
    }

    /// CONFIG SET of several pairs, all or nothing. The error is the text of
    /// the error reply, without the leading "-".
    pub fn set(&mut self, _pairs: &[(&[u8], &[u8])]) -> Result<(), String> {
        Err("ERR not supported yet".into())
    }

    /// CONFIG REWRITE: rewrites the file the server was started with.
    pub fn rewrite(&self) -> Result<(), String> {
        Err("ERR The server is running without a config file".into())
    }
}

fn err(m: &str) -> ConfigError {
    ConfigError { message: m.into() }
}
