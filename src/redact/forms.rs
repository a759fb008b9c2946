//! Secrets recognised by their form wherever they appear: the values of authorization-like HTTP
//! headers (`Authorization: Bearer X`, `X-Api-Key: X`, `Cookie: ...`) and tokens whose prefix
//! and shape give them away (GitHub, GitLab, AWS access key ids, Slack, JWTs, PEM private key
//! blocks, OpenAI/Anthropic `sk-`, Google `AIza`, Hugging Face `hf_`, Stripe, npm, PyPI). Only
//! the secret part is replaced: a header keeps its name and scheme, a PEM block its BEGIN and
//! END lines.
//!
//! Every form is a regular expression (its `pre`/`post` groups are kept) behind literal hints:
//! a form's expression is compiled and run only on text holding one of its hints, so text with
//! no secret (nearly all of it, and the command line read before the command starts) costs a
//! few substring searches and compiles nothing (all forms compiled at once cost ~4 ms).

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::{Captures, Regex};

use super::REDACTED;

/// Header names whose values are credentials: the well-known ones and any `*-Token`, `*-Key`,
/// `*-Secret`, `*-Password` (`X-Auth-Token`, `X-Api-Key`, `Private-Token`, `X-Goog-Api-Key`).
const HEADER_NAMES: &str = r"(?:proxy-authorization|authorization|set-cookie|cookie|apikey|api-key|[a-z0-9]+(?:-[a-z0-9]+)*-(?:token|key|secret|password|apikey))";

/// Authorization schemes, kept before the redacted credentials (`Bearer ***`).
const SCHEMES: &str =
    r"(?:bearer|basic|token|digest|negotiate|ntlm|dpop|hoba|mutual|aws4-hmac-sha256)";

/// One secret form: its name, the literals one of which text must hold for the form to be
/// tried (matched case-insensitively for headers, see [`Hints`]), its pattern (`<NAMES>`,
/// `<SCHEMES>` stand for [`HEADER_NAMES`], [`SCHEMES`]), and a check on the secret part that a
/// match must pass (for forms whose prefix alone could occur in ordinary words).
struct Form {
    name: &'static str,
    hints: Hints,
    pattern: &'static str,
    check: fn(&str) -> bool,
}

/// When a form is worth trying.
enum Hints {
    /// The text holds one of these, as they are.
    Any(&'static [&'static str]),
    /// The text holds a `:` and, in any case, one of the words of [`HEADER_HINTS`].
    Header,
}

/// Words one of which every name in [`HEADER_NAMES`] holds.
const HEADER_HINTS: &[&str] = &["auth", "cookie", "token", "key", "secret", "password"];

impl Hints {
    fn found_in(&self, s: &str, lower: &mut Option<String>) -> bool {
        match self {
            Hints::Any(words) => words.iter().any(|w| s.contains(w)),
            Hints::Header => {
                s.contains(':') && {
                    let l = lower.get_or_insert_with(|| s.to_ascii_lowercase());
                    HEADER_HINTS.iter().any(|w| l.contains(w))
                }
            }
        }
    }
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
        hints: Hints::Any(&["PRIVATE KEY"]),
        pattern: r"(?s)(?P<pre>-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----).*?(?P<post>-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
        check: any,
    },
    Form {
        name: "authorization-like header",
        hints: Hints::Header,
        // The value runs to the end of the line or a quote (a header inside a shell string).
        pattern: r#"(?i)(?P<pre>(?:^|[^a-z0-9_-]|-H)<NAMES>["']?[ \t]*:[ \t]*["']?(?:<SCHEMES>[ \t]+)?)[^\s"'][^\r\n"']*"#,
        check: any,
    },
    Form {
        name: "quoted secret-named key",
        // JSON, a Python dict, YAML with quotes: `"api_key": "X"`, `{'password': 'X'}`.
        hints: Hints::Any(&["\":", "':", "\" :", "' :"]),
        pattern: r#"(?P<pre>["'](?P<key>[A-Za-z0-9_.-]+)["'][ \t]*:[ \t]*["'](?i:<SCHEMES>[ \t]+)?)[^"'\r\n]+"#,
        check: any,
    },
    Form {
        name: "GitHub token",
        hints: Hints::Any(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]),
        pattern: r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b",
        check: any,
    },
    Form {
        name: "GitHub fine-grained token",
        hints: Hints::Any(&["github_pat_"]),
        pattern: r"\bgithub_pat_[A-Za-z0-9_]{22,}",
        check: any,
    },
    Form {
        name: "GitLab token",
        hints: Hints::Any(&["glpat-"]),
        pattern: r"\bglpat-[A-Za-z0-9_-]{20,}",
        check: any,
    },
    Form {
        name: "AWS access key id",
        hints: Hints::Any(&["AKIA", "ASIA"]),
        pattern: r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        check: any,
    },
    Form {
        name: "Slack token",
        hints: Hints::Any(&["xox", "xapp-"]),
        pattern: r"\b(?:xox[abposr]-|xapp-[0-9]+-)[A-Za-z0-9-]{10,}",
        check: any,
    },
    Form {
        name: "Slack webhook",
        hints: Hints::Any(&["hooks.slack.com/"]),
        pattern: r"(?P<pre>hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]+",
        check: any,
    },
    Form {
        name: "JWT",
        hints: Hints::Any(&["eyJ"]),
        pattern: r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
        check: any,
    },
    Form {
        name: "OpenAI/Anthropic key",
        hints: Hints::Any(&["sk-"]),
        pattern: r"\bsk-[A-Za-z0-9_-]{32,}",
        check: mixed,
    },
    Form {
        name: "Google API key",
        hints: Hints::Any(&["AIza"]),
        pattern: r"\bAIza[0-9A-Za-z_-]{35}",
        check: any,
    },
    Form {
        name: "Hugging Face token",
        hints: Hints::Any(&["hf_"]),
        pattern: r"\bhf_[A-Za-z0-9]{34,}\b",
        check: cased,
    },
    Form {
        name: "Stripe key",
        hints: Hints::Any(&["_live_", "_test_"]),
        pattern: r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b",
        check: any,
    },
    Form {
        name: "npm token",
        hints: Hints::Any(&["npm_"]),
        pattern: r"\bnpm_[A-Za-z0-9]{36}\b",
        check: any,
    },
    Form {
        name: "PyPI token",
        hints: Hints::Any(&["pypi-"]),
        pattern: r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{16,}",
        check: any,
    },
];

