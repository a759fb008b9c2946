"""pymoo and DEAP."""

from . import _common


def pymoo_groups(algorithm):
    """What pymoo's own display shows of a generation: the best objective value(s) of the
    current optimum (``f_min``, or ``f_min_0``, ``f_min_1``... for several objectives), the
    population's mean (``f_avg``...), ``cv_min`` for a constrained problem (direction min), and
    ``n_eval``."""
    best = {}
    opt = getattr(algorithm, "opt", None)
    if opt is not None and len(opt):
        best["f_min"] = opt.get("F").min(axis=0)
    pop = getattr(algorithm, "pop", None)
    if pop is not None and len(pop):
        best["f_avg"] = pop.get("F").mean(axis=0)
        problem = getattr(algorithm, "problem", None)
        if problem is not None and problem.has_constraints():
            best["cv_min"] = pop.get("CV").min()
    n_eval = getattr(getattr(algorithm, "evaluator", None), "n_eval", None)
    return [("min", _common.flatten(best)), (None, {"n_eval": n_eval})]


def make_pymoo_class():
    from pymoo.core.callback import Callback

    class PymooCallback(Callback):
        """``minimize(problem, algorithm, callback=PymooCallback())``: each generation at
        ``iter`` = ``n_gen`` (from 1), see ``pymoo_groups`` for the values."""

        def __init__(self, algo=None):
            super().__init__()
            self.algo = algo

        def notify(self, algorithm):
            _common.emit(pymoo_groups(algorithm), iter=algorithm.n_gen, algo=self.algo)

    return PymooCallback


class DeapStats:
    """Wraps a ``deap.tools.Statistics`` or ``MultiStatistics`` given to DEAP's algorithms
    (``eaSimple(..., stats=DeapStats(stats))``): each ``compile`` (one a generation) also
    records the compiled values at ``iter`` = 0, 1, ... (the ``gen`` of the logbook);
    MultiStatistics chapters become ``fitness/avg``..., a per-objective array ``avg_0``...
    Everything else is the wrapped object's."""

    def __init__(self, stats, algo=None, direction=None):
        self.stats = stats
        self.algo = algo
        self.direction = direction
        self.gen = 0

    def compile(self, data):
        record = self.stats.compile(data)
        _common.emit([(self.direction, _common.flatten(record))], iter=self.gen, algo=self.algo)
        self.gen += 1
        return record

    def __getattr__(self, name):
        if name == "stats":
            raise AttributeError(name)
        return getattr(self.stats, name)


def deap_record(logbook, algo=None, direction=None, iter_key="gen"):
    """Records the last entry of a ``deap.tools.Logbook`` (call it after ``logbook.record``),
    chapters included as ``chapter/key``, at ``iter`` = its ``gen`` (else counting on)."""
    if not len(logbook):
        return
    last = dict(logbook[-1])
    it = last.pop(iter_key, None)
    plain = set(last)
    for name, chapter in getattr(logbook, "chapters", {}).items():
        if len(chapter):
            # A chapter's entry repeats the record's plain keys (gen, nevals): left out.
            entry = {k: v for k, v in chapter[-1].items() if k != iter_key and k not in plain}
            last[name] = entry
    _common.emit([(direction, _common.flatten(last))], iter=it, algo=algo)
