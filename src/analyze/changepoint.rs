//! Change points in a metric's history: E-divisive means (Matteson and James, 2014, with
//! alpha = 1), the method Hunter and Apache Otava use, with a permutation test for significance.
//!
//! The series is split recursively: in every current segment, the split that maximizes the
//! energy statistic Q is found; the best one over all segments is kept when a permutation test
//! (the values of that segment shuffled `permutations` times, a fixed seed so results repeat)
//! finds a larger Q in at most a fraction `sig_level` of the shuffles. Pure functions; O(L²)
//! per segment of length L and permutation.

/// Options of the detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangePointOptions {
    /// Smallest number of points on each side of a change.
    pub min_size: usize,
    /// Permutations of the significance test.
    pub permutations: usize,
    /// A change is kept when its permutation p-value is below this (default 0.01; Hunter uses
    /// 0.001 with a t-test, asv 0.002).
    pub sig_level: f64,
    /// Seed of the permutation test's generator.
    pub seed: u64,
}

impl Default for ChangePointOptions {
    fn default() -> Self {
        ChangePointOptions {
            min_size: 3,
            permutations: 499,
            sig_level: 0.01,
            seed: 0x5eed_cafe,
        }
    }
}

/// A change found in the series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangePoint {
    /// Index of the first point after the change.
    pub index: usize,
    /// Mean of the segment before and after (up to the neighbouring changes).
    pub mean_before: f64,
    pub mean_after: f64,
    /// Permutation p-value.
    pub p: f64,
}

impl ChangePoint {
    /// Relative size of the shift, (after - before) / |before|; None when before is 0.
    pub fn relative_change(&self) -> Option<f64> {
        (self.mean_before != 0.0)
            .then(|| (self.mean_after - self.mean_before) / self.mean_before.abs())
    }
}

/// The smallest segment the detector considers, whatever [`ChangePointOptions::min_size`].
pub const MIN_SEGMENT: usize = 2;

/// Fewest points in which the detector can find a change: `k` a side, where `k` is at least
/// [`ChangePointOptions::min_size`] and large enough for the permutation test to reach
/// `sig_level` at all. Even a perfect step (every value after it above every value before)
/// has a permutation p-value of about 2 / C(2k, k) (the shuffles that split the values as
/// cleanly, in either order): 0.1 for 3 a side, 0.029 for 4, 0.0079 for 5.
pub fn min_points(opts: &ChangePointOptions) -> usize {
    let mut k = opts.min_size.max(MIN_SEGMENT);
    // C(2k, k) grows past any useful 2 / sig_level within a few dozen steps.
    while k < 64 && 2.0 / central_binomial(k) >= opts.sig_level {
        k += 1;
    }
    2 * k
}

/// C(2k, k) as a float.
fn central_binomial(k: usize) -> f64 {
    (1..=k).fold(1.0, |c, i| c * (k + i) as f64 / i as f64)
}

/// Finds the change points of `x`, sorted by index.
pub fn e_divisive(x: &[f64], opts: &ChangePointOptions) -> Vec<ChangePoint> {
    let min = opts.min_size.max(MIN_SEGMENT);
    let mut cuts: Vec<usize> = vec![0, x.len()];
    let mut pvals: Vec<(usize, f64)> = Vec::new();
    let mut rng = XorShift(opts.seed | 1);
    loop {
        // The best split over all current segments.
        let mut best: Option<(usize, usize, usize, f64)> = None; // (start, end, tau, q)
        for w in cuts.windows(2) {
            let (s, e) = (w[0], w[1]);
            if let Some((tau, q)) = best_split(&x[s..e], min) {
                if best.is_none_or(|b| q > b.3) {
                    best = Some((s, e, s + tau, q));
                }
            }
        }
        let Some((s, e, tau, q)) = best else {
            break;
        };
        // Permutation test within that segment.
        let mut seg = x[s..e].to_vec();
        let mut exceed = 0usize;
        // Once this many shuffles beat the split it cannot be significant: stop early, so a
        // series with no change costs a few permutations, not all of them.
        let give_up = (opts.sig_level * (opts.permutations + 1) as f64).ceil() as usize;
        for _ in 0..opts.permutations {
            rng.shuffle(&mut seg);
            if best_split(&seg, min).is_some_and(|(_, qp)| qp >= q) {
                exceed += 1;
                if exceed >= give_up {
                    break;
                }
            }
        }
        let p = (exceed + 1) as f64 / (opts.permutations + 1) as f64;
        if p >= opts.sig_level {
            break;
        }
        cuts.push(tau);
        cuts.sort_unstable();
        pvals.push((tau, p));
    }
    let mut out = Vec::new();
    for i in 1..cuts.len().saturating_sub(1) {
        let (prev, at, next) = (cuts[i - 1], cuts[i], cuts[i + 1]);
        let p = pvals
            .iter()
            .find(|(t, _)| *t == at)
            .map(|(_, p)| *p)
            .unwrap_or(1.0);
        out.push(ChangePoint {
            index: at,
            mean_before: mean(&x[prev..at]),
            mean_after: mean(&x[at..next]),
            p,
        });
    }
    out
}

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        0.0
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

