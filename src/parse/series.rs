//! The series store: protocol and `--progress` points go straight into keyed series; automatic
//! recognizers hand in records (a key set with values and maybe an iteration) that gather in
//! *groups* until the group is confirmed, and only then become series. Also ranks names to pick
//! the main series and infers directions.
//!
//! Confirmation rule (precision guard): a group (same recognizer, same names in the same order)
//! becomes series once 3 consecutive records either carry strictly increasing iterations, or
//! carry none and at least one name is objective-like (`loss`, `best`, `score`, …; see
//! [`name_score`]). Its first 3 records then become its first points. Groups are capped
//! ([`MAX_GROUPS`]) so arbitrary output costs bounded memory.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::model::{Direction, DirectionFrom, Point, Role, Series};

use super::lex::words;

/// Most candidate groups kept; lines of new shapes after that are ignored.
pub const MAX_GROUPS: usize = 512;
/// Most values taken from one line.
pub const MAX_VALUES: usize = 64;
/// Records needed to confirm a group.
const CONFIRM: usize = 3;

/// Identity hasher for keys that are already hashes.
#[derive(Default)]
pub struct IdHasher(u64);
impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv(self.0, bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
type IdMap = HashMap<u64, usize, BuildHasherDefault<IdHasher>>;

/// FNV-1a, continued from `h`.
#[inline]
pub fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}
const FNV0: u64 = 0xcbf2_9ce4_8422_2325;

/// Bit pattern of the value that marks a missing cell (`-` in a table): a NaN with a payload, so
/// it never equals a NaN that a program printed.
pub const MISSING_BITS: u64 = 0x7ff8_0000_dead_0001;

/// A point value that is not the missing marker.
fn present(v: f64) -> bool {
    v.to_bits() != MISSING_BITS
}

/// One record from a recognizer: names (concatenated bytes with spans), values, iteration.
#[derive(Debug, Default)]
pub struct Rec {
    pub names: Vec<u8>,
    pub spans: Vec<(u32, u32)>,
    pub values: Vec<f64>,
    pub iter: Option<i64>,
    /// Bit k set: value k is a parameter of the trial (inside Optuna's `parameters: {...}`).
    pub params: u64,
}

impl Rec {
    pub fn clear(&mut self) {
        self.names.clear();
        self.spans.clear();
        self.values.clear();
        self.iter = None;
        self.params = 0;
    }
    pub fn push(&mut self, name: &[u8], value: f64) {
        if self.values.len() >= MAX_VALUES || name.is_empty() {
            return;
        }
        let a = self.names.len() as u32;
        self.names.extend_from_slice(name);
        self.spans.push((a, self.names.len() as u32));
        self.values.push(value);
    }
    /// Like [`Rec::push`] with a name made of a prefix, a dot and a key (`timing_ms.eval`).
    pub fn push_dotted(&mut self, prefix: &[u8], name: &[u8], value: f64) {
        if self.values.len() >= MAX_VALUES {
            return;
        }
        let a = self.names.len() as u32;
        self.names.extend_from_slice(prefix);
        self.names.push(b'.');
        self.names.extend_from_slice(name);
        self.spans.push((a, self.names.len() as u32));
        self.values.push(value);
    }
    pub fn name(&self, k: usize) -> &[u8] {
        let (a, b) = self.spans[k];
        &self.names[a as usize..b as usize]
    }
    pub fn len(&self) -> usize {
        self.values.len()
    }
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// Moves the value with the strongest iteration name (integer-valued) into `iter`.
    pub fn take_iter(&mut self) {
        let mut best: Option<(u8, usize)> = None;
        for k in 0..self.len() {
            let r = super::lex::iter_rank(self.name(k));
            let v = self.values[k];
            if r > 0 && v.fract() == 0.0 && v.abs() < 9e15 && best.is_none_or(|(br, _)| r > br) {
                best = Some((r, k));
            }
        }
        if let Some((_, k)) = best {
            self.iter = Some(self.values[k] as i64);
            self.values.remove(k);
            self.spans.remove(k);
            let low = self.params & ((1u64 << k) - 1);
            self.params = low | ((self.params >> 1) & !((1u64 << k) - 1));
        }
    }
}

/// Precedence of where a series came from (for the main series).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Auto = 0,
    Regex = 1,
    Protocol = 2,
}

struct Meta {
    class: Class,
    score: i32,
    explicit_direction: bool,
}

/// A candidate group of auto records.
pub struct Group {
    pub source: &'static str,
    names: Vec<String>,
    window: Vec<(Option<i64>, f64, Vec<f64>)>,
    pub promoted: bool,
    series: Vec<usize>,
    counter: i64,
    last_iter: Option<i64>,
    objective_like: bool,
    params: u64,
}

