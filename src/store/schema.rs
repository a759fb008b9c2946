//! The database schema as an append-only list of migrations, tracked by `PRAGMA user_version`.
//!
//! Never edit a migration that has shipped: append a new one. All pending migrations run inside
//! one exclusive transaction, so concurrent openers see either the old or the new schema, and a
//! failure leaves the file as it was. A file written by a newer perfmon (user_version beyond
//! [`MIGRATIONS`]) is refused before anything is written to it.
//!
//! The migrations are written in SQLite's dialect and serve PostgreSQL too, through
//! [`for_dialect`] (its column types); there the version lives in a `perfmon_schema` table and
//! an advisory lock keeps two migrating processes apart.

use super::db::{Db, DbError, Dialect, Val};

/// Migration `i` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // v1: runs, tags, groups, compressed sample chunks and process tracks, timers, marks, series.
    r#"
    CREATE TABLE runs (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        name            TEXT,
        status          TEXT NOT NULL,
        started_at_ms   INTEGER NOT NULL,
        wall_s          REAL,
        exit_code       INTEGER,
        signal          INTEGER,
        command         TEXT NOT NULL,             -- JSON array of strings
        cwd             TEXT NOT NULL,
        host            TEXT NOT NULL,             -- JSON HostInfo
        git             TEXT,                      -- JSON GitInfo
        perfmon_version TEXT NOT NULL,
        interval_ms     INTEGER NOT NULL,
        env             TEXT NOT NULL,             -- JSON array of [name, value]
        group_id        INTEGER,
        totals          TEXT NOT NULL DEFAULT '{}', -- JSON Totals
        gpus            TEXT NOT NULL DEFAULT '[]', -- JSON array of GpuDevice
        gpu_status      TEXT NOT NULL DEFAULT '',
        diagnostics     TEXT NOT NULL DEFAULT '{}', -- JSON ParseDiagnostics
        n_samples       INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_by_name ON runs(name, id);
    CREATE INDEX runs_by_group ON runs(group_id, id);
    CREATE TABLE run_tags (
        run_id INTEGER NOT NULL,
        pos    INTEGER NOT NULL,
        key    TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (run_id, pos)
    );
    CREATE INDEX run_tags_by_kv ON run_tags(key, value);
    CREATE TABLE run_groups (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        name          TEXT,
        created_at_ms INTEGER NOT NULL
    );
    -- seq-th chunk of CHUNK samples (the last one may be partial and is rewritten).
    CREATE TABLE sample_chunks (
        run_id INTEGER NOT NULL,
        seq    INTEGER NOT NULL,
        n      INTEGER NOT NULL,
        ncols  INTEGER NOT NULL,
        data   BLOB NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE tracks (
        run_id       INTEGER NOT NULL,
        pid          INTEGER NOT NULL,
        first_sample INTEGER NOT NULL,
        ord          INTEGER NOT NULL,
        ppid         INTEGER NOT NULL,
        name         TEXT NOT NULL,
        PRIMARY KEY (run_id, pid, first_sample)
    );
    CREATE TABLE track_chunks (
        run_id       INTEGER NOT NULL,
        pid          INTEGER NOT NULL,
        first_sample INTEGER NOT NULL,
        seq          INTEGER NOT NULL,
        n            INTEGER NOT NULL,
        data         BLOB NOT NULL,
        PRIMARY KEY (run_id, pid, first_sample, seq)
    );
    CREATE TABLE timers (
        run_id         INTEGER NOT NULL,
        idx            INTEGER NOT NULL,
        name           TEXT NOT NULL,
        start_s        REAL NOT NULL,
        end_s          REAL NOT NULL,
        depth          INTEGER NOT NULL,
        parent         INTEGER,
        closed_at_exit INTEGER NOT NULL,
        PRIMARY KEY (run_id, idx)
    );
    CREATE TABLE marks (
        run_id INTEGER NOT NULL,
        idx    INTEGER NOT NULL,
        t_s    REAL NOT NULL,
        text   TEXT NOT NULL,
        PRIMARY KEY (run_id, idx)
    );
    CREATE TABLE series (
        run_id    INTEGER NOT NULL,
        idx       INTEGER NOT NULL,
        name      TEXT NOT NULL,
        algorithm TEXT,
        source    TEXT NOT NULL,
        direction TEXT,
        main      INTEGER NOT NULL,
        n         INTEGER NOT NULL,
        data      BLOB NOT NULL,  -- iter, t_s bits, value bits; see codec
        PRIMARY KEY (run_id, idx)
    );
    "#,
    // v2: budgets crossed during the run (`--budget`), as JSON.
    r#"
    ALTER TABLE runs ADD COLUMN violations TEXT NOT NULL DEFAULT '[]';
    "#,
    // v3: who declared a series' direction (`recorded`, `output`, `option`, `config`) and the
    // role the output gave it (`parameter`), NULL for older runs; each process' command line.
    r#"
    ALTER TABLE series ADD COLUMN direction_from TEXT;
    ALTER TABLE series ADD COLUMN role TEXT;
    ALTER TABLE tracks ADD COLUMN cmdline TEXT NOT NULL DEFAULT '';
    "#,
    // v4: a global identity for each run, the same in every store it is copied to (runs
    // recorded before get one when migrating: see `backfill_uuids`).
    r#"
    ALTER TABLE runs ADD COLUMN uuid TEXT;
    CREATE UNIQUE INDEX runs_by_uuid ON runs(uuid);
    "#,
];

/// The schema version from which runs carry a UUID.
const UUID_VERSION: u32 = 4;

/// A migration's SQL in `dialect`: PostgreSQL gets BIGINT for INTEGER (SQLite's are 64-bit),
/// DOUBLE PRECISION for REAL, BYTEA for BLOB and an identity column for AUTOINCREMENT.
pub fn for_dialect(sql: &str, dialect: Dialect) -> String {
    if dialect == Dialect::Sqlite {
        return sql.to_string();
    }
    let sql = sql.replace(
        "INTEGER PRIMARY KEY AUTOINCREMENT",
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    );
    // Whole upper-case words only: column names are lower case.
    let types = regex::Regex::new(r"\b(INTEGER|REAL|BLOB)\b").expect("a valid pattern");
    types
        .replace_all(&sql, |c: &regex::Captures| match &c[1] {
            "INTEGER" => "BIGINT",
            "REAL" => "DOUBLE PRECISION",
            _ => "BYTEA",
        })
        .into_owned()
}

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("schema version {found} is newer than this perfmon supports ({supported})")]
    TooNew { found: u32, supported: u32 },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Refuses a schema newer than this build, without writing anything.