/// The split tau (min ≤ tau ≤ len - min) maximizing the energy statistic
/// Q = mn/(m+n) · (2/(mn) ΣΣ|Xi - Yj| − 1/C(m,2) Σ|Xi - Xk| − 1/C(n,2) Σ|Yj - Yk|).
fn best_split(x: &[f64], min: usize) -> Option<(usize, f64)> {
    let l = x.len();
    if l < 2 * min {
        return None;
    }
    // within_left[t] = Σ_{i<k<t} |xi - xk|; within_right[t] = Σ_{t≤i<k} |xi - xk|. Each step
    // adds one value's distances to all before it, read off a Fenwick tree of counts and sums
    // by rank: O(L log L) where the plain sums were O(L²) (100,000 runs took minutes).
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    let within_left = prefix_distances(x.iter().copied(), &sorted);
    let mut within_right = prefix_distances(x.iter().rev().copied(), &sorted);
    within_right.reverse();
    let total = within_left[l];
    let mut best: Option<(usize, f64)> = None;
    for tau in min..=l - min {
        let (m, n) = (tau as f64, (l - tau) as f64);
        let wl = within_left[tau];
        let wr = within_right[tau];
        let between = total - wl - wr;
        let q = m * n / (m + n)
            * (2.0 * between / (m * n) - wl / (m * (m - 1.0) / 2.0) - wr / (n * (n - 1.0) / 2.0));
        if best.is_none_or(|b| q > b.1) {
            best = Some((tau, q));
        }
    }
    best
}

/// d[t] = Σ_{i<k<t} |vi - vk| for t = 0..=len, over `values` in order; `sorted` holds every
/// value (sorted, deduplicated) for the ranks.
fn prefix_distances(values: impl Iterator<Item = f64>, sorted: &[f64]) -> Vec<f64> {
    let n = sorted.len();
    let (mut count, mut sum) = (vec![0.0f64; n + 1], vec![0.0f64; n + 1]);
    let (mut all_count, mut all_sum) = (0.0, 0.0);
    let mut out = vec![0.0];
    let mut acc = 0.0;
    for v in values {
        // 1-based rank of v; values at or below it are ranks 1..=r.
        let r = sorted.partition_point(|s| s.total_cmp(&v).is_lt()) + 1;
        let (mut c_le, mut s_le, mut i) = (0.0, 0.0, r);
        while i > 0 {
            c_le += count[i];
            s_le += sum[i];
            i &= i - 1;
        }
        acc += v * c_le - s_le + (all_sum - s_le) - v * (all_count - c_le);
        out.push(acc);
        let mut i = r;
        while i <= n {
            count[i] += 1.0;
            sum[i] += v;
            i += i & i.wrapping_neg();
        }
        all_count += 1.0;
        all_sum += v;
    }
    out
}

