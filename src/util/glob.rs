//! Redis-style glob matching (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`), used by
//! CONFIG GET and meant for KEYS and SCAN MATCH too.
//!
//! Invariant: the answer equals Redis 7.0's `stringmatchlen` for every pattern
//! and subject, including its corner cases (an unterminated `[` runs to the end
//! of the pattern, a trailing `\` is a literal backslash, `[a-]` is a range up
//! to `]`, range ends compare as signed chars, an empty subject matches only the
//! empty pattern), while running in O(pattern × subject) time without recursion.

/// One step of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// `*`: any run of bytes (consecutive stars are folded into one).
    Star,
    /// `?`: any single byte.
    Any,
    /// A plain or backslash-escaped byte.
    Byte(u8),
    /// `[...]`: one byte from (or, negated, not from) a set.
    Class { negated: bool, items: Vec<ClassItem> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ClassItem {
    /// `\c` inside brackets: always compared case-sensitively.
    Escaped(u8),
    /// A plain byte inside brackets.
    Byte(u8),
    /// `a-z`; the ends are kept as written and ordered at match time.
    Range(u8, u8),
}

/// A pattern parsed once, to be matched against many subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobPattern {
    tokens: Vec<Token>,
    nocase: bool,
}

/// True when `s` matches the glob `pattern` the way Redis matches it.
///
/// Note that, as in Redis, the empty subject matches only the empty pattern
/// (even `*` does not match it); KEYS and SCAN treat a lone `*` specially
/// before calling the matcher, and so should their callers here.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    GlobPattern::new(pattern, nocase).matches(s)
}