pub fn check_not_newer(db: &mut dyn Db) -> Result<u32, MigrateError> {
    let found = db.schema_version()?;
    if found > latest() {
        return Err(MigrateError::TooNew {
            found,
            supported: latest(),
        });
    }
    Ok(found)
}

/// Applies the pending migrations in one exclusive transaction; returns how many ran.
pub fn migrate(db: &mut dyn Db) -> Result<usize, MigrateError> {
    if check_not_newer(db)? == latest() {
        return Ok(0);
    }
    db.begin_migration()?;
    match apply_pending(db) {
        Ok(n) => {
            db.commit()?;
            Ok(n)
        }
        Err(e) => {
            let _ = db.rollback();
            Err(e)
        }
    }
}

fn apply_pending(db: &mut dyn Db) -> Result<usize, MigrateError> {
    // Re-read inside the lock: another process may have migrated meanwhile.
    let found = check_not_newer(db)?;
    let pending = &MIGRATIONS[found as usize..];
    for sql in pending {
        db.batch(&for_dialect(sql, db.dialect()))?;
    }
    if found < UUID_VERSION {
        backfill_uuids(db)?;
    }
    db.set_schema_version(latest())?;
    Ok(pending.len())
}

/// Gives every run without a UUID a new one.
fn backfill_uuids(db: &mut dyn Db) -> Result<(), DbError> {
    for row in db.query("SELECT id FROM runs WHERE uuid IS NULL", &[])? {
        let id: i64 = row.get(0)?;
        db.exec(
            "UPDATE runs SET uuid = ?1 WHERE id = ?2",
            &[Val::Text(uuid::Uuid::new_v4().to_string()), Val::Int(id)],
        )?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::db::sqlite::Sqlite;
    use crate::store::Journal;
    use rusqlite::Connection;

    fn memory() -> Sqlite {
        Sqlite {
            conn: Connection::open_in_memory().unwrap(),
            journal: Journal::Wal,
        }
    }

    #[test]
    fn postgres_gets_its_own_column_types() {
        let sql = for_dialect(MIGRATIONS[0], Dialect::Postgres);
        assert!(
            sql.contains("id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
            "{sql}"
        );
        assert!(sql.contains("wall_s          DOUBLE PRECISION,"), "{sql}");
        assert!(sql.contains("data   BYTEA NOT NULL"), "{sql}");
        assert!(sql.contains("started_at_ms   BIGINT NOT NULL"), "{sql}");
        assert!(!sql.contains("INTEGER") && !sql.contains("BLOB") && !sql.contains(" REAL"));
        // Names that merely contain a type's letters are untouched.
        assert!(sql.contains("interval_ms     BIGINT") && sql.contains("n_samples"));
        assert_eq!(for_dialect(MIGRATIONS[0], Dialect::Sqlite), MIGRATIONS[0]);
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut m = memory();
        assert_eq!(migrate(&mut m).unwrap(), MIGRATIONS.len());
        let c = &m.conn;
        let schema = |c: &Connection| -> Vec<String> {
            let mut st = c
                .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
                .unwrap();
            st.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let before = schema(c);
        assert_eq!(migrate(&mut m).unwrap(), 0);
        assert_eq!(schema(&m.conn), before);
        assert_eq!(m.schema_version().unwrap(), latest());
    }

    #[test]
    fn a_newer_schema_is_refused_untouched() {
        let mut m = memory();
        m.conn.execute_batch("PRAGMA user_version = 999").unwrap();
        let e = migrate(&mut m).unwrap_err();
        assert!(matches!(e, MigrateError::TooNew { found: 999, .. }), "{e}");
        let tables: i64 = m
            .conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0);
    }
}
