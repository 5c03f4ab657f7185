"""``out=`` for the everyday functions, with torch's rules in one place.

The names below say which ``ember.*`` functions get which form; ``tools/generate_ops.py``
applies them in ``ember/_namespace.py`` (``name = with_out(name, "name", exact)``).

``torch.add(a, b, out=o)`` computes as usual, then writes into ``o``: an empty ``o`` is
resized silently, a non-empty one of another shape is resized with torch's deprecation
warning; the result's dtype must be castable to ``o``'s (the matmul family and argmax/argmin
want ``o``'s dtype exactly); and, while grad mode is on, no argument (nor ``o``) may require
grad, since out= forms are not differentiable.
"""
import functools

import numpy as np

from ember_tensor import _elementwise_core as C
from ember_tensor import elementwise as E

from .. import _grad_mode as grad_mode
from ._common import Tensor, is_t

# functions whose out= must already have the result's dtype (torch's structured kernels)
EXACT_DTYPE = ("matmul", "mm", "bmm", "addmm", "mv", "dot", "outer", "argmax", "argmin")
# (the table's whole ops, exp ... atan2, write their out= themselves: _ops/generated.py)
CASTABLE = (
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow",
    "remainder", "fmod", "maximum", "minimum", "clamp", "clip", "where", "eq", "ne", "lt", "le",
    "gt", "ge", "logical_and", "logical_or", "logical_xor", "logical_not", "abs", "neg",
    "negative", "sign", "floor", "ceil", "round", "trunc", "lerp", "addcmul", "addcdiv", "sum",
    "mean", "prod", "cumsum", "cumprod", "amax", "amin", "logsumexp", "cat", "concat",
    "concatenate", "stack",
)


# reductions that compute in out's dtype; ops with no gradient to refuse
INTO_OUT_DTYPE = ("sum", "prod", "cumsum", "cumprod")
NOT_DIFFERENTIABLE = ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
                      "logical_xor", "logical_not", "argmax", "argmin")
# torch's words when out's dtype differs from the result's, for ops that insist on it
_MISMATCH = {"clamp": "Found dtype {got} but expected {want}",
             "clip": "Found dtype {got} but expected {want}",
             "where": "Expected out type to be {want} but got {got}"}
_JOINS = ("cat", "concat", "concatenate", "stack")


def _check_dtype(name, result, dst):
    if name in _MISMATCH:
        raise RuntimeError(_MISMATCH[name].format(want=result.torch_name,
                                                  got=dst.torch_name))
    if name in _JOINS and not E.can_cast(result, dst):
        raise TypeError("torch.cat(): input types can't be cast to the desired output type "
                        f"{dst.torch_name}")


def _requires_grad(args, kwargs, out):
    if out.requires_grad:
        return True
    for x in (*args, *kwargs.values()):
        if is_t(x) and x.requires_grad:
            return True
        if isinstance(x, (list, tuple)) and any(is_t(t) and t.requires_grad for t in x):
            return True
    return False


# reductions whose whole-tensor overload has no out= in torch: out= needs a dim
_DIM_FOR_OUT = {"sum": "tuple of ints dim", "prod": "int dim"}


def _refuse_out_without_dim(name, args, kwargs):
    if len(args) < 2 and "dim" not in kwargs:
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got (Tensor, out=Tensor), "
            "but expected one of:\n * (Tensor input, *, torch.dtype dtype = None)\n * (Tensor "
            f"input, {_DIM_FOR_OUT[name]}, bool keepdim = False, *, torch.dtype dtype = None, "
            "Tensor out = None)\n")


# ops whose Array form (``ember_tensor.elementwise``, same name) takes the Tensor op's
# arguments plus ``out=``: once no gradient can be wanted, these write straight into ``out``
# (torch's out= rules are the Array form's), with no temporary result to allocate and copy
_DIRECT = ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide")
_PLAIN_SCALARS = (int, float, bool)
# the launcher's same-dtype kernels for them: two Tensors of out's dtype and shape skip even
# the Array form's promotion and broadcasting (its alpha/rounding keywords take that path)
_FAST_KERNEL = {"add": "add", "sub": "sub", "subtract": "sub", "mul": "mul",
                "multiply": "mul", "div": "div", "divide": "div", "true_divide": "div"}