/// Lower-cases ASCII letters only, as C's `tolower` does in the C locale.
fn fold(b: u8, nocase: bool) -> u8 {
    if nocase {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

/// A byte as C's (signed) `char` sees it, for range comparisons.
fn signed(b: u8) -> i32 {
    b as i8 as i32
}

impl GlobPattern {
    pub fn new(pattern: &[u8], nocase: bool) -> GlobPattern {
        GlobPattern { tokens: tokenize(pattern), nocase }
    }

    /// Matches with a single backtracking point (the last star seen), which
    /// gives the same answers as full backtracking because every token other
    /// than a star consumes exactly one byte.
    pub fn matches(&self, s: &[u8]) -> bool {
        if s.is_empty() {
            return self.tokens.is_empty();
        }
        let (mut ti, mut si) = (0usize, 0usize);
        let mut resume: Option<(usize, usize)> = None;
        while si < s.len() {
            match self.tokens.get(ti) {
                Some(Token::Star) => {
                    resume = Some((ti, si));
                    ti += 1;
                }
                Some(t) if self.single(t, s[si]) => {
                    ti += 1;
                    si += 1;
                }
                _ => match resume {
                    Some((star, at)) => {
                        ti = star + 1;
                        si = at + 1;
                        resume = Some((star, at + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[ti..].iter().all(|t| *t == Token::Star)
    }

    fn single(&self, t: &Token, c: u8) -> bool {
        match t {
            Token::Star => false,
            Token::Any => true,
            Token::Byte(b) => fold(*b, self.nocase) == fold(c, self.nocase),
            Token::Class { negated, items } => items.iter().any(|i| self.in_item(i, c)) != *negated,
        }
    }

    fn in_item(&self, item: &ClassItem, c: u8) -> bool {
        match *item {
            ClassItem::Escaped(b) => b == c,
            ClassItem::Byte(b) => fold(b, self.nocase) == fold(c, self.nocase),
            ClassItem::Range(a, b) => {
                let (mut lo, mut hi) = (signed(a), signed(b));
                if lo > hi {
                    std::mem::swap(&mut lo, &mut hi);
                }
                let mut c = signed(c);
                if self.nocase {
                    lo = signed(fold(lo as u8, true));
                    hi = signed(fold(hi as u8, true));
                    c = signed(fold(c as u8, true));
                }
                lo <= c && c <= hi
            }
        }
    }
}

fn tokenize(p: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'*' => {
                if out.last() != Some(&Token::Star) {
                    out.push(Token::Star);
                }
                i += 1;
            }
            b'?' => {
                out.push(Token::Any);
                i += 1;
            }
            b'[' => i = class(p, i + 1, &mut out),
            b'\\' if i + 1 < p.len() => {
                out.push(Token::Byte(p[i + 1]));
                i += 2;
            }
            b => {
                out.push(Token::Byte(b));
                i += 1;
            }
        }
    }
    out
}

/// Parses a bracket class whose body starts at `i`; returns the index just
/// past it. Without a closing `]` the class takes the rest of the pattern.
fn class(p: &[u8], mut i: usize, out: &mut Vec<Token>) -> usize {
    let negated = p.get(i) == Some(&b'^');
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    while i < p.len() {
        let rest = p.len() - i;
        if p[i] == b'\\' && rest >= 2 {
            items.push(ClassItem::Escaped(p[i + 1]));
            i += 2;
        } else if p[i] == b']' {
            i += 1;
            break;
        } else if rest >= 3 && p[i + 1] == b'-' {
            items.push(ClassItem::Range(p[i], p[i + 2]));
            i += 3;
        } else {
            items.push(ClassItem::Byte(p[i]));
            i += 1;
        }
    }
    out.push(Token::Class { negated, items });
    i
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    fn mi(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), true)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("hello", "hello"));
        assert!(!m("hello", "hell"));
        assert!(!m("hell", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("*", "anything"));
        assert!(m("h*o", "ho"));
        assert!(m("h*o", "hello"));
        assert!(!m("h*o", "hellx"));
        assert!(m("**a**", "bab"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", "xxaxxcxxbxx"));
        assert!(m("a*", "a"));
        assert!(!m("a*b", "a"));
    }

    #[test]
    fn empty_subject_matches_only_empty_pattern() {
        assert!(m("", ""));
        assert!(!m("*", ""));
        assert!(!m("?", ""));
        assert!(!m("", "a"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range is swapped");
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(!m("[]", "a"), "empty class matches nothing");
        assert!(m("[^]", "a"), "negated empty class matches anything");
    }

    #[test]
    fn unterminated_class_runs_to_end() {
        assert!(m("[abc", "b"));
        assert!(!m("[abc", "d"));
        assert!(!m("[", "["));
        assert!(m("[^", "x"));
        assert!(m("a[b", "ab"));
    }

    #[test]
    fn dash_before_closing_bracket_is_a_range_to_it() {
        // "[a-]" is the range ']'..='a' and leaves the class unterminated.
        assert!(!m("[a-]", "b"));
        assert!(m("[a-]", "_"));
        assert!(m("[A-]", "Z"));
        assert!(!m("[A-]", "a"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\?", "a?"));
        assert!(m("a\\", "a\\"), "trailing backslash is literal");
        assert!(!m("a\\", "a"));
        assert!(m("\\\\", "\\"));
    }

    #[test]
    fn nocase() {
        assert!(mi("HeLLo", "hello"));
        assert!(mi("h[A-Z]llo", "hello"));
        assert!(mi("h[E]llo", "hello"));
        assert!(!mi("h[\\E]llo", "hello"), "escaped class bytes stay case-sensitive");
        assert!(!m("HELLO", "hello"));
    }

    #[test]
    fn high_bytes_compare_as_signed_chars_in_ranges() {
        // 0xff is -1 as a C char, so [a-\xff] covers -1..=97: it takes 0xff,
        // 'A' and '_' but not 0x80 (-128) or 'b'.
        let p = b"[a-\xff]";
        assert!(glob_match(p, b"\xff", false));
        assert!(glob_match(p, b"A", false));
        assert!(!glob_match(p, b"\x80", false));
        assert!(!glob_match(p, b"b", false));
        assert!(glob_match(b"[\x80-\xfe]", b"\x80", false));
        assert!(glob_match(b"[\x80-\xfe]", b"\xfe", false));
        assert!(!glob_match(b"[\x80-\xfe]", b"\xff", false));
    }

    #[test]
    fn long_inputs_stay_fast() {
        let p = "*a".repeat(2000) + "b";
        let s = "a".repeat(5000);
        assert!(!m(&p, &s));
    }
}
