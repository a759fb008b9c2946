//! perfmon in a terminal: the command sees a terminal exactly where perfmon has one (same window
//! size, resizes passed on), `--pty` / `--no-pty` force it either way, and what is recorded from
//! the output is the same whatever the streams are and whatever `--quiet` / `--strip` say.
//!
//! Each case runs `fixtures/workloads/tty_probe.py` twice with the same stdin/stdout/stderr: bare,
//! and under `perfmon run`. "Terminal" is the slave of one pseudo-terminal the test opens and makes
//! the child's controlling terminal (the child leads a session of its own and is the terminal's
//! foreground process group, as a shell makes a job); "not a terminal" is a pipe, a file or
//! /dev/null.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

/// The window size of the test's terminal (rows, cols).
const SIZE: (u16, u16) = (37, 101);
/// The size the resize test sets.
const RESIZED: (u16, u16) = (50, 132);
/// A child that runs longer than this is killed and the case fails.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the output readers may take after the child has exited.
const READER_GRACE: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Tty,
    Pipe,
    File,
    Null,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Tty => "tty",
            Kind::Pipe => "pipe",
            Kind::File => "file",
            Kind::Null => "null",
        }
    }
}

/// What stdin, stdout and stderr are.
type Setup = [Kind; 3];

fn setup_label(s: &Setup) -> String {
    format!(
        "in={:<4} out={:<4} err={:<4}",
        s[0].label(),
        s[1].label(),
        s[2].label()
    )
}

/// A pseudo-terminal with both ends close-on-exec (the children get the slave as 0/1/2 only).
struct Pty {
    master: OwnedFd,
    slave: OwnedFd,
}

fn set_winsize(fd: i32, (rows, cols): (u16, u16)) -> std::io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from a valid pointer.
    if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn open_pty(size: (u16, u16)) -> Pty {
    use nix::fcntl::OFlag;
    let m = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .expect("posix_openpt");
    nix::pty::grantpt(&m).expect("grantpt");
    nix::pty::unlockpt(&m).expect("unlockpt");
    let name = nix::pty::ptsname_r(&m).expect("ptsname_r");
    // std opens with O_CLOEXEC.
    let slave: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&name)
        .expect("open the pty slave")
        .into();
    set_winsize(slave.as_raw_fd(), size).expect("TIOCSWINSZ");
    Pty {
        master: m.into(),
        slave,
    }
}

/// Reads `f` to the end (or EIO, a pty master's end once every slave is closed) on a thread.
fn read_on_thread(mut f: File) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break, // EIO from the master: no slave is open any more
            }
        }
        let _ = tx.send(all);
    });
    rx
}

/// Every process below `pid` (children first found through /proc).
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let kids =
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        for k in kids.split_whitespace().filter_map(|k| k.parse().ok()) {
            out.push(k);
            todo.push(k);
        }
    }
    out
}

/// What one run of a child left: its exit status as a shell shows it, and the bytes of the
/// streams the test could read (a pipe or a file on stdout/stderr; the pty master, which has
/// both streams where they are the terminal).
#[derive(Default)]
struct RunOut {
    code: Option<i32>,
    stdout: Option<Vec<u8>>,
    stderr: Option<Vec<u8>>,
    tty: Option<Vec<u8>>,
    problems: Vec<String>,
}

impl RunOut {
    /// All captured output, every readable stream.
    fn captured(&self) -> Vec<u8> {
        let mut v = Vec::new();
        for s in [&self.stdout, &self.stderr, &self.tty]
            .into_iter()
            .flatten()
        {
            v.extend_from_slice(s);
        }
        v
    }
}

