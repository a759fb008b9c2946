//! Exit codes, signals, commands that cannot start, orphans and process trees.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;

#[test]
fn exit_code_is_the_commands() {
    let env = Env::new();
    let out = env.run(&["run", "--quiet", "--", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "failed");
    assert_eq!(rep["exit_code"], 3);
}

#[test]
fn killed_by_signal_gives_128_plus_n() {
    let env = Env::new();
    let out = env.run(&["run", "--quiet", "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.status.code(), Some(143));
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "signaled");
    assert_eq!(rep["exit_code"], 143);
}

#[test]
fn command_not_found_gives_127_and_stores_nothing() {
    let env = Env::new();
    let out = env.run(&["run", "--", "no-such-command-xyz"]);
    assert_eq!(out.status.code(), Some(127));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no-such-command-xyz"), "{err}");
    let list = env.run(&["list", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 0);
}

#[test]
fn not_executable_gives_126() {
    let env = Env::new();
    let f = env.dir.path().join("script.sh");
    std::fs::write(&f, "#!/bin/sh\necho hi\n").unwrap();
    let out = env.run(&["run", "--", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

fn spawn_perfmon(env: &Env, argv: &[&str]) -> std::process::Child {
    let mut args = vec!["run", "--quiet", "--"];
    args.extend_from_slice(argv);
    env.cmd(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for_line(child: &mut std::process::Child, what: &str) {
    use std::io::BufRead;
    let out = child.stdout.as_mut().unwrap();
    let mut r = std::io::BufReader::new(out);
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        line.clear();
        if r.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.contains(what) {
            return;
        }
    }
    panic!("never saw {what:?}");
}

fn kill(pid: u32, sig: i32) {
    // SAFETY: sending a signal to a child we spawned.
    unsafe { libc::kill(pid as i32, sig) };
}

#[test]
fn sigterm_is_forwarded_and_the_run_is_interrupted() {
    let env = Env::new();
    let prog = "import signal,sys,time\nsignal.signal(signal.SIGTERM, lambda *a: (print('got TERM', flush=True), sys.exit(42)))\nprint('ready', flush=True)\ntime.sleep(30)\n";
    let mut child = spawn_perfmon(&env, &[python(), "-c", prog]);
    wait_for_line(&mut child, "ready");
    kill(child.id(), libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(42));
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "interrupted");
    assert_eq!(rep["exit_code"], 42);
}

#[test]
fn sighup_and_sigquit_are_forwarded() {
    for (sig, code) in [
        (libc::SIGHUP, 129),
        (libc::SIGQUIT, 131),
        (libc::SIGINT, 130),
    ] {
        let env = Env::new();
        let mut child = spawn_perfmon(&env, &["sh", "-c", "echo ready; sleep 30 & wait"]);
        wait_for_line(&mut child, "ready");
        let t = Instant::now();
        kill(child.id(), sig);
        let out = child.wait_with_output().unwrap();
        // sh dies of the signal (128+N); its sleep child is in the same group and dies too.
        assert_eq!(out.status.code(), Some(code), "signal {sig}");
        assert!(t.elapsed() < Duration::from_secs(10));
        assert_eq!(env.report_json("last")["status"], "interrupted");
    }
}

#[test]
fn second_sigint_within_2s_kills_a_command_that_ignores_it() {
    let env = Env::new();
    let prog = "import signal,time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(30)\n";
    let mut child = spawn_perfmon(&env, &[python(), "-c", prog]);
    wait_for_line(&mut child, "ready");
    let t = Instant::now();
    kill(child.id(), libc::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    kill(child.id(), libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(137));
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(env.report_json("last")["status"], "interrupted");
}

#[test]
fn orphans_left_behind_are_noted_and_the_run_ends_with_the_command() {
    let env = Env::new();
    let t = Instant::now();
    let out = env.run(&[
        "run",
        "--quiet",
        "--",
        "sh",
        "-c",
        "sleep 3 >/dev/null 2>&1 & echo started",
    ]);
    assert!(out.status.success());
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "waited for the orphan"
    );
    let rep = env.report_json("last");
    let left = rep["processes"]["left_behind"]
        .as_array()
        .expect("left behind list");
    assert!(left.iter().any(|p| p["name"] == "sleep"), "{left:?}");
}

/// Runs `argv` sampled every 50 ms; the run as `perfmon export` writes it (every process's
/// track and every sample).
fn run_every_50ms(env: &Env, argv: &[&str]) -> serde_json::Value {
    let mut args = vec!["run", "--quiet", "--interval", "50ms", "--"];
    args.extend_from_slice(argv);
    assert!(env.run(&args).status.success());
    let export = env.run(&["export", "last"]);
    let mut doc: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    doc["runs"][0].take()
}

/// A child forked by a worker thread hangs off that thread, not the main one: the sampler finds
/// it from the first sample after the thread appeared (the thread count changed, so the thread
/// list is read again), and samples it for its whole 0.8 s life.
#[test]
fn children_of_a_worker_thread_are_sampled_from_the_start() {
    let env = Env::new();
    let script = "import threading, subprocess, time\n\
                  time.sleep(0.3)\n\
                  t = threading.Thread(target=lambda: subprocess.run(['sleep', '0.8']))\n\
                  t.start(); t.join()";
    let run = run_every_50ms(&env, &["python3", "-c", script]);
    let procs = run["processes"].as_array().unwrap();
    let sleep = procs
        .iter()
        .find(|p| p["name"] == "sleep")
        .unwrap_or_else(|| panic!("no sleep among {procs:?}"));
    let samples = sleep["cpu_us"].as_array().unwrap().len();
    // 16 samples at 50 ms; a thread list read only every 10 passes would miss up to 10.
    assert!(samples >= 12, "sleep sampled {samples} times");
}

/// An orphan (its parent exits at once) is adopted by perfmon, the subreaper, and stays in the
/// tree: it is sampled for its whole 1.2 s life, not only when perfmon's threads are listed.
#[test]
fn orphan_adopted_by_perfmon_is_sampled_throughout() {
    let env = Env::new();
    let run = run_every_50ms(&env, &["sh", "-c", "(sleep 1.2 &) ; sleep 1.5"]);
    let procs = run["processes"].as_array().unwrap();
    let root_sh = procs.iter().find(|p| p["name"] == "sh").unwrap();
    // The orphan's parent is perfmon (the shell's parent), not the shell.
    let orphan = procs
        .iter()
        .find(|p| p["name"] == "sleep" && p["ppid"] == root_sh["ppid"])
        .unwrap_or_else(|| panic!("no adopted sleep among {procs:?}"));
    // A track spans its first to last sighting; that it was seen in every sample in between
    // shows in the tree's process count: sh, its sleep and the orphan, from 0.2 s to 1 s.
    let samples = &run["samples"];
    let t_us = samples["t_us"].as_array().unwrap();
    let procs = samples["columns"]["tree.procs"].as_array().unwrap();
    let during: Vec<i64> = t_us
        .iter()
        .zip(procs)
        .filter(|(t, _)| (200_000..=1_000_000).contains(&t.as_i64().unwrap()))
        .map(|(_, n)| n.as_i64().unwrap())
        .collect();
    assert!(during.len() >= 12, "{during:?}");
    assert!(during.iter().all(|&n| n == 3), "process counts {during:?}");
    assert!(orphan["cpu_us"].as_array().unwrap().len() >= 18);
}

/// The tree's user and system CPU are counters: they never drop from one sample to the next,
/// even when a process moves from system-heavy work (reading a file in 1-byte reads) to pure
/// computing and back, which shifts the ratio its nanosecond CPU clock is split by. Each sample
/// must also add up: user + system is the CPU clock's total, which only grows.
#[test]
fn user_and_system_cpu_never_drop_between_samples() {
    let env = Env::new();
    let script = "import os, time\n\
                  def syscalls(s):\n\
                  \x20   fd = os.open('/proc/self/stat', os.O_RDONLY); end = time.time() + s\n\
                  \x20   while time.time() < end: os.pread(fd, 1, 0)\n\
                  def compute(s):\n\
                  \x20   end = time.time() + s; x = 0\n\
                  \x20   while time.time() < end: x += sum(range(500))\n\
                  for _ in range(3): syscalls(0.25); compute(0.25)";
    let run = run_every_50ms(&env, &["python3", "-c", script]);
    let columns = &run["samples"]["columns"];
    let col = |name: &str| -> Vec<i64> {
        columns[name]
            .as_array()
            .unwrap_or_else(|| panic!("no {name}"))
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    let (user, system) = (col("tree.cpu_user_us"), col("tree.cpu_system_us"));
    assert!(user.len() >= 20, "{} samples", user.len());
    for (name, c) in [("user", &user), ("system", &system)] {
        for (i, w) in c.windows(2).enumerate() {
            assert!(
                w[1] >= w[0],
                "{name} CPU dropped at sample {}: {c:?}",
                i + 1
            );
        }
    }
    // Both phases show: system time in the syscall phases, user time in the computing ones
    // (about 0.6 s of each on an idle machine; far less on a busy CI runner, as the phases are
    // timed by the clock).
    let last = user.len() - 1;
    assert!(system[last] > 50_000, "system {:?}", system[last]);
    assert!(user[last] > 50_000, "user {:?}", user[last]);
    // The last sample, taken after the process was reaped, agrees with the kernel's rusage (the
    // run's totals) in each part, within 2% or 10 ms: the split follows the kernel's, and the
    // floor that keeps a part from dropping at the exit lifts it by little.
    let totals = &run["totals"];
    for (name, sampled, key) in [
        ("user", user[last], "cpu_user_us"),
        ("system", system[last], "cpu_system_us"),
    ] {
        let kernel = totals[key].as_i64().unwrap();
        let slack = (kernel / 50).max(10_000);
        assert!(
            (sampled - kernel).abs() <= slack,
            "{name}: last sample {sampled} us, rusage {kernel} us"
        );
    }
}
