//! Runs of several hosts in one database (moved between machines with `perfmon export` and
//! `perfmon import`): `host:NAME` selects exactly the runs recorded on a host, and `compare`
//! warns when its sides ran on different CPU models, and only then.

use serde_json::Value;

use crate::bad_input::expect_error;
use crate::common::*;

/// The CPU model of the imported runs of "elsewhere": no real machine has it.
const OTHER_CPU: &str = "Imaginary(R) CPU 9000 @ 5.00GHz";

fn json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn ids(v: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

/// A database with 3 runs recorded here (`here`), and imported copies of them as if recorded
/// on other hosts: 2 on `gpu-box` with another CPU model and more cores (`elsewhere`), 1 on
/// `GPU-box` (the same name in other case) with this machine's CPU (`twin`). Returns the
/// database and this host's name, model and cores.
fn hosts_env() -> (Env, String, String, u64) {
    let env = Env::new();
    for _ in 0..3 {
        let out = env.run(&["run", "--quiet", "--name", "here", "--", "true"]);
        assert!(out.status.success());
    }
    let export = json(&env.run(&["export", "1", "2", "3"]));
    let host = &export["runs"][0]["meta"]["host"];
    let (me, model) = (
        host["hostname"].as_str().unwrap(),
        host["cpu_model"].as_str(),
    );
    let cores = host["cores"].as_u64().unwrap();
    let copy = |name: &str, runs: &[usize], hostname: &str, model: &str, cores: u64| {
        let mut doc = export.clone();
        let all = doc["runs"].as_array().unwrap().clone();
        doc["runs"] = runs.iter().map(|i| all[*i].clone()).collect();
        for r in doc["runs"].as_array_mut().unwrap() {
            r["meta"]["name"] = name.into();
            r["meta"]["host"]["hostname"] = hostname.into();
            r["meta"]["host"]["cpu_model"] = model.into();
            r["meta"]["host"]["cores"] = cores.into();
            // Runs of other machines are other runs: their own identity (an empty one gets a
            // new UUID on import; the same UUID would be recognized as a run already here).
            r["meta"]["uuid"] = "".into();
        }
        let file = env.dir.path().join(format!("{name}.json"));
        std::fs::write(&file, doc.to_string()).unwrap();
        let out = env.run(&["import", file.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    copy("elsewhere", &[0, 1], "gpu-box", OTHER_CPU, cores + 1);
    copy("twin", &[2], "GPU-box", model.unwrap(), cores);
    (env, me.to_string(), model.unwrap().to_string(), cores)
}

/// The ids `list` shows for `args`.
fn listed(env: &Env, args: &[&str]) -> Vec<i64> {
    let mut a = vec!["list", "--json"];
    a.extend_from_slice(args);
    let v = json(&env.run(&a));
    let found: Vec<Value> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    ids(&Value::from(found))
}

#[test]
fn host_selects_exactly_the_runs_of_a_host() {
    let (env, me, _, _) = hosts_env();
    let here = listed(&env, &["--name", "here"]);
    let elsewhere = listed(&env, &["--name", "elsewhere"]);
    let twin = listed(&env, &["--name", "twin"]);
    assert_eq!((here.len(), elsewhere.len(), twin.len()), (3, 2, 1));
    // list --host, alone and with the other filters; case matters.
    assert_eq!(listed(&env, &["--host", "gpu-box"]), elsewhere);
    assert_eq!(listed(&env, &["--host", "GPU-box"]), twin);
    assert_eq!(listed(&env, &["--host", &me]), here);
    assert_eq!(
        listed(&env, &["--host", "gpu-box", "--limit", "1"]).len(),
        1
    );
    assert!(listed(&env, &["--host", "gpu-box", "--name", "twin"]).is_empty());
    assert!(listed(&env, &["--host", "nowhere"]).is_empty());
    let v = json(&env.run(&["list", "--json", "--host", "gpu-box"]));
    assert_eq!(v[0]["host"], "gpu-box");
    // compare's sides.
    let me_sel = format!("host:{me}");
    let c = json(&env.run(&["compare", "host:gpu-box", &me_sel, "--format", "json"]));
    assert_eq!(ids(&c["base"]["runs"]), elsewhere);
    assert_eq!(ids(&c["candidate"]["runs"]), here);
    assert_eq!(c["base"]["label"], "runs on host \"gpu-box\"");
    // history's points.
    let h = json(&env.run(&["history", "host:GPU-box", "--format", "json"]));
    let points: Vec<Value> = h["points"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["run_ids"].as_array().unwrap().clone())
        .collect();
    assert_eq!(ids(&Value::from(points)), twin);
    // gc keeps the newest run of gpu-box and touches no other host's.
    let out = env.run(&["gc", "--keep-last", "1", "--host", "gpu-box"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("removed 1 of 2 run(s)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(listed(&env, &["--host", "gpu-box"]), elsewhere[1..]);
    assert_eq!(listed(&env, &["--name", "here"]), here);
    assert_eq!(listed(&env, &["--name", "twin"]), twin);
    // No run of that host, and bad input: one line, exit 2.
    expect_error(&env, &["compare", "host:nowhere", "1"], "host:NAME");
    expect_error(
        &env,
        &["compare", "host:", "1"],
        "host:NAME needs a hostname",
    );
    expect_error(&env, &["history", "host: "], "host:NAME needs a hostname");
    expect_error(&env, &["list", "--host", ""], "--host");
    expect_error(&env, &["gc", "--keep-last", "1", "--host", " "], "--host");
}

/// The warning lines of a compare's stderr.
fn warnings(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("perfmon: warning:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn compare_warns_when_the_sides_ran_on_different_cpu_models() {
    let (env, _, model, cores) = hosts_env();
    // Different models (and core counts) between the sides: one line naming both, in every
    // output.
    let out = env.run(&["compare", "here", "name=elsewhere"]);
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(
        w[0],
        format!(
            "perfmon: warning: the runs compared ran on different CPU models and core counts, so their times are not comparable: base {model:?} ({cores} core{}); candidate {OTHER_CPU:?} ({} cores)",
            if cores == 1 { "" } else { "s" },
            cores + 1
        )
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l == format!("warning:   {}", &w[0]["perfmon: warning: ".len()..])),
        "{text}"
    );
    let c = json(&env.run(&["compare", "here", "name=elsewhere", "--format", "json"]));
    assert_eq!(c["hosts"]["cpu_models_differ"], true);
    assert_eq!(c["hosts"]["cores_differ"], true);
    assert_eq!(c["hosts"]["candidate"][0]["cpu_model"], OTHER_CPU);
    assert_eq!(c["hosts"]["base"][0]["cpu_model"], model.as_str());
    assert!(c["hosts"]["warning"].as_str().unwrap().contains(OTHER_CPU));
    let md = env.run(&["compare", "here", "name=elsewhere", "--format", "markdown"]);
    assert!(String::from_utf8_lossy(&md.stdout).contains("- **warning**: the runs compared"));
    // A side that mixes models warns too, naming the runs on each.
    let mixed = env.run(&["compare", "name=here", "last:3"]);
    let w = warnings(&mixed);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains(&format!("{OTHER_CPU:?} (")), "{}", w[0]);
    // The same model on another host: no warning, nothing in the outputs.
    let same = env.run(&["compare", "here", "twin"]);
    assert!(same.status.success());
    assert!(warnings(&same).is_empty(), "{:?}", warnings(&same));
    assert!(!String::from_utf8_lossy(&same.stdout).contains("CPU model"));
    let c = json(&env.run(&["compare", "here", "twin", "--format", "json"]));
    assert_eq!(c["hosts"]["cpu_models_differ"], false);
    assert_eq!(c["hosts"]["warning"], Value::Null);
}
