"""``Function``: user-defined differentiable ops (``forward(ctx, ...)``, ``backward(ctx, ...)``).

Each subclass ``MyFn`` gets a node class ``MyFnBackward``; ``MyFn.apply`` runs ``forward``
with grad off, then an instance of that node serves both as ``ctx`` and as the outputs'
``grad_fn``, as in torch.
"""
from .._tensor import Tensor
from .. import _grad_mode as grad_mode
from .._core.node import Node, SavedTensor, edge

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` API: saving tensors and marking outputs."""

    def save_for_backward(self, *tensors):
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        self.saved_for_forward = tensors

    def mark_dirty(self, *args):
        self.dirty_tensors = args

    def mark_non_differentiable(self, *args):
        self.non_differentiable = args

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class BackwardCFunction(FunctionCtx, Node):
    """Base of the generated ``<Name>Backward`` node classes."""

    _forward_cls = None

    def __init__(self):
        Node.__init__(self)
        self.to_save = ()
        self.dirty_tensors = ()
        self.non_differentiable = ()
        self.materialize_grads = True

    def apply(self, *grads):
        return self.backward(*grads)

    def backward(self, *grads):
        if not self.materialize_grads:
            grads = tuple(g if g is not None else None for g in grads)
        out = self._forward_cls.backward(self, *grads)
        if not isinstance(out, tuple):
            out = (out,)
        n = len(self.next_functions)
        if len(out) > n and all(g is None for g in out[n:]):
            out = out[:n]
        if len(out) != n:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {n}, got {len(out)})"
            )
        return out


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        backward_cls = type(name + "Backward", (BackwardCFunction,),
                            {"_forward_cls": cls, "__module__": "torch.autograd.function"})
        cls._backward_cls = backward_cls
        super().__init__(name, bases, attrs)


class Function(metaclass=_FunctionMeta):
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``;
    call ``MyFn.apply(*args)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls._backward_cls()
        tensor_args = [a if isinstance(a, Tensor) else None for a in args]
        ctx.needs_input_grad = tuple(t is not None and t._requires_grad for t in tensor_args)
        uses_setup = cls.setup_context is not Function.setup_context
        with grad_mode.no_grad():
            if uses_setup:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        needs = grad_mode.is_grad_enabled() and any(ctx.needs_input_grad)
        dirty = {id(t) for t in ctx.dirty_tensors}
        nondiff = {id(t) for t in ctx.non_differentiable}
        if needs:
            ctx.next_functions = tuple(edge(t) if t is not None else (None, 0)
                                       for t in tensor_args)
            ctx._input_meta = tuple(
                (t._data._np.shape, t._data._np.dtype) if t is not None else None
                for t in tensor_args)
        input_ids = {id(t) for t in tensor_args if t is not None}
        result = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                result.append(o)
                continue
            if id(o) in dirty:
                pass  # the in-place op inside forward already bumped its version
            elif id(o) in input_ids:  # returned an input unchanged: a new alias, as torch
                alias = Tensor._make(o._data)
                alias._version_counter = o._version_counter
                o = alias
            elif o.grad_fn is not None or o._requires_grad:
                o = o.detach()
            if needs and id(outs[i]) not in nondiff and o.dtype.is_floating_point:
                o._requires_grad = True
                o.grad_fn = ctx
                o._output_nr = i
            result.append(o)
        if needs:
            ctx._out_meta = tuple((o._data._np.shape, o._data._np.dtype)
                                  if isinstance(o, Tensor) else ((), None) for o in result)
            saved = []
            out_pos = {id(o): k for k, o in enumerate(outs) if isinstance(o, Tensor)}
            for t in ctx.to_save:
                if t is None:
                    saved.append(None)
                elif id(t) in out_pos and id(t) not in input_ids:
                    r = result[out_pos[id(t)]]
                    saved.append(SavedTensor(None, output_nr=out_pos[id(t)], data=r._data,
                                             counter=r._version_counter))
                else:
                    saved.append(SavedTensor(t))
            ctx._saved = tuple(saved)
        else:
            ctx._saved = tuple(SavedTensor(t) if t is not None else None for t in ctx.to_save)
        return result[0] if single else tuple(result)


def once_differentiable(fn):
    """Marks a custom backward as not differentiable again (runs it with grad off)."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            return fn(ctx, *args)
    return wrapper
