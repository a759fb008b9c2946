"""SciPy: a callback for ``scipy.optimize.minimize`` and ``differential_evolution``."""

from .. import _emit
from . import _common

# Scalars of an intermediate OptimizeResult that are better when smaller.
_MIN_KEYS = ("fun", "constr_violation", "optimality")
# Other scalars worth a series (DE's convergence rises to 1; evaluation counts).
_OTHER_KEYS = ("convergence", "nfev", "njev", "nhev")


class ScipyCallback:
    """``minimize(f, x0, callback=ScipyCallback())`` or ``differential_evolution(f, bounds,
    callback=ScipyCallback())``.

    Its signature, ``(intermediate_result)``, makes SciPy (>= 1.11 for minimize, >= 1.12 for
    differential_evolution) pass the ``OptimizeResult`` of each iteration: ``fun`` and, where the
    method gives them, ``constr_violation``, ``optimality`` (direction min), ``convergence`` and
    evaluation counts are recorded, at ``nit`` when given, else at 1, 2, ...

    Methods that pass only ``xk`` (``tnc``, and ``cobyla`` with an old-style callback) are read
    too: with ``fun=f`` the objective is evaluated at ``xk`` (one extra call of ``f`` an
    iteration), without it only the iteration count ``nit`` is recorded. For SciPy older than
    1.12, ``differential_evolution(..., callback=cb.legacy)`` takes ``(xk, convergence)``;
    ``basinhopping`` and ``dual_annealing`` take ``callback=cb.xf``.
    """

    def __init__(self, fun=None, algo=None, args=()):
        self.fun = fun
        self.args = tuple(args)
        self.algo = algo
        self.count = 0

    def __call__(self, intermediate_result):
        self.count += 1
        res = intermediate_result
        if not hasattr(res, "keys"):
            self._record_x(res, {})
            return
        it = res.get("nit", self.count)
        best = {k: res[k] for k in _MIN_KEYS if k in res}
        other = {k: res[k] for k in _OTHER_KEYS if k in res}
        _common.emit([("min", best), (None, other)], iter=it, algo=self.algo)

    def legacy(self, xk, convergence=None, *rest):
        """The old ``callback(xk, convergence=val)`` form (SciPy < 1.12)."""
        self.count += 1
        extra = {} if convergence is None else {"convergence": convergence}
        self._record_x(xk, extra)

    def xf(self, x, f, *rest):
        """The ``callback(x, f, ...)`` form of ``basinhopping`` and ``dual_annealing``: ``fun``
        = each minimum they report, at 1, 2, ..."""
        self.count += 1
        _common.emit([("min", {"fun": f})], iter=self.count, algo=self.algo)

    def _record_x(self, xk, other):
        if not _emit.enabled():  # no extra objective evaluations when nothing is written
            return
        if self.fun is not None:
            best = {"fun": self.fun(xk, *self.args)}
        else:
            best = {}
            other = dict(other, nit=self.count)
        _common.emit([("min", best), (None, other)], iter=self.count, algo=self.algo)