#[derive(Default)]
pub struct Store {
    pub series: Vec<Series>,
    meta: Vec<Meta>,
    index: IdMap,
    /// Series of the last keyed point at each field position of a line (protocol lines usually
    /// repeat the same keys in the same order): a hit skips hashing.
    recent: Vec<usize>,
    pub groups: Vec<Group>,
    group_index: IdMap,
    main_hint: Option<usize>,
    /// A direction the output stated (`direction: maximize`); given to the main series at the
    /// end unless the protocol stated its own or its name says the other.
    pub stated: Option<Direction>,
}

impl Store {
    /// Adds one point to the keyed series (protocol or regex), creating it on first use.
    #[allow(clippy::too_many_arguments)]
    pub fn add_keyed(
        &mut self,
        pos: usize,
        class: Class,
        source: &str,
        algo: Option<&[u8]>,
        name: &[u8],
        iter: Option<i64>,
        t_s: f64,
        value: f64,
        direction: Option<Direction>,
    ) {
        let idx = match self.recent.get(pos) {
            Some(&i) if self.same(i, algo, name, source) => i,
            _ => self.lookup(class, source, algo, name),
        };
        if self.recent.len() <= pos {
            self.recent.resize(pos + 1, 0);
        }
        self.recent[pos] = idx;
        if let Some(d) = direction {
            self.series[idx].direction = Some(d);
            self.series[idx].direction_from = Some(DirectionFrom::Protocol);
            if !self.meta[idx].explicit_direction {
                self.meta[idx].explicit_direction = true;
                self.update_hint(idx);
            }
        }
        let s = &mut self.series[idx];
        let iter = iter.unwrap_or_else(|| s.points.last().map_or(0, |p| p.iter + 1));
        s.points.push(Point { iter, t_s, value });
    }

    fn lookup(&mut self, class: Class, source: &str, algo: Option<&[u8]>, name: &[u8]) -> usize {
        let mut h = fnv(FNV0, &[class as u8]);
        h = fnv(h, source.as_bytes());
        h = fnv(h, algo.unwrap_or(b"\xff"));
        h = fnv(h, b"\x00");
        h = fnv(h, name);
        match self.index.get(&h) {
            Some(&i) if self.same(i, algo, name, source) => i,
            _ => match (0..self.series.len()).find(|&i| self.same(i, algo, name, source)) {
                Some(i) => i,
                None => {
                    let name = String::from_utf8_lossy(name).into_owned();
                    let algorithm = algo.map(|a| String::from_utf8_lossy(a).into_owned());
                    let i = self.create(class, source.to_string(), name, algorithm);
                    self.index.entry(h).or_insert(i);
                    i
                }
            },
        }
    }

    fn same(&self, i: usize, algo: Option<&[u8]>, name: &[u8], source: &str) -> bool {
        let s = &self.series[i];
        s.name.as_bytes() == name
            && s.algorithm.as_deref().map(str::as_bytes) == algo
            && s.source == source
    }

    fn create(
        &mut self,
        class: Class,
        source: String,
        name: String,
        algorithm: Option<String>,
    ) -> usize {
        let score = name_score(&name);
        self.series.push(Series {
            name,
            algorithm,
            source,
            direction: None,
            direction_from: None,
            role: None,
            main: false,
            points: Vec::new(),
        });
        self.meta.push(Meta {
            class,
            score,
            explicit_direction: false,
        });
        let i = self.series.len() - 1;
        self.update_hint(i);
        i
    }

    fn rank(&self, i: usize) -> (Class, i32) {
        let m = &self.meta[i];
        (m.class, m.score + if m.explicit_direction { 5 } else { 0 })
    }

    fn update_hint(&mut self, i: usize) {
        if self.series[i].role == Some(Role::Parameter) {
            return; // the live status line shows the objective, not a trial's parameter
        }
        if self.main_hint.is_none_or(|h| self.rank(i) > self.rank(h)) {
            self.main_hint = Some(i);
        }
    }

