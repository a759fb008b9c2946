//! One meaning per option (issue 12): durations need a unit, errors say each cause once, hints
//! list every form a selection takes, help lists formats, environment and exit codes, and the
//! shell completions and man page come from the same definitions.

use std::path::Path;
use std::process::Command;

use crate::bad_input::{env_with_runs, expect_error};
use crate::common::*;

/// `--interval 10` used to mean 10 s without a word: every duration option refuses a bare
/// number, names the option and suggests both units; the command does not run.
#[test]
fn a_bare_number_is_not_a_duration() {
    let env = Env::new();
    let marker = env.dir.path().join("ran");
    let m = marker.to_str().unwrap();
    for bare in ["10", "0.5", "3"] {
        let args = ["run", "--interval", bare, "--", "touch", m];
        expect_error(&env, &args, "--interval");
        let err = String::from_utf8_lossy(&env.run(&args).stderr).into_owned();
        assert!(
            err.contains(&format!("{bare}s")) && err.contains(&format!("{bare}ms")),
            "{err}"
        );
    }
    assert!(!marker.exists(), "the command ran");
    expect_error(&env, &["gc", "--older-than", "30"], "--older-than");
    expect_error(&env, &["run", "--budget", "wall<600", "--", "true"], "unit");
    // The same budget in perfmon.toml: named, and the command does not run.
    let toml = env.dir.path().join("perfmon.toml");
    std::fs::write(&toml, "[run]\nbudget = \"wall<600\"\n").unwrap();
    expect_error(&env, &["run", "--", "touch", m], "perfmon.toml");
    assert!(!marker.exists(), "the command ran");
    std::fs::remove_file(&toml).unwrap();
    // With a unit, the same values are taken.
    let ok = env.run(&["run", "--quiet", "--interval", "10ms", "--", "true"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let gc = env.run(&["gc", "--older-than", "30d", "--dry-run"]);
    assert!(
        gc.status.success(),
        "{}",
        String::from_utf8_lossy(&gc.stderr)
    );
}

/// Each cause of an error is said once: an io::Error quoted by the context that wraps it was
/// printed twice ("No such file or directory (os error 2): No such file or directory ...").
#[test]
fn database_errors_say_each_cause_once() {
    let env = Env::new();
    let file = env.dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under_file = file.join("x.db");
    let marker = env.dir.path().join("ran");
    for db in [Path::new("/proc/x.db"), under_file.as_path()] {
        for args in [
            vec!["run", "--", "touch", marker.to_str().unwrap()],
            vec!["import", "/dev/null"],
        ] {
            let out = Command::new(perfmon_bin())
                .arg("--db")
                .arg(db)
                .args(&args)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{db:?} {args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert_eq!(err.matches("(os error").count(), 1, "{err}");
            let parts: Vec<&str> = err.trim_end().split(": ").collect();
            let mut seen = parts.clone();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), parts.len(), "a cause repeats: {err}");
        }
    }
    assert!(!marker.exists(), "the command ran");
}

/// `list` with a database path where none can ever be fails as `report` does (it said "no runs
/// stored yet" and exited 0), and every reading command says why no database can be there; a
/// path where `run` would create one is still an empty list.
#[test]
fn list_fails_where_no_database_can_be() {
    let env = Env::new();
    let file = env.dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under_file = file.join("x.db");
    for db in [
        Path::new("/proc/x.db"),
        under_file.as_path(),
        env.dir.path(),
    ] {
        for cmd in [
            &["list"][..],
            &["report"],
            &["report", "group:1"],
            &["history"],
            &["compare", "1", "2"],
            &["export", "1"],
            &["check", "--budget", "wall<1h"],
            &["doctor"],
        ] {
            let out = Command::new(perfmon_bin())
                .arg("--db")
                .arg(db)
                .args(cmd)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd:?} {db:?}: {err}");
            assert!(err.starts_with("perfmon: error: no database at"), "{err}");
            assert!(err.contains("none can be created there"), "{err}");
            assert!(out.stdout.is_empty());
        }
    }
    let fresh = env.run(&["list"]);
    assert_eq!(fresh.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&fresh.stdout).contains("no runs stored yet"));
    assert!(!env.db().exists(), "list created the database");
    let json = env.run(&["list", "--json"]);
    assert_eq!(String::from_utf8_lossy(&json.stdout).trim(), "[]");
}

