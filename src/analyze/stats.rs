//! Descriptive statistics and the two-sample tests behind `perfmon compare`'s verdicts: Welch's
//! t-test and the Mann-Whitney U test, plus hyperfine's outlier rule. Pure functions on slices;
//! no I/O, no knowledge of runs.

/// Mean, or None for an empty slice.
pub fn mean(x: &[f64]) -> Option<f64> {
    (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64)
}

/// Sample standard deviation (n - 1 in the denominator); None with fewer than 2 values.
pub fn stddev(x: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let m = mean(x)?;
    let ss: f64 = x.iter().map(|v| (v - m) * (v - m)).sum();
    Some((ss / (x.len() - 1) as f64).sqrt())
}

/// Median, or None for an empty slice. NaN values sort last.
pub fn median(x: &[f64]) -> Option<f64> {
    if x.is_empty() {
        return None;
    }
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Summary of one metric over the runs of a group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation; 0 for a single run.
    pub stddev: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// Summarizes the finite values of `x`; None when there are none.
pub fn summarize(x: &[f64]) -> Option<Summary> {
    let v: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    Some(Summary {
        n: v.len(),
        mean: mean(&v)?,
        stddev: stddev(&v).unwrap_or(0.0),
        median: median(&v)?,
        min: v.iter().copied().fold(f64::INFINITY, f64::min),
        max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// Modified z-score threshold above which hyperfine calls a value an outlier (Iglewicz and
/// Hoaglin's 3.5 is stricter; hyperfine uses 14.826 = 1.4826 × 10 on |x - median| / MAD).
pub const OUTLIER_THRESHOLD: f64 = 14.826;

/// Indices of the outliers of `x` by the modified z-score |x - median| / MAD > 14.826 / 1.4826,
/// as hyperfine flags them. Nothing is an outlier when the MAD is 0.
pub fn outliers(x: &[f64]) -> Vec<usize> {
    let Some(med) = median(x) else {
        return Vec::new();
    };
    let dev: Vec<f64> = x.iter().map(|v| (v - med).abs()).collect();
    let Some(mad) = median(&dev) else {
        return Vec::new();
    };
    if mad <= 0.0 {
        return Vec::new();
    }
    // The modified z-score scales the MAD by 1.4826 to estimate sigma.
    dev.iter()
        .enumerate()
        .filter(|(_, d)| **d / (1.4826 * mad) > OUTLIER_THRESHOLD / 1.4826)
        .map(|(i, _)| i)
        .collect()
}

/// The result of a two-sample test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// The statistic (t for Welch, U of the first sample for Mann-Whitney).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Welch's unequal-variance t-test, two-sided. None with fewer than 2 values a side; when both
/// sides have zero variance, p is 1 for equal means and 0 otherwise.
pub fn welch_t_test(a: &[f64], b: &[f64]) -> Option<TestResult> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (ma, mb) = (mean(a)?, mean(b)?);
    let (va, vb) = (stddev(a)?.powi(2), stddev(b)?.powi(2));
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let se2 = va / na + vb / nb;
    if se2 <= 0.0 {
        let p = if ma == mb { 1.0 } else { 0.0 };
        return Some(TestResult { statistic: 0.0, p });
    }
    let t = (ma - mb) / se2.sqrt();
    let df = se2 * se2 / ((va / na).powi(2) / (na - 1.0) + (vb / nb).powi(2) / (nb - 1.0));
    Some(TestResult {
        statistic: t,
        p: student_t_two_sided_p(t, df),
    })
}

/// Two-sided p-value of Student's t distribution with `df` degrees of freedom.
pub fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    let x = df / (df + t * t);
    reg_incomplete_beta(df / 2.0, 0.5, x).clamp(0.0, 1.0)
}

/// The Mann-Whitney U test, two-sided: exact distribution when both samples are small and have
/// no ties, else the normal approximation with tie correction and continuity correction.
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> Option<TestResult> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (n1, n2) = (a.len(), b.len());
    let mut all: Vec<(f64, usize)> = a
        .iter()
        .map(|v| (*v, 0))
        .chain(b.iter().map(|v| (*v, 1)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Mid-ranks for ties.
    let n = all.len();
    let mut ranks = vec![0.0; n];
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for rank in ranks.iter_mut().take(j + 1).skip(i) {
            *rank = r;
        }
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let r1: f64 = all
        .iter()
        .zip(&ranks)
        .filter(|((_, side), _)| *side == 0)
        .map(|(_, r)| r)
        .sum();
    let u1 = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let (f1, f2) = (n1 as f64, n2 as f64);
    let p = if tie_term == 0.0 && n1 * n2 <= 400 {
        exact_u_two_sided(u1, n1, n2)
    } else {
        let mu = f1 * f2 / 2.0;
        let nn = f1 + f2;
        let var = f1 * f2 / 12.0 * ((nn + 1.0) - tie_term / (nn * (nn - 1.0)));
        if var <= 0.0 {
            1.0
        } else {
            let z = ((u1 - mu).abs() - 0.5).max(0.0) / var.sqrt();
            (2.0 * normal_sf(z)).min(1.0)
        }
    };
    Some(TestResult { statistic: u1, p })
}

/// Exact two-sided p of U for samples of sizes n1, n2 without ties: counts of rank sums by
/// dynamic programming over the number of ways to place the first sample's values.
fn exact_u_two_sided(u: f64, n1: usize, n2: usize) -> f64 {
    let max_u = n1 * n2;
    // ways[i][j][k] folded: count of arrangements of i first-sample and j second-sample values
    // with U = k, built one value at a time: dp over (i, j) with a vector over k.
    let mut dp = vec![vec![Vec::<f64>::new(); n2 + 1]; n1 + 1];
    for (i, row) in dp.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = vec![0.0; i * j + 1];
        }
    }
    for i in 0..=n1 {
        for j in 0..=n2 {
            if i == 0 || j == 0 {
                dp[i][j][0] = 1.0;
                continue;
            }
            // The largest value belongs to the first sample (it beats all j others: U += j) or
            // to the second.
            let mut cell = vec![0.0; i * j + 1];
            for (k, c) in cell.iter_mut().enumerate() {
                let from_first = if k >= j {
                    dp[i - 1][j].get(k - j).copied().unwrap_or(0.0)
                } else {
                    0.0
                };
                let from_second = dp[i][j - 1].get(k).copied().unwrap_or(0.0);
                *c = from_first + from_second;
            }
            dp[i][j] = cell;
        }
    }
    let counts = &dp[n1][n2];
    let total: f64 = counts.iter().sum();
    let lo = u.min(max_u as f64 - u);
    let tail: f64 = counts
        .iter()
        .enumerate()
        .filter(|(k, _)| (*k as f64) <= lo + 1e-9)
        .map(|(_, c)| c)
        .sum();
    (2.0 * tail / total).min(1.0)
}

/// Upper tail of the standard normal distribution.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

// The special functions come from statrs (a port of Math.NET Numerics', tested there against
// published tables); the tests built on them above (Welch, Mann-Whitney exact and normal) stay
// perfmon's own.

/// Complementary error function (statrs: rational approximations, within 1.1e-10 relative of
/// libm's erfc wherever the result is above 1e-40; the hand-written Numerical Recipes `erfcc`
/// it replaced was good to 1.2e-7 relative).
fn erfc(x: f64) -> f64 {
    statrs::function::erf::erfc(x)
}

/// Regularized incomplete beta function I_x(a, b): 0 for x <= 0, 1 for x >= 1, NaN where a or
/// b is not positive or x is NaN (statrs's continued fraction, Numerical Recipes' `betai`).
pub fn reg_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    statrs::function::beta::checked_beta_reg(a, b, x).unwrap_or(f64::NAN)
}

