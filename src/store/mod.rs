//! Storage of runs in SQLite or PostgreSQL: schema and migrations, the compressed sample codec,
//! incremental writing during a run and reading back. Knows nothing of the CLI, the runner or
//! reports. Both backends implement one trait ([`db::Db`]); everything above it is shared.
//!
//! INTERFACE (the runner and reports rely on these signatures):
//! - [`Store::open`] creates the file (0600, missing directories 0700) and migrates it;
//!   [`Store::open_readonly`] never creates anything ([`StoreError::NoDatabase`] instead).
//! - [`Store::begin_run`] inserts a run marked `incomplete` and returns its id.
//! - [`RunWriter`] drains sealed sample chunks out of the in-memory tail at each flush, so
//!   perfmon's memory stays bounded over long runs; [`RunWriter::finish`] writes the final record.
//! - [`Store::load_run`], [`Store::list_runs`], [`Store::resolve`] read runs back.
//!
//! # Files, locking and network file systems
//!
//! One SQLite file holds every run. On a local disk it is used in WAL mode with a busy timeout
//! of [`BUSY_TIMEOUT`], so several perfmon processes can write one database at once: each flush
//! is one short `BEGIN IMMEDIATE` transaction, and waiting writers retry until the timeout.
//! WAL needs a shared-memory index (`-shm`) that every process maps, which does not work across
//! hosts on NFS/CIFS/SMB and similar (SQLite's documentation warns that it corrupts). When
//! `statfs` reports such a file system for the database's directory, perfmon uses the rollback
//! journal (`journal_mode=DELETE`, `synchronous=FULL`) instead: slower and relying on the file
//! system's POSIX locks, but safe where those locks work. Sharing one database on a network file
//! system between hosts is still best avoided (e.g. a CI cache: copy it, do not share it live).
//!
//! # Durability
//!
//! Every flush commits what it wrote, so a perfmon killed with SIGKILL leaves its run
//! `incomplete` with the samples up to its last flush. A damaged blob makes [`Store::load_run`]
//! fail for that run only, with a one-line [`StoreError::Corrupt`].
//!
//! # PostgreSQL
//!
//! A [`Location::Postgres`] (`postgres://...`) is a database on a server, shared by a team: the
//! same tables (BIGINT, DOUBLE PRECISION, BYTEA for SQLite's types; the sample blobs stored as
//! they are), the same migrations, versioned in a `perfmon_schema` table and applied under an
//! advisory lock. See `db/` for the connection string and its environment.
//!
//! Files: `db/` (the backend trait, SQLite, PostgreSQL, connection strings), `open.rs` (file
//! creation, pragmas), `schema.rs` (migrations), `codec.rs` (sample
//! compression), `runs.rs` (run rows, tags, groups, listing), `writer.rs` (incremental writes),
//! `read.rs` (loading runs, integrity check).

mod codec;
pub mod db;
mod open;
mod read;
mod runs;
mod schema;
pub mod transfer;
mod writer;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

pub use codec::CHUNK;
/// The sample-blob decoder, for the fuzz targets (fuzz/) and their randomized twins.
#[doc(hidden)]
pub use codec::{decode_chunk, decode_pair, encode_chunk, Chunk, DecodeError};
use db::{Db, DbError};
pub use open::{why_uncreatable, Journal, BUSY_TIMEOUT};
pub use read::LoadParts;
pub use writer::RunWriter;

/// Where runs are stored: a SQLite file, or a PostgreSQL database named by a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    /// The URL as given (it may hold a password: show it only through [`Location::shown`]).
    Postgres(String),
}

impl Location {
    /// `postgres://...` or `postgresql://...` is a server; anything else is a file path.
    pub fn parse(s: &std::ffi::OsStr) -> Location {
        match s.to_str() {
            Some(u) if db::dsn::is_postgres_url(u) => Location::Postgres(u.to_string()),
            _ => Location::File(PathBuf::from(s)),
        }
    }

