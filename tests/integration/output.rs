//! perfmon is a transparent prefix: output byte for byte, stdin, --strip, timely timestamps.

use std::io::Write;
use std::process::Stdio;

use crate::common::*;

#[test]
fn binary_streams_pass_through_byte_for_byte() {
    let env = Env::new();
    let script = workload("stream.py");
    let script = script.to_str().unwrap();
    let bare = std::process::Command::new(python())
        .args([script, "50"])
        .output()
        .unwrap();
    assert_eq!(bare.stdout.len(), 50_000_000);
    let wrapped = env.run(&["run", "--quiet", "--", python(), script, "50"]);
    assert!(wrapped.status.success());
    // Compare whole streams (50 MB each): binary, invalid UTF-8, no final newline.
    assert!(wrapped.stdout == bare.stdout, "stdout differs");
    assert!(wrapped.stderr == bare.stderr, "stderr differs");
}

#[test]
fn stdin_is_passed_through() {
    let env = Env::new();
    let mut child = env
        .cmd(&["run", "--quiet", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"x\nno newline")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"x\nno newline");
}

#[test]
fn strip_hides_protocol_lines_and_keeps_the_rest() {
    let env = Env::new();
    let script = "printf 'a\\n@perfmon timer start t\\nb\\n'; printf '@perfmon timer stop t\\nc'";
    let out = env.run(&["run", "--quiet", "--strip", "--", "sh", "-c", script]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a\nb\nc");
    let plain = env.run(&["run", "--quiet", "--", "sh", "-c", script]);
    assert_eq!(
        String::from_utf8_lossy(&plain.stdout),
        "a\n@perfmon timer start t\nb\n@perfmon timer stop t\nc"
    );
}

#[test]
fn messages_go_to_stderr_with_prefix_and_quiet_silences_them() {
    let env = Env::new();
    let out = env.run(&["run", "--", "echo", "hi"]);
    assert_eq!(out.stdout, b"hi\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.lines().all(|l| l.starts_with("perfmon:")), "{err}");
    assert!(err.contains("stored"), "{err}");
    let quiet = env.run(&["run", "--quiet", "--", "echo", "hi"]);
    assert!(quiet.stderr.is_empty());
}

#[test]
fn lines_are_timestamped_as_they_arrive() {
    // A Python program printing a line every 50 ms with no flush: PYTHONUNBUFFERED makes
    // them arrive at once, and each is stamped within 50 ms of printing.
    let env = Env::new();
    let prog = "import time\nt0=time.monotonic()\nfor i in range(30):\n    print(f'@perfmon progress iter={i} t={time.monotonic()-t0:.4f}')\n    time.sleep(0.05)\n";
    let (out, rep) = env.run_and_report(&["--quiet"], &[python(), "-c", prog]);
    assert!(out.status.success());
    let series = rep["series"].as_array().unwrap();
    let s = series.iter().find(|s| s["name"] == "t").expect("series t");
    let pts = s["points"].as_array().unwrap();
    assert_eq!(pts.len(), 30);
    // Offset between perfmon's clock and the program's: taken from the earliest point.
    let offs: Vec<f64> = pts
        .iter()
        .map(|p| p["t_s"].as_f64().unwrap() - p["value"].as_f64().unwrap())
        .collect();
    let base = offs.iter().cloned().fold(f64::INFINITY, f64::min);
    for (i, o) in offs.iter().enumerate() {
        assert!(o - base < 0.05, "line {i} stamped {:.3} s late", o - base);
    }
}

/// The command learns it runs under perfmon (`PERFMON=1`), which the Python module needs to write
/// its protocol lines; perfmon's own environment is not changed for other processes.
#[test]
fn the_command_sees_perfmon_in_its_environment() {
    let env = Env::new();
    let out = env.run(&[
        "run",
        "--quiet",
        "--",
        "sh",
        "-c",
        "echo \"under=${PERFMON:-unset}\"",
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "under=1\n");
}
