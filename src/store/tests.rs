//! Store tests: round trips of whole records through incremental writes, crash and
//! concurrency behaviour, listing, deleting, damage and the v1 fixture file.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use super::*;
use crate::model::*;

fn tmp_db() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("runs.db");
    (d, p)
}

/// A second, plain connection to the file, for tests that damage or inspect it.
fn raw(p: &std::path::Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(p).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    c
}

pub(super) fn meta(name: Option<&str>, tags: &[(&str, &str)]) -> RunMeta {
    RunMeta {
        id: 0,
        uuid: uuid::Uuid::new_v4().to_string(),
        name: name.map(str::to_string),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        command: vec!["python".into(), "train.py".into(), "--lr=0.1".into()],
        cwd: "/home/u/proj".into(),
        started_at_ms: 1_700_000_000_123,
        wall_s: None,
        exit_code: None,
        signal: None,
        status: RunStatus::Incomplete,
        host: HostInfo {
            hostname: "box".into(),
            os: "Linux".into(),
            kernel: "6.1.0".into(),
            cpu_model: "Xeon".into(),
            cores: 16,
            memory_bytes: 64 << 30,
            gpus: vec!["H100".into()],
            gpu_driver: Some("550.1".into()),
        },
        git: None,
        perfmon_version: "0.1.0".into(),
        interval_ms: 100,
        env: vec![("OMP_NUM_THREADS".into(), "4".into())],
        group_id: None,
    }
}

fn empty_record(meta: RunMeta) -> RunRecord {
    RunRecord {
        meta,
        totals: Totals::default(),
        samples: SampleSet::default(),
        gpus: Vec::new(),
        gpu_status: String::new(),
        timers: Vec::new(),
        series: Vec::new(),
        marks: Vec::new(),
        diagnostics: ParseDiagnostics::default(),
        processes: Vec::new(),
        violations: Vec::new(),
    }
}

/// Pushes sample `i` into `rec` (and the same into `full`), extending process tracks like the
/// sampler does: pid 100 lives for the whole run, pid 200+k lives for samples 10k..10k+15.
fn push_sample(rec: &mut RunRecord, full: &mut RunRecord, i: usize) {
    let t = i as i64 * 100_000 + (i as i64 * 7919) % 3000;
    let mut vals: Vec<(&str, i64)> = vec![
        (
            metric::CPU_USER_US,
            i as i64 * 95_000 + (i as i64 * 31) % 5000,
        ),
        (metric::RSS_KIB, 500_000 + (i as i64 * 13) % 4096),
    ];
    let late = metric::gpu(0, "util_pct");
    if i >= 4000 {
        // A column appearing late (back-filled with MISSING), with gaps.
        vals.push((
            &late,
            if i % 17 == 0 {
                MISSING
            } else {
                (i % 100) as i64
            },
        ));
    }
    if i % 5 != 0 {
        vals.push((metric::LOAD1_X100, 250 + (i % 9) as i64));
    }
    rec.samples.push(t, &vals);
    full.samples.push(t, &vals);
    let mut alive = vec![(100u32, 1u32, "python".to_string(), 0usize)];
    // Worker k (pid 200 + k) lives for samples 10k..10k+15.
    for k in [i / 10, (i / 10).wrapping_sub(1)] {
        if k <= i / 10 && 10 * k <= i && i < 10 * k + 15 {
            alive.push((200 + k as u32, 100, format!("worker{k}"), 10 * k));
        }
    }
    for (pid, ppid, name, first) in alive {
        for r in [&mut *rec, &mut *full] {
            let cpu = (i - first) as i64 * 1000 + pid as i64;
            let rss = 1000 + (i % 7) as i64;
            match r
                .processes
                .iter_mut()
                .find(|p| p.pid == pid && p.first_sample == first)
            {
                Some(p) => {
                    p.cpu_us.push(cpu);
                    p.rss_kib.push(rss);
                }
                None => r.processes.push(ProcessTrack {
                    pid,
                    ppid,
                    name: name.clone(),
                    cmdline: format!("/usr/bin/{name} --worker {pid}"),
                    first_sample: first,
                    cpu_us: vec![cpu],
                    rss_kib: vec![rss],
                }),
            }
        }
    }
}

