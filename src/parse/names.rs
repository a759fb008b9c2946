//! Vocabularies that classify the names of recognized values: how much a name looks like the
//! objective ([`name_score`], for the main series), whether it is evidence of progress by itself
//! ([`objective_like`]), the direction a name or a statement of the output gives
//! ([`infer_direction`], [`stated_direction`]; analyze's `direction` module decides between
//! those and the other sources).

use std::sync::OnceLock;

use memchr::memmem::Finder;

use super::lex::words;
use crate::model::Direction;

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

/// Output lines in which a stated direction is looked for: headers and study lines come first,
/// and past them the look would cost every ordinary line.
pub const STATED_WINDOW_LINES: u64 = 10_000;

const MAX_WORDS: &[&str] = &[
    "acc",
    "accuracy",
    "fitness",
    "reward",
    "return",
    "score",
    "f1",
    "auc",
    "precision",
    "recall",
    "map",
    "ndcg",
    "iou",
    "bleu",
    "r2",
    "hv",
    "likelihood",
    "psnr",
    "ssim",
];
const MIN_WORDS: &[&str] = &[
    "loss",
    "error",
    "err",
    "cost",
    "mse",
    "rmse",
    "mae",
    "mape",
    "l1",
    "l2",
    "logloss",
    "regret",
    "perplexity",
    "ppl",
    "objective",
    "obj",
    "residual",
    "gap",
    "energy",
    "penalty",
    "distance",
    "nll",
    "igd",
];

/// Direction from a series name: words of error are minimized, words of quality maximized.
pub fn infer_direction(name: &str) -> Option<Direction> {
    // The last word decides ("val_acc" is an accuracy, "acc_loss" a loss).
    let ws: Vec<String> = words(name).collect();
    for w in ws.iter().rev() {
        if MIN_WORDS.contains(&w.as_str()) {
            return Some(Direction::Minimize);
        }
        if MAX_WORDS.contains(&w.as_str()) {
            return Some(Direction::Maximize);
        }
    }
    None
}

/// The direction a word names: `maximize`, `maximise`, `maximizing`, `max`, `maximum`, ….
fn direction_word(w: &str, short: bool) -> Option<Direction> {
    let long = |stem: &str| {
        w.strip_prefix(stem).is_some_and(|rest| {
            ["ize", "ise", "izing", "ising", "ization", "isation", "um"].contains(&rest)
        })
    };
    if long("maxim") || (short && w == "max") {
        Some(Direction::Maximize)
    } else if long("minim") || (short && w == "min") {
        Some(Direction::Minimize)
    } else {
        None
    }
}

/// Keys after which `max`/`min` state a direction (`mode=max`, `direction: maximize`,
/// `StudyDirection.MAXIMIZE`).
const DIRECTION_KEYS: &[&str] = &[
    "direction",
    "directions",
    "studydirection",
    "mode",
    "goal",
    "sense",
];

/// A direction the output states in a header or study line: `direction: maximize`,
/// `mode='max'`, `Study direction: StudyDirection.MAXIMIZE`, `Maximizing the objective: ...`.
/// A bare word must stand alone (not `scipy.optimize.minimize(` or `minimize.py`), and a line
/// naming both directions states none.
pub fn stated_direction(line: &[u8]) -> Option<Direction> {
    static KEYS: OnceLock<Vec<Finder<'static>>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        ["imi", "IMI", "mode", "irection", "goal", "ense"]
            .iter()
            .map(|k| Finder::new(k.as_bytes()))
            .collect()
    });
    if !keys.iter().any(|k| k.find(line).is_some()) {
        return None;
    }
    let text = String::from_utf8_lossy(line);
    let mut tokens: Vec<(usize, usize)> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphanumeric() {
            let a = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            tokens.push((a, i));
        } else {
            i += 1;
        }
    }
    let word = |k: usize| text[tokens[k].0..tokens[k].1].to_ascii_lowercase();
    let mut found: Option<Direction> = None;
    for (k, &(a, b)) in tokens.iter().enumerate() {
        let keyed = k > 0 && DIRECTION_KEYS.contains(&word(k - 1).as_str());
        let Some(d) = direction_word(&word(k), keyed) else {
            continue;
        };
        let before = a.checked_sub(1).map(|p| bytes[p]);
        let after = bytes.get(b).copied();
        let in_identifier = matches!(before, Some(b'/' | b'_'))
            || (before == Some(b'.') && !keyed)
            || matches!(after, Some(b'(' | b'.' | b'_' | b'/'))
                && !(after == Some(b'.') && b + 1 >= bytes.len());
        if in_identifier {
            continue;
        }
        if found.is_some_and(|f| f != d) {
            return None;
        }
        found = Some(d);
    }
    found
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
