"""In-place forms (``x.add_(y)``, ``x += y``, ``fill_``, ``copy_``) on top of the out-of-place
ops: compute the result, write it into the tensor's memory, bump its version and let the
tensor take over the result's history.

Where the op's node needs none of x's old values (relu, which keeps its output), the
in-place kernel may write x's memory directly instead (``recorded_in_place``): the same
node, edges, version and saved output as the general form, without a result the size of x
computed beside it and copied back."""
import numpy as np

from ember_tensor import Array
from ember_tensor import elementwise as E
from ember_tensor._kernels.fast_path import binary_inplace as _binary_inplace

from .. import _grad_mode as grad_mode
from .._core import views
from .._core.node import Node, record
from .._tensor import Tensor
from ._common import data, is_t, write


# In-place ops whose node keeps none of x's old values (add and sub save nothing), so the
# kernel may write x's memory directly: ``x += y`` is the residual add of every ResNet block
DIRECT_BINARY = ("add", "sub")
# False sends every call to the general form (tests compare the two; A/B timings)
USE_DIRECT_BINARY = True


def inplace(fn, name):
    """``x.<name>_(...)``: compute out of place, then write into x and take over its history."""
    direct = name in DIRECT_BINARY

    def op(self, *args, **kwargs):
        self._check_inplace()
        if (direct and USE_DIRECT_BINARY and len(args) == 1 and type(args[0]) is Tensor
                and self._base is None and not self._views
                and (not kwargs or _alpha_one(kwargs))):
            if _direct_binary(self, args[0], name):
                return self
        if not grad_mode._state.grad_enabled or not (
            self._requires_grad or any(is_t(a) and a._requires_grad for a in args)
            or any(is_t(a) and a._requires_grad for a in kwargs.values())
        ):
            write(self, fn(self, *args, **kwargs))
            self._version_counter[0] += 1
            return self
        # the op must see x as it was, with its history, under a separate identity
        alias = Tensor._make(self._data)
        alias._version_counter = self._version_counter
        alias._requires_grad = self._requires_grad
        alias.grad_fn = self.grad_fn
        alias._output_nr = self._output_nr
        alias._accumulator = self._accumulator
        r = fn(alias, *args, **kwargs)
        _keep_original_input(r, alias)
        write(self, r)
        self._version_counter[0] += 1
        _rebind_saved_output(r, self)
        self.grad_fn = r.grad_fn
        self._output_nr = r._output_nr
        self._requires_grad = r._requires_grad
        if self._base is not None or self._views:
            views.after_inplace(self, r.grad_fn)
        return self

    op.__name__ = op.__qualname__ = name + "_"
    return op


_DIRECT_NODES: dict = {}


def _direct_node(name):
    # the generated nodes' module imports this one: looked up on first use
    from . import generated
    cls = _DIRECT_NODES[name] = getattr(generated, name.capitalize() + "Backward0")
    return cls


def _alpha_one(kwargs):
    return len(kwargs) == 1 and type(kwargs.get("alpha")) is int and kwargs["alpha"] == 1


def _direct_binary(self, other, name):
    """``x.add_(y)``/``x += y`` (sub alike) written straight into x's memory when both are
    plain arrays of one float dtype and shape (``fast_path.binary_inplace``): no result
    computed beside x and copied back. In grad mode the node is recorded as the general
    form records it, on x's history as it was (it saves nothing), x bumps its version once
    and takes the node. False, with nothing written, sends the call to the general form."""
    if not _binary_inplace(name, self._data, other._data):
        return False
    if grad_mode._state.grad_enabled and (self._requires_grad or other._requires_grad):
        node_cls = _DIRECT_NODES.get(name) or _direct_node(name)
        r = record(node_cls, self._data, (self, other))
        self._version_counter[0] += 1
        self.grad_fn = r.grad_fn
        self._output_nr = r._output_nr
        self._requires_grad = r._requires_grad
    else:
        self._version_counter[0] += 1
    return True


