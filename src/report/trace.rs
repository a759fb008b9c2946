//! `--format trace`: Chrome trace-event JSON (opens in Perfetto and chrome://tracing). Timers are
//! nested complete (`X`) events on one track, sampled metrics and progress series are counter
//! (`C`) events, marks are global instant (`i`) events. Times are µs since the run started.

use serde_json::{json, Value};

use super::{Renderer, ReportError};
use crate::analyze::{cpu_percent_series, Analysis};
use crate::model::{metric, RunRecord};

pub struct TraceRenderer;

const PID: u32 = 1;
const TID_TIMERS: u32 = 1;

impl Renderer for TraceRenderer {
    fn render(&self, rec: &RunRecord, _an: &Analysis) -> Result<Vec<u8>, ReportError> {
        let mut out = serde_json::to_vec(&trace(rec))?;
        out.push(b'\n');
        Ok(out)
    }
}

fn us(t_s: f64) -> f64 {
    (t_s * 1e6).round()
}

fn counter(ev: &mut Vec<Value>, name: &str, t_s: f64, args: Value) {
    ev.push(json!({"name": name, "ph": "C", "ts": us(t_s), "pid": PID, "args": args}));
}

/// The trace document.
pub fn trace(rec: &RunRecord) -> Value {
    let mut ev: Vec<Value> = Vec::new();
    let title = format!(
        "perfmon run {}{}",
        rec.meta.id,
        rec.meta
            .name
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default()
    );
    ev.push(json!({"name": "process_name", "ph": "M", "pid": PID, "args": {"name": title}}));
    ev.push(json!({"name": "thread_name", "ph": "M", "pid": PID, "tid": TID_TIMERS, "args": {"name": "timers"}}));
    // Parents before children at equal start times, so viewers nest them.
    let mut spans: Vec<_> = rec.timers.iter().collect();
    spans.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.depth.cmp(&b.depth)));
    for s in spans {
        ev.push(json!({
            "name": s.name, "cat": "timer", "ph": "X", "pid": PID, "tid": TID_TIMERS,
            "ts": us(s.start_s), "dur": us((s.end_s - s.start_s).max(0.0)),
            "args": {"depth": s.depth, "closed_at_exit": s.closed_at_exit},
        }));
    }
    for p in cpu_percent_series(&rec.samples) {
        counter(
            &mut ev,
            "CPU %",
            p.t_s,
            json!({"user": p.user_pct, "system": p.system_pct}),
        );
    }
    for (t, v) in rec.samples.gauge(metric::RSS_KIB) {
        counter(
            &mut ev,
            "tree RSS (MiB)",
            t,
            json!({"rss": v as f64 / 1024.0}),
        );
    }
    for (name, key) in [(metric::READ_BYTES, "read"), (metric::WRITE_BYTES, "write")] {
        for (t, v) in rec.samples.rate(name) {
            counter(
                &mut ev,
                &format!("disk {key} (MB/s)"),
                t,
                json!({ key: v / 1e6 }),
            );
        }
    }
    for n in crate::analyze::gpu_indices(rec) {
        for (t, v) in rec.samples.gauge(&metric::gpu(n, "util_pct")) {
            counter(&mut ev, &format!("GPU {n} util %"), t, json!({"util": v}));
        }
        for (t, v) in rec.samples.gauge(&metric::gpu(n, "mem_used_bytes")) {
            counter(
                &mut ev,
                &format!("GPU {n} memory (MiB)"),
                t,
                json!({"used": v as f64 / 1048576.0}),
            );
        }
    }
    for s in &rec.series {
        let name = match &s.algorithm {
            Some(a) => format!("{a}: {}", s.name),
            None => s.name.clone(),
        };
        for p in s.points.iter().filter(|p| p.value.is_finite()) {
            counter(&mut ev, &name, p.t_s, json!({"value": p.value}));
        }
    }
    for k in &rec.marks {
        ev.push(json!({"name": k.text, "cat": "mark", "ph": "i", "s": "g", "pid": PID, "tid": TID_TIMERS, "ts": us(k.t_s)}));
    }
    json!({"traceEvents": ev, "displayTimeUnit": "ms"})
}
