//! `perfmon compare BASE CAND`: one row per metric with both sides' statistics, the change and
//! a verdict; with `--fail-on` (or `[compare] fail_on` in perfmon.toml) it is a CI gate that
//! exits 1 on a significant regression beyond a threshold, 0 otherwise, 2 on usage errors.
//! Wiring only: the verdicts are `analyze::sides`, the output `report::compare`.

use crate::store::Location;
use anyhow::{Context, Result};

use super::load::load_figures;
use super::select::select;
use crate::analyze::compare::{CompareOptions, TestKind};
use crate::analyze::hosts::SideCpus;
use crate::analyze::sides::{Comparison, Side};
use crate::analyze::spec::Threshold;
use crate::cli::{CompareArgs, CompareFormat};
use crate::model::HostInfo;
use crate::report::compare::{
    cpu_warning, overlay_png, shared_note, undecided_text, CompareDocument, COMPARE_PNG,
};
use crate::report::{json_text, Selection};
use crate::store::Store;

/// Exit status when the gate fails.
pub const EXIT_REGRESSION: i32 = 1;

pub fn compare(db: &Location, a: &CompareArgs) -> Result<i32> {
    let cfg = crate::config::load()?;
    let thresholds: Vec<Threshold> = match &a.fail_on {
        Some(t) => t.0.clone(),
        None => cfg.fail_on()?.unwrap_or_default(),
    };
    let opts = CompareOptions {
        alpha: a.alpha.or(cfg.config.compare.alpha).unwrap_or(0.05),
        min_effect_pct: a
            .min_effect
            .or(cfg.config.compare.min_effect)
            .unwrap_or(1.0),
        test: match a.test {
            crate::cli::TestArg::Auto => TestKind::Auto,
            crate::cli::TestArg::Welch => TestKind::Welch,
            crate::cli::TestArg::MannWhitney => TestKind::MannWhitney,
        },
    };
    let store = super::open_readonly(db)?;
    let (base_sel, base, base_hosts) = side(&store, &a.base, a.converge_tol)?;
    let (cand_sel, cand, cand_hosts) = side(&store, &a.cand, a.converge_tol)?;
    let c = Comparison::new(&base, &cand, thresholds, opts);
    if let Some(note) = shared_note(&base_sel, &cand_sel) {
        eprintln!("perfmon: {note}");
    }
    let cpus = SideCpus::of(
        base_hosts.iter().map(|(i, h)| (*i, h)),
        cand_hosts.iter().map(|(i, h)| (*i, h)),
    );
    if let Some(w) = cpu_warning(&cpus) {
        eprintln!("perfmon: warning: {w}");
    }
    let doc = CompareDocument {
        base: &base_sel,
        cand: &cand_sel,
        c: &c,
        cpus: &cpus,
    };
    let code = if c.passed() { 0 } else { EXIT_REGRESSION };
    let out = match a.format {
        CompareFormat::Png => {
            let Some(dir) = &a.output else {
                anyhow::bail!("--format png needs --output DIR (written as DIR/{COMPARE_PNG})");
            };
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let path = dir.join(COMPARE_PNG);
            let load = |s: &Side, sel: &Selection| -> Result<_> {
                s.representative(&sel.ids)
                    .map(|id| {
                        let rec = store.load_run(id);
                        rec.map(|r| (id, r))
                            .with_context(|| format!("cannot read run {id}"))
                    })
                    .transpose()
            };
            let (b, k) = (load(&base, &base_sel)?, load(&cand, &cand_sel)?);
            let runs = [
                b.as_ref().map(|(i, r)| (*i, r)),
                k.as_ref().map(|(i, r)| (*i, r)),
            ];
            std::fs::write(&path, overlay_png(&doc, [&base, &cand], runs)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("perfmon: wrote {}", path.display());
            warn_undecided(&c);
            return Ok(code);
        }
        CompareFormat::Text => doc.text(),
        CompareFormat::Json => json_text(&doc.json())?,
        CompareFormat::Markdown => doc.markdown(),
    };
    match &a.output {
        Some(p) => {
            std::fs::write(p, out).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => super::write_stdout(&out)?,
    }
    for m in &c.not_measured {
        eprintln!("perfmon: warning: --fail-on names {m}, which neither side measured");
    }
    warn_undecided(&c);
    Ok(code)
}

/// The host each run of a side ran on.
type RunHosts = Vec<(i64, HostInfo)>;

/// A side: its selection, the figures of its runs and the host of each run.
fn side(store: &Store, spec: &str, tol: f64) -> Result<(Selection, Side, RunHosts)> {
    let sel = select(store, spec)?;
    let (figures, hosts): (Vec<_>, Vec<_>) =
        load_figures(store, &sel.ids, tol)?.into_iter().unzip();
    let hosts = sel.ids.iter().copied().zip(hosts).collect();
    Ok((sel, Side::from_runs(figures), hosts))
}

/// One line per gated metric the runs were too noisy to decide (CI logs show it whatever the
/// format; the gate still passes).
fn warn_undecided(c: &Comparison) {
    for u in &c.undecided {
        eprintln!("perfmon: warning: {}", undecided_text(u));
    }
}