/// Hints name every form a selection takes, not only run ids and names.
#[test]
fn selection_hints_list_every_form() {
    let env = env_with_runs();
    for args in [
        &["compare", "no-such-name", "1"][..],
        &["compare", "1", "group:x"],
        &["compare", "1", "group:99"],
        &["compare", "last:0", "1"],
        &["compare", "tag:novalue", "1"],
        &["compare", "name=nobody", "1"],
        &["report", "no-such-name"],
        &["report", "group:99"],
    ] {
        let out = env.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for form in ["group:N", "name=NAME", "tag:KEY=VALUE", "last:N", "last"] {
            assert!(err.contains(form), "{args:?}: {form} not in {err}");
        }
        // compare's own hint (report's is the store's) names `host:NAME` too.
        if args[0] == "compare" {
            assert!(
                err.contains("host:NAME"),
                "{args:?}: host:NAME not in {err}"
            );
        }
    }
    let err = env.run(&["history", "no-such-name"]).stderr;
    let err = String::from_utf8_lossy(&err);
    assert!(
        err.contains("name=NAME") && err.contains("tag:KEY=VALUE") && err.contains("host:NAME"),
        "{err}"
    );
}

/// `run` without a command answers with its one-line usage.
#[test]
fn run_without_a_command_shows_the_usage() {
    let env = Env::new();
    for args in [
        &["run"][..],
        &["run", "--"],
        &["run", "--quiet", "--name", "x"],
    ] {
        expect_error(&env, args, "perfmon run [OPTIONS] -- CMD [ARGS...]");
    }
    let help = env.run(&["run", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout)
        .contains("Usage: perfmon run [OPTIONS] -- CMD [ARGS...]"));
}

/// `perfmon --help` lists every `--format` value, every environment variable perfmon reads (each
/// name the sources read, found here by scanning src/) and sets, and the exit codes.
#[test]
fn help_lists_formats_environment_and_exit_codes() {
    let env = Env::new();
    let out = env.run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for (cmd, values) in [
        ("report", "text, json, markdown, html, trace, png"),
        ("compare", "text, json, markdown, png"),
        ("history", "text, json, png"),
    ] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{cmd} --format")))
            .unwrap_or_else(|| panic!("no {cmd} --format line in {help}"));
        assert!(line.ends_with(values), "{line}");
        // Each listed value is accepted, and the command's own error lists no other.
        let bad = String::from_utf8_lossy(&env.run(&[cmd, "--format", "x"]).stderr).into_owned();
        assert!(
            bad.contains(&format!("[possible values: {values}]")),
            "{bad}"
        );
    }
    for name in env_names_read_by_the_sources() {
        assert!(help.contains(&name), "{name} is read but not in --help");
    }
    for name in [
        "PERFMON=1",
        "PYTHONUNBUFFERED=1",
        "PERFMON_REPEAT_INDEX",
        "TMPDIR",
    ] {
        assert!(help.contains(name), "{name} not in --help");
    }
    let exits = help
        .split("Exit status:")
        .nth(1)
        .expect("an Exit status block");
    for code in ["0 ", "1 ", "2 ", "128+N", "126", "127", "--fail-on"] {
        assert!(exits.contains(code), "{code} not in {exits}");
    }
    // -h is short, and says where the rest is.
    let short = String::from_utf8_lossy(&env.run(&["-h"]).stdout).into_owned();
    assert!(
        !short.contains("Exit status:") && short.contains("perfmon --help"),
        "{short}"
    );
    let run_help = String::from_utf8_lossy(&env.run(&["run", "--help"]).stdout).into_owned();
    assert!(run_help.contains("PERFMON_REPEAT_INDEX") && run_help.contains("128+N"));
}

