"""The compiled base of ``ember.Tensor``: its fields, construction and hot getters.

``ember._tensor.Tensor`` is a Python subclass (so users and ``nn.Parameter`` subclass it as
in torch, and instances still get a ``__dict__``); everything that is not read on every op
stays there in Python.
"""
from ember_tensor._size import size_of

from .grad_flags cimport inference_enabled  # copied into each tensor at creation

_REQUIRES_GRAD_DTYPE = "Only Tensors of floating point and complex dtype can require gradients"


cdef TensorBase new_tensor(type cls, object data):
    """A ``cls`` over ``data`` with no history: what ``Tensor._make`` does, callable from C."""
    cdef TensorBase t = <TensorBase>instance_of(TensorBase, cls)
    t._data = data
    t._version_counter = [0]
    t._inference = inference_enabled()
    return t


cdef class TensorBase:
    """Fields start as None/False/0 (tp_new); ``_init`` fills the rest."""

    def _init(self, data, requires_grad=False):
        self._data = data
        self._requires_grad = requires_grad
        self._grad = None
        self.grad_fn = None
        self._version_counter = [0]
        self._output_nr = 0
        self._hooks = None
        self._accumulator = None
        self._retains_grad = False
        self._inference = inference_enabled()
        self._base = None
        self._views = None

    @classmethod
    def _make(cls, array, requires_grad=False):
        """Wrap an ``Array`` (no copy) as a tensor with no history."""
        cdef TensorBase t = new_tensor(cls, array)
        t._requires_grad = requires_grad
        return t

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = bool(flag)
        if self.grad_fn is not None:
            if flag:
                raise RuntimeError("you can only change requires_grad flags of leaf variables.")
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if flag and not self._data.dtype.is_floating_point:
            raise RuntimeError(_REQUIRES_GRAD_DTYPE)
        self._requires_grad = flag

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def _version(self):
        return self._version_counter[0]

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def shape(self):
        return size_of(self._data._np.shape)

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data._np.ndim

    def dim(self):
        return self._data._np.ndim

    def numel(self):
        return self._data._np.size