/// The forms' expressions, each compiled the first time text holds one of its hints.
static COMPILED: [OnceLock<Regex>; FORMS.len()] = [const { OnceLock::new() }; FORMS.len()];

fn regex(i: usize) -> &'static Regex {
    // The patterns are constants checked by the tests: a bad one is a programming error.
    COMPILED[i].get_or_init(|| {
        let f = &FORMS[i];
        Regex::new(&expand(f.pattern)).unwrap_or_else(|e| panic!("secret form {}: {e}", f.name))
    })
}

/// The indexes of the forms whose hints `s` holds.
fn hinted(s: &str) -> impl Iterator<Item = usize> + '_ {
    let mut lower = None;
    (0..FORMS.len()).filter(move |&i| FORMS[i].hints.found_in(s, &mut lower))
}

/// A whole argument that is a header, `-H` or `--header=` before it or not.
const HEADER_ARG: &str =
    r"(?is)^(?P<pre>(?:-H[ \t]*|--header=)?[ \t]*<NAMES>[ \t]*:[ \t]*(?:<SCHEMES>[ \t]+)?)\S.*$";

/// A pattern with the header names and schemes put in for `<NAMES>` and `<SCHEMES>`.
fn expand(pattern: &str) -> String {
    pattern
        .replace("<NAMES>", HEADER_NAMES)
        .replace("<SCHEMES>", SCHEMES)
}

/// `s` with every secret recognised by its form replaced by [`REDACTED`]; borrowed when it
/// holds none.
pub fn redact_forms(s: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(s);
    for i in hinted(s) {
        let check = FORMS[i].check;
        if let Cow::Owned(o) = regex(i).replace_all(&out, |caps: &Captures| keep_parts(caps, check))
        {
            out = Cow::Owned(o);
        }
    }
    out
}

/// A whole command-line argument that is a header (`Authorization: Digest username="u", ...`,
/// after `-H` or as `--header=...`): its value is hidden up to the end, quotes and all. None
/// when the argument is no credential header.
pub fn redact_header_arg(arg: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    if !Hints::Header.found_in(arg, &mut None) {
        return None;
    }
    let re = RE.get_or_init(|| Regex::new(&expand(HEADER_ARG)).expect("header argument pattern"));
    let caps = re.captures(arg)?;
    Some(format!("{}{REDACTED}", &caps["pre"]))
}

/// A word that is a credential header's name and its colon (`Authorization:`), as a command
/// line joined by spaces holds it.
pub fn is_header_word(w: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    w.ends_with(':')
        && RE
            .get_or_init(|| Regex::new(&expand("(?i)^-?H?<NAMES>:$")).expect("header word"))
            .is_match(w)
}

/// A word that is an authorization scheme (`Bearer`).
pub fn is_scheme(w: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(&expand("(?i)^<SCHEMES>$")).expect("scheme word"))
        .is_match(w)
}

/// The match with its secret part (all but the `pre` and `post` groups) replaced, or unchanged
/// when the secret part fails the form's check or the `key` group (where a form has one) is no
/// secret-looking name.
fn keep_parts(caps: &Captures, check: fn(&str) -> bool) -> String {
    let whole = &caps[0];
    if caps
        .name("key")
        .is_some_and(|k| !super::is_secret_name(k.as_str()))
    {
        return whole.to_string();
    }
    let pre = caps.name("pre").map_or("", |m| m.as_str());
    let post = caps.name("post").map_or("", |m| m.as_str());
    let secret = &whole[pre.len()..whole.len() - post.len()];
    if check(secret) {
        format!("{pre}{REDACTED}{post}")
    } else {
        whole.to_string()
    }
}

/// The names of the forms hinted at and matched in `s` (for the tests: each form is listed).
#[cfg(test)]
pub(super) fn forms_in(s: &str) -> Vec<&'static str> {
    hinted(s)
        .filter(|&i| regex(i).is_match(s))
        .map(|i| FORMS[i].name)
        .collect()
}

#[cfg(test)]
pub(super) fn form_names() -> impl Iterator<Item = &'static str> {
    FORMS.iter().map(|f| f.name)
}
