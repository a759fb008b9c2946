"""Optuna: ``study.optimize(objective, callbacks=[OptunaCallback()])``."""

from . import _common


def _dir(d):
    name = getattr(d, "name", str(d)).lower()
    return "max" if "max" in name else "min"


class OptunaCallback:
    """Records each finished trial at ``iter`` = its number: ``value`` and the study's ``best``
    so far (for a multi-objective study ``value_0``, ``value_1``... with no best), with the
    direction the study optimizes. Pruned and failed trials carry no value and write nothing."""

    def __init__(self, algo=None):
        self.algo = algo

    def __call__(self, study, trial):
        state = getattr(getattr(trial, "state", None), "name", "COMPLETE")
        if state != "COMPLETE" or trial.values is None:
            return
        directions = list(study.directions)
        if len(directions) == 1:
            vals = {"value": trial.values[0], "best": study.best_value}
            groups = [(_dir(directions[0]), vals)]
        else:
            by_dir = {}
            for i, (d, v) in enumerate(zip(directions, trial.values)):
                by_dir.setdefault(_dir(d), {})["value_%d" % i] = v
            groups = list(by_dir.items())
        _common.emit(groups, iter=trial.number, algo=self.algo)