fn fill_final(rec: &mut RunRecord) {
    let m = &mut rec.meta;
    m.wall_s = Some(812.25);
    m.exit_code = Some(3);
    m.signal = Some(9);
    m.status = RunStatus::Failed;
    m.git = Some(GitInfo {
        commit: "abc123".into(),
        branch: Some("main".into()),
        dirty: Some(true),
    });
    rec.totals = Totals {
        cpu_user_us: 1,
        cpu_system_us: 2,
        peak_rss_bytes: 3,
        peak_tree_rss_bytes: 4,
        io_read_bytes: 5,
        io_write_bytes: 6,
        io_source: Some(TotalSource::ReaperIo),
        minor_faults: 7,
        major_faults: 8,
        voluntary_ctxsw: 9,
        involuntary_ctxsw: 10,
        processes_seen: 11,
        processes_reaped: 12,
        left_behind: vec![(77, "daemon".into())],
        cgroup: Some(CgroupTotals {
            memory_peak_bytes: Some(13),
            cpu_user_us: None,
            cpu_system_us: Some(14),
            io_read_bytes: None,
            io_write_bytes: Some(15),
        }),
        perfmon_cpu_us: 16,
        perfmon_peak_rss_kib: 17,
    };
    rec.gpus = vec![GpuDevice {
        index: 0,
        name: "H100".into(),
        uuid: "GPU-1".into(),
        memory_total_bytes: 80 << 30,
    }];
    rec.gpu_status = "NVML 12.5".into();
    rec.timers = vec![
        TimerSpan {
            name: "epoch".into(),
            start_s: 0.1,
            end_s: 10.7,
            depth: 0,
            parent: None,
            closed_at_exit: false,
        },
        TimerSpan {
            name: "fwd".into(),
            start_s: 0.2,
            end_s: 1.0 / 3.0,
            depth: 1,
            parent: Some(0),
            closed_at_exit: true,
        },
    ];
    rec.series = vec![Series {
        name: "loss".into(),
        algorithm: Some("adam".into()),
        source: "protocol".into(),
        direction: Some(Direction::Minimize),
        direction_from: Some(crate::model::DirectionFrom::Option),
        role: Some(crate::model::Role::Metric),
        main: true,
        points: (0..500)
            .map(|i| Point {
                iter: i,
                t_s: i as f64 * 0.1,
                value: 1.0 / (1.0 + i as f64),
            })
            .collect(),
    }];
    rec.marks = vec![Mark {
        t_s: 4.5,
        text: "lr drop".into(),
    }];
    rec.violations = vec![crate::model::BudgetViolation {
        metric: "peak_tree_rss".into(),
        limit: 1024.0,
        value: 2048.0,
        t_s: 1.5,
    }];
    rec.diagnostics = ParseDiagnostics {
        malformed_lines: 2,
        malformed_examples: vec!["@perfmon ???".into()],
        unmatched_stops: 1,
        truncated_lines: 0,
        lines_seen: 1234,
        warnings: vec!["the output parser stopped with an internal error".into()],
    };
}

/// Writes a full run of `n` samples with a flush every 50 samples; returns (id, expected).
pub(super) fn write_full_run(store: &mut Store, n: usize) -> (i64, RunRecord) {
    let mut m = meta(Some("train"), &[("lr", "0.1"), ("model", "big")]);
    m.group_id = Some(store.create_group(Some("sweep")).unwrap());
    let id = store.begin_run(&m).unwrap();
    m.id = id;
    let mut rec = empty_record(m.clone());
    let mut full = empty_record(m);
    let mut w = RunWriter::new(id);
    for i in 0..n {
        push_sample(&mut rec, &mut full, i);
        if i % 50 == 49 {
            w.flush(store, &mut rec).unwrap();
            assert!(rec.samples.len() < CHUNK);
            assert_eq!(w.sealed_samples() + rec.samples.len(), i + 1);
            // The caller may drop tracks of ended processes after a flush.
            rec.processes
                .retain(|p| p.pid == 100 || p.first_sample + 15 > i);
        }
    }
    fill_final(&mut rec);
    fill_final(&mut full);
    w.finish(store, &mut rec).unwrap();
    full.meta.id = id;
    (id, full)
}

#[test]
fn full_record_round_trips_through_incremental_writes() {
    for tdb in tests_db::backends() {
        let p = tdb.location.clone();
        let mut s = Store::open(&p).unwrap();
        let (id, expected) = write_full_run(&mut s, 2 * CHUNK + 1234);
        let got = s.load_run(id).unwrap();
        assert_eq!(got.samples.len(), 2 * CHUNK + 1234);
        assert_eq!(got.samples, expected.samples);
        assert_eq!(got.processes, expected.processes);
        assert_eq!(got, expected);
        assert!(s.integrity_check().unwrap().is_empty());
    }
}

