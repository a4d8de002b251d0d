//! `strata-server [config-file] [--directive value ...]`, invoked like
//! redis-server.

use strata::config::Config;
use strata::server::{self, log};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn usage() -> String {
    "Usage: strata-server [/path/to/redis.conf] [options] [-]\n\
     \x20      strata-server - (read config from stdin)\n\
     \x20      strata-server -v or --version\n\
     \x20      strata-server -h or --help\n\n\
     Examples:\n\
     \x20      strata-server (run the server with default config)\n\
     \x20      strata-server /etc/redis/6379.conf\n\
     \x20      strata-server --port 7777\n\
     \x20      strata-server /etc/myredis.conf --loglevel verbose\n\
     \x20      strata-server --save \"\" --appendonly yes\n"
        .to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(first) = args.first() {
        match first.as_str() {
            "-v" | "--version" => {
                println!(
                    "Strata server v={} redis_version={} malloc=jemalloc bits={}",
                    strata::VERSION,
                    strata::REDIS_VERSION,
                    usize::BITS
                );
                return;
            }
            "-h" | "--help" => {
                print!("{}", usage());
                return;
            }
            _ => {}
        }
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if config.daemonize {
        daemonize();
    }
    log::init(
        if config.daemonize && config.logfile.is_empty() { "/dev/null" } else { &config.logfile },
        config.loglevel,
    );
    log::notice("oO0OoO0OoO0Oo Strata is starting oO0OoO0OoO0Oo");
    log::notice(&format!(
        "Strata version={}, redis_version={}, bits={}, pid={}, just started",
        strata::VERSION,
        strata::REDIS_VERSION,
        usize::BITS,
        std::process::id()
    ));
    match &config.config_file {
        Some(p) => log::notice(&format!("Configuration loaded from {}", p.display())),
        None => log::warning("No config file specified, using the default config. In order to specify a config file use strata-server /path/to/redis.conf"),
    }
    // As in Redis, a relative pid file lives in `dir`: change into it first.
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        log::warning(&format!("Can't chdir to '{}': {e}", config.dir));
        std::process::exit(1);
    }
    if let Some(p) = &config.pidfile {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            log::warning(&format!("Failed to write PID file {p}: {e}"));
        }
    } else if config.daemonize {
        let _ = std::fs::write("/var/run/redis.pid", format!("{}\n", std::process::id()));
    }
    log::notice(&format!("Running mode=standalone, port={}.", config.port));
    match server::run(config) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            log::warning(&e.to_string());
            std::process::exit(1);
        }
    }
}

/// Detaches from the terminal: fork, new session, stdio to /dev/null.
fn daemonize() {
    // SAFETY: called before any thread is started; the parent exits at once
    // and the child continues single-threaded.
    unsafe {
        match libc::fork() {
            -1 => {
                eprintln!("fork failed: {}", std::io::Error::last_os_error());
                std::process::exit(1);
            }
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd >= 0 {
            libc::dup2(fd, 0);
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
            if fd > 2 {
                libc::close(fd);
            }
        }
    }
}
