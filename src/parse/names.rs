//! Vocabularies that classify the names of recognized values: how much a name looks like the
//! objective ([`name_score`], for the main series), whether it is evidence of progress by itself
//! ([`objective_like`]). Its direction is inferred in one place, `analyze::infer_direction`.

use super::lex::words;

const TOP: [&str; 16] = [
    "best",
    "objective",
    "obj",
    "fitness",
    "loss",
    "cost",
    "fun",
    "f",
    "fx",
    "value",
    "energy",
    "reward",
    "return",
    "fbest",
    "fopt",
    "target",
];
const METRIC: [&str; 14] = [
    "rmse", "mse", "mae", "error", "err", "l1", "l2", "logloss", "nll", "mape", "igd", "gd", "hv",
    "regret",
];
const SCORE: [&str; 10] = [
    "acc",
    "accuracy",
    "auc",
    "score",
    "f1",
    "r2",
    "ndcg",
    "map",
    "precision",
    "recall",
];
const LOW: [&str; 27] = [
    "mean",
    "avg",
    "average",
    "std",
    "stdev",
    "var",
    "median",
    "time",
    "t",
    "lr",
    "elapsed",
    "timing",
    "ms",
    "sec",
    "secs",
    "seconds",
    "duration",
    "sigma",
    "eta",
    "nevals",
    "nfev",
    "evals",
    "fevals",
    "speed",
    "throughput",
    "memory",
    "mem",
];
const RUNNING: [&str; 4] = ["so", "ever", "overall", "incumbent"];

/// How much a name looks like the objective: 100 objective words, 90 error metrics, 85
/// `min`/`max`, 80 scores, 50 unknown, 10 statistics/times/rates. `val`/`valid`/`test`/`eval`
/// add 5, `train` takes 5, running-best words (`best_so_far`) take 30.
pub fn name_score(name: &str) -> i32 {
    let ws: Vec<String> = words(name).collect();
    let has = |set: &[&str]| ws.iter().any(|w| set.contains(&w.as_str()));
    let mut s = if has(&LOW) {
        10
    } else if has(&TOP) {
        100
    } else if has(&METRIC) {
        90
    } else if has(&["min", "max"]) {
        85
    } else if has(&SCORE) {
        80
    } else {
        50
    };
    if has(&["val", "valid", "validation", "test", "eval", "dev"])
        || ws.first().is_some_and(|w| w.starts_with("valid"))
    {
        s += 5;
    }
    if has(&["train", "training"]) {
        s -= 5;
    }
    if has(&RUNNING) || name.to_ascii_lowercase().contains("sofar") {
        s -= 30;
    }
    s
}

/// True for names that denote an objective or metric by themselves (`loss`, `best`, `rmse`,
/// `accuracy`; not `max_idle_ns` or `mean_time`): the evidence a group without iterations needs.
pub fn objective_like(name: &str) -> bool {
    let ws: Vec<String> = words(name).collect();
    let has = |set: &[&str]| ws.iter().any(|w| set.contains(&w.as_str()));
    !has(&LOW) && (has(&TOP) || has(&METRIC) || has(&SCORE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores() {
        assert!(name_score("best") > name_score("mean"));
        assert!(name_score("best_len") > name_score("best_so_far"));
        assert!(name_score("valid-rmse") > name_score("train-rmse"));
        assert!(name_score("function value") > name_score("sigma"));
        assert!(name_score("loss") > name_score("acc"));
        assert!(name_score("t_eval_ms") < 50);
    }
}
