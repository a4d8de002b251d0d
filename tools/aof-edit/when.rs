//! Times as an operator types them: seconds since the Unix epoch
//! (`1733563920`), an RFC 3339 date and time (`2026-12-07T10:32:00Z`,
//! `2026-12-07 10:32:00+01:00`), the same without a zone, read in the
//! machine's local time zone (the `TZ` environment variable), or a bare
//! `10:32` or `10:32:15`: that time today, local time.
//!
//! Invariant: a time that does not exist or is ambiguous is refused with
//! what was expected, never guessed.

/// Unix seconds of `s`, or a message saying what was expected.
pub fn parse(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let bad = || {
        format!(
            "can't read the time {s:?}: give Unix seconds (1733563920), a date and time \
             (2026-12-07T10:32:00Z, or 2026-12-07 10:32 in local time), or a time today (10:32)"
        )
    };
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| bad());
    }
    let (date, rest) = if t.len() >= 10 && t.as_bytes()[4] == b'-' {
        let d = (num(&t[0..4]).ok_or_else(bad)?, num(&t[5..7]).ok_or_else(bad)?, num(&t[8..10]).ok_or_else(bad)?);
        if t.as_bytes()[7] != b'-' {
            return Err(bad());
        }
        let rest = &t[10..];
        let rest = rest.strip_prefix(['T', 't', ' ']).unwrap_or(rest);
        (Some(d), rest)
    } else {
        (None, t)
    };
    // Time of day and zone.
    let (clock, zone) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let (h, m, sec) = if clock.is_empty() && date.is_some() {
        (0, 0, 0)
    } else {
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(bad());
        }
        let sec_part = parts.get(2).map(|p| p.split('.').next().unwrap_or(""));
        (num(parts[0]).ok_or_else(bad)?, num(parts[1]).ok_or_else(bad)?, sec_part.map_or(Some(0), num).ok_or_else(bad)?)
    };
    if h > 23 || m > 59 || sec > 60 {
        return Err(bad());
    }
    let offset = match zone {
        None => None,
        Some(z) if z.eq_ignore_ascii_case("z") => Some(0),
        Some(z) => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let body = &z[1..];
            let (zh, zm) = match body.split_once(':') {
                Some((a, b)) => (num(a).ok_or_else(bad)?, num(b).ok_or_else(bad)?),
                None if body.len() == 4 => (num(&body[..2]).ok_or_else(bad)?, num(&body[2..]).ok_or_else(bad)?),
                None if body.len() == 2 => (num(body).ok_or_else(bad)?, 0),
                None => return Err(bad()),
            };
            Some(sign * (zh * 3600 + zm * 60))
        }
    };
    let (y, mo, d) = match date {
        Some(d) => d,
        None => today_local(),
    };
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return Err(bad());
    }
    match offset {
        Some(off) => Ok(days_from_civil(y, mo, d) * 86400 + h * 3600 + m * 60 + sec - off),
        None => local_to_unix(y, mo, d, h, m, sec).ok_or_else(|| {
            format!("{s:?} does not name one moment in the local time zone (a clock change?): add a zone, as in 10:32+01:00")
        }),
    }
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 4 {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn today_local() -> (i64, i64, i64) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let tm = local_tm(now);
    (i64::from(tm.tm_year) + 1900, i64::from(tm.tm_mon) + 1, i64::from(tm.tm_mday))
}

fn local_tm(secs: i64) -> libc::tm {
    // SAFETY: localtime_r writes only into the struct it is given.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        let t: libc::time_t = secs as libc::time_t;
        libc::localtime_r(&t, &mut tm);
        tm
    }
}

/// Unix seconds of a local wall-clock time; `None` when the clock skipped
/// it or showed it twice.
fn local_to_unix(y: i64, mo: i64, d: i64, h: i64, m: i64, s: i64) -> Option<i64> {
    let fields = |isdst| {
        // SAFETY: a plain C struct, all zero is a valid value.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        tm.tm_year = (y - 1900) as i32;
        tm.tm_mon = (mo - 1) as i32;
        tm.tm_mday = d as i32;
        tm.tm_hour = h as i32;
        tm.tm_min = m as i32;
        tm.tm_sec = s as i32;
        tm.tm_isdst = isdst;
        tm
    };
    let mut found = Vec::new();
    for isdst in [0, 1] {
        let mut tm = fields(isdst);
        // SAFETY: mktime reads and normalises the struct it is given.
        let t = unsafe { libc::mktime(&mut tm) } as i64;
        let back = local_tm(t);
        let same = i64::from(back.tm_hour) == h && i64::from(back.tm_min) == m && i64::from(back.tm_mday) == d;
        if same && !found.contains(&t) {
            found.push(t);
        }
    }
    (found.len() == 1).then(|| found[0])
}

/// `secs` in local time, with its offset: `2026-12-07 11:32:00 +01:00`.
pub fn local(secs: i64) -> String {
    let tm = local_tm(secs);
    let off = tm.tm_gmtoff;
    let sign = if off < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {sign}{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        off.abs() / 3600,
        off.abs() % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_spellings() {
        assert_eq!(parse("1733563920"), Ok(1733563920));
        assert_eq!(parse("2024-12-07T09:32:00Z"), Ok(1733563920));
        assert_eq!(parse("2024-12-07 10:32:00+01:00"), Ok(1733563920));
        assert_eq!(parse("2024-12-07t04:32-0500"), Ok(1733563920));
        assert_eq!(parse("2024-12-07T09:32:00.250Z"), Ok(1733563920));
        for bad in ["", "yesterday", "2024-13-01T00:00Z", "2024-02-30 10:00Z", "25:00", "10:61", "2024-12-07X10:00"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bare_time_is_today() {
        let t = parse("00:00Z").unwrap();
        assert_eq!(t % 86400, 0);
    }
}
