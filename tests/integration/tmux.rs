//! perfmon typed at a terminal, as a person would: each test starts a private tmux server (its own
//! socket, no config file) with a detached 120x40 session running a plain bash, types commands
//! with `send-keys` and reads the screen with `capture-pane`. The rest of the suite only ever
//! pipes perfmon's output; these tests check what changes when stdout/stderr are a terminal:
//! the command still sees a terminal (colours, `less`, the window size), job control works
//! (Ctrl-C, Ctrl-Z, `fg`), the live status row never mixes into the command's output, the
//! terminal modes are restored, and the run is recorded as when piped.
//!
//! tmux is required (`make deps` installs it): without it these tests fail, they do not skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use regex::Regex;

use crate::common::*;

const COLS: usize = 120;
const ROWS: usize = 40;
/// How long any one thing may take to show on the screen (a busy 2-core CI runner).
const TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

/// A whole line of fixtures/workloads/term_lines.py.
const LINE_RE: &str = r"^line \d{4} loss=\d\.\d{6} x{40}$";
/// A frame of the bar of fixtures/workloads/term_bar.py.
const BAR_RE: &str = r"^ *\d{1,3}%\|[# ]{20}\| \d{1,3}/100$";

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap()
}

/// perfmon's live status row: `perfmon: ` with the CPU and RSS figures. Other perfmon messages
/// (`perfmon: run 3 stored ...`) start with `perfmon: ` too but have no `CPU ` and `RSS `.
fn is_status_row(row: &str) -> bool {
    row.starts_with("perfmon: ") && row.contains("CPU ") && row.contains("RSS ")
}

/// The real python3 (pyenv's shims need the real HOME, which the shell in tmux does not have).
fn python_exe() -> &'static str {
    static EXE: OnceLock<String> = OnceLock::new();
    EXE.get_or_init(|| {
        let out = Command::new(python())
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 not found: run `make deps`");
        assert!(out.status.success(), "python3 does not run");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

fn require_tool(name: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false);
    assert!(found, "{name} not found: run `make deps`");
}

/// A shell in a private tmux server, and a directory (its HOME and working directory) holding
/// the database. Dropping it kills the server, also when a test fails.
struct Term {
    dir: tempfile::TempDir,
    sock: PathBuf,
    /// Numbers the `EXIT<n>=` markers so each command's end is told apart.
    next_marker: u32,
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.tmux_cmd(&["kill-server"]).output();
    }
}

