//! Redaction of a whole run: what `perfmon run` stores is redacted as it is read (the command,
//! environment values and tags in `record::meta`, process command lines in `collect::procfs`,
//! the output's text through [`redact_output`]); [`redact_record`] applies the same rules to a
//! run that comes from elsewhere (`perfmon import` of a run recorded by an older perfmon, whose
//! rules caught less), so a shared store never receives what today's rules hide.

use crate::model::RunRecord;

use super::forms::{is_header_word, is_scheme};
use super::{redact_args, redact_named, redact_text, REDACTED};

/// The command's printed text that is stored as printed: marks and the kept examples of
/// malformed protocol lines. True when anything changed.
pub fn redact_output(rec: &mut RunRecord) -> bool {
    let mut changed = false;
    for m in &mut rec.marks {
        changed |= set(&mut m.text, redact_text);
    }
    for e in &mut rec.diagnostics.malformed_examples {
        changed |= set(e, redact_text);
    }
    changed
}

/// Redacts every text of a run by today's rules; true when anything changed. A run recorded by
/// this perfmon comes back unchanged (redaction is idempotent).
pub fn redact_record(rec: &mut RunRecord) -> bool {
    let m = &mut rec.meta;
    let command = redact_args(&m.command);
    let mut changed = command != m.command;
    m.command = command;
    if let Some(name) = &mut m.name {
        changed |= set(name, redact_text);
    }
    for (k, v) in m.tags.iter_mut().chain(m.env.iter_mut()) {
        changed |= set(v, |v| redact_named(k, v));
        changed |= set(k, redact_text);
    }
    for p in &mut rec.processes {
        changed |= set(&mut p.cmdline, redact_joined);
    }
    redact_output(rec) || changed
}

/// Replaces `slot` by `f(slot)`; true when that differs.
fn set(slot: &mut String, f: impl FnOnce(&str) -> String) -> bool {
    let new = f(slot);
    let changed = new != *slot;
    *slot = new;
    changed
}

/// A command line stored as its arguments joined by spaces: redacted word by word as arguments
/// (the boundaries are lost, so a header's value is its next word, after its scheme if any).
fn redact_joined(line: &str) -> String {
    let words: Vec<String> = line.split(' ').map(str::to_string).collect();
    let mut out = redact_args(&words);
    let mut i = 0;
    while i + 1 < out.len() {
        if is_header_word(&out[i]) {
            let scheme = is_scheme(&out[i + 1]) && i + 2 < out.len();
            let at = if scheme { i + 2 } else { i + 1 };
            out[at] = REDACTED.to_string();
            i = at;
        }
        i += 1;
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mark;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    /// The issue's command line and a `--token X`.
    fn issue() -> Vec<String> {
        let mut argv = strings(crate::redact::tests::ISSUE_ARGV);
        argv.extend(strings(&["--token", "t0k", "--epochs", "3"]));
        argv
    }

    /// A run as an older perfmon stored it: the issue's command line as it was, in the command
    /// and in the root process's command line, a tag, an environment value and a mark.
    fn old_record() -> RunRecord {
        let mut rec = crate::report::fixture::record();
        rec.meta.command = issue();
        rec.processes[0].cmdline = issue().join(" ");
        rec.meta.tags = vec![(
            "gh".into(),
            "gho_16C7e42F292c6912E7710c838347Ae178B4a".into(),
        )];
        rec.meta.env = vec![(
            "HOOK".into(),
            "https://hooks.slack.com/services/T0/B0/XyZ".into(),
        )];
        rec.marks.push(Mark {
            t_s: 1.0,
            text: r#"config {"api_key": "k1", "lr": "0.1"}"#.into(),
        });
        rec
    }

    #[test]
    fn an_old_record_loses_its_secrets_and_only_them() {
        let mut rec = old_record();
        assert!(redact_record(&mut rec));
        let m = &rec.meta;
        assert_eq!(
            m.command.join(" "),
            "sh -c true -H Authorization: Bearer *** -H X-Api-Key: *** *** *** --token *** --epochs 3"
        );
        assert_eq!(rec.processes[0].cmdline, m.command.join(" "));
        assert_eq!(m.tags, [("gh".to_string(), "***".to_string())]);
        assert_eq!(
            m.env,
            [(
                "HOOK".to_string(),
                "https://hooks.slack.com/services/***".to_string()
            )]
        );
        assert_eq!(
            rec.marks.last().map(|k| k.text.as_str()),
            Some(r#"config {"api_key": "***", "lr": "0.1"}"#)
        );
    }

    /// Redaction is idempotent: a run redacted once (as `perfmon run` stores it) and a run with
    /// nothing secret come back as they were, and are said to be unchanged.
    #[test]
    fn a_redacted_or_clean_record_comes_back_unchanged() {
        let clean = crate::report::fixture::record();
        let mut rec = clean.clone();
        assert!(!redact_record(&mut rec));
        assert_eq!(rec, clean);
        let mut once = old_record();
        redact_record(&mut once);
        let mut twice = once.clone();
        assert!(!redact_record(&mut twice));
        assert_eq!(twice, once);
    }
}
