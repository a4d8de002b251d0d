//! How the report shows what it found: a command as its first few
//! arguments in double quotes (escaped as redis-cli shows them, long ones
//! shortened), raw bytes where a command was expected, line numbers of the
//! command text, sizes, and `#TS` times as calendar dates.
//!
//! Invariant: every function here reads its input only through bounds-checked
//! accessors, so any bytes at all (a command cut anywhere, a length that
//! announces more than the file holds) yield a rendering and never a panic;
//! and nothing allocates more than a few hundred bytes per rendering,
//! whatever the lengths a damaged file announces.

use strata::util::quote_into;

/// Arguments shown before the rest is summarised as a count.
const ARGS_SHOWN: usize = 4;
/// Bytes of one argument shown before it is shortened.
const ARG_BYTES_SHOWN: usize = 40;
/// Longest `*<count>` / `$<len>` line looked at when rendering.
const HEADER_BYTES_MAX: usize = 32;

/// `b` in double quotes, escaped, shortened to its first bytes when long.
pub fn quoted(b: &[u8]) -> String {
    let mut out = Vec::new();
    if b.len() <= ARG_BYTES_SHOWN {
        quote_into(&mut out, b);
    } else {
        quote_into(&mut out, &b[..ARG_BYTES_SHOWN]);
        // Open the closing quote again to mark the cut: "abc..." (N bytes).
        out.pop();
        out.extend_from_slice(format!("...\" ({} bytes)", b.len()).as_bytes());
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A complete command: its first arguments quoted, then how many more.
pub fn command(args: &[&[u8]]) -> String {
    let mut parts: Vec<String> = args.iter().take(ARGS_SHOWN).map(|a| quoted(a)).collect();
    if args.len() > ARGS_SHOWN {
        parts.push(format!("... ({} arguments)", args.len()));
    }
    parts.join(" ")
}

/// What could be read of the command starting at `start` when the reader
/// stopped inside it: the arguments that are there (the last one maybe
/// cut), and how far it got.
pub fn partial_command(bytes: &[u8], start: usize) -> String {
    let mut pos = start;
    let Some((count, next)) = header(bytes, pos, b'*') else {
        return format!("starts with {}", raw(bytes, start, 16));
    };
    pos = next;
    let mut parts = Vec::new();
    let mut whole = 0u64;
    let mut note = String::new();
    while (whole as i64) < count {
        let Some((len, data)) = header(bytes, pos, b'$') else {
            let rest = bytes.get(pos..).unwrap_or_default();
            note = if rest.is_empty() {
                format!("the file ends after {whole} of {count} arguments")
            } else if rest[0] == b'$' && !rest.contains(&b'\n') {
                format!("the file ends inside the length of argument {} of {count}: {}", whole + 1, raw(bytes, pos, 16))
            } else {
                format!("argument {} does not start as a bulk string: {}", whole + 1, raw(bytes, pos, 16))
            };
            break;
        };
        let have = bytes.len().saturating_sub(data);
        let want = usize::try_from(len.max(0)).unwrap_or(usize::MAX);
        let shown = &bytes[data.min(bytes.len())..data.saturating_add(want.min(have)).min(bytes.len())];
        if want > have {
            if parts.len() < ARGS_SHOWN {
                parts.push(format!("{} (cut: {} of {len} bytes)", quoted(shown), shown.len()));
            }
            note = format!("the file ends inside argument {} of {count}", whole + 1);
            break;
        }
        if parts.len() < ARGS_SHOWN {
            parts.push(quoted(shown));
        }
        whole += 1;
        pos = data.saturating_add(want).saturating_add(2);
        if whole as usize >= ARGS_SHOWN && (whole as i64) < count {
            note = format!("{count} arguments");
            break;
        }
    }
    let mut s = parts.join(" ");
    if !note.is_empty() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&format!("... ({note})"));
    }
    if s.is_empty() {
        s = format!("*{count} with no argument");
    }
    s
}

/// Reads a `<prefix><number>\r\n` line at `at`: the number and the offset
/// after the line, or `None` when the bytes there are not such a line.
fn header(bytes: &[u8], at: usize, prefix: u8) -> Option<(i64, usize)> {
    if bytes.get(at) != Some(&prefix) {
        return None;
    }
    let rest = bytes.get(at + 1..)?;
    let window = &rest[..rest.len().min(HEADER_BYTES_MAX)];
    let cr = window.iter().position(|&b| b == b'\r')?;
    if window.get(cr + 1) != Some(&b'\n') {
        return None;
    }
    let n = std::str::from_utf8(&window[..cr]).ok()?.parse::<i64>().ok()?;
    Some((n, at + 1 + cr + 2))
}

/// Up to `n` bytes from `at`, quoted; says so when the file ends there.
pub fn raw(bytes: &[u8], at: usize, n: usize) -> String {
    match bytes.get(at..) {
        None | Some([]) => "the end of the file".into(),
        Some(rest) => {
            let mut out = Vec::new();
            quote_into(&mut out, &rest[..rest.len().min(n)]);
            let more = if rest.len() > n { "..." } else { " (then the end of the file)" };
            format!("{}{more}", String::from_utf8_lossy(&out))
        }
    }
}

/// The 1-based line of `offset` in command text starting at `text_start`
/// (lines counted by `\n`).
pub fn line_of(bytes: &[u8], text_start: usize, offset: usize) -> u64 {
    let end = offset.min(bytes.len());
    let start = text_start.min(end);
    bytes[start..end].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// `n` with its unit, singular or plural.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Unix seconds as a UTC date and time (`2024-05-01 13:45:10 UTC`); far
/// out-of-range values are left as numbers.
pub fn utc(secs: i64) -> String {
    const LIMIT: i64 = 1 << 40;
    if !(-LIMIT..=LIMIT).contains(&secs) {
        return format!("{secs} seconds from the epoch");
    }
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_date(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem / 60 % 60, rem % 60)
}

/// Year, month, day of the day `days` after 1970-01-01 (proleptic
/// Gregorian), counted in 400-year eras starting on March 1st.
fn civil_date(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn partial_commands_never_panic() {
        let cmd = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
        for cut in 0..=cmd.len() {
            let _ = partial_command(&cmd[..cut], 0);
            let _ = raw(&cmd[..cut], cut, 8);
        }
        assert_eq!(
            partial_command(&cmd[..27], 0),
            "\"SET\" \"k\" \"hel\" (cut: 3 of 5 bytes) ... (the file ends inside argument 3 of 3)"
        );
        assert!(partial_command(b"*2\r\n$99999999999999\r\nab", 0).contains("cut: 2 of"));
        assert!(partial_command(b"*-5\r\n", 0).contains("no argument"));
        assert_eq!(quoted(&[b'a'; 41]), format!("\"{}...\" (41 bytes)", "a".repeat(40)));
    }
}
