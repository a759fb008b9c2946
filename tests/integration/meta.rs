//! The git facts of a run (commit, branch, dirty) against what the `git` program says.

use std::path::Path;
use std::process::Command;

use crate::common::Env;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The run records HEAD's commit and branch; a changed tracked file makes it dirty, an untracked
/// one does not (as `git describe --dirty`).
#[test]
fn a_run_records_the_commit_branch_and_dirty_flag_git_reports() {
    let env = Env::new();
    let dir = env.dir.path();
    git(dir, &["init", "-q", "-b", "trunk"]);
    std::fs::write(dir.join("a.txt"), "one\n").unwrap();
    git(dir, &["add", "a.txt"]);
    git(dir, &["commit", "-q", "-m", "first"]);
    let head = git(dir, &["rev-parse", "HEAD"]);

    let (_, clean) = env.run_and_report(&["--quiet"], &["true"]);
    assert_eq!(clean["git"]["commit"], head.as_str(), "{}", clean["git"]);
    assert_eq!(clean["git"]["branch"], "trunk");
    // The database beside it is untracked: untracked files do not make the tree dirty.
    assert_eq!(clean["git"]["dirty"], false);

    std::fs::write(dir.join("a.txt"), "two\n").unwrap();
    let (_, dirty) = env.run_and_report(&["--quiet"], &["true"]);
    assert!(!git(dir, &["status", "--porcelain", "--untracked-files=no"]).is_empty());
    assert_eq!(dirty["git"]["dirty"], true);
    assert_eq!(dirty["git"]["commit"], head.as_str());
}

/// Outside a work tree there is nothing to record: `git` is null.
#[test]
fn outside_a_work_tree_git_is_null() {
    let env = Env::new();
    let (_, rep) = env.run_and_report(&["--quiet"], &["true"]);
    assert!(rep["git"].is_null(), "{}", rep["git"]);
}
