//! Facts about the host and the git work tree, recorded with each run.
//!
//! INTERFACE (filled in by the collect work): [`host_info`], [`git_info`].
//!
//! Host facts come from `uname`, `/etc/os-release`, `/proc/cpuinfo` and `/proc/meminfo`; a fact
//! that cannot be read stays empty (or 0). Git facts come from running `git -C DIR` with stdin
//! closed, output captured and a 2 s deadline for all its commands together.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::model::{GitInfo, HostInfo};

/// How long all git commands of [`git_info`] may take together.
const GIT_TIMEOUT: Duration = Duration::from_secs(2);

/// Hostname, OS, kernel, CPU model, cores and memory. GPU fields are left to the caller.
pub fn host_info() -> HostInfo {
    let (hostname, kernel) = uname();
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    // SAFETY: sysconf only reads a process-wide value.
    let cores = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    HostInfo {
        hostname,
        os: os_pretty_name(&read("/etc/os-release"))
            .or_else(|| os_pretty_name(&read("/usr/lib/os-release")))
            .unwrap_or_else(|| "Linux".to_string()),
        kernel,
        cpu_model: cpu_model(&read("/proc/cpuinfo")).unwrap_or_default(),
        cores: u32::try_from(cores).unwrap_or(0),
        memory_bytes: mem_total_kib(&read("/proc/meminfo")).unwrap_or(0) * 1024,
        gpus: Vec::new(),
        gpu_driver: None,
    }
}

/// `uname` nodename and release.
fn uname() -> (String, String) {
    // SAFETY: utsname is plain data; uname fills it with NUL-terminated strings.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return (String::new(), String::new());
    }
    let s = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    (s(&u.nodename), s(&u.release))
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

/// The commit, branch and dirty flag of the work tree containing `dir`, if any.
///
/// None when git is not installed, `dir` is not in a work tree, HEAD has no commit yet, or git
/// does not answer within 2 s. `GIT_DIR`-style variables are removed so that the answer is about
/// `dir` even when perfmon runs inside a git hook. `status` runs with `GIT_OPTIONAL_LOCKS=0` so
/// that it never takes the index lock of a repository the user is working in.
pub fn git_info(dir: &Path) -> Option<GitInfo> {
    let deadline = Instant::now() + GIT_TIMEOUT;
    // The dirty check (the slow one: it stats the tracked files) runs beside rev-parse.
    let status = {
        let dir = dir.to_path_buf();
        std::thread::spawn(move || {
            git(
                &dir,
                &["status", "--porcelain", "--untracked-files=no"],
                deadline,
            )
        })
    };
    // One rev-parse prints the commit, then the branch (`HEAD` when detached).
    let ids = git(
        dir,
        &["rev-parse", "HEAD", "--abbrev-ref", "HEAD"],
        deadline,
    );
    let dirty = status.join().ok().flatten().map(|s| !s.trim().is_empty());
    let ids = ids?;
    let mut lines = ids.lines().map(str::trim);
    let commit = lines.next().unwrap_or("").to_string();
    if commit.is_empty() {
        return None;
    }
    let branch = lines
        .next()
        .map(str::to_string)
        .filter(|b| !b.is_empty() && b != "HEAD");
    Some(GitInfo {
        commit,
        branch,
        dirty,
    })
}

/// A git query running in the background, detached from perfmon (see [`GitProbe::start`]).
pub struct GitProbe {
    rx: mpsc::Receiver<String>,
    started: Instant,
}

/// Both queries at once, each answering in one short line (written atomically to the pipe).
const PROBE_SCRIPT: &str = "( r=$(git rev-parse HEAD --abbrev-ref HEAD 2>/dev/null); \
    echo \"@rev $? $(echo $r)\" ) & \
  ( s=$(git status --porcelain --untracked-files=no 2>/dev/null); rc=$?; \
    [ -n \"$s\" ] && d=1 || d=0; echo \"@status $rc $d\" ) & wait";

