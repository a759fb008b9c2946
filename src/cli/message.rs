//! perfmon's errors as the one line printed at the edge (`perfmon: error: ...`).

/// An error and its causes as one line, each cause said once: a cause whose text the error
/// wrapping it already quotes (`database X: {source}` around an io::Error) is left out.
pub fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    let mut wrapper = String::new();
    for cause in e.chain() {
        let text = flat(&cause.to_string());
        if !text.is_empty() && !wrapper.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        wrapper = text;
    }
    line
}

/// A clap error as one line: its message and details, without the "For more information" hint
/// (`--help` shows that). The usage stays only where an argument is missing: then it is the
/// answer.
pub fn clap_line(msg: &str, missing: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    for l in msg.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if l.starts_with("For more information") {
            break;
        }
        match l.strip_prefix("Usage: ") {
            Some(usage) if missing => {
                parts.push(format!("(usage: {usage})"));
                break;
            }
            Some(_) => break,
            None => parts.push(l.strip_prefix("error: ").unwrap_or(l).to_string()),
        }
    }
    parts.join(" ")
}

/// Text on one line: line breaks become spaces.
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("database {path}: {source}")]
    struct Quoting {
        path: String,
        source: std::io::Error,
    }

    #[test]
    fn a_cause_the_context_quotes_is_said_once() {
        let io = std::io::Error::from_raw_os_error(2);
        let text = io.to_string();
        let e = anyhow::Error::new(Quoting {
            path: "/proc/x.db".into(),
            source: io,
        });
        let line = error_line(&e);
        assert_eq!(line.matches(&text).count(), 1, "{line}");
        assert_eq!(line, format!("database /proc/x.db: {text}"));
    }

    #[test]
    fn distinct_causes_are_all_kept_in_order() {
        let e = anyhow::Error::new(std::io::Error::other("disk full"))
            .context("writing run 3")
            .context("storing the run");
        assert_eq!(error_line(&e), "storing the run: writing run 3: disk full");
    }

    #[test]
    fn a_cause_is_left_out_only_where_its_own_wrapper_quotes_it() {
        // "busy" also appears in the outer context, but its wrapper does not quote it.
        let e = anyhow::Error::new(std::io::Error::other("busy"))
            .context("opening")
            .context("database /tmp/busy.db");
        assert_eq!(error_line(&e), "database /tmp/busy.db: opening: busy");
        // Quoted two levels up through a quoting middle: still said once.
        let io = std::io::Error::from_raw_os_error(13);
        let text = io.to_string();
        let e = anyhow::Error::new(Quoting {
            path: "/x.db".into(),
            source: io,
        })
        .context("storing the run");
        assert_eq!(
            error_line(&e),
            format!("storing the run: database /x.db: {text}")
        );
    }

    #[test]
    fn multi_line_messages_become_one_line() {
        let e = anyhow::anyhow!("first\n  second").context("outer");
        assert_eq!(error_line(&e), "outer: first second");
    }

    #[test]
    fn clap_usage_only_for_missing_arguments() {
        let msg = "error: the following required arguments were not provided:\n  <CMD>...\n\n\
                   Usage: perfmon run [OPTIONS] -- CMD [ARGS...]\n\n\
                   For more information, try '--help'.\n";
        assert_eq!(
            clap_line(msg, true),
            "the following required arguments were not provided: <CMD>... \
             (usage: perfmon run [OPTIONS] -- CMD [ARGS...])"
        );
        assert!(!clap_line(msg, false).contains("usage"));
    }
}