#[test]
fn long_tracks_are_sealed_and_drained() {
    for tdb in tests_db::backends() {
        let p = tdb.location.clone();
        let mut s = Store::open(&p).unwrap();
        let id = s.begin_run(&meta(None, &[])).unwrap();
        let mut rec = empty_record(meta(None, &[]));
        let mut full = empty_record(meta(None, &[]));
        let mut w = RunWriter::new(id);
        for i in 0..CHUNK + 60 {
            push_sample(&mut rec, &mut full, i);
            if i % 50 == 49 {
                w.flush(&mut s, &mut rec).unwrap();
            }
        }
        assert_eq!(w.sealed_track_values(100, 0), CHUNK);
        let t = rec.processes.iter().find(|p| p.pid == 100).unwrap();
        assert_eq!(t.cpu_us.len(), 50 + 10);
        w.finish(&mut s, &mut rec).unwrap();
        let got = s.load_run(id).unwrap();
        assert_eq!(got.processes, full.processes);
    }
}

#[test]
fn killed_writer_leaves_an_incomplete_run_with_flushed_samples() {
    for tdb in tests_db::backends() {
        let p = tdb.location.clone();
        let id = {
            let mut s = Store::open(&p).unwrap();
            let id = s.begin_run(&meta(Some("k"), &[])).unwrap();
            let mut rec = empty_record(meta(Some("k"), &[]));
            let mut full = empty_record(meta(Some("k"), &[]));
            let mut w = RunWriter::new(id);
            for i in 0..120 {
                push_sample(&mut rec, &mut full, i);
            }
            w.flush(&mut s, &mut rec).unwrap();
            for i in 120..130 {
                push_sample(&mut rec, &mut full, i);
            }
            // No finish: the writer and the store are dropped as a SIGKILL would leave them.
            std::mem::forget(w);
            std::mem::forget(s);
            id
        };
        let s = Store::open_readonly(&p).unwrap();
        let got = s.load_run(id).unwrap();
        assert_eq!(got.meta.status, RunStatus::Incomplete);
        assert_eq!(got.samples.len(), 120);
        assert_eq!(got.meta.name.as_deref(), Some("k"));
        assert!(!got.processes.is_empty());
    }
}

#[test]
fn eight_concurrent_writers_save_everything() {
    for tdb in tests_db::backends() {
        let p = tdb.location.clone();
        Store::open(&p).unwrap();
        let handles: Vec<_> = (0..8)
            .map(|k| {
                let p = p.clone();

                std::thread::spawn(move || {
                    let mut s = Store::open(&p).unwrap();
                    let name = format!("c{k}");
                    let id = s.begin_run(&meta(Some(&name), &[])).unwrap();
                    let mut rec = empty_record(meta(Some(&name), &[]));
                    let mut full = empty_record(meta(Some(&name), &[]));
                    let mut w = RunWriter::new(id);
                    for i in 0..400 {
                        push_sample(&mut rec, &mut full, i);
                        if i % 50 == 49 {
                            w.flush(&mut s, &mut rec).unwrap();
                        }
                    }
                    rec.meta.status = RunStatus::Ok;
                    w.finish(&mut s, &mut rec).unwrap();
                    (id, full.samples)
                })
            })
            .collect();
        let s = Store::open(&p).unwrap();
        for h in handles {
            let (id, samples) = h.join().unwrap();
            let got = s.load_run(id).unwrap();
            assert_eq!(got.meta.status, RunStatus::Ok);
            assert_eq!(got.samples, samples);
        }
        assert_eq!(s.list_runs(&ListFilter::default()).unwrap().len(), 8);
    }
}

