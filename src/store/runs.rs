//! Run rows: inserting and updating a run's metadata and tags, listing, resolving, deleting,
//! and repeat groups. All SQL is parameterized.

use super::db::{insert_rows, int, Db, DbError, Row, Val};
use super::{ListFilter, Store, StoreError};
use crate::model::{RunMeta, RunRecord, RunStatus};

/// The columns [`meta_from_row`] reads, in order.
pub const META_COLUMNS: &str = "id, name, status, started_at_ms, wall_s, exit_code, signal, \
     command, cwd, host, git, perfmon_version, interval_ms, env, group_id, uuid";

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

/// The run row's metadata columns, in the order of [`META_SET`] (placeholders ?1 to ?14).
fn meta_params(m: &RunMeta) -> Vec<Val> {
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

/// Inserts the run row of a new run (with its UUID, a new one when it has none); returns its id.
pub fn insert_meta(db: &mut dyn Db, m: &RunMeta) -> Result<i64, DbError> {
    let marks: Vec<String> = (1..=META_SET.len() + 1).map(|i| format!("?{i}")).collect();
    let mut values = meta_params(m);
    values.push(Val::Text(if m.uuid.is_empty() {
        uuid::Uuid::new_v4().to_string()
    } else {
        m.uuid.clone()
    }));
    // Column names are our own constants; every value is a parameter.
    let rows = db.query(
        &format!(
            "INSERT INTO runs ({}, uuid) VALUES ({}) RETURNING id",
            META_SET.join(", "),
            marks.join(", ")
        ),
        &values,
    )?;
    let id: i64 = rows
        .first()
        .ok_or_else(|| DbError::new("the new run's id was not returned"))?
        .get(0)?;
    write_tags(db, id, &m.tags)?;
    Ok(id)
}

fn write_tags(db: &mut dyn Db, id: i64, tags: &[(String, String)]) -> Result<(), DbError> {
    db.exec("DELETE FROM run_tags WHERE run_id = ?1", &[Val::Int(id)])?;
    let mut values = Vec::with_capacity(tags.len() * 4);
    for (i, (k, v)) in tags.iter().enumerate() {
        values.extend([Val::Int(id), int(i), k.into(), v.into()]);
    }
    insert_rows(db, "run_tags (run_id, pos, key, value)", 4, &values, "")
}

/// Deletes runs `ids` and all their data, inside the caller's transaction; returns how many
/// existed.
pub fn delete_rows(db: &mut dyn Db, ids: &[i64]) -> Result<usize, DbError> {
    let mut n = 0;
    for id in ids {
        n += db.exec("DELETE FROM runs WHERE id = ?1", &[Val::Int(*id)])?;
        for t in RUN_TABLES {
            // Table names are our own constants; the id is a parameter.
            db.exec(
                &format!("DELETE FROM {t} WHERE run_id = ?1"),
                &[Val::Int(*id)],
            )?;
        }
    }
    Ok(n as usize)
}

/// Rewrites everything of the run row from `rec` (metadata, totals, GPUs, diagnostics).
pub fn update_run_row(
    db: &mut dyn Db,
    id: i64,
    rec: &RunRecord,
    n_samples: usize,
) -> Result<(), DbError> {
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
        int(n_samples),
        json(&rec.violations).into(),
        id.into(),
    ]);
    // Column names are our own constants; every value is a parameter.
    db.exec(
        &format!(
            "UPDATE runs SET {} WHERE id = ?{}",
            sets.join(", "),
            values.len()
        ),
        &values,
    )?;
    write_tags(db, id, &rec.meta.tags)
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
pub(super) struct RawMeta {
    pub(super) id: i64,
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
    uuid: Option<String>,
}

pub(super) fn raw_from_row(r: &Row) -> Result<RawMeta, DbError> {
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
        uuid: r.get(15)?,
    })
}

pub(super) fn meta_from_raw(
    r: RawMeta,
    tags: Vec<(String, String)>,
) -> Result<RunMeta, StoreError> {
    let id = r.id;
    Ok(RunMeta {
        id,
        uuid: r.uuid.unwrap_or_default(),
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
fn filtered_sql(select: &str, filter: &ListFilter) -> (String, Vec<Val>) {
    let mut sql = format!("{select} WHERE TRUE");
    let mut args: Vec<Val> = Vec::new();
    if let Some(name) = &filter.name {
        args.push(name.into());
        sql.push_str(&format!(" AND name = ?{}", args.len()));
    }
    for (k, v) in &filter.tags {
        args.push(k.into());
        args.push(v.into());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id \
             AND t.key = ?{} AND t.value = ?{})",
            args.len() - 1,
            args.len()
        ));
    }
    sql.push_str(" ORDER BY id DESC");
    if let Some(limit) = filter.limit {
        args.push(int(limit));
        sql.push_str(&format!(" LIMIT ?{}", args.len()));
    }
    (sql, args)
}

impl Store {
    /// Inserts a run with status `incomplete` (whatever `meta.status` says) and returns its id.
    pub fn begin_run(&mut self, meta: &RunMeta) -> Result<i64, StoreError> {
        let mut m = meta.clone();
        m.status = RunStatus::Incomplete;
        self.tx(|db| insert_meta(db, &m))
    }

