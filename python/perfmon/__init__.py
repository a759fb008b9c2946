"""Write perfmon's ``@perfmon`` protocol lines from Python: timers, progress and marks.

Lines go to the process's stderr (fd 2) only when running under ``perfmon run`` (which exports
``PERFMON=1``), or when ``PERFMON_FORCE=1`` is set or :func:`enable` was called; otherwise every
call is a no-op, so an instrumented script prints nothing extra on its own.

    import perfmon

    with perfmon.timer("Data Loading"):
        data = load()

    @perfmon.timer("step")
    def step(): ...

    for gen in range(100):
        perfmon.progress(iter=gen, algo="ga", best=best, mean=mean)
    perfmon.mark("restart")

Ready callbacks for SciPy, Optuna, Keras, XGBoost, LightGBM, pymoo and DEAP are in
:mod:`perfmon.callbacks`.
"""

import functools
import inspect

from . import _emit
from ._emit import disable, enable, enabled, reset

__all__ = ["timer", "progress", "progress_dict", "mark", "enable", "disable", "enabled", "reset"]
__version__ = "0.1.0"


class timer:
    """A named timer: a context manager (``with timer("load"):``) and a decorator
    (``@timer("step")``, or bare ``@timer`` to use the function's qualified name).

    Timers nest: one started inside another becomes its child. The stop line is written also
    when the block raises. Names holding blanks are quoted; a double quote becomes a single one.
    Timers of several threads running at once interleave in one nesting (the protocol has one
    stack per run): time whole threads, not overlapping pieces of them.
    """

    def __new__(cls, name):
        if callable(name) and not isinstance(name, str):
            func = name
            return cls(getattr(func, "__qualname__", None) or repr(func))(func)
        return super().__new__(cls)

    def __init__(self, name):
        self.name = _emit.format_name(name)

    def __enter__(self):
        _emit.write_lines(["@perfmon timer start " + self.name])
        return self

    def __exit__(self, exc_type, exc, tb):
        _emit.write_lines(["@perfmon timer stop " + self.name])
        return False

    def __call__(self, func):
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*a, **kw):
                with self:
                    return await func(*a, **kw)

            return async_wrapper

        @functools.wraps(func)
        def wrapper(*a, **kw):
            with self:
                return func(*a, **kw)

        return wrapper


def progress(iter=None, algo=None, direction=None, **values):
    """One progress record: ``progress(iter=3, algo="ga", best=1.5, mean=2.25)``.

    Each keyword is a series. Values are written so that perfmon stores exactly the same double
    (nan and inf included); values that are not numbers, and None, are left out. Keys are made to
    fit the protocol (see ``_emit.sanitize_key``). ``direction`` ("min" or "max") says which way
    is better for every key of this call. Without ``iter`` perfmon counts on from the last one.
    """
    progress_dict(values, iter=iter, algo=algo, direction=direction)


def progress_dict(values, iter=None, algo=None, direction=None):
    """As :func:`progress`, with the values in a mapping (for keys that are not identifiers)."""
    _emit.check_progress_args(iter, direction)
    if _emit.enabled():
        _emit.write_lines(_emit.progress_lines(values, iter=iter, algo=algo, direction=direction))


def mark(text):
    """A point in time with a text: ``mark("restart with a larger population")``."""
    t = _emit.one_line(text).strip()
    if not t:
        raise ValueError("perfmon: a mark needs a text")
    if _emit.enabled():
        _emit.write_lines(["@perfmon mark " + t])
