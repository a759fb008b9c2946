//! A fixed, realistic run for the renderer tests: 120 s at 10 Hz with a single-threaded load
//! phase that leaves the GPU idle, a 4-core training phase with nested epochs, an evaluation
//! phase, three progress series (one spanning 4 decades), process tracks and diagnostics.
//! Pseudo-random noise comes from a fixed LCG, so the record is identical on every run.

use crate::model::*;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn span(name: &str, a: f64, b: f64, depth: u32, parent: Option<usize>) -> TimerSpan {
    TimerSpan {
        name: name.into(),
        start_s: a,
        end_s: b,
        depth,
        parent,
        closed_at_exit: false,
    }
}

pub fn record() -> RunRecord {
    let mut rng = Lcg(42);
    let mut timers = vec![
        span("load data", 0.2, 20.0, 0, None),
        span("train", 20.0, 100.0, 0, None),
    ];
    for e in 0..8 {
        let a = 20.0 + 10.0 * e as f64;
        let p = timers.len();
        timers.push(span("epoch", a, a + 10.0, 1, Some(1)));
        timers.push(span("validate", a + 8.0, a + 10.0, 2, Some(p)));
    }
    timers.push(span("evaluate", 100.0, 118.0, 0, None));
    timers.push(span("write report", 118.0, 119.5, 0, None));
    if let Some(t) = timers.last_mut() {
        t.closed_at_exit = true;
    }

    let mut samples = SampleSet::default();
    let (mut user, mut sys, mut rd, mut wr, mut maj, mut minf) =
        (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    let mut busy = [0i64; 8];
    let mut total = [0i64; 8];
    for i in 0..=1200i64 {
        let t = i as f64 / 10.0;
        let (cores, gpu, read_mb) = if t < 20.0 {
            (1.0, 3.0, 60.0)
        } else if t < 100.0 {
            (3.6 + rng.next() * 0.6, 82.0 + rng.next() * 12.0, 2.0)
        } else {
            (1.8 + rng.next() * 0.3, 40.0 + rng.next() * 10.0, 0.5)
        };
        let rss_mib = if t < 20.0 {
            150.0 + 50.0 * t
        } else {
            1150.0 + 40.0 * rng.next()
        };
        let mut cols: Vec<(String, i64)> = vec![
            (metric::CPU_USER_US.into(), user),
            (metric::CPU_SYSTEM_US.into(), sys),
            (metric::RSS_KIB.into(), (rss_mib * 1024.0) as i64),
            (metric::READ_BYTES.into(), rd),
            (metric::WRITE_BYTES.into(), wr),
            (metric::MAJFLT.into(), maj),
            (metric::MINFLT.into(), minf),
            (
                metric::PROCS.into(),
                if (20.0..100.0).contains(&t) { 5 } else { 1 },
            ),
            ("gpu0.util_pct".into(), gpu as i64),
            (
                "gpu0.mem_used_bytes".into(),
                if t < 20.0 { 300 << 20 } else { 6_400 << 20 },
            ),
        ];
        for c in 0..8 {
            cols.push((metric::core_busy(c), busy[c]));
            cols.push((metric::core_total(c), total[c]));
        }
        let refs: Vec<(&str, i64)> = cols.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        samples.push(i * 100_000, &refs);
        user += (cores * 0.93 * 100_000.0) as i64;
        sys += (cores * 0.07 * 100_000.0) as i64;
        rd += (read_mb * 100_000.0) as i64;
        wr += if t > 118.0 { 3_000_000 } else { 20_000 };
        maj += i64::from(rng.next() < 0.05);
        minf += 300;
        for c in 0..8 {
            total[c] += 10;
            busy[c] += if t < 20.0 {
                if c == 2 {
                    10
                } else {
                    0
                }
            } else if t < 100.0 {
                if c < 4 {
                    9
                } else {
                    1
                }
            } else if c < 2 {
                9
            } else {
                0
            };
        }
    }

    let mut loss = Vec::new();
    let mut acc = Vec::new();
    for g in 0..300i64 {
        let t = 20.0 + 80.0 * g as f64 / 300.0;
        let noise = 1.0 + 0.2 * (rng.next() - 0.5);
        loss.push(Point {
            iter: g,
            t_s: t,
            value: 100.0 * (-(g as f64) / 30.0).exp() * noise + 0.005,
        });
        if g % 10 == 9 {
            acc.push(Point {
                iter: g,
                t_s: t,
                value: 0.93 - 0.83 * (-(g as f64) / 60.0).exp(),
            });
        }
    }
    let temp: Vec<Point> = (0..50)
        .map(|k| Point {
            iter: k,
            t_s: 100.0 + 0.36 * k as f64,
            value: 50.0 - 30.0 * (1.0 - (-(k as f64) / 8.0).exp()) + 2.0 * rng.next(),
        })
        .collect();
    let series = vec![
        Series {
            name: "loss".into(),
            algorithm: Some("ga".into()),
            source: "protocol".into(),
            direction: Some(Direction::Minimize),
            direction_from: None,
            role: None,
            main: true,
            points: loss,
        },
        Series {
            name: "val_acc".into(),
            algorithm: Some("ga".into()),
            source: "auto:keras".into(),
            direction: None,
            direction_from: None,
            role: None,
            main: false,
            points: acc,
        },
        Series {
            name: "temperature".into(),
            algorithm: Some("anneal".into()),
            source: "regex:T=(?P<temperature>\\S+)".into(),
            direction: None,
            direction_from: None,
            role: None,
            main: false,
            points: temp,
        },
    ];

    let track = |pid: u32, name: &str, from: usize, to: usize, cores: f64, rss_mib: f64| {
        let n = to - from;
        ProcessTrack {
            pid,
            ppid: 1000,
            name: name.into(),
            cmdline: match name {
                "python3" => "python3 train.py --epochs 300".into(),
                "sh" => String::new(),
                n => format!("python3 -m workers {n} --shard {pid}"),
            },
            first_sample: from,
            cpu_us: (0..n)
                .map(|k| (k as f64 * cores * 100_000.0) as i64)
                .collect(),
            rss_kib: (0..n)
                .map(|k| ((rss_mib + (k % 7) as f64) * 1024.0) as i64)
                .collect(),
        }
    };
    let mut main = track(1000, "python3", 0, 1201, 1.0, 900.0);
    main.ppid = 999;
    let processes = vec![
        main,
        track(1001, "worker-0", 200, 1000, 0.9, 60.0),
        track(1002, "worker-1", 200, 1000, 0.8, 58.0),
        track(1003, "worker-2", 200, 1000, 0.7, 55.0),
        track(1004, "data-loader", 0, 200, 0.2, 40.0),
        track(1005, "sh", 1100, 1110, 0.1, 2.0),
    ];

    RunRecord {
        meta: RunMeta {
            id: 42,
            uuid: "5f0c1e2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b".into(),
            name: Some("ga-small".into()),
            tags: vec![
                ("exp".into(), "baseline".into()),
                ("seed".into(), "7".into()),
            ],
            command: [
                "python3",
                "train.py",
                "--population",
                "200",
                "--generations",
                "300",
                "--data",
                "/data/set.csv",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            cwd: "/home/user/ga".into(),
            started_at_ms: 1_795_847_004_000,
            wall_s: Some(120.0),
            exit_code: Some(0),
            signal: None,
            status: RunStatus::Ok,
            host: HostInfo {
                hostname: "lab-7".into(),
                os: "Ubuntu 24.04".into(),
                kernel: "6.8.0".into(),
                cpu_model: "AMD EPYC 7313".into(),
                cores: 8,
                memory_bytes: 32 << 30,
                gpus: vec!["NVIDIA A10".into()],
                gpu_driver: Some("550.54".into()),
            },
            git: Some(GitInfo {
                commit: "3f2a9c1".into(),
                branch: Some("main".into()),
                dirty: Some(true),
            }),
            perfmon_version: "0.1.0".into(),
            interval_ms: 100,
            env: vec![],
            group_id: None,
        },
        totals: Totals {
            cpu_user_us: user as u64,
            cpu_system_us: sys as u64,
            peak_rss_bytes: 1_020 << 20,
            peak_tree_rss_bytes: 1_190 << 20,
            io_read_bytes: rd as u64,
            io_write_bytes: wr as u64,
            io_source: Some(TotalSource::ReaperIo),
            minor_faults: minf as u64,
            major_faults: maj as u64,
            voluntary_ctxsw: 15_230,
            involuntary_ctxsw: 2_210,
            processes_seen: 6,
            processes_reaped: 5,
            left_behind: vec![(4242, "sleep".into())],
            cgroup: None,
            perfmon_cpu_us: 410_000,
            perfmon_peak_rss_kib: 14_336,
        },
        samples,
        gpus: vec![GpuDevice {
            index: 0,
            name: "NVIDIA A10".into(),
            uuid: "GPU-0a1b".into(),
            memory_total_bytes: 24 << 30,
        }],
        gpu_status: "ok".into(),
        timers,
        series,
        marks: vec![
            Mark {
                t_s: 60.0,
                text: "checkpoint saved".into(),
            },
            Mark {
                t_s: 80.0,
                text: "lr decay <x>".into(),
            },
        ],
        diagnostics: ParseDiagnostics {
            malformed_lines: 2,
            malformed_examples: vec![
                "@perfmon timer stat x".into(),
                "@perfmon progress iter=x loss=|<b>".into(),
            ],
            unmatched_stops: 1,
            truncated_lines: 0,
            lines_seen: 1543,
            warnings: vec!["processes left behind still wrote to stdout <after> the end".into()],
        },
        processes,
        violations: Vec::new(),
    }
}
