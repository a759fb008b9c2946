//! Run rows: inserting and updating a run's metadata and tags, listing, resolving, deleting,
//! and repeat groups. All SQL is parameterized.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::{ListFilter, Store, StoreError};
use crate::model::{RunMeta, RunRecord, RunStatus};
use rusqlite::types::Value;

/// The columns [`meta_from_row`] reads, in order.
pub const META_COLUMNS: &str = "id, name, status, started_at_ms, wall_s, exit_code, signal, \
     command, cwd, host, git, perfmon_version, interval_ms, env, group_id";

/// Tables holding a run's data, keyed by `run_id`.
const RUN_TABLES: &[&str] = &[
    "run_tags",
    "sample_chunks",
    "tracks",
    "track_chunks",
    "timers",
    "marks",
    "series",
];

fn json<T: serde::Serialize>(v: &T) -> String {
    // Serializing these plain structs cannot fail (string keys, no maps with other keys).
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Inserts the run row of a new run; returns its id.
/// The run row's metadata columns, in the order of [`META_SET`] (placeholders ?1 to ?14).
fn meta_params(m: &RunMeta) -> Vec<Value> {
    vec![
        m.name.clone().into(),
        m.status.as_str().to_string().into(),
        m.started_at_ms.into(),
        m.wall_s.into(),
        m.exit_code.into(),
        m.signal.into(),
        json(&m.command).into(),
        m.cwd.clone().into(),
        json(&m.host).into(),
        m.git.as_ref().map(json).into(),
        m.perfmon_version.clone().into(),
        (m.interval_ms as i64).into(),
        json(&m.env).into(),
        m.group_id.into(),
    ]
}

/// Column names of [`meta_params`], in order.
const META_SET: [&str; 14] = [
    "name",
    "status",
    "started_at_ms",
    "wall_s",
    "exit_code",
    "signal",
    "command",
    "cwd",
    "host",
    "git",
    "perfmon_version",
    "interval_ms",
    "env",
    "group_id",
];

fn insert_meta(conn: &Connection, m: &RunMeta) -> rusqlite::Result<i64> {
    let marks: Vec<String> = (1..=META_SET.len()).map(|i| format!("?{i}")).collect();
    // Column names are our own constants; every value is a parameter.
    conn.execute(
        &format!(
            "INSERT INTO runs ({}) VALUES ({})",
            META_SET.join(", "),
            marks.join(", ")
        ),
        rusqlite::params_from_iter(meta_params(m)),
    )?;
    let id = conn.last_insert_rowid();
    write_tags(conn, id, &m.tags)?;
    Ok(id)
}

fn write_tags(conn: &Connection, id: i64, tags: &[(String, String)]) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM run_tags WHERE run_id = ?1", [id])?;
    let mut st = conn
        .prepare_cached("INSERT INTO run_tags (run_id, pos, key, value) VALUES (?1, ?2, ?3, ?4)")?;
    for (i, (k, v)) in tags.iter().enumerate() {
        st.execute(params![id, i as i64, k, v])?;
    }
    Ok(())
}

/// Rewrites everything of the run row from `rec` (metadata, totals, GPUs, diagnostics).
pub fn update_run_row(
    conn: &Connection,
    id: i64,
    rec: &RunRecord,
    n_samples: usize,
) -> rusqlite::Result<()> {
    const REST: [&str; 6] = [
        "totals",
        "gpus",
        "gpu_status",
        "diagnostics",
        "n_samples",
        "violations",
    ];
    let sets: Vec<String> = META_SET
        .iter()
        .chain(REST.iter())
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect();
    let mut values = meta_params(&rec.meta);
    values.extend([
        json(&rec.totals).into(),
        json(&rec.gpus).into(),
        rec.gpu_status.clone().into(),
        json(&rec.diagnostics).into(),
        (n_samples as i64).into(),
        json(&rec.violations).into(),
        id.into(),
    ]);
    // Column names are our own constants; every value is a parameter.
    conn.execute(
        &format!(
            "UPDATE runs SET {} WHERE id = ?{}",
            sets.join(", "),
            values.len()
        ),
        rusqlite::params_from_iter(values),
    )?;
    write_tags(conn, id, &rec.meta.tags)
}