impl GitProbe {
    /// Starts `git rev-parse` and `git status` for `dir` in a shell that is *not* a child of
    /// perfmon: it is forked once more before it executes, and the middle process exits at
    /// once, so the shell is re-parented before perfmon becomes a subreaper. perfmon can then
    /// run the command, and reap every child it has, while git works: git costs the run about
    /// a millisecond and its CPU is never counted in the tree. Call before the command starts.
    pub fn start(dir: &Path) -> Option<GitProbe> {
        use std::os::unix::process::CommandExt;
        // Nothing to ask git outside a work tree: spare the processes.
        if !dir.ancestors().any(|d| d.join(".git").exists()) {
            return None;
        }
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(PROBE_SCRIPT)
            .current_dir(dir)
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("LC_ALL", "C")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec the closure only calls fork and _exit, which are
        // async-signal-safe. The middle process exits with 0 without exec; std then sees its
        // exec-error pipe close and takes the spawn as a success.
        unsafe {
            cmd.pre_exec(|| match libc::fork() {
                -1 => Err(std::io::Error::last_os_error()),
                0 => Ok(()),
                _ => libc::_exit(0),
            });
        }
        let mut child = cmd.spawn().ok()?;
        let mut out = child.stdout.take()?;
        child.wait().ok()?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("perfmon-git".into())
            .spawn(move || {
                let mut s = String::new();
                let _ = out.read_to_string(&mut s);
                let _ = tx.send(s);
            })
            .ok()?;
        Some(GitProbe {
            rx,
            started: Instant::now(),
        })
    }

    /// The answer, waiting at most until 2 s after the start.
    pub fn finish(self) -> Option<GitInfo> {
        let left = (self.started + GIT_TIMEOUT).saturating_duration_since(Instant::now());
        parse_probe(&self.rx.recv_timeout(left).ok()?)
    }
}

/// Parses the probe's output: `@rev RC COMMIT BRANCH` and `@status RC DIRTY`, in any order.
fn parse_probe(out: &str) -> Option<GitInfo> {
    let mut rev: Option<Vec<&str>> = None;
    let mut dirty = None;
    for line in out.lines() {
        let mut w = line.split_whitespace();
        match (w.next(), w.next()) {
            (Some("@rev"), Some("0")) => rev = Some(w.collect()),
            (Some("@status"), Some("0")) => dirty = w.next().map(|d| d == "1"),
            _ => {}
        }
    }
    let rev = rev?;
    let commit = rev.first()?.to_string();
    if commit.len() < 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let branch = rev
        .get(1)
        .map(|b| b.to_string())
        .filter(|b| !b.is_empty() && b != "HEAD");
    Some(GitInfo {
        commit,
        branch,
        dirty,
    })
}

/// Runs `git -C dir ARGS`; its stdout when it exits with 0 before `deadline`.
fn git(dir: &Path, args: &[&str], deadline: Instant) -> Option<String> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
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
    let left = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left) {
        Ok(s) => {
            let status = child.wait().ok()?;
            status.success().then_some(s)
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    }
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
        let h = host_info();
        assert!(!h.hostname.is_empty() && !h.kernel.is_empty());
        assert!(h.cores >= 1 && h.memory_bytes > 0);
        assert!(h.gpus.is_empty());
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
    fn probe_output_is_parsed() {
        let c = "0123456789abcdef0123456789abcdef01234567";
        let g = parse_probe(&format!("@status 0 1\n@rev 0 {c} main\n")).unwrap();
        assert_eq!((g.branch.as_deref(), g.dirty), (Some("main"), Some(true)));
        let g = parse_probe(&format!("@rev 0 {c} HEAD\n@status 0 0\n")).unwrap();
        assert_eq!((g.branch, g.dirty), (None, Some(false)));
        let g = parse_probe(&format!("@rev 0 {c} main\n@status 128 0\n")).unwrap();
        assert_eq!(g.dirty, None);
        assert!(parse_probe("@rev 128 HEAD\n@status 128 0\n").is_none());
        assert!(parse_probe("").is_none());
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
        // The detached probe agrees.
        assert_eq!(GitProbe::start(d).unwrap().finish().as_ref(), Some(&g));
        assert_eq!(g.branch.as_deref(), Some("trunk"));
        assert_eq!(g.dirty, Some(false));
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("a.txt"), "2").unwrap();
        std::fs::write(d.join("untracked.txt"), "x").unwrap();
        let g2 = git_info(&d.join("sub")).unwrap();
        assert_eq!(g2.dirty, Some(true));
        assert_eq!(g2.commit, g.commit);
        sh_git(d, &["checkout", "-q", "--detach"]);
        assert_eq!(git_info(d).unwrap().branch, None);
    }
}
