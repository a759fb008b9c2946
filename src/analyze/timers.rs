//! Per-name aggregates of timer spans: count, total, mean, min, max, self time (the span minus
//! its direct children) and share of the wall time.

use crate::model::TimerSpan;

/// All spans of one name. Nested spans of the same name are each counted, so `total_s` of a
/// recursive timer can exceed the wall time.
#[derive(Debug, Clone, PartialEq)]
pub struct TimerStats {
    pub name: String,
    pub count: u64,
    pub total_s: f64,
    pub mean_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    /// Total minus the time of direct child spans (never negative per span).
    pub self_s: f64,
    /// `total_s / wall`; 0 when the wall time is unknown.
    pub share_of_wall: f64,
    /// Smallest depth any span of this name had (0 = top level).
    pub min_depth: u32,
    /// Spans still open at exit and closed by perfmon.
    pub closed_at_exit: u64,
    /// Start of the first span, s since the run started.
    pub first_start_s: f64,
}

pub(super) fn timer_stats(spans: &[TimerSpan], wall_s: f64) -> Vec<TimerStats> {
    let dur = |s: &TimerSpan| (s.end_s - s.start_s).max(0.0);
    let mut child_time = vec![0.0f64; spans.len()];
    for s in spans {
        if let Some(p) = s.parent.filter(|p| *p < spans.len()) {
            child_time[p] += dur(s);
        }
    }
    let mut out: Vec<TimerStats> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        let d = dur(s);
        let self_s = (d - child_time[i]).max(0.0);
        let k = *index.entry(s.name.as_str()).or_insert_with(|| {
            out.push(TimerStats {
                name: s.name.clone(),
                count: 0,
                total_s: 0.0,
                mean_s: 0.0,
                min_s: f64::INFINITY,
                max_s: 0.0,
                self_s: 0.0,
                share_of_wall: 0.0,
                min_depth: s.depth,
                closed_at_exit: 0,
                first_start_s: s.start_s,
            });
            out.len() - 1
        });
        let t = &mut out[k];
        t.count += 1;
        t.total_s += d;
        t.min_s = t.min_s.min(d);
        t.max_s = t.max_s.max(d);
        t.self_s += self_s;
        t.min_depth = t.min_depth.min(s.depth);
        t.closed_at_exit += u64::from(s.closed_at_exit);
        t.first_start_s = t.first_start_s.min(s.start_s);
    }
    for t in &mut out {
        t.mean_s = t.total_s / t.count as f64;
        t.share_of_wall = if wall_s > 0.0 {
            t.total_s / wall_s
        } else {
            0.0
        };
    }
    out.sort_by(|a, b| a.first_start_s.total_cmp(&b.first_start_s));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testutil::span;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn aggregates_by_name_with_self_time() {
        // epoch [0,4] contains eval [1,2]; epoch [4,10] contains eval [5,8] and eval [8,9].
        let spans = vec![
            span("epoch", 0.0, 4.0, 0, None),
            span("eval", 1.0, 2.0, 1, Some(0)),
            span("epoch", 4.0, 10.0, 0, None),
            span("eval", 5.0, 8.0, 1, Some(2)),
            span("eval", 8.0, 9.0, 1, Some(2)),
        ];
        let st = timer_stats(&spans, 10.0);
        assert_eq!(st.len(), 2);
        let e = &st[0];
        assert_eq!((e.name.as_str(), e.count), ("epoch", 2));
        assert!(close(e.total_s, 10.0) && close(e.mean_s, 5.0));
        assert!(close(e.min_s, 4.0) && close(e.max_s, 6.0));
        assert!(close(e.self_s, 10.0 - 5.0));
        assert!(close(e.share_of_wall, 1.0));
        let v = &st[1];
        assert_eq!(v.count, 3);
        assert!(close(v.total_s, 5.0) && close(v.self_s, 5.0));
        assert!(close(v.min_s, 1.0) && close(v.max_s, 3.0));
        assert!(close(v.share_of_wall, 0.5));
        assert_eq!(v.min_depth, 1);
    }

    #[test]
    fn no_spans_no_stats() {
        assert!(timer_stats(&[], 1.0).is_empty());
    }
}