/// Every `env::var("NAME")` / `var_os("NAME")` literal of the non-test sources.
fn env_names_read_by_the_sources() -> Vec<String> {
    let re = regex::Regex::new(r#"var(?:_os)?\("([A-Z_][A-Z0-9_]*)"\)"#).unwrap();
    let mut names = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let file = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                dirs.push(p);
            } else if file.ends_with(".rs") && !file.contains("tests") && !file.contains("fuzz") {
                let text = std::fs::read_to_string(&p).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                names.extend(re.captures_iter(code).map(|c| c[1].to_string()));
            }
        }
    }
    assert!(
        names.iter().any(|n| n == "PERFMON_DB"),
        "the scan found nothing"
    );
    names.sort();
    names.dedup();
    names
}

/// The stdout of `c`, which must succeed.
fn succeed(c: &mut Command) -> String {
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{c:?}: {err}");
    String::from_utf8(out.stdout).unwrap()
}

fn perfmon_stdout(args: &[&str]) -> String {
    succeed(Command::new(perfmon_bin()).args(args))
}

/// What bash completes for the words `line` (the last one being completed) with `script` loaded.
fn bash_complete(script: &Path, line: &[&str]) -> String {
    let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    let n = line.len() - 1;
    let prev = if n > 0 { line[n - 1] } else { "" };
    let cmd = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={n}; _perfmon perfmon '{}' '{prev}'; \
         echo \"${{COMPREPLY[@]}}\"",
        script.display(),
        words.join(" "),
        line[n]
    );
    succeed(Command::new("bash").args(["--norc", "-c", &cmd]))
        .trim()
        .to_string()
}

/// What `shell FLAGS -c BODY` prints, BODY made from the path of `perfmon completions SHELL`.
fn shell_with_script(
    env: &Env,
    shell: &str,
    flags: &[&str],
    body: impl Fn(&str) -> String,
) -> String {
    let script = env.dir.path().join(format!("completions.{shell}"));
    std::fs::write(&script, perfmon_stdout(&["completions", shell])).unwrap();
    succeed(
        Command::new(shell)
            .args(flags)
            .arg("-c")
            .arg(body(&script.display().to_string())),
    )
}

fn have(shell: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {shell}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("{shell} is not installed (make deps installs it): its check is skipped");
    }
    found
}

/// The bash script loads in a real bash and completes subcommands, options and `--format`
/// values; the zsh script parses and defines its function; fish completes from its script.
#[test]
fn completions_work_in_real_shells() {
    let env = Env::new();
    let bash = env.dir.path().join("perfmon.bash");
    std::fs::write(&bash, perfmon_stdout(&["completions", "bash"])).unwrap();
    assert_eq!(bash_complete(&bash, &["perfmon", "rep"]), "report");
    assert_eq!(
        bash_complete(&bash, &["perfmon", "com"]),
        "compare completions"
    );
    assert_eq!(
        bash_complete(&bash, &["perfmon", "run", "--inter"]),
        "--interval"
    );
    assert_eq!(
        bash_complete(&bash, &["perfmon", "report", "--format", ""]),
        "text json markdown html trace png"
    );
    let shells = bash_complete(&bash, &["perfmon", "completions", ""]);
    for s in ["bash", "zsh", "fish"] {
        assert!(shells.split(' ').any(|w| w == s), "{s} not in {shells}");
    }
    if have("zsh") {
        let said = shell_with_script(&env, "zsh", &["-f"], |s| {
            format!("autoload -Uz compinit && compinit -u -D && source '{s}' && whence -w _perfmon")
        });
        assert!(said.contains("_perfmon: function"), "{said}");
    }
    if have("fish") {
        let said = shell_with_script(&env, "fish", &["--no-config"], |s| {
            format!("source '{s}'; complete -C 'perfmon rep'; complete -C 'perfmon history x --format '")
        });
        let first: Vec<&str> = said
            .lines()
            .map(|l| l.split('\t').next().unwrap())
            .collect();
        assert_eq!(first, ["report", "json", "png", "text"], "{said}");
    }
}