def _direct_operands(args, kwargs, out):
    """The Arrays/scalars to hand the Array form, or None when the general path must run:
    a Tensor that requires grad (the general path refuses it, or records nothing under
    no_grad), a first operand that is not a Tensor (``add(2, t)`` swaps), an operand of
    another kind, a Tensor keyword, or an input that overlaps ``out`` without being it
    (written in place, the kernel would read elements it already overwrote; the general path
    computes first).
    Inlined, as this runs on every out= call of the arithmetic ops."""
    if not args or not isinstance(args[0], Tensor) or out._requires_grad:
        return None
    dn = out._data._np
    droot = dn
    while droot.base is not None:
        droot = droot.base
    operands = []
    for x in args:
        if isinstance(x, Tensor):
            if x._requires_grad:
                return None
            xn = x._data._np
            if xn is not dn:
                root = xn
                while root.base is not None:
                    root = root.base
                # arrays ending in different memory-owning ndarrays cannot overlap: an
                # identity test instead of NumPy's bounds arithmetic, which costs far more
                if not (root is not droot and type(root) is np.ndarray
                        and type(droot) is np.ndarray) and _overlap(xn, dn):
                    return None
            operands.append(x._data)
        elif type(x) in _PLAIN_SCALARS:
            operands.append(x)
        else:
            return None
    for v in kwargs.values():
        if isinstance(v, Tensor):
            return None
    return operands


def _overlap(a, b):
    """Whether ``a`` and ``b`` might share memory other than as one same view."""
    if not np.may_share_memory(a, b):
        return False
    return not (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
                and a.shape == b.shape and a.strides == b.strides)


def with_out(fn, name: str, exact: bool):
    direct = getattr(E, name) if name in _DIRECT else None
    fast_name = _FAST_KERNEL.get(name)

    @functools.wraps(fn)
    def op(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if not is_t(out):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not "
                            f"{type(out).__name__}")
        if direct is not None:
            operands = _direct_operands(args, kwargs, out)
            if operands is not None:
                if (len(operands) != 2 or kwargs or fast_name is None
                        or not C._fast_into(fast_name, operands[0], operands[1], out._data)):
                    direct(*operands, **kwargs, out=out._data)
                out._version_counter[0] += 1
                return out
        if name in _DIM_FOR_OUT:
            _refuse_out_without_dim(name, args, kwargs)
        if name in INTO_OUT_DTYPE and kwargs.get("dtype") is None:
            kwargs["dtype"] = out.dtype  # torch reduces straight into out's dtype
        if (grad_mode._state.grad_enabled and name not in NOT_DIFFERENTIABLE
                and _requires_grad(args, kwargs, out)):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires "
                               "grad.")
        res = fn(*args, **kwargs)._data
        dst = out._data
        if res.dtype is not dst.dtype:
            _check_dtype(name, res.dtype, dst.dtype)
        if exact and res.dtype is not dst.dtype:
            if name == "dot":
                raise RuntimeError(f"result dtype {dst.dtype.torch_name} does not match "
                                   f"input dtype {res.dtype.torch_name}")
            raise RuntimeError(f"Expected out tensor to have dtype {res.dtype.cpp_name}, but "
                               f"got {dst.dtype.cpp_name} instead")
        E._prepare_out(dst, res._np.shape, res.dtype, False)
        E._copy_into(dst._np, res._np)
        out._version_counter[0] += 1
        return out

    return op


CREATION = ("arange", "zeros", "ones", "full", "empty", "rand", "randn", "randint", "randperm",
            "linspace", "eye")


def with_out_creation(fn, name: str):
    """A factory's out=: the result takes ``out``'s dtype unless ``dtype=`` says otherwise,
    and ``out`` is resized to it silently, as torch's factories resize."""
    @functools.wraps(fn)
    def op(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if not is_t(out):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not "
                            f"{type(out).__name__}")
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = out.dtype
        res = fn(*args, **kwargs)._data
        dst = out._data
        if dst._np.shape != res._np.shape:
            dst._np = res._np.astype(dst.dtype.np, copy=True)
        else:
            E._copy_into(dst._np, res._np)
        out._version_counter[0] += 1
        return out

    return op
