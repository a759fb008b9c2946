//! `perfmon report [RUN]`: renders a stored run. Text formats go to stdout or `--output FILE`;
//! `--format png` writes one file per chart into `--output DIR` and lists them on stderr.

use crate::store::Location;
use anyhow::{bail, Context, Result};

use crate::analyze::{analyze_with, AnalyzeOptions};
use crate::cli::{ReportArgs, ReportFormat};
use crate::report::html::HtmlRenderer;
use crate::report::json::JsonRenderer;
use crate::report::markdown::MarkdownRenderer;
use crate::report::png::{render_png, PngOptions};
use crate::report::text::TextRenderer;
use crate::report::trace::TraceRenderer;
use crate::report::Renderer;

pub fn report(db: &Location, a: &ReportArgs) -> Result<i32> {
    if super::group::wants_group(a) {
        return super::group::report_group(db, a);
    }
    if a.target.is_some() {
        bail!("--target applies to a group report: add --group (or report group:N)");
    }
    let store = super::open_readonly(db)?;
    let id = store.resolve(&a.run)?;
    let rec = store.load_run(id)?;
    let analysis = analyze_with(
        &rec,
        &AnalyzeOptions {
            convergence_tol: a.converge_tol,
        },
    );
    let png = PngOptions {
        size: a.size,
        log_y: a.log_y,
        top: a.top,
    };
    let renderer: Box<dyn Renderer> = match a.format {
        ReportFormat::Text => Box::new(TextRenderer),
        ReportFormat::Json => Box::new(JsonRenderer {
            samples: a.samples,
            convergence_tol: a.converge_tol,
        }),
        ReportFormat::Markdown => Box::new(MarkdownRenderer {
            png_dir: a.png_dir.as_ref().map(|p| p.display().to_string()),
        }),
        ReportFormat::Html => Box::new(HtmlRenderer { png }),
        ReportFormat::Trace => Box::new(TraceRenderer),
        ReportFormat::Png => {
            let Some(dir) = &a.output else {
                bail!("--format png needs --output DIR (one file per chart)");
            };
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let charts = render_png(&rec, &analysis, &png)?;
            for (name, bytes) in &charts.files {
                let p = dir.join(name);
                std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
                eprintln!("perfmon: wrote {}", p.display());
            }
            for note in &charts.skipped {
                eprintln!("perfmon: {note}");
            }
            return Ok(0);
        }
    };
    let bytes = renderer.render(&rec, &analysis)?;
    match &a.output {
        Some(p) => {
            std::fs::write(p, &bytes).with_context(|| format!("writing {}", p.display()))?;
            eprintln!("perfmon: wrote {}", p.display());
        }
        None => super::write_stdout(&String::from_utf8_lossy(&bytes))?,
    }
    Ok(0)
}