/// Runs `cmd` with stdin/stdout/stderr as `setup` says, in a session of its own whose controlling
/// terminal is a new pty of size [`SIZE`]. `started` is called with the pty master once the child
/// runs (the resize test resizes the window from there).
fn run_with(
    mut cmd: Command,
    setup: &Setup,
    dir: &Path,
    tag: &str,
    started: Option<&dyn Fn(&OwnedFd)>,
) -> RunOut {
    let pty = open_pty(SIZE);
    let mut out = RunOut::default();
    let mut readers: Vec<(&'static str, mpsc::Receiver<Vec<u8>>)> = Vec::new();
    let mut files: Vec<(usize, PathBuf)> = Vec::new();
    let mut stdin_writer: Option<File> = None;
    for (fd, kind) in setup.iter().enumerate() {
        let theirs: OwnedFd = match kind {
            Kind::Tty => pty.slave.try_clone().expect("dup the slave"),
            Kind::Null => std::fs::OpenOptions::new()
                .read(fd == 0)
                .write(fd != 0)
                .open("/dev/null")
                .expect("/dev/null")
                .into(),
            Kind::File => {
                let path = dir.join(format!("{tag}.fd{fd}"));
                if fd == 0 {
                    std::fs::write(&path, b"a line of input\n").unwrap();
                    File::open(&path).unwrap().into()
                } else {
                    files.push((fd, path.clone()));
                    File::create(&path).unwrap().into()
                }
            }
            Kind::Pipe => {
                let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe2");
                if fd == 0 {
                    stdin_writer = Some(File::from(w));
                    r
                } else {
                    let name = if fd == 1 { "stdout" } else { "stderr" };
                    readers.push((name, read_on_thread(File::from(r))));
                    w
                }
            }
        };
        let stdio = Stdio::from(theirs);
        match fd {
            0 => cmd.stdin(stdio),
            1 => cmd.stdout(stdio),
            _ => cmd.stderr(stdio),
        };
    }
    let slave_fd = pty.slave.as_raw_fd();
    // SAFETY: only async-signal-safe calls (setsid, ioctl) between fork and exec. The slave fd is
    // open until exec (close-on-exec).
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::ioctl(slave_fd, libc::TIOCSCTTY, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn the child");
    // Only the child holds the slave and the pipes' write ends now, so the readers see the end.
    drop(cmd);
    let Pty { master, slave } = pty;
    drop(slave);
    let tty_reader = read_on_thread(File::from(master.try_clone().expect("dup the master")));
    if let Some(mut w) = stdin_writer.take() {
        let _ = w.write_all(b"a line of input\n");
    }
    if let Some(f) = started {
        f(&master);
    }
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let pids = descendants(child.id());
                // SAFETY: kill(2) of the child this test started and of its descendants.
                unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
                for p in pids {
                    // SAFETY: as above.
                    unsafe { libc::kill(p as i32, libc::SIGKILL) };
                }
                let _ = child.wait();
                out.problems.push(format!(
                    "timed out after {}s (killed)",
                    CHILD_TIMEOUT.as_secs()
                ));
                break None;
            }
        }
    };
    out.code = status.map(|s| s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0)));
    let until = Instant::now() + READER_GRACE;
    let wait = |rx: &mpsc::Receiver<Vec<u8>>| {
        rx.recv_timeout(until.saturating_duration_since(Instant::now()))
            .ok()
    };
    for (name, rx) in &readers {
        let got = wait(rx);
        if got.is_none() {
            out.problems.push(format!(
                "{name} still open {}s after exit",
                READER_GRACE.as_secs()
            ));
        }
        if *name == "stdout" {
            out.stdout = got;
        } else {
            out.stderr = got;
        }
    }
    out.tty = wait(&tty_reader);
    if out.tty.is_none() {
        out.problems
            .push("the terminal is still open after exit".into());
    }
    drop(master);
    for (fd, path) in files {
        let data = std::fs::read(&path).ok();
        if fd == 1 {
            out.stdout = data;
        } else {
            out.stderr = data;
        }
    }
    out
}

/// The environment both runs get: no recorded variables, no database, a terminal type as a
/// terminal emulator sets it, no window size from the environment.
fn child_env(cmd: &mut Command, probe_out: &Path) {
    cmd.env_remove("PERFMON_DB");
    for name in perfmon::commands::run::ENV_ALLOWLIST {
        cmd.env_remove(name);
    }
    for name in ["COLUMNS", "LINES", "PYTHONUNBUFFERED", "TTY_PROBE_STEP_S"] {
        cmd.env_remove(name);
    }
    cmd.env("TERM", "xterm-256color");
    cmd.env("TTY_PROBE_OUT", probe_out);
}

fn bare_probe(dir: &Path, probe_out: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(python());
    c.arg(workload("tty_probe.py")).args(args);
    c.current_dir(dir);
    child_env(&mut c, probe_out);
    // perfmon sets it for the command; the bare run gets the same.
    c.env("PYTHONUNBUFFERED", "1");
    c
}

