//! Every total perfmon reports, checked against an independent source: GNU time's rusage
//! wrapped around the same perfmon run, and workloads whose true cost is known.

use crate::common::*;

/// CPU of 300 children of ~6 ms each: sampling misses most of them, rusage must not.
/// GNU time around perfmon counts perfmon's own CPU too; perfmon reports its own CPU apart, so
/// tree + perfmon must equal GNU time's figure within 2%.
#[test]
fn cpu_of_300_short_children_matches_gnu_time() {
    let Some(time) = gnu_time() else {
        panic!("GNU time is needed (make test installs it): /usr/bin/time");
    };
    let env = Env::new();
    let w = workload("children.py");
    let out = std::process::Command::new(time)
        .args(["-f", "TIME %U %S %M %e", perfmon_bin(), "--db"])
        .arg(env.db())
        .args([
            "run",
            "--quiet",
            "--",
            python(),
            w.to_str().unwrap(),
            "300",
            "6",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (u, s, _, _) = parse_time_line(&String::from_utf8_lossy(&out.stderr));
    let rep = env.report_json("last");
    let tree = f64_at(&rep, "cpu.user_s") + f64_at(&rep, "cpu.system_s");
    let own = f64_at(&rep, "perfmon.cpu_s");
    let gnu = u + s;
    assert!(
        tree > 1.0,
        "300 children burn well over a second, got {tree}"
    );
    let diff = (tree + own - gnu).abs();
    assert!(
        diff <= 0.02 * gnu,
        "tree {tree:.3} s + perfmon {own:.3} s vs GNU time {gnu:.3} s"
    );
}

/// A 0.3 s spike of 500 MiB between two samples (interval 5 s) still shows as the peak RSS of
/// a single process, within 2% of GNU time's maximum resident set size.
#[test]
fn rss_spike_between_samples_matches_gnu_time() {
    let Some(time) = gnu_time() else {
        panic!("GNU time is needed (make test installs it): /usr/bin/time");
    };
    let env = Env::new();
    let w = workload("spike.py");
    let out = std::process::Command::new(time)
        .args(["-f", "TIME %U %S %M %e", perfmon_bin(), "--db"])
        .arg(env.db())
        .args(["run", "--quiet", "--interval", "5s", "--"])
        .args([python(), w.to_str().unwrap(), "500", "0.3", "0.2"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, _, maxrss_kib, _) = parse_time_line(&String::from_utf8_lossy(&out.stderr));
    let rep = env.report_json("last");
    let peak = f64_at(&rep, "memory.peak_rss_bytes");
    let gnu = maxrss_kib * 1024.0;
    assert!(peak > 500.0 * 1024.0 * 1024.0, "peak {peak}");
    assert!(
        (peak - gnu).abs() <= 0.02 * gnu,
        "perfmon {peak} vs GNU time {gnu}"
    );
}

#[test]
fn timer_around_a_known_sleep() {
    let env = Env::new();
    let w = workload("timer_sleep.py");
    let (out, rep) = env.run_and_report(&["--quiet"], &[python(), w.to_str().unwrap(), "0.5"]);
    assert!(out.status.success());
    let timers = rep["timers"].as_array().unwrap();
    let nap = timers
        .iter()
        .find(|t| t["name"] == "nap")
        .expect("timer nap");
    assert_eq!(nap["count"], 1);
    let total = nap["total_s"].as_f64().unwrap();
    assert!((total - 0.5).abs() < 0.05, "nap took {total}");
}

#[test]
fn cpu_of_a_known_burn() {
    let env = Env::new();
    let w = workload("burn.py");
    let (out, rep) = env.run_and_report(&["--quiet"], &[python(), w.to_str().unwrap(), "1.0"]);
    assert!(out.status.success());
    let cpu = f64_at(&rep, "cpu.user_s") + f64_at(&rep, "cpu.system_s");
    // burn.py burns 1.0 s of process time plus the interpreter's start-up (~20-60 ms).
    assert!((1.0..1.25).contains(&cpu), "cpu {cpu}");
    assert!(
        rep["samples"]["count"].as_u64().unwrap() >= 8,
        "samples {}",
        rep["samples"]
    );
}

/// The peak RSS of a small command is its own, not perfmon's: the command starts as a copy (or a
/// share) of perfmon's memory until its exec, and the kernel counts that copy in its ru_maxrss.
/// Checked against the command's own VmHWM, read from /proc while a bare copy of it runs.
#[test]
fn peak_rss_of_a_small_command_is_its_own_not_perfmons() {
    let mut bare = std::process::Command::new("sleep")
        .arg("2")
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = std::fs::read_to_string(format!("/proc/{}/status", bare.id())).unwrap();
    let _ = bare.kill();
    let _ = bare.wait();
    let hwm_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");

    let env = Env::new();
    let (out, rep) = env.run_and_report(&["--quiet", "--interval", "50ms"], &["sleep", "0.5"]);
    assert!(out.status.success());
    let peak_kib = f64_at(&rep, "memory.peak_rss_bytes") / 1024.0;
    let own_kib = f64_at(&rep, "perfmon.peak_rss_bytes") / 1024.0;
    assert!(
        own_kib > 2.0 * hwm_kib as f64,
        "perfmon ({own_kib} KiB) is not larger than sleep ({hwm_kib} KiB): the check proves nothing"
    );
    assert!(
        peak_kib >= 0.5 * hwm_kib as f64 && peak_kib <= 1.5 * hwm_kib as f64,
        "peak RSS of `sleep 0.5` is {peak_kib} KiB; sleep's own VmHWM is {hwm_kib} KiB \
         (perfmon's own peak: {own_kib} KiB)"
    );
}
