//! The database schema as an append-only list of migrations, tracked by `PRAGMA user_version`.
//!
//! Never edit a migration that has shipped: append a new one. All pending migrations run inside
//! one exclusive transaction, so concurrent openers see either the old or the new schema, and a
//! failure leaves the file as it was. A file written by a newer perfmon (user_version beyond
//! [`MIGRATIONS`]) is refused before anything is written to it.

use rusqlite::{Connection, TransactionBehavior};

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
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("schema version {found} is newer than this perfmon supports ({supported})")]
    TooNew { found: u32, supported: u32 },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

pub fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map(|v| v.clamp(0, i64::from(u32::MAX)) as u32)
}

/// Refuses a schema newer than this build, without writing anything.
pub fn check_not_newer(conn: &Connection) -> Result<u32, MigrateError> {
    let found = user_version(conn)?;
    if found > latest() {
        return Err(MigrateError::TooNew {
            found,
            supported: latest(),
        });
    }
    Ok(found)
}

/// Applies the pending migrations in one exclusive transaction; returns how many ran.
pub fn migrate(conn: &mut Connection) -> Result<usize, MigrateError> {
    if check_not_newer(conn)? == latest() {
        return Ok(0);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    // Re-read inside the lock: another process may have migrated meanwhile.
    let found = check_not_newer(&tx)?;
    let pending = &MIGRATIONS[found as usize..];
    for sql in pending {
        tx.execute_batch(sql)?;
    }
    // PRAGMA takes no parameters; the value is our own integer.
    tx.execute_batch(&format!("PRAGMA user_version = {}", latest()))?;
    tx.commit()?;
    Ok(pending.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut c).unwrap(), MIGRATIONS.len());
        let schema = |c: &Connection| -> Vec<String> {
            let mut st = c
                .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
                .unwrap();
            st.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let before = schema(&c);
        assert_eq!(migrate(&mut c).unwrap(), 0);
        assert_eq!(schema(&c), before);
        assert_eq!(user_version(&c).unwrap(), latest());
    }

    #[test]
    fn a_newer_schema_is_refused_untouched() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("PRAGMA user_version = 999").unwrap();
        let e = migrate(&mut c).unwrap_err();
        assert!(matches!(e, MigrateError::TooNew { found: 999, .. }), "{e}");
        let tables: i64 = c
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0);
    }
}
