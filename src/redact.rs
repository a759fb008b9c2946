//! Redaction of secret-looking values before anything is stored: `--password=...`,
//! `--token X`, `API_KEY=...`, `user:pass@` in URLs. What is redacted never reaches the database,
//! so no report can show it.

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

/// Redacts a command line: `--opt=SECRET`, `--opt SECRET`, `NAME=SECRET`, URL credentials.
pub fn redact_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for a in args {
        if hide_next {
            out.push(REDACTED.to_string());
            hide_next = false;
            continue;
        }
        if let Some((name, _)) = a
            .split_once('=')
            .filter(|_| !a.contains(char::is_whitespace))
        {
            if is_option_or_var(name) && is_secret_name(name) {
                out.push(format!("{name}={REDACTED}"));
                continue;
            }
        } else if a.starts_with('-') && a.len() > 1 && is_secret_name(a) {
            hide_next = true;
            out.push(a.clone());
            continue;
        }
        out.push(redact_text(a));
    }
    out
}

fn is_option_or_var(name: &str) -> bool {
    let n = name.trim_start_matches('-');
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// Redacts secrets inside free text: URL credentials (`scheme://user:pass@`) and `NAME=VALUE`
/// pairs with a secret-looking name (as in `sh -c 'API_KEY=x ./train'`).
pub fn redact_text(s: &str) -> String {
    let mut out = redact_url_credentials(s);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn r(args: &[&str]) -> Vec<String> {
        redact_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_and_assignments() {
        assert_eq!(
            r(&[
                "train",
                "--password=hunter2",
                "--token",
                "abc",
                "--lr",
                "0.1"
            ]),
            ["train", "--password=***", "--token", "***", "--lr", "0.1"]
        );
        assert_eq!(
            r(&["env", "API_KEY=sk-123", "AWS_SECRET_ACCESS_KEY=x", "N=3"]),
            ["env", "API_KEY=***", "AWS_SECRET_ACCESS_KEY=***", "N=3"]
        );
        assert_eq!(r(&["--api-key", "k"]), ["--api-key", "***"]);
    }

    #[test]
    fn urls_and_shell_strings() {
        assert_eq!(
            r(&["psql", "postgres://bob:s3cret@db:5432/x"]),
            ["psql", "postgres://bob:***@db:5432/x"]
        );
        assert_eq!(
            r(&["sh", "-c", "API_TOKEN=abc python x.py https://u:p@h/"]),
            ["sh", "-c", "API_TOKEN=*** python x.py https://u:***@h/"]
        );
        assert_eq!(
            r(&["curl", "https://example.com/a?b=1"]),
            ["curl", "https://example.com/a?b=1"]
        );
    }

    #[test]
    fn harmless_things_stay() {
        assert_eq!(
            r(&["python", "ga.py", "--pop", "50"]),
            ["python", "ga.py", "--pop", "50"]
        );
        assert!(!is_secret_name("monkey_patch"));
        assert!(is_secret_name("SSH_KEY"));
    }
}