impl Term {
    fn new() -> Term {
        require_tool("tmux");
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("sock");
        // Short names in the typed commands: `perfmon` and `python3` on PATH, the workloads as
        // `w/NAME`.
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::os::unix::fs::symlink(perfmon_bin(), bin.join("perfmon")).unwrap();
        std::os::unix::fs::symlink(python_exe(), bin.join("python3")).unwrap();
        std::os::unix::fs::symlink(workload(""), dir.path().join("w")).unwrap();
        let t = Term {
            dir,
            sock,
            next_marker: 1,
        };
        let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .unwrap();
        // A clean environment: no PERFMON_DB, none of the variables perfmon records (CI, ...).
        let home = t.dir.path().to_path_buf();
        let mut cmd = t.tmux_cmd(&[]);
        cmd.env_clear()
            .env("PATH", &path)
            .env("HOME", &home)
            .env("TERM", "xterm-256color")
            .env("LANG", "C.UTF-8")
            .env("DB", t.db());
        let size = (COLS.to_string(), ROWS.to_string());
        // `screen` is in every terminfo database (tmux-256color is not).
        cmd.args(["set-option", "-g", "default-terminal", "screen", ";"])
            .args(["set-option", "-g", "history-limit", "20000", ";"])
            .args([
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                &size.0,
                "-y",
                &size.1,
                "-c",
            ])
            .arg(&home)
            .arg("env 'PS1=$ ' bash --norc --noprofile");
        let out = cmd.output().expect("tmux not found: run `make deps`");
        assert!(
            out.status.success(),
            "cannot start tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.wait_for("the shell's prompt", |s| {
            s.visible.iter().any(|r| r == "$").then_some(())
        });
        t
    }

    fn tmux_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S")
            .arg(&self.sock)
            .args(["-f", "/dev/null"])
            .args(args);
        c.stdin(Stdio::null());
        c
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let out = self.tmux_cmd(args).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn db(&self) -> PathBuf {
        self.path("runs.db")
    }

    /// Types `cmd` and Enter.
    fn type_line(&self, cmd: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", cmd]);
        self.tmux(&["send-keys", "-t", "t", "Enter"]);
    }

    /// Sends tmux key names (`C-c`, `C-z`, `q`, `Enter`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// The screen and its scrollback, wrapped rows joined (`-J`), each row without trailing
    /// blanks; with `colours`, the SGR escapes too (`-e`).
    fn capture(&self, colours: bool) -> Screen {
        let mut args = vec!["capture-pane", "-p", "-J", "-S", "-", "-t", "t"];
        if colours {
            args.push("-e");
        }
        let text = String::from_utf8_lossy(&self.tmux(&args).stdout).into_owned();
        let rows: Vec<String> = text.lines().map(|r| r.trim_end().to_string()).collect();
        let visible = self.capture_visible();
        Screen { rows, visible }
    }

    /// The visible screen as it is: ROWS rows, wrapped rows not joined.
    fn capture_visible(&self) -> Vec<String> {
        let out = self.tmux(&["capture-pane", "-p", "-t", "t"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|r| r.trim_end().to_string())
            .collect()
    }

    /// Polls the screen every 50 ms until `f` gives a value; fails with the screen after 30 s.
    fn wait_for<T>(&self, what: &str, mut f: impl FnMut(&Screen) -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            let s = self.capture(false);
            if let Some(v) = f(&s) {
                return v;
            }
            if start.elapsed() > TIMEOUT {
                panic!(
                    "timed out after {TIMEOUT:?} waiting for {what}\n{}",
                    s.dump()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Types `cmd; echo "EXIT<n>=$?"` and returns n; see [`Term::wait_exit`].
    fn start(&mut self, cmd: &str) -> u32 {
        let n = self.next_marker;
        self.next_marker += 1;
        self.type_line(&format!("{cmd}; echo \"EXIT{n}=$?\""));
        n
    }

    /// Waits for the row `EXIT<n>=CODE` and the prompt after it; returns CODE.
    fn wait_exit(&self, n: u32, what: &str) -> i32 {
        let marker = re(&format!(r"^EXIT{n}=(\d+)$"));
        self.wait_for(&format!("{what} to end (the row EXIT{n}=...)"), |s| {
            let i = s.rows.iter().position(|r| marker.is_match(r))?;
            // The prompt is back (the shell is ready for the next command).
            s.rows[i + 1..].iter().any(|r| r == "$").then(|| {
                marker.captures(&s.rows[i]).unwrap()[1]
                    .parse::<i32>()
                    .unwrap()
            })
        })
    }

    /// Runs `cmd` in the shell and waits for it; returns its exit status.
    fn run(&mut self, cmd: &str) -> i32 {
        let n = self.start(cmd);
        self.wait_exit(n, cmd)
    }

    /// `stty -g` as a command sees it (bash restores its own modes before running one).
    fn save_stty(&mut self, file: &str) {
        let code = self.run(&format!("stty -g > {file}"));
        assert_eq!(code, 0, "stty -g failed\n{}", self.capture(false).dump());
    }

    /// None when the two `stty -g` files are equal, else what differs.
    fn stty_differs(&self, before: &str, after: &str) -> Option<String> {
        let a = std::fs::read_to_string(self.path(before)).unwrap_or_default();
        let b = std::fs::read_to_string(self.path(after)).unwrap_or_default();
        (a.trim().is_empty() || a != b).then(|| {
            format!(
                "the terminal's modes (stty -g) differ after perfmon exited:\n  before: {}\n  \
                 after:  {}",
                a.trim(),
                b.trim()
            )
        })
    }

    /// `perfmon --db DB report NAME --format json`, outside tmux.
    fn report(&self, name: &str) -> serde_json::Value {
        report_json(&self.db(), name)
    }

    /// None when no row of the terminal (scrollback included) is perfmon's status row.
    fn status_row_left(&self, when: &str) -> Option<String> {
        let s = self.capture(false);
        let i = s.rows.iter().position(|r| is_status_row(r))?;
        Some(format!(
            "{when}: perfmon's status row is left on the terminal (row {i}: {:?})",
            s.rows[i]
        ))
    }
}

/// The failed checks of a scenario, reported together with the terminal when it ends.
struct Checks {
    failures: Vec<String>,
}

impl Checks {
    fn new() -> Checks {
        Checks {
            failures: Vec::new(),
        }
    }

    fn check(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(msg());
        }
    }

    fn add(&mut self, failure: Option<String>) {
        self.failures.extend(failure);
    }

    /// Fails with every failed check and the terminal's content.
    fn finish(self, scenario: &str, t: &Term) {
        if self.failures.is_empty() {
            return;
        }
        let mut msg = format!("{scenario}: {} check(s) failed:\n", self.failures.len());
        for (i, f) in self.failures.iter().enumerate() {
            msg.push_str(&format!("{}. {f}\n", i + 1));
        }
        msg.push_str(&t.capture(false).dump());
        panic!("{msg}");
    }
}

/// Finds `expected` as whole rows of `rows`, in order: (lines missing, first missing line, a
/// place where the found rows are not consecutive).
fn find_lines(rows: &[String], expected: &[String]) -> (usize, Option<String>, Option<String>) {
    let mut at = 0;
    let mut missing = 0;
    let mut first_missing = None;
    let mut gap = None;
    let mut prev: Option<usize> = None;
    for (k, want) in expected.iter().enumerate() {
        match rows[at..].iter().position(|r| r == want) {
            Some(off) => {
                let i = at + off;
                if let (Some(p), None) = (prev, &gap) {
                    if i != p + 1 {
                        gap = Some(format!(
                            "rows {}..{} ({:?}) come between line {} and line {} of the command",
                            p + 1,
                            i - 1,
                            rows[p + 1],
                            k,
                            k + 1
                        ));
                    }
                }
                prev = Some(i);
                at = i + 1;
            }
            None => {
                missing += 1;
                first_missing.get_or_insert_with(|| format!("line {}: {want:?}", k + 1));
            }
        }
    }
    (missing, first_missing, gap)
}

struct Screen {
    /// Scrollback and screen, wrapped rows joined.
    rows: Vec<String>,
    /// The visible screen only.
    visible: Vec<String>,
}

impl Screen {
    /// The whole capture for a failure message (at most the last 150 rows).
    fn dump(&self) -> String {
        let skip = self.rows.len().saturating_sub(150);
        let mut s = format!(
            "---- terminal (scrollback and screen, {} rows{}) ----\n",
            self.rows.len(),
            if skip > 0 {
                format!(", first {skip} left out")
            } else {
                String::new()
            }
        );
        for (i, r) in self.rows.iter().enumerate().skip(skip) {
            s.push_str(&format!("{i:4}|{r}\n"));
        }
        s.push_str("---- end of terminal ----");
        s
    }

    /// Index of the last row that is the typed command containing `needle`.
    fn typed_row(&self, needle: &str) -> Option<usize> {
        self.rows
            .iter()
            .rposition(|r| r.starts_with("$ ") && r.contains(needle))
    }
}

fn report_json(db: &Path, name: &str) -> serde_json::Value {
    let out = Command::new(perfmon_bin())
        .arg("--db")
        .arg(db)
        .args(["report", name, "--format", "json"])
        .env_remove("PERFMON_DB")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "perfmon report {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report is JSON")
}

/// The same command piped (`perfmon run --name piped -- ARGV > /dev/null 2>&1`) in a database of
/// its own, started on a thread so it runs while the terminal test does.
fn piped_run(argv: &[&str]) -> std::thread::JoinHandle<serde_json::Value> {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    std::thread::spawn(move || {
        let env = Env::new();
        let mut args = vec!["run", "--name", "piped", "--"];
        args.extend(argv.iter().map(|s| s.as_str()));
        let st = env
            .cmd(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "piped run of {argv:?} failed: {st}");
        env.report_json("piped")
    })
}

fn status_of(rep: &serde_json::Value) -> String {
    rep["status"].as_str().unwrap_or("?").to_string()
}

fn timer_names(rep: &serde_json::Value) -> Vec<String> {
    rep["timers"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .map(|t| t["name"].as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// (name, algorithm, number of points) of each series.
fn series_counts(rep: &serde_json::Value) -> Vec<(String, String, usize)> {
    rep["series"]
        .as_array()
        .map(|ss| {
            ss.iter()
                .map(|s| {
                    (
                        s["name"].as_str().unwrap_or("?").to_string(),
                        s["algorithm"].as_str().unwrap_or("").to_string(),
                        s["points"].as_array().map(|p| p.len()).unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn lines_seen(rep: &serde_json::Value) -> i64 {
    rep["diagnostics"]["lines_seen"].as_i64().unwrap_or(-1)
}

fn loss_points(rep: &serde_json::Value) -> usize {
    series_counts(rep)
        .into_iter()
        .find(|(n, _, _)| n == "loss")
        .map(|(_, _, c)| c)
        .unwrap_or(0)
}

/// Scenario 1: the demo typed at a terminal prints what it prints without perfmon, leaves the
/// terminal as it found it, and is recorded as when piped (timers, series, lines).
#[test]
fn tmux_demo_prints_everything_and_records_timers_and_series() {
    let script = workload("demo_ga.py");
    let script = script.to_str().unwrap();
    let piped = piped_run(&[python_exe(), script, "60", "40"]);
    let plain = Command::new(python_exe())
        .args([script, "60", "40"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(plain.status.success());
    let expected: Vec<String> = String::from_utf8(plain.stdout)
        .unwrap()
        .lines()
        .map(|l| l.to_string())
        .collect();
    assert!(
        expected.len() > 300,
        "demo_ga.py printed {} lines",
        expected.len()
    );

    let mut t = Term::new();
    let code = t.run(
        "stty -g > before.txt; perfmon --db \"$DB\" run --name demo -- python3 w/demo_ga.py 60 40; \
         rc=$?; stty -g > after.txt; (exit $rc)",
    );
    let mut c = Checks::new();
    c.check(code == 0, || {
        format!("perfmon run of the demo exited {code}, not 0")
    });
    let s = t.capture(false);
    let (missing, first_missing, gap) = find_lines(&s.rows, &expected);
    c.check(missing == 0, || {
        format!(
            "{missing} of the {} lines the demo printed are not whole rows of the terminal \
             (split, joined or overwritten); the first: {}",
            expected.len(),
            first_missing.unwrap_or_default()
        )
    });
    c.add(gap.map(|g| format!("the demo's lines are not one after the other: {g}")));
    c.add(t.status_row_left("after the demo"));
    c.add(t.stty_differs("before.txt", "after.txt"));

    let rep = t.report("demo");
    let piped = piped.join().unwrap();
    let (want_timers, got_timers) = (timer_names(&piped), timer_names(&rep));
    assert!(
        want_timers.len() == 4 && want_timers.iter().any(|n| n == "Data Loading"),
        "the piped run has timers {want_timers:?}"
    );
    c.check(got_timers == want_timers, || {
        format!("the run typed at the terminal has timers {got_timers:?}, the piped run {want_timers:?}")
    });
    let (want_series, got_series) = (series_counts(&piped), series_counts(&rep));
    assert!(!want_series.is_empty(), "the piped run has no series");
    c.check(got_series == want_series, || {
        format!(
            "the run typed at the terminal has series (name, algorithm, points) {got_series:?}, \
             the piped run {want_series:?}"
        )
    });
    c.check(lines_seen(&rep) == lines_seen(&piped), || {
        format!(
            "diagnostics.lines_seen is {} typed at the terminal, {} piped",
            lines_seen(&rep),
            lines_seen(&piped)
        )
    });
    c.check(status_of(&rep) == "ok", || {
        format!("the run is stored as {}, not ok", status_of(&rep))
    });
    c.finish("the demo typed at a terminal", &t);
}

/// Classifies a row of the screen while a workload runs under perfmon: `whole` matches a whole
/// row of the command's output, `fragments` are bits of it that perfmon's rows must not contain.
/// Err says why the row is not allowed.
fn check_row(row: &str, whole: &Regex, fragments: &[&str]) -> Result<(), &'static str> {
    if row.is_empty() || row == "$" || row.starts_with("$ ") || whole.is_match(row) {
        return Ok(());
    }
    if re(r"^EXIT\d+=\d+$").is_match(row) {
        return Ok(());
    }
    if row.starts_with("perfmon: ") {
        // The status row or another perfmon message, but never with the command's output in it.
        if fragments.iter().any(|f| row.contains(f)) || row.matches("perfmon:").count() > 1 {
            return Err("perfmon's row mixed with output of the command");
        }
        return Ok(());
    }
    if row.contains("perfmon") {
        return Err("output of the command mixed with perfmon's text");
    }
    Err("not a whole line of the command (split or overwritten)")
}

const LINE_FRAGMENTS: &[&str] = &["line 0", "xxxx"];
const BAR_FRAGMENTS: &[&str] = &["%|", "/100"];

/// Scenario 2: the live status row shows while progress lines stream, and every row on the
/// screen is either a whole line of the command or the status row, never a mix.
#[test]
fn tmux_status_line_never_mixes_with_the_commands_lines() {
    let mut t = Term::new();
    let line_re = re(LINE_RE);
    // The series name and a value, however the status row spells them (`loss=0.5`, `loss 0.5`).
    let loss_shown = re(r"loss\D{0,12}\d");
    let n = t.start("perfmon --db \"$DB\" run --name lines -- python3 w/term_lines.py 40 0.1");
    let marker = re(&format!(r"^EXIT{n}=\d+$"));
    let mut c = Checks::new();
    let start = Instant::now();
    let (mut captures, mut with_lines) = (0, 0);
    let mut bad_row: Option<String> = None;
    let mut status_seen: Vec<String> = Vec::new();
    loop {
        let s = t.capture(false);
        captures += 1;
        let ended = s.rows.iter().any(|r| marker.is_match(r));
        if s.rows.iter().any(|r| line_re.is_match(r)) {
            with_lines += 1;
        }
        for (i, row) in s.rows.iter().enumerate() {
            if let (Err(why), None) = (check_row(row, &line_re, LINE_FRAGMENTS), &bad_row) {
                bad_row = Some(format!(
                    "while the command ran (capture {captures}), row {i}: {why}: {row:?}; every \
                     row must be empty, the prompt, a whole line `line NNNN loss=X xxx..` of the \
                     command, or perfmon's status row alone. That capture:\n{}",
                    s.dump()
                ));
            }
            if is_status_row(row) {
                status_seen.push(row.clone());
            }
        }
        if ended {
            break;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "term_lines.py under perfmon did not end in {TIMEOUT:?}\n{}",
            s.dump()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let code = t.wait_exit(n, "term_lines.py under perfmon");
    c.check(code == 0, || format!("perfmon exited {code}, not 0"));
    c.add(bad_row);
    c.check(with_lines >= 10, || {
        format!("only {with_lines} of {captures} captures showed the command's lines while it ran")
    });
    c.check(status_seen.iter().any(|r| loss_shown.is_match(r)), || {
        format!(
            "no capture showed perfmon's status row with the series `loss` and its value; \
                 status rows seen: {:?}",
            status_seen.iter().rev().take(5).collect::<Vec<_>>()
        )
    });
    c.add(t.status_row_left("after term_lines.py ended"));
    let rep = t.report("lines");
    c.check(loss_points(&rep) == 40, || {
        format!(
            "the run typed at the terminal should have the series `loss` with 40 points; its \
             series (name, algorithm, points): {:?}",
            series_counts(&rep)
        )
    });
    c.finish("progress lines with the status line", &t);
}

/// Scenario 3: a `\r` progress bar (as tqdm draws on stderr) keeps its row: perfmon's status row
/// is never drawn over it or into it, and the bar ends at 100/100.
#[test]
fn tmux_status_line_leaves_a_carriage_return_bar_alone() {
    let mut t = Term::new();
    let bar_re = re(BAR_RE);
    let n = t.start("perfmon --db \"$DB\" run --name bar -- python3 w/term_bar.py");
    let marker = re(&format!(r"^EXIT{n}=\d+$"));
    let mut c = Checks::new();
    let start = Instant::now();
    let mut captures = 0;
    let mut bar_shown = false;
    let mut last_value = 0;
    let mut bad: Option<String> = None;
    loop {
        let s = t.capture(false);
        captures += 1;
        let ended = s.rows.iter().any(|r| marker.is_match(r));
        let mut bars = 0;
        let mut why_bad: Option<String> = None;
        for (i, row) in s.rows.iter().enumerate() {
            if let Err(why) = check_row(row, &bar_re, BAR_FRAGMENTS) {
                why_bad.get_or_insert_with(|| {
                    format!(
                        "row {i}: {why}: {row:?}; every row must be empty, the prompt, the bar \
                         alone, or perfmon's status row alone"
                    )
                });
            }
            if bar_re.is_match(row) {
                bars += 1;
                let v: i32 = row
                    .rsplit("| ")
                    .next()
                    .unwrap()
                    .trim_end_matches("/100")
                    .parse()
                    .unwrap();
                if v < last_value {
                    why_bad.get_or_insert_with(|| {
                        format!("the bar went back from {last_value}/100 to {v}/100")
                    });
                }
                last_value = v;
            }
        }
        if bar_shown && bars != 1 {
            why_bad.get_or_insert_with(|| {
                format!(
                    "{bars} rows show the bar: its row was drawn over (perfmon's status row must \
                     not replace a line the command has not ended)"
                )
            });
        }
        bar_shown |= bars > 0;
        if let (Some(why), None) = (why_bad, &bad) {
            bad = Some(format!(
                "while the bar ran (capture {captures}): {why}. That capture:\n{}",
                s.dump()
            ));
        }
        if ended {
            break;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "term_bar.py under perfmon did not end in {TIMEOUT:?}\n{}",
            s.dump()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let code = t.wait_exit(n, "term_bar.py under perfmon");
    c.check(code == 0, || format!("perfmon exited {code}, not 0"));
    c.add(bad);
    let s = t.capture(false);
    c.check(
        s.rows
            .iter()
            .any(|r| r == "100%|####################| 100/100"),
        || "the bar's final row `100%|####################| 100/100` is not on the terminal".into(),
    );
    c.add(t.status_row_left("after term_bar.py ended"));
    c.finish("a \\r progress bar with the status line", &t);
}

/// Scenario: the window narrows while the status row shows. A terminal that rewraps lines
/// (tmux does, as VTE and kitty do) splits the old, wider status row over several rows; perfmon
/// must clear all of them and draw the row again within the new width, leaving no fragment.
#[test]
fn tmux_status_line_survives_a_narrower_window() {
    const NARROW: usize = 36;
    let mut t = Term::new();
    let n = t.start("perfmon --db \"$DB\" run --name narrow -- python3 w/term_lines.py 6 1");
    let mut c = Checks::new();
    let wide = t.wait_for("the status row with the series", |s| {
        s.visible
            .iter()
            .find(|r| is_status_row(r) && r.contains("loss #"))
            .cloned()
    });
    c.check(wide.chars().count() > NARROW, || {
        format!("the status row {wide:?} is not wider than {NARROW} columns: nothing to rewrap")
    });
    t.tmux(&["resize-window", "-t", "t", "-x", &NARROW.to_string()]);
    // The redraw follows the SIGWINCH at once; give the terminal a moment to settle.
    let rows = t.wait_for("the status row drawn within the narrower window", |s| {
        let cut = s
            .visible
            .iter()
            .any(|r| is_status_row(r) && r.chars().count() < NARROW);
        cut.then(|| s.visible.clone())
    });
    let ours: Vec<&String> = rows.iter().filter(|r| r.starts_with("perfmon: ")).collect();
    c.check(ours.len() == 1, || {
        format!(
            "after the resize, {} rows start with `perfmon: ` (one expected): {ours:?}",
            ours.len()
        )
    });
    let code = t.wait_exit(n, "term_lines.py under perfmon");
    c.check(code == 0, || format!("perfmon exited {code}, not 0"));
    c.add(t.status_row_left("after the run in the narrowed window"));
    c.finish("a narrower window", &t);
}

/// Scenario 4: Ctrl-C interrupts the command as without perfmon; the run is stored as
/// `interrupted` with the progress received so far, and the terminal's modes are restored.
#[test]
fn tmux_ctrl_c_interrupts_and_the_run_is_stored() {
    let mut t = Term::new();
    let line_re = re(LINE_RE);
    t.save_stty("before.txt");
    let typed = "w/term_lines.py 600";
    let n = t.start(&format!(
        "perfmon --db \"$DB\" run --name intr -- python3 {typed} 0.1"
    ));
    t.wait_for("five lines of term_lines.py", |s| {
        (s.rows.iter().filter(|r| line_re.is_match(r)).count() >= 5).then_some(())
    });
    t.keys(&["C-c"]);
    let marker = re(&format!(r"^EXIT{n}=(\d+)$"));
    // bash goes on with `; echo EXIT=$?` unless the command died of SIGINT itself; either way
    // the prompt comes back.
    let code = t.wait_for("the prompt after Ctrl-C", |s| {
        let from = s.typed_row(typed)?;
        if let Some(i) = (from..s.rows.len()).find(|&i| marker.is_match(&s.rows[i])) {
            let code = marker.captures(&s.rows[i]).unwrap()[1]
                .parse::<i32>()
                .unwrap();
            return s.rows[i + 1..].iter().any(|r| r == "$").then_some(code);
        }
        let last = s.rows.iter().rposition(|r| !r.is_empty())?;
        (last > from && s.rows[last] == "$").then_some(-1)
    });
    let code = if code >= 0 { code } else { t.run("(exit $?)") };
    let mut c = Checks::new();
    c.check(code == 130, || {
        format!("after Ctrl-C the shell saw exit status {code}, not 130 (SIGINT)")
    });
    t.save_stty("after.txt");
    c.add(t.stty_differs("before.txt", "after.txt"));
    c.add(t.status_row_left("after Ctrl-C"));
    let rep = t.report("intr");
    c.check(status_of(&rep) == "interrupted", || {
        format!(
            "the run interrupted by Ctrl-C is stored as {}, not interrupted",
            status_of(&rep)
        )
    });
    c.check(loss_points(&rep) > 0, || {
        format!(
            "the run interrupted by Ctrl-C has no points of the series `loss` (series {:?}, \
             lines seen {})",
            series_counts(&rep),
            lines_seen(&rep)
        )
    });
    c.finish("Ctrl-C", &t);
}

/// Scenario 5: Ctrl-Z stops perfmon and the command (the shell shows the job Stopped), `fg`
/// resumes them, and the run ends `ok` with all its progress.
#[test]
fn tmux_ctrl_z_stops_and_fg_resumes() {
    let piped = piped_run(&[
        python_exe(),
        workload("term_lines.py").to_str().unwrap(),
        "30",
        "0.1",
    ]);
    let expected: Vec<String> = (0..30)
        .map(|i| {
            format!(
                "line {i:04} loss={:.6} {}",
                1.0 / (1.0 + 0.1 * i as f64),
                "x".repeat(40)
            )
        })
        .collect();
    let mut t = Term::new();
    let line_re = re(LINE_RE);
    t.save_stty("before.txt");
    t.type_line("perfmon --db \"$DB\" run --name susp -- python3 w/term_lines.py 30 0.1");
    t.wait_for("five lines of term_lines.py", |s| {
        (s.rows.iter().filter(|r| line_re.is_match(r)).count() >= 5).then_some(())
    });
    t.keys(&["C-z"]);
    t.wait_for(
        "the shell's `Stopped` message and prompt after Ctrl-Z",
        |s| {
            let i = s.rows.iter().rposition(|r| r.contains("Stopped"))?;
            s.rows[i + 1..].iter().any(|r| r == "$").then_some(())
        },
    );
    let mut c = Checks::new();
    // Stopped means stopped: no more output for a while.
    let before = t.capture(false).rows;
    std::thread::sleep(Duration::from_millis(600));
    let after = t.capture(false).rows;
    c.check(before == after, || {
        "the terminal changed in the 0.6 s after the shell said Stopped: the command went on".into()
    });
    let code = t.run("fg");
    c.check(code == 0, || format!("`fg` gave exit status {code}, not 0"));
    let s = t.capture(false);
    let (missing, first_missing, _) = find_lines(&s.rows, &expected);
    c.check(missing == 0, || {
        format!(
            "{missing} of the 30 lines of term_lines.py are not whole rows of the terminal; the \
             first: {}",
            first_missing.unwrap_or_default()
        )
    });
    t.save_stty("after.txt");
    c.add(t.stty_differs("before.txt", "after.txt"));
    c.add(t.status_row_left("after `fg`"));
    let rep = t.report("susp");
    let piped = piped.join().unwrap();
    c.check(status_of(&rep) == "ok", || {
        format!(
            "the run stopped and resumed is stored as {}, not ok",
            status_of(&rep)
        )
    });
    assert_eq!(
        loss_points(&piped),
        30,
        "the piped run: {:?}",
        series_counts(&piped)
    );
    c.check(series_counts(&rep) == series_counts(&piped), || {
        format!(
            "the run stopped and resumed has series (name, algorithm, points) {:?}, the piped \
             run {:?}",
            series_counts(&rep),
            series_counts(&piped)
        )
    });
    c.finish("Ctrl-Z and fg", &t);
}

/// Scenario 6: `less` runs full-screen under perfmon (its output is a terminal), `q` quits it.
#[test]
fn tmux_less_runs_full_screen() {
    require_tool("less");
    let mut t = Term::new();
    let text: String = (1..=200)
        .map(|i| format!("numbered line {i:03} of 200\n"))
        .collect();
    std::fs::write(t.path("numbers.txt"), text).unwrap();
    t.save_stty("before.txt");
    let n = t.start("perfmon --db \"$DB\" run --name less -- less numbers.txt");
    let marker = re(&format!(r"^EXIT{n}=\d+$"));
    let full_screen = |v: &[String]| {
        v.len() == ROWS
            && v[0] == "numbered line 001 of 200"
            && v[ROWS - 2] == format!("numbered line {:03} of 200", ROWS - 1)
            && (v[ROWS - 1].starts_with("numbers.txt") || v[ROWS - 1].starts_with(':'))
    };
    let ok = t.wait_for(
        "less to show the file full-screen (or the command to end)",
        |s| {
            if full_screen(&s.visible) {
                return Some(true);
            }
            s.rows.iter().any(|r| marker.is_match(r)).then_some(false)
        },
    );
    if !ok {
        let s = t.capture(false);
        panic!(
            "less did not run full-screen under perfmon: it printed the whole file and ended by \
             itself, as when its output is a pipe (no `numbers.txt` prompt at the bottom).\n\
             The visible screen:\n{}\n{}",
            s.visible.join("\n"),
            s.dump()
        );
    }
    t.keys(&["q"]);
    let code = t.wait_exit(n, "less after `q`");
    let mut c = Checks::new();
    c.check(code == 0, || {
        format!("perfmon run -- less exited {code}, not 0")
    });
    t.save_stty("after.txt");
    c.add(t.stty_differs("before.txt", "after.txt"));
    c.add(t.status_row_left("after less"));
    c.finish("less", &t);
}

/// Scenario 7: a program that colours its output only on a terminal does so under perfmon, on
/// stdout and stderr, and sees the window's size.
#[test]
fn tmux_command_output_is_a_terminal_with_colours() {
    let mut t = Term::new();
    let sgr = re(r"\x1b\[[0-9;:]*m");
    // The colour right before the word (tmux writes it as `\e[31m`).
    let red = re(r"\x1b\[(?:[0-9;]*;)?31mRED-ON-TTY");
    let green = re(r"\x1b\[(?:[0-9;]*;)?32mGREEN-ON-TTY-ERR");
    let bare = t.run("python3 w/term_colour.py");
    let wrapped = t.run("perfmon --db \"$DB\" run --name colour -- python3 w/term_colour.py");
    let s = t.capture(true);
    let plain: Vec<String> = s
        .rows
        .iter()
        .map(|r| sgr.replace_all(r, "").into_owned())
        .collect();
    // The rows each command printed: from its typed row to its EXIT row.
    let section = |typed: &str, exit: &str| -> String {
        let from = plain
            .iter()
            .position(|r| r.starts_with("$ ") && r.contains(typed))
            .unwrap_or_else(|| panic!("no typed row {typed:?}\n{}", s.dump()));
        let to = plain
            .iter()
            .position(|r| r == exit)
            .unwrap_or_else(|| panic!("no row {exit:?}\n{}", s.dump()));
        s.rows[from + 1..to].join("\n")
    };
    let mut c = Checks::new();
    c.check(bare == 0, || {
        format!("python3 w/term_colour.py exited {bare}")
    });
    c.check(wrapped == 0, || {
        format!("perfmon run -- python3 w/term_colour.py exited {wrapped}")
    });
    let bare_out = section("$ python3 w/term_colour.py", &format!("EXIT1={bare}"));
    let perfmon_out = section("run --name colour", &format!("EXIT2={wrapped}"));
    for (label, out) in [
        ("without perfmon", &bare_out),
        ("under perfmon", &perfmon_out),
    ] {
        let shown = format!(
            "(the command's rows, escapes as \\e: {:?})",
            out.replace('\x1b', "\\e")
        );
        c.check(!out.contains("PLAIN-NOT-TTY"), || {
            format!(
                "{label}, the command's {} not a terminal: it printed PLAIN-NOT-TTY... {shown}",
                match (
                    out.contains("PLAIN-NOT-TTY\n"),
                    out.contains("PLAIN-NOT-TTY-ERR")
                ) {
                    (true, true) => "stdout and stderr are",
                    (true, false) => "stdout is",
                    _ => "stderr is",
                }
            )
        });
        c.check(red.is_match(out), || {
            format!("{label}, the red RED-ON-TTY on stdout is missing {shown}")
        });
        c.check(green.is_match(out), || {
            format!("{label}, the green GREEN-ON-TTY-ERR on stderr is missing {shown}")
        });
        c.check(out.contains(&format!("SIZE={COLS}x{ROWS}")), || {
            format!("{label}, the command does not see the window's size {COLS}x{ROWS} {shown}")
        });
    }
    c.finish("colours on a terminal", &t);
}

/// Completion at a real terminal: an interactive bash that loaded `perfmon completions bash` (as
/// the file `make install` puts in bash-completion's directory is loaded) turns `perfmon rep` and
/// Tab into `perfmon report `, and lists the `--format` values on Tab Tab.
#[test]
fn tmux_bash_completes_subcommands_and_format_values() {
    let mut t = Term::new();
    assert_eq!(t.run("source <(perfmon completions bash)"), 0);
    t.keys(&["-l", "perfmon rep"]);
    t.keys(&["Tab"]);
    t.wait_for("`perfmon rep` completed to `perfmon report`", |s| {
        s.visible
            .iter()
            .any(|r| r == "$ perfmon report")
            .then_some(())
    });
    t.keys(&["-l", "--", "--format "]);
    t.keys(&["Tab", "Tab"]);
    t.wait_for("the --format values listed", |s| {
        let listed = s
            .visible
            .iter()
            .find(|r| !r.starts_with('$') && r.contains("markdown"))?;
        let words: Vec<&str> = listed.split_whitespace().collect();
        (words == ["text", "json", "markdown", "html", "trace", "png"]).then_some(())
    });
    t.keys(&["C-c"]);
}
