//! The CPUs the two sides of a comparison ran on. Times measured on different CPU models are not
//! comparable (a slower or faster machine looks like a regression or an improvement), so
//! `compare` warns when the runs of its sides ran on more than one model, and notes differing
//! core counts in the same line. A pure function of the runs' recorded hosts.

use crate::model::HostInfo;

/// One kind of CPU (model and core count) and the runs of a side that ran on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpu {
    /// As recorded; empty when the host did not say (never taken for a different model).
    pub model: String,
    /// Logical CPUs of the host; 0 when unknown.
    pub cores: u32,
    /// Run ids, in the side's order.
    pub runs: Vec<i64>,
}

/// The CPUs of both sides, each in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideCpus {
    pub base: Vec<Cpu>,
    pub cand: Vec<Cpu>,
}

/// The kinds of CPU of one side's runs `(id, host)`.
fn cpus_of<'a>(runs: impl IntoIterator<Item = (i64, &'a HostInfo)>) -> Vec<Cpu> {
    let mut out: Vec<Cpu> = Vec::new();
    for (id, h) in runs {
        let model = h.cpu_model.trim();
        match out
            .iter_mut()
            .find(|c| c.model == model && c.cores == h.cores)
        {
            Some(c) => c.runs.push(id),
            None => out.push(Cpu {
                model: model.to_string(),
                cores: h.cores,
                runs: vec![id],
            }),
        }
    }
    out
}

/// How many distinct known values `key` takes over both sides (0 and "" are unknown).
fn distinct<T: PartialEq + Default>(s: &SideCpus, key: impl Fn(&Cpu) -> T) -> usize {
    let mut seen: Vec<T> = Vec::new();
    for v in s.base.iter().chain(&s.cand).map(key) {
        if v != T::default() && !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.len()
}

impl SideCpus {
    /// The CPUs of the base's and the candidate's runs, each an `(id, host)`.
    pub fn of<'a>(
        base: impl IntoIterator<Item = (i64, &'a HostInfo)>,
        cand: impl IntoIterator<Item = (i64, &'a HostInfo)>,
    ) -> SideCpus {
        SideCpus {
            base: cpus_of(base),
            cand: cpus_of(cand),
        }
    }

    /// Whether the runs of the two sides ran on more than one known CPU model (between the
    /// sides or within one): their times are not comparable.
    pub fn models_differ(&self) -> bool {
        distinct(self, |c| c.model.clone()) > 1
    }

    /// Whether the runs ran on hosts of more than one known core count.
    pub fn cores_differ(&self) -> bool {
        distinct(self, |c| c.cores) > 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(model: &str, cores: u32) -> HostInfo {
        HostInfo {
            hostname: "h".into(),
            os: String::new(),
            kernel: String::new(),
            cpu_model: model.into(),
            cores,
            memory_bytes: 0,
            gpus: vec![],
            gpu_driver: None,
        }
    }

    fn of(base: &[(i64, HostInfo)], cand: &[(i64, HostInfo)]) -> SideCpus {
        SideCpus::of(
            base.iter().map(|(i, h)| (*i, h)),
            cand.iter().map(|(i, h)| (*i, h)),
        )
    }

    #[test]
    fn the_same_model_on_both_sides_is_comparable() {
        let x = host("Intel(R) Xeon(R) CPU @ 2.20GHz", 8);
        let s = of(&[(1, x.clone()), (2, x.clone())], &[(3, x.clone())]);
        assert!(!s.models_differ() && !s.cores_differ());
        assert_eq!(s.base.len(), 1);
        assert_eq!(s.base[0].runs, [1, 2]);
        assert_eq!(s.cand[0].runs, [3]);
    }

    #[test]
    fn different_models_between_or_within_sides_differ() {
        let (a, b) = (host("AMD EPYC 7313", 16), host("Apple M2", 8));
        let between = of(&[(1, a.clone())], &[(2, b.clone())]);
        assert!(between.models_differ() && between.cores_differ());
        let mixed = of(&[(1, a.clone())], &[(2, a.clone()), (3, b.clone())]);
        assert!(mixed.models_differ());
        assert_eq!(mixed.cand.len(), 2);
        assert_eq!(mixed.cand[1].runs, [3]);
        // The same model with another core count is noted, not a different model.
        let cores = of(&[(1, a.clone())], &[(2, host("AMD EPYC 7313", 32))]);
        assert!(!cores.models_differ() && cores.cores_differ());
    }

    #[test]
    fn an_unknown_model_is_not_a_different_one() {
        let s = of(&[(1, host("", 0))], &[(2, host("AMD EPYC 7313", 16))]);
        assert!(!s.models_differ() && !s.cores_differ());
        assert_eq!(s.base[0].model, "");
    }
}