/// The crate's one small deterministic generator (xorshift64): the permutation test, and the
/// randomized tests (fuzz twins, codec round trips). Seed it with a non-zero value.
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number below `n` (n > 0).
    #[cfg(test)]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn shuffle(&mut self, v: &mut [f64]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Fenwick sums equal the plain O(L²) ones, ties and negative values included.
    #[test]
    fn prefix_distances_match_the_plain_sums() {
        let mut rng = XorShift(12345);
        for len in [0usize, 1, 2, 7, 200] {
            let x: Vec<f64> = (0..len)
                .map(|_| {
                    (rng.next() % 21) as f64 - 10.0 + if rng.next() % 3 == 0 { 0.5 } else { 0.0 }
                })
                .collect();
            let mut sorted = x.clone();
            sorted.sort_by(f64::total_cmp);
            sorted.dedup();
            let got = prefix_distances(x.iter().copied(), &sorted);
            let mut want = vec![0.0];
            for t in 1..=len {
                let add: f64 = x[..t - 1].iter().map(|v| (v - x[t - 1]).abs()).sum();
                want.push(want[t - 1] + add);
            }
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{g} vs {w}");
            }
        }
    }

    /// Deterministic noise in [-1, 1].
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut r = XorShift(seed);
        (0..n)
            .map(|_| (r.next() % 20_001) as f64 / 10_000.0 - 1.0)
            .collect()
    }

    #[test]
    fn finds_a_single_shift_where_it_began() {
        let mut x: Vec<f64> = noise(60, 7).iter().map(|e| 10.0 + 0.2 * e).collect();
        for v in x.iter_mut().skip(35) {
            *v += 2.0; // a 20% slowdown from run 35 on
        }
        let cps = e_divisive(&x, &ChangePointOptions::default());
        assert_eq!(cps.len(), 1, "{cps:?}");
        assert_eq!(cps[0].index, 35);
        let rel = cps[0].relative_change().unwrap_or(0.0);
        assert!((rel - 0.2).abs() < 0.03, "{rel}");
        assert!(cps[0].p < 0.01);
    }

    #[test]
    fn finds_two_shifts() {
        let mut x: Vec<f64> = noise(90, 3).iter().map(|e| 5.0 + 0.1 * e).collect();
        for (i, v) in x.iter_mut().enumerate() {
            if (30..60).contains(&i) {
                *v += 1.0;
            }
        }
        let idx: Vec<usize> = e_divisive(&x, &ChangePointOptions::default())
            .iter()
            .map(|c| c.index)
            .collect();
        assert_eq!(idx, vec![30, 60]);
    }

    #[test]
    fn pure_noise_has_no_change() {
        for seed in 1..6 {
            let x = noise(50, seed);
            let cps = e_divisive(&x, &ChangePointOptions::default());
            assert!(cps.is_empty(), "seed {seed}: {cps:?}");
        }
    }

    #[test]
    fn short_series_are_left_alone() {
        assert!(e_divisive(&[1.0, 5.0, 1.0], &ChangePointOptions::default()).is_empty());
        assert!(e_divisive(&[], &ChangePointOptions::default()).is_empty());
    }

    #[test]
    fn a_perfect_step_is_found_from_min_points_and_not_below() {
        let opts = ChangePointOptions::default();
        // 5 a side: 2 / C(10, 5) = 2 / 252 < 0.01 (and 2 / 70 for 4 a side is not).
        assert_eq!(min_points(&opts), 10);
        let step = |l: usize| -> Vec<f64> {
            (0..l)
                .map(|i| if i < l / 2 { 10.0 } else { 20.0 })
                .collect()
        };
        assert!(e_divisive(&step(9), &opts).is_empty());
        assert_eq!(e_divisive(&step(10), &opts)[0].index, 5);
        let loose = ChangePointOptions {
            sig_level: 0.05,
            ..opts
        };
        // 4 a side: 2 / 70 = 0.029 < 0.05; min_size 3 would allow 6, the test does not.
        assert_eq!(min_points(&loose), 8);
        assert_eq!(e_divisive(&step(8), &loose)[0].index, 4);
        let wide = ChangePointOptions {
            min_size: 7,
            ..opts
        };
        assert_eq!(min_points(&wide), 14);
    }
}