/// A JSON column that failed to parse: the message names it.
fn parse_json<T: serde::de::DeserializeOwned>(
    what: &str,
    s: &str,
    run_id: i64,
) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt {
        run_id,
        detail: format!("{what}: {e}"),
    })
}

/// The raw values of a run row, before JSON parsing.
struct RawMeta {
    id: i64,
    name: Option<String>,
    status: String,
    started_at_ms: i64,
    wall_s: Option<f64>,
    exit_code: Option<i32>,
    signal: Option<i32>,
    command: String,
    cwd: String,
    host: String,
    git: Option<String>,
    perfmon_version: String,
    interval_ms: i64,
    env: String,
    group_id: Option<i64>,
}

fn raw_from_row(r: &Row) -> rusqlite::Result<RawMeta> {
    Ok(RawMeta {
        id: r.get(0)?,
        name: r.get(1)?,
        status: r.get(2)?,
        started_at_ms: r.get(3)?,
        wall_s: r.get(4)?,
        exit_code: r.get(5)?,
        signal: r.get(6)?,
        command: r.get(7)?,
        cwd: r.get(8)?,
        host: r.get(9)?,
        git: r.get(10)?,
        perfmon_version: r.get(11)?,
        interval_ms: r.get(12)?,
        env: r.get(13)?,
        group_id: r.get(14)?,
    })
}

fn meta_from_raw(r: RawMeta, tags: Vec<(String, String)>) -> Result<RunMeta, StoreError> {
    let id = r.id;
    Ok(RunMeta {
        id,
        name: r.name,
        tags,
        command: parse_json("command", &r.command, id)?,
        cwd: r.cwd,
        started_at_ms: r.started_at_ms,
        wall_s: r.wall_s,
        exit_code: r.exit_code,
        signal: r.signal,
        status: RunStatus::parse(&r.status).ok_or_else(|| StoreError::Corrupt {
            run_id: id,
            detail: format!("unknown status {:?}", r.status),
        })?,
        host: parse_json("host", &r.host, id)?,
        git: r
            .git
            .as_deref()
            .map(|g| parse_json("git", g, id))
            .transpose()?,
        perfmon_version: r.perfmon_version,
        interval_ms: r.interval_ms.max(0) as u64,
        env: parse_json("env", &r.env, id)?,
        group_id: r.group_id,
    })
}

/// `SELECT ... FROM runs` with the filter's conditions, newest first, and its parameters.
fn filtered_sql(select: &str, filter: &ListFilter) -> (String, Vec<Box<dyn rusqlite::ToSql>>) {
    let mut sql = format!("{select} WHERE 1");
    let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
    if let Some(name) = &filter.name {
        args.push(Box::new(name.clone()));
        sql.push_str(&format!(" AND name = ?{}", args.len()));
    }
    for (k, v) in &filter.tags {
        args.push(Box::new(k.clone()));
        args.push(Box::new(v.clone()));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id \
             AND t.key = ?{} AND t.value = ?{})",
            args.len() - 1,
            args.len()
        ));
    }
    args.push(Box::new(
        filter
            .limit
            .map(|l| i64::try_from(l).unwrap_or(i64::MAX))
            .unwrap_or(-1),
    ));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", args.len()));
    (sql, args)
}

