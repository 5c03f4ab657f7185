"""``Size``: the shape of an array, a tuple that prints as ``ember.Size([1, 3, 64, 64])``."""
import operator


class Size(tuple):
    __slots__ = ()

    def __new__(cls, iterable=()):
        return super().__new__(cls, (operator.index(s) for s in iterable))

    def __repr__(self):
        return f"ember.Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__

    def __getitem__(self, item):
        result = super().__getitem__(item)
        return Size(result) if isinstance(item, slice) else result

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __reduce__(self):
        return (Size, (tuple(self),))


_tuple_new = tuple.__new__


def size_of(shape: tuple) -> Size:
    """``Size(shape)`` for a tuple that already holds Python ints (a NumPy shape): the hot
    ``.shape`` getters skip the per-element ``operator.index`` (~8k instructions a call)."""
    return _tuple_new(Size, shape)
