//! Redaction of secret-looking values before anything is stored: `--password=...`,
//! `--token X`, `API_KEY=...`, `user:pass@` in URLs, and secrets known by their form wherever
//! they appear (credential headers, GitHub/AWS/Slack/... tokens, JWTs, private keys: [`forms`]).
//! What is redacted never reaches the database, so no report can show it.

mod forms;
mod record;
#[cfg(test)]
mod tests;

pub use record::{redact_output, redact_record};

/// Replaces a secret.
pub const REDACTED: &str = "***";

/// Words that make an option or variable name secret-looking.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "access-key",
    "private_key",
    "private-key",
    "credential",
    "authorization",
    "bearer",
    "cookie",
];

/// True when a name (option, variable, tag key) looks like it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.trim_start_matches('-').to_ascii_lowercase();
    if n == "key" || n.ends_with("_key") || n.ends_with("-key") {
        return true;
    }
    SECRET_WORDS.iter().any(|w| n.contains(w))
}

/// The value of a named setting (a tag, an environment variable) as it may be stored: hidden
/// whole when the name looks secret, else with secrets inside it redacted.
pub fn redact_named(name: &str, value: &str) -> String {
    if is_secret_name(name) {
        REDACTED.to_string()
    } else {
        redact_text(value)
    }
}

/// Redacts a command line: `--opt=SECRET`, `--opt SECRET`, `NAME=SECRET`, URL credentials,
/// credential headers (`-H "Authorization: Bearer X"`) and secrets known by their form.
pub fn redact_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for a in args {
        if hide_next {
            out.push(REDACTED.to_string());
            hide_next = false;
            continue;
        }
        if let Some(h) = forms::redact_header_arg(a) {
            out.push(h);
        } else if let Some(name) = secret_assignment(a) {
            out.push(format!("{name}={REDACTED}"));
        } else if a.starts_with('-') && a.len() > 1 && !a.contains('=') && is_secret_name(a) {
            hide_next = true;
            out.push(a.clone());
        } else {
            out.push(redact_text(a));
        }
    }
    out
}

/// The name of a whole-argument assignment of a secret: `--token=X` (X may hold spaces: it is
/// all the option's value) or `API_KEY=X` (without spaces: `A=1 API_KEY=x cmd` is shell text
/// that [`redact_text`] takes word by word).
fn secret_assignment(a: &str) -> Option<&str> {
    let (name, _) = a.split_once('=')?;
    let whole = a.starts_with('-') || !a.contains(char::is_whitespace);
    (whole && is_option_or_var(name) && is_secret_name(name)).then_some(name)
}

fn is_option_or_var(name: &str) -> bool {
    let n = name.trim_start_matches('-');
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// Redacts secrets inside free text (an argument, a tag or environment value, a mark): URL
/// credentials (`scheme://user:pass@`), secrets known by their form (headers, tokens, keys) and
/// `NAME=VALUE` pairs with a secret-looking name (as in `sh -c 'API_KEY=x ./train'`).
pub fn redact_text(s: &str) -> String {
    let mut out = redact_url_credentials(s);
    if let std::borrow::Cow::Owned(o) = forms::redact_forms(&out) {
        out = o;
    }
    if out.contains('=') {
        out = out
            .split(' ')
            .map(|word| match word.split_once('=') {
                Some((name, _)) if is_option_or_var(name) && is_secret_name(name) => {
                    format!("{name}={REDACTED}")
                }
                _ => word.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    out
}

fn redact_url_credentials(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first '/', whitespace or end of string.
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => out.push_str(&format!("{user}:{REDACTED}")),
                    None => out.push_str(REDACTED),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}
