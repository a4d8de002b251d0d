//! Helpers for the RDB tests: the canonical dump (the text format
//! fixtures/make-rdb-fixtures.py writes) made from decoded values or from a
//! live server, fixture parsing, and a seeded generator of values of every
//! type and encoding.
#![allow(dead_code)]

use std::collections::BTreeMap;
use strata::keyspace::hash::{Hash, HashLimits};
use strata::keyspace::quicklist::Quicklist;
use strata::keyspace::set::Set;
use strata::keyspace::zset::{AddFlags, ZSet, ZsetLimits};
use strata::keyspace::Value;
use strata::persistence::rdb::{Item, Limits, LoadOptions, RdbReader};
use strata::util::fmt_double;

/// One token of the canonical dump: printable ASCII as is except space,
/// quote and backslash; the rest as \xHH; the empty string as "".
pub fn esc(b: &[u8]) -> String {
    if b.is_empty() {
        return "\"\"".into();
    }
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (0x21..=0x7e).contains(&c) && c != b'"' && c != b'\\' {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// One key as the canonical dump shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Canon {
    pub head: String,
    pub lines: Vec<String>,
}

/// The canonical lines of a value (what the server's replies give).
pub fn value_lines(v: &Value) -> Vec<String> {
    match v {
        Value::Int(_) | Value::Emb(_) | Value::Raw(_) => vec![format!("  v {}", esc(&v.as_bytes().unwrap()))],
        Value::List(l) => l.iter().map(|e| format!("  v {}", esc(&e.to_bytes()))).collect(),
        Value::Set(s) => {
            let mut m = s.members();
            m.sort();
            m.iter().map(|e| format!("  v {}", esc(e))).collect()
        }
        Value::Hash(h) => {
            let mut p = Vec::new();
            h.for_each(|f, v| p.push((f.to_vec(), v.to_vec())));
            p.sort();
            p.iter().map(|(f, v)| format!("  f {} {}", esc(f), esc(v))).collect()
        }
        Value::ZSet(z) => z.iter_from(0, false).map(|(s, m)| format!("  z {} {}", esc(&m), fmt_double(s))).collect(),
    }
}

pub fn key_head(db: u64, key: &[u8], v: &Value, expire_ms: Option<i64>) -> String {
    format!("key {db} {} {} {} {}", esc(key), v.type_name(), v.encoding(), expire_ms.unwrap_or(-1))
}

/// The canonical dump of decoded keys: databases ascending, keys in byte
/// order, then the functions sorted by their code.
pub fn canonical(keys: &BTreeMap<(u64, Vec<u8>), (Value, Option<i64>)>, functions: &[Vec<u8>]) -> Vec<String> {
    let mut out = Vec::new();
    for ((db, k), (v, exp)) in keys {
        out.push(key_head(*db, k, v, *exp));
        out.extend(value_lines(v));
    }
    let mut f: Vec<String> = functions.iter().map(|f| format!("function {}", esc(f))).collect();
    f.sort();
    out.extend(f);
    out
}

/// Keys by (database, key), with value and absolute expiry.
pub type Dataset = BTreeMap<(u64, Vec<u8>), (Value, Option<i64>)>;

/// The encoding Redis 7.0 gives a value after saving and loading it with
/// the default limits: tables that became small again load compact.
pub fn encoding_after_load(v: &Value) -> &'static str {
    let small = |n: usize, max: usize, longest: usize, value: usize| n <= max && longest <= value;
    match v {
        Value::Hash(h @ Hash::Table(_)) => {
            let mut longest = 0;
            h.for_each(|f, v| longest = longest.max(f.len()).max(v.len()));
            if small(h.len(), 512, longest, 64) {
                return "listpack";
            }
        }
        Value::Set(s @ Set::Table(_)) => {
            let mut ints = true;
            s.for_each(|m| ints &= strata::util::parse_i64(m).is_some());
            if ints && s.len() <= 512 {
                return "intset";
            }
        }
        Value::ZSet(z @ ZSet::Skip(_)) => {
            let longest = z.iter_from(0, false).map(|(_, m)| m.len()).max().unwrap_or(0);
            if small(z.len(), 128, longest, 64) {
                return "listpack";
            }
        }
        _ => {}
    }
    v.encoding()
}

