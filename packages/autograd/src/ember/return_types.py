"""``torch.return_types``: the named tuples that ops returning several tensors give back
(``values``/``indices`` of ``sort``, ``topk``, ``max(dim)``, ...), one class per op as in
torch, so ``isinstance(r, ember.return_types.topk)``, unpacking, indexing, the field names,
pickling and torch's repr all work.

Other result kinds get their class from ``structseq(name, fields)``.
"""
from __future__ import annotations

__all__ = ["structseq"]


class _StructSeq(tuple):
    """A fixed-length tuple with named fields; subclasses set ``_fields``."""

    __slots__ = ()
    _fields: tuple = ()

    def __new__(cls, *items):
        if len(items) == 1 and isinstance(items[0], (tuple, list)):
            items = tuple(items[0])  # torch's structseqs are built from one sequence
        if len(items) != len(cls._fields):
            raise TypeError(f"torch.return_types.{cls.__name__}() takes a {len(cls._fields)}-"
                            f"sequence ({len(items)}-sequence given)")
        return super().__new__(cls, items)

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{body})"

    def __reduce__(self):
        return (type(self), (tuple(self),))


def _field(i):
    return property(lambda self: self[i])


def structseq(name: str, fields: tuple[str, ...]) -> type:
    """A return-type class ``name`` with ``fields``, registered in this module."""
    cls = globals().get(name)
    if cls is not None:
        return cls
    attrs = {"__slots__": (), "_fields": tuple(fields), "__module__": __name__,
             "__qualname__": name}
    attrs.update({f: _field(i) for i, f in enumerate(fields)})
    cls = type(name, (_StructSeq,), attrs)
    globals()[name] = cls
    __all__.append(name)
    return cls


for _op in ("sort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin",
            "max", "min"):
    structseq(_op, ("values", "indices"))
    structseq(_op + "_out", ("values", "indices"))
