//! Secrets recognised by their form wherever they appear: the values of authorization-like HTTP
//! headers (`Authorization: Bearer X`, `X-Api-Key: X`, `Cookie: ...`) and tokens whose prefix
//! and shape give them away (GitHub, GitLab, AWS access key ids, Slack, JWTs, PEM private key
//! blocks, OpenAI/Anthropic `sk-`, Google `AIza`, Hugging Face `hf_`, Stripe, npm, PyPI). Only
//! the secret part is replaced: a header keeps its name and scheme, a PEM block its BEGIN and
//! END lines.
//!
//! Every form is a regular expression; one [`RegexSet`] pass tells which forms occur, so text
//! that holds none (nearly all of it) costs one scan. A pattern's `pre`/`post` groups are kept.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::{Captures, Regex, RegexSet};

use super::REDACTED;

/// Header names whose values are credentials: the well-known ones and any `*-Token`, `*-Key`,
/// `*-Secret`, `*-Password` (`X-Auth-Token`, `X-Api-Key`, `Private-Token`, `X-Goog-Api-Key`).
const HEADER_NAMES: &str = r"(?:proxy-authorization|authorization|set-cookie|cookie|apikey|api-key|[a-z0-9]+(?:-[a-z0-9]+)*-(?:token|key|secret|password|apikey))";

/// Authorization schemes, kept before the redacted credentials (`Bearer ***`).
const SCHEMES: &str =
    r"(?:bearer|basic|token|digest|negotiate|ntlm|dpop|hoba|mutual|aws4-hmac-sha256)[ \t]+";

/// One secret form: its name, its pattern (`<NAMES>`, `<SCHEMES>` stand for [`HEADER_NAMES`],
/// [`SCHEMES`]), and a check on the secret part that a match must pass (for forms whose prefix
/// alone could occur in ordinary words).
struct Form {
    name: &'static str,
    pattern: &'static str,
    check: fn(&str) -> bool,
}

fn any(_: &str) -> bool {
    true
}

/// Upper and lower case letters and a digit: how a random token looks, not an ordinary word
/// such as `sk-learn-compatible-estimators-...`.
fn mixed(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes().any(|b| b.is_ascii_digit())
}

/// Upper and lower case letters (Hugging Face tokens hold letters only).
fn cased(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_uppercase()) && s.bytes().any(|b| b.is_ascii_lowercase())
}

const FORMS: &[Form] = &[
    Form {
        name: "PEM private key block",
        pattern: r"(?s)(?P<pre>-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----).*?(?P<post>-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
        check: any,
    },
    Form {
        name: "authorization-like header",
        // The value runs to the end of the line or a quote (a header inside a shell string).
        pattern: r#"(?i)(?P<pre>(?:^|[^a-z0-9_-]|-H)<NAMES>[ \t]*:[ \t]*(?:<SCHEMES>)?)[^\s"'][^\r\n"']*"#,
        check: any,
    },
    Form {
        name: "GitHub token",
        pattern: r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b",
        check: any,
    },
    Form {
        name: "GitHub fine-grained token",
        pattern: r"\bgithub_pat_[A-Za-z0-9_]{22,}",
        check: any,
    },
    Form {
        name: "GitLab token",
        pattern: r"\bglpat-[A-Za-z0-9_-]{20,}",
        check: any,
    },
    Form {
        name: "AWS access key id",
        pattern: r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        check: any,
    },
    Form {
        name: "Slack token",
        pattern: r"\b(?:xox[abposr]-|xapp-[0-9]+-)[A-Za-z0-9-]{10,}",
        check: any,
    },
    Form {
        name: "Slack webhook",
        pattern: r"(?P<pre>hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]+",
        check: any,
    },
    Form {
        name: "JWT",
        pattern: r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
        check: any,
    },
    Form {
        name: "OpenAI/Anthropic key",
        pattern: r"\bsk-[A-Za-z0-9_-]{32,}",
        check: mixed,
    },
    Form {
        name: "Google API key",
        pattern: r"\bAIza[0-9A-Za-z_-]{35}",
        check: any,
    },
    Form {
        name: "Hugging Face token",
        pattern: r"\bhf_[A-Za-z0-9]{34,}\b",
        check: cased,
    },
    Form {
        name: "Stripe key",
        pattern: r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b",
        check: any,
    },
    Form {
        name: "npm token",
        pattern: r"\bnpm_[A-Za-z0-9]{36}\b",
        check: any,
    },
    Form {
        name: "PyPI token",
        pattern: r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{16,}",
        check: any,
    },
];