/// The canonical dump a dataset should give once saved and loaded.
pub fn canonical_after_load(d: &Dataset) -> Vec<String> {
    let mut out = Vec::new();
    for ((db, k), (v, exp)) in d {
        let head = key_head(*db, k, v, *exp);
        out.push(head.replace(&format!(" {} ", v.encoding()), &format!(" {} ", encoding_after_load(v))));
        out.extend(value_lines(v));
    }
    out
}

/// Everything a decoder run produced, grouped for comparisons.
#[derive(Default, Debug)]
pub struct Decoded {
    pub keys: BTreeMap<(u64, Vec<u8>), (Value, Option<i64>)>,
    pub functions: Vec<Vec<u8>>,
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    pub empty_keys: Vec<Vec<u8>>,
    pub idle: usize,
    pub freq: usize,
    pub version: u16,
    pub repeated_keys: usize,
}

pub fn decode_all(bytes: &[u8], opts: LoadOptions) -> Result<Decoded, strata::persistence::rdb::DecodeError> {
    let mut r = RdbReader::new(bytes, opts)?;
    let mut d = Decoded { version: r.version(), ..Default::default() };
    let mut ended = false;
    for item in r.by_ref() {
        match item? {
            Item::Key(k) => {
                d.idle += k.idle_secs.is_some() as usize;
                d.freq += k.freq.is_some() as usize;
                let prev = d.keys.insert((k.db, k.key.to_vec()), (k.value.expect("values built"), k.expire_ms));
                // A damaged file may repeat a key: the loader refuses that.
                d.repeated_keys += prev.is_some() as usize;
            }
            Item::Function { code } => d.functions.push(code),
            Item::Aux { key, value } => d.aux.push((key, value)),
            Item::EmptyKey { key, .. } => d.empty_keys.push(key),
            Item::End { .. } => ended = true,
            Item::SelectDb(_) | Item::ResizeDb { .. } | Item::ModuleAux { .. } => {}
        }
    }
    assert!(ended, "no end record");
    Ok(d)
}

/// A fixture's canonical dump, parsed.
pub struct Fixture {
    pub file: String,
    pub limits: Limits,
    pub refused: Option<String>,
    pub lines: Vec<String>,
}

pub fn parse_fixture(text: &str) -> Fixture {
    let mut f = Fixture { file: String::new(), limits: Limits::default(), refused: None, lines: Vec::new() };
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        } else if let Some(p) = line.strip_prefix("file ") {
            f.file = p.to_string();
        } else if let Some(p) = line.strip_prefix("refused ") {
            f.refused = Some(p.to_string());
        } else if let Some(p) = line.strip_prefix("limits ") {
            for kv in p.split(' ') {
                let (k, v) = kv.split_once('=').expect("limit as name=value");
                let n: i64 = v.parse().expect("numeric limit");
                let l = &mut f.limits;
                match k {
                    "hash-max-listpack-entries" => l.hash_max_listpack_entries = n as usize,
                    "hash-max-listpack-value" => l.hash_max_listpack_value = n as usize,
                    "zset-max-listpack-entries" => l.zset_max_listpack_entries = n as usize,
                    "zset-max-listpack-value" => l.zset_max_listpack_value = n as usize,
                    "set-max-intset-entries" => l.set_max_intset_entries = n as usize,
                    "list-max-listpack-size" => l.list_max_listpack_size = n as i32,
                    other => panic!("unknown limit {other}"),
                }
            }
        } else {
            f.lines.push(line.to_string());
        }
    }
    f
}

/// Panics with the first difference between two canonical dumps.
pub fn assert_same(what: &str, want: &[String], got: &[String]) {
    for (i, (w, g)) in want.iter().zip(got.iter()).enumerate() {
        if w != g {
            let from = i.saturating_sub(3);
            panic!(
                "{what}: first difference at line {i}:\n  want: {}\n  got:  {}\ncontext (want):\n{}",
                cut(w),
                cut(g),
                want[from..(i + 3).min(want.len())].iter().map(|l| cut(l)).collect::<Vec<_>>().join("\n")
            );
        }
    }
    assert_eq!(want.len(), got.len(), "{what}: {} lines expected, {} produced", want.len(), got.len());
}

fn cut(s: &str) -> String {
    if s.len() > 160 {
        format!("{}... ({} chars)", &s[..160], s.len())
    } else {
        s.to_string()
    }
}

/// A seeded source of values of every type, encoding and edge length.
pub struct Gen {
    state: u64,
}

