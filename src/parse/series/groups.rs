//! Candidates: the values of one name from one recognizer (`loss` of `auto:json`), gathered until
//! the name is confirmed and becomes a series.
//!
//! Confirmation rule (precision guard): a name becomes a series once its last 3 records either
//! carry strictly increasing iterations, or carry none (or only a counter, see [`Rec::weak`]) and
//! sit next to an objective-like name (`loss`, `best`, `score`, …; see
//! [`crate::parse::names::objective_like`]). Its first 3 records then become its first points.
//!
//! Names are confirmed one by one, not per key set, so lines whose keys vary still form their
//! series: a key present only every Nth line (`val_loss` each epoch) is confirmed on its own
//! lines, and a key unique to each line (`id_3`, a timestamp) never repeats and never is. Once
//! confirmed, a name takes only records of the kind it was confirmed with (with or without an
//! iteration), so a closing `done best=…` line without iteration adds nothing to a `best` that
//! came with `gen=`. A record with the same iteration as the name's last one replaces it (the
//! terminal's view: a redrawn progress bar, or value lines under one `Epoch 5` marker).
//!
//! Candidates are capped ([`MAX_GROUPS`]): when full, those seen only once are evicted, so
//! arbitrary output costs bounded memory and one-off keys do not crowd out later real ones.

use super::{fnv, present, Class, Rec, Store, FNV0};
use crate::model::Point;
use crate::parse::names::objective_like;

/// Most candidates kept (confirmed ones included).
pub const MAX_GROUPS: usize = 512;
/// Records needed to confirm a name.
const CONFIRM: usize = 3;

/// One record's share of a candidate that is not confirmed yet.
struct Entry {
    iter: Option<i64>,
    t_s: f64,
    value: f64,
    /// Counts towards confirmation (a true iteration, or an objective-like name beside it).
    ok: bool,
    /// The iteration was the context's.
    from_ctx: bool,
}

/// The values of one name of one recognizer.
pub struct Group {
    pub source: &'static str,
    name: String,
    hash: u64,
    objective_like: bool,
    window: Vec<Entry>,
    pub promoted: bool,
    /// The series, once promoted.
    series: usize,
    /// Whether the name was confirmed by iterations (then it takes only records with one).
    by_iter: bool,
    counter: i64,
    last_iter: Option<i64>,
    /// The last point's iteration was the context's.
    last_from_ctx: bool,
    seen: u32,
    /// A value of the name was a trial's parameter (`Rec::params`).
    params: bool,
}

impl Store {
    /// Feeds one auto record; returns a candidate of it (one that took its value as a point if
    /// any did, else its first), or None when none could be kept.
    pub fn add_record(&mut self, source: &'static str, rec: &Rec, t_s: f64) -> Option<usize> {
        if rec.is_empty() {
            return None;
        }
        let mut ids = std::mem::take(&mut self.scratch);
        ids.clear();
        let mut obj = false;
        for k in 0..rec.len() {
            // lines of one shape repeat their names in the same order: a hit skips hashing
            let g = match self.recent_groups.get(k) {
                Some(&g)
                    if self.groups.get(g).is_some_and(|grp| {
                        grp.source == source && grp.name.as_bytes() == rec.name(k)
                    }) =>
                {
                    Some(g)
                }
                _ => self.candidate(source, rec.name(k)),
            };
            if let Some(g) = g {
                if self.recent_groups.len() <= k {
                    self.recent_groups.resize(k + 1, usize::MAX);
                }
                self.recent_groups[k] = g;
                obj |= self.groups[g].objective_like;
                self.groups[g].params |= k < 64 && rec.params & (1u64 << k) != 0;
            }
            ids.push(g.unwrap_or(usize::MAX));
        }
        let ok = obj || (rec.iter.is_some() && !rec.weak);
        let mut taken = None;
        for (k, &g) in ids.iter().enumerate() {
            let e = Entry {
                iter: rec.iter,
                t_s,
                value: rec.values[k],
                ok,
                from_ctx: rec.from_ctx,
            };
            if g != usize::MAX && self.push(g, e) {
                taken = taken.or(Some(g));
            }
        }
        let first = ids.iter().copied().find(|&g| g != usize::MAX);
        self.scratch = ids;
        taken.or(first)
    }

