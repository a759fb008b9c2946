//! Tests of the tree sampler against real processes, forked from the test process (the root).
//!
//! Forked children run only async-signal-safe libc calls (no allocation): the test binary is
//! multi-threaded. Each child gets the "go" pipe's read end as fd 0 and a "ready" pipe's write
//! end as fd 1 and closes every other fd, so concurrent tests cannot hold each other's pipes.
#![allow(clippy::unwrap_used)]

use super::{ProcSample, TreeSampler};

struct Child {
    pid: i32,
    /// Write end of the "go" pipe: closing it lets the children finish.
    go: i32,
}

impl Child {
    /// Lets the children exit, reaps the direct child and returns its rusage CPU (µs).
    fn finish(self) -> i64 {
        let mut status = 0;
        // SAFETY: plain syscalls; ru is a valid out-pointer.
        unsafe {
            libc::close(self.go);
            let mut ru: libc::rusage = std::mem::zeroed();
            assert_eq!(libc::wait4(self.pid, &mut status, 0, &mut ru), self.pid);
            let us = |t: libc::timeval| t.tv_sec * 1_000_000 + t.tv_usec;
            us(ru.ru_utime) + us(ru.ru_stime)
        }
    }
}

/// Forks a child running `body`, waits until `ready` bytes arrived on its ready pipe.
fn spawn(ready: usize, body: fn()) -> Child {
    let mut go = [0; 2];
    let mut rd = [0; 2];
    // SAFETY: fork in a multi-threaded process: the child only calls async-signal-safe
    // functions before _exit.
    unsafe {
        assert_eq!(libc::pipe2(go.as_mut_ptr(), libc::O_CLOEXEC), 0);
        assert_eq!(libc::pipe2(rd.as_mut_ptr(), libc::O_CLOEXEC), 0);
        let pid = libc::fork();
        assert!(pid >= 0);
        if pid == 0 {
            libc::dup2(go[0], 0);
            libc::dup2(rd[1], 1);
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            body();
            libc::_exit(0);
        }
        libc::close(go[0]);
        libc::close(rd[1]);
        let mut b = [0u8; 1];
        for _ in 0..ready {
            assert_eq!(libc::read(rd[0], b.as_mut_ptr().cast(), 1), 1);
        }
        libc::close(rd[0]);
        Child { pid, go: go[1] }
    }
}

/// In a child: reports ready and blocks until the go pipe is closed.
fn ready_and_block() {
    let mut b = [0u8; 1];
    // SAFETY: plain syscalls on fds 0 and 1.
    unsafe {
        libc::write(1, b.as_ptr().cast(), 1);
        while libc::read(0, b.as_mut_ptr().cast(), 1) > 0 {}
    }
}

fn find(snap: &super::TreeSnapshot, pid: i32) -> ProcSample {
    snap.procs
        .iter()
        .find(|p| p.pid == pid as u32)
        .cloned()
        .unwrap_or_else(|| panic!("pid {pid} not in {:?}", snap.procs))
}

#[test]
fn cpu_matches_rusage() {
    let child = spawn(1, || {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        loop {
            // SAFETY: ts is a valid out-pointer.
            unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
            if ts.tv_sec * 1_000_000_000 + ts.tv_nsec >= 300_000_000 {
                break;
            }
        }
        ready_and_block();
    });
    let mut s = TreeSampler::new(std::process::id());
    let p = find(&s.sample(), child.pid);
    let sampled = p.cpu_user_us + p.cpu_system_us + p.child_cpu_user_us + p.child_cpu_system_us;
    let rusage = child.finish();
    assert!(sampled >= 300_000, "sampled {sampled} µs");
    let diff = (sampled - rusage).abs() as f64 / rusage as f64;
    assert!(diff < 0.03, "sampled {sampled} µs vs rusage {rusage} µs");
    assert!(p.read_bytes.is_some() && p.vctxsw.is_some());
    assert_eq!(p.ppid, std::process::id());
    assert_eq!(p.threads, 1);
}

#[test]
fn rss_matches_vmrss() {
    let child = spawn(1, || {
        let len = 100 << 20;
        // SAFETY: anonymous private mapping, written page by page within its length.
        unsafe {
            let m = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if m == libc::MAP_FAILED {
                libc::_exit(1);
            }
            let m = m.cast::<u8>();
            let mut i = 0;
            while i < len {
                *m.add(i) = 1;
                i += 4096;
            }
        }
        ready_and_block();
    });
    let mut s = TreeSampler::new(std::process::id());
    let p = find(&s.sample(), child.pid);
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.pid)).unwrap();
    let vmrss: i64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    child.finish();
    assert!(p.rss_kib >= 100 * 1024, "rss {} KiB", p.rss_kib);
    let diff = (p.rss_kib - vmrss).abs() as f64 / vmrss as f64;
    assert!(diff < 0.02, "rss {} KiB vs VmRSS {vmrss} KiB", p.rss_kib);
    assert!(p.vsize_kib >= p.rss_kib);
}

#[test]
fn finds_grandchildren() {
    let child = spawn(3, || {
        for _ in 0..2 {
            // SAFETY: the child is single-threaded; the grandchild calls only syscalls.
            if unsafe { libc::fork() } == 0 {
                ready_and_block();
                // SAFETY: plain _exit.
                unsafe { libc::_exit(0) };
            }
        }
        ready_and_block();
        // SAFETY: reap both grandchildren.
        unsafe { while libc::waitpid(-1, std::ptr::null_mut(), 0) > 0 {} }
    });
    let mut s = TreeSampler::new(std::process::id());
    let snap = s.sample();
    let grand: Vec<&ProcSample> = snap
        .procs
        .iter()
        .filter(|p| p.ppid == child.pid as u32)
        .collect();
    let me = find(&snap, child.pid);
    // Parents come before their children.
    let pos = |pid: u32| snap.procs.iter().position(|p| p.pid == pid).unwrap();
    let (cpos, gpos) = (pos(me.pid), pos(grand[0].pid));
    child.finish();
    assert_eq!(grand.len(), 2, "{:?}", snap.procs);
    assert!(cpos < gpos);
    let t = snap.totals();
    assert!(t.procs >= 3 && t.threads >= 3);
}