    /// The tags of runs `ids`, by run, in their order (a query per 500 runs).
    pub(super) fn tags_of_many(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<(String, String)>>, StoreError> {
        self.grouped(
            ("run_id, key, value", "run_tags", "run_id", "run_id, pos"),
            ids,
            |_, r| {
                Ok((
                    r.take_text(1).map_err(|e| self.err(e))?,
                    r.take_text(2).map_err(|e| self.err(e))?,
                ))
            },
        )
    }

    /// The first value of the first row of a query (None without rows or for NULL).
    fn scalar(&self, sql: &str, params: &[Val]) -> Result<Option<i64>, StoreError> {
        self.with(|db| {
            Ok(db
                .query(sql, params)?
                .first()
                .map(|r| r.get::<Option<i64>>(0))
                .transpose()?
                .flatten())
        })
    }

    /// Resolves `last`, a numeric id, or a name (its latest run) to a run id.
    pub fn resolve(&self, spec: &str) -> Result<i64, StoreError> {
        let spec_t = spec.trim();
        let found = if spec_t == "last" {
            self.scalar("SELECT max(id) FROM runs", &[])?
        } else if let Ok(id) = spec_t.parse::<i64>() {
            self.scalar("SELECT id FROM runs WHERE id = ?1", &[Val::Int(id)])?
        } else {
            self.scalar("SELECT max(id) FROM runs WHERE name = ?1", &[spec.into()])?
        };
        found.ok_or_else(|| StoreError::NoSuchRun(spec.to_string()))
    }

    /// The id of the run with this UUID in this store, if it is here.
    pub fn find_uuid(&self, uuid: &str) -> Result<Option<(i64, RunStatus)>, StoreError> {
        let row = self.with(|db| {
            Ok(db
                .query(
                    "SELECT id, status FROM runs WHERE uuid = ?1",
                    &[uuid.into()],
                )?
                .into_iter()
                .next())
        })?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.get(0).map_err(|e| self.err(e))?;
        let status: String = row.get(1).map_err(|e| self.err(e))?;
        let status = RunStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
            run_id: id,
            detail: format!("unknown status {status:?}"),
        })?;
        Ok(Some((id, status)))
    }

    /// Every run's id and UUID, oldest first (`push --all` compares two stores by them without
    /// reading any run's metadata).
    pub fn id_uuids(&self) -> Result<Vec<(i64, String)>, StoreError> {
        self.with(|db| {
            db.query(
                "SELECT id, uuid FROM runs WHERE uuid IS NOT NULL ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .collect()
        })
    }

    /// Newest first.
    pub fn list_runs(&self, filter: &ListFilter) -> Result<Vec<RunMeta>, StoreError> {
        let (sql, args) = filtered_sql(&format!("SELECT {META_COLUMNS} FROM runs"), filter);
        let raws: Vec<RawMeta> =
            self.with(|db| db.query(&sql, &args)?.iter().map(raw_from_row).collect())?;
        let ids: Vec<i64> = raws.iter().map(|r| r.id).collect();
        let mut tags = self.tags_of_many(&ids)?;
        raws.into_iter()
            .map(|raw| {
                let tags = tags.remove(&raw.id).unwrap_or_default();
                meta_from_raw(raw, tags)
            })
            .collect()
    }

    /// Ids and statuses of the runs `list_runs` would return, newest first, without reading
    /// their metadata: selections over thousands of runs stay fast.
    pub fn list_ids(&self, filter: &ListFilter) -> Result<Vec<(i64, RunStatus)>, StoreError> {
        let (sql, args) = filtered_sql("SELECT id, status FROM runs", filter);
        let rows = self.with(|db| {
            db.query(&sql, &args)?
                .iter()
                .map(|r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)))
                .collect::<Result<Vec<_>, DbError>>()
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, status) in rows {
            // A status this perfmon does not know is damage, as in `load_run` (which `list`
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
        self.tx(|db| delete_rows(db, ids))
    }

    /// Gives the space of deleted runs back (SQLite: VACUUM, then a WAL checkpoint that
    /// truncates the log; PostgreSQL: VACUUM); returns how many bytes the store shrank by.
    /// SQLite's VACUUM waits for other writers (busy timeout) like any write.
    pub fn reclaim(&mut self) -> Result<u64, StoreError> {
        self.with(|db| db.reclaim())
    }

    /// Creates a repeat group; runs join it through [`RunMeta::group_id`].
    pub fn create_group(&mut self, name: Option<&str>) -> Result<i64, StoreError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        self.scalar(
            "INSERT INTO run_groups (name, created_at_ms) VALUES (?1, ?2) RETURNING id",
            &[name.into(), Val::Int(now)],
        )?
        .ok_or_else(|| StoreError::Other("the new group's id was not returned".into()))
    }

    /// The runs of a group, oldest first.
    pub fn group_runs(&self, group_id: i64) -> Result<Vec<i64>, StoreError> {
        self.with(|db| {
            db.query(
                "SELECT id FROM runs WHERE group_id = ?1 ORDER BY id",
                &[Val::Int(group_id)],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect()
        })
    }
}
