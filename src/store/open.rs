//! Creating and opening the database file: private permissions, network file system detection,
//! connection pragmas. No SQL beyond pragmas.

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How long a writer waits for another process's transaction before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The journal mode a database is used with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journal {
    /// Write-ahead log: readers never block the writer. Needs shared memory (a local disk).
    Wal,
    /// Rollback journal: for network file systems, where WAL's shared memory is unsafe.
    Delete,
}

/// Creates the parent directories (0700) and the file (0600) when they do not exist.
pub fn create_private(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
    }
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    Ok(())
}

/// Whether a `statfs` f_type names a network (or cluster) file system.
pub fn is_network_fs_type(f_type: u32) -> bool {
    const NETWORK: &[u32] = &[
        0x6969,      // NFS
        0x517B,      // SMB
        0xFF53_4D42, // CIFS
        0xFE53_4D42, // SMB2
        0x7375_7245, // CODA
        0x5346_414F, // AFS
        0x6B41_4653, // kAFS
        0x0102_1997, // 9P
        0x00C3_6400, // Ceph
        0x564C,      // NCP
        0x0116_1970, // GFS2
        0x7461_636F, // OCFS2
        0x0BD0_0BD0, // Lustre
        0x4750_4653, // GPFS
    ];
    NETWORK.contains(&f_type)
}

/// Whether `path` (an existing file or directory) lies on a network file system.
pub fn on_network_fs(path: &Path) -> bool {
    // An error (no such path, or a path with a NUL byte) is "not known to be on one".
    let Ok(st) = rustix::fs::statfs(path) else {
        return false;
    };
    // f_type is a signed word whose width varies by target; the magic is its low 32 bits.
    #[allow(clippy::unnecessary_cast)]
    let t = (st.f_type as u64 & 0xFFFF_FFFF) as u32;
    is_network_fs_type(t)
}

/// Why no database can ever be created at `path` (a missing one), or None when `perfmon run`
/// could create it: the nearest existing ancestor must be a writable directory on a file system
/// that holds files. Read-only commands use it to tell "none yet" from "never".
pub fn why_uncreatable(path: &Path) -> Option<String> {
    if path.is_dir() {
        return Some(format!("{} is a directory", path.display()));
    }
    let dir = path
        .ancestors()
        .skip(1)
        .map(|d| {
            if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            }
        })
        .find(|d| d.exists())?;
    let shown = dir.display();
    if !dir.is_dir() {
        return Some(format!("{shown} is not a directory"));
    }
    // Each check that cannot be made (statfs or statvfs failing) says nothing: the next decides,
    // and at worst `list` shows an empty list where `run` would fail with its own error.
    if let Ok(st) = rustix::fs::statfs(dir) {
        // f_type is a signed word whose width varies by target; the magic is its low 32 bits.
        #[allow(clippy::unnecessary_cast)]
        let t = (st.f_type as u64 & 0xFFFF_FFFF) as u32;
        if let Some(kind) = pseudo_fs_name(t) {
            return Some(format!(
                "{shown} is a {kind} file system, which holds no files"
            ));
        }
    }
    let read_only = rustix::fs::statvfs(dir)
        .is_ok_and(|v| v.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY));
    if read_only {
        return Some(format!("{shown} is on a read-only file system"));
    }
    if rustix::fs::access(
        dir,
        rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
    )
    .is_err()
    {
        return Some(format!("{shown} is not writable"));
    }
    None
}

/// The name of a kernel pseudo file system (`statfs` f_type), where no file can be created.
fn pseudo_fs_name(f_type: u32) -> Option<&'static str> {
    Some(match f_type {
        0x9FA0 => "proc",
        0x6265_6572 => "sysfs",
        0x0027_E0EB => "cgroup",
        0x6367_7270 => "cgroup2",
        0x6462_6720 => "debugfs",
        0x7472_6163 => "tracefs",
        0x7363_6673 => "securityfs",
        0x1CD1 => "devpts",
        0xCAFE_4A11 => "bpf",
        0x6165_676C => "pstore",
        _ => return None,
    })
}

/// Opens a connection with perfmon's pragmas. `read_only` connections never write (query_only).
pub fn connect(path: &Path, read_only: bool) -> rusqlite::Result<Connection> {
    // No SQLITE_OPEN_CREATE: the file was created (0600) by us, or must already exist.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = match Connection::open_with_flags(path, flags) {
        Ok(c) => c,
        // A file we may not write (someone else's database): read it read-only.
        Err(_) if read_only => Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?,
        Err(e) => return Err(e),
    };
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if read_only {
        conn.execute_batch("PRAGMA query_only = ON")?;
    }
    Ok(conn)
}

/// Sets the journal mode of a writable connection (persistent in the file for WAL).
pub fn set_journal(conn: &Connection, journal: Journal) -> rusqlite::Result<()> {
    let mode = match journal {
        Journal::Wal => "WAL",
        Journal::Delete => "DELETE",
    };
    let _: String = conn.query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| r.get(0))?;
    let sync = match journal {
        // In WAL mode NORMAL is durable against a process crash (SIGKILL), which is the contract.
        Journal::Wal => "NORMAL",
        Journal::Delete => "FULL",
    };
    conn.execute_batch(&format!("PRAGMA synchronous = {sync}"))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn where_a_database_can_never_be() {
        let d = tempfile::tempdir().unwrap();
        // Creatable: a file in a writable directory, or under directories yet to be made.
        assert_eq!(why_uncreatable(&d.path().join("runs.db")), None);
        assert_eq!(why_uncreatable(&d.path().join("a/b/runs.db")), None);
        // Never: under a file, in /proc, or a directory in the database's place.
        let f = d.path().join("file");
        std::fs::write(&f, "x").unwrap();
        let e = why_uncreatable(&f.join("runs.db")).unwrap();
        assert!(e.contains("is not a directory"), "{e}");
        let e = why_uncreatable(Path::new("/proc/x.db")).unwrap();
        assert!(e.contains("proc"), "{e}");
        let e = why_uncreatable(Path::new("/proc/no/such/x.db")).unwrap();
        assert!(e.contains("proc"), "{e}");
        assert!(why_uncreatable(d.path()).is_some());
    }

    #[test]
    fn creates_private_dirs_and_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b/runs.db");
        create_private(&p).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(&d.path().join("a/b")), 0o700);
        assert_eq!(mode(&d.path().join("a")), 0o700);
    }

    #[test]
    fn network_fs_magics() {
        assert!(is_network_fs_type(0x6969));
        assert!(is_network_fs_type(0xFF53_4D42));
        assert!(!is_network_fs_type(0xEF53)); // ext4
        assert!(!is_network_fs_type(0x0102_1994)); // tmpfs
        assert!(!on_network_fs(Path::new("/tmp")));
    }
}