struct Compiled {
    set: RegexSet,
    each: Vec<Regex>,
    /// A whole argument that is a header (`-H` / `--header=` optional before it).
    header_arg: Regex,
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        // The patterns are constants checked by the tests: a bad one is a programming error.
        let patterns: Vec<String> = FORMS.iter().map(|f| expand(f.pattern)).collect();
        let each = FORMS
            .iter()
            .zip(&patterns)
            .map(|(f, p)| Regex::new(p).unwrap_or_else(|e| panic!("secret form {}: {e}", f.name)))
            .collect();
        Compiled {
            set: RegexSet::new(&patterns).expect("secret form set"),
            each,
            header_arg: Regex::new(&expand(HEADER_ARG)).expect("header argument pattern"),
        }
    })
}

const HEADER_ARG: &str =
    r"(?is)^(?P<pre>(?:-H[ \t]*|--header=)?[ \t]*<NAMES>[ \t]*:[ \t]*(?:<SCHEMES>)?)\S.*$";

/// A pattern with the header names and schemes put in for `<NAMES>` and `<SCHEMES>`.
fn expand(pattern: &str) -> String {
    pattern
        .replace("<NAMES>", HEADER_NAMES)
        .replace("<SCHEMES>", SCHEMES)
}

/// `s` with every secret recognised by its form replaced by [`REDACTED`]; borrowed when it
/// holds none.
pub fn redact_forms(s: &str) -> Cow<'_, str> {
    let c = compiled();
    let hits = c.set.matches(s);
    if !hits.matched_any() {
        return Cow::Borrowed(s);
    }
    let mut out = s.to_string();
    for i in hits.iter() {
        let check = FORMS[i].check;
        if let Cow::Owned(o) =
            c.each[i].replace_all(&out, |caps: &Captures| keep_parts(caps, check))
        {
            out = o;
        }
    }
    Cow::Owned(out)
}

/// A whole command-line argument that is a header (`Authorization: Digest username="u", ...`,
/// after `-H` or as `--header=...`): its value is hidden up to the end, quotes and all. None
/// when the argument is no credential header.
pub fn redact_header_arg(arg: &str) -> Option<String> {
    let caps = compiled().header_arg.captures(arg)?;
    Some(format!("{}{REDACTED}", &caps["pre"]))
}

/// The match with its secret part (all but the `pre` and `post` groups) replaced, or unchanged
/// when the secret part fails the form's check.
fn keep_parts(caps: &Captures, check: fn(&str) -> bool) -> String {
    let whole = &caps[0];
    let pre = caps.name("pre").map_or("", |m| m.as_str());
    let post = caps.name("post").map_or("", |m| m.as_str());
    let secret = &whole[pre.len()..whole.len() - post.len()];
    if check(secret) {
        format!("{pre}{REDACTED}{post}")
    } else {
        whole.to_string()
    }
}

/// The names of the forms whose pattern matches `s` (for the tests: each form is listed).
#[cfg(test)]
pub(super) fn forms_in(s: &str) -> Vec<&'static str> {
    compiled()
        .set
        .matches(s)
        .iter()
        .map(|i| FORMS[i].name)
        .collect()
}

#[cfg(test)]
pub(super) fn form_names() -> impl Iterator<Item = &'static str> {
    FORMS.iter().map(|f| f.name)
}