    /// Feeds one auto record; returns its group (None when the group cap was reached).
    pub fn add_record(&mut self, source: &'static str, rec: &Rec, t_s: f64) -> Option<usize> {
        if rec.is_empty() {
            return None;
        }
        let mut h = fnv(FNV0, source.as_bytes());
        for k in 0..rec.len() {
            h = fnv(h, rec.name(k));
            h = fnv(h, b"\x00");
        }
        let g = match self.group_index.get(&h) {
            Some(&g) => {
                let grp = &self.groups[g];
                if grp.names.len() != rec.len()
                    || (0..rec.len()).any(|k| grp.names[k].as_bytes() != rec.name(k))
                {
                    return None; // hash collision: ignore rather than mix shapes
                }
                g
            }
            None => {
                if self.groups.len() >= MAX_GROUPS {
                    return None;
                }
                let names: Vec<String> = (0..rec.len())
                    .map(|k| String::from_utf8_lossy(rec.name(k)).into_owned())
                    .collect();
                let objective_like = names.iter().any(|n| objective_like(n));
                self.groups.push(Group {
                    source,
                    names,
                    window: Vec::new(),
                    promoted: false,
                    series: Vec::new(),
                    counter: 0,
                    last_iter: None,
                    objective_like,
                    params: rec.params,
                });
                let g = self.groups.len() - 1;
                self.group_index.insert(h, g);
                g
            }
        };
        if self.groups[g].promoted {
            let grp = &mut self.groups[g];
            let iter = match (rec.iter, grp.last_iter) {
                (Some(i), _) => i,
                (None, Some(l)) => l + 1,
                (None, None) => grp.counter,
            };
            grp.counter += 1;
            if rec.iter.is_some() || grp.last_iter.is_some() {
                grp.last_iter = Some(iter);
            }
            for (k, &si) in grp.series.iter().enumerate() {
                let value = rec.values[k];
                if present(value) {
                    self.series[si].points.push(Point { iter, t_s, value });
                }
            }
            return Some(g);
        }
        let grp = &mut self.groups[g];
        if grp.window.len() == CONFIRM {
            grp.window.remove(0);
        }
        grp.window.push((rec.iter, t_s, rec.values.clone()));
        if grp.window.len() == CONFIRM && confirmed(grp) {
            self.promote(g);
        }
        Some(g)
    }

    fn promote(&mut self, g: usize) {
        let names = self.groups[g].names.clone();
        let source = self.groups[g].source;
        let ids: Vec<usize> = names
            .into_iter()
            .map(|n| self.create(Class::Auto, source.to_string(), n, None))
            .collect();
        for (k, &i) in ids.iter().enumerate() {
            if k < 64 && self.groups[g].params & (1u64 << k) != 0 {
                self.series[i].role = Some(Role::Parameter);
                self.meta[i].score = 0;
                if self.main_hint == Some(i) {
                    self.main_hint = None;
                }
            }
        }
        let grp = &mut self.groups[g];
        grp.promoted = true;
        grp.series = ids;
        let window = std::mem::take(&mut grp.window);
        for (it, t_s, values) in window {
            let grp = &mut self.groups[g];
            let iter = it.unwrap_or(grp.counter);
            grp.counter += 1;
            if it.is_some() {
                grp.last_iter = Some(iter);
            }
            for (k, &si) in grp.series.iter().enumerate() {
                let value = values[k];
                if present(value) {
                    self.series[si].points.push(Point { iter, t_s, value });
                }
            }
        }
        self.adjust_group_scores(g);
    }

    /// Within a group: a running best (`best_x` next to `x`) is not the main candidate; when both
    /// `min` and `max` columns exist, the one in the direction the group improves wins.
    fn adjust_group_scores(&mut self, g: usize) {
        let ids = self.groups[g].series.clone();
        let names: Vec<String> = ids
            .iter()
            .map(|&i| self.series[i].name.to_ascii_lowercase())
            .collect();
        for (k, &i) in ids.iter().enumerate() {
            if let Some(rest) = names[k]
                .strip_prefix("best_")
                .or_else(|| names[k].strip_prefix("best "))
            {
                if names.iter().any(|n| n == rest) {
                    self.meta[i].score -= 30;
                }
            }
        }
        let hint = self.main_hint;
        self.main_hint = None;
        if let Some(h) = hint {
            self.update_hint(h);
        }
        for i in 0..self.series.len() {
            self.update_hint(i);
        }
    }

    /// When a group has both `min` and `max`, favours the one matching its trend (the mean's,
    /// or else the pair's own), and gives it that direction.
    fn min_max_trend(&mut self) {
        for g in 0..self.groups.len() {
            let ids = &self.groups[g].series;
            let find = |want: &[&str]| {
                ids.iter()
                    .copied()
                    .find(|&i| want.contains(&self.series[i].name.to_ascii_lowercase().as_str()))
            };
            let (Some(mn), Some(mx)) = (find(&["min", "fmin"]), find(&["max", "fmax"])) else {
                continue;
            };
            let trend_of = |i: usize| {
                let p = &self.series[i].points;
                match (p.first(), p.last()) {
                    (Some(a), Some(b)) => b.value - a.value,
                    _ => 0.0,
                }
            };
            let trend = match find(&["avg", "mean", "average"]) {
                Some(a) => trend_of(a),
                None => trend_of(mn) + trend_of(mx),
            };
            let (i, d) = match trend {
                t if t > 0.0 => (mx, Direction::Maximize),
                t if t < 0.0 => (mn, Direction::Minimize),
                _ => continue,
            };
            self.meta[i].score += 3;
            self.series[i].direction = Some(d);
            self.series[i].direction_from = Some(DirectionFrom::Trend);
        }
    }