#[test]
fn vanished_process_is_skipped_and_forgotten() {
    let child = spawn(1, ready_and_block);
    let pid = child.pid as u32;
    let mut s = TreeSampler::new(std::process::id());
    assert!(s.sample().procs.iter().any(|p| p.pid == pid));
    assert!(s.cached_fds() > 0);
    child.finish();
    // Listed in the last pass, gone before this read: skipped, not an error.
    assert_eq!(s.read_one(pid), None);
    let snap = s.sample();
    assert!(snap.procs.iter().all(|p| p.pid != pid));
    assert!(!s.known_pids().contains(&pid));
}

#[test]
fn survives_process_churn() {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let churn = std::thread::spawn(move || {
        let mut n = 0;
        // At least one process, even when the sampling loop wins the race on a busy machine.
        loop {
            if let Ok(mut c) = std::process::Command::new("true").spawn() {
                let _ = c.wait();
                n += 1;
            }
            if stop2.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
        }
        n
    });
    let mut s = TreeSampler::new(std::process::id());
    for _ in 0..300 {
        let snap = s.sample();
        assert!(snap.procs.iter().all(|p| p.pid != 0));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(churn.join().unwrap() > 0);
    s.sample();
    let c = s.last_cost();
    assert_eq!(c.procs, s.known_pids().len());
}

#[test]
fn totals_sum_own_and_reaped() {
    let p = ProcSample {
        cpu_user_us: 10,
        cpu_system_us: 5,
        child_cpu_user_us: 100,
        child_cpu_system_us: 50,
        rss_kib: 7,
        vsize_kib: 9,
        threads: 2,
        read_bytes: Some(1000),
        write_bytes: None,
        minflt: 3,
        child_minflt: 4,
        majflt: 1,
        child_majflt: 1,
        vctxsw: Some(11),
        ivctxsw: None,
        ..ProcSample::default()
    };
    let t = super::TreeSnapshot {
        procs: vec![p.clone(), p],
    }
    .totals();
    assert_eq!((t.cpu_user_us, t.cpu_system_us), (220, 110));
    assert_eq!((t.rss_kib, t.vsize_kib, t.procs, t.threads), (14, 18, 2, 4));
    assert_eq!((t.read_bytes, t.write_bytes), (2000, 0));
    assert_eq!((t.minflt, t.majflt, t.vctxsw, t.ivctxsw), (14, 4, 22, 0));
    // Each process lacks a figure: the sums say they are partial.
    assert_eq!((t.io_unknown, t.ctxsw_unknown), (2, 2));
}

/// An unreadable `/proc/PID/io` or `status` (a setuid program in the tree) used to add 0 to the
/// tree's sums without a trace; the totals now count such processes, whole sums count none.
#[test]
fn totals_count_processes_whose_figures_could_not_be_read() {
    let known = ProcSample {
        read_bytes: Some(10),
        write_bytes: Some(20),
        vctxsw: Some(1),
        ivctxsw: Some(2),
        ..ProcSample::default()
    };
    let whole = super::TreeSnapshot {
        procs: vec![known.clone(), known.clone()],
    }
    .totals();
    assert_eq!((whole.io_unknown, whole.ctxsw_unknown), (0, 0));
    assert_eq!((whole.read_bytes, whole.write_bytes), (20, 40));
    let unreadable = ProcSample {
        pid: 2,
        ..ProcSample::default()
    };
    let partial = super::TreeSnapshot {
        procs: vec![known, unreadable],
    }
    .totals();
    assert_eq!((partial.io_unknown, partial.ctxsw_unknown), (1, 1));
    assert_eq!((partial.read_bytes, partial.vctxsw), (10, 1));
}

/// A process that has not run keeps its IO and context-switch counts without their files being
/// read again; once it runs, the next sample has its new counts (compared with what its own
/// `status` file says once it blocks again).
#[test]
fn idle_process_keeps_its_counts_and_a_running_one_updates_them() {
    let child = spawn(1, || {
        let nap = |ns| {
            let ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: ns,
            };
            // SAFETY: ts is a valid timespec; a null remainder is allowed.
            unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
        };
        // SAFETY: plain syscall on fd 1.
        unsafe { libc::write(1, b"r".as_ptr().cast(), 1) };
        nap(300_000_000);
        for _ in 0..20 {
            nap(1_000_000);
        }
        ready_and_block();
    });
    let mut s = TreeSampler::new(std::process::id());
    let a = find(&s.sample(), child.pid);
    let b = find(&s.sample(), child.pid);
    assert_eq!((a.vctxsw, a.read_bytes), (b.vctxsw, b.read_bytes));
    std::thread::sleep(std::time::Duration::from_millis(800));
    let c = find(&s.sample(), child.pid);
    let status = std::fs::read(format!("/proc/{}/status", child.pid)).unwrap();
    let truth = super::procfs::parse_status_ctxsw(&status).unwrap();
    child.finish();
    assert!(
        c.vctxsw.unwrap() >= a.vctxsw.unwrap() + 20,
        "{a:?} then {c:?}"
    );
    assert_eq!((c.vctxsw.unwrap(), c.ivctxsw.unwrap()), truth);
}
