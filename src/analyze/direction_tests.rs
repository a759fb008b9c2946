#![allow(clippy::unwrap_used)]
use super::*;
use crate::analyze::testutil::series;
use crate::parse::names::stated_direction;

/// The running maximum (or minimum) of `v`, as the library would print it.
fn running(v: &[f64], max: bool) -> Vec<f64> {
    let mut out = Vec::new();
    for &x in v {
        let b = out.last().copied().unwrap_or(x);
        out.push(if max { f64::max(b, x) } else { f64::min(b, x) });
    }
    out
}

#[test]
fn names_infer_direction() {
    assert_eq!(infer_direction("val_acc"), Some(Direction::Maximize));
    assert_eq!(infer_direction("best-fitness"), Some(Direction::Maximize));
    assert_eq!(infer_direction("train loss"), Some(Direction::Minimize));
    assert_eq!(infer_direction("valid-logloss"), Some(Direction::Minimize));
    assert_eq!(infer_direction("ndcg@10"), Some(Direction::Maximize));
    for n in ["auc", "f1", "r2", "score", "fitness", "reward"] {
        assert_eq!(infer_direction(n), Some(Direction::Maximize), "{n}");
    }
    assert_eq!(infer_direction("x"), None);
    assert_eq!(infer_direction("value"), None);
}

#[test]
fn a_running_best_that_follows_the_maximum_means_maximize() {
    let v = [0.10, 0.10, 0.91, 0.10, 0.92, 0.49, 0.93, 0.90];
    let all = [
        series("value", &v),
        series("best_value", &running(&v, true)),
    ];
    assert_eq!(
        best_tracking(&all),
        vec![Some(Direction::Maximize), Some(Direction::Maximize)]
    );
    let (d, src) = resolve(&all[0], best_tracking(&all)[0]);
    assert_eq!((d, src.as_str()), (Direction::Maximize, "best"));
    // Following the minimum (XGBoost-like `best_score` of an error): minimize.
    let v = [5.0, 3.0, 4.0, 2.0, 2.5, 1.0];
    let all = [series("rmse", &v), series("rmse_best", &running(&v, false))];
    assert_eq!(best_tracking(&all)[0], Some(Direction::Minimize));
    // A constant series says nothing; nor does a "best" that follows neither.
    let all = [series("value", &[1.0; 5]), series("best value", &[1.0; 5])];
    assert_eq!(best_tracking(&all), vec![None, None]);
    let all = [
        series("value", &[1.0, 3.0, 2.0, 5.0]),
        series("best_value", &[4.0, 4.0, 4.0, 4.0]),
    ];
    assert_eq!(best_tracking(&all), vec![None, None]);
}

#[test]
fn a_running_best_alone_moves_in_its_direction() {
    let all = [
        series("best", &[9.0, 7.0, 7.0, 3.0]),
        series("fbest", &[1.0, 2.0, 2.0, 5.0]),
        // The best of each generation goes both ways: no running best, no direction.
        series("best", &[9.0, 7.0, 8.0, 3.0]),
        series("best", &[1.0, 1.0, 1.0, 1.0]),
        series("mean", &[9.0, 7.0, 7.0, 3.0]),
        series("best", &[9.0, 7.0]),
    ];
    assert_eq!(
        best_tracking(&all),
        vec![
            Some(Direction::Minimize),
            Some(Direction::Maximize),
            None,
            None,
            None,
            None
        ]
    );
}

#[test]
fn the_output_states_a_direction() {
    let max = Some(Direction::Maximize);
    let min = Some(Direction::Minimize);
    for (line, want) in [
        ("Study direction: StudyDirection.MAXIMIZE", max),
        ("study = optuna.create_study(direction='maximize')", max),
        ("tune.run(metric=\"mean_accuracy\", mode=\"max\")", max),
        ("Objective sense: minimize", min),
        ("goal: min", min),
        ("Maximizing the validation score: 20 trials", max),
        ("Minimization of f(x) with CMA-ES: sigma0=0.5", min),
        // Identifiers, paths and both directions state nothing.
        (
            "  File \"/usr/lib/scipy/optimize/_minimize.py\", line 3",
            None,
        ),
        ("res = scipy.optimize.minimize(fun, x0)", None),
        ("objectives: maximize accuracy, minimize latency", None),
        ("the max: 3, the min: 1", None),
        ("epoch 3: loss=0.5", None),
    ] {
        assert_eq!(stated_direction(line.as_bytes()), want, "{line}");
    }
}

#[test]
fn stated_directions_win_over_inference() {
    let mut s = series("accuracy", &[1.0, 2.0]);
    assert_eq!(resolve(&s, None).1, DirectionSource::Name);
    s.direction = Some(Direction::Minimize);
    s.direction_from = Some(DirectionFrom::Config);
    let (d, src) = resolve(&s, Some(Direction::Maximize));
    assert_eq!((d, src.as_str()), (Direction::Minimize, "config"));
    s.direction_from = None;
    assert_eq!(resolve(&s, None).1, RECORDED);
}

#[test]
fn rules_from_the_command_line_and_the_config() {
    assert_eq!(
        parse_direction_rule("val acc=MAX"),
        Ok(("val acc".to_string(), Direction::Maximize))
    );
    assert_eq!(
        parse_direction_rule("a=b=minimize"),
        Ok(("a=b".to_string(), Direction::Minimize))
    );
    for bad in ["value", "value=up", "=max", "value="] {
        assert!(parse_direction_rule(bad).is_err(), "{bad}");
    }
    let mut all = [series("value", &[1.0]), series("acc", &[1.0])];
    let rules = [
        (
            "value".to_string(),
            Direction::Maximize,
            DirectionFrom::Option,
        ),
        (
            "value".to_string(),
            Direction::Minimize,
            DirectionFrom::Config,
        ),
        (
            "acc".to_string(),
            Direction::Minimize,
            DirectionFrom::Config,
        ),
        (
            "nope".to_string(),
            Direction::Minimize,
            DirectionFrom::Option,
        ),
        (
            "other".to_string(),
            Direction::Minimize,
            DirectionFrom::Config,
        ),
    ];
    let warnings = apply_directions(&mut all, &rules);
    assert_eq!(resolve(&all[0], None).1.as_str(), "option");
    assert_eq!(all[0].direction, Some(Direction::Maximize));
    assert_eq!(
        resolve(&all[1], None),
        (
            Direction::Minimize,
            DirectionSource::Stated(DirectionFrom::Config)
        )
    );
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("\"nope\""), "{warnings:?}");
}
