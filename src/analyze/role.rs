//! What each series is: the run's objective (its main series), another measured metric, or a
//! parameter the run set rather than measured. Parameters (a trial's hyperparameters, a
//! learning-rate schedule, a step size, an evaluation counter) are shown per iteration, never
//! given best/converged/stagnant figures, nor convergence panels.
//!
//! A series is a parameter when the output said so (the values of Optuna's `parameters: {...}`,
//! stored as the series' role), when its name is a parameter's (`lr`, `sigma`, `nfev`,
//! `params.max_depth`), or when it is a counter: integer values that never decrease, under a name
//! that says nothing of quality.

use super::series::finite_values;
use crate::model::{Role, Series};
use crate::parse::names::infer_direction;

/// Words that name a setting or a count, not a measured quality.
const PARAMETER_WORDS: &[&str] = &[
    "lr",
    "learning_rate",
    "learningrate",
    "sigma",
    "stepsize",
    "step_size",
    "nfev",
    "njev",
    "nhev",
    "nit",
    "nevals",
    "evals",
    "fevals",
    "ncalls",
    "n_calls",
    "temperature",
    "momentum",
    "batch_size",
    "batchsize",
    "weight_decay",
    "dropout",
    "n_estimators",
    "max_depth",
    "num_leaves",
    "min_child_weight",
    "mutpb",
    "cxpb",
    "mutation_rate",
    "crossover_rate",
    "popsize",
    "pop_size",
];

/// Prefixes of flattened parameter objects (`params.lr`, `hparams/max_depth`).
const PARAMETER_PREFIXES: &[&str] = &[
    "param",
    "params",
    "parameters",
    "hparams",
    "hyperparameters",
    "config",
];

/// Whether the name alone says the series is a parameter.
pub fn parameter_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if let Some((head, _)) = lower.split_once(['.', '/', ':']) {
        if PARAMETER_PREFIXES.contains(&head) {
            return true;
        }
    }
    let last = lower
        .rsplit(['.', '/', ':', ' ', '-'])
        .find(|w| !w.is_empty())
        .unwrap_or("");
    PARAMETER_WORDS.contains(&last)
}

/// Integer values that never decrease and take at least 3 distinct values, under a name with no
/// direction of its own (so an integer fitness that climbs stays a metric).
fn counter(s: &Series) -> bool {
    if infer_direction(&s.name).is_some() || s.name.to_ascii_lowercase().contains("best") {
        return false;
    }
    let v = finite_values(s);
    let distinct = v.windows(2).filter(|w| w[1] != w[0]).count() + usize::from(!v.is_empty());
    distinct >= 3 && v.iter().all(|x| x.fract() == 0.0) && v.windows(2).all(|w| w[1] >= w[0])
}

/// The role of one series of a run.
pub fn role(s: &Series) -> Role {
    if s.main {
        Role::Objective
    } else if s.role == Some(Role::Parameter) || parameter_name(&s.name) || counter(s) {
        Role::Parameter
    } else {
        s.role.unwrap_or(Role::Metric)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn series(name: &str, main: bool, vals: &[f64]) -> Series {
        Series {
            main,
            ..crate::analyze::testutil::series(name, vals)
        }
    }

    #[test]
    fn names_and_hints_make_parameters() {
        for n in [
            "lr",
            "sigma",
            "nfev",
            "params.max_depth",
            "hparams/lr",
            "train.lr",
        ] {
            assert_eq!(
                role(&series(n, false, &[0.1, 0.2, 0.1])),
                Role::Parameter,
                "{n}"
            );
        }
        let mut c = series("C", false, &[0.1, 5.0, 0.3]);
        assert_eq!(role(&c), Role::Metric);
        c.role = Some(Role::Parameter);
        assert_eq!(role(&c), Role::Parameter);
        // The main series is the objective, whatever its name.
        assert_eq!(role(&series("lr", true, &[1.0])), Role::Objective);
    }

    #[test]
    fn counters_are_parameters_but_climbing_fitness_is_not() {
        assert_eq!(
            role(&series("evaluations", false, &[50.0, 100.0, 150.0, 200.0])),
            Role::Parameter
        );
        assert_eq!(
            role(&series("fitness", false, &[50.0, 51.0, 53.0, 60.0])),
            Role::Metric
        );
        // Not integer, or not monotone: a metric.
        assert_eq!(role(&series("m", false, &[1.5, 2.5, 3.5])), Role::Metric);
        assert_eq!(role(&series("m", false, &[3.0, 2.0, 4.0])), Role::Metric);
        // Two distinct values are not yet a count.
        assert_eq!(role(&series("m", false, &[1.0, 1.0, 2.0])), Role::Metric);
    }
}
