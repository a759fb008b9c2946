//! Loading a whole run back (stitching sample and track chunks together) and checking the
//! database's integrity. Every blob is decoded defensively: damage is a
//! [`StoreError::Corrupt`] for that run, never a panic.

use std::collections::HashMap;

use super::codec::{self, Reader, CHUNK};
use super::db::{DbError, Row, Val};
use super::runs::{meta_from_raw, raw_from_row, META_COLUMNS};
use super::{Store, StoreError};
use crate::model::{
    Direction, DirectionFrom, Mark, Point, ProcessTrack, Role, RunRecord, SampleSet, Series,
    TimerSpan, MISSING,
};

/// Largest count a row may declare for a blob (guards allocation on damaged rows).
const MAX_POINTS: usize = 1 << 26;

fn corrupt(run_id: i64, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        run_id,
        detail: detail.into(),
    }
}

fn count(run_id: i64, what: &str, v: i64, max: usize) -> Result<usize, StoreError> {
    usize::try_from(v)
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| corrupt(run_id, format!("{what}: bad count {v}")))
}

/// Which parts of a run to read (metadata and totals always).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadParts {
    /// Samples and process tracks.
    pub samples: bool,
    /// Timers and marks.
    pub timers: bool,
    /// Progress series.
    pub series: bool,
}

impl LoadParts {
    pub const ALL: LoadParts = LoadParts {
        samples: true,
        timers: true,
        series: true,
    };

    /// The run's row only: metadata and totals.
    pub const NONE: LoadParts = LoadParts {
        samples: false,
        timers: false,
        series: false,
    };

    /// Everything but the samples and process tracks.
    pub const SUMMARY: LoadParts = LoadParts {
        samples: false,
        timers: true,
        series: true,
    };
}

/// Runs read per query: every query names its runs by `IN (...)`, within both backends'
/// parameter limits.
const BATCH: usize = 500;

impl Store {
    pub fn load_run(&self, id: i64) -> Result<RunRecord, StoreError> {
        self.load_run_with(id, &LoadParts::ALL)
    }

    /// A run without its samples and process tracks: metadata, totals, timers, series, marks.
    /// Cheap enough to read thousands of runs (`perfmon history`, `compare`).
    pub fn load_run_summary(&self, id: i64) -> Result<RunRecord, StoreError> {
        self.load_run_with(id, &LoadParts::SUMMARY)
    }

    /// A run with only the parts asked for; the others are left empty.
    pub fn load_run_with(&self, id: i64, parts: &LoadParts) -> Result<RunRecord, StoreError> {
        self.load_many(&[id], parts)?
            .pop()
            .ok_or_else(|| StoreError::NoSuchRun(id.to_string()))
    }