/// Integers at every boundary of every integer encoding (RDB strings,
/// listpack, intset, ziplist).
pub const INT_EDGES: &[i64] = &[
    0,
    1,
    -1,
    12,
    13,
    127,
    128,
    -128,
    -129,
    4095,
    4096,
    -4096,
    -4097,
    32767,
    32768,
    -32768,
    -32769,
    8_388_607,
    8_388_608,
    -8_388_608,
    -8_388_609,
    2_147_483_647,
    2_147_483_648,
    -2_147_483_648,
    -2_147_483_649,
    i64::MAX,
    i64::MIN,
];

/// String lengths at every boundary of every length encoding.
pub const LEN_EDGES: &[usize] = &[0, 1, 11, 12, 20, 21, 44, 45, 63, 64, 127, 128, 4095, 4096, 16383, 16384];

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen { state: seed }
    }

    pub fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A string: an edge integer, an edge length (repetitive or random
    /// bytes), or a short word.
    pub fn bytes(&mut self) -> Vec<u8> {
        match self.below(6) {
            0 => INT_EDGES[self.below(INT_EDGES.len() as u64) as usize].to_string().into_bytes(),
            1 => {
                let n = LEN_EDGES[self.below(LEN_EDGES.len() as u64) as usize];
                if self.chance(50) {
                    vec![b'a' + self.below(26) as u8; n]
                } else {
                    (0..n).map(|_| self.next() as u8).collect()
                }
            }
            2 => format!("{}", self.next() as i64 >> self.below(60)).into_bytes(),
            3 => (0..self.below(8)).map(|_| self.next() as u8).collect(),
            _ => format!("w{}", self.below(1000)).into_bytes(),
        }
    }

    /// A short string (fits a listpack under the default limits).
    pub fn small(&mut self) -> Vec<u8> {
        match self.below(4) {
            0 => INT_EDGES[self.below(INT_EDGES.len() as u64) as usize].to_string().into_bytes(),
            1 => (0..self.below(20)).map(|_| self.next() as u8).collect(),
            _ => format!("m{}", self.below(100_000)).into_bytes(),
        }
    }

    pub fn score(&mut self) -> f64 {
        match self.below(8) {
            0 => f64::INFINITY,
            1 => f64::NEG_INFINITY,
            2 => 0.0,
            3 => (self.next() as i64 >> 20) as f64,
            4 => f64::from_bits(self.next() & !(0x7FFu64 << 52) | (0x3FFu64 + self.below(40) - 20) << 52),
            5 => INT_EDGES[self.below(INT_EDGES.len() as u64) as usize] as f64,
            _ => self.below(1000) as f64 / 8.0,
        }
    }

    /// A value of a random type and encoding. `big` allows sizes that take
    /// the table/skiplist forms and multi-node lists.
    pub fn value(&mut self, big: bool) -> Value {
        let scale = if big && self.chance(30) { 700 } else { 12 };
        match self.below(5) {
            0 => Value::string(&self.bytes()),
            1 => {
                let mut q = Quicklist::new();
                let fill = [-2, -1, 1, 4, 128][self.below(5) as usize];
                for _ in 0..1 + self.below(scale) {
                    let b = self.bytes();
                    q.push_back(&b, fill);
                }
                Value::List(Box::new(q))
            }
            2 => {
                let lim = HashLimits { entries: 512, value: 64 };
                let mut h = Hash::new();
                let long = self.chance(20);
                for _ in 0..1 + self.below(scale) {
                    let (f, v) = if long { (self.bytes(), self.bytes()) } else { (self.small(), self.small()) };
                    h.set(&f, &v, lim);
                }
                Value::Hash(h)
            }
            3 => {
                let ints = self.chance(50);
                let mut s = Set::new_int();
                for _ in 0..1 + self.below(scale) {
                    let m = if ints {
                        let v = if self.chance(50) {
                            INT_EDGES[self.below(INT_EDGES.len() as u64) as usize]
                        } else {
                            self.next() as i64 >> self.below(63)
                        };
                        v.to_string().into_bytes()
                    } else {
                        self.small()
                    };
                    s.insert(&m, 512);
                }
                Value::Set(s)
            }
            _ => {
                let lim = ZsetLimits { entries: 128, value: 64 };
                let long = self.chance(20);
                let mut z = ZSet::new_lp();
                for _ in 0..1 + self.below(scale) {
                    let m = if long { self.bytes() } else { self.small() };
                    z.add(self.score(), &m, AddFlags::default(), lim);
                }
                Value::ZSet(z)
            }
        }
    }
}
