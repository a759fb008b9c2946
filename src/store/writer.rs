//! Incremental writing of one run while it is being recorded.
//!
//! Each [`RunWriter::flush`] is one `BEGIN IMMEDIATE` transaction. Only once it has committed
//! are the sealed parts removed from the caller's [`RunRecord`], so a failed flush loses nothing.
//!
//! # What the caller must know about draining
//!
//! - **Samples.** Every full chunk of [`CHUNK`] samples is written once and removed from the
//!   front of `rec.samples` (the time column and every metric column). `rec.samples` then holds
//!   only samples `sealed_samples()..`; the caller keeps pushing to it as before. Absolute sample
//!   indices (`ProcessTrack::first_sample`) are unaffected. The partial tail is rewritten at each
//!   flush in which it grew.
//! - **Process tracks.** Tracks are keyed by `(pid, first_sample)`. Every full chunk of
//!   [`CHUNK`] values of a track is written once and removed from the front of its `cpu_us` and
//!   `rss_kib` vectors: after a flush a track's vectors hold only the values of samples
//!   `first_sample + sealed_track_values(pid, first_sample)..`. Keep pushing one value per sample
//!   to both vectors; never replace them with the full history. A track the caller removes from
//!   `rec.processes` stays in the database as last written.
//! - **Timers, marks, series** are rewritten whenever they changed (a cheap fingerprint).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use super::codec::{self, CHUNK, LEVEL_SEALED, LEVEL_TAIL};
use super::db::{insert_rows, int, Db, DbError, Val};
use super::runs::update_run_row;
use super::{Store, StoreError};
use crate::model::{Direction, ProcessTrack, RunRecord};

/// What the writer remembers of one process track.
#[derive(Debug, Clone)]
struct TrackState {
    ord: i64,
    sealed: usize,
    /// Values in the database (sealed + tail); `None` before the first write.
    written: Option<usize>,
    ppid: u32,
    name: String,
}

/// Writes one run incrementally.
pub struct RunWriter {
    pub run_id: i64,
    sealed: usize,
    /// (samples, columns) of the tail as last written.
    tail_written: Option<(usize, usize)>,
    tracks: HashMap<(u32, usize), TrackState>,
    next_ord: i64,
    fingerprints: Option<[u64; 3]>,
}

/// Sealed parts to remove from the record once the transaction committed.
#[derive(Default)]
struct Drain {
    samples: usize,
    tail: Option<(usize, usize)>,
    tracks: Vec<(usize, usize)>,
    states: Vec<((u32, usize), TrackState)>,
    next_ord: i64,
    fingerprints: Option<[u64; 3]>,
}

impl RunWriter {
    pub fn new(run_id: i64) -> RunWriter {
        RunWriter {
            run_id,
            sealed: 0,
            tail_written: None,
            tracks: HashMap::new(),
            next_ord: 0,
            fingerprints: None,
        }
    }

    /// Samples written for good and removed from `rec.samples` (a multiple of [`CHUNK`]).
    pub fn sealed_samples(&self) -> usize {
        self.sealed
    }

    /// Values of the track `(pid, first_sample)` written for good and removed from its vectors.
    pub fn sealed_track_values(&self, pid: u32, first_sample: usize) -> usize {
        self.tracks
            .get(&(pid, first_sample))
            .map_or(0, |t| t.sealed)
    }

    /// Writes what is new in `rec` since the last flush. Full chunks of samples (and of process
    /// tracks) are encoded, written once and removed from `rec`; the partial tail chunk is
    /// rewritten at each flush. Timers, series and marks are rewritten when they changed.
    pub fn flush(&mut self, store: &mut Store, rec: &mut RunRecord) -> Result<(), StoreError> {
        self.write(store, rec, false)
    }

    /// Final flush: everything left, totals, status, exit code, wall time, git, timers, series,
    /// marks, diagnostics, GPUs.
    pub fn finish(mut self, store: &mut Store, rec: &mut RunRecord) -> Result<(), StoreError> {
        self.write(store, rec, true)
    }

