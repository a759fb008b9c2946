//! The one trait both storage backends implement ([`Db`]): SQLite (a file, `sqlite.rs`) and
//! PostgreSQL (a server, `pg.rs`). The rest of the store speaks SQL through it with SQLite-style
//! numbered placeholders (`?1`, `?2`...), which the PostgreSQL backend rewrites to `$1`, `$2`;
//! every value travels as a parameter ([`Val`]), never inside the SQL text.
//!
//! The SQL the store writes is the common part of both dialects: `INSERT ... ON CONFLICT ... DO
//! UPDATE`, `RETURNING id`, `TRUE`. What differs (pragmas, schema versions, locks, `VACUUM`,
//! integrity checks, column types) lives behind the trait's methods.

pub mod dsn;
pub mod pg;
pub mod sqlite;
pub mod tls;

/// A value passed to or read from SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// An error of a backend: its message, and whether retrying may help (another connection
/// holds a lock).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{msg}")]
pub struct DbError {
    pub msg: String,
    pub busy: bool,
}

impl DbError {
    pub fn new(msg: impl Into<String>) -> DbError {
        DbError {
            msg: msg.into(),
            busy: false,
        }
    }
}

/// The SQL dialect of a backend, for the few statements that differ (schema types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One storage backend: a connection to a SQLite file or a PostgreSQL database.
pub trait Db: Send {
    fn dialect(&self) -> Dialect;
    /// Runs one statement; returns the number of rows it changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError>;
    /// Runs one query and returns all its rows.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError>;
    /// Runs one query and hands its rows to `f` one at a time (a backend may reuse the row's
    /// buffer: reading millions of rows allocates no row each).
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Val],
        f: &mut dyn FnMut(&mut Row) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        for mut r in self.query(sql, params)? {
            f(&mut r)?;
        }
        Ok(())
    }
    /// Runs several statements without parameters (schema changes).
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// Starts a write transaction (SQLite: `BEGIN IMMEDIATE`, taking the write lock at once).
    fn begin(&mut self) -> Result<(), DbError>;
    fn commit(&mut self) -> Result<(), DbError>;
    fn rollback(&mut self) -> Result<(), DbError>;
    /// Starts the transaction migrations run in, holding the lock that keeps two perfmon
    /// processes from migrating at once.
    fn begin_migration(&mut self) -> Result<(), DbError>;
    /// The schema version stored in the database (0 for an empty one).
    fn schema_version(&mut self) -> Result<u32, DbError>;
    /// Records the schema version, inside the migration transaction.
    fn set_schema_version(&mut self, v: u32) -> Result<(), DbError>;
    /// The backend's own consistency check; one line per problem, empty when healthy.
    fn integrity_problems(&mut self) -> Result<Vec<String>, DbError>;
    /// Gives the space of deleted rows back; returns how many bytes the store shrank by.
    fn reclaim(&mut self) -> Result<u64, DbError>;
    /// SQLite: leave the write-ahead log for a later checkpoint (see `Store::defer_checkpoint`).
    fn defer_checkpoint(&mut self) -> Result<(), DbError> {
        Ok(())
    }
}

/// Parameters one multi-row statement may carry: under both backends' limits (SQLite 32,766,
/// PostgreSQL 65,535).
const MAX_PARAMS: usize = 4000;

