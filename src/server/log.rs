//! Log lines in Redis's layout (`pid:role dd Mon yyyy HH:MM:SS.mmm L msg`),
//! so tools that watch Redis logs keep working, to stdout or `logfile`.

use crate::config::LogLevel;
use std::io::Write;
use std::sync::Mutex;

static SINK: Mutex<Option<Sink>> = Mutex::new(None);

struct Sink {
    path: Option<String>,
    level: LogLevel,
}

pub fn init(logfile: &str, level: LogLevel) {
    let path = if logfile.is_empty() { None } else { Some(logfile.to_string()) };
    if let Ok(mut s) = SINK.lock() {
        *s = Some(Sink { path, level });
    }
}

fn level_char(l: LogLevel) -> char {
    match l {
        LogLevel::Debug => '.',
        LogLevel::Verbose => '-',
        LogLevel::Notice => '*',
        LogLevel::Warning | LogLevel::Nothing => '#',
    }
}

/// Formats a UTC timestamp the way the log lines carry it.
pub fn timestamp(now_ms: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = now_ms.div_euclid(1000);
    let ms = now_ms.rem_euclid(1000);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil date from days since the epoch (proleptic Gregorian).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms
    )
}

pub fn log(level: LogLevel, msg: &str) {
    let Ok(guard) = SINK.lock() else { return };
    let (path, min) = match guard.as_ref() {
        Some(s) => (s.path.clone(), s.level),
        None => (None, LogLevel::Notice),
    };
    drop(guard);
    if level < min || min == LogLevel::Nothing {
        return;
    }
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    let line = format!("{}:M {} {} {}\n", std::process::id(), timestamp(now), level_char(level), msg);
    match path {
        None => {
            let _ = std::io::stdout().write_all(line.as_bytes());
            let _ = std::io::stdout().flush();
        }
        Some(p) => {
            if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(p) {
                let _ = f.write_all(line.as_bytes());
            }
        }
    }
}

pub fn notice(msg: &str) {
    log(LogLevel::Notice, msg)
}

pub fn warning(msg: &str) {
    log(LogLevel::Warning, msg)
}

pub fn verbose(msg: &str) {
    log(LogLevel::Verbose, msg)
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps() {
        assert_eq!(super::timestamp(0), "01 Jan 1970 00:00:00.000");
        assert_eq!(super::timestamp(1_795_316_058_123), "22 Nov 2026 02:54:18.123");
    }
}
