//! The warning of a comparison whose runs ran on different CPU models, in one line naming the
//! models of each side (and their core counts, which the line calls out when they differ too).

use crate::analyze::hosts::{Cpu, SideCpus};

/// `"AMD EPYC 7313" (16 cores)`; `with_runs` adds the runs that ran on it.
fn cpu_text(c: &Cpu, with_runs: bool) -> String {
    let model = if c.model.is_empty() {
        "an unknown CPU".to_string()
    } else {
        format!("{:?}", c.model)
    };
    let mut extra = Vec::new();
    if c.cores > 0 {
        extra.push(format!(
            "{} core{}",
            c.cores,
            if c.cores == 1 { "" } else { "s" }
        ));
    }
    if with_runs {
        extra.push(super::ids(&c.runs));
    }
    if extra.is_empty() {
        model
    } else {
        format!("{model} ({})", extra.join(", "))
    }
}

/// One side's CPUs: one, or each with its runs when the side mixes them.
fn side_text(cpus: &[Cpu]) -> String {
    let mixed = cpus.len() > 1;
    let v: Vec<String> = cpus.iter().map(|c| cpu_text(c, mixed)).collect();
    v.join(", ")
}

/// The warning (without its `warning: ` prefix) when the runs ran on more than one CPU model;
/// None when they all ran on one.
pub fn cpu_warning(s: &SideCpus) -> Option<String> {
    if !s.models_differ() {
        return None;
    }
    Some(format!(
        "the runs compared ran on different CPU models{}, so their times are not comparable: base {}; candidate {}",
        if s.cores_differ() {
            " and core counts"
        } else {
            ""
        },
        side_text(&s.base),
        side_text(&s.cand)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(model: &str, cores: u32, runs: &[i64]) -> Cpu {
        Cpu {
            model: model.into(),
            cores,
            runs: runs.to_vec(),
        }
    }

    #[test]
    fn the_warning_names_both_models_and_the_cores() {
        let s = SideCpus {
            base: vec![cpu("AMD EPYC 7313", 16, &[1, 2])],
            cand: vec![cpu("Apple M2", 8, &[3])],
        };
        assert_eq!(
            cpu_warning(&s).as_deref(),
            Some(
                "the runs compared ran on different CPU models and core counts, so their times are not comparable: base \"AMD EPYC 7313\" (16 cores); candidate \"Apple M2\" (8 cores)"
            )
        );
    }

    #[test]
    fn a_mixed_side_lists_its_runs_per_model() {
        let s = SideCpus {
            base: vec![cpu("A", 4, &[1])],
            cand: vec![cpu("A", 4, &[2]), cpu("B", 4, &[3, 4]), cpu("", 0, &[5])],
        };
        let w = cpu_warning(&s).unwrap_or_default();
        assert!(w.contains("different CPU models, so"), "{w}");
        assert!(
            w.ends_with(
                "base \"A\" (4 cores); candidate \"A\" (4 cores, runs 2), \"B\" (4 cores, runs 3 4), an unknown CPU (runs 5)"
            ),
            "{w}"
        );
    }

    #[test]
    fn one_model_gives_no_warning() {
        let s = SideCpus {
            base: vec![cpu("A", 4, &[1])],
            cand: vec![cpu("A", 8, &[2])],
        };
        assert_eq!(cpu_warning(&s), None);
    }
}
