//! The workload misbehaves: hostile bytes, huge lines, bursts of lines, closed stdout, daemons,
//! fork storms, ignored signals, new sessions, and perfmon itself killed. The command must behave
//! as without perfmon and the run must be stored.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const MIB: f64 = 1024.0 * 1024.0;

/// Runs `cmd` with stdout and stderr piped straight into two `sha256sum` processes (the test
/// never holds the streams): (exit code, stdout digest, stderr digest).
fn run_hashed(mut cmd: Command) -> (Option<i32>, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let hash = |s: Stdio| {
        Command::new("sha256sum")
            .stdin(s)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let h_out = hash(Stdio::from(child.stdout.take().unwrap()));
    let h_err = hash(Stdio::from(child.stderr.take().unwrap()));
    let status = child.wait().unwrap();
    let digest = |h: std::process::Child| {
        let o = h.wait_with_output().unwrap();
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    (status.code(), digest(h_out), digest(h_err))
}

fn bare(args: &[&str]) -> Command {
    let mut c = Command::new(args[0]);
    c.args(&args[1..]).stdin(Stdio::null());
    c
}

fn perfmon_run(env: &Env, argv: &[&str]) -> Command {
    let mut args = vec!["run", "--quiet", "--"];
    args.extend_from_slice(argv);
    env.cmd(&args)
}

fn own_peak_rss(rep: &serde_json::Value) -> f64 {
    f64_at(rep, "perfmon.peak_rss_bytes")
}

/// Invalid UTF-8, NUL bytes, protocol lines with bad bytes and a 200 MB line with no newline:
/// both streams pass through byte for byte (SHA-256 of a bare run), perfmon's own peak RSS
/// (VmHWM) stays under 64 MiB, and the two readable progress lines are still recognized.
#[test]
fn hostile_bytes_and_a_200_mb_line_pass_through_intact() {
    let env = Env::new();
    let w = workload("hostile.py");
    let argv = [python(), w.to_str().unwrap(), "garbage", "200"];
    let (code_bare, out_bare, err_bare) = run_hashed(bare(&argv));
    let (code, out, err) = run_hashed(perfmon_run(&env, &argv));
    assert_eq!(code_bare, Some(0));
    assert_eq!(code, Some(0));
    assert_eq!(out, out_bare, "stdout differs");
    assert_eq!(err, err_bare, "stderr differs");
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "ok");
    let rss = own_peak_rss(&rep);
    assert!(
        rss > 0.0 && rss < 64.0 * MIB,
        "perfmon's peak RSS {:.1} MiB",
        rss / MIB
    );
    let loss = rep["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "loss")
        .unwrap_or_else(|| panic!("no loss series: {}", rep["series"]));
    let pts: Vec<f64> = loss["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(pts, vec![0.5, 0.25]);
}

/// A million short lines in about a second (with a progress line every 100,000): the output is
/// intact, every line is seen, perfmon stays under 64 MiB.
#[test]
fn a_million_lines_a_second_pass_through_and_are_all_read() {
    let env = Env::new();
    let w = workload("hostile.py");
    let argv = [python(), w.to_str().unwrap(), "burst", "1000000"];
    let (_, out_bare, _) = run_hashed(bare(&argv));
    let t = Instant::now();
    let (code, out, _) = run_hashed(perfmon_run(&env, &argv));
    let took = t.elapsed();
    assert_eq!(code, Some(0));
    assert_eq!(out, out_bare, "stdout differs");
    let rep = env.report_json("last");
    let seen = rep["diagnostics"]["lines_seen"].as_u64().unwrap();
    assert!(seen >= 1_000_010, "only {seen} lines seen");
    let rss = own_peak_rss(&rep);
    assert!(rss < 64.0 * MIB, "perfmon's peak RSS {:.1} MiB", rss / MIB);
    let lines = rep["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "lines")
        .expect("lines series");
    assert_eq!(lines["points"].as_array().unwrap().len(), 10);
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

/// The command closes its stdout and goes on writing to stderr: perfmon keeps forwarding stderr,
/// ends the run when the command exits and keeps its exit status.
#[test]
fn command_closing_stdout_early_still_ends_and_is_stored() {
    let env = Env::new();
    let t = Instant::now();
    let out = env.run(&[
        "run",
        "--quiet",
        "--",
        "sh",
        "-c",
        "echo first; exec 1>&-; sleep 0.5; echo 'still here' >&2; exit 5",
    ]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(out.stdout, b"first\n");
    assert_eq!(out.stderr, b"still here\n");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "failed");
    assert_eq!(rep["exit_code"], 5);
}

/// A classic daemon (fork, setsid, fork) that keeps the inherited stdout open and outlives the
/// command by seconds: the run ends when the command exits (plus the short drain, at most 2 s),
/// not when the daemon closes the pipe, and the daemon is listed as left behind.
#[test]
fn double_forked_daemon_holding_stdout_is_left_behind() {
    let env = Env::new();
    let w = workload("daemonize.py");
    let t = Instant::now();
    let out = env.run(&["run", "--quiet", "--", python(), w.to_str().unwrap(), "8"]);
    let took = t.elapsed();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let daemon: i32 = text
        .lines()
        .find_map(|l| l.strip_prefix("daemon "))
        .unwrap_or_else(|| panic!("no daemon pid in {text:?}"))
        .trim()
        .parse()
        .unwrap();
    assert!(text.contains("parent exits"), "{text:?}");
    assert!(
        took < Duration::from_secs(5),
        "waited for the daemon: {took:?}"
    );
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "ok");
    let left = rep["processes"]["left_behind"].as_array().unwrap();
    // SAFETY: cleaning up the daemon this test started.
    unsafe { libc::kill(daemon, libc::SIGKILL) };
    assert!(
        left.iter().any(|p| p["pid"] == daemon),
        "daemon {daemon} not in {left:?}"
    );
}

/// 2,000 short processes forked one after another: the output and exit status are intact, every
/// one is reaped, and CPU tree + perfmon matches GNU time around perfmon within 3%.
#[test]
fn fork_storm_of_2000_processes_keeps_output_exit_and_cpu() {
    let Some(time) = gnu_time() else {
        panic!("GNU time is needed (make test installs it): /usr/bin/time");
    };
    let env = Env::new();
    let w = workload("children.py");
    let out = Command::new(time)
        .args(["-f", "TIME %U %S %M %e", perfmon_bin(), "--db"])
        .arg(env.db())
        .args(["run", "--quiet", "--", python(), w.to_str().unwrap()])
        .args(["2000", "0.5"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "forked 2000 children of 0.5 ms\n"
    );
    let (u, s, _, _) = parse_time_line(&String::from_utf8_lossy(&out.stderr));
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "ok");
    let tree = f64_at(&rep, "cpu.user_s") + f64_at(&rep, "cpu.system_s");
    let own = f64_at(&rep, "perfmon.cpu_s");
    let gnu = u + s;
    assert!(
        tree > 0.5,
        "2,000 children burn over half a second, got {tree}"
    );
    assert!(
        (tree + own - gnu).abs() <= 0.03 * gnu + 0.02,
        "tree {tree:.3} s + perfmon {own:.3} s vs GNU time {gnu:.3} s"
    );
}

fn spawn_piped(env: &Env, argv: &[&str]) -> std::process::Child {
    perfmon_run(env, argv)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads stdout lines until one contains `what`; returns that line.
fn read_until(r: &mut impl BufRead, what: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap() == 0 {
            panic!("never saw {what:?}");
        }
        if line.contains(what) {
            return line;
        }
    }
}

fn kill(pid: i32, sig: i32) {
    // SAFETY: signalling a process this test started.
    unsafe { libc::kill(pid, sig) };
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

/// A command that ignores SIGTERM: the forwarded SIGTERM changes nothing (it keeps running and
/// its output keeps flowing), and a double SIGINT then kills the whole group (137).
#[test]
fn command_ignoring_sigterm_is_killed_by_a_double_sigint() {
    let env = Env::new();
    let prog = "import signal,time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('ready', flush=True)\ni=0\nwhile True:\n    print('alive', i, flush=True); i+=1; time.sleep(0.05)\n";
    let mut child = spawn_piped(&env, &[python(), "-c", prog]);
    let mut r = std::io::BufReader::new(child.stdout.take().unwrap());
    read_until(&mut r, "ready");
    kill(child.id() as i32, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    // Still running: new lines arrive after the SIGTERM.
    read_until(&mut r, "alive 10");
    let t = Instant::now();
    kill(child.id() as i32, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    kill(child.id() as i32, libc::SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(137));
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(env.report_json("last")["status"], "interrupted");
}

/// perfmon runs the command as the leader of its own process group, as an interactive shell
/// does, so the command's own setsid() fails with EPERM exactly as it does in a terminal (programs
/// that daemonize fork first, see below); it keeps running and forwarded signals reach it.
#[test]
fn command_calling_setsid_behaves_as_in_an_interactive_shell() {
    let env = Env::new();
    let prog = "import os,signal,sys,time\ntry:\n    os.setsid(); print('new session', flush=True)\nexcept PermissionError:\n    print('EPERM', flush=True)\nsignal.signal(signal.SIGTERM, lambda *a: (print('got TERM', flush=True), sys.exit(42)))\nprint('ready', flush=True)\ntime.sleep(30)\n";
    let mut child = spawn_piped(&env, &[python(), "-c", prog]);
    let mut r = std::io::BufReader::new(child.stdout.take().unwrap());
    let first = read_until(&mut r, "");
    assert_eq!(first.trim(), "EPERM");
    read_until(&mut r, "ready");
    kill(child.id() as i32, libc::SIGTERM);
    read_until(&mut r, "got TERM");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(42));
    assert_eq!(env.report_json("last")["status"], "interrupted");
}

/// Reads until both the escaped child's `escaped PID` and the parent's `ready` were seen. The two
/// processes write to one pipe and Python writes a line and its newline separately, so their
/// lines may interleave ("readyescaped 12\n\n", "readyescaped\n 12\n"): both are looked for
/// anywhere in the output.
/// When the output ends early, perfmon's status and stderr go into the panic.
fn escaped_pid_or_explain(r: &mut impl BufRead, child: &mut std::process::Child) -> i32 {
    let mut seen = String::new();
    let mut line = String::new();
    loop {
        // The two processes' words interleave: the parent's newline may fall between the word
        // and the number ("readyescaped\n 5390\n"), or the parent's whole line
        // ("escapedready\n 29889\n", seen in a full `make test`): without the parent's word,
        // any blanks separate them.
        let child_words = seen.replacen("ready", "", 1);
        let pid = child_words.split("escaped").nth(1).and_then(|rest| {
            let rest = rest.trim_start();
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            let complete = rest.len() > digits.len();
            (complete && !digits.is_empty())
                .then(|| digits.parse::<i32>().ok())
                .flatten()
        });
        if let (Some(pid), true) = (pid, seen.contains("ready")) {
            return pid;
        }
        line.clear();
        if r.read_line(&mut line).unwrap() == 0 {
            let status = child.wait().unwrap();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("output ended early: perfmon {status:?}, stdout {seen:?}, stderr {err:?}");
        }
        seen.push_str(&line);
    }
}

/// A descendant that moves itself to a new session leaves the command's process group: a
/// forwarded SIGTERM (sent to the group, as a shell's job control does) does not reach it, the
/// run still ends when the command exits and lists it as left behind. A double SIGINT reaches
/// it anyway: perfmon kills every descendant it finds in the tree, whatever its group.
#[test]
fn descendant_in_a_new_session_is_left_behind_or_killed_by_double_sigint() {
    let child_prog = "import os,sys,time\nif os.fork()==0:\n    os.setsid()\n    print('escaped', os.getpid(), flush=True)\n    time.sleep(30)\n    os._exit(0)\nprint('ready', flush=True)\ntime.sleep(30)\n";
    // SIGTERM: the command dies of it, the escaped child survives and is left behind.
    let env = Env::new();
    let mut child = spawn_piped(&env, &[python(), "-c", child_prog]);
    let mut r = std::io::BufReader::new(child.stdout.take().unwrap());
    let esc = escaped_pid_or_explain(&mut r, &mut child);
    let t = Instant::now();
    kill(child.id() as i32, libc::SIGTERM);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let still = alive(esc);
    kill(esc, libc::SIGKILL);
    assert!(still, "the escaped process got the group's SIGTERM");
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "interrupted");
    let left = rep["processes"]["left_behind"].as_array().unwrap();
    assert!(
        left.iter().any(|p| p["pid"] == esc),
        "{esc} not in {left:?}"
    );

    // Double SIGINT: everything dies, the escaped child too.
    let env = Env::new();
    let prog = child_prog.replace(
        "print('ready'",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('ready'",
    );
    let mut child = spawn_piped(&env, &[python(), "-c", &prog]);
    let mut r = std::io::BufReader::new(child.stdout.take().unwrap());
    let esc = escaped_pid_or_explain(&mut r, &mut child);
    kill(child.id() as i32, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    kill(child.id() as i32, libc::SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(137));
    let deadline = Instant::now() + Duration::from_secs(2);
    while alive(esc) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let survived = alive(esc);
    kill(esc, libc::SIGKILL);
    assert!(!survived, "the escaped process survived the double SIGINT");
}

/// perfmon SIGKILLed while the command writes: the command is never left blocked on a full pipe
/// nobody reads. It runs in its own process group, so it is not killed with perfmon; its next
/// write fails with EPIPE (SIGPIPE for programs that do not ignore it), so it learns at once.
/// The run stays in the database as `incomplete` with the samples up to the last flush.
#[test]
fn sigkill_of_perfmon_never_leaves_the_command_blocked() {
    let env = Env::new();
    let marker = env.dir.path().join("epipe");
    let w = workload("ticker.py");
    let mut child = spawn_piped(
        &env,
        &[
            python(),
            w.to_str().unwrap(),
            "--until-epipe",
            marker.to_str().unwrap(),
        ],
    );
    // Keep reading (so perfmon is never blocked on us) while it gets past its first flush (5 s).
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut r = std::io::BufReader::new(stdout);
        let mut n = 0u64;
        let mut line = String::new();
        while r.read_line(&mut line).unwrap_or(0) > 0 {
            n += 1;
            line.clear();
        }
        n
    });
    std::thread::sleep(Duration::from_millis(5600));
    kill(child.id() as i32, libc::SIGKILL);
    let killed_at = Instant::now();
    let _ = child.wait();
    let lines = reader.join().unwrap();
    assert!(lines > 100, "only {lines} lines arrived");
    // The orphaned ticker hits EPIPE within a tick or two.
    while !marker.exists() && killed_at.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        marker.exists(),
        "the command did not notice perfmon's death within 3 s"
    );
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "incomplete");
    let n = rep["samples"]["count"].as_u64().unwrap();
    assert!(n >= 40, "only {n} samples survived");
}

/// A process left behind that keeps writing after the command exited: perfmon stops reading after
/// the drain, and the run says that output is not in it (a warning on stderr and in
/// `diagnostics.warnings`), rather than losing it without a word.
#[test]
fn output_cut_off_after_the_drain_is_a_recorded_warning() {
    let env = Env::new();
    let script = concat!(
        "import os, time\n",
        "if os.fork() == 0:\n",
        "    os.setsid()\n",
        "    for i in range(600):\n",
        "        print(f'still here {i}', flush=True)\n",
        "        time.sleep(0.01)\n",
        "    os._exit(0)\n",
        "print('parent exits', flush=True)\n",
    );
    let out = env.run(&["run", "--", python(), "-c", script]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("perfmon: warning: processes left behind still wrote to stdout"),
        "{err}"
    );
    let rep = env.report_json("last");
    let warnings = rep["diagnostics"]["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("left behind still wrote to stdout")),
        "{warnings:?}"
    );
    for p in rep["processes"]["left_behind"].as_array().unwrap() {
        // SAFETY: cleaning up the writer this test started.
        unsafe { libc::kill(p["pid"].as_i64().unwrap() as i32, libc::SIGKILL) };
    }
}
