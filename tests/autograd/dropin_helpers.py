"""Run one snippet under ember and under torch and compare what happened (the test_torch_*
drop-in files share this)."""
import re

import ember


def even(text):
    """Reprs say ``ember.`` where torch says ``torch.`` (README): compare without either."""
    return re.sub(r"\b(torch|ember)\.", "", text)


def outcome(lib, fn):
    """What ``fn(lib)`` does: ("ok", its repr) or ("raise", type name, message)."""
    try:
        value = fn(lib)
    except Exception as exc:  # noqa: BLE001 - the error is what we compare
        return ("raise", type(exc).__name__, even(str(exc)))
    return ("ok", even(repr(value)))


def same(torch, fn):
    """``fn`` does the same under both: equal reprs, or equal exception types and messages."""
    assert outcome(ember, fn) == outcome(torch, fn)