fn perfmon_probe(
    env: &Env,
    name: &str,
    flags: &[&str],
    probe_out: &Path,
    args: &[&str],
) -> Command {
    let mut c = Command::new(perfmon_bin());
    c.arg("--db")
        .arg(env.db())
        .args(["run", "--name", name])
        .args(flags)
        .arg("--")
        .arg(python())
        .arg(workload("tty_probe.py"))
        .args(args);
    c.current_dir(env.dir.path());
    child_env(&mut c, probe_out);
    // Long enough (0.6 s) for a live status line to show while the output flows.
    c.env("TTY_PROBE_STEP_S", "0.02");
    c
}

/// What the probe saw of its fds.
#[derive(Clone, PartialEq, Debug)]
struct Seen {
    isatty: [bool; 3],
    /// (rows, cols) of fds 1 and 2, None where not a terminal.
    size: [Option<(u64, u64)>; 2],
}

fn size_of(v: &Value) -> Option<(u64, u64)> {
    let a = v.as_array()?;
    Some((a.first()?.as_u64()?, a.get(1)?.as_u64()?))
}

fn seen_of(v: &Value) -> Option<Seen> {
    let t = v["isatty"].as_array()?;
    let b = |i: usize| t.get(i).and_then(|x| x.as_bool());
    Some(Seen {
        isatty: [b(0)?, b(1)?, b(2)?],
        size: [size_of(&v["size1"]), size_of(&v["size2"])],
    })
}

fn fmt_seen(s: &Seen) -> String {
    let sz = |x: Option<(u64, u64)>| x.map_or("-".to_string(), |(r, c)| format!("{r}x{c}"));
    fmt_terminals(s.isatty, [sz(s.size[0]), sz(s.size[1])])
}

/// `isatty 011 size1 37x101 size2 -`: what a case saw or wants of its three descriptors.
fn fmt_terminals(isatty: [bool; 3], sizes: [String; 2]) -> String {
    format!(
        "isatty {}{}{} size1 {} size2 {}",
        isatty[0] as u8, isatty[1] as u8, isatty[2] as u8, sizes[0], sizes[1]
    )
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The size a stdout/stderr of the command must have.
#[derive(Clone, Copy)]
enum SizeWant {
    /// Not a terminal.
    None,
    Exact(u64, u64),
    /// A terminal of any non-zero size (`--pty` where perfmon's fd is not a terminal).
    NonZero,
}

struct Want {
    isatty: [bool; 3],
    size: [SizeWant; 2],
}

impl Want {
    fn matches(&self, s: &Seen) -> bool {
        s.isatty == self.isatty
            && (0..2).all(|k| match (self.size[k], s.size[k]) {
                (SizeWant::None, got) => got.is_none(),
                (SizeWant::Exact(r, c), got) => got == Some((r, c)),
                (SizeWant::NonZero, got) => got.is_some_and(|(r, c)| r > 0 && c > 0),
            })
    }

    fn show(&self) -> String {
        let sz = |x: SizeWant| match x {
            SizeWant::None => "-".to_string(),
            SizeWant::Exact(r, c) => format!("{r}x{c}"),
            SizeWant::NonZero => "non-zero".to_string(),
        };
        fmt_terminals(self.isatty, [sz(self.size[0]), sz(self.size[1])])
    }
}

/// What the command must see under perfmon with `flags`, given what it sees without perfmon:
/// the same (a terminal of the same size exactly where perfmon has one, stdin unchanged), except
/// that `--pty` makes stdout and stderr terminals and `--no-pty` makes them not.
fn want_under_perfmon(bare: &Seen, flags: &[&str]) -> Want {
    let mut w = Want {
        isatty: bare.isatty,
        size: bare
            .size
            .map(|s| s.map_or(SizeWant::None, |(r, c)| SizeWant::Exact(r, c))),
    };
    if flags.contains(&"--pty") {
        for k in 0..2 {
            w.isatty[k + 1] = true;
            if matches!(w.size[k], SizeWant::None) {
                w.size[k] = SizeWant::NonZero;
            }
        }
    }
    if flags.contains(&"--no-pty") {
        w.isatty[1] = false;
        w.isatty[2] = false;
        w.size = [SizeWant::None; 2];
    }
    w
}

/// What a stored run recorded from the output, in a form that does not depend on timing.
#[derive(Clone, PartialEq, Debug, Default)]
struct Recorded {
    /// name -> count
    timers: BTreeMap<String, u64>,
    /// name (`@algo` when one) -> (iter, value)
    series: BTreeMap<String, Vec<(i64, Option<f64>)>>,
    /// texts, sorted (the streams' order relative to each other is not fixed)
    marks: Vec<String>,
    lines_seen: Option<u64>,
    exit_code: Option<i64>,
    status: Option<String>,
}

fn recorded(rep: &Value) -> Recorded {
    let mut r = Recorded::default();
    for t in rep["timers"].as_array().into_iter().flatten() {
        let name = t["name"].as_str().unwrap_or("?").to_string();
        *r.timers.entry(name).or_default() += t["count"].as_u64().unwrap_or(0);
    }
    for s in rep["series"].as_array().into_iter().flatten() {
        let mut name = s["name"].as_str().unwrap_or("?").to_string();
        if let Some(a) = s["algorithm"].as_str() {
            name = format!("{name}@{a}");
        }
        let pts = s["points"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| (p["iter"].as_i64().unwrap_or(i64::MIN), p["value"].as_f64()))
            .collect();
        r.series.insert(name, pts);
    }
    r.marks = rep["marks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["text"].as_str().unwrap_or("?").to_string())
        .collect();
    r.marks.sort();
    r.lines_seen = rep["diagnostics"]["lines_seen"].as_u64();
    r.exit_code = rep["exit_code"].as_i64();
    r.status = rep["status"].as_str().map(String::from);
    r
}

/// The stored run `name` (`perfmon report NAME --format json`, plain pipes), or why not.
fn report_of(env: &Env, name: &str) -> Result<Recorded, String> {
    let out = env.run(&["report", name, "--format", "json"]);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("no stored run: {}", err.trim()));
    }
    serde_json::from_slice(&out.stdout)
        .map(|v| recorded(&v))
        .map_err(|e| format!("report is not JSON: {e}"))
}

