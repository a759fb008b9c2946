//! SQLite storage of runs: schema and migrations, the compressed sample codec, incremental
//! writing during a run and reading back. Knows nothing of the CLI, the runner or reports.
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
//! Files: `open.rs` (file creation, pragmas), `schema.rs` (migrations), `codec.rs` (sample
//! compression), `runs.rs` (run rows, tags, groups, listing), `writer.rs` (incremental writes),
//! `read.rs` (loading runs, integrity check).

mod codec;
mod open;
mod read;
mod runs;
mod schema;
pub mod transfer;
mod writer;

use std::path::{Path, PathBuf};

pub use codec::CHUNK;
/// The sample-blob decoder, for the fuzz targets (fuzz/) and their randomized twins.
#[doc(hidden)]
pub use codec::{decode_chunk, decode_pair, encode_chunk, Chunk, DecodeError};
pub use open::{why_uncreatable, Journal, BUSY_TIMEOUT};
pub use read::LoadParts;
pub use writer::RunWriter;

/// Storage errors a caller may branch on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "no run matches {0:?}: a run is an id, `last` or a name (its latest run); `report` also \
         takes `group:N`, and compare takes `last:N`, `name=NAME`, `tag:KEY=VALUE` too \
         (`perfmon list` shows the runs)"
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

/// Pages (4 KiB) the write-ahead log may hold before a commit copies it into the database file,
/// for connections that [`Store::defer_checkpoint`]. Kept small: the first process to open the
/// database reads the whole log back (about 0.2 ms per MiB here).
pub const LOG_CHECKPOINT_PAGES: i64 = 64;

/// An open database.
pub struct Store {
    conn: rusqlite::Connection,
    path: PathBuf,
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
    /// Opens (creating it when absent) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
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

    /// [`Store::open`] with an explicit journal mode (tests; network file systems).
    pub fn open_with(path: &Path, journal: Journal) -> Result<Store, StoreError> {
        open::create_private(path).map_err(|e| StoreError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let mut conn = open::connect(path, false).map_err(|e| sql_err(path, e))?;
        // Several perfmon runs may create the file at once: switching it to WAL and migrating
        // need an exclusive lock, and SQLite answers "busy" there without calling the busy
        // handler (to avoid a deadlock). Retry for as long as the busy timeout.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        let mut attempt = 0u64;
        loop {
            // Refuse a newer schema before the journal pragma writes to the file header.
            let step = schema::check_not_newer(&conn)
                .and_then(|_| open::set_journal(&conn, journal).map_err(Into::into))
                .and_then(|_| schema::migrate(&mut conn).map(|_| ()));
            match step {
                Err(schema::MigrateError::Sqlite(e))
                    if is_busy(&e) && std::time::Instant::now() < deadline =>
                {
                    attempt += 1;
                    // A little jitter (by pid) so racing processes do not retry in step.
                    let ms = 5 + (u64::from(std::process::id()) + attempt * 7) % 20;
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
                r => {
                    r.map_err(|e| migrate_err(path, e))?;
                    break;
                }
            }
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            journal,
        })
    }

    /// Opens an existing database for reading (report, list). Never creates the file: a missing
    /// one is [`StoreError::NoDatabase`]. A database of an older schema is migrated first (the
    /// only write it can cause); a newer one is [`StoreError::TooNew`].
    pub fn open_readonly(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::NoDatabase(path.display().to_string()));
        }
        let conn = open::connect(path, true).map_err(|e| sql_err(path, e))?;
        let version = schema::check_not_newer(&conn).map_err(|e| migrate_err(path, e))?;
        if version < schema::latest() {
            drop(conn);
            let store = Store::open(path)?;
            store
                .conn
                .execute_batch("PRAGMA query_only = ON")
                .map_err(|e| sql_err(path, e))?;
            return Ok(store);
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            journal: Journal::Wal,
        })
    }

    /// Leaves the write-ahead log in place when this connection closes instead of copying it
    /// into the database file then. That copy (a checkpoint) costs two `fsync`s, about 0.7 ms
    /// here, which every `perfmon run` of a short command would pay. The log still holds every
    /// committed run (a crash loses nothing) and is copied in whenever it passes
    /// [`LOG_CHECKPOINT_PAGES`], and whenever another command (`report`, `list`, `gc`...) is
    /// the last to close the database. A no-op with the rollback journal.
    pub fn defer_checkpoint(&self) -> Result<(), StoreError> {
        if self.journal != Journal::Wal {
            return Ok(());
        }
        self.conn
            .set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                true,
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", LOG_CHECKPOINT_PAGES)
            .map_err(|e| self.err(e))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal mode this connection was opened with (read-only ones report `Wal`).
    pub fn journal(&self) -> Journal {
        self.journal
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        sql_err(&self.path, e)
    }
}

/// SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn sql_err(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.display().to_string(),
        source: e,
    }
}

fn migrate_err(path: &Path, e: schema::MigrateError) -> StoreError {
    match e {
        schema::MigrateError::TooNew { found, supported } => StoreError::TooNew {
            path: path.display().to_string(),
            found,
            supported,
        },
        schema::MigrateError::Sqlite(e) => sql_err(path, e),
    }
}

#[cfg(test)]
mod tests;