    /// The candidate of `name` from `source`, created if new (None when the cap is reached and
    /// nothing can be evicted).
    fn candidate(&mut self, source: &'static str, name: &[u8]) -> Option<usize> {
        let h = fnv(fnv(FNV0, source.as_bytes()), name);
        if let Some(&g) = self.group_index.get(&h) {
            let grp = &self.groups[g];
            // a hash collision: ignore the value rather than mix names
            return (grp.source == source && grp.name.as_bytes() == name).then_some(g);
        }
        if self.free.is_empty() && self.groups.len() >= MAX_GROUPS {
            self.evict();
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let grp = Group {
            source,
            objective_like: objective_like(&name),
            name,
            hash: h,
            window: Vec::new(),
            promoted: false,
            series: 0,
            by_iter: false,
            counter: 0,
            last_iter: None,
            last_from_ctx: false,
            seen: 0,
            params: false,
        };
        let g = match self.free.pop() {
            Some(g) => {
                self.groups[g] = grp;
                g
            }
            None if self.groups.len() < MAX_GROUPS => {
                self.groups.push(grp);
                self.groups.len() - 1
            }
            None => return None,
        };
        self.group_index.insert(h, g);
        Some(g)
    }

    /// Frees the slots of unconfirmed candidates seen only once.
    fn evict(&mut self) {
        for g in 0..self.groups.len() {
            let grp = &mut self.groups[g];
            if !grp.promoted && grp.seen == 1 {
                grp.seen = 0;
                grp.name.clear(); // (no record's name is empty: the slot is no hit for `recent`)
                self.group_index.remove(&grp.hash);
                self.free.push(g);
            }
        }
    }

    /// One value of candidate `g`; true when it became (or replaced) a point. A value at the
    /// iteration of the last one replaces it, unless the new one's iteration is only the
    /// context's and the last one's was its line's own (a closing `done best=…` line after
    /// `gen=9 best=…` is not a redraw of generation 9).
    fn push(&mut self, g: usize, e: Entry) -> bool {
        let grp = &mut self.groups[g];
        grp.seen = grp.seen.saturating_add(1);
        let Entry {
            iter, t_s, value, ..
        } = e;
        let same_iter = iter.is_some() && grp.last_iter == iter;
        if same_iter && e.from_ctx && !grp.last_from_ctx {
            return false;
        }
        if grp.promoted {
            if grp.by_iter && iter.is_none() {
                return false;
            }
            // confirmed without iterations: a line that has one (`'epoch': 1.0` among
            // `'epoch': 0.95`s) still counts in order
            let iter = if grp.by_iter { iter } else { None };
            let same_iter = same_iter && grp.by_iter;
            let si = grp.series;
            let it = iter.unwrap_or(grp.counter);
            grp.counter += 1;
            let redraw = same_iter;
            grp.last_iter = iter.or(grp.last_iter);
            grp.last_from_ctx = e.from_ctx;
            if !present(value) {
                return redraw;
            }
            let points = &mut self.series[si].points;
            match points.last_mut() {
                Some(p) if redraw && p.iter == it => (p.t_s, p.value) = (t_s, value),
                _ => points.push(Point {
                    iter: it,
                    t_s,
                    value,
                }),
            }
            return true;
        }
        grp.last_iter = iter.or(grp.last_iter);
        grp.last_from_ctx = e.from_ctx;
        match grp.window.last_mut() {
            Some(last) if same_iter && last.iter == iter => *last = e,
            _ => {
                if grp.window.len() == CONFIRM {
                    grp.window.remove(0);
                }
                grp.window.push(e);
            }
        }
        if grp.window.len() == CONFIRM && confirmed(&grp.window) {
            self.promote(g);
            return true;
        }
        false
    }

    fn promote(&mut self, g: usize) {
        let name = self.groups[g].name.clone();
        let source = self.groups[g].source;
        let si = self.create(Class::Auto, source.to_string(), name, None);
        if self.groups[g].params {
            self.series[si].role = Some(crate::model::Role::Parameter);
            self.meta[si].score = 0;
            if self.main_hint == Some(si) {
                self.main_hint = None;
            }
        }
        let grp = &mut self.groups[g];
        grp.promoted = true;
        grp.series = si;
        grp.by_iter = grp.window[0].iter.is_some();
        let window = std::mem::take(&mut grp.window);
        for e in window {
            let grp = &mut self.groups[g];
            let iter = e.iter.unwrap_or(grp.counter);
            grp.counter += 1;
            grp.last_iter = e.iter.or(grp.last_iter);
            if present(e.value) {
                self.series[si].points.push(Point {
                    iter,
                    t_s: e.t_s,
                    value: e.value,
                });
            }
        }
        self.mark_running_best(si);
    }

    /// A running best (`best_x` beside `x` from the same recognizer) is not the main candidate.
    fn mark_running_best(&mut self, si: usize) {
        let source = self.series[si].source.clone();
        let same = |s: &crate::model::Series, m: &super::Meta| {
            m.class == Class::Auto && s.source == source
        };
        for i in 0..self.series.len() {
            if !same(&self.series[i], &self.meta[i]) || self.meta[i].running_checked {
                continue;
            }
            let lower = self.series[i].name.to_ascii_lowercase();
            let Some(rest) = lower
                .strip_prefix("best_")
                .or_else(|| lower.strip_prefix("best "))
            else {
                continue;
            };
            let plain = (0..self.series.len()).any(|j| {
                same(&self.series[j], &self.meta[j])
                    && self.series[j].name.eq_ignore_ascii_case(rest)
            });
            if plain {
                self.meta[i].running_checked = true;
                self.meta[i].score -= 30;
            }
        }
        if let Some(h) = self.main_hint.take() {
            self.update_hint(h);
        }
        for i in 0..self.series.len() {
            self.update_hint(i);
        }
    }

    /// When a recognizer has both `min` and `max` series, favours the one matching its trend
    /// (the mean's, or else the pair's own), and gives it that direction.
    pub(super) fn min_max_trend(&mut self) {
        let mut sources: Vec<String> = Vec::new();
        for (s, m) in self.series.iter().zip(&self.meta) {
            if m.class == Class::Auto && !sources.contains(&s.source) {
                sources.push(s.source.clone());
            }
        }
        for source in sources {
            let find = |want: &[&str]| {
                (0..self.series.len()).find(|&i| {
                    self.meta[i].class == Class::Auto
                        && self.series[i].source == source
                        && want.contains(&self.series[i].name.to_ascii_lowercase().as_str())
                })
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
                t if t > 0.0 => (mx, crate::model::Direction::Maximize),
                t if t < 0.0 => (mn, crate::model::Direction::Minimize),
                _ => continue,
            };
            self.meta[i].score += 3;
            self.series[i].direction = Some(d);
            self.series[i].direction_from = Some(crate::model::DirectionFrom::Trend);
        }
    }
}

fn confirmed(w: &[Entry]) -> bool {
    if !w.iter().all(|e| e.ok) {
        return false;
    }
    if w.iter().all(|e| e.iter.is_some()) {
        w.windows(2).all(|p| p[0].iter < p[1].iter)
    } else {
        w.iter().all(|e| e.iter.is_none())
    }
}
