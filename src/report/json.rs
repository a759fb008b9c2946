//! `--format json`: the documented contract (docs/json-schema.md), built from the wire types of
//! [`super::json_types`].

use super::json_types as w;
use super::{fmt_rfc3339, Renderer, ReportError};
use crate::analyze::Analysis;
use crate::model::{RunRecord, TotalSource, MISSING};

/// JSON renderer; `samples` adds every metric's time series.
pub struct JsonRenderer {
    pub samples: bool,
    /// The tolerance the analysis used, echoed in the output.
    pub convergence_tol: f64,
}

impl Renderer for JsonRenderer {
    fn render(&self, rec: &RunRecord, an: &Analysis) -> Result<Vec<u8>, ReportError> {
        let r = build(rec, an, self.samples, self.convergence_tol);
        let mut out = serde_json::to_vec_pretty(&r)?;
        out.push(b'\n');
        Ok(out)
    }
}

fn source(s: TotalSource) -> &'static str {
    match s {
        TotalSource::Rusage => "rusage",
        TotalSource::Sampled => "sampled",
        TotalSource::ReaperIo => "reaper_io",
        TotalSource::Cgroup => "cgroup",
    }
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The wire value of a run.
pub fn build(rec: &RunRecord, an: &Analysis, samples: bool, tol: f64) -> w::Report {
    let m = &rec.meta;
    let t = &rec.totals;
    let left: Vec<w::LeftBehind> = t
        .left_behind
        .iter()
        .map(|(pid, name)| w::LeftBehind {
            pid: *pid,
            name: name.clone(),
        })
        .collect();
    w::Report {
        schema_version: w::SCHEMA_VERSION,
        id: m.id,
        name: m.name.clone(),
        status: m.status.as_str(),
        exit_code: m.exit_code,
        signal: m.signal,
        command: m.command.clone(),
        cwd: m.cwd.clone(),
        tags: m.tags.iter().cloned().collect(),
        started_at: fmt_rfc3339(m.started_at_ms),
        wall_s: m.wall_s,
        host: w::Host {
            hostname: m.host.hostname.clone(),
            os: m.host.os.clone(),
            kernel: m.host.kernel.clone(),
            cpu_model: m.host.cpu_model.clone(),
            cores: m.host.cores,
            memory_bytes: m.host.memory_bytes,
            gpus: m.host.gpus.clone(),
            gpu_driver: m.host.gpu_driver.clone(),
        },
        git: m.git.as_ref().map(|g| w::Git {
            commit: g.commit.clone(),
            branch: g.branch.clone(),
            dirty: g.dirty,
        }),
        perfmon_version: m.perfmon_version.clone(),
        interval_ms: m.interval_ms,
        cpu: w::Cpu {
            user_s: t.cpu_user_us as f64 / 1e6,
            system_s: t.cpu_system_us as f64 / 1e6,
        },
        memory: w::Memory {
            peak_rss_bytes: t.peak_rss_bytes,
            peak_tree_rss_bytes: t.peak_tree_rss_bytes,
        },
        io: w::Io {
            read_bytes: t.io_read_bytes,
            write_bytes: t.io_write_bytes,
        },
        faults: w::Faults {
            minor: t.minor_faults,
            major: t.major_faults,
        },
        context_switches: w::ContextSwitches {
            voluntary: t.voluntary_ctxsw,
            involuntary: t.involuntary_ctxsw,
        },
        processes: w::Processes {
            seen: t.processes_seen,
            reaped: t.processes_reaped,
            left_behind: left.clone(),
        },
        processes_left_behind: left,
        cgroup: t.cgroup.as_ref().map(|c| w::Cgroup {
            memory_peak_bytes: c.memory_peak_bytes,
            cpu_user_s: c.cpu_user_us.map(|v| v as f64 / 1e6),
            cpu_system_s: c.cpu_system_us.map(|v| v as f64 / 1e6),
            io_read_bytes: c.io_read_bytes,
            io_write_bytes: c.io_write_bytes,
        }),
        perfmon: w::Perfmon {
            cpu_s: t.perfmon_cpu_us as f64 / 1e6,
            peak_rss_bytes: t.perfmon_peak_rss_kib * 1024,
        },
        sources: w::Sources {
            cpu: "rusage",
            peak_rss: "rusage",
            peak_tree_rss: "sampled",
            io: t.io_source.map(source),
            faults: "rusage",
            context_switches: "rusage",
        },
        gpu: gpus(rec, an),
        gpu_status: rec.gpu_status.clone(),
        timers: an
            .timers
            .iter()
            .map(|s| w::Timer {
                name: s.name.clone(),
                count: s.count,
                total_s: s.total_s,
                mean_s: s.mean_s,
                min_s: s.min_s,
                max_s: s.max_s,
                self_s: s.self_s,
                share_of_wall: s.share_of_wall,
                depth: s.min_depth,
                closed_at_exit: s.closed_at_exit,
            })
            .collect(),
        spans: rec
            .timers
            .iter()
            .map(|s| w::Span {
                name: s.name.clone(),
                start_s: s.start_s,
                end_s: s.end_s,
                depth: s.depth,
                parent: s.parent,
                closed_at_exit: s.closed_at_exit,
            })
            .collect(),
        series: rec
            .series
            .iter()
            .zip(&an.series)
            .map(|(s, a)| w::Series {
                name: s.name.clone(),
                algorithm: s.algorithm.clone(),
                source: s.source.clone(),
                main: s.main,
                direction: match a.direction {
                    crate::model::Direction::Minimize => "minimize",
                    crate::model::Direction::Maximize => "maximize",
                },
                direction_source: a.direction_source.as_str(),
                points: s
                    .points
                    .iter()
                    .map(|p| w::Point {
                        iter: p.iter,
                        t_s: p.t_s,
                        value: finite(p.value),
                    })
                    .collect(),
                first: a.first,
                best: a.best,
                final_value: a.final_value,
                best_iter: a.best_iter,
                best_t_s: a.best_t_s,
                converged_iter: a.converged_iter,
                converged_t_s: a.converged_t_s,
                stagnation_iters: a.stagnation_iters,
                mean_s_per_iter: a.mean_s_per_iter,
            })
            .collect(),
        convergence_tol: tol,
        marks: rec
            .marks
            .iter()
            .map(|k| w::Mark {
                t_s: k.t_s,
                text: k.text.clone(),
            })
            .collect(),
        samples: w::Samples {
            count: rec.samples.len(),
            interval_ms: m.interval_ms,
            t_s: samples.then(|| rec.samples.t_us.iter().map(|t| *t as f64 / 1e6).collect()),
            metrics: samples.then(|| {
                rec.samples
                    .columns
                    .iter()
                    .map(|(k, v)| {
                        let vals = v.iter().map(|x| (*x != MISSING).then_some(*x)).collect();
                        (k.clone(), vals)
                    })
                    .collect()
            }),
        },
        resources: {
            let r = &an.resources;
            w::Resources {
                samples: r.samples,
                host_cores: r.host_cores,
                cpu_cores_mean: r.cpu_cores_mean,
                cpu_cores_peak: r.cpu_cores_peak,
                cpu_host_share_pct: r.cpu_host_share_pct,
                rss_mean_bytes: r.rss_mean_bytes,
                rss_peak_bytes: r.rss_peak_bytes,
                read_mb_s_mean: r.read_mb_s_mean,
                read_mb_s_peak: r.read_mb_s_peak,
                write_mb_s_mean: r.write_mb_s_mean,
                write_mb_s_peak: r.write_mb_s_peak,
            }
        },
        findings: an
            .findings
            .iter()
            .map(|f| w::Finding {
                kind: f.kind.as_str(),
                phase: f.phase.clone(),
                share_of_wall: f.share_of_wall,
                message: f.message.clone(),
            })
            .collect(),
        diagnostics: w::Diagnostics {
            lines_seen: rec.diagnostics.lines_seen,
            malformed_lines: rec.diagnostics.malformed_lines,
            malformed_examples: rec.diagnostics.malformed_examples.clone(),
            unmatched_stops: rec.diagnostics.unmatched_stops,
            truncated_lines: rec.diagnostics.truncated_lines,
            warnings: rec.diagnostics.warnings.clone(),
        },
        violations: rec
            .violations
            .iter()
            .map(|v| w::Violation {
                metric: v.metric.clone(),
                limit: v.limit,
                value: v.value,
                t_s: v.t_s,
            })
            .collect(),
    }
}

fn gpus(rec: &RunRecord, an: &Analysis) -> Vec<w::Gpu> {
    an.resources
        .gpus
        .iter()
        .map(|g| {
            let dev = rec.gpus.iter().find(|d| d.index == g.index);
            w::Gpu {
                index: g.index,
                name: g.name.clone(),
                // Unknown (no device record, or NVML would not tell) is null, never "" or 0.
                uuid: dev.map(|d| d.uuid.clone()).filter(|u| !u.is_empty()),
                memory_total_bytes: g.mem_total_bytes,
                util_mean_pct: g.util_mean_pct,
                util_peak_pct: g.util_peak_pct,
                mem_peak_bytes: g.mem_peak_bytes,
            }
        })
        .collect()
}
