"""Formatting and writing of ``@perfmon`` protocol lines (grammar: src/parse/protocol.rs).

Every line is written with one ``os.write`` to file descriptor 2 under a lock: perfmon reads
the process's fd 2, which is the real stderr even when ``sys.stderr`` is replaced (Jupyter's
kernel stream, a test runner's capture, a ``contextlib.redirect_stderr``). Text that Python still
buffers in ``sys.stderr`` is flushed first, so output keeps its order, and tqdm's bars are
cleared meanwhile (other text left without a newline still runs into the next line, ours
included: the README says so).
"""

import contextlib
import numbers
import os
import re
import select
import sys
import threading
import warnings

ENV_VAR = "PERFMON"
FORCE_VAR = "PERFMON_FORCE"

# None: follow the environment; True/False: set by enable()/disable().
_forced = None
_lock = threading.Lock()
_warned = set()


def _new_lock():
    # A child forked while another thread held the lock would wait forever on it.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock)

# What a progress key may hold (protocol.rs): a letter, then letters, digits, _ - . /
_KEY_BAD = re.compile(r"[^A-Za-z0-9_./-]+")
_RESERVED = ("algo", "iter", "direction")
# A progress line is split into several (same iter) past this many bytes; well under the
# parser's 64 KiB line limit and a pipe's 4 KiB atomic write.
MAX_LINE_BYTES = 3500
# Ints beyond this are written as floats: the parser reads at most 40 characters a number.
_EXACT_INT = 2**53


def enabled():
    """True when lines are written: under perfmon (PERFMON=1), PERFMON_FORCE=1, or enable()."""
    if _forced is not None:
        return _forced
    return os.environ.get(ENV_VAR) == "1" or os.environ.get(FORCE_VAR) == "1"


def enable(on=True):
    """Writes lines even when not under perfmon (on=True), never (on=False)."""
    global _forced
    _forced = bool(on)


def disable():
    enable(False)


def reset():
    """Back to following the environment."""
    global _forced
    _forced = None


def _warn_once(what, message):
    if what not in _warned:
        _warned.add(what)
        warnings.warn("perfmon: " + message, RuntimeWarning, stacklevel=4)


def one_line(text):
    return " ".join(str(text).splitlines()).replace("\x00", " ")


def format_name(name):
    """A timer name as the protocol reads it back: quoted when it holds blanks or a quote.

    A double quote cannot appear inside a quoted name, so it becomes a single quote.
    """
    n = one_line(name).replace('"', "'")
    if not n.strip():
        raise ValueError("perfmon: a timer name must not be empty")
    if n != n.strip() or any(c in n for c in " \t"):
        return '"' + n + '"'
    return n


def format_word(value):
    """An algo= value: bare when it is one word, else quoted (double quotes become single)."""
    v = one_line(value).replace('"', "'")
    return '"' + v + '"' if (not v or any(c in v for c in " \t")) else v


def sanitize_key(key):
    """A progress key the grammar accepts: each run of other characters becomes `_`, a key
    that does not start with a letter gets `k` in front, and the reserved words algo, iter and
    direction get a trailing `_` (`valid_0's l2` -> `valid_0_s_l2`, `ndcg@5` -> `ndcg_5`,
    `1st` -> `k1st`, `iter` -> `iter_`)."""
    k = _KEY_BAD.sub("_", str(key))
    if not k or not ("a" <= k[0].lower() <= "z"):
        k = "k" + k
    if k in _RESERVED:
        k += "_"
    return k


