//! The live status line of `perfmon run` (indicatif) on stderr: elapsed, CPU%, RSS, GPU and the
//! latest progress value. Shown only when stderr is a terminal; the command's output is written
//! through [`OutputGuard`] so the line clears itself first and never mixes into it.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::sampler::Live;
use crate::runner::OutputGuard;

#[derive(Clone)]
pub struct StatusLine {
    bar: ProgressBar,
}

impl StatusLine {
    /// A status line, or None when stderr is not a terminal.
    pub fn for_stderr() -> Option<StatusLine> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4));
        let style = ProgressStyle::with_template("perfmon: {msg}").ok()?;
        bar.set_style(style);
        Some(StatusLine { bar })
    }

    pub fn update(&self, elapsed: Duration, live: &Live, progress: Option<(String, f64)>) {
        let mut msg = format!(
            "{}  CPU {:.0}%  RSS {}",
            fmt_secs(elapsed.as_secs_f64()),
            live.cpu_pct,
            fmt_kib(live.rss_kib)
        );
        if let Some(g) = live.gpu_util_pct {
            msg.push_str(&format!("  GPU {g:.0}%"));
        }
        if let Some((name, v)) = progress {
            msg.push_str(&format!("  {name}={v:.6}"));
        }
        self.bar.set_message(msg);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl OutputGuard for StatusLine {
    fn with_output(&self, f: &mut dyn FnMut()) {
        self.bar.suspend(f);
    }
}

/// Seconds for people: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
pub fn fmt_secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 60.0 {
        format!("{s:.2} s")
    } else if s < 3600.0 {
        format!("{} min {:02.0} s", (s / 60.0) as u64, s % 60.0)
    } else {
        format!(
            "{} h {:02} min",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    }
}

fn fmt_kib(kib: i64) -> String {
    let b = kib.max(0) as f64 * 1024.0;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", b / (1024.0 * 1024.0 * 1024.0))
    } else {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    }
}
