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
    let commit = git(dir, &["rev-parse", "--verify", "-q", "HEAD"], deadline)?;
    let commit = commit.trim().to_string();
    if commit.is_empty() {
        return None;
    }
    let branch = git(dir, &["rev-parse", "--abbrev-ref", "HEAD"], deadline)
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty() && b != "HEAD");
    let dirty = git(
        dir,
        &["status", "--porcelain", "--untracked-files=no"],
        deadline,
    )
    .map(|s| !s.trim().is_empty());
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
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let left = deadline.saturating_duration_since(Instant::now());
                let s = rx.recv_timeout(left.max(Duration::from_millis(50))).ok()?;
                return status.success().then_some(s);
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
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
