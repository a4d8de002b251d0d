//! Writing snapshots to disk: the foreground save (SAVE, SHUTDOWN, DEBUG
//! RELOAD) and the background one (BGSAVE, save rules) that runs while
//! commands go on, without a fork.
//!
//! A background save is a point-in-time view kept by the keyspace itself
//! (`Keyspace::begin_snapshot`): a walk in small steps hands over keys not
//! yet saved, and a database about to change a key it has not saved yet
//! hands it over first (`BgSink::save`). Handing over copies the key and
//! its value; an encoder thread turns the copies into the file (RDB
//! encoding, LZF), syncs it and renames it into place. The encoder also
//! walks, whenever the command thread is parked with nothing to do
//! (`Walker`, keyspace/turn.rs), so on a server that is not saturated the
//! copying leaves the command thread too, as it would with a fork. The
//! copies waiting for the encoder are the extra memory a save takes; the
//! walk pauses while they exceed `IN_FLIGHT_BYTES_MAX`.
//!
//! Invariants: a snapshot file reaches its final name only complete and
//! synced (temp file, fsync, rename, fsync of the directory), so a crash at
//! any point leaves the previous snapshot or the new one; every key present
//! when a background save began is written exactly once, with the value
//! and expiry it had then.

use super::aof::fs::{release_in_steps, FileLayer, LayerFile};
use super::rdb::{RdbWriter, Recency, SaveOptions, SnapshotInfo};
use crate::keyspace::db::idle_ms;
use crate::keyspace::{Entry, Keyspace, Snapshot, Turn, Value};
use std::cell::RefCell;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

/// Bytes of copies the command thread collects before handing them over,
/// and the size of the file writes.
const CHUNK_BYTES: usize = 256 * 1024;

/// Bytes of copies handed to the encoder and not yet encoded past which
/// the background walk pauses (changed keys are still handed over: they
/// cannot wait).
pub const IN_FLIGHT_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Nice value of the encoder thread once the walk is over (or when it
/// cannot walk): the lowest priority, so that on a machine with few cores
/// the command thread and the clients there take the CPU from it as soon
/// as they wake, instead of waiting for its time slice to end (at nice 10
/// a client on a two-core machine saw its p99 grow 1.5-3x during a
/// rewrite; at 19, 1.6-1.9x). It still gets every cycle they leave idle.
/// While it walks, it keeps the server's priority: it holds the turn the
/// command thread waits for, and must not be the one left waiting.
const ENCODER_NICE: libc::c_int = 19;

/// Lowers the calling thread's scheduling priority to `ENCODER_NICE`
/// (Linux schedules threads on their own), for background work the
/// clients must not wait for: the save's encoder. Failing is harmless: the
/// thread only competes harder.
fn yield_cpu_to_commands() {
    // SAFETY: plain system calls on the calling thread, no memory passed.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, ENCODER_NICE);
    }
}

/// What a snapshot records about each key's use, from the eviction policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecencyRule {
    None,
    /// LRU policies: IDLE, measured at this time (ms).
    Lru(i64),
    /// LFU policies: FREQ. Access frequency is not tracked, so every key
    /// carries the counter a new key starts with.
    Lfu,
}

/// Redis's starting LFU counter for a new key.
const LFU_INIT: u8 = 5;

impl RecencyRule {
    fn of(self, e: &Entry) -> Recency {
        match self {
            RecencyRule::None => Recency::None,
            RecencyRule::Lru(now) => Recency::IdleSecs((idle_ms(e.lru, now) / 1000) as u64),
            RecencyRule::Lfu => Recency::Freq(LFU_INIT),
        }
    }
}

/// What a save writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// An RDB snapshot (`dump.rdb`).
    Snapshot,
    /// The base of an AOF as an RDB file (`aof-base` aux field set).
    AofRdb,
    /// The base of an AOF as commands, opened by a `#TS:` annotation with
    /// this time when timestamps are on.
    AofCommands { timestamp_secs: Option<i64> },
}

