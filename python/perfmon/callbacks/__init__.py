"""Ready callbacks that write perfmon progress from inside libraries.

========================  ==============================================================
SciPy                     ``minimize(..., callback=ScipyCallback())``,
                          ``differential_evolution(..., callback=ScipyCallback())``
Optuna                    ``study.optimize(f, callbacks=[OptunaCallback()])``
Keras                     ``model.fit(..., callbacks=[KerasCallback()])``
XGBoost                   ``xgb.train(..., callbacks=[XGBoostCallback()])``
LightGBM                  ``lgb.train(..., callbacks=[LightGBMCallback()])``
pymoo                     ``minimize(problem, algorithm, callback=PymooCallback())``
DEAP                      ``eaSimple(..., stats=DeapStats(stats))`` or ``deap_record(logbook)``
========================  ==============================================================

``KerasCallback``, ``XGBoostCallback`` and ``PymooCallback`` subclass the library's callback
class, so they are built when first looked up: importing this module imports no library.
Like everything in perfmon, they write nothing unless running under perfmon.
"""

from ._evo import DeapStats, deap_record
from ._ml import LightGBMCallback
from ._optuna import OptunaCallback
from ._scipy import ScipyCallback

# Only the callbacks that need no import: `from perfmon.callbacks import *` must not import
# Keras, XGBoost or pymoo (the lazy names below are imported by name).
__all__ = ["ScipyCallback", "OptunaCallback", "LightGBMCallback", "DeapStats", "deap_record"]

_LAZY = {
    "KerasCallback": ("_ml", "make_keras_class"),
    "XGBoostCallback": ("_ml", "make_xgboost_class"),
    "PymooCallback": ("_evo", "make_pymoo_class"),
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    import importlib

    module, factory = _LAZY[name]
    cls = getattr(importlib.import_module("." + module, __name__), factory)()
    globals()[name] = cls
    return cls


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