    /// How messages name it: the path, or the URL with its password masked.
    pub fn shown(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Postgres(u) => db::dsn::mask(u),
        }
    }

    /// What can be checked without connecting: a server's URL, completed from the environment,
    /// must parse (port, sslmode, root certificates...). A file is checked when it is opened.
    /// `run` calls it before the command starts: a mistyped URL is bad input, refused, while
    /// a server that cannot be reached is a fault the run survives.
    pub fn check(&self) -> Result<(), StoreError> {
        match self {
            Location::File(_) => Ok(()),
            Location::Postgres(u) => db::dsn::parse(u, &db::dsn::Env::process())
                .map(|_| ())
                .map_err(StoreError::Other),
        }
    }

    /// The file, for a SQLite location.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Location {
        Location::File(p.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Location {
        Location::File(p.clone())
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Location {
        Location::File(p)
    }
}

impl From<&Location> for Location {
    fn from(l: &Location) -> Location {
        l.clone()
    }
}

/// Storage errors a caller may branch on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Db { path: String, source: DbError },
    #[error(
        "no run matches {0:?}: a run is an id, `last` or a name (its latest run); `report` also \
         takes `group:N`, and compare takes `last:N`, `name=NAME`, `tag:KEY=VALUE`, \
         `host:NAME` too (`perfmon list` shows the runs)"
    )]
    NoSuchRun(String),
    #[error("no database at {0}: record a run with `perfmon run -- CMD` first")]
    NoDatabase(String),
    #[error("database {path} has schema version {found}, newer than this perfmon supports ({supported}): upgrade perfmon")]
    TooNew {
        path: String,
        found: u32,
        supported: u32,
    },
    #[error("run {run_id} is damaged: {detail}")]
    Corrupt { run_id: i64, detail: String },
    #[error("database {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// Another connection holds the lock: retrying may help.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Db { source, .. } if source.busy)
    }
}

/// Pages (4 KiB) the write-ahead log may hold before a commit copies it into the database file,
/// for connections that [`Store::defer_checkpoint`]. Kept small: the first process to open the
/// database reads the whole log back (about 0.2 ms per MiB here).
pub const LOG_CHECKPOINT_PAGES: i64 = 64;

/// An open database.
pub struct Store {
    db: RefCell<Box<dyn Db>>,
    location: Location,
    journal: Journal,
}

/// A filter for [`Store::list_runs`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub limit: Option<usize>,
    pub name: Option<String>,
    /// Runs carrying every one of these tags (key and value equal).
    pub tags: Vec<(String, String)>,
}