/// Everything a save needs to know besides the data.
pub struct SaveSpec {
    /// The final file (`dir` + `dbfilename`, or an AOF base).
    pub path: PathBuf,
    pub form: Form,
    /// The file layer every file operation of the save goes through.
    pub fs: std::sync::Arc<dyn FileLayer>,
    pub opts: SaveOptions,
    pub recency: RecencyRule,
    pub redis_ver: String,
    pub ctime_secs: i64,
    pub used_mem: u64,
    /// Hand the file to the disk every 4 MB as it is written
    /// (`rdb-save-incremental-fsync`, `aof-rewrite-incremental-fsync`).
    pub incremental_sync: bool,
    /// `rdb-key-save-delay`, for the foreground save (the background one is
    /// paced by its driver instead).
    pub key_delay_us: i32,
}

/// Time owed to a `rdb-key-save-delay` or `key-load-delay` setting for one
/// more key, in microseconds: the delay itself, or for a negative setting
/// one microsecond once in that many keys (`n` counts or draws keys).
pub fn key_delay_us(setting: i32, n: u64) -> u64 {
    match setting {
        0 => 0,
        d if d > 0 => d as u64,
        d => u64::from(n % d.unsigned_abs() as u64 == 0),
    }
}

fn key_delay(setting: i32, keys: u64) {
    let us = key_delay_us(setting, keys);
    if us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}

/// `Write` over a layer file.
struct LayerWriter {
    f: Arc<dyn LayerFile>,
    written: u64,
    /// Bytes already handed to the disk's writeback; None when the file is
    /// left to the final sync.
    pushed: Option<u64>,
}

/// How much a save writes between two starts of writeback, when the
/// incremental-fsync directives ask for it: Redis syncs every 4 MB; here the
/// writeback starts without the encoder waiting for it, so the save goes at
/// the same pace while the final sync of a 170 MB base takes 1-2 ms
/// instead of 110, and dirty pages never pile up.
const WRITEBACK_BYTES: u64 = 4 << 20;