    /// The latest value of the likeliest main series.
    pub fn latest(&self) -> Option<(String, f64)> {
        self.latest_point().map(|(n, p)| (n.to_string(), p.value))
    }

    /// The likeliest main series' name and latest point.
    pub fn latest_point(&self) -> Option<(&str, &crate::model::Point)> {
        let s = &self.series[self.main_hint?];
        s.points.last().map(|p| (s.name.as_str(), p))
    }

    /// Picks the main series and returns all series, main first.
    pub fn finish(mut self) -> Vec<Series> {
        self.min_max_trend();
        let most = self
            .series
            .iter()
            .map(|s| s.points.len())
            .max()
            .unwrap_or(0);
        let key = |i: usize| {
            let (c, mut sc) = self.rank(i);
            let n = self.series[i].points.len();
            if n * 10 < most {
                sc -= 20;
            }
            (c, sc)
        };
        let mut main: Option<usize> = None;
        for i in 0..self.series.len() {
            // A trial's parameter is never the objective, even when nothing else was read.
            if self.series[i].points.is_empty() || self.series[i].role == Some(Role::Parameter) {
                continue;
            }
            if main.is_none_or(|m| key(i) > key(m)) {
                main = Some(i);
            }
        }
        let mut out = self.series;
        if let Some(m) = main {
            out[m].main = true;
            // A statement of the output is about the study's objective: it does not turn a
            // `loss` into a quantity to maximize.
            let named = crate::analyze::infer_direction(&out[m].name);
            if let (None, Some(d)) = (
                out[m].direction,
                self.stated.filter(|d| named.is_none_or(|n| n == *d)),
            ) {
                out[m].direction = Some(d);
                out[m].direction_from = Some(DirectionFrom::Output);
            }
            let s = out.remove(m);
            out.insert(0, s);
        }
        out
    }
}

fn confirmed(g: &Group) -> bool {
    let w = &g.window;
    if w.iter().all(|r| r.0.is_some()) {
        w.windows(2).all(|p| p[0].0 < p[1].0)
    } else {
        w.iter().all(|r| r.0.is_none()) && g.objective_like
    }
}

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
    #![allow(clippy::unwrap_used)]
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

    #[test]
    fn parameter_flags_follow_their_values() {
        let mut r = Rec::default();
        r.push(b"C", 0.5);
        r.push(b"trial", 3.0);
        r.push(b"gamma", 2.0);
        r.push(b"value", 0.9);
        r.params = 0b101;
        r.take_iter();
        assert_eq!(r.iter, Some(3));
        assert_eq!(r.params, 0b011);
        let mut st = Store::default();
        for i in 0..3 {
            r.iter = Some(i);
            st.add_record("auto:sentence", &r, 0.0);
        }
        // The live status line follows the objective, not a parameter.
        assert_eq!(st.latest().map(|l| l.0), Some("value".to_string()));
        let out = st.finish();
        let role = |n: &str| out.iter().find(|s| s.name == n).and_then(|s| s.role);
        assert_eq!(role("C"), Some(Role::Parameter));
        assert_eq!(role("gamma"), Some(Role::Parameter));
        assert_eq!(role("value"), None);
        assert!(out[0].main && out[0].name == "value", "{out:?}");
        // Parameters alone: no main series (the report lists them, draws no convergence).
        let mut st = Store::default();
        let mut r = Rec::default();
        for i in 0..3 {
            r.clear();
            r.push(b"x", i as f64);
            r.params = 1;
            r.iter = Some(i);
            st.add_record("auto:sentence", &r, 0.0);
        }
        assert_eq!(st.latest(), None);
        assert!(st.finish().iter().all(|s| !s.main));
    }

    #[test]
    fn groups_need_three_increasing_iterations() {
        let mut st = Store::default();
        let mut r = Rec::default();
        for (i, it) in [Some(1), Some(1), Some(2), Some(3)].iter().enumerate() {
            r.clear();
            r.push(b"x", i as f64);
            r.iter = *it;
            st.add_record("auto:kv", &r, 0.0);
            assert_eq!(st.series.len(), usize::from(i == 3));
        }
        assert_eq!(st.series[0].points.len(), 3);
    }

    #[test]
    fn no_iteration_needs_an_objective_name() {
        let mut st = Store::default();
        let mut r = Rec::default();
        for _ in 0..5 {
            r.clear();
            r.push(b"status", 200.0);
            st.add_record("auto:kv", &r, 0.0);
        }
        assert!(st.series.is_empty());
        for _ in 0..3 {
            r.clear();
            r.push(b"loss", 0.5);
            st.add_record("auto:kv", &r, 0.0);
        }
        assert_eq!(st.series.len(), 1);
        let out = st.finish();
        assert!(out[0].main);
        assert_eq!(
            out[0].points.iter().map(|p| p.iter).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
    }
}
