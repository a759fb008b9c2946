//! What `--help` and the man page say beyond the options: the values of every `--format`, the
//! environment perfmon reads and sets, and the exit codes. One set of tables feeds both, and the
//! format lists come from the clap value enums themselves, so neither can drift from the code.

use clap::ValueEnum;

use super::{CompareFormat, HistoryFormat, ReportFormat};

/// A name and what it means.
pub type Entry = (&'static str, &'static str);

/// The environment perfmon reads (besides the recorded allowlist, [`recorded_env`]).
pub const ENV_READ: &[Entry] = &[
    ("PERFMON_DB", "the database when --db is not given"),
    (
        "XDG_DATA_HOME",
        "else the database is $XDG_DATA_HOME/perfmon/perfmon.db",
    ),
    ("HOME", "else it is ~/.local/share/perfmon/perfmon.db"),
    (
        "PGHOST, PGPORT, PGUSER, PGDATABASE",
        "what a postgres:// URL leaves out, as libpq reads them (user: else USER or LOGNAME)",
    ),
    (
        "PGPASSWORD, PGPASSFILE",
        "the server's password when the URL has none (else the file ~/.pgpass, if private)",
    ),
    (
        "PGSSLMODE, PGCONNECT_TIMEOUT, PGAPPNAME",
        "the connection's sslmode, timeout (default 10 s) and application name",
    ),
    (
        "PGSSLROOTCERT",
        "the CA certificates (PEM) a server's certificate is checked against when the URL has \
         no sslrootcert= (else ~/.postgresql/root.crt, else the system's for verify-*)",
    ),
    (
        "PERFMON_NO_CGROUP",
        "1: run the command without a cgroup of its own (no exact cgroup totals)",
    ),
    (
        "PYTHONUNBUFFERED",
        "kept as it is when set; otherwise set to 1 for the command",
    ),
    (
        "LINES, COLUMNS",
        "the size of the command's terminal under --pty when perfmon has none (else 24x80)",
    ),
    (
        "TMPDIR",
        "where a run that cannot be saved is written when the database's directory cannot take it",
    ),
];

/// The environment `perfmon run` sets for the command.
pub fn env_set() -> [Entry; 3] {
    [
        (
            "PERFMON=1",
            "protocol lines will be read: the perfmon Python module writes them only then",
        ),
        (
            "PYTHONUNBUFFERED=1",
            "unless set: Python progress arrives line by line",
        ),
        (
            crate::commands::run::REPEAT_INDEX_VAR,
            "under --repeat: 0, 1, ... (warmup-K for warmups), to vary a seed per run",
        ),
    ]
}

/// The variables recorded with every run (and any --env NAME).
pub fn recorded_env() -> String {
    crate::record::ENV_ALLOWLIST.join(", ")
}

/// perfmon's exit codes.
pub const EXIT_CODES: &[Entry] = &[
    (
        "0",
        "success (compare: no regression beyond --fail-on; check: no budget broken; doctor: \
         the database is healthy)",
    ),
    (
        "1",
        "compare: a significant regression beyond a --fail-on threshold; check: a budget \
         broken; doctor: damage found",
    ),
    (
        "2",
        "perfmon's own error: bad usage, an unusable database, a bad perfmon.toml (one line on \
         stderr: perfmon: error: ...)",
    ),
    (
        "run",
        "the command's own status; 128+N when it was killed by signal N; 126 not executable, \
         127 not found (no run is stored)",
    ),
];

/// The values of every `--format`: (command, values).
pub fn formats() -> Vec<(&'static str, Vec<String>)> {
    fn names<T: ValueEnum>() -> Vec<String> {
        T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|p| p.get_name().to_string())
            .collect()
    }
    vec![
        ("report", names::<ReportFormat>()),
        ("compare", names::<CompareFormat>()),
        ("history", names::<HistoryFormat>()),
    ]
}

/// The width `--help`'s extra blocks are wrapped to (clap wraps nothing narrower again).
const WIDTH: usize = 96;

/// A titled block of `entries` for `--help`: names in a column, texts wrapped beside them.
fn block(title: &str, entries: &[(String, String)]) -> String {
    let width = entries.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut s = format!("{title}:\n");
    for (name, text) in entries {
        let indent = width + 4;
        for (i, line) in wrap(text, WIDTH.saturating_sub(indent).max(30))
            .iter()
            .enumerate()
        {
            let name = if i == 0 { name.as_str() } else { "" };
            s.push_str(&format!("  {name:<width$}  {line}\n"));
        }
    }
    s
}

/// `text` as lines of at most `width` characters, broken between words.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let cur = lines.last_mut().map(|l| l.len()).unwrap_or(0);
        if cur > 0 && cur + 1 + word.len() > width {
            lines.push(String::new());
        }
        if let Some(l) = lines.last_mut() {
            if !l.is_empty() {
                l.push(' ');
            }
            l.push_str(word);
        }
    }
    lines
}

fn owned(entries: &[Entry]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

/// The formats as (command, "a, b, c") rows.
pub fn format_rows() -> Vec<(String, String)> {
    formats()
        .into_iter()
        .map(|(c, v)| (format!("{c} --format"), v.join(", ")))
        .collect()
}

/// The environment perfmon reads.
pub fn env_read_rows() -> Vec<(String, String)> {
    owned(ENV_READ)
}

/// What is said of the recorded variables.
pub fn recorded_text() -> String {
    format!(
        "Recorded with each run, as is every --env NAME (secret-looking values as ***): {}.",
        recorded_env()
    )
}

/// The end of `perfmon --help`.
pub fn after_long_help() -> String {
    [
        block("Formats", &format_rows()),
        block("Environment perfmon reads", &env_read_rows())
            + &wrap(&recorded_text(), WIDTH - 2)
                .iter()
                .map(|l| format!("  {l}\n"))
                .collect::<String>(),
        block(
            "Environment perfmon run sets for the command",
            &owned(&env_set()),
        ),
        block("Exit status", &owned(EXIT_CODES)),
    ]
    .join("\n")
}

/// The end of `perfmon run --help`.
pub fn run_after_long_help() -> String {
    [
        block("Environment set for the command", &owned(&env_set())),
        block("Exit status", &owned(EXIT_CODES)),
    ]
    .join("\n")
}

/// The end of `perfmon -h`: where the rest is.
pub const AFTER_SHORT_HELP: &str =
    "perfmon --help lists the formats, the environment and the exit codes.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_value_is_listed() {
        let f = formats();
        assert_eq!(f[0].1, ["text", "json", "markdown", "html", "trace", "png"]);
        assert_eq!(f[1].1, ["text", "json", "markdown", "png"]);
        assert_eq!(f[2].1, ["text", "json", "png"]);
        let help = after_long_help();
        assert!(help.contains("report --format   text, json, markdown, html, trace, png"));
    }

    #[test]
    fn every_variable_the_code_uses_is_listed() {
        let help = after_long_help();
        for name in [
            "PERFMON_DB",
            "XDG_DATA_HOME",
            "PERFMON_NO_CGROUP",
            "LINES",
            "TMPDIR",
            crate::runner::spawn::UNDER_PERFMON_VAR,
            crate::commands::run::REPEAT_INDEX_VAR,
            "PYTHONUNBUFFERED",
        ] {
            assert!(help.contains(name), "{name} missing");
        }
        for name in crate::record::ENV_ALLOWLIST {
            assert!(help.contains(name), "{name} missing");
        }
    }
}