impl Write for LayerWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.f.append(buf).map_err(|(_, e)| e)?;
        self.written += buf.len() as u64;
        if let Some(pushed) = self.pushed.filter(|p| self.written - p >= WRITEBACK_BYTES) {
            self.f.start_writeback(pushed, self.written - pushed);
            self.pushed = Some(self.written);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

type FileOut = io::BufWriter<LayerWriter>;

/// A file being written in either form.
enum Out {
    Rdb(RdbWriter<FileOut>),
    Commands { w: FileOut, db: Option<usize>, bytes: u64, keys: u64, scratch: Vec<u8> },
}

impl Out {
    fn select(&mut self, db: usize, keys: u64, expires: u64) -> io::Result<()> {
        match self {
            Out::Rdb(w) => w.select_db(db as u64, keys, expires),
            Out::Commands { db: current, .. } => {
                *current = Some(db);
                Ok(())
            }
        }
    }

    fn key(&mut self, key: &[u8], value: &Value, expire_ms: Option<i64>, recency: Recency) -> io::Result<()> {
        match self {
            Out::Rdb(w) => w.key(key, value, expire_ms, recency),
            Out::Commands { w, db, bytes, keys, scratch } => {
                scratch.clear();
                if let Some(d) = db.take() {
                    let d = crate::util::itoa(d as i64);
                    crate::propagate::encode_command(scratch, &[b"SELECT".as_ref(), d.as_bytes()]);
                }
                super::aof::rewrite::key_commands(scratch, key, value, expire_ms);
                *bytes += scratch.len() as u64;
                *keys += 1;
                w.write_all(scratch)
            }
        }
    }

    fn keys_written(&self) -> u64 {
        match self {
            Out::Rdb(w) => w.keys_written(),
            Out::Commands { keys, .. } => *keys,
        }
    }

    /// Ends the file; returns its size and the file.
    fn finish(self) -> io::Result<(u64, Arc<dyn LayerFile>)> {
        let (bytes, w) = match self {
            Out::Rdb(w) => {
                // The EOF opcode and the checksum are still to come.
                let n = w.bytes_written() + 9;
                (n, w.finish()?)
            }
            Out::Commands { w, bytes, .. } => (bytes, w),
        };
        let w = w.into_inner().map_err(|e| e.into_error())?;
        Ok((bytes, w.f))
    }
}

impl SaveSpec {
    fn open(&self, tmp: &Path) -> io::Result<Out> {
        let f = self.fs.create(tmp)?;
        let mut w = io::BufWriter::with_capacity(
            CHUNK_BYTES,
            LayerWriter { f, written: 0, pushed: self.incremental_sync.then_some(0) },
        );
        if let Form::AofCommands { timestamp_secs } = self.form {
            let mut bytes = 0;
            if let Some(t) = timestamp_secs {
                let line = format!("#TS:{t}\r\n");
                w.write_all(line.as_bytes())?;
                bytes = line.len() as u64;
            }
            return Ok(Out::Commands { w, db: None, bytes, keys: 0, scratch: Vec::new() });
        }
        let mut w = RdbWriter::new(w, self.opts)?;
        w.standard_aux(&SnapshotInfo {
            redis_ver: &self.redis_ver,
            ctime_secs: self.ctime_secs,
            used_mem: self.used_mem,
            repl: None,
            aof_base: self.form == Form::AofRdb,
        })?;
        Ok(Out::Rdb(w))
    }

    /// The temporary file a save by this process writes first.
    fn temp_path(&self, tag: &str) -> PathBuf {
        let name = match self.form {
            Form::Snapshot => format!("temp-{}-{}.rdb", tag, std::process::id()),
            _ => format!("temp-rewriteaof-{}-{}.aof", tag, std::process::id()),
        };
        self.path.parent().map_or_else(|| PathBuf::from(&name), |d| d.join(&name))
    }

    /// Makes a written temporary file the final one: syncs it, renames it
    /// over `path` and syncs the directory, so the rename itself is durable.
    /// Returns the file it replaced, still open: the rename then frees no
    /// space, which the caller gives back in steps (`release_in_steps`)
    /// instead of the rename holding the file system's journal while a
    /// large old snapshot is freed.
    fn commit(&self, f: Arc<dyn LayerFile>, tmp: &Path) -> io::Result<Option<Arc<dyn LayerFile>>> {
        f.sync()?;
        drop(f);
        let replaced = self.fs.open_append(&self.path).ok();
        self.fs.rename(tmp, &self.path)?;
        self.fs.sync_dir(self.path.parent().unwrap_or(Path::new("")))?;
        Ok(replaced)
    }
}

/// Describes a failed save for the log and for SAVE's caller.
fn describe(e: &io::Error, tmp: &Path) -> String {
    format!("Failed saving the DB ({}): {e}", tmp.display())
}

/// A foreground save of the whole keyspace; returns the bytes written.
pub fn save(ks: &Keyspace, spec: &SaveSpec) -> Result<u64, String> {
    let tmp = spec.temp_path("fg");
    let result = (|| {
        let mut w = spec.open(&tmp)?;
        for db in &ks.dbs {
            if db.is_empty() {
                continue;
            }
            w.select(db.id, db.len() as u64, db.expires.len() as u64)?;
            for e in db.dict.iter() {
                w.key(&e.key, &e.value, db.expire_of(&e.key), spec.recency.of(e))?;
                key_delay(spec.key_delay_us, w.keys_written());
            }
        }
        let (bytes, f) = w.finish()?;
        spec.commit(f, &tmp)?;
        Ok::<u64, io::Error>(bytes)
    })();
    result.map_err(|e| {
        let _ = spec.fs.remove(&tmp);
        describe(&e, &tmp)
    })
}

// ---------------------------------------------------------------------------
// Background saves

/// One key on its way to the encoder: a copy of what it held when the
/// snapshot began.
struct Record {
    db: usize,
    key: crate::keyspace::CBytes,
    value: crate::keyspace::Value,
    expire_ms: Option<i64>,
    recency: Recency,
}

enum Msg {
    Keys(Vec<Record>),
    /// Everything was sent: end the file, sync and rename it.
    Commit,
}

/// A cheap estimate of the memory a copy of `e` takes (exact sizes would
/// walk big collections once more).
fn copy_bytes(e: &Entry) -> usize {
    record_bytes(&e.key, &e.value)
}

fn record_bytes(key: &[u8], v: &crate::keyspace::Value) -> usize {
    use crate::keyspace::Value;
    let value = match v {
        Value::Raw(b) => b.len(),
        Value::Int(_) | Value::Emb(_) => 0,
        other => other.elements() * 32,
    };
    key.len() + value + 64
}

/// Records the command thread collects before handing them over.
const BATCH_RECORDS: usize = 512;

struct SinkState {
    batch: Vec<Record>,
    /// Estimated bytes of the records in `batch`.
    batch_bytes: usize,
    tx: Option<Sender<Msg>>,
    recency: RecencyRule,
    /// Records handed over so far.
    keys: u64,
    /// Batches handed over so far.
    batches: u64,
}

/// The keyspace's view of a background save: copies each key it is given
/// and hands the copies, in batches, to the encoder thread.
pub struct BgSink {
    state: RefCell<SinkState>,
    /// Estimated bytes of records handed over and not yet encoded.
    in_flight: Arc<AtomicUsize>,
    /// Most bytes waiting for the encoder at once: the extra memory the save
    /// took (INFO's `rdb_last_cow_size` reports it).
    peak: std::cell::Cell<usize>,
}

impl BgSink {
    fn hand_over(&self, st: &mut SinkState) {
        if st.batch.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut st.batch, Vec::with_capacity(BATCH_RECORDS));
        st.batches += 1;
        let n = self.in_flight.fetch_add(st.batch_bytes, Ordering::Relaxed) + st.batch_bytes;
        st.batch_bytes = 0;
        if n > self.peak.get() {
            self.peak.set(n);
        }
        if let Some(tx) = &st.tx {
            if tx.send(Msg::Keys(batch)).is_err() {
                // The encoder stopped (a write error): it reports why.
                st.tx = None;
            }
        }
    }
}