fn fmt_series(s: &BTreeMap<String, Vec<(i64, Option<f64>)>>) -> String {
    let parts: Vec<String> = s
        .iter()
        .map(|(k, v)| format!("{k}: {} points", v.len()))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Field-by-field differences of `got` from `want`.
fn diff_recorded(got: &Recorded, want: &Recorded) -> Vec<(String, String)> {
    let mut d = Vec::new();
    if got.timers != want.timers {
        d.push((
            "timers".into(),
            format!("{:?}, want {:?}", got.timers, want.timers),
        ));
    }
    if got.series != want.series {
        let detail = if got.series.keys().eq(want.series.keys()) {
            format!("points differ: {}", fmt_series(&got.series))
        } else {
            format!(
                "{}, want {}",
                fmt_series(&got.series),
                fmt_series(&want.series)
            )
        };
        d.push(("series".into(), detail));
    }
    if got.marks != want.marks {
        d.push((
            "marks".into(),
            format!("{:?}, want {:?}", got.marks, want.marks),
        ));
    }
    if got.lines_seen != want.lines_seen {
        d.push((
            "lines_seen".into(),
            format!("{:?}, want {:?}", got.lines_seen, want.lines_seen),
        ));
    }
    if (&got.exit_code, &got.status) != (&want.exit_code, &want.status) {
        d.push((
            "stored exit".into(),
            format!(
                "{:?} {:?}, want {:?} {:?}",
                got.exit_code, got.status, want.exit_code, want.status
            ),
        ));
    }
    d
}

/// What the probe prints (see the docstring of tty_probe.py), with `lines` its line count.
fn expected_recording(lines: u64) -> Recorded {
    let timers = [("total", 1), ("Data Loading", 1), ("step", 30), ("eval", 3)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let loss = (0..30)
        .map(|i| (i, Some((100 - 3 * i) as f64 / 100.0)))
        .collect();
    let acc = (0..30).map(|i| (i, Some(i as f64 / 40.0))).collect();
    let mut marks: Vec<String> = ["begin", "end", "eval done"].map(String::from).into();
    marks.sort();
    Recorded {
        timers,
        series: [("loss".to_string(), loss), ("acc".to_string(), acc)]
            .into_iter()
            .collect(),
        marks,
        lines_seen: Some(lines),
        exit_code: Some(0),
        status: Some("ok".into()),
    }
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Failures collected over the whole table: (case, field, detail).
#[derive(Default)]
struct Failures(Vec<(String, String, String)>);

impl Failures {
    fn add(&mut self, case: &str, field: &str, detail: impl Into<String>) {
        let mut detail: String = detail.into();
        if detail.len() > 220 {
            let mut cut = 220;
            while !detail.is_char_boundary(cut) {
                cut -= 1;
            }
            detail.truncate(cut);
            detail.push('…');
        }
        self.0.push((case.into(), field.into(), detail));
    }

    fn assert_none(&self, what: &str) {
        if self.0.is_empty() {
            return;
        }
        let w = self
            .0
            .iter()
            .map(|f| f.0.chars().count())
            .max()
            .unwrap_or(0);
        let mut table = String::new();
        for (case, field, detail) in &self.0 {
            table.push_str(&format!("  {case:<w$} | {field:<13} | {detail}\n"));
        }
        panic!("{} failures in {what}:\n{table}", self.0.len());
    }
}

/// The flag sets each combination runs under.
fn flag_sets(setup: &Setup) -> Vec<Vec<&'static str>> {
    let mut v = vec![vec![], vec!["--pty"], vec!["--quiet"], vec!["--strip"]];
    if setup.iter().all(|k| *k == Kind::Tty) {
        v.push(vec!["--no-pty"]);
    }
    v
}

#[test]
fn the_command_sees_a_terminal_where_perfmon_has_one_and_the_record_is_the_same() {
    let env = Env::new();
    let dir = env.dir.path().to_path_buf();
    let mut fails = Failures::default();
    let t0 = Instant::now();
    let mut cases = 1;

    // The reference: all pipes, no flags. It must hold what the probe prints.
    let reference_setup = [Kind::Pipe; 3];
    let ref_json = dir.join("ref.json");
    let ref_out = run_with(
        perfmon_probe(&env, "ref", &[], &ref_json, &[]),
        &reference_setup,
        &dir,
        "ref",
        None,
    );
    let ref_probe = read_json(&ref_json).expect("the reference probe wrote its JSON");
    let lines =
        ref_probe["stdout_lines"].as_u64().unwrap() + ref_probe["stderr_lines"].as_u64().unwrap();
    let reference = report_of(&env, "ref").expect("the reference run is stored");
    let ref_case = format!("{} (reference)", setup_label(&reference_setup));
    assert_eq!(
        ref_out.code,
        Some(0),
        "reference run: {:?}",
        ref_out.problems
    );
    for (field, detail) in diff_recorded(&reference, &expected_recording(lines)) {
        fails.add(
            &ref_case,
            &field,
            format!("{detail} (vs what the probe prints)"),
        );
    }

    // The 8 combinations; the non-terminal fds cycle through pipe, file and /dev/null.
    let others = [Kind::Pipe, Kind::File, Kind::Null];
    let mut next_other = 0;
    for bits in 0..8u32 {
        let mut setup = [Kind::Tty; 3];
        for (fd, k) in setup.iter_mut().enumerate() {
            if bits & (1 << (2 - fd)) == 0 {
                *k = others[next_other % others.len()];
                next_other += 1;
            }
        }
        let label = setup_label(&setup);

        // The bare probe: what the command sees without perfmon.
        let bare_json = dir.join(format!("bare{bits}.json"));
        let bare = run_with(
            bare_probe(&dir, &bare_json, &[]),
            &setup,
            &dir,
            &format!("bare{bits}"),
            None,
        );
        let bare_case = format!("{label} (bare)");
        for p in &bare.problems {
            fails.add(&bare_case, "run", p.clone());
        }
        let Some(bare_seen) = read_json(&bare_json).as_ref().and_then(seen_of) else {
            fails.add(&bare_case, "probe", "wrote no JSON");
            continue;
        };
        // The setup itself: the bare probe sees the terminal exactly where the test put it.
        let want_bare = Seen {
            isatty: setup.map(|k| k == Kind::Tty),
            size: [1, 2]
                .map(|fd| (setup[fd] == Kind::Tty).then_some((SIZE.0 as u64, SIZE.1 as u64))),
        };
        if bare_seen != want_bare {
            fails.add(
                &bare_case,
                "setup",
                format!("{}, want {}", fmt_seen(&bare_seen), fmt_seen(&want_bare)),
            );
        }
        let bare_protocol = count(&bare.captured(), b"@perfmon ");

        for flags in flag_sets(&setup) {
            let case = format!("{label} {:<8}", flags.join(" "));
            let tag = format!("c{bits}{}", flags.join("").replace('-', ""));
            let probe_json = dir.join(format!("{tag}.json"));
            cases += 1;
            let out = run_with(
                perfmon_probe(&env, &tag, &flags, &probe_json, &[]),
                &setup,
                &dir,
                &tag,
                None,
            );
            for p in &out.problems {
                fails.add(&case, "run", p.clone());
            }
            // (iii) perfmon exits with the command's status.
            if out.code != bare.code {
                // perfmon's last message or error, wherever its stderr went.
                let captured = out.captured();
                let text = String::from_utf8_lossy(&captured);
                let err = text
                    .lines()
                    .rev()
                    .find(|l| l.contains("perfmon: ") || l.contains("error"))
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                fails.add(
                    &case,
                    "exit code",
                    format!("{:?}, bare {:?} {err}", out.code, bare.code),
                );
            }

            // (i) the terminal the command sees.
            let probe = read_json(&probe_json).unwrap_or_default();
            match seen_of(&probe) {
                None => fails.add(&case, "probe", "wrote no JSON (did the command run?)"),
                Some(seen) => {
                    let want = want_under_perfmon(&bare_seen, &flags);
                    if !want.matches(&seen) {
                        fails.add(
                            &case,
                            "terminal",
                            format!("{}, want {}", fmt_seen(&seen), want.show()),
                        );
                    }
                    // stdout and stderr stay separate streams: two terminals, not one.
                    let names = &probe["ttyname"];
                    if seen.isatty[1] && seen.isatty[2] && names[1] == names[2] {
                        fails.add(
                            &case,
                            "separate",
                            format!("stdout and stderr are one terminal, {}", names[1]),
                        );
                    }
                }
            }

            // (ii) the same record as the reference.
            match report_of(&env, &tag) {
                Err(e) => fails.add(&case, "report", e),
                Ok(rec) => {
                    for (field, detail) in diff_recorded(&rec, &reference) {
                        fails.add(&case, &field, detail);
                    }
                }
            }

            // The forwarded output: --strip hides the protocol lines, --quiet perfmon's messages.
            let captured = out.captured();
            let protocol = count(&captured, b"@perfmon ");
            let want_protocol = if flags.contains(&"--strip") {
                0
            } else {
                bare_protocol
            };
            if protocol != want_protocol {
                fails.add(
                    &case,
                    "forwarded",
                    format!("{protocol} `@perfmon ` lines, want {want_protocol}"),
                );
            }
            let messages = count(&captured, b"perfmon: ");
            if flags.contains(&"--quiet") && messages > 0 {
                fails.add(&case, "quiet", format!("{messages} perfmon messages shown"));
            }
            // A pipe or file gets the command's bytes as they are (and only that stream's).
            let plain = flags.is_empty() || flags == ["--quiet"];
            let streams = [
                ("stdout bytes", &out.stdout, &bare.stdout, plain),
                (
                    "stderr bytes",
                    &out.stderr,
                    &bare.stderr,
                    flags == ["--quiet"],
                ),
            ];
            for (field, got, want, check) in streams {
                if let (true, Some(got), Some(want)) = (check, got, want) {
                    if got != want {
                        fails.add(
                            &case,
                            field,
                            format!("{} bytes, bare {} (not the same)", got.len(), want.len()),
                        );
                    }
                }
            }
        }
    }
    eprintln!(
        "terminal table: {cases} perfmon runs in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    fails.assert_none("the terminal table (case | field | what)");
}

#[test]
fn a_resized_window_reaches_the_command() {
    let env = Env::new();
    let dir = env.dir.path().to_path_buf();
    let probe_json = dir.join("winch.json");
    let setup = [Kind::Tty; 3];
    let resize = |master: &OwnedFd| {
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if read_json(&probe_json).is_some_and(|v| v["ready"] == true) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // The kernel sends SIGWINCH to the terminal's foreground process group.
        set_winsize(master.as_raw_fd(), RESIZED).expect("TIOCSWINSZ on the master");
    };
    let out = run_with(
        perfmon_probe(&env, "winch", &[], &probe_json, &["winch"]),
        &setup,
        &dir,
        "winch",
        Some(&resize),
    );
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.code, Some(0), "perfmon's exit code");
    let v = read_json(&probe_json).expect("the probe wrote its JSON");
    let want = (RESIZED.0 as u64, RESIZED.1 as u64);
    let before = seen_of(&v).expect("probe state");
    let after = [
        size_of(&v["after_winch"]["size1"]),
        size_of(&v["after_winch"]["size2"]),
    ];
    assert!(
        v["winch"] == true && after == [Some(want), Some(want)],
        "the command saw {} before the resize; after it: SIGWINCH {}, sizes {:?}; want {:?} on fds 1 and 2",
        fmt_seen(&before),
        v["winch"],
        after,
        want
    );
}
