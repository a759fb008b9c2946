//! The SQLite backend: one file, opened with perfmon's pragmas (see `open.rs`). Statements are
//! prepared once per connection (`prepare_cached`).

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use super::{Db, DbError, Dialect, Row, Val};
use crate::store::open::{self, Journal};
use crate::store::LOG_CHECKPOINT_PAGES;

/// A SQLite connection.
pub struct Sqlite {
    pub conn: Connection,
    pub journal: Journal,
}

impl ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(i) => ValueRef::Integer(*i),
            Val::Real(f) => ValueRef::Real(*f),
            Val::Text(s) => ValueRef::Text(s.as_bytes()),
            Val::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn val_of(v: ValueRef) -> Val {
    match v {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(i) => Val::Int(i),
        ValueRef::Real(f) => Val::Real(f),
        ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Val::Blob(b.to_vec()),
    }
}

/// SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock.
pub fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError {
            busy: is_busy(&e),
            msg: e.to_string(),
        }
    }
}

impl Sqlite {
    /// Opens the file at `path` (which must exist) with perfmon's pragmas.
    pub fn connect(path: &std::path::Path, read_only: bool) -> Result<Sqlite, DbError> {
        Ok(Sqlite {
            conn: open::connect(path, read_only)?,
            journal: Journal::Wal,
        })
    }
}

impl Db for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        let mut st = self.conn.prepare_cached(sql)?;
        Ok(st.execute(rusqlite::params_from_iter(params.iter()))? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError> {
        let mut out = Vec::new();
        self.query_each(sql, params, &mut |r| {
            out.push(Row(std::mem::take(&mut r.0)));
            Ok(())
        })?;
        Ok(out)
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Val],
        f: &mut dyn FnMut(&mut Row) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let mut st = self.conn.prepare_cached(sql)?;
        let n = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
        let mut row = Row(Vec::with_capacity(n));
        while let Some(r) = rows.next()? {
            row.0.clear();
            for i in 0..n {
                row.0.push(val_of(r.get_ref(i)?));
            }
            f(&mut row)?;
        }
        Ok(())
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN IMMEDIATE")
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.batch("COMMIT")
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        self.batch("ROLLBACK")
    }

    fn begin_migration(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN EXCLUSIVE")
    }

    fn schema_version(&mut self) -> Result<u32, DbError> {
        let v: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok(v.clamp(0, i64::from(u32::MAX)) as u32)
    }

    fn set_schema_version(&mut self, v: u32) -> Result<(), DbError> {
        // PRAGMA takes no parameters; the value is our own integer.
        self.batch(&format!("PRAGMA user_version = {v}"))
    }

    fn integrity_problems(&mut self) -> Result<Vec<String>, DbError> {
        let rows = self.query("PRAGMA integrity_check", &[])?;
        let mut out = Vec::new();
        for r in rows {
            let line: String = r.get(0)?;
            if line != "ok" {
                out.push(line);
            }
        }
        Ok(out)
    }

    fn reclaim(&mut self) -> Result<u64, DbError> {
        let path = std::path::PathBuf::from(self.conn.path().unwrap_or_default());
        let size = |p: &std::path::Path| {
            let wal = p.with_extension(format!(
                "{}-wal",
                p.extension().and_then(|e| e.to_str()).unwrap_or("")
            ));
            // Only the reported figure: no WAL file (DELETE journal mode) is 0 bytes.
            std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
                + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
        };
        let before = size(&path);
        self.batch("VACUUM")?;
        // In DELETE journal mode there is no log to checkpoint; the pragma is then a no-op.
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        Ok(before.saturating_sub(size(&path)))
    }

    fn defer_checkpoint(&mut self) -> Result<(), DbError> {
        if self.journal != Journal::Wal {
            return Ok(());
        }
        self.conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )?;
        Ok(self
            .conn
            .pragma_update(None, "wal_autocheckpoint", LOG_CHECKPOINT_PAGES)?)
    }
}