    /// Runs `ids`, in order, with the parts asked for, read a few hundred at a time (a query
    /// per table and batch, not per run: on a server each query is a round trip).
    pub fn load_many(&self, ids: &[i64], parts: &LoadParts) -> Result<Vec<RunRecord>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            out.extend(self.load_batch(chunk, parts)?);
        }
        Ok(out)
    }

    /// `SELECT {columns} FROM {table} WHERE {key} IN (ids) ORDER BY {order}`, each row handed
    /// to `f`; the ids go [`BATCH`] a query, within both backends' parameter limits.
    pub(super) fn each_of(
        &self,
        (columns, table, key, order): (&str, &str, &str, &str),
        ids: &[i64],
        f: &mut dyn FnMut(&mut Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for chunk in ids.chunks(BATCH) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
            // Names are our own constants; every id is a parameter.
            let sql = format!(
                "SELECT {columns} FROM {table} WHERE {key} IN ({}) ORDER BY {order}",
                marks.join(", ")
            );
            let params: Vec<Val> = chunk.iter().map(|i| Val::Int(*i)).collect();
            // A StoreError raised by `f` travels through the backend as a DbError and back.
            let mut failed: Option<StoreError> = None;
            let r = self.with(|db| {
                db.query_each(&sql, &params, &mut |row| {
                    f(row).map_err(|e| {
                        let msg = e.to_string();
                        failed = Some(e);
                        DbError::new(msg)
                    })
                })
            });
            if let Some(e) = failed {
                return Err(e);
            }
            r?;
        }
        Ok(())
    }

    /// Each row of `table` for runs `ids` decoded by `one`, grouped by run (column 0).
    pub(super) fn grouped<T>(
        &self,
        query: (&str, &str, &str, &str),
        ids: &[i64],
        one: impl Fn(i64, &mut Row) -> Result<T, StoreError>,
    ) -> Result<HashMap<i64, Vec<T>>, StoreError> {
        let mut out: HashMap<i64, Vec<T>> = HashMap::new();
        self.each_of(query, ids, &mut |r| {
            let id: i64 = r.get(0).map_err(|e| self.err(e))?;
            out.entry(id).or_default().push(one(id, r)?);
            Ok(())
        })?;
        Ok(out)
    }

    fn load_batch(&self, ids: &[i64], parts: &LoadParts) -> Result<Vec<RunRecord>, StoreError> {
        let e = |e| self.err(e);
        let columns = format!("{META_COLUMNS}, totals, gpus, gpu_status, diagnostics, violations");
        let mut runs: HashMap<i64, Row> = HashMap::new();
        self.each_of((&columns, "runs", "id", "id"), ids, &mut |r| {
            runs.insert(r.get(0).map_err(e)?, Row(std::mem::take(&mut r.0)));
            Ok(())
        })?;
        let mut tags = self.tags_of_many(ids)?;
        let mut timers = match parts.timers {
            true => self.grouped(
                (
                    "run_id, name, start_s, end_s, depth, parent, closed_at_exit",
                    "timers",
                    "run_id",
                    "run_id, idx",
                ),
                ids,
                |_, r| timer_of(r).map_err(e),
            )?,
            false => HashMap::new(),
        };
        let mut marks = match parts.timers {
            true => self.grouped(
                ("run_id, t_s, text", "marks", "run_id", "run_id, idx"),
                ids,
                |_, r| mark_of(r).map_err(e),
            )?,
            false => HashMap::new(),
        };
        let mut series = match parts.series {
            true => self.grouped(
                (
                    "run_id, name, algorithm, source, direction, main, n, data, direction_from, role",
                    "series",
                    "run_id",
                    "run_id, idx",
                ),
                ids,
                |id, r| series_of(id, r, e),
            )?,
            false => HashMap::new(),
        };
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            let row = runs
                .remove(&id)
                .ok_or_else(|| StoreError::NoSuchRun(id.to_string()))?;
            let mut rec = self.record_of(&row, tags.remove(&id).unwrap_or_default())?;
            if parts.timers {
                rec.timers = timers.remove(&id).unwrap_or_default();
                rec.marks = marks.remove(&id).unwrap_or_default();
            }
            if parts.series {
                rec.series = series.remove(&id).unwrap_or_default();
            }
            if parts.samples {
                rec.samples = self.load_samples(id)?;
                rec.processes = self.load_tracks(id)?;
            }
            out.push(rec);
        }
        Ok(out)
    }

    /// The record of a run row (metadata and the run's JSON columns); its parts left empty.
    fn record_of(&self, row: &Row, tags: Vec<(String, String)>) -> Result<RunRecord, StoreError> {
        let raw = raw_from_row(row).map_err(|e| self.err(e))?;
        let id = raw.id;
        let n = META_COLUMNS.split(',').count();
        let text = |i: usize| row.get::<String>(n + i).map_err(|e| self.err(e));
        let (totals, gpus, gpu_status, diagnostics, violations) =
            (text(0)?, text(1)?, text(2)?, text(3)?, text(4)?);
        let json_err = |what: &str, e: serde_json::Error| corrupt(id, format!("{what}: {e}"));
        Ok(RunRecord {
            meta: meta_from_raw(raw, tags)?,
            totals: json_or_default(&totals).map_err(|e| json_err("totals", e))?,
            samples: SampleSet::default(),
            gpus: serde_json::from_str(&gpus).map_err(|e| json_err("gpus", e))?,
            gpu_status,
            timers: Vec::new(),
            series: Vec::new(),
            marks: Vec::new(),
            diagnostics: json_or_default(&diagnostics).map_err(|e| json_err("diagnostics", e))?,
            processes: Vec::new(),
            violations: serde_json::from_str(&violations).map_err(|e| json_err("violations", e))?,
        })
    }

    /// The rows of a query about one run.
    fn rows(&self, sql: &str, id: i64) -> Result<Vec<Row>, StoreError> {
        self.with(|db| db.query(sql, &[Val::Int(id)]))
    }

    fn load_samples(&self, id: i64) -> Result<SampleSet, StoreError> {
        let e = |e| self.err(e);
        let rows = self.rows(
            "SELECT seq, n, ncols, data FROM sample_chunks WHERE run_id = ?1 ORDER BY seq",
            id,
        )?;
        let mut out = SampleSet::default();
        let mut short_seen = false;
        for (expect_seq, r) in (0i64..).zip(rows) {
            let seq: i64 = r.get(0).map_err(e)?;
            let n = count(id, "sample chunk", r.get(1).map_err(e)?, CHUNK)?;
            let ncols = count(id, "sample chunk", r.get(2).map_err(e)?, 1 << 16)?;
            let blob: Vec<u8> = r.get(3).map_err(e)?;
            if seq != expect_seq || short_seen {
                return Err(corrupt(id, format!("sample chunk {seq} out of sequence")));
            }
            short_seen = n < CHUNK;
            let chunk = codec::decode_chunk(&blob, n, ncols)
                .map_err(|e| corrupt(id, format!("sample chunk {seq}: {e}")))?;
            let offset = out.t_us.len();
            out.t_us.extend_from_slice(&chunk.t_us);
            for (name, vals) in chunk.columns {
                out.columns
                    .entry(name)
                    .or_insert_with(|| vec![MISSING; offset])
                    .extend_from_slice(&vals);
            }
            for col in out.columns.values_mut() {
                col.resize(offset + n, MISSING);
            }
        }
        Ok(out)
    }

    fn load_tracks(&self, id: i64) -> Result<Vec<ProcessTrack>, StoreError> {
        let e = |e| self.err(e);
        let mut values: HashMap<(u32, i64), (Vec<i64>, Vec<i64>)> = HashMap::new();
        let chunks = self.rows(
            "SELECT pid, first_sample, seq, n, data FROM track_chunks WHERE run_id = ?1
             ORDER BY pid, first_sample, seq",
            id,
        )?;
        for r in chunks {
            let pid: u32 = r.get(0).map_err(e)?;
            let first: i64 = r.get(1).map_err(e)?;
            let seq: i64 = r.get(2).map_err(e)?;
            let n = count(id, "track chunk", r.get(3).map_err(e)?, CHUNK)?;
            let blob: Vec<u8> = r.get(4).map_err(e)?;
            let v = values.entry((pid, first)).or_default();
            if i64::try_from(v.0.len()).ok() != seq.checked_mul(CHUNK as i64) {
                return Err(corrupt(
                    id,
                    format!("track of pid {pid}: chunk {seq} out of sequence"),
                ));
            }
            let (a, b) = codec::decode_pair(&blob, n)
                .map_err(|err| corrupt(id, format!("track of pid {pid}: {err}")))?;
            v.0.extend(a);
            v.1.extend(b);
        }
        let rows = self.rows(
            "SELECT pid, first_sample, ppid, name, cmdline FROM tracks WHERE run_id = ?1 ORDER BY ord",
            id,
        )?;
        let mut out = Vec::new();
        for r in rows {
            let pid: u32 = r.get(0).map_err(e)?;
            let first: i64 = r.get(1).map_err(e)?;
            // A track row without chunks is a track of no values (an imported empty track),
            // not damage: its vectors are empty.
            let (cpu_us, rss_kib) = values.remove(&(pid, first)).unwrap_or_default();
            out.push(ProcessTrack {
                pid,
                ppid: r.get(2).map_err(e)?,
                name: r.get(3).map_err(e)?,
                cmdline: r.get(4).map_err(e)?,
                first_sample: count(id, "track", first, usize::MAX)?,
                cpu_us,
                rss_kib,
            });
        }
        // Chunks whose track row is missing would otherwise be dropped without a word.
        if let Some((pid, first)) = values.keys().min() {
            return Err(corrupt(
                id,
                format!("track of pid {pid} (from sample {first}): values without a track row"),
            ));
        }
        Ok(out)
    }

    /// The backend's own check (SQLite's `PRAGMA integrity_check`) plus a full decode of every
    /// run. Returns the problems found, one line each (empty when the database is healthy);
    /// damaged runs are named by id.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = self.with(|db| db.integrity_problems())?;
        let ids: Vec<i64> = self.with(|db| {
            db.query("SELECT id FROM runs ORDER BY id", &[])?
                .iter()
                .map(|r| r.get(0))
                .collect()
        })?;
        for id in ids {
            if let Err(e) = self.load_run(id) {
                problems.push(e.to_string());
            }
        }
        Ok(problems)
    }
}