/// The man page renders without a warning, names every subcommand and has the exit codes.
fn check_man_page(page: &Path) {
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-cbou", "-rLL=100n"])
        .arg(page)
        .output()
        .unwrap();
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && warnings.is_empty(), "{warnings}");
    let text = String::from_utf8_lossy(&out.stdout);
    let help = perfmon_stdout(&["--help"]);
    let subs = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap();
    let names: Vec<&str> = subs
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .collect();
    assert!(names.len() >= 14, "{names:?}");
    for n in names {
        assert!(
            text.contains(&format!("perfmon-{n}(1)")),
            "{n} not in the man page"
        );
    }
    for s in [
        "EXIT STATUS",
        "128+N",
        "ENVIRONMENT",
        "PERFMON_DB",
        "FORMATS",
        "trace",
    ] {
        assert!(text.contains(s), "{s} not in the man page:\n{text}");
    }
}

#[test]
fn the_man_page_renders_and_names_every_subcommand() {
    let env = Env::new();
    let page = env.dir.path().join("perfmon.1");
    std::fs::write(&page, perfmon_stdout(&["man"])).unwrap();
    check_man_page(&page);
}

/// `make install`'s steps (scripts/install, given the test binary): every file in its place, and
/// each one works.
#[test]
fn install_puts_the_binary_man_pages_and_completions_in_place() {
    let env = Env::new();
    let prefix = env.dir.path().join("prefix");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install");
    succeed(Command::new(script).arg(perfmon_bin()).arg(&prefix));
    let bin = prefix.join("bin/perfmon");
    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("perfmon "));
    check_man_page(&prefix.join("share/man/man1/perfmon.1"));
    let run_page = std::fs::read_to_string(prefix.join("share/man/man1/perfmon-run.1")).unwrap();
    assert!(run_page.contains("\\-\\-interval"), "{run_page}");
    let bash = prefix.join("share/bash-completion/completions/perfmon");
    assert_eq!(bash_complete(&bash, &["perfmon", "hist"]), "history");
    for f in [
        "share/zsh/site-functions/_perfmon",
        "share/fish/vendor_completions.d/perfmon.fish",
    ] {
        let text = std::fs::read_to_string(prefix.join(f)).unwrap();
        assert!(text.contains("perfmon") && text.contains("report"), "{f}");
    }
    // `make install` runs these same steps on the release binary (dry run: no release build).
    let plan = succeed(
        Command::new("make")
            .args(["-n", "install", "PREFIX=/some/prefix", "CARGO=true"])
            .current_dir(env!("CARGO_MANIFEST_DIR")),
    );
    assert!(
        plan.contains("scripts/install target/release/perfmon /some/prefix"),
        "{plan}"
    );
}

/// A tolerance, an effect size or a target that is no number to compute with (`nan`, `inf`,
/// a negative tolerance) is refused in one line, for compare as for report.
#[test]
fn numeric_options_refuse_what_cannot_be_computed_with() {
    let env = env_with_runs();
    for (args, needle) in [
        (
            &["compare", "1", "2", "--converge-tol", "nan"][..],
            "--converge-tol",
        ),
        (
            &["compare", "1", "2", "--min-effect=-3"][..],
            "--min-effect",
        ),
        (
            &["compare", "1", "2", "--min-effect", "inf"][..],
            "--min-effect",
        ),
        (&["report", "1", "--converge-tol=-1"][..], "--converge-tol"),
        (&["report", "1", "--target", "nan"][..], "--target"),
    ] {
        expect_error(&env, args, needle);
    }
}