impl Store {
    /// Inserts a run with status `incomplete` (whatever `meta.status` says) and returns its id.
    pub fn begin_run(&mut self, meta: &RunMeta) -> Result<i64, StoreError> {
        let mut m = meta.clone();
        m.status = RunStatus::Incomplete;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_err_of(&self.path, e))?;
        let id = insert_meta(&tx, &m).map_err(|e| sql_err_of(&self.path, e))?;
        tx.commit().map_err(|e| sql_err_of(&self.path, e))?;
        Ok(id)
    }

    fn tags_of(&self, id: i64) -> Result<Vec<(String, String)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT key, value FROM run_tags WHERE run_id = ?1 ORDER BY pos")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The metadata of one run; [`StoreError::NoSuchRun`] when it does not exist.
    pub(super) fn read_meta(&self, id: i64) -> Result<RunMeta, StoreError> {
        let raw = self
            .conn
            .query_row(
                &format!("SELECT {META_COLUMNS} FROM runs WHERE id = ?1"),
                [id],
                raw_from_row,
            )
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NoSuchRun(id.to_string()))?;
        meta_from_raw(raw, self.tags_of(id)?)
    }

    /// Resolves `last`, a numeric id, or a name (its latest run) to a run id.
    pub fn resolve(&self, spec: &str) -> Result<i64, StoreError> {
        let spec_t = spec.trim();
        let found: Option<i64> = if spec_t == "last" {
            self.conn
                .query_row("SELECT max(id) FROM runs", [], |r| r.get(0))
                .map_err(|e| self.err(e))?
        } else if let Ok(id) = spec_t.parse::<i64>() {
            self.conn
                .query_row("SELECT id FROM runs WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .map_err(|e| self.err(e))?
        } else {
            self.conn
                .query_row("SELECT max(id) FROM runs WHERE name = ?1", [spec], |r| {
                    r.get(0)
                })
                .map_err(|e| self.err(e))?
        };
        found.ok_or_else(|| StoreError::NoSuchRun(spec.to_string()))
    }

    /// Newest first.
    pub fn list_runs(&self, filter: &ListFilter) -> Result<Vec<RunMeta>, StoreError> {
        let (sql, args) = filtered_sql(&format!("SELECT {META_COLUMNS} FROM runs"), filter);
        let raws: Vec<RawMeta> = {
            let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
            let rows = st
                .query_map(rusqlite::params_from_iter(args.iter()), raw_from_row)
                .map_err(|e| self.err(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?
        };
        raws.into_iter()
            .map(|raw| {
                let tags = self.tags_of(raw.id)?;
                meta_from_raw(raw, tags)
            })
            .collect()
    }

    /// Ids and statuses of the runs `list_runs` would return, newest first, without reading
    /// their metadata: selections over thousands of runs stay fast.
    pub fn list_ids(&self, filter: &ListFilter) -> Result<Vec<(i64, RunStatus)>, StoreError> {
        let (sql, args) = filtered_sql("SELECT id, status FROM runs", filter);
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, status) = row.map_err(|e| self.err(e))?;
            // A status this perfmon does not know is damage, as in `read_meta` (which `list`
            // uses): taking it for `incomplete` would drop the run from every selection unseen.
            let status = RunStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
                run_id: id,
                detail: format!("unknown status {status:?}"),
            })?;
            out.push((id, status));
        }
        Ok(out)
    }

    /// Deletes runs and all their data; returns how many existed.
    pub fn delete_runs(&mut self, ids: &[i64]) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let e = |e| sql_err_of(&path, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let mut n = 0;
        for id in ids {
            n += tx
                .execute("DELETE FROM runs WHERE id = ?1", [id])
                .map_err(e)?;
            for t in RUN_TABLES {
                // Table names are our own constants; the id is a parameter.
                tx.execute(&format!("DELETE FROM {t} WHERE run_id = ?1"), [id])
                    .map_err(e)?;
            }
        }
        tx.commit().map_err(e)?;
        Ok(n)
    }

    /// Gives the space of deleted runs back to the file system (VACUUM, then a WAL checkpoint
    /// that truncates the log); returns how many bytes the files shrank by. VACUUM waits for
    /// other writers (busy timeout) like any write.
    pub fn reclaim(&mut self) -> Result<u64, StoreError> {
        let size = |p: &std::path::Path| {
            let wal = p.with_extension(format!(
                "{}-wal",
                p.extension().and_then(|e| e.to_str()).unwrap_or("")
            ));
            // Only the reported figure: no WAL file (DELETE journal mode) is 0 bytes.
            std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
                + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
        };
        let before = size(&self.path);
        self.conn.execute_batch("VACUUM").map_err(|e| self.err(e))?;
        // In DELETE journal mode there is no log to checkpoint; the pragma is then a no-op.
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        Ok(before.saturating_sub(size(&self.path)))
    }

    /// Creates a repeat group; runs join it through [`RunMeta::group_id`].
    pub fn create_group(&mut self, name: Option<&str>) -> Result<i64, StoreError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        self.conn
            .execute(
                "INSERT INTO run_groups (name, created_at_ms) VALUES (?1, ?2)",
                params![name, now],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The runs of a group, oldest first.
    pub fn group_runs(&self, group_id: i64) -> Result<Vec<i64>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT id FROM runs WHERE group_id = ?1 ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([group_id], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

fn sql_err_of(path: &std::path::Path, e: rusqlite::Error) -> StoreError {
    super::sql_err(path, e)
}