    /// [`RunWriter::finish`], retried while another process holds the database (each try
    /// already waits [`super::BUSY_TIMEOUT`]) until `patience` has passed. The final save is the
    /// one that must not be lost to a writer holding a long transaction; each try is one
    /// transaction that changes nothing when it fails, so retrying is safe.
    pub fn finish_patiently(
        mut self,
        store: &mut Store,
        rec: &mut RunRecord,
        patience: std::time::Duration,
    ) -> Result<(), StoreError> {
        let start = std::time::Instant::now();
        loop {
            match self.write(store, rec, true) {
                Err(e) if e.is_busy() && start.elapsed() < patience => {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                r => return r,
            }
        }
    }

    fn write(
        &mut self,
        store: &mut Store,
        rec: &mut RunRecord,
        last: bool,
    ) -> Result<(), StoreError> {
        let drain = store.tx(|db| self.write_in(db, rec, last))?;
        self.apply(rec, drain);
        Ok(())
    }

    /// Writes everything not yet written, inside the caller's transaction; returns what to
    /// drain from `rec` once it commits.
    fn write_in(&self, db: &mut dyn Db, rec: &RunRecord, last: bool) -> Result<Drain, DbError> {
        let mut drain = Drain {
            next_ord: self.next_ord,
            ..Drain::default()
        };
        self.write_samples(db, rec, last, &mut drain)?;
        self.write_tracks(db, &rec.processes, last, &mut drain)?;
        self.write_extras(db, rec, last, &mut drain)?;
        let n_samples = self.sealed + rec.samples.len();
        update_run_row(db, self.run_id, rec, n_samples)?;
        Ok(drain)
    }

    fn write_samples(
        &self,
        db: &mut dyn Db,
        rec: &RunRecord,
        last: bool,
        drain: &mut Drain,
    ) -> Result<(), DbError> {
        let s = &rec.samples;
        let n = s.len();
        let full = n / CHUNK;
        let base_seq = self.sealed / CHUNK;
        const SQL: &str = "INSERT INTO sample_chunks (run_id, seq, n, ncols, data)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (run_id, seq)
             DO UPDATE SET n = excluded.n, ncols = excluded.ncols, data = excluded.data";
        let ncols = s.columns.len();
        for k in 0..full {
            let blob = codec::encode_chunk(
                &s.t_us,
                &s.columns,
                k * CHUNK..(k + 1) * CHUNK,
                LEVEL_SEALED,
            )
            .map_err(encode_err)?;
            db.exec(
                SQL,
                &[
                    Val::Int(self.run_id),
                    int(base_seq + k),
                    int(CHUNK),
                    int(ncols),
                    Val::Blob(blob),
                ],
            )?;
        }
        let tail = n - full * CHUNK;
        let shape = (tail, ncols);
        let tail_unchanged = full == 0 && self.tail_written == Some(shape);
        if tail > 0 && (last || !tail_unchanged) {
            let level = if last { LEVEL_SEALED } else { LEVEL_TAIL };
            let blob = codec::encode_chunk(&s.t_us, &s.columns, full * CHUNK..n, level)
                .map_err(encode_err)?;
            db.exec(
                SQL,
                &[
                    Val::Int(self.run_id),
                    int(base_seq + full),
                    int(tail),
                    int(ncols),
                    Val::Blob(blob),
                ],
            )?;
        }
        drain.samples = full * CHUNK;
        drain.tail = Some(shape);
        Ok(())
    }

    fn write_tracks(
        &self,
        db: &mut dyn Db,
        tracks: &[ProcessTrack],
        last: bool,
        drain: &mut Drain,
    ) -> Result<(), DbError> {
        let mut metas: Vec<Val> = Vec::new();
        let mut chunks: Vec<Val> = Vec::new();
        for (i, t) in tracks.iter().enumerate() {
            let key = (t.pid, t.first_sample);
            let mut st = match self.tracks.get(&key) {
                Some(s) => s.clone(),
                None => {
                    drain.next_ord += 1;
                    TrackState {
                        ord: drain.next_ord,
                        sealed: 0,
                        written: None,
                        ppid: t.ppid,
                        name: t.name.clone(),
                    }
                }
            };
            let len = t.cpu_us.len().min(t.rss_kib.len());
            let total = st.sealed + len;
            let new = st.written.is_none();
            if new || st.ppid != t.ppid || st.name != t.name {
                metas.extend([
                    Val::Int(self.run_id),
                    t.pid.into(),
                    int(t.first_sample),
                    Val::Int(st.ord),
                    t.ppid.into(),
                    (&t.name).into(),
                    (&t.cmdline).into(),
                ]);
                st.ppid = t.ppid;
                st.name.clone_from(&t.name);
            }
            if st.written == Some(total) {
                drain.states.push((key, st));
                continue;
            }
            let full = len / CHUNK;
            let base_seq = st.sealed / CHUNK;
            for k in 0..full {
                let r = k * CHUNK..(k + 1) * CHUNK;
                let blob = codec::encode_pair(&t.cpu_us[r.clone()], &t.rss_kib[r], LEVEL_SEALED)
                    .map_err(encode_err)?;
                chunks.extend([
                    Val::Int(self.run_id),
                    t.pid.into(),
                    int(t.first_sample),
                    int(base_seq + k),
                    int(CHUNK),
                    Val::Blob(blob),
                ]);
            }
            let tail = len - full * CHUNK;
            if tail > 0 {
                let r = full * CHUNK..len;
                let level = if last { LEVEL_SEALED } else { LEVEL_TAIL };
                let blob = codec::encode_pair(&t.cpu_us[r.clone()], &t.rss_kib[r], level)
                    .map_err(encode_err)?;
                chunks.extend([
                    Val::Int(self.run_id),
                    t.pid.into(),
                    int(t.first_sample),
                    int(base_seq + full),
                    int(tail),
                    Val::Blob(blob),
                ]);
            }
            st.sealed += full * CHUNK;
            st.written = Some(total);
            if full > 0 {
                drain.tracks.push((i, full * CHUNK));
            }
            drain.states.push((key, st));
        }
        insert_rows(
            db,
            "tracks (run_id, pid, first_sample, ord, ppid, name, cmdline)",
            7,
            &metas,
            "ON CONFLICT (run_id, pid, first_sample) DO UPDATE SET ord = excluded.ord, \
             ppid = excluded.ppid, name = excluded.name, cmdline = excluded.cmdline",
        )?;
        insert_rows(
            db,
            "track_chunks (run_id, pid, first_sample, seq, n, data)",
            6,
            &chunks,
            "ON CONFLICT (run_id, pid, first_sample, seq) DO UPDATE SET n = excluded.n, \
             data = excluded.data",
        )
    }

    fn write_extras(
        &self,
        db: &mut dyn Db,
        rec: &RunRecord,
        last: bool,
        drain: &mut Drain,
    ) -> Result<(), DbError> {
        let fp = fingerprints(rec);
        let old = self.fingerprints;
        drain.fingerprints = Some(fp);
        let changed = |i: usize| last || old.is_none_or(|o| o[i] != fp[i]);
        let id = self.run_id;
        if changed(0) {
            db.exec("DELETE FROM timers WHERE run_id = ?1", &[Val::Int(id)])?;
            let mut values = Vec::with_capacity(rec.timers.len() * 8);
            for (i, t) in rec.timers.iter().enumerate() {
                values.extend([
                    Val::Int(id),
                    int(i),
                    (&t.name).into(),
                    t.start_s.into(),
                    t.end_s.into(),
                    t.depth.into(),
                    t.parent.map(int).unwrap_or(Val::Null),
                    t.closed_at_exit.into(),
                ]);
            }
            insert_rows(
                db,
                "timers (run_id, idx, name, start_s, end_s, depth, parent, closed_at_exit)",
                8,
                &values,
                "",
            )?;
        }
        if changed(1) {
            db.exec("DELETE FROM marks WHERE run_id = ?1", &[Val::Int(id)])?;
            let mut values = Vec::with_capacity(rec.marks.len() * 4);
            for (i, m) in rec.marks.iter().enumerate() {
                values.extend([Val::Int(id), int(i), m.t_s.into(), (&m.text).into()]);
            }
            insert_rows(db, "marks (run_id, idx, t_s, text)", 4, &values, "")?;
        }
        if changed(2) {
            db.exec("DELETE FROM series WHERE run_id = ?1", &[Val::Int(id)])?;
            let mut values = Vec::with_capacity(rec.series.len() * 11);
            for (i, s) in rec.series.iter().enumerate() {
                let mut raw = Vec::new();
                let iters: Vec<i64> = s.points.iter().map(|p| p.iter).collect();
                codec::encode_column(&iters, &mut raw);
                let ts: Vec<f64> = s.points.iter().map(|p| p.t_s).collect();
                codec::encode_f64s(&ts, &mut raw);
                let vs: Vec<f64> = s.points.iter().map(|p| p.value).collect();
                codec::encode_f64s(&vs, &mut raw);
                let dir = s.direction.map(|d| match d {
                    Direction::Minimize => "minimize",
                    Direction::Maximize => "maximize",
                });
                values.extend([
                    Val::Int(id),
                    int(i),
                    (&s.name).into(),
                    s.algorithm.as_deref().into(),
                    (&s.source).into(),
                    dir.into(),
                    s.main.into(),
                    int(s.points.len()),
                    Val::Blob(codec::compress(&raw, LEVEL_TAIL).map_err(encode_err)?),
                    s.direction_from.map(|d| d.as_str()).into(),
                    s.role.map(|r| r.as_str()).into(),
                ]);
            }
            insert_rows(
                db,
                "series (run_id, idx, name, algorithm, source, direction, main, n, data, \
                 direction_from, role)",
                11,
                &values,
                "",
            )?;
        }
        Ok(())
    }

    /// After the commit: remove the sealed parts from `rec` and remember what was written.
    fn apply(&mut self, rec: &mut RunRecord, d: Drain) {
        if d.samples > 0 {
            let s = &mut rec.samples;
            s.t_us.drain(..d.samples.min(s.t_us.len()));
            for col in s.columns.values_mut() {
                col.drain(..d.samples.min(col.len()));
            }
            self.sealed += d.samples;
        }
        self.tail_written = d.tail;
        for (i, n) in d.tracks {
            if let Some(t) = rec.processes.get_mut(i) {
                t.cpu_us.drain(..n.min(t.cpu_us.len()));
                t.rss_kib.drain(..n.min(t.rss_kib.len()));
            }
        }
        for (k, st) in d.states {
            self.tracks.insert(k, st);
        }
        self.next_ord = d.next_ord;
        self.fingerprints = d.fingerprints;
    }
}

/// A blob that could not be encoded fails the whole transaction (nothing of this flush is
/// written, the data stays in memory), like any database error.
fn encode_err(e: codec::EncodeError) -> DbError {
    DbError::new(format!("encoding a blob: {e}"))
}

/// Cheap change detectors of timers, marks and series.
fn fingerprints(rec: &RunRecord) -> [u64; 3] {
    let mut h = DefaultHasher::new();
    rec.timers.len().hash(&mut h);
    for t in &rec.timers {
        (&t.name, t.start_s.to_bits(), t.end_s.to_bits(), t.depth).hash(&mut h);
        (t.parent, t.closed_at_exit).hash(&mut h);
    }
    let timers = h.finish();
    let mut h = DefaultHasher::new();
    rec.marks.len().hash(&mut h);
    for m in &rec.marks {
        (m.t_s.to_bits(), &m.text).hash(&mut h);
    }
    let marks = h.finish();
    let mut h = DefaultHasher::new();
    rec.series.len().hash(&mut h);
    for s in &rec.series {
        s.points.len().hash(&mut h);
        (&s.name, &s.algorithm, &s.source, s.main).hash(&mut h);
        s.direction.map(|d| d == Direction::Minimize).hash(&mut h);
        (
            s.direction_from.map(|d| d.as_str()),
            s.role.map(|r| r.as_str()),
        )
            .hash(&mut h);
        for p in &s.points {
            (p.iter, p.t_s.to_bits(), p.value.to_bits()).hash(&mut h);
        }
    }
    [timers, marks, h.finish()]
}

impl Store {
    /// Stores a whole record as a new run in one transaction, so that a copy cut off midway
    /// (`import`, `push` losing its server) leaves nothing behind; returns the new id. The run
    /// `replacing` (an incomplete copy of the same run) is deleted in the same transaction.
    pub fn insert_whole(
        &mut self,
        rec: &RunRecord,
        replacing: Option<i64>,
    ) -> Result<i64, StoreError> {
        self.tx(|db| {
            if let Some(old) = replacing {
                super::runs::delete_rows(db, &[old])?;
            }
            let id = super::runs::insert_meta(db, &rec.meta)?;
            RunWriter::new(id).write_in(db, rec, true)?;
            Ok(id)
        })
    }
}
