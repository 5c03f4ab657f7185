"""Module backward hooks (``register_full_backward_hook`` / ``..._pre_hook``), torch's way.

A module call whose module has backward hooks routes its tensor inputs, and then its tensor
outputs, through an identity autograd function. The identity node on the outputs sees the
gradients w.r.t. the outputs first (backward pre-hooks may replace them there); the one on
the inputs sees the gradients w.r.t. the inputs, which is where the user's hooks run
with both, and where a tuple they return replaces the gradients flowing further back.
"""
import warnings

from ... import autograd
from ..._tensor import Tensor

__all__ = ["BackwardHook", "BackwardHookFunction"]


class BackwardHookFunction(autograd.Function):
    """Identity whose backward node carries the module's hooks."""

    @staticmethod
    def forward(ctx, *args):
        ctx.mark_non_differentiable(*[a for a in args if not a.requires_grad])
        return args

    @staticmethod
    def backward(ctx, *grads):
        return grads


def _spread(indices, values, size):
    """``values`` placed at ``indices`` of a ``size``-long tuple of Nones."""
    out = [None] * size
    for i, v in zip(indices, values):
        out[i] = v
    return tuple(out)


class BackwardHook:
    """The hooks of one module call: set up on its inputs, then on its outputs."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = -1
        self.input_index = self.output_index = None

    def _wrap(self, args, on_node):
        """Routes the tensors of ``args`` through the identity; None if nothing needs grad."""
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in index]
        if not (any(t.requires_grad for t in tensors) and autograd.grad_mode.is_grad_enabled()):
            return args, None
        wrapped = BackwardHookFunction.apply(*tensors)
        if not wrapped:
            raise RuntimeError("Cannot set Module backward hook for a Module with no input "
                               "Tensors.")
        node = next(t.grad_fn for t in wrapped if t.grad_fn is not None)
        on_node(node)
        new = list(args)
        for i, t in zip(index, wrapped):
            new[i] = t
        return (tuple(new) if type(args) is tuple else type(args)(*new)), index

    # ---- inputs: where the user's hooks run --------------------------------------------------
    def setup_input_hook(self, args):
        args, self.input_index = self._wrap(args, lambda node: node.register_hook(self._run))
        self.n_inputs = len(args)
        return args

    def _run(self, grad_inputs, _grad_outputs):
        if self.grad_outputs is None:  # the outputs were not part of this backward
            return None
        res = _spread(self.input_index, grad_inputs, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(out)}, but expected {len(res)}")
            res = out
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_index)

    # ---- outputs: gradients w.r.t. them are captured (and pre-hooks run) -----------------
    def setup_output_hook(self, result):
        single = not isinstance(result, tuple)
        args = (result,) if single else result
        args, self.output_index = self._wrap(args, lambda node: node.register_hook(self._capture))
        self.n_outputs = len(args)
        return args[0] if single else args

    def _capture(self, _grad_inputs, grad_outputs):
        self.grad_outputs = _spread(self.output_index, grad_outputs, self.n_outputs)
        for pre_hook in self.user_pre_hooks:
            new = pre_hook(self.module, self.grad_outputs)
            if new is None:
                continue
            if len(new) != len(self.grad_outputs):
                raise RuntimeError("Backward pre hook returned an invalid number of "
                                   f"grad_output, got {len(new)}, but expected "
                                   f"{len(self.grad_outputs)}")
            self.grad_outputs = new
        captured = self.grad_outputs
        if self.input_index is None:  # no input needs grad: the hooks run here, with Nones
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients. See "
                          "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=5)
            nones = (None,) * self.n_inputs
            for hook in self.user_hooks:
                res = hook(self.module, nones, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple)
                                            and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(captured[i] for i in self.output_index)
