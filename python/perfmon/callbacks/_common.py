"""What the callbacks share: flattening library records into protocol keys, and writing one
record as one line per direction."""

import numbers

from .. import _emit


def flatten(values, prefix="", sep="/"):
    """A flat {key: scalar} of a record: nested mappings join keys with `sep`, sequences and
    1-d arrays of numbers get `_0`, `_1`... (a one-element one keeps the bare key)."""
    out = {}
    for key, value in values.items():
        name = "%s%s%s" % (prefix, sep if prefix else "", key)
        if hasattr(value, "items"):
            out.update(flatten(value, name, sep))
            continue
        seq = _as_list(value)
        if seq is None:
            out[name] = value
        elif len(seq) == 1:
            out[name] = seq[0]
        else:
            for i, v in enumerate(seq):
                out["%s_%d" % (name, i)] = v
    return out


def _as_list(value):
    """The elements of a 1-d sequence or array of numbers, else None (a scalar or other)."""
    if isinstance(value, (str, bytes, numbers.Number)):
        return None
    shape = getattr(value, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            return None
        if len(shape) != 1:
            return None
        return value.tolist() if hasattr(value, "tolist") else list(value)
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, numbers.Number) for v in value):
            return list(value)
    return None


def emit(groups, iter=None, algo=None):
    """Writes one record given as [(direction or None, {key: value}), ...]: one line a group
    (empty groups are skipped), all with the same iter. Nothing is computed when off."""
    if not _emit.enabled():
        return
    lines = []
    for direction, values in groups:
        if values:
            lines += _emit.progress_lines(values, iter=iter, algo=algo, direction=direction)
    _emit.write_lines(lines)