#[test]
fn list_resolve_filter_delete_and_groups() {
    for tdb in tests_db::backends() {
        let p = tdb.location.clone();
        let mut s = Store::open(&p).unwrap();
        assert!(matches!(s.resolve("last"), Err(StoreError::NoSuchRun(_))));
        let a = s.begin_run(&meta(Some("a"), &[("k", "1")])).unwrap();
        let b = s.begin_run(&meta(Some("b"), &[("k", "2")])).unwrap();
        let a2 = s
            .begin_run(&meta(Some("a"), &[("k", "1"), ("x", "y")]))
            .unwrap();
        let anon = s.begin_run(&meta(None, &[])).unwrap();
        fn list_ids(s: &Store, f: ListFilter) -> Vec<i64> {
            s.list_runs(&f).unwrap().iter().map(|m| m.id).collect()
        }
        let ids = |f: ListFilter| list_ids(&s, f);
        assert_eq!(ids(ListFilter::default()), vec![anon, a2, b, a]);
        let by_name = ListFilter {
            name: Some("a".into()),
            ..Default::default()
        };
        assert_eq!(ids(by_name), vec![a2, a]);
        let tag = |t: &[(&str, &str)]| ListFilter {
            tags: t
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        assert_eq!(ids(tag(&[("k", "1")])), vec![a2, a]);
        assert_eq!(ids(tag(&[("k", "1"), ("x", "y")])), vec![a2]);
        assert_eq!(ids(tag(&[("k", "3")])), Vec::<i64>::new());
        let limited = ListFilter {
            limit: Some(2),
            ..Default::default()
        };
        assert_eq!(ids(limited), vec![anon, a2]);
        let listed = s.list_runs(&ListFilter::default()).unwrap();
        assert_eq!(
            listed[1].tags,
            vec![("k".into(), "1".into()), ("x".into(), "y".into())]
        );
        assert_eq!(listed[1].status, RunStatus::Incomplete);

        assert_eq!(s.resolve("last").unwrap(), anon);
        assert_eq!(s.resolve(&b.to_string()).unwrap(), b);
        assert_eq!(s.resolve("a").unwrap(), a2);
        let e = s.resolve("nope").unwrap_err();
        assert!(matches!(e, StoreError::NoSuchRun(_)));
        assert!(e.to_string().contains("\"nope\""), "{e}");
        assert!(matches!(s.resolve("9999"), Err(StoreError::NoSuchRun(_))));

        let g = s.create_group(None).unwrap();
        let mut m = meta(Some("g"), &[]);
        m.group_id = Some(g);
        let g1 = s.begin_run(&m).unwrap();
        // A run's UUID is its identity: the same one twice is refused.
        assert!(s.begin_run(&m).is_err());
        m.uuid = uuid::Uuid::new_v4().to_string();
        let g2 = s.begin_run(&m).unwrap();
        assert_eq!(s.group_runs(g).unwrap(), vec![g1, g2]);
        assert_eq!(s.group_runs(g + 1).unwrap(), Vec::<i64>::new());

        assert_eq!(s.delete_runs(&[a2, b, 12345]).unwrap(), 2);
        assert!(matches!(s.load_run(a2), Err(StoreError::NoSuchRun(_))));
        assert_eq!(s.resolve("a").unwrap(), a);
        assert_eq!(list_ids(&s, tag(&[("k", "1")])), vec![a]);
    }
}

#[test]
fn delete_removes_every_row_of_a_run() {
    for tdb in tests_db::backends() {
        let p = tdb.location.clone();
        let mut s = Store::open(&p).unwrap();
        let (id, _) = write_full_run(&mut s, 300);
        assert_eq!(s.delete_runs(&[id]).unwrap(), 1);
        for t in [
            "sample_chunks",
            "tracks",
            "track_chunks",
            "timers",
            "marks",
            "series",
            "run_tags",
        ] {
            let n: i64 = s
                .with(|db| db.query(&format!("SELECT count(*) FROM {t}"), &[]))
                .unwrap()[0]
                .get(0)
                .unwrap();
            assert_eq!(n, 0, "{t}");
        }
    }
}

#[test]
fn a_damaged_blob_fails_only_its_run() {
    for tdb in tests_db::backends() {
        let p = tdb.location.clone();
        let mut s = Store::open(&p).unwrap();
        let (good, _) = write_full_run(&mut s, 200);
        let (bad, _) = write_full_run(&mut s, 200);
        s.with(|db| {
            db.exec(
                "UPDATE sample_chunks SET data = ?1 WHERE run_id = ?2",
                &[
                    db::Val::Blob(vec![0x28, 0xb5, 0x2f, 0xfd, 0x00]),
                    db::Val::Int(bad),
                ],
            )
        })
        .unwrap();
        let e = s.load_run(bad).unwrap_err();
        assert!(matches!(e, StoreError::Corrupt { run_id, .. } if run_id == bad));
        assert!(!e.to_string().contains('\n'));
        assert_eq!(s.load_run(good).unwrap().samples.len(), 200);
        let problems = s.integrity_check().unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(&format!("run {bad} ")),
            "{problems:?}"
        );
    }
}