fn timer_of(r: &mut Row) -> Result<TimerSpan, DbError> {
    Ok(TimerSpan {
        name: r.take_text(1)?,
        start_s: r.get(2)?,
        end_s: r.get(3)?,
        depth: r.get(4)?,
        parent: r.get::<Option<i64>>(5)?.map(|p| p.max(0) as usize),
        closed_at_exit: r.get(6)?,
    })
}

fn mark_of(r: &mut Row) -> Result<Mark, DbError> {
    Ok(Mark {
        t_s: r.get(1)?,
        text: r.take_text(2)?,
    })
}

/// One series row of run `id`; `e` names the database in errors.
fn series_of(
    id: i64,
    r: &mut Row,
    e: impl Fn(DbError) -> StoreError,
) -> Result<Series, StoreError> {
    let name: String = r.take_text(1).map_err(&e)?;
    let n = count(id, "series", r.get(6).map_err(&e)?, MAX_POINTS)?;
    let points = decode_points(r.blob(7).map_err(&e)?, n)
        .map_err(|err| corrupt(id, format!("series {name}: {err}")))?;
    let direction = match r.get::<Option<String>>(4).map_err(&e)?.as_deref() {
        None => None,
        Some("minimize") => Some(Direction::Minimize),
        Some("maximize") => Some(Direction::Maximize),
        Some(d) => return Err(corrupt(id, format!("series {name}: direction {d:?}"))),
    };
    let direction_from = match r.get::<Option<String>>(8).map_err(&e)?.as_deref() {
        None => None,
        Some(d) => Some(
            DirectionFrom::parse(d)
                .ok_or_else(|| corrupt(id, format!("series {name}: direction_from {d:?}")))?,
        ),
    };
    let role = match r.get::<Option<String>>(9).map_err(&e)?.as_deref() {
        None => None,
        Some(x) => {
            Some(Role::parse(x).ok_or_else(|| corrupt(id, format!("series {name}: role {x:?}")))?)
        }
    };
    Ok(Series {
        name,
        algorithm: r.get(2).map_err(&e)?,
        source: r.get(3).map_err(&e)?,
        direction,
        direction_from,
        role,
        main: r.get(5).map_err(&e)?,
        points,
    })
}

fn decode_points(blob: &[u8], n: usize) -> Result<Vec<Point>, codec::DecodeError> {
    let raw = codec::decompress(blob, codec::raw_bound(n, 3))?;
    let mut r = Reader::new(&raw);
    let iters = codec::decode_column(&mut r, n)?;
    let ts = codec::decode_f64s(&mut r, n)?;
    let vs = codec::decode_f64s(&mut r, n)?;
    if !r.is_done() {
        return Err(codec::DecodeError("trailing bytes in series".into()));
    }
    Ok(iters
        .into_iter()
        .zip(ts)
        .zip(vs)
        .map(|((iter, t_s), value)| Point { iter, t_s, value })
        .collect())
}

/// Parses a JSON column; `{}`, the column default that a run keeps until its first flush (a
/// run still going, or whose perfmon died within seconds), is the type's default: such a run is
/// incomplete, not damaged.
fn json_or_default<T: Default + serde::de::DeserializeOwned>(
    s: &str,
) -> Result<T, serde_json::Error> {
    if s.trim() == "{}" {
        return Ok(T::default());
    }
    serde_json::from_str(s)
}