impl Snapshot for BgSink {
    fn save(&self, origin: usize, e: &Entry, expire_ms: Option<i64>) {
        let mut st = self.state.borrow_mut();
        if st.tx.is_none() {
            return;
        }
        let recency = st.recency.of(e);
        st.batch_bytes += copy_bytes(e);
        st.batch.push(Record { db: origin, key: e.key.clone(), value: e.value.clone(), expire_ms, recency });
        st.keys += 1;
        if st.batch.len() >= BATCH_RECORDS || st.batch_bytes >= CHUNK_BYTES {
            let st = &mut *st;
            self.hand_over(st);
        }
    }
}

/// Keys the encoder walks between two looks at whether the command thread
/// wants its turn back: a few microseconds of copying.
const WALKER_STEP_KEYS: usize = 4;

/// How long the encoder, with nothing to encode, waits for a batch before
/// it looks again whether the command thread is idle and it can walk.
const WALKER_POLL: Duration = Duration::from_micros(200);

/// The encoder's way into the keyspace, to walk the snapshot itself while
/// the command thread is parked (keyspace/turn.rs): the copying then runs
/// on the encoder's core, in time the command thread would spend asleep.
struct Walker {
    ks: *mut Keyspace,
    sink: *const BgSink,
    turn: Arc<Turn>,
    flags: EncoderWalk,
}

// SAFETY: the pointers are followed only by the thread holding the turn,
// and only while `active` is set. The command thread holds the turn
// whenever it is not parked inside its runtime, and then it holds no
// borrow of the keyspace or the sink (the state is borrowed only between
// awaits); taking and releasing the turn orders the two threads' accesses.
unsafe impl Send for Walker {}

enum Walked {
    /// Walked some keys (maybe handing a batch over).
    Some,
    /// The command thread is busy.
    Busy,
    /// The walk is over (finished or abandoned): stop trying.
    Over,
}

