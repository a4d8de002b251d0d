//! A progress line on standard error, for people watching a long run: the
//! share of the file read so far, redrawn at most a few times a second and
//! only when standard error is a terminal (never into a log or a pipe).
//!
//! Invariant: the line is erased before anything else is written to
//! standard error, and at the end.

use std::io::Write;
use std::time::{Duration, Instant};

/// How often the line is redrawn.
const REDRAW_INTERVAL: Duration = Duration::from_millis(200);
/// Records between two looks at the clock.
const RECORDS_PER_CLOCK_READ: u32 = 1024;

pub fn stderr_is_terminal() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(libc::STDERR_FILENO) == 1 }
}

pub struct Progress {
    /// The program's name, first on the line.
    label: &'static str,
    enabled: bool,
    total_bytes: usize,
    started: Instant,
    last_draw: Instant,
    countdown: u32,
    /// A line is on the screen.
    shown: bool,
}

impl Progress {
    pub fn new(label: &'static str, enabled: bool, total_bytes: usize) -> Progress {
        let now = Instant::now();
        Progress {
            label,
            enabled,
            total_bytes,
            started: now,
            last_draw: now,
            countdown: RECORDS_PER_CLOCK_READ,
            shown: false,
        }
    }

    /// Called after each record with the offset reached.
    #[inline]
    pub fn tick(&mut self, offset: usize) {
        if !self.enabled {
            return;
        }
        self.countdown -= 1;
        if self.countdown > 0 {
            return;
        }
        self.countdown = RECORDS_PER_CLOCK_READ;
        let now = Instant::now();
        if now.duration_since(self.last_draw) < REDRAW_INTERVAL {
            return;
        }
        self.last_draw = now;
        self.draw(offset, now);
    }

    fn draw(&mut self, offset: usize, now: Instant) {
        let pct = if self.total_bytes == 0 { 100.0 } else { offset as f64 * 100.0 / self.total_bytes as f64 };
        let secs = now.duration_since(self.started).as_secs_f64();
        let rate = if secs > 0.0 { offset as f64 / secs / 1e6 } else { 0.0 };
        let mut e = std::io::stderr().lock();
        let _ = write!(
            e,
            "\r\x1b[K{}: {pct:5.1}% ({} of {} MB, {rate:.0} MB/s)",
            self.label,
            offset / 1_000_000,
            self.total_bytes / 1_000_000
        );
        let _ = e.flush();
        self.shown = true;
    }

    /// Erases the line, so that a message can be printed.
    pub fn clear(&mut self) {
        if self.shown {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\r\x1b[K");
            let _ = e.flush();
            self.shown = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}