def format_number(value):
    """A number written so the parser reads back exactly the same double: repr of a float is
    the shortest round-trip form; nan, inf and -inf are words the parser accepts. Ints stay
    ints while a double holds them exactly. None when the value is not a real number."""
    if type(value) is float:  # the common case, before the slower ABC checks
        return repr(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, numbers.Integral):
        v = int(value)
        if abs(v) <= _EXACT_INT:
            return str(v)
        return repr(float(v))
    if isinstance(value, (str, bytes)) or (
        isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real)
    ):
        return None
    try:
        return repr(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


def format_iter(it):
    if type(it) is int:
        return str(it)
    if isinstance(it, bool) or not isinstance(it, numbers.Integral):
        if isinstance(it, numbers.Real) and float(it).is_integer():
            return str(int(it))
        raise ValueError("perfmon: iter must be an integer, not %r" % (it,))
    return str(int(it))


_DIRECTIONS = {"min": "min", "minimize": "min", "max": "max", "maximize": "max"}


def format_direction(direction):
    d = _DIRECTIONS.get(str(direction).lower())
    if d is None:
        raise ValueError("perfmon: direction must be min or max, not %r" % (direction,))
    return d


def check_progress_args(iter=None, direction=None):
    """Raises ValueError for an iter or direction the protocol cannot carry (also when not
    writing, so a mistake shows without perfmon too)."""
    if iter is not None:
        format_iter(iter)
    if direction is not None:
        format_direction(direction)


def _progress_head(iter, algo, direction):
    head = ["@perfmon progress"]
    if algo is not None:
        head.append("algo=" + format_word(algo))
    if iter is not None:
        head.append("iter=" + format_iter(iter))
    if direction is not None:
        head.append("direction=" + format_direction(direction))
    return " ".join(head)


def _progress_fields(values):
    fields = []
    seen = set()
    for key, value in values.items():
        num = format_number(value)
        if num is None:
            if value is not None:
                _warn_once(("value", key), "%r=%r is not a number; not recorded" % (key, value))
            continue
        k = sanitize_key(key)
        base, n = k, 2
        while k in seen:
            k = "%s_%d" % (base, n)
            n += 1
        seen.add(k)
        fields.append(k + "=" + num)
    return fields


def progress_lines(values, iter=None, algo=None, direction=None):
    """The protocol lines of one progress record (several, each with the same head, when it is
    long). Values that are not numbers are left out (one warning a key); nan and inf are kept."""
    prefix = _progress_head(iter, algo, direction)
    lines = []
    cur = prefix
    for f in _progress_fields(values):
        if cur != prefix and len(cur) + 1 + len(f) > MAX_LINE_BYTES:
            lines.append(cur)
            cur = prefix
        cur += " " + f
    if cur != prefix:
        lines.append(cur)
    return lines


def _tqdm_classes():
    """The tqdm classes loaded that have bars open (tqdm.auto's may keep its own set)."""
    out = []
    for mod in ("tqdm", "tqdm.auto", "tqdm.asyncio", "tqdm.notebook"):
        cls = getattr(sys.modules.get(mod), "tqdm", None)
        if isinstance(cls, type) and getattr(cls, "_instances", None) and cls not in out:
            out.append(cls)
    return out


def _bars_cleared(stack, classes):
    """Clears tqdm's bars while lines are written (tqdm's own external_write_mode): a bar on
    stderr is a line without its newline, which a protocol line would otherwise be glued to
    and lost in (Optuna's show_progress_bar, a loop under tqdm). Clearing ends with a `\r`,
    after which perfmon reads the line."""
    for cls in classes:
        try:
            stack.enter_context(cls.external_write_mode(file=sys.stderr))
        except Exception:  # an unknown tqdm: write as usual
            pass


def write_lines(lines):
    """Writes whole lines to fd 2, one write each, when enabled. Never raises for I/O."""
    if not lines or not enabled():
        return
    with _lock:
        for stream in (sys.stderr, sys.__stderr__):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        bars = _tqdm_classes() if "tqdm" in sys.modules else ()
        if not bars:
            _write_fd2(lines)
            return
        with contextlib.ExitStack() as stack:
            _bars_cleared(stack, bars)
            _write_fd2(lines)


def _write_fd2(lines):
    for line in lines:
        data = (line + "\n").encode("utf-8", "replace")
        try:
            while data:
                try:
                    n = os.write(2, data)
                except BlockingIOError:  # a non-blocking fd 2 that is full: wait for it
                    select.select([], [2], [], 1.0)
                    continue
                data = data[n:]
        except OSError as e:
            _warn_once("write", "cannot write to stderr (%s); lines are lost" % e)
            return
