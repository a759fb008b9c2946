//! `--format json`: the documented contract (docs/json-schema.md): the wire types of
//! [`super::json_types`], filled from the [`RunDocument`] (and, for what a summary leaves out,
//! from the record).

use super::document::{direction, RunDocument};
use super::json_types as w;
use super::{Renderer, ReportError};
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
    from_document(&RunDocument::build(rec, an), rec, samples, tol)
}

/// The wire value of a run document; `rec` gives what a summary leaves out (every span, every
/// point, the samples, the host's hardware and the cgroup's own figures).
pub fn from_document(doc: &RunDocument, rec: &RunRecord, samples: bool, tol: f64) -> w::Report {
    let m = &rec.meta;
    let h = &doc.header;
    let s = &doc.totals;
    let t = &s.t;
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
        id: h.id,
        uuid: m.uuid.clone(),
        name: h.name.clone(),
        status: h.status,
        exit_code: h.exit_code,
        signal: h.signal,
        command: m.command.clone(),
        cwd: m.cwd.clone(),
        tags: h.tags.iter().cloned().collect(),
        started_at: h.started.clone(),
        wall_s: s.wall_s,
        host: w::Host {
            hostname: h.hostname.clone(),
            os: h.os.clone(),
            kernel: h.kernel.clone(),
            cpu_model: m.host.cpu_model.clone(),
            cores: h.cores,
            memory_bytes: h.memory_bytes,
            gpus: m.host.gpus.clone(),
            gpu_driver: m.host.gpu_driver.clone(),
        },
        git: h.git.as_ref().map(|g| w::Git {
            commit: g.commit.clone(),
            branch: g.branch.clone(),
            dirty: g.dirty,
        }),
        perfmon_version: m.perfmon_version.clone(),
        interval_ms: m.interval_ms,
        cpu: w::Cpu {
            user_s: s.cpu_user_s(),
            system_s: s.cpu_system_s(),
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
            cpu_s: s.perfmon_cpu_s(),
            peak_rss_bytes: s.perfmon_peak_rss_bytes(),
        },
        sources: w::Sources {
            cpu: "rusage",
            peak_rss: "rusage",
            peak_tree_rss: "sampled",
            io: t.io_source.map(source),
            faults: "rusage",
            context_switches: "rusage",
        },
        gpu: s
            .gpus
            .iter()
            .map(|g| w::Gpu {
                index: g.usage.index,
                name: g.usage.name.clone(),
                // Unknown (no device record, or NVML would not tell) is null, never "" or 0.
                uuid: g.uuid.clone(),
                memory_total_bytes: g.usage.mem_total_bytes,
                util_mean_pct: g.usage.util_mean_pct,
                util_peak_pct: g.usage.util_peak_pct,
                mem_peak_bytes: g.usage.mem_peak_bytes,
            })
            .collect(),
        gpu_status: s.gpu_status.clone(),
        timers: doc
            .timers
            .rows
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
            .zip(&doc.series)
            .map(|(s, a)| w::Series {
                name: a.name.clone(),
                algorithm: a.algorithm.clone(),
                source: s.source.clone(),
                main: a.main,
                direction: direction(a.direction),
                direction_source: a.direction_source.as_str(),
                role: a.role.as_str(),
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
                converged_for_iters: a.converged_for_iters,
                still_improving: a.still_improving,
                min: a.min,
                max: a.max,
                stagnation_iters: a.stagnation_iters,
                mean_s_per_iter: a.mean_s_per_iter,
            })
            .collect(),
        convergence_tol: tol,
        marks: doc
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
            let r = &doc.resources.r;
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
        findings: doc
            .findings
            .iter()
            .map(|f| w::Finding {
                kind: f.kind.as_str(),
                phase: f.phase.clone(),
                share_of_wall: f.share_of_wall,
                message: f.message.clone(),
            })
            .collect(),
        diagnostics: {
            let d = &doc.diagnostics;
            w::Diagnostics {
                lines_seen: d.lines_seen,
                malformed_lines: d.malformed_lines,
                malformed_examples: d.malformed_examples.clone(),
                unmatched_stops: d.unmatched_stops,
                truncated_lines: d.truncated_lines,
                warnings: d.warnings.clone(),
            }
        },
        violations: doc
            .budgets
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
