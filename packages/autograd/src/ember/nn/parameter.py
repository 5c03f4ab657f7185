"""``Parameter``: a leaf Tensor that a Module registers as one of its learnable weights."""
import ember_tensor

from .._tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that is a model weight: always a leaf, sharing ``data``'s memory.

    ``Parameter(t)`` keeps ``t``'s storage (an in-place update of either is seen by both),
    drops its history, and requires grad unless ``requires_grad=False``.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = Tensor._make(ember_tensor.empty(0))
        if not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter.__new__ expected a Tensor as data, but got {type(data).__name__}"
            )
        self = _make_as(cls, data)
        self.requires_grad_(bool(requires_grad))
        return self

    def __init__(self, *args, **kwargs):
        # everything happened in __new__; Tensor.__init__ must not rebuild the data
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    # Tensor aliases __str__ to its own __repr__: re-point it (Tensor's takes torch's
    # tensor_contents keyword, which a Parameter's repr has no use for)
    __str__ = __repr__  # type: ignore[assignment]

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.data, self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result


def _make_as(cls, data):
    """A new ``cls`` instance over ``data``'s Array, with a fresh autograd identity."""
    made = cls._make(data._data)
    if type(made) is not cls:  # ``_make`` builds a plain Tensor: re-class it in place
        made.__class__ = cls
    # a view shares the version counter with its base, so in-place bumps stay visible
    counter = getattr(data, "_version_counter", None)
    if counter is not None:
        made._version_counter = counter
    return made


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)