impl Walker {
    /// Walks while the command thread is idle, until it wants its turn
    /// back, a batch went to the encoder, or the walk is over.
    fn walk(&self) -> Walked {
        if !self.flags.active.load(Ordering::Acquire) {
            return Walked::Over;
        }
        if !self.flags.invited.load(Ordering::Relaxed) || !self.turn.try_take() {
            return Walked::Busy;
        }
        if !self.flags.active.load(Ordering::Acquire) {
            self.turn.release();
            return Walked::Over;
        }
        // SAFETY: see `Walker`: the turn is ours and the walk is active.
        let (ks, sink) = unsafe { (&mut *self.ks, &*self.sink) };
        let (batches, keys) = {
            let st = sink.state.borrow();
            (st.batches, st.keys)
        };
        let mut done = false;
        while !self.turn.wanted() && !done && sink.state.borrow().batches == batches {
            done = ks.snapshot_step(WALKER_STEP_KEYS);
        }
        self.flags.walked.fetch_add(sink.state.borrow().keys - keys, Ordering::Relaxed);
        self.turn.release();
        if done {
            Walked::Over
        } else {
            Walked::Some
        }
    }
}

/// Why a background save runs: a snapshot (BGSAVE, save rules) or the
/// base of an AOF rewrite. One runs at a time: they share the keyspace's
/// point-in-time view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Snapshot,
    AofRewrite,
}

/// A background save in progress, as the server keeps it.
pub struct Background {
    pub purpose: Purpose,
    pub sink: std::rc::Rc<BgSink>,
    /// Taken by whoever waits for the encoder thread's verdict.
    pub done: Option<Receiver<Result<u64, String>>>,
    pub started_ms: i64,
    /// Keys when it began (INFO `current_save_keys_total`).
    pub keys_total: u64,
    /// The command thread's side of the encoder's walk, when it may.
    walker: Option<EncoderWalk>,
}

/// The flags and count a `Walker` shares with the command thread.
#[derive(Clone, Default)]
struct EncoderWalk {
    /// Set while the walker's pointers are good: the command thread clears
    /// it (while it holds the turn) when the walk ends or is abandoned, and
    /// when the save is dropped.
    active: Arc<AtomicBool>,
    /// Set while the command thread leaves the walk to the encoder. When
    /// clients keep it busy, it walks itself: it parks seldom and briefly,
    /// and a walker that took the turn then and lost its core to a client
    /// process would hold it up.
    invited: Arc<AtomicBool>,
    /// Keys the encoder has walked.
    walked: Arc<AtomicU64>,
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop_walker();
    }
}

impl Background {
    /// Starts a background save of `ks`: the point in time is now. The
    /// encoder thread started here turns the copies it is handed into the
    /// file. Given the keyspace's `turn`, it also walks the snapshot itself
    /// whenever the command thread is idle (`Walker`); else, and when the
    /// command thread is never idle, the command thread walks.
    pub fn start(
        ks: &mut Keyspace,
        spec: SaveSpec,
        now_ms: i64,
        turn: Option<Arc<Turn>>,
    ) -> Result<Background, String> {
        let (tx, rx) = channel::<Msg>();
        let (done_tx, done_rx) = channel();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let sizes: Vec<(u64, u64)> = ks.dbs.iter().map(|d| (d.len() as u64, d.expires.len() as u64)).collect();
        let thread_flight = in_flight.clone();
        let recency = spec.recency;
        let purpose = if spec.form == Form::Snapshot { Purpose::Snapshot } else { Purpose::AofRewrite };
        let sink = std::rc::Rc::new(BgSink {
            state: RefCell::new(SinkState {
                batch: Vec::with_capacity(BATCH_RECORDS),
                batch_bytes: 0,
                tx: Some(tx),
                recency,
                keys: 0,
                batches: 0,
            }),
            in_flight,
            peak: std::cell::Cell::new(0),
        });
        // A save slowed key by key (rdb-key-save-delay, for tests) is walked
        // by the command thread alone, at the pace asked.
        let walker = turn.filter(|_| spec.key_delay_us == 0).map(|turn| Walker {
            ks: ks as *mut Keyspace,
            sink: std::rc::Rc::as_ptr(&sink),
            turn,
            flags: EncoderWalk { active: Arc::new(AtomicBool::new(true)), ..Default::default() },
        });
        let shared = walker.as_ref().map(|w| w.flags.clone());
        std::thread::Builder::new()
            .name("bgsave".into())
            .spawn(move || {
                // While it may walk, the encoder does what a fork's child
                // would, at the same priority; after, it only encodes, and
                // gives way to everything else.
                if walker.is_none() {
                    yield_cpu_to_commands();
                }
                let r = encode_file(&rx, &spec, &sizes, &thread_flight, walker);
                yield_cpu_to_commands();
                let (verdict, replaced) = match r {
                    Ok((n, replaced)) => (Ok(n), replaced),
                    Err(e) => (Err(e), None),
                };
                let _ = done_tx.send(verdict);
                if let Some(old) = replaced {
                    release_in_steps(&*old);
                }
            })
            .map_err(|e| format!("Can't start the background save: {e}"))?;
        let keys_total = ks.total_keys() as u64;
        ks.begin_snapshot(sink.clone());
        Ok(Background { purpose, sink, done: Some(done_rx), started_ms: now_ms, keys_total, walker: shared })
    }

