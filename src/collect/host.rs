//! Facts about the host and the git work tree, recorded with each run.
//!
//! INTERFACE (filled in by the collect work): [`host_info`], [`GitProbe`].
//!
//! Host facts come from `uname`, `/etc/os-release`, `/proc/cpuinfo` and `/proc/meminfo`; a fact
//! that cannot be read stays empty (or 0). Git facts come from libgit2 on a background thread
//! (the `git` program where libgit2 cannot read the repository), with a 2 s deadline.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::unistd::SysconfVar;

use crate::model::{GitInfo, HostInfo};

/// How long [`GitProbe::finish`] waits for git at most, counted from the start.
const GIT_TIMEOUT: Duration = Duration::from_secs(2);

/// Hostname, OS, kernel, CPU model, cores and memory. GPU fields are left to the caller. A
/// fact that should be readable and is not (`/proc/meminfo`, `/proc/cpuinfo`, the core count)
/// stays empty or 0 in the record, and comes back as a warning for the caller to print and keep
/// with the run.
pub fn host_info() -> (HostInfo, Vec<String>) {
    // -1 (unknown, a warning) where sysconf fails or has no answer.
    let cores = nix::unistd::sysconf(SysconfVar::_NPROCESSORS_ONLN)
        .ok()
        .flatten()
        .unwrap_or(-1);
    host_facts(|p| std::fs::read_to_string(p), cores)
}

/// [`host_info`] from a file reader and the `sysconf` core count, with a warning for each fact
/// that could not be read.
fn host_facts(
    read: impl Fn(&str) -> std::io::Result<String>,
    cores: libc::c_long,
) -> (HostInfo, Vec<String>) {
    let (hostname, kernel) = uname();
    let mut warnings = Vec::new();
    // os-release is optional (a minimal container): "Linux" then, which is no loss.
    let optional = |p: &str| read(p).unwrap_or_default();
    let mut needed = |p: &str| match read(p) {
        Ok(s) => s,
        Err(e) => {
            warnings.push(format!("cannot read {p} for the host facts: {e}"));
            String::new()
        }
    };
    let cpuinfo = needed("/proc/cpuinfo");
    let meminfo = needed("/proc/meminfo");
    let memory_kib = mem_total_kib(&meminfo);
    if memory_kib.is_none() && !meminfo.is_empty() {
        warnings.push("no MemTotal in /proc/meminfo: the host's memory is recorded as 0".into());
    }
    let cores = u32::try_from(cores).ok().filter(|c| *c > 0);
    if cores.is_none() {
        warnings.push("the number of online cores is unknown: recorded as 0".into());
    }
    let info = HostInfo {
        hostname,
        os: os_pretty_name(&optional("/etc/os-release"))
            .or_else(|| os_pretty_name(&optional("/usr/lib/os-release")))
            .unwrap_or_else(|| "Linux".to_string()),
        kernel,
        // Arm boards may name no model at all: an empty model is no loss.
        cpu_model: cpu_model(&cpuinfo).unwrap_or_default(),
        cores: cores.unwrap_or(0),
        memory_bytes: memory_kib.unwrap_or(0) * 1024,
        gpus: Vec::new(),
        gpu_driver: None,
    };
    (info, warnings)
}

/// `uname` nodename and release.
fn uname() -> (String, String) {
    let u = rustix::system::uname();
    (
        u.nodename().to_string_lossy().into_owned(),
        u.release().to_string_lossy().into_owned(),
    )
}

/// `PRETTY_NAME` of an os-release file, unquoted.
fn os_pretty_name(text: &str) -> Option<String> {
    let v = text.lines().find_map(|l| l.strip_prefix("PRETTY_NAME="))?;
    let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
    (!v.is_empty()).then(|| v.to_string())
}

/// The first `model name` of /proc/cpuinfo (x86), else `Model`/`Hardware` (Arm boards).
fn cpu_model(text: &str) -> Option<String> {
    ["model name", "Model", "Hardware"].iter().find_map(|key| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_string())
        })
    })
}

fn mem_total_kib(text: &str) -> Option<u64> {
    let v = text.lines().find_map(|l| l.strip_prefix("MemTotal:"))?;
    v.trim().trim_end_matches("kB").trim().parse().ok()
}

/// HEAD's commit and branch (None when detached).
type Head = (String, Option<String>);

