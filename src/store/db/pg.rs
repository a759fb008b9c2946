//! The PostgreSQL backend (`postgres`, the synchronous client: perfmon's storage calls are
//! sequential, so an async runtime in the callers would buy nothing). Statements are prepared
//! once per connection; `?N` placeholders become `$N`. Integers are BIGINT, floats DOUBLE
//! PRECISION and blobs BYTEA, so values convert one to one with SQLite's.

use std::collections::HashMap;
use std::error::Error as _;

use postgres::config::{Host, SslMode as Wire};
use postgres::types::{FromSql, IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::dsn::{Dsn, RootCerts, SslMode};
use super::tls::client_config;
use super::{Db, DbError, Dialect, Row, Val};

/// A connection to a PostgreSQL database.
pub struct Pg {
    client: Client,
    statements: HashMap<String, Statement>,
    /// Scrubbed from every error message (the client library never prints it, but a server
    /// message might quote what it was given).
    password: Option<String>,
}

type BoxErr = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Val {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxErr> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => Err(format!("an integer for a {ty} parameter").into()),
            },
            Val::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(format!("a float for a {ty} parameter").into()),
            },
            Val::Text(s) => s.as_str().to_sql(ty, out),
            Val::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for Val {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Val, BoxErr> {
        Ok(match *ty {
            Type::INT8 => Val::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Val::Int(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => Val::Int(i64::from(i16::from_sql(ty, raw)?)),
            Type::BOOL => Val::Int(i64::from(bool::from_sql(ty, raw)?)),
            Type::FLOAT8 => Val::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Val::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::BYTEA => Val::Blob(<&[u8]>::from_sql(ty, raw)?.to_vec()),
            _ if <&str as FromSql>::accepts(ty) => Val::Text(<&str>::from_sql(ty, raw)?.into()),
            _ => return Err(format!("a column of type {ty}").into()),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Val, BoxErr> {
        Ok(Val::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// `?N` placeholders as PostgreSQL's `$N` (the store's SQL has no `?` elsewhere).
pub fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

impl Pg {
    /// Connects; an unreachable server is a [`DbError`] naming the cause.
    pub fn connect(dsn: &Dsn) -> Result<Pg, DbError> {
        let password = dsn.password.clone();
        let client = open(dsn)?;
        Ok(Pg {
            client,
            statements: HashMap::new(),
            password,
        })
    }

    fn err(&self, e: &postgres::Error) -> DbError {
        error(e, self.password.as_deref())
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self
            .client
            .prepare(&placeholders(sql))
            .map_err(|e| error(&e, self.password.as_deref()))?;
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }
}

/// Connects with libpq's `sslmode` semantics: allow tries plain text first and TLS when the
/// server refuses that; prefer tries TLS first (when the server offers it) and plain text when
/// the TLS handshake fails; require and the verify modes use TLS or fail. A Unix socket never
/// carries TLS (PostgreSQL does not offer it there; libpq does not ask).
fn open(dsn: &Dsn) -> Result<Client, DbError> {
    let scrub = |e: postgres::Error| error(&e, dsn.password.as_deref());
    let plain = || with_mode(dsn, Wire::Disable, NoTls);
    let unix_only = dsn
        .config
        .get_hosts()
        .iter()
        .all(|h| matches!(h, Host::Unix(_)));
    if dsn.tls.mode == SslMode::Disable || unix_only {
        return plain().map_err(scrub);
    }
    let tls = MakeRustlsConnect::new(client_config(&dsn.tls).map_err(DbError::new)?);
    let result = match dsn.tls.mode {
        SslMode::Allow => plain().or_else(|e| match e.as_db_error() {
            Some(_) => with_mode(dsn, Wire::Require, tls),
            None => Err(e),
        }),
        SslMode::Prefer => {
            with_mode(dsn, Wire::Prefer, tls).or_else(|e| if is_tls(&e) { plain() } else { Err(e) })
        }
        _ => with_mode(dsn, Wire::Require, tls),
    };
    result.map_err(|e| {
        let tls_failed = is_tls(&e);
        let mut err = scrub(e);
        if tls_failed {
            err.msg.push_str(&match &dsn.tls.roots {
                Some(RootCerts::File(f)) => format!(" (root certificates: {})", f.display()),
                Some(RootCerts::System) => " (root certificates: the system's)".into(),
                None => String::new(),
            });
        }
        err
    })
}

fn with_mode<T>(dsn: &Dsn, mode: Wire, tls: T) -> Result<Client, postgres::Error>
where
    T: postgres::tls::MakeTlsConnect<postgres::Socket> + 'static + Send,
    T::TlsConnect: Send,
    T::Stream: Send,
    <T::TlsConnect as postgres::tls::TlsConnect<postgres::Socket>>::Future: Send,
{
    let mut config = dsn.config.clone();
    config.ssl_mode(mode);
    config.connect(tls)
}

/// Whether the connection failed in the TLS handshake itself (rustls refused the server).
fn is_tls(e: &postgres::Error) -> bool {
    e.source()
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .and_then(std::io::Error::get_ref)
        .is_some_and(|inner| inner.is::<rustls::Error>())
}

/// The client's error as a [`DbError`]: the server's own message when it sent one, else the
/// cause (refused, timed out, closed), with any password scrubbed.
fn error(e: &postgres::Error, password: Option<&str>) -> DbError {
    let (msg, busy) = match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            // serialization_failure, deadlock_detected, lock_not_available.
            let busy = matches!(code, "40001" | "40P01" | "55P03");
            (format!("{} ({code})", db.message()), busy)
        }
        None => {
            let mut msg = e.to_string();
            let mut src = e.source();
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            (msg, false)
        }
    };
    let msg = match password.filter(|p| !p.is_empty()) {
        Some(p) => msg.replace(p, "***"),
        None => msg,
    };
    DbError { msg, busy }
}

fn params(vals: &[Val]) -> Vec<&(dyn ToSql + Sync)> {
    vals.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Db for Pg {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn exec(&mut self, sql: &str, vals: &[Val]) -> Result<u64, DbError> {
        let st = self.statement(sql)?;
        self.client
            .execute(&st, &params(vals))
            .map_err(|e| self.err(&e))
    }

    fn query(&mut self, sql: &str, vals: &[Val]) -> Result<Vec<Row>, DbError> {
        let st = self.statement(sql)?;
        let rows = self
            .client
            .query(&st, &params(vals))
            .map_err(|e| self.err(&e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut vals = Vec::with_capacity(r.len());
            for i in 0..r.len() {
                vals.push(r.try_get::<_, Val>(i).map_err(|e| self.err(&e))?);
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.client.batch_execute(sql).map_err(|e| self.err(&e))
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN")
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.batch("COMMIT")
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        self.batch("ROLLBACK")
    }

    fn begin_migration(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN")?;
        // One migrating perfmon at a time; the lock ends with the transaction.
        self.exec("SELECT pg_advisory_xact_lock(7160201417)", &[])?;
        self.batch("CREATE TABLE IF NOT EXISTS perfmon_schema (version BIGINT NOT NULL)")
    }

    fn schema_version(&mut self) -> Result<u32, DbError> {
        let exists = self.query("SELECT to_regclass('perfmon_schema')::text", &[])?;
        if exists
            .first()
            .map(|r| r.get::<Option<String>>(0))
            .transpose()?
            .flatten()
            .is_none()
        {
            return Ok(0);
        }
        let rows = self.query("SELECT max(version) FROM perfmon_schema", &[])?;
        let v: Option<i64> = rows.first().map(|r| r.get(0)).transpose()?.flatten();
        Ok(v.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32)
    }

    fn set_schema_version(&mut self, v: u32) -> Result<(), DbError> {
        self.exec("DELETE FROM perfmon_schema", &[])?;
        self.exec(
            "INSERT INTO perfmon_schema (version) VALUES (?1)",
            &[Val::Int(i64::from(v))],
        )?;
        Ok(())
    }

    fn integrity_problems(&mut self) -> Result<Vec<String>, DbError> {
        // The server keeps its own files consistent; what perfmon checks is that every run
        // decodes (done above this trait).
        Ok(Vec::new())
    }

    fn reclaim(&mut self) -> Result<u64, DbError> {
        let size = |db: &mut Pg| -> Result<i64, DbError> {
            let rows = db.query("SELECT pg_database_size(current_database())", &[])?;
            Ok(rows.first().map(|r| r.get(0)).transpose()?.unwrap_or(0))
        };
        let before = size(self)?;
        // Plain VACUUM: it never blocks the runs being written meanwhile (VACUUM FULL would
        // lock every table); the space becomes reusable, and the files may not shrink.
        self.batch("VACUUM runs, run_tags, run_groups, sample_chunks, tracks, track_chunks, timers, marks, series")?;
        Ok(u64::try_from(before - size(self)?).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE x = ?1 AND y = ?12 LIMIT ?3"),
            "SELECT a FROM t WHERE x = $1 AND y = $12 LIMIT $3"
        );
        assert_eq!(placeholders("SELECT '?'"), "SELECT '?'");
    }
}