    /// Keys the encoder has walked.
    pub fn encoder_walked_keys(&self) -> u64 {
        self.walker.as_ref().map_or(0, |w| w.walked.load(Ordering::Relaxed))
    }

    /// Leaves the walk to the encoder (whenever this thread parks), or
    /// takes it back.
    pub fn invite_encoder(&self, yes: bool) {
        if let Some(w) = &self.walker {
            w.invited.store(yes, Ordering::Relaxed);
        }
    }

    /// Whether the encoder walks too, whenever the command thread parks.
    pub fn encoder_may_walk(&self) -> bool {
        self.walker.is_some()
    }

    /// Withdraws the encoder's permission to walk. Called by the command
    /// thread, which holds the turn, so no walk is under way.
    fn stop_walker(&self) {
        if let Some(w) = &self.walker {
            w.active.store(false, Ordering::Release);
        }
    }

    /// Whether the encoder is far enough behind that the walk should wait
    /// for it.
    pub fn throttled(&self) -> bool {
        self.sink.in_flight.load(Ordering::Relaxed) > IN_FLIGHT_BYTES_MAX
    }

    /// Keys handed to the encoder so far (INFO `current_save_keys_processed`).
    pub fn keys_done(&self) -> u64 {
        self.sink.state.borrow().keys
    }

    pub fn peak_bytes(&self) -> usize {
        self.sink.peak.get()
    }

    /// After the walk ended: the last records go out and the encoder ends
    /// and commits the file. `Err` when the encoder is gone already (it
    /// then reports why through `done`).
    pub fn finish(&self) -> Result<(), String> {
        self.stop_walker();
        let mut st = self.sink.state.borrow_mut();
        self.sink.hand_over(&mut st);
        match st.tx.take() {
            Some(tx) => tx.send(Msg::Commit).map_err(|_| "Background saving error: the encoder stopped".to_string()),
            None => Err("Background saving error: the encoder stopped".into()),
        }
    }

    /// Abandons the save: nothing more is sent and the encoder removes its
    /// temporary file.
    pub fn abort(&self) {
        self.stop_walker();
        let mut st = self.sink.state.borrow_mut();
        st.tx = None;
        st.batch.clear();
    }
}

