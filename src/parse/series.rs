//! The series store: protocol and `--progress` points go straight into keyed series; automatic
//! recognizers hand in records (names with values and maybe an iteration) whose values gather
//! per name in *candidates* until the name is confirmed, and only then become series (see
//! [`Group`]). Also ranks names to pick the main series (vocabularies in
//! [`crate::parse::names`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::model::{Direction, DirectionFrom, Point, Role, Series};

use super::names::name_score;

mod groups;
pub use groups::Group;

/// Most values taken from one line.
pub const MAX_VALUES: usize = 64;

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
    /// The iteration is only a counter (`#12`, a progress bar's `12/100`) or the context's (an
    /// earlier marker line): like a record without one, it confirms a name only next to an
    /// objective-like name.
    pub weak: bool,
    /// The iteration is the context's (an earlier line's), not the line's own.
    pub from_ctx: bool,
    /// Bit k set: value k is a parameter of the trial (inside Optuna's `parameters: {...}`).
    pub params: u64,
}

impl Rec {
    pub fn clear(&mut self) {
        self.names.clear();
        self.spans.clear();
        self.values.clear();
        self.iter = None;
        self.weak = false;
        self.from_ctx = false;
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
    /// A running best (`best_x` next to `x` of the same recognizer) was marked down already.
    running_checked: bool,
}

#[derive(Default)]
pub struct Store {
    pub series: Vec<Series>,
    meta: Vec<Meta>,
    index: IdMap,
    /// Series of the last keyed point at each field position of a line (protocol lines usually
    /// repeat the same keys in the same order): a hit skips hashing.
    recent: Vec<usize>,
    /// Candidates of auto records, one per recognizer and name ([`Group`]).
    pub groups: Vec<Group>,
    group_index: IdMap,
    /// Slots of evicted candidates, reused before the list grows.
    free: Vec<usize>,
    /// The candidates of the record being added.
    scratch: Vec<usize>,
    /// The candidate of each position of the last auto record (see `recent`).
    recent_groups: Vec<usize>,
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
            running_checked: false,
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
        // a confirmed name whose values were all missing cells (`-`) has nothing to show; a
        // name the program reports through the protocol (the Python callbacks) is the
        // protocol's: the library's own log line of it (Optuna's `value`) is not a second series
        let protocol: Vec<&str> = (0..self.series.len())
            .filter(|&i| self.meta[i].class == Class::Protocol)
            .map(|i| self.series[i].name.as_str())
            .collect();
        let keep: Vec<bool> = (0..self.series.len())
            .map(|i| {
                self.meta[i].class != Class::Auto
                    || !(self.series[i].points.is_empty()
                        || protocol.contains(&self.series[i].name.as_str()))
            })
            .collect();
        if keep.contains(&false) {
            let mut k = keep.iter();
            self.series.retain(|_| k.next().copied().unwrap_or(true));
            let mut k = keep.iter();
            self.meta.retain(|_| k.next().copied().unwrap_or(true));
        }
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
            let named = super::names::infer_direction(&out[m].name);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A name reported through the protocol and also recognized in the library's own log
    /// (Optuna's `value` under the Python callback) is one series, the protocol's.
    #[test]
    fn a_protocol_name_is_not_repeated_by_recognition() {
        let mut st = Store::default();
        let mut r = Rec::default();
        for i in 0..5 {
            st.add_keyed(
                0,
                Class::Protocol,
                "protocol",
                None,
                b"value",
                Some(i),
                0.0,
                1.0,
                None,
            );
            r.clear();
            r.push(b"value", 1.0);
            r.push(b"other", 2.0);
            r.iter = Some(i);
            st.add_record("auto:sentence", &r, 0.0);
        }
        let out = st.finish();
        let names: Vec<(&str, &str)> = out
            .iter()
            .map(|s| (s.name.as_str(), s.source.as_str()))
            .collect();
        assert_eq!(names, [("value", "protocol"), ("other", "auto:sentence")]);
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