/// Inserts rows of `ncols` values each (`values`, row after row) into `target` (`table (col,
/// ...)`), several rows a statement: one round trip per few hundred rows, not per row. `suffix`
/// follows the values (an `ON CONFLICT ...` clause, or empty).
pub fn insert_rows(
    db: &mut dyn Db,
    target: &str,
    ncols: usize,
    values: &[Val],
    suffix: &str,
) -> Result<(), DbError> {
    if ncols == 0 || values.len() % ncols != 0 {
        return Err(DbError::new(format!(
            "{} values do not make rows of {ncols}",
            values.len()
        )));
    }
    let per = (MAX_PARAMS / ncols).max(1) * ncols;
    for chunk in values.chunks(per) {
        let rows: Vec<String> = (0..chunk.len() / ncols)
            .map(|r| {
                let marks: Vec<String> =
                    (1..=ncols).map(|c| format!("?{}", r * ncols + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        // The target and suffix are our own constants; every value is a parameter.
        db.exec(
            &format!("INSERT INTO {target} VALUES {} {suffix}", rows.join(", ")),
            chunk,
        )?;
    }
    Ok(())
}

/// Runs `f` in a write transaction: committed when it succeeds, rolled back when it fails.
pub fn in_tx<T>(
    db: &mut dyn Db,
    f: impl FnOnce(&mut dyn Db) -> Result<T, DbError>,
) -> Result<T, DbError> {
    db.begin()?;
    match f(db) {
        Ok(v) => {
            db.commit()?;
            Ok(v)
        }
        Err(e) => {
            // The first error is the one worth reporting; a failed rollback adds nothing.
            let _ = db.rollback();
            Err(e)
        }
    }
}

/// A row of a query's result.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Val>);

impl Row {
    /// Column `i` as text, borrowed (no copy); a NULL or another type is an error.
    pub fn text(&self, i: usize) -> Result<&str, DbError> {
        match self.0.get(i) {
            Some(Val::Text(s)) => Ok(s),
            v => Err(DbError::new(format!("column {i}: unexpected value {v:?}"))),
        }
    }

    /// Column `i` as text, moved out of the row (the row is not read again); a NULL or another
    /// type is an error.
    pub fn take_text(&mut self, i: usize) -> Result<String, DbError> {
        match self.0.get_mut(i) {
            Some(Val::Text(s)) => Ok(std::mem::take(s)),
            v => Err(DbError::new(format!("column {i}: unexpected value {v:?}"))),
        }
    }

    /// Column `i` as bytes, borrowed (no copy); a NULL or another type is an error.
    pub fn blob(&self, i: usize) -> Result<&[u8], DbError> {
        match self.0.get(i) {
            Some(Val::Blob(b)) => Ok(b),
            v => Err(DbError::new(format!("column {i}: unexpected value {v:?}"))),
        }
    }

    /// Column `i` as `T`; a NULL or a value of another type is an error naming the column.
    pub fn get<T: FromVal>(&self, i: usize) -> Result<T, DbError> {
        let v = self
            .0
            .get(i)
            .ok_or_else(|| DbError::new(format!("no column {i} in the row")))?;
        T::from_val(v).ok_or_else(|| DbError::new(format!("column {i}: unexpected value {v:?}")))
    }
}

/// Conversion of a read value into a Rust type.
pub trait FromVal: Sized {
    fn from_val(v: &Val) -> Option<Self>;
}

impl FromVal for i64 {
    fn from_val(v: &Val) -> Option<i64> {
        match v {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl FromVal for i32 {
    fn from_val(v: &Val) -> Option<i32> {
        i64::from_val(v).and_then(|i| i32::try_from(i).ok())
    }
}

impl FromVal for u32 {
    fn from_val(v: &Val) -> Option<u32> {
        i64::from_val(v).and_then(|i| u32::try_from(i).ok())
    }
}

impl FromVal for bool {
    fn from_val(v: &Val) -> Option<bool> {
        i64::from_val(v).map(|i| i != 0)
    }
}

impl FromVal for f64 {
    fn from_val(v: &Val) -> Option<f64> {
        match v {
            Val::Real(f) => Some(*f),
            // SQLite stores a REAL with an integral value as written; both read as numbers.
            Val::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}

impl FromVal for String {
    fn from_val(v: &Val) -> Option<String> {
        match v {
            Val::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl FromVal for Vec<u8> {
    fn from_val(v: &Val) -> Option<Vec<u8>> {
        match v {
            Val::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
}

impl<T: FromVal> FromVal for Option<T> {
    fn from_val(v: &Val) -> Option<Option<T>> {
        match v {
            Val::Null => Some(None),
            v => T::from_val(v).map(Some),
        }
    }
}

macro_rules! val_from {
    ($($t:ty => $arm:expr),* $(,)?) => {$(
        impl From<$t> for Val {
            fn from(x: $t) -> Val {
                #[allow(clippy::redundant_closure_call)]
                ($arm)(x)
            }
        }
    )*};
}

val_from! {
    i64 => Val::Int,
    i32 => |x| Val::Int(i64::from(x)),
    u32 => |x| Val::Int(i64::from(x)),
    bool => |x| Val::Int(i64::from(x)),
    f64 => Val::Real,
    String => Val::Text,
    &str => |x: &str| Val::Text(x.to_string()),
    &String => |x: &String| Val::Text(x.clone()),
    Vec<u8> => Val::Blob,
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(x: Option<T>) -> Val {
        x.map_or(Val::Null, Into::into)
    }
}

/// `usize` counts and indexes as SQL integers (they never reach 2^63).
pub fn int(n: usize) -> Val {
    Val::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rows_convert_and_name_the_bad_column() {
        let r = Row(vec![
            Val::Int(3),
            Val::Null,
            Val::Text("x".into()),
            Val::Real(1.5),
        ]);
        assert_eq!(r.get::<i64>(0).unwrap(), 3);
        assert_eq!(r.get::<Option<i64>>(1).unwrap(), None);
        assert_eq!(r.get::<String>(2).unwrap(), "x");
        assert_eq!(r.get::<f64>(0).unwrap(), 3.0);
        assert_eq!(r.get::<f64>(3).unwrap(), 1.5);
        let e = r.get::<i64>(1).unwrap_err();
        assert!(e.msg.contains("column 1"), "{e}");
        assert!(r.get::<i64>(9).is_err());
        assert!(r.get::<u32>(0).is_ok() && Row(vec![Val::Int(-1)]).get::<u32>(0).is_err());
    }
}
