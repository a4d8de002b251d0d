//! Start-up error messages in Redis's layout ("*** FATAL CONFIG FILE ERROR
//! ***", the line number, the offending line, the reason), naming Strata and
//! the file the line came from.
//!
//! Invariant: every start-up error the module reports is built here, so all of
//! them share one layout and say what was wrong, where, and on which line.

use std::fmt;
use std::path::PathBuf;

use super::ConfigError;

/// Where configuration text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A config file (absolute path for the main file, as written for
    /// included ones).
    File(PathBuf),
    /// Standard input (`-` on the command line).
    Stdin,
    /// The `--directive value` arguments.
    CommandLine,
}

/// One configuration line: its source, its 1-based number and its text.
///
/// Line numbers count as Redis counts them: the main file, standard input and
/// the command-line options are read as one text (the options on lines after
/// the file's last line and one more), an included file on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: Source,
    pub line: usize,
    /// The line as read, trimmed of surrounding blanks.
    pub text: String,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(p) => write!(f, "of '{}'", p.display()),
            Source::Stdin => f.write_str("of standard input"),
            Source::CommandLine => f.write_str("of the command-line options"),
        }
    }
}

fn banner() -> String {
    format!("*** FATAL CONFIG FILE ERROR (Strata {}) ***", env!("CARGO_PKG_VERSION"))
}

impl ConfigError {
    /// A start-up error about one line, e.g.
    ///
    /// ```text
    /// *** FATAL CONFIG FILE ERROR (Strata 0.1.0) ***
    /// Reading the configuration file, at line 2 of '/etc/strata.conf'
    /// >>> 'foo "bar"'
    /// Bad directive or wrong number of arguments
    /// ```
    pub fn at(origin: &Origin, reason: &str) -> ConfigError {
        ConfigError {
            message: format!(
                "{}\nReading the configuration file, at line {} {}\n>>> '{}'\n{}",
                banner(),
                origin.line,
                origin.source,
                origin.text,
                reason
            ),
        }
    }

    /// A start-up error not tied to a line (checks made after reading).
    pub fn fatal(reason: &str) -> ConfigError {
        ConfigError { message: format!("{}\n{}", banner(), reason) }
    }

    /// A one-line error, e.g. a config file that cannot be opened.
    pub(crate) fn plain(message: String) -> ConfigError {
        ConfigError { message }
    }
}

/// The C library's text for an I/O error ("No such file or directory"),
/// without Rust's " (os error N)" suffix.
pub(crate) fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}
