//! The live status line of `perfmon run` (indicatif) on stderr: elapsed, CPU%, RSS, GPU and the
//! latest progress value. Shown only when stderr is a terminal; the command's output is written
//! through [`OutputGuard`] so the line clears itself first and never mixes into it.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::sampler::Live;
use crate::report::units::{fmt_bytes, fmt_secs};
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
            fmt_bytes(live.rss_kib.max(0) as u64 * 1024)
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