/// A git query running in the background (see [`GitProbe::start`]).
pub struct GitProbe {
    /// The commit and branch (`Ok(None)`: no commit yet), or why libgit2 could not read them.
    head: mpsc::Receiver<Result<Option<Head>, git2::Error>>,
    /// The dirty flag, sent after the head (None: libgit2 could not tell).
    dirty: mpsc::Receiver<Option<bool>>,
    /// Dropped by [`GitProbe::finish`]; until then the thread stays alive (see there).
    _release: mpsc::Sender<()>,
    dir: PathBuf,
    started: Instant,
}

/// How long [`GitProbe::finish`] waits for the dirty flag once the head is known: the status
/// of a very large repository can take longer than a short command, and perfmon must not keep a
/// short command's caller waiting for it. The flag is then recorded as unknown.
pub const DIRTY_GRACE: Duration = Duration::from_millis(100);

impl GitProbe {
    /// Starts reading the commit, branch and dirty flag of the work tree containing `dir` on a
    /// thread of perfmon's own, with libgit2: no process is started, so git costs the run no
    /// wall time unless the command is shorter than the query, none of its CPU is counted in
    /// the tree, and it costs perfmon about 0.4 ms of CPU in a small repository (running the
    /// `git` program cost 4.5 ms of CPU and about a millisecond of waiting here, on the
    /// critical path of a short run). libgit2 ignores `GIT_DIR`-style variables, so the answer
    /// is about `dir` even inside a git hook, and never writes the index. The thread lives until
    /// [`GitProbe::finish`], so that the IO it did stays perfmon's own and is not taken for the
    /// tree's (see `runner::reap::reaped_io`). None outside a work tree.
    pub fn start(dir: &Path) -> Option<GitProbe> {
        // Nothing to ask git outside a work tree: spare the thread.
        if !dir.ancestors().any(|d| d.join(".git").exists()) {
            return None;
        }
        let (head_tx, head) = mpsc::channel();
        let (dirty_tx, dirty) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let d = dir.to_path_buf();
        std::thread::Builder::new()
            .name("perfmon-git".into())
            .spawn(move || {
                match git2::Repository::discover(&d).and_then(|r| read_head(&r).map(|h| (r, h))) {
                    // A send fails only when `finish` stopped waiting (git was too slow): the
                    // git facts are then recorded as unknown (null), which the report shows.
                    Ok((repo, h)) => {
                        let known = h.is_some();
                        let _ = head_tx.send(Ok(h));
                        if known {
                            let _ = dirty_tx.send(read_dirty(&repo).ok());
                        }
                    }
                    Err(e) => {
                        let _ = head_tx.send(Err(e));
                    }
                }
                let _ = released.recv();
            })
            .ok()?;
        Some(GitProbe {
            head,
            dirty,
            _release: release,
            dir: dir.to_path_buf(),
            started: Instant::now(),
        })
    }

    /// The commit, branch and dirty flag: the commit and branch waiting at most until 2 s after
    /// the start, then the dirty flag at most [`DIRTY_GRACE`] (None, unknown, after that). When
    /// libgit2 cannot read the repository (a format it does not know, such as SHA-256), the
    /// `git` program is asked instead (for at most 2 s more). None when `dir` is not in a work
    /// tree, HEAD has no commit yet, or no answer came in time.
    pub fn finish(self) -> Option<GitInfo> {
        self.finish_within(DIRTY_GRACE)
    }

    fn finish_within(self, grace: Duration) -> Option<GitInfo> {
        let deadline = self.started + GIT_TIMEOUT;
        let left = |until: Instant| until.saturating_duration_since(Instant::now());
        let (commit, branch) = match self.head.recv_timeout(left(deadline)) {
            Ok(Ok(Some(h))) => h,
            Ok(Ok(None)) | Err(_) => return None,
            // A deadline of its own: the command may have run for longer than GIT_TIMEOUT.
            Ok(Err(_)) => return git_program(&self.dir, Instant::now() + GIT_TIMEOUT),
        };
        let dirty = self.dirty.recv_timeout(grace).ok().flatten();
        Some(GitInfo {
            commit,
            branch,
            dirty,
        })
    }
}

/// The commit and branch (None when detached) of HEAD; `Ok(None)`: no commit yet.
fn read_head(repo: &git2::Repository) -> Result<Option<Head>, git2::Error> {
    let head = match repo.head() {
        Ok(h) => h,
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => return Ok(None),
        Err(e) => return Err(e),
    };
    let commit = head.peel_to_commit()?.id().to_string();
    let branch = if head.is_branch() {
        head.shorthand().map(str::to_string)
    } else {
        None
    };
    Ok(Some((commit, branch)))
}