impl Store {
    /// Opens (creating it when absent) and migrates the database at `location`.
    pub fn open(location: impl Into<Location>) -> Result<Store, StoreError> {
        let location = location.into();
        let path = match &location {
            Location::File(p) => p,
            Location::Postgres(_) => return Store::open_server(location, false),
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        // The directory may not exist yet: then its nearest existing ancestor decides.
        let on_network = dir
            .ancestors()
            .find(|d| d.exists())
            .is_some_and(open::on_network_fs);
        let journal = if on_network {
            Journal::Delete
        } else {
            Journal::Wal
        };
        Store::open_with(path, journal)
    }

    /// [`Store::open`] of a SQLite file with an explicit journal mode (tests; network file
    /// systems).
    pub fn open_with(path: &Path, journal: Journal) -> Result<Store, StoreError> {
        let location = Location::File(path.to_path_buf());
        open::create_private(path).map_err(|e| StoreError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let mut conn =
            db::sqlite::Sqlite::connect(path, false).map_err(|e| db_err(&location, e))?;
        conn.journal = journal;
        // Several perfmon runs may create the file at once: switching it to WAL and migrating
        // need an exclusive lock, and SQLite answers "busy" there without calling the busy
        // handler (to avoid a deadlock). Retry for as long as the busy timeout.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        let mut attempt = 0u64;
        loop {
            // Refuse a newer schema before the journal pragma writes to the file header.
            let step = schema::check_not_newer(&mut conn)
                .and_then(|_| {
                    open::set_journal(&conn.conn, journal)
                        .map_err(|e| schema::MigrateError::Db(e.into()))
                })
                .and_then(|_| schema::migrate(&mut conn).map(|_| ()));
            match step {
                Err(schema::MigrateError::Db(e))
                    if e.busy && std::time::Instant::now() < deadline =>
                {
                    attempt += 1;
                    // A little jitter (by pid) so racing processes do not retry in step.
                    let ms = 5 + (u64::from(std::process::id()) + attempt * 7) % 20;
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
                r => {
                    r.map_err(|e| migrate_err(&location, e))?;
                    break;
                }
            }
        }
        Ok(Store {
            db: RefCell::new(Box::new(conn)),
            location,
            journal,
        })
    }

    /// Connects to a PostgreSQL database and migrates it (a newer schema is refused); with
    /// `read_only`, the session is read-only once migrated.
    fn open_server(location: Location, read_only: bool) -> Result<Store, StoreError> {
        let Location::Postgres(url) = &location else {
            return Err(StoreError::Other("not a server".into()));
        };
        let dsn = db::dsn::parse(url, &db::dsn::Env::process()).map_err(StoreError::Other)?;
        let mut conn = db::pg::Pg::connect(&dsn).map_err(|e| db_err(&location, e))?;
        schema::migrate(&mut conn).map_err(|e| migrate_err(&location, e))?;
        if read_only {
            conn.batch("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                .map_err(|e| db_err(&location, e))?;
        }
        Ok(Store {
            db: RefCell::new(Box::new(conn)),
            location,
            journal: Journal::Wal,
        })
    }

    /// Opens an existing database for reading (report, list). Never creates a file: a missing
    /// one is [`StoreError::NoDatabase`]. A database of an older schema is migrated first (the
    /// only write it can cause); a newer one is [`StoreError::TooNew`].
    pub fn open_readonly(location: impl Into<Location>) -> Result<Store, StoreError> {
        let location = location.into();
        let path = match &location {
            Location::File(p) => p.clone(),
            Location::Postgres(_) => return Store::open_server(location, true),
        };
        if !path.is_file() {
            return Err(StoreError::NoDatabase(path.display().to_string()));
        }
        let mut conn =
            db::sqlite::Sqlite::connect(&path, true).map_err(|e| db_err(&location, e))?;
        let version = schema::check_not_newer(&mut conn).map_err(|e| migrate_err(&location, e))?;
        if version < schema::latest() {
            drop(conn);
            let store = Store::open(&path)?;
            store.with(|db| db.batch("PRAGMA query_only = ON"))?;
            return Ok(store);
        }
        Ok(Store {
            db: RefCell::new(Box::new(conn)),
            location,
            journal: Journal::Wal,
        })
    }

    /// Leaves the write-ahead log in place when this connection closes instead of copying it
    /// into the database file then. That copy (a checkpoint) costs two `fsync`s, about 0.7 ms
    /// here, which every `perfmon run` of a short command would pay. The log still holds every
    /// committed run (a crash loses nothing) and is copied in whenever it passes
    /// [`LOG_CHECKPOINT_PAGES`], and whenever another command (`report`, `list`, `gc`...) is
    /// the last to close the database. A no-op with the rollback journal and on a server.
    pub fn defer_checkpoint(&self) -> Result<(), StoreError> {
        self.with(|db| db.defer_checkpoint())
    }

    /// Where the database is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The journal mode this connection was opened with (read-only ones and servers report
    /// `Wal`).
    pub fn journal(&self) -> Journal {
        self.journal
    }

    /// Runs `f` on the connection; its error names the database.
    fn with<T>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T, DbError>) -> Result<T, StoreError> {
        let mut db = self.db.borrow_mut();
        f(&mut **db).map_err(|e| self.err(e))
    }

    /// Runs `f` in one write transaction (all or nothing).
    fn tx<T>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T, DbError>) -> Result<T, StoreError> {
        self.with(|db| db::in_tx(db, f))
    }

    fn err(&self, e: DbError) -> StoreError {
        db_err(&self.location, e)
    }
}

fn db_err(location: &Location, e: DbError) -> StoreError {
    StoreError::Db {
        path: location.shown(),
        source: e,
    }
}

fn migrate_err(location: &Location, e: schema::MigrateError) -> StoreError {
    match e {
        schema::MigrateError::TooNew { found, supported } => StoreError::TooNew {
            path: location.shown(),
            found,
            supported,
        },
        schema::MigrateError::Db(e) => db_err(location, e),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub mod tests_db;