/// The encoder thread: writes the header, each record as it comes (a
/// SELECTDB whenever the database changes), then on `Commit` the end and
/// checksum, and commits the file. If the sender goes away first, or a
/// write fails, the temporary file is removed.
fn encode_file(
    rx: &Receiver<Msg>,
    spec: &SaveSpec,
    sizes: &[(u64, u64)],
    in_flight: &AtomicUsize,
    mut walker: Option<Walker>,
) -> Result<(u64, Option<Arc<dyn LayerFile>>), String> {
    let tmp = spec.temp_path("bg");
    let result = (|| -> io::Result<Option<(u64, Option<Arc<dyn LayerFile>>)>> {
        let mut w = spec.open(&tmp)?;
        let mut current: Option<usize> = None;
        loop {
            let msg = match rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => match walker.as_ref().map(Walker::walk) {
                    Some(Walked::Some) => continue,
                    Some(Walked::Over) => {
                        walker = None;
                        yield_cpu_to_commands();
                        continue;
                    }
                    Some(Walked::Busy) => match rx.recv_timeout(WALKER_POLL) {
                        Ok(m) => m,
                        Err(RecvTimeoutError::Timeout) => continue,
                        Err(RecvTimeoutError::Disconnected) => break,
                    },
                    None => match rx.recv() {
                        Ok(m) => m,
                        Err(_) => break,
                    },
                },
            };
            match msg {
                Msg::Keys(batch) => {
                    let mut bytes = 0;
                    for r in &batch {
                        if current != Some(r.db) {
                            let (keys, expires) = sizes.get(r.db).copied().unwrap_or((0, 0));
                            w.select(r.db, keys, expires)?;
                            current = Some(r.db);
                        }
                        w.key(&r.key, &r.value, r.expire_ms, r.recency)?;
                        bytes += record_bytes(&r.key, &r.value);
                    }
                    // Values are dropped here, on this thread.
                    drop(batch);
                    in_flight.fetch_sub(bytes, Ordering::Relaxed);
                }
                Msg::Commit => {
                    let (total, f) = w.finish()?;
                    let replaced = spec.commit(f, &tmp)?;
                    return Ok(Some((total, replaced)));
                }
            }
        }
        Ok(None)
    })();
    match result {
        Ok(Some(done)) => Ok(done),
        Ok(None) => {
            let _ = spec.fs.remove(&tmp);
            Err("Background saving was abandoned".into())
        }
        Err(e) => {
            let _ = spec.fs.remove(&tmp);
            Err(describe(&e, &tmp))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Value;
    use crate::persistence::rdb::{Item, LoadOptions, RdbReader};
    use std::collections::BTreeMap;

    fn spec(dir: &Path) -> SaveSpec {
        SaveSpec {
            path: dir.join("dump.rdb"),
            form: Form::Snapshot,
            fs: std::sync::Arc::new(crate::persistence::aof::fs::Disk),
            opts: SaveOptions::default(),
            recency: RecencyRule::None,
            redis_ver: "7.0.15".into(),
            ctime_secs: 0,
            used_mem: 0,
            key_delay_us: 0,
            incremental_sync: true,
        }
    }

    #[test]
    fn a_commit_hands_back_the_snapshot_it_replaced_still_open() {
        let dir = tempfile::tempdir().unwrap();
        let s = spec(dir.path());
        let write_temp = |bytes: &[u8]| {
            let tmp = s.temp_path("t");
            let f = s.fs.create(&tmp).unwrap();
            f.append(bytes).unwrap();
            (f, tmp)
        };
        let (f, tmp) = write_temp(b"first");
        assert!(s.commit(f, &tmp).unwrap().is_none(), "nothing was replaced");
        let (f, tmp) = write_temp(b"second!");
        let old = s.commit(f, &tmp).unwrap().expect("the replaced file");
        assert_eq!(std::fs::read(&s.path).unwrap(), b"second!");
        assert!(!tmp.exists());
        assert_eq!(old.len().unwrap(), 5);
    }

    /// Every key of a file: (db, key) -> (value bytes for strings, expiry).
    fn read_back(path: &Path) -> BTreeMap<(u64, Vec<u8>), (Vec<u8>, Option<i64>)> {
        let bytes = std::fs::read(path).unwrap();
        let mut out = BTreeMap::new();
        for item in RdbReader::new(&bytes, LoadOptions::default()).unwrap() {
            if let Item::Key(k) = item.unwrap() {
                let v = k.value.unwrap().as_bytes().unwrap().into_owned();
                assert!(out.insert((k.db, k.key.as_bytes().to_vec()), (v, k.expire_ms)).is_none(), "key twice");
            }
        }
        out
    }

    fn wait(bg: &mut Background) -> Result<u64, String> {
        bg.done.take().unwrap().recv().unwrap()
    }

    #[test]
    fn background_save_keeps_the_point_in_time_under_changes() {
        point_in_time_under_changes(None, 5000);
    }

    /// The same with the encoder walking whenever this thread, standing in
    /// for the command thread, lets go of the turn between two changes.
    #[test]
    fn the_encoders_walk_keeps_the_point_in_time_too() {
        // More keys: the encoder walks many between two changes.
        point_in_time_under_changes(Some(Arc::new(Turn::new())), 50_000);
    }

    fn point_in_time_under_changes(turn: Option<Arc<Turn>>, keys: usize) {
        let dir = tempfile::tempdir().unwrap();
        let mut ks = Keyspace::new(4);
        for i in 0..keys {
            ks.dbs[i % 2].set(format!("k{i}").as_bytes(), Value::string(format!("v{i}").as_bytes()), false, 0);
        }
        ks.dbs[0].set_expire(b"k0", 9_999_999_999_999);
        let mut expect = BTreeMap::new();
        for db in &ks.dbs {
            for e in db.dict.iter() {
                let v = e.value.as_bytes().unwrap().into_owned();
                expect.insert((db.id as u64, e.key.as_bytes().to_vec()), (v, db.expire_of(&e.key)));
            }
        }
        let mut bg = Background::start(&mut ks, spec(dir.path()), 0, turn.clone()).unwrap();
        bg.invite_encoder(true);
        let mut round = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !ks.snapshot_step(if turn.is_some() { 0 } else { 100 }) {
            if let Some(t) = &turn {
                // Idle for a moment: the encoder may walk meanwhile.
                t.release_to_idle();
                let idle = std::time::Instant::now();
                while idle.elapsed() < Duration::from_micros(5) {
                    std::hint::spin_loop();
                }
                t.take_for_commands();
                assert!(std::time::Instant::now() < deadline, "the encoder never walked to the end");
            }
            // Between steps: overwrite, delete, create, expire, persist,
            // rename across databases, swap and flush.
            round += 1;
            let k = format!("k{}", round * 7 % 5000);
            let db = round * 7 % 5000 % 2;
            match round % 6 {
                0 => ks.dbs[db].set(k.as_bytes(), Value::string(b"changed"), false, 0),
                1 => drop(ks.dbs[db].remove(k.as_bytes())),
                2 => ks.dbs[3].set(format!("new{round}").as_bytes(), Value::string(b"n"), false, 0),
                3 if ks.dbs[db].peek(k.as_bytes()).is_some() => ks.dbs[db].set_expire(k.as_bytes(), 1),
                4 => {
                    if let Some((e, at)) = ks.dbs[db].take(k.as_bytes()) {
                        ks.dbs[2].add_entry(e, at);
                    }
                }
                _ => {}
            }
            if round == 10 {
                ks.swap(0, 2);
            }
            if round == 20 {
                ks.flush(Some(1), false);
            }
        }
        assert!(round > 20, "the walk took {round} steps: too few to interleave every kind of change");
        if turn.is_some() {
            assert!(bg.encoder_walked_keys() > 0, "the encoder did the walk");
        }
        bg.finish().unwrap();
        wait(&mut bg).unwrap();
        ks.end_snapshot();
        assert_eq!(read_back(&dir.path().join("dump.rdb")), expect);
        assert!(std::fs::read_dir(dir.path()).unwrap().count() == 1, "no temp file left");
    }

    #[test]
    fn foreground_save_writes_everything_and_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let mut ks = Keyspace::new(2);
        ks.dbs[1].set(b"a", Value::string(b"1"), false, 0);
        save(&ks, &spec(dir.path())).unwrap();
        ks.dbs[1].set(b"b", Value::string(b"2"), false, 0);
        let size = save(&ks, &spec(dir.path())).unwrap();
        assert_eq!(size, std::fs::metadata(dir.path().join("dump.rdb")).unwrap().len(), "the size reported");
        let got = read_back(&dir.path().join("dump.rdb"));
        assert_eq!(got.len(), 2);
        assert!(std::fs::read_dir(dir.path()).unwrap().count() == 1);
        let bad = SaveSpec { path: dir.path().join("missing/dump.rdb"), ..spec(dir.path()) };
        assert!(save(&ks, &bad).unwrap_err().contains("Failed saving the DB"));
    }

    #[test]
    fn an_abandoned_background_save_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut ks = Keyspace::new(1);
        ks.dbs[0].set(b"a", Value::string(b"1"), false, 0);
        let mut bg = Background::start(&mut ks, spec(dir.path()), 0, None).unwrap();
        bg.abort();
        ks.end_snapshot();
        assert!(bg.finish().is_err());
        assert!(wait(&mut bg).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