/// Whether a tracked file is changed or staged (untracked files do not count).
fn read_dirty(repo: &git2::Repository) -> Result<bool, git2::Error> {
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(false).include_ignored(false);
    Ok(repo
        .statuses(Some(&mut opts))?
        .iter()
        .any(|e| e.status() != git2::Status::CURRENT))
}

/// The same facts from the `git` program (`status --porcelain=v2 --branch`), run as a plain
/// child after the command has ended, when libgit2 could not read the repository.
/// `GIT_OPTIONAL_LOCKS=0` keeps git off the index lock of a repository the user works in.
fn git_program(dir: &Path, deadline: Instant) -> Option<GitInfo> {
    let mut child = Command::new("git")
        .args([
            "status",
            "--porcelain=v2",
            "--branch",
            "--no-ahead-behind",
            "--untracked-files=no",
        ])
        .current_dir(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("LC_ALL", "C")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // Read stdout on a thread so that a large output cannot block git while we wait.
    let mut out = child.stdout.take()?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        let _ = tx.send(s);
    });
    // git closes its stdout when it exits: wait for that, then reap it (no polling delay).
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(s) => child
            .wait()
            .ok()
            .filter(|st| st.success())
            .and_then(|_| parse_status(&s)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    }
}

/// Parses `git status --porcelain=v2 --branch` output. git prints nothing on stdout when it
/// fails (not a repository), and `(initial)` as the commit before the first one.
fn parse_status(out: &str) -> Option<GitInfo> {
    let mut commit = None;
    let mut branch = None;
    let mut dirty = false;
    for line in out.lines() {
        if let Some(h) = line.strip_prefix("# branch.oid ") {
            commit = Some(h.trim());
        } else if let Some(b) = line.strip_prefix("# branch.head ") {
            branch = Some(b.trim()).filter(|b| !b.is_empty() && *b != "(detached)");
        } else if ["1 ", "2 ", "u "].iter().any(|p| line.starts_with(p)) {
            dirty = true;
        }
    }
    // SHA-1 (40) or SHA-256 (64) object names.
    let commit = commit
        .filter(|c| (c.len() == 40 || c.len() == 64) && c.bytes().all(|b| b.is_ascii_hexdigit()))?;
    Some(GitInfo {
        commit: commit.to_string(),
        branch: branch.map(str::to_string),
        dirty: Some(dirty),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_files() {
        let osr = "NAME=\"Ubuntu\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\n";
        assert_eq!(os_pretty_name(osr).unwrap(), "Ubuntu 24.04.1 LTS");
        let cpu = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(cpu_model(cpu).unwrap(), "Intel(R) Xeon(R) CPU @ 2.20GHz");
        assert_eq!(mem_total_kib("MemTotal:       16384 kB\n"), Some(16384));
    }

    #[test]
    fn host_info_of_this_machine() {
        let (h, warnings) = host_info();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(!h.hostname.is_empty() && !h.kernel.is_empty());
        assert!(h.cores >= 1 && h.memory_bytes > 0);
        assert!(h.gpus.is_empty());
    }

    /// /proc files that cannot be read used to become an empty model and 0 bytes of memory
    /// without a word; now each is a warning (and a readable host gives none).
    #[test]
    fn unreadable_host_facts_are_warnings_not_silent_zeros() {
        let (h, warnings) = host_facts(
            |p| {
                if p == "/proc/meminfo" {
                    Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
                } else if p == "/proc/cpuinfo" {
                    Ok("model name\t: Test CPU\n".into())
                } else {
                    Err(std::io::Error::from(std::io::ErrorKind::NotFound))
                }
            },
            -1,
        );
        assert_eq!((h.memory_bytes, h.cores), (0, 0));
        assert_eq!(h.cpu_model, "Test CPU");
        assert_eq!(h.os, "Linux");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("cannot read /proc/meminfo"),
            "{warnings:?}"
        );
        assert!(warnings[1].contains("cores"), "{warnings:?}");
        let (h, warnings) = host_facts(
            |p| match p {
                "/proc/meminfo" => Ok("MemTotal: 2048 kB\n".into()),
                "/proc/cpuinfo" => Ok(String::new()),
                _ => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
            },
            4,
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!((h.memory_bytes, h.cores), (2048 * 1024, 4));
    }

    fn sh_git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn status_output_is_parsed() {
        let c = "0123456789abcdef0123456789abcdef01234567";
        let clean = format!("# branch.oid {c}\n# branch.head main\n# branch.ab +0 -0\n");
        let g = parse_status(&clean).unwrap();
        assert_eq!((g.commit.as_str(), g.branch.as_deref()), (c, Some("main")));
        assert_eq!(g.dirty, Some(false));
        let changed = format!("{clean}1 .M N... 100644 100644 100644 {c} {c} src/a.rs\n");
        assert_eq!(parse_status(&changed).unwrap().dirty, Some(true));
        let conflict = format!("{clean}u UU N... 100644 100644 100644 100644 {c} {c} {c} a\n");
        assert_eq!(parse_status(&conflict).unwrap().dirty, Some(true));
        let detached = format!("# branch.oid {c}\n# branch.head (detached)\n");
        assert_eq!(parse_status(&detached).unwrap().branch, None);
        assert!(parse_status("# branch.oid (initial)\n# branch.head main\n").is_none());
        assert!(parse_status("").is_none());
        assert!(parse_status("# branch.oid 12345\n").is_none());
    }

    /// The probe's answer, checked against the `git` program's (the fallback) on the way.
    fn git_info(d: &Path) -> Option<GitInfo> {
        // A loaded machine may take longer than DIRTY_GRACE even in a tiny repository.
        let probed = GitProbe::start(d)?.finish_within(GIT_TIMEOUT);
        let program = git_program(d, Instant::now() + GIT_TIMEOUT);
        assert_eq!(
            probed,
            program,
            "libgit2 and git disagree in {}",
            d.display()
        );
        probed
    }

    /// libgit2 cannot open a SHA-256 repository; the `git` program, asked instead, can.
    #[test]
    fn sha256_repository_is_read_through_the_git_program() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let init = Command::new("git")
            .arg("-C")
            .arg(d)
            .args(["init", "-q", "--object-format=sha256"])
            .status();
        if !init.is_ok_and(|s| s.success()) {
            eprintln!("git without SHA-256 support: skipped");
            return;
        }
        std::fs::write(d.join("a.txt"), "1").unwrap();
        sh_git(d, &["add", "a.txt"]);
        sh_git(d, &["commit", "-q", "-m", "one"]);
        assert!(
            git2::Repository::open(d).is_err(),
            "libgit2 learnt SHA-256: this test needs another format"
        );
        let g = GitProbe::start(d).unwrap().finish().unwrap();
        assert_eq!(g.commit.len(), 64);
        assert_eq!(g.dirty, Some(false));
    }

    #[test]
    fn git_info_of_temp_repo() {
        if Command::new("git").arg("--version").output().is_err() {
            eprintln!("git not installed: skipped");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        assert_eq!(git_info(d), None, "not a repo yet");
        sh_git(d, &["init", "-q", "-b", "trunk"]);
        assert_eq!(git_info(d), None, "no commit yet");
        std::fs::write(d.join("a.txt"), "1").unwrap();
        sh_git(d, &["add", "a.txt"]);
        sh_git(d, &["commit", "-q", "-m", "one"]);
        let g = git_info(d).unwrap();
        assert_eq!(g.commit.len(), 40);
        let head = std::process::Command::new("git")
            .arg("-C")
            .arg(d)
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&head.stdout).trim(), g.commit);
        assert_eq!(g.branch.as_deref(), Some("trunk"));
        assert_eq!(g.dirty, Some(false));
        // Untracked files do not make the tree dirty; a changed tracked one does.
        std::fs::write(d.join("untracked.txt"), "x").unwrap();
        assert_eq!(git_info(d).unwrap().dirty, Some(false));
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("a.txt"), "2").unwrap();
        let g2 = git_info(&d.join("sub")).unwrap();
        assert_eq!(g2.dirty, Some(true));
        assert_eq!(g2.commit, g.commit);
        // A staged change alone is dirty too.
        sh_git(d, &["add", "a.txt"]);
        assert_eq!(git_info(d).unwrap().dirty, Some(true));
        sh_git(d, &["commit", "-q", "-m", "two"]);
        // A linked work tree, on its own branch.
        let wt = tmp.path().join("wt");
        sh_git(
            d,
            &["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()],
        );
        let w = git_info(&wt).unwrap();
        assert_eq!((w.branch.as_deref(), w.dirty), (Some("side"), Some(false)));
        sh_git(d, &["checkout", "-q", "--detach"]);
        assert_eq!(git_info(d).unwrap().branch, None);
    }
}
