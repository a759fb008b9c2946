"""Keras, XGBoost and LightGBM. The Keras and XGBoost classes subclass the library's own
callback class, so they are built on first use (``perfmon.callbacks.KerasCallback``): importing
perfmon never imports a library."""

from . import _common

# Metrics XGBoost's own early stopping maximizes (xgboost/callback.py, EarlyStopping).
_XGB_MAXIMIZE = ("auc", "aucpr", "pre", "pre@", "map", "ndcg", "auc@", "aucpr@", "map@", "ndcg@")


def xgb_direction(metric):
    m = metric.lower()
    if m != "mape" and any(m.startswith(x) for x in _XGB_MAXIMIZE):
        return "max"
    return "min"


def xgb_groups(evals_log):
    """The last value of each ``data-metric`` of an XGBoost evals_log, grouped by direction.
    Cross-validation logs hold (mean, std) pairs: ``data-metric-mean`` and ``-std``."""
    groups = {"min": {}, "max": {}}
    other = {}
    for data, metrics in evals_log.items():
        for metric, values in metrics.items():
            if not len(values):
                continue
            last = values[-1]
            key = "%s-%s" % (data, metric)
            d = xgb_direction(metric)
            if isinstance(last, (tuple, list)):
                groups[d][key + "-mean"] = last[0]
                other[key + "-std"] = last[1]
            else:
                groups[d][key] = last
    return [("min", groups["min"]), ("max", groups["max"]), (None, other)]


def make_xgboost_class():
    import xgboost

    class XGBoostCallback(xgboost.callback.TrainingCallback):
        """``xgb.train(..., callbacks=[XGBoostCallback()])`` or an sklearn estimator's
        ``callbacks=``: after each boosting round, the last value of each ``data-metric`` (as
        XGBoost prints them, e.g. ``validation_0-rmse``) at ``iter`` = the round (from 0), with
        the direction XGBoost's early stopping uses (auc, map, ndcg... are maximized)."""

        def __init__(self, algo=None):
            super().__init__()
            self.algo = algo

        def after_iteration(self, model, epoch, evals_log):
            _common.emit(xgb_groups(evals_log), iter=epoch, algo=self.algo)
            return False

    return XGBoostCallback


class LightGBMCallback:
    """``lgb.train(..., callbacks=[LightGBMCallback()])`` (also ``lgb.cv`` and the sklearn
    estimators' ``callbacks=``): each round's evaluation results as ``data/metric`` (e.g.
    ``valid_0/l2``; cv: ``valid/l2-mean`` and ``valid/l2-stdv``, LightGBM's own names) at
    ``iter`` = the round (from 0), with LightGBM's own is-higher-better direction."""

    def __init__(self, algo=None):
        self.algo = algo
        self.before_iteration = False

    def __call__(self, env):
        groups = {"min": {}, "max": {}}
        other = {}
        for r in env.evaluation_result_list or ():
            data, metric, value, higher = r[0], r[1], r[2], r[3]
            std = r[4] if len(r) > 4 else None
            key = "%s/%s" % (data, metric)
            if std is not None:
                groups["max" if higher else "min"][key + "-mean"] = value
                other[key + "-stdv"] = std
            else:
                groups["max" if higher else "min"][key] = value
        _common.emit(
            [("min", groups["min"]), ("max", groups["max"]), (None, other)],
            iter=env.iteration,
            algo=self.algo,
        )


def make_keras_class():
    import keras

    class KerasCallback(keras.callbacks.Callback):
        """``model.fit(..., callbacks=[KerasCallback()])``: the epoch's ``logs`` (loss,
        metrics, val_*) at ``iter`` = the epoch (from 0, as in ``History``). With
        ``batches=True`` also each training batch's logs as ``batch/<name>`` at the running
        batch count."""

        def __init__(self, algo=None, batches=False):
            super().__init__()
            self.algo = algo
            self.batches = batches
            self.step = 0

        def on_epoch_end(self, epoch, logs=None):
            _common.emit([(None, _common.flatten(logs or {}))], iter=epoch, algo=self.algo)

        def on_train_batch_end(self, batch, logs=None):
            if not self.batches:
                return
            vals = _common.flatten(logs or {}, prefix="batch")
            _common.emit([(None, vals)], iter=self.step, algo=self.algo)
            self.step += 1

    return KerasCallback

