//! Reading the manifest through the library's parser, plus what the parser
//! accepts but Redis 7.0 refuses (a last line with no line end), and the
//! report of a refused manifest: the line, its text, and how to mend it.
//!
//! Invariant: a manifest is reported valid only when both the library and
//! Redis 7.0 would load it, so a manifest this tool passes starts either
//! server.

use crate::render;
use std::path::Path;
use strata::persistence::aof::manifest::{Manifest, ManifestError, LINE_BYTES_MAX};

/// Longest text of a manifest line shown in a report.
const LINE_SHOWN: usize = 200;

/// A manifest that cannot be used, and why.
pub struct ManifestProblem {
    /// 1-based line, 0 for the whole file.
    pub line: usize,
    /// The text of that line, escaped.
    pub text: Option<String>,
    pub what: String,
    /// How to mend it.
    pub advice: String,
}

pub struct Listing {
    pub manifest: Manifest,
    pub lines: usize,
    /// Sound but odd: reported, not failed.
    pub warnings: Vec<String>,
}

pub fn read(path: &Path) -> Result<Listing, ManifestProblem> {
    let text = std::fs::read(path).map_err(|e| ManifestProblem {
        line: 0,
        text: None,
        what: format!("cannot read the manifest: {e}"),
        advice: "check the path and the permissions".into(),
    })?;
    let lines = text.split_inclusive(|&b| b == b'\n').count();
    let manifest = Manifest::parse(&text).map_err(|e| refused(&text, &e))?;
    // Redis reads each line up to its line end and refuses a last line
    // without one; the library reads it.
    if let Some(last) = text.split_inclusive(|&b| b == b'\n').next_back() {
        if !last.ends_with(b"\n") && !last.starts_with(b"#") {
            return Err(ManifestProblem {
                line: lines,
                text: Some(line_text(last)),
                what: "the last line has no line end: Redis 7.0 refuses such a manifest (\"The AOF manifest file \
                       contains too long line\"), strata-server reads it"
                    .into(),
                advice: "add a line end at the end of the manifest (`echo >> MANIFEST`)".into(),
            });
        }
    }
    // Redis reads lines 1024 bytes at a time: the rest of a longer comment
    // is read as a line of its own; the library skips the whole comment.
    let long_comment = text
        .split_inclusive(|&b| b == b'\n')
        .enumerate()
        .find(|(_, l)| l.starts_with(b"#") && l.len() > LINE_BYTES_MAX && l.get(LINE_BYTES_MAX) != Some(&b'#'));
    if let Some((i, l)) = long_comment {
        return Err(ManifestProblem {
            line: i + 1,
            text: Some(line_text(l)),
            what: format!(
                "a comment line of {} bytes: Redis 7.0 reads what follows its first {LINE_BYTES_MAX} bytes as a \
                 manifest line, and refuses it; strata-server skips the whole comment",
                l.len()
            ),
            advice: format!("shorten the comment to at most {} bytes", LINE_BYTES_MAX - 1),
        });
    }
    let mut warnings = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for e in manifest.base.iter().chain(&manifest.history).chain(&manifest.incrs) {
        if seen.contains(&e.name.as_str()) {
            warnings.push(format!("{} is listed more than once", render::quoted(e.name.as_bytes())));
        } else {
            seen.push(&e.name);
        }
    }
    if manifest.base.is_none() {
        warnings
            .push("the manifest names no base file: the incremental files are replayed onto an empty data set".into());
    }
    Ok(Listing { manifest, lines, warnings })
}

fn refused(text: &[u8], e: &ManifestError) -> ManifestProblem {
    let shown = if e.line == 0 { None } else { text.split_inclusive(|&b| b == b'\n').nth(e.line - 1).map(line_text) };
    let advice = match e.what {
        "The AOF manifest file contains too long line" => {
            "a line may hold at most 1023 bytes and a line end: shorten it"
        }
        "Unknown AOF file type" => "`type` must be b (the base), i (an incremental file) or h (history)",
        "Found duplicate base file information" => {
            "only one line may have `type b`: keep the newest base (the highest seq) and mark the other `type h`, \
             or delete its line"
        }
        "Found a non-monotonic sequence number" => {
            "incremental files (`type i`) must be listed in increasing seq order, each seq once"
        }
        "File can't be a path, just a filename" => {
            "`file` must be the bare name of a file in the manifest's directory, never a path: move the file \
             there and name it alone"
        }
        "Found an empty AOF manifest" => {
            "the manifest names no base and no incremental file: strata-server refuses to start with it (Redis \
             too when it is empty); restore it from a backup, or delete it to start with no AOF data"
        }
        _ => {
            "each line must read `file <name> seq <n> type <b|i|h>`: an even number of words, seq above 0, \
              quotes balanced"
        }
    };
    ManifestProblem { line: e.line, text: shown, what: e.what.to_string(), advice: advice.to_string() }
}

/// A manifest line for a report: without its line end, escaped, shortened.
fn line_text(raw: &[u8]) -> String {
    let body = raw.strip_suffix(b"\n").unwrap_or(raw);
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    let mut out = String::new();
    for &b in body.iter().take(LINE_SHOWN) {
        match b {
            0x20..=0x7e => out.push(b as char),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    if body.len() > LINE_SHOWN {
        out.push_str(&format!("... ({} bytes)", body.len()));
    }
    out
}
