"""torch's tensor repr, character for character, with ``ember.`` for ``torch.``.

The algorithm follows the behaviour of torch's printer: one formatter for the whole tensor
(integer mode when every finite value is whole, scientific mode when magnitudes span more
than 1000x or leave [1e-4, 1e8]), every element padded to the widest, rows wrapped to the
line width, and big tensors summarised to their edge items with ``...``.
"""
import math

import numpy as np

from . import _dtype as D

__all__ = ["format_tensor", "set_printoptions", "get_printoptions", "printoptions"]

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}
_PROFILES = {
    "default": dict(_DEFAULTS),
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_opts = dict(_DEFAULTS, sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set print options as ``torch.set_printoptions``; ``sci_mode`` is always reset to the
    given value (None lets the formatter decide)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"unknown print profile {profile!r}")
        _opts.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _opts[key] = value
    _opts["sci_mode"] = sci_mode


def get_printoptions():
    """The current options as a dict that ``set_printoptions(**d)`` accepts."""
    return {k: _opts[k] for k in ("precision", "threshold", "edgeitems", "linewidth",
                                  "sci_mode")}


class printoptions:
    """Context manager: ``with printoptions(precision=2): ...`` restores the old options."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs

    def __enter__(self):
        self._old = get_printoptions()
        set_printoptions(**self._kwargs)

    def __exit__(self, *exc):
        set_printoptions(**self._old)


# ---- the formatter ------------------------------------------------------------------------
class _Formatter:
    """Decides int/sci mode and the common width from the values that will be shown."""

    def __init__(self, values, floating):
        # values: 1-D ndarray of every element that will be printed
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        p = _opts["precision"]
        if not floating:
            if values.size:
                if values.dtype == np.bool_:
                    self.width = 5 if not values.all() else 4
                else:
                    lo, hi = values.min(), values.max()
                    self.width = max(1, len(str(int(lo))), len(str(int(hi))))
            return
        finite = values[np.isfinite(values) & (values != 0)]
        if finite.size == 0:
            return
        absval = np.abs(finite.astype(np.float64))
        lo, hi = absval.min(), absval.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        forced = _opts["sci_mode"]
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if forced is None \
            else forced
        # a formatted value's length grows with its magnitude (rounding is monotonic), so
        # the widest string comes from the extremes of each sign
        pos, neg = finite[finite > 0], finite[finite < 0]
        candidates = []
        for part in (pos, neg):
            if part.size:
                candidates += [part.min().item(), part.max().item()]
        if self.sci_mode:
            fmt = "{:.%de}" % p
            widths = [len(fmt.format(v)) for v in candidates]
        elif self.int_mode:
            widths = [len(f"{v:.0f}") + 1 for v in candidates]
        else:
            fmt = "{:.%df}" % p
            widths = [len(fmt.format(v)) for v in candidates]
        self.width = max([self.width] + widths)

    def format(self, value):
        if self.floating:
            if self.sci_mode:
                s = "{:{w}.{p}e}".format(value, w=self.width, p=_opts["precision"])
            elif self.int_mode:
                s = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    s += "."
            else:
                s = "{:.{p}f}".format(value, p=_opts["precision"])
        else:
            s = f"{value}"
        return " " * (self.width - len(s)) + s


def _summarized_values(x, edge):
    """The elements a summarised print shows (order irrelevant: only the formatter reads it)."""
    if x.ndim == 0:
        return x.reshape(1)
    if x.ndim == 1:
        if x.shape[0] > 2 * edge:
            return np.concatenate((x[:edge], x[-edge:] if edge else x[0:]))
        return x
    if not edge:
        return x.reshape(-1)[:0]
    rows = range(x.shape[0])
    if x.shape[0] > 2 * edge:
        rows = list(range(edge)) + list(range(x.shape[0] - edge, x.shape[0]))
    parts = [_summarized_values(x[i], edge) for i in rows]
    return np.concatenate(parts) if parts else x.reshape(-1)[:0]


def _vector(x, indent, summarize, fmt):
    edge = _opts["edgeitems"]
    per_line = max(1, math.floor((_opts["linewidth"] - indent) / (fmt.width + 2)))
    if summarize and not edge:
        items = ["..."]
    elif summarize and x.shape[0] > 2 * edge:
        items = ([fmt.format(v) for v in x[:edge].tolist()] + [" ..."]
                 + [fmt.format(v) for v in x[-edge:].tolist()])
    else:
        items = [fmt.format(v) for v in x.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(x, indent, summarize, fmt):
    if x.ndim == 0:
        return fmt.format(x.item())
    if x.ndim == 1:
        return _vector(x, indent, summarize, fmt)
    edge = _opts["edgeitems"]
    n = x.shape[0]
    if summarize and n > 2 * edge:
        rows = ([_nested(x[i], indent + 1, summarize, fmt) for i in range(edge)] + ["..."]
                + [_nested(x[i], indent + 1, summarize, fmt) for i in range(n - edge, n)])
    else:
        rows = [_nested(x[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (x.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _body(x, indent):
    if x.size == 0:
        return "[]"
    summarize = x.size > _opts["threshold"]
    shown = _summarized_values(x, _opts["edgeitems"]) if summarize else x.reshape(-1)
    floating = x.dtype.kind == "f"
    fmt = _Formatter(shown, floating)
    return _nested(x, indent, summarize, fmt)


def _add_suffixes(text, suffixes, indent):
    out = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _opts["linewidth"]:
            out.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            out.append(", " + suffix)
            last_line_len += len(suffix) + 2
    out.append(")")
    return "".join(out)


def format_tensor(array, suffixes=(), prefix="tensor("):
    """torch's repr of ``array``; ``suffixes`` (e.g. 'grad_fn=<SumBackward0>') go after the
    size/dtype suffixes, wrapped to the line width as torch does."""
    x = array._np
    dtype = D.from_numpy_dtype(x.dtype)
    indent = len(prefix)
    extra = []
    if x.size == 0:
        if x.ndim != 1:
            extra.append("size=" + str(tuple(x.shape)))
        if dtype is not D.get_default_dtype():
            extra.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if not _opts["edgeitems"]:
            extra.append("size=" + str(tuple(x.shape)))
        if dtype not in (D.get_default_dtype(), D.int64, D.bool):
            extra.append(f"dtype={dtype!r}")
        body = _body(x, indent)
    return _add_suffixes(prefix + body, extra + list(suffixes), indent)