def recorded_in_place(self, kernel_, node_cls):
    """``x.<op>_()`` in grad mode for a one-input op whose ``node_cls`` saves its output
    only (relu): ``kernel_`` writes x's memory, then the node is recorded as the general
    form records it (on x's history as it was, saving the result, which is x's memory
    now), x bumps its version and takes the node. The caller has run ``_check_inplace``
    and leaves views, and memory the kernel cannot write, to the general form."""
    kernel_(self._data)
    r = record(node_cls, self._data, (self,), save=(self._data,))
    self._version_counter[0] += 1
    _rebind_saved_output(r, self)
    self.grad_fn = r.grad_fn
    self._output_nr = r._output_nr
    self._requires_grad = r._requires_grad
    return self


def _keep_original_input(r, alias):
    """The node saved x itself (``log_`` needs x, ``lerp_`` needs ``end - x``), but x is about
    to be overwritten: keep a copy of x as it was, with its history, as torch's generated
    in-place code keeps ``original_self``."""
    node = r.grad_fn
    if node is None:
        return
    original = None
    for s in node._saved:
        if s is not None and not s.is_output and s.tensor is alias:
            if original is None:
                original = Tensor._make(alias._data.clone())
                for attr in ("_requires_grad", "grad_fn", "_output_nr", "_accumulator"):
                    setattr(original, attr, getattr(alias, attr))
            s.tensor, s.data = original, original._data
            s.counter, s.version = original._version_counter, original._version_counter[0]


def _rebind_saved_output(r, self):
    """The node saved its output ``r``, but the result lives on in ``self``: watch self's
    version from here on, so ``x.sigmoid_().mul_(2)`` then backward raises torch's
    "modified by an inplace operation" instead of using the overwritten values."""
    node = r.grad_fn
    if node is None:
        return
    for s in node._saved:
        if s is not None and s.is_output and s.counter is r._version_counter:
            s.data = self._data
            s.counter = self._version_counter
            s.version = self._version_counter[0]


class ZeroBackward0(Node):
    """``zero_``/``fill_``: the old values are gone, so they get a zero gradient."""

    def backward(self, g):
        return (_zeros_like(g),)


class FillBackward2(ZeroBackward0):  # fill_ with a Number
    pass


class FillBackward3(Node):  # fill_ with a 0-d Tensor: every element is that tensor
    def backward(self, g):
        return (_zeros_like(g) if self.needs_input_grad[0] else None,
                g.sum() if self.needs_input_grad[1] else None)


def _zeros_like(g):
    return Tensor._make(Array(np.zeros_like(g._data._np)))


def fill_(self, value, _node=FillBackward2):
    self._check_inplace()
    E.fill_(self._data, data(value))
    if grad_mode._state.grad_enabled and (
            self._requires_grad or is_t(value) and value._requires_grad):
        if is_t(value):
            record(FillBackward3, self, (self, value))
        else:
            record(_node, self, (self,))
    else:
        self._version_counter[0] += 1
    return self


def zero_(self):
    return fill_(self, 0, ZeroBackward0)


class CopyBackwards(Node):
    def backward(self, g):
        return (g * 0 if self.needs_input_grad[0] else None,
                g if self.needs_input_grad[1] else None)


def copy_(self, src, non_blocking=False):
    self._check_inplace()
    src_t = src if is_t(src) else Tensor._make(Array(np.asarray(src)))
    dst_shape, src_shape = self._data._np.shape, src_t._data._np.shape
    if src_shape != dst_shape:
        try:
            fits = np.broadcast_shapes(dst_shape, src_shape) == dst_shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(
                f"The size of tensor a ({dst_shape[-1] if dst_shape else 1}) must match the "
                f"size of tensor b ({src_shape[-1] if src_shape else 1}) at non-singleton "
                f"dimension {max(len(dst_shape) - 1, 0)}"
            )
    E.copy_(self._data, src_t._data)
    if grad_mode._state.grad_enabled and (self._requires_grad or src_t._requires_grad):
        record(CopyBackwards, self, (self, src_t))
    else:
        self._version_counter[0] += 1
    return self


TENSOR_METHODS = {"fill_": fill_, "zero_": zero_, "copy_": copy_}
