//! One meaning per option (issue 12): durations need a unit, errors say each cause once, hints
//! list every form a selection takes, help lists formats, environment and exit codes, and the
//! shell completions and man page come from the same definitions.

use crate::bad_input::expect_error;
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