#[test]
fn files_are_private_and_readonly_never_creates() {
    use std::os::unix::fs::PermissionsExt;
    let (d, _) = tmp_db();
    let p = d.path().join("sub/dir/runs.db");
    let e = Store::open_readonly(&p).err().unwrap();
    assert!(matches!(e, StoreError::NoDatabase(_)));
    assert!(e.to_string().contains("perfmon run -- CMD"), "{e}");
    assert!(!d.path().join("sub").exists());
    let s = Store::open(&p).unwrap();
    assert_eq!(s.location().file(), Some(p.as_path()));
    assert_eq!(s.journal(), Journal::Wal);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&p), 0o600);
    assert_eq!(mode(&d.path().join("sub/dir")), 0o700);
    drop(s);
    let r = Store::open_readonly(&p).unwrap();
    assert!(r.list_runs(&ListFilter::default()).unwrap().is_empty());
    let mut r = r;
    assert!(
        r.begin_run(&meta(None, &[])).is_err(),
        "read-only store wrote"
    );
}

#[test]
fn a_newer_database_is_refused_and_left_untouched() {
    let (_d, p) = tmp_db();
    {
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute_batch("PRAGMA user_version = 99; CREATE TABLE future (x);")
            .unwrap();
    }
    let before = std::fs::read(&p).unwrap();
    let e = Store::open(&p).err().unwrap();
    assert!(matches!(e, StoreError::TooNew { found: 99, .. }), "{e}");
    assert!(!e.to_string().contains('\n'));
    assert!(matches!(
        Store::open_readonly(&p).err().unwrap(),
        StoreError::TooNew { .. }
    ));
    assert_eq!(std::fs::read(&p).unwrap(), before);
}

/// On a server the version lives in `perfmon_schema`: a newer one is refused in one line, by
/// every command, with nothing written (no migration, no table made).
#[test]
fn a_newer_server_schema_is_refused_and_left_untouched() {
    let tdb = tests_db::postgres();
    let Location::Postgres(url) = &tdb.location else {
        unreachable!()
    };
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute("CREATE TABLE perfmon_schema (version BIGINT NOT NULL); INSERT INTO perfmon_schema VALUES (99)")
        .unwrap();
    let e = Store::open(&tdb.location).err().unwrap();
    assert!(matches!(e, StoreError::TooNew { found: 99, .. }), "{e}");
    assert!(!e.to_string().contains('\n'));
    assert!(
        !e.to_string().contains("@127") || e.to_string().contains(":***@"),
        "{e}"
    );
    assert!(matches!(
        Store::open_readonly(&tdb.location).err().unwrap(),
        StoreError::TooNew { .. }
    ));
    let tables: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "only perfmon_schema");
}

#[test]
fn reopening_migrates_nothing_and_keeps_runs() {
    let (_d, p) = tmp_db();
    let id = Store::open(&p)
        .unwrap()
        .begin_run(&meta(None, &[]))
        .unwrap();
    let s = Store::open(&p).unwrap();
    assert_eq!(s.resolve("last").unwrap(), id);
    let v: i64 = raw(&p)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, i64::from(schema::latest()));
}

#[test]
fn rollback_journal_mode_works_too() {
    let (_d, p) = tmp_db();
    let mut s = Store::open_with(&p, Journal::Delete).unwrap();
    let mode: String = raw(&p)
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    let (id, expected) = write_full_run(&mut s, 120);
    assert_eq!(s.load_run(id).unwrap(), expected);
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/store/v1-full-record.sqlite")
}

/// Regenerates the fixture: `cargo test --lib store::tests::make_v1_fixture -- --ignored`.
#[test]
#[ignore]
fn make_v1_fixture() {
    let p = fixture();
    let _ = std::fs::remove_file(&p);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    {
        let mut s = Store::open_with(&p, Journal::Delete).unwrap();
        write_full_run(&mut s, 250);
    }
}

