"""Higher-level autograd: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``, ``vhp``.

Signatures and results follow ``torch.autograd.functional``. Everything here is built on
``ember.autograd.grad``: a Jacobian is one vector-Jacobian product per output element
(reverse mode), and a Jacobian-vector product is the "double-vjp" trick (the vjp of a vjp is
linear in its cotangent, so differentiating it gives J·v).
"""
from .._core.entry import grad
from .._creation import ones_like, zeros, zeros_like
from .._grad_mode import enable_grad
from .._ops.shape import stack
from .._tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, arg_name, fn_name):
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            what = f"Entry {i} in " if is_tuple else ""
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but {what}the value given has type {type(item)}."
            )
    return is_tuple, items


def _prepare_inputs(inputs, create_graph):
    # fresh leaves that share memory with the caller's tensors, so we never write their .grad
    out = []
    for x in inputs:
        y = x.detach() if not create_graph or not x.requires_grad else x.view_as(x)
        out.append(y.requires_grad_(True) if not y.requires_grad else y)
    return tuple(out)


def _grad(outputs, inputs, grad_outputs, create_graph, retain_graph=True):
    outs, gos = [], []
    for o, g in zip(outputs, grad_outputs):
        if o.requires_grad:
            outs.append(o)
            gos.append(g)
    if not outs:
        return (None,) * len(inputs)
    return grad(outs, inputs, gos, retain_graph=retain_graph,
                               create_graph=create_graph, allow_unused=True)


def _fill_none(grads, refs, strict, what):
    result = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"The {what} for input {i} is independent of the inputs in strict mode."
                )
            g = zeros_like(ref)
        result.append(g)
    return tuple(result)


def _untuple(is_tuple, items):
    return tuple(items) if is_tuple else items[0]


def _detach_all(items, create_graph):
    return tuple(x if create_graph else x.detach() for x in items)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ·J): the vector-Jacobian product, what ``backward(gradient=v)`` does."""
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare_inputs(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                       "vjp")
        if v is None:
            if len(outputs) != 1 or outputs[0].numel() != 1:
                raise RuntimeError(
                    "The vector v can only be None if the user-provided function returns a "
                    "single Tensor with a single element."
                )
            v = (ones_like(outputs[0]),)
        else:
            _, v = _as_tuple(v, "v", "vjp")
            _check_shapes(v, outputs, "v", "outputs")
        grads = _grad(outputs, inputs, v, create_graph)
        grads = _fill_none(grads, inputs, strict, "output")
    return (_untuple(out_tuple, _detach_all(outputs, create_graph)),
            _untuple(in_tuple, _detach_all(grads, create_graph)))


def _check_shapes(vs, refs, v_name, ref_name):
    if len(vs) != len(refs):
        raise RuntimeError(
            f"{v_name} is a tuple of invalid length: should be {len(refs)} but got {len(vs)}."
        )
    for i, (a, b) in enumerate(zip(vs, refs)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(
                f"Entry {i} in {v_name} has invalid size: should be {tuple(b.shape)} but got "
                f"{tuple(a.shape)}."
            )


def _input_shaped_v(v, inputs, fn_name):
    """The vector of a jvp/vhp: given, it must match the inputs; omitted, a single 1."""
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function "
                "is a single Tensor with a single element."
            )
        return (ones_like(inputs[0]),)
    _, v = _as_tuple(v, "v", fn_name)
    _check_shapes(v, inputs, "v", "inputs")
    return v


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J·v), by differentiating a vjp with respect to its cotangent."""
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare_inputs(inputs, create_graph)
        v = _input_shaped_v(v, inputs, "jvp")
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                       "jvp")
        # u is a dummy cotangent; g(u) = Jᵀu is linear in u, so d(g·v)/du = J v.
        us = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        grads = _grad(outputs, inputs, us, create_graph=True)
        pairs = [(g, vi) for g, vi in zip(grads, v) if g is not None and g.requires_grad]
        if pairs:
            jv = grad([g for g, _ in pairs], us, [vi for _, vi in pairs],
                                     create_graph=create_graph, allow_unused=True)
        else:
            jv = (None,) * len(us)
        jv = _fill_none(jv, outputs, strict, "jvp")
    return (_untuple(out_tuple, _detach_all(outputs, create_graph)),
            _untuple(out_tuple, _detach_all(jv, create_graph)))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for output i and input j, a tensor of shape
    ``out_i.shape + in_j.shape``, nested in tuples exactly as torch returns them."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare_inputs(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                       "jacobian")
        table = []
        for i, out in enumerate(outputs):
            flat = out.reshape(-1)
            rows = [[] for _ in inputs]
            for k in range(flat.numel()):
                if out.requires_grad:
                    grads = grad(flat[k], inputs, retain_graph=True,
                                                create_graph=create_graph, allow_unused=True)
                else:
                    grads = (None,) * len(inputs)
                for j, (g, x) in enumerate(zip(grads, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {j}. This is not allowed in strict mode."
                            )
                        g = zeros_like(x)
                    rows[j].append(g)
            per_input = []
            for j, x in enumerate(inputs):
                if rows[j]:
                    jac = stack(rows[j]).reshape(tuple(out.shape) + tuple(x.shape))
                else:
                    jac = zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype)
                per_input.append(jac if create_graph else jac.detach())
            table.append(_untuple(in_tuple, per_input))
    return _untuple(out_tuple, table)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        out = func(*xs)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError(
                "The function given to hessian should return a single Tensor containing a "
                "single element"
            )
        if not outs[0].requires_grad:
            return tuple(zeros_like(x) for x in xs)
        grads = grad(outs[0], xs, create_graph=True, allow_unused=True)
        return tuple(zeros_like(x) if g is None else g for g, x in zip(grads, xs))

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict)
    if not in_tuple:
        return result[0][0]
    return result


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ·H)."""
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prepare_inputs(inputs, create_graph)
        v = _input_shaped_v(v, inputs, "vhp")
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                       "vhp")
        if out_tuple or outputs[0].numel() != 1:
            raise RuntimeError(
                "The function given to vhp should return a single Tensor with a single element."
            )
        grads = _grad(outputs, inputs, (ones_like(outputs[0]),), create_graph=True)
        pairs = [(g, vi, x) for g, vi, x in zip(grads, v, inputs)
                 if g is not None and g.requires_grad]
        if pairs:
            res = grad([g for g, _, _ in pairs], inputs,
                                      [vi for _, vi, _ in pairs], create_graph=create_graph,
                                      allow_unused=True)
        else:
            res = (None,) * len(inputs)
        res = _fill_none(res, inputs, strict, "vhp")
    return (_detach_all(outputs, create_graph)[0],
            _untuple(in_tuple, _detach_all(res, create_graph)))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H·v). The Hessian is symmetric, so this equals vhp's result."""
    return vhp(func, inputs, v=v, create_graph=create_graph, strict=strict)