/// ln Γ(x) for x > 0 (statrs: Lanczos approximation, g = 10.900511, 11 terms, reflection below
/// 0.5).
pub fn ln_gamma(x: f64) -> f64 {
    statrs::function::gamma::ln_gamma(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn descriptive() {
        let x = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&x), Some(5.0));
        assert!(close(stddev(&x).unwrap_or(0.0), 2.138_089_935, 1e-9));
        assert_eq!(median(&x), Some(4.5));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(mean(&[]), None);
        let s = summarize(&[1.0, f64::NAN, 3.0]).unwrap_or_else(|| panic!("summary"));
        assert_eq!((s.n, s.min, s.max, s.median), (2, 1.0, 3.0, 2.0));
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        for (n, f) in [(1.0, 1.0), (5.0, 24.0), (10.0, 362_880.0_f64)] {
            assert!(close(ln_gamma(n), f.ln(), 1e-10), "{n}");
        }
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-10
        ));
    }

    #[test]
    fn normal_tail_reference_values() {
        // Φ(-1.959963984540054) = 0.025 and erfc(0.5) = 0.4795001221869535 (to 16 digits);
        // statrs is within 1.2e-12 and 5e-11 of them (the hand-written erfcc: 2e-9 and 3e-8).
        assert!(close(normal_sf(1.959_963_984_540_054), 0.025, 1e-11));
        assert!(close(normal_sf(-1.959_963_984_540_054), 0.975, 1e-11));
        assert!(close(erfc(0.5), 0.479_500_122_186_953_5, 1e-10));
        assert_eq!(normal_sf(0.0), 0.5);
        assert!(reg_incomplete_beta(0.0, 1.0, 0.5).is_nan());
        assert_eq!(reg_incomplete_beta(2.0, 3.0, 0.0), 0.0);
        assert_eq!(reg_incomplete_beta(2.0, 3.0, 1.0), 1.0);
        // I_0.5(2, 3) = 11/16.
        assert!(close(
            reg_incomplete_beta(2.0, 3.0, 0.5),
            11.0 / 16.0,
            1e-14
        ));
    }

    #[test]
    fn student_t_critical_values() {
        // Two-sided 5% critical values from the t table.
        for (df, t) in [(1.0, 12.706), (5.0, 2.571), (10.0, 2.228), (30.0, 2.042)] {
            let p = student_t_two_sided_p(t, df);
            assert!(close(p, 0.05, 5e-4), "df {df}: p {p}");
        }
        assert!(close(student_t_two_sided_p(0.0, 7.0), 1.0, 1e-12));
    }

    #[test]
    fn welch_reference_values() {
        // Reference: the Welch example 1 of Wikipedia: t = -2.46, df = 24.98, p = 0.021.
        let a = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let b = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        let r = welch_t_test(&a, &b).unwrap_or_else(|| panic!("welch"));
        assert!(close(r.statistic, -2.46, 0.01), "t {}", r.statistic);
        assert!(close(r.p, 0.0210, 0.001), "p {}", r.p);
        assert!(welch_t_test(&[1.0], &[2.0, 3.0]).is_none());
        let same = welch_t_test(&[1.0, 1.0], &[1.0, 1.0]).unwrap_or_else(|| panic!("same"));
        assert_eq!(same.p, 1.0);
    }

    #[test]
    fn mann_whitney_exact_small_samples() {
        let r = mann_whitney_u(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap_or_else(|| panic!());
        assert_eq!(r.statistic, 0.0);
        assert!(close(r.p, 0.1, 1e-12), "{}", r.p);
        let r = mann_whitney_u(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0])
            .unwrap_or_else(|| panic!());
        // 2 / C(10,5) = 2/252.
        assert!(close(r.p, 2.0 / 252.0, 1e-12), "{}", r.p);
        let r = mann_whitney_u(&[1.0, 3.0, 5.0], &[2.0, 4.0, 6.0]).unwrap_or_else(|| panic!());
        assert!(r.p > 0.5);
    }

    #[test]
    fn mann_whitney_with_ties_uses_normal_approximation() {
        let a = [1.0, 2.0, 2.0, 3.0, 3.0, 3.0];
        let b = [3.0, 4.0, 4.0, 5.0, 5.0, 6.0];
        let r = mann_whitney_u(&a, &b).unwrap_or_else(|| panic!());
        assert!(r.p < 0.05 && r.p > 0.001, "{}", r.p);
    }

    #[test]
    fn outliers_like_hyperfine() {
        let x = [1.0, 1.01, 0.99, 1.02, 0.98, 1.0, 5.0];
        assert_eq!(outliers(&x), vec![6]);
        assert!(outliers(&[1.0, 1.0, 1.0]).is_empty());
    }
}