#[test]
fn the_v1_fixture_still_loads() {
    // Work on a copy: opening may migrate the file.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("old.sqlite");
    std::fs::copy(fixture(), &p).unwrap();
    let s = Store::open_readonly(&p).unwrap();
    let id = s.resolve("train").unwrap();
    let rec = s.load_run(id).unwrap();
    assert_eq!(rec.meta.status, RunStatus::Failed);
    assert_eq!(rec.meta.tags[1], ("model".into(), "big".into()));
    assert_eq!(rec.meta.git.as_ref().unwrap().commit, "abc123");
    assert_eq!(rec.samples.len(), 250);
    assert_eq!(
        rec.samples.column(metric::RSS_KIB).unwrap()[7],
        500_000 + 91
    );
    assert_eq!(rec.totals.left_behind, vec![(77, "daemon".to_string())]);
    assert_eq!(rec.series[0].points.len(), 500);
    assert_eq!(rec.timers[1].end_s, 1.0 / 3.0);
    assert_eq!(rec.processes[0].pid, 100);
    assert_eq!(rec.processes[0].cpu_us.len(), 250);
    assert!(s.integrity_check().unwrap().is_empty());
}

/// A status this perfmon does not know is damage in every reader, not `incomplete` in one of
/// them: `list_ids` (the selections of compare, history and group) said `incomplete` and the
/// run silently fell out of every `ok` selection.
#[test]
fn an_unknown_status_is_damage_in_list_ids_too() {
    for tdb in tests_db::backends() {
        let p = tdb.location.clone();
        let mut s = Store::open(&p).unwrap();
        let (id, _) = write_full_run(&mut s, 10);
        s.with(|db| {
            db.exec(
                "UPDATE runs SET status = 'exploded' WHERE id = ?1",
                &[db::Val::Int(id)],
            )
        })
        .unwrap();
        let e = s.list_ids(&ListFilter::default()).unwrap_err();
        assert!(
            matches!(&e, StoreError::Corrupt { run_id, detail } if *run_id == id && detail.contains("exploded")),
            "{e}"
        );
        assert!(s.list_runs(&ListFilter::default()).is_err());
    }
}

/// Track chunks whose track row is gone are damage, not silently dropped values.
#[test]
fn track_values_without_a_track_row_are_damage() {
    for tdb in tests_db::backends() {
        let p = tdb.location.clone();
        let mut s = Store::open(&p).unwrap();
        let (id, _) = write_full_run(&mut s, 300);
        let removed = s
        .with(|db| {
            db.exec(
                "DELETE FROM tracks WHERE run_id = ?1 AND pid = (SELECT min(pid) FROM tracks WHERE run_id = ?1)",
                &[db::Val::Int(id)],
            )
        })
        .unwrap();
        assert_eq!(removed, 1);
        let e = s.load_run(id).unwrap_err();
        assert!(
            matches!(&e, StoreError::Corrupt { run_id, detail } if *run_id == id && detail.contains("without a track row")),
            "{e}"
        );
        // Loading without the tracks still works: the damage is in the tracks only.
        assert!(s.load_run_summary(id).is_ok());
    }
}

/// Pushing a run the target holds incomplete replaces that copy (in the same transaction as
/// the insert), once: the target ends with one finished copy, on both backends.
#[test]
fn a_finished_run_replaces_its_incomplete_copy_once() {
    use super::transfer::{Pushed, Pusher};
    for tdb in tests_db::backends() {
        let (_d, p) = tmp_db();
        let mut src = Store::open(&p).unwrap();
        let mut dst = Store::open(tdb.location.clone()).unwrap();
        let (id, _) = write_full_run(&mut src, 50);
        let status = |s: &Store, st: &str, id: i64| {
            s.with(|db| {
                db.exec(
                    "UPDATE runs SET status = ?1 WHERE id = ?2",
                    &[st.into(), db::Val::Int(id)],
                )
            })
            .unwrap();
        };
        status(&src, "incomplete", id);
        let mut pusher = Pusher::default();
        assert!(matches!(
            pusher.push(&src, id, &mut dst).unwrap(),
            Pushed::Sent(_)
        ));
        status(&src, "ok", id);
        let Pushed::Replaced(there) = pusher.push(&src, id, &mut dst).unwrap() else {
            panic!("not replaced")
        };
        assert_eq!(
            pusher.push(&src, id, &mut dst).unwrap(),
            Pushed::Already(there)
        );
        let runs = dst.list_runs(&ListFilter::default()).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].status, RunStatus::Ok);
        assert_eq!(
            dst.load_run(there).unwrap().samples,
            src.load_run(id).unwrap().samples
        );
    }
}
