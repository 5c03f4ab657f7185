"""Elementwise ops with torch's semantics: arithmetic, comparisons, logic, unary math,
activations and their fused backwards, ``where``, ``clamp``, in-place forms and ``copy_``.

Every op resolves the result dtype with torch's promotion rules, casts the operands that need it,
broadcasts them as stride-0 views (no copies) and runs a Cython loop from ``_kernels.binary`` /
``_kernels.unary`` under ``_kernels.strided.launch``. Bool travels as uint8 (same bytes) and
float16 is computed in float32.
"""
import builtins
import math
import warnings

import numpy as np

from . import _dtype as D
from ._array import Array
from ._kernels import binary as _binary_kernels
from ._kernels import unary as _unary_kernels
from ._kernels.strided import launch as _launch

_KERNELS = {**_binary_kernels.KERNELS, **_unary_kernels.KERNELS}
_UINT8 = np.dtype(np.uint8)
_BOOL = np.dtype(np.bool_)
_INT64 = np.dtype(np.int64)
_SCALARS = (builtins.bool, builtins.int, builtins.float, np.generic)

TORCH_NAMES = {
    D.float32: "Float", D.float64: "Double", D.float16: "Half", D.int64: "Long",
    D.int32: "Int", D.int16: "Short", D.int8: "Char", D.uint8: "Byte", D.bool: "Bool",
}


# ---- operands ----------------------------------------------------------------------------------
def _is_scalar(x):
    return isinstance(x, _SCALARS)


def _check_operand(x, op):
    if not isinstance(x, Array) and not _is_scalar(x):
        raise TypeError(
            f"{op}(): argument 'other' must be Tensor or Number, not {type(x).__name__}"
        )


def _shape(x):
    return x._np.shape if isinstance(x, Array) else ()


def broadcast_shapes(*shapes):
    """torch's broadcast of shapes, with its error naming the clashing sizes."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for s in shapes:
        for i in range(1, len(s) + 1):
            size = s[-i]
            if size == out[-i] or size == 1:
                continue
            if out[-i] != 1:
                raise RuntimeError(
                    f"The size of tensor a ({out[-i]}) must match the size of tensor b ({size}) "
                    f"at non-singleton dimension {ndim - i}"
                )
            out[-i] = size
    return tuple(out)


def _scalar_np(x, dtype):
    """A Python scalar as a 0-d ndarray of ``dtype``, wrapping like a C cast (int8 + 300)."""
    if isinstance(x, np.generic):
        x = x.item()
    return np.array(x).astype(dtype.np)


def _wrap(arr):
    """Array around a result ndarray we made ourselves (skips Array.__init__'s validation)."""
    res = _new_array(Array)
    res._np = arr
    return res


_new_array = object.__new__


def _kview(arr):
    """The array a kernel sees: bool as uint8 (same bytes)."""
    return arr.view(_UINT8) if arr.dtype == _BOOL else arr


def _kernel(name, dtype):
    key = name, ("uint8" if dtype is D.bool else dtype.np.name)
    try:
        return _KERNELS[key]
    except KeyError:
        raise NotImplementedError(
            f'"{name}_cpu" not implemented for \'{TORCH_NAMES[dtype]}\''
        ) from None


def _check_writable_once(arr):
    """torch refuses to write through an expanded (stride-0) dim: several elements, one cell."""
    np_arr = arr._np
    for size, stride in zip(np_arr.shape, np_arr.strides):
        if stride == 0 and size > 1:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation."
            )


def can_cast(src, dst):
    """torch.can_cast: no float -> integer, no non-bool -> bool."""
    if src.is_floating_point and not dst.is_floating_point:
        return False
    if src is not D.bool and dst is D.bool:
        return False
    return True


def _prepare_out(out, shape, result_dtype, inplace):
    """Validate ``out`` for a result of ``shape``/``result_dtype``; resize like torch for out=."""
    if not isinstance(out, Array):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if not can_cast(result_dtype, out.dtype):
        raise RuntimeError(
            f"result type {TORCH_NAMES[result_dtype]} can't be cast to the desired output type "
            f"{TORCH_NAMES[out.dtype]}"
        )
    if out._np.shape != shape:
        if inplace:
            raise RuntimeError(
                f"output with shape {list(out._np.shape)} doesn't match the broadcast shape "
                f"{list(shape)}"
            )
        if out._np.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out._np.shape)}, which does not match the required output shape "
                f"{list(shape)}. This behavior is deprecated, and in a future PyTorch release "
                "outputs will not be resized unless they have zero elements. You can explicitly "
                "reuse an out tensor t by resizing it, inplace, to zero elements with "
                "t.resize_(0).", UserWarning, stacklevel=4,
            )
        out._np = np.empty(shape, dtype=out.dtype.np)
    _check_writable_once(out)


def _run(name, compute, out_dtype, operands, shape, out=None, params=(), inplace=False):
    """Run kernel ``name`` for ``compute`` dtype over ``operands``; return the result Array."""
    if compute is D.float16:  # no half kernels: compute in float32, round once at the end
        res = _run(name, D.float32, D.float32 if out_dtype is D.float16 else out_dtype,
                   operands, shape, None, params)
        res = Array(res._np.astype(out_dtype.np))
        if out is None:
            return res
        _prepare_out(out, shape, out_dtype, inplace)
        _copy_into(out._np, res._np)
        return out
    entry = _kernel(name, compute)
    ins = []
    for i, x in enumerate(operands):
        if isinstance(x, Array):
            arr = x._np
            want = _BOOL if (i == 0 and name == "where") else compute.np
            if arr.dtype != want:
                arr = arr.astype(want)
        else:
            arr = _scalar_np(x, compute)
        ins.append(arr.view(_UINT8) if arr.dtype == _BOOL else arr)
    ins = tuple(ins)
    if out is not None:
        _prepare_out(out, shape, out_dtype, inplace)
        if out.dtype is out_dtype:
            target = out._np
        else:
            target = np.empty(shape, dtype=out_dtype.np)
    else:
        target = np.empty(shape, dtype=out_dtype.np)
    err = _launch(entry, _kview(target), ins, params)
    if err:
        raise RuntimeError("ZeroDivisionError")
    if out is None:
        return _wrap(target)
    if target is not out._np:
        _copy_into(out._np, target)
    return out


def _copy_into(dst, src):
    """dst[...] = src (same shape), casting; through the copy kernel when dtypes agree."""
    if src.dtype != dst.dtype:
        src = src.astype(dst.dtype)
    d = D.from_numpy_dtype(dst.dtype)
    if d is D.float16:
        np.copyto(dst, src)
        return
    _launch(_kernel("copy", d), _kview(dst), (_kview(src),))


# Fast path for the common call: Arrays of one dtype (or an Array and a Python number its dtype
# absorbs), no out=. Keyed by NumPy dtype; comparisons write bool directly.
_FAST = {}
for (_name, _dt), (_f, _dts) in _KERNELS.items():
    if _name in ("add", "sub", "mul", "div", "maximum", "minimum"):
        _FAST[_name, _dts[1]] = (_f, _dts)
    elif _name in ("eq", "ne", "lt", "le", "gt", "ge"):
        _FAST[_name, _dts[1]] = (_f, (_BOOL,) + _dts[1:])


def _fast(name, a, b):
    """The result of a plain same-dtype op, or None when promotion rules must be worked out."""
    an = a._np
    tb = type(b)
    if tb is Array:
        bn = b._np
        if bn.dtype != an.dtype:
            return None
        shape = an.shape if an.shape == bn.shape else broadcast_shapes(an.shape, bn.shape)
    elif (tb is builtins.float or tb is builtins.int) and an.dtype.kind == "f":
        entry = _FAST_SCALAR.get((name, an.dtype))
        if entry is not None:  # the scalar rides in the kernel's parameters
            res = np.empty(an.shape, an.dtype)
            _launch(entry, res, (an,), (b if name != "sub" else -b,))
            return _wrap(res)
        bn = np.array(b, an.dtype)
        shape = an.shape
    elif tb is builtins.int and an.dtype == _INT64:
        bn = np.array(b, an.dtype)
        shape = an.shape
    else:
        return None
    entry = _FAST.get((name, an.dtype))
    if entry is None:
        return None
    res = np.empty(shape, entry[1][0])
    _launch(entry, res, (an, bn))
    return _wrap(res)


_FAST_SCALAR = {(op, dts[1]): (f, dts) for (name, _), (f, dts) in _unary_kernels.KERNELS.items()
                for op in (("add", "sub") if name == "add_scalar" else (name[:-7],))
                if name.endswith("_scalar")}


def _binary(name, a, b, dtype=None, out_dtype=None, out=None, params=(), inplace=False):
    _check_operand(b, name)
    _check_operand(a, name)
    if (type(a) is Array and type(b) is Array and out is None and dtype is None
            and a._np.dtype == b._np.dtype and a._np.shape == b._np.shape):
        # the common case, kept short: same dtype and shape, nothing to promote or broadcast
        compute = a.dtype
        shape = a._np.shape
    else:
        compute = dtype or D.result_type(a, b)
        shape = broadcast_shapes(_shape(a), _shape(b))
    return _run(name, compute, out_dtype or compute, (a, b), shape, out, params, inplace)


_FAST_UNARY = {(name, dts[1]): (f, dts) for (name, _), (f, dts) in _unary_kernels.KERNELS.items()
               if dts[0] == dts[1]}


def _unary(name, a, dtype=None, out_dtype=None, out=None, params=(), inplace=False):
    if out is None and out_dtype is None and type(a) is Array:
        entry = _FAST_UNARY.get((name, a._np.dtype))
        if entry is not None and (dtype is None or dtype.np == a._np.dtype):
            res = np.empty(a._np.shape, entry[1][0])
            _launch(entry, res, (a._np,), params)
            return _wrap(res)
    if not isinstance(a, Array):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(a).__name__}")
    compute = dtype or a.dtype
    return _run(name, compute, out_dtype or compute, (a,), a._np.shape, out, params, inplace)


# ---- arithmetic --------------------------------------------------------------------------------
def _scaled(b, alpha, result):
    if alpha == 1 and not isinstance(alpha, builtins.bool):
        return b
    if isinstance(alpha, builtins.float) and not result.is_floating_point:
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number."
        )
    if isinstance(alpha, builtins.bool) and result is not D.bool:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    scaled = mul(b, alpha)
    # alpha scales in the op's own dtype: it never promotes (bool + 2 * bool stays bool)
    return _cast(scaled, result) if scaled.dtype is not result else scaled


def add(a, b, alpha=1, out=None, *, _inplace=False):
    if out is None and alpha == 1 and type(a) is Array:
        res = _fast("add", a, b)
        if res is not None:
            return res
    _check_operand(b, "add")
    if alpha != 1 or isinstance(alpha, builtins.bool):
        b = _scaled(b, alpha, D.result_type(a, b))
    compute = D.result_type(a, b)
    name = "logical_or" if compute is D.bool else "add"
    return _binary(name, a, b, compute, compute, out, inplace=_inplace)


def _check_bool_sub(a, b):
    a_bool = getattr(a, "dtype", None) is D.bool or isinstance(a, builtins.bool)
    b_bool = getattr(b, "dtype", None) is D.bool or isinstance(b, builtins.bool)
    if a_bool and b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead."
        )
    if a_bool or b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def sub(a, b, alpha=1, out=None, *, _inplace=False):
    if out is None and alpha == 1 and type(a) is Array:
        res = _fast("sub", a, b)
        if res is not None:
            return res
    _check_operand(b, "sub")
    _check_bool_sub(a, b)
    if alpha != 1:
        b = _scaled(b, alpha, D.result_type(a, b))
    return _binary("sub", a, b, out=out, inplace=_inplace)


subtract = sub


def rsub(a, b, alpha=1):
    return sub(b, a, alpha=alpha)


def mul(a, b, out=None, *, _inplace=False):
    if out is None and type(a) is Array:
        res = _fast("mul", a, b)
        if res is not None:
            return res
    _check_operand(b, "mul")
    compute = D.result_type(a, b)
    name = "logical_and" if compute is D.bool else "mul"
    return _binary(name, a, b, compute, compute, out, inplace=_inplace)


multiply = mul


def _true_div_dtype(a, b):
    compute = D.result_type(a, b)
    return compute if compute.is_floating_point else D.get_default_dtype()


def div(a, b, rounding_mode=None, out=None, *, _inplace=False):
    if out is None and rounding_mode is None and type(a) is Array and a._np.dtype.kind == "f":
        res = _fast("div", a, b)
        if res is not None:
            return res
    _check_operand(b, "div")
    if rounding_mode is None:
        compute = _true_div_dtype(a, b)
        return _binary("div", a, b, compute, compute, out, inplace=_inplace)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    compute = D.result_type(a, b)
    if compute is D.bool:
        raise NotImplementedError(f"\"div_{rounding_mode}_cpu\" not implemented for 'Bool'")
    return _binary("div_" + rounding_mode, a, b, compute, compute, out, inplace=_inplace)


divide = div


def true_divide(a, b, out=None):
    return div(a, b, out=out)


def floor_divide(a, b, out=None, *, _inplace=False):
    return div(a, b, rounding_mode="floor", out=out, _inplace=_inplace)


def remainder(a, b, out=None, *, _inplace=False):
    _check_operand(b, "remainder")
    compute = D.result_type(a, b)
    if compute is D.bool:
        raise NotImplementedError("\"remainder_cpu\" not implemented for 'Bool'")
    return _binary("remainder", a, b, compute, compute, out, inplace=_inplace)


def fmod(a, b, out=None):
    """C's fmod: the remainder takes the sign of the dividend (unlike ``remainder``)."""
    q = div(a, b, rounding_mode="trunc")
    return sub(a, mul(q, b), out=out)


def pow(a, b, out=None, *, _inplace=False):  # noqa: A001 - torch's name
    _check_operand(b, "pow")
    _check_operand(a, "pow")
    compute = D.result_type(a, b)
    if compute is D.bool:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if _is_scalar(b) and isinstance(a, Array):
        value = b.item() if isinstance(b, np.generic) else b
        if not compute.is_floating_point and value < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if out is None and compute is a.dtype:  # the cheap exponents torch special-cases too
            if value == 2:
                return _unary("square", a)
            if value == 1:
                return _unary("copy", a)
            if value == 0.5 and compute.is_floating_point:
                return _unary("sqrt", a)
    name = "pow"
    return _binary(name, a, b, compute, compute, out, inplace=_inplace)


def float_power(a, b):
    return pow(_cast(a, D.float64) if isinstance(a, Array) else a,
               _cast(b, D.float64) if isinstance(b, Array) else builtins.float(b))


def maximum(a, b, out=None):
    compute = D.result_type(a, b)
    return _binary("logical_or" if compute is D.bool else "maximum", a, b, compute, compute, out)


def minimum(a, b, out=None):
    compute = D.result_type(a, b)
    return _binary("logical_and" if compute is D.bool else "minimum", a, b, compute, compute, out)


# ---- comparisons and logic ---------------------------------------------------------------------
def _compare(name, a, b, out=None):
    if out is None and type(a) is Array:
        res = _fast(name, a, b)
        if res is not None:
            return res
    _check_operand(b, name)
    compute = D.result_type(a, b)
    return _binary(name, a, b, compute, D.bool, out)


def eq(a, b, out=None):
    return _compare("eq", a, b, out)


def ne(a, b, out=None):
    return _compare("ne", a, b, out)


def lt(a, b, out=None):
    return _compare("lt", a, b, out)


def le(a, b, out=None):
    return _compare("le", a, b, out)


def gt(a, b, out=None):
    return _compare("gt", a, b, out)


def ge(a, b, out=None):
    return _compare("ge", a, b, out)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def equal(a, b):
    """True when both have the same shape and elements (torch.equal)."""
    if a._np.shape != b._np.shape:
        return False
    return builtins.bool(_np_all(eq(a, b)._np))


def _np_all(arr):
    return arr.all() if arr.size else True


def logical_and(a, b, out=None):
    return _binary("logical_and", a, b, out_dtype=D.bool, out=out)


def logical_or(a, b, out=None):
    return _binary("logical_or", a, b, out_dtype=D.bool, out=out)


def logical_xor(a, b, out=None):
    return _binary("logical_xor", a, b, out_dtype=D.bool, out=out)


def logical_not(a, out=None):
    return _unary("logical_not", a, out_dtype=D.bool, out=out)


def _bitwise(name, a, b, out=None, inplace=False):
    _check_operand(b, name)
    compute = D.result_type(a, b)
    if compute.is_floating_point:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{TORCH_NAMES[compute]}'")
    return _binary(name, a, b, compute, compute, out, inplace=inplace)


def bitwise_and(a, b, out=None):
    return _bitwise("bitwise_and", a, b, out)


def bitwise_or(a, b, out=None):
    return _bitwise("bitwise_or", a, b, out)


def bitwise_xor(a, b, out=None):
    return _bitwise("bitwise_xor", a, b, out)


def bitwise_not(a, out=None):
    if a.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"bitwise_not_cpu\" not implemented for '{TORCH_NAMES[a.dtype]}'"
        )
    if a.dtype is D.bool:
        return _unary("logical_not", a, out_dtype=D.bool, out=out)
    return _unary("bitwise_not", a, out=out)


def _invert(a):
    if a.dtype.is_floating_point:  # the operator words it differently from bitwise_not()
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return bitwise_not(a)


# ---- unary math --------------------------------------------------------------------------------
def _float_dtype(a):
    return a.dtype if a.dtype.is_floating_point else D.get_default_dtype()


def _math(name):
    def op(a, out=None):
        if out is None and type(a) is Array:
            entry = _FAST_UNARY.get((name, a._np.dtype))  # float inputs only
            if entry is not None:
                res = np.empty(a._np.shape, entry[1][0])
                _launch(entry, res, (a._np,))
                return _wrap(res)
        if not isinstance(a, Array):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(a).__name__}")
        return _unary(name, a, _float_dtype(a), out=out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}; integer inputs give the default float dtype, as torch."
    return op


exp, log, log1p, expm1, log2, sqrt, rsqrt, reciprocal = (
    _math(n) for n in ("exp", "log", "log1p", "expm1", "log2", "sqrt", "rsqrt", "reciprocal"))
sin, cos, tanh, sigmoid, erf = (_math(n) for n in ("sin", "cos", "tanh", "sigmoid", "erf"))


def _rounding(name):
    def op(a, out=None):
        if a.dtype is D.bool:
            raise NotImplementedError(f"\"{name}_vml_cpu\" not implemented for 'Bool'")
        if not a.dtype.is_floating_point:  # integers are already whole: torch copies
            return _unary("copy", a, out=out)
        return _unary(name, a, out=out)

    op.__name__ = op.__qualname__ = name
    return op


floor, ceil, trunc = _rounding("floor"), _rounding("ceil"), _rounding("trunc")
_round0 = _rounding("round")
fix = trunc


def round(a, decimals=0, out=None):  # noqa: A001 - torch's name
    """Round half to even, as torch; ``decimals`` scales by 10**decimals around the rounding."""
    if decimals == 0 or not a.dtype.is_floating_point:
        return _round0(a, out=out)
    scale = 10.0 ** decimals
    return div(_round0(mul(a, scale)), scale, out=out)


def neg(a, out=None, *, _inplace=False):
    if a.dtype is D.bool:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return _unary("neg", a, out=out, inplace=_inplace)


negative = neg


def positive(a):
    if a.dtype is D.bool:
        raise RuntimeError(
            "The `+` operator, on a bool tensor is not supported."
        )
    return a


def abs(a, out=None):  # noqa: A001 - torch's name
    if a.dtype is D.bool:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return _unary("abs", a, out=out)


absolute = abs


def sign(a, out=None):
    return _unary("sign", a, out=out)


def square(a, out=None):
    if a.dtype is D.bool:  # torch: pow(bool, 2) on int64
        return _unary("square", _cast(a, D.int64), out=out)
    return _unary("square", a, out=out)


# ---- activations -------------------------------------------------------------------------------
def relu(a, out=None, *, _inplace=False):
    if a.dtype is D.bool:
        raise RuntimeError("Boolean inputs not supported for relu")
    return _unary("relu", a, out=out, inplace=_inplace)


def leaky_relu(a, negative_slope=0.01, out=None):
    return _unary("leaky_relu", a, out=out, params=(builtins.float(negative_slope),))


def _gelu_mode(approximate):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh.")
    return 0.0 if approximate == "none" else 1.0


def gelu(a, approximate="none"):
    mode = _gelu_mode(approximate)
    if not a.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"GeluKernelImpl\" not implemented for '{TORCH_NAMES[a.dtype]}'"
        )
    return _unary("gelu", a, params=(mode,))


def threshold_backward(grad, x, threshold):
    """relu's gradient: ``grad`` where ``x > threshold``, else 0."""
    return _binary("threshold_backward", grad, x, params=(builtins.float(threshold),))


def sigmoid_backward(grad, out):
    return _binary("sigmoid_backward", grad, out)


def tanh_backward(grad, out):
    return _binary("tanh_backward", grad, out)


def leaky_relu_backward(grad, x, negative_slope):
    return _binary("leaky_relu_backward", grad, x, params=(builtins.float(negative_slope),))


def gelu_backward(grad, x, approximate="none"):
    return _binary("gelu_backward", grad, x, params=(_gelu_mode(approximate),))


# ---- clamp, where, float classification -------------------------------------------------------
def clamp(a, min=None, max=None, out=None, *, _inplace=False):  # noqa: A002 - torch's names
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Array) or isinstance(max, Array):
        mixed = (min is not None and max is not None
                 and not (isinstance(min, Array) and isinstance(max, Array)))
        if mixed and all(not isinstance(v, Array) or v.ndim == 0 for v in (min, max)):
            # torch's argument parser reads a 0-dim tensor as a Number
            return clamp(a, min.item() if isinstance(min, Array) else min,
                         max.item() if isinstance(max, Array) else max, out, _inplace=_inplace)
        if mixed:
            kinds = ", ".join("Tensor" if isinstance(v, Array) else type(v).__name__
                              for v in (a, min, max))
            raise TypeError(
                f"clamp() received an invalid combination of arguments - got ({kinds}), but "
                "expected one of:\n * (Tensor input, Tensor min = None, Tensor max = None, *, "
                "Tensor out = None)\n * (Tensor input, Number min = None, Number max = None, *, "
                "Tensor out = None)\n"
            )
        if D.result_type(a, *(v for v in (min, max) if v is not None)) is D.bool:
            raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
        res = a
        if min is not None:
            res = maximum(res, min)
        if max is not None:
            res = minimum(res, max)
        if out is None:
            return res
        return copy_(out, res) if not _inplace else _assign_inplace(out, res)
    compute = D.result_type(a, *(v for v in (min, max) if v is not None))
    if compute is D.bool:
        raise RuntimeError("\"clamp_scalar_cpu\" not implemented for 'Bool'")
    if not compute.is_floating_point:
        # integer bounds clip in the integer domain, with C conversion of the bound
        lo = builtins.int(min) if min is not None else 0
        hi = builtins.int(max) if max is not None else 0
    else:
        lo = builtins.float(min) if min is not None else 0.0
        hi = builtins.float(max) if max is not None else 0.0
    if (compute.is_floating_point and ((min is not None and math.isnan(lo))
                                       or (max is not None and math.isnan(hi)))):
        return full_like_nan(a, compute, out)
    params = (lo, hi, 1.0 if min is not None else 0.0, 1.0 if max is not None else 0.0)
    return _run("clamp", compute, compute, (a,), a._np.shape, out, params, _inplace)


def full_like_nan(a, dtype, out=None):
    res = Array(np.full(a._np.shape, np.nan, dtype=dtype.np))
    return res if out is None else copy_(out, res)


def _assign_inplace(dst, res):
    _prepare_out(dst, res._np.shape, res.dtype, True)
    _copy_into(dst._np, res._np)
    return dst


def clamp_min(a, min):  # noqa: A002
    return clamp(a, min=min)


def clamp_max(a, max):  # noqa: A002
    return clamp(a, max=max)


clip = clamp


def where(cond, a=None, b=None):
    if a is None and b is None:
        raise NotImplementedError("where(cond) (nonzero) belongs to indexing")
    if not isinstance(cond, Array):
        raise TypeError(
            f"where(): argument 'condition' must be Tensor, not {type(cond).__name__}"
        )
    if cond.dtype is not D.bool:
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{TORCH_NAMES[cond.dtype]}"
        )
    _check_operand(a, "where")
    _check_operand(b, "where")
    compute = D.result_type(a, b)
    shape = broadcast_shapes(cond._np.shape, _shape(a), _shape(b))
    return _run("where", compute, compute, (cond, a, b), shape)


def _classify(name, integer_answer):
    def op(a):
        if not a.dtype.is_floating_point:
            return Array(np.full(a._np.shape, integer_answer, dtype=np.bool_))
        return _unary(name, a, out_dtype=D.bool)

    op.__name__ = op.__qualname__ = name
    return op


isnan, isinf, isfinite = _classify("isnan", False), _classify("isinf", False), \
    _classify("isfinite", True)


def nan_to_num(a, nan=0.0, posinf=None, neginf=None, out=None):
    if not a.dtype.is_floating_point:
        return _unary("copy", a, out=out)
    info = np.finfo(a.dtype.np)
    params = (
        builtins.float(nan) if nan is not None else 0.0,
        builtins.float(posinf) if posinf is not None else builtins.float(info.max),
        builtins.float(neginf) if neginf is not None else builtins.float(info.min),
    )
    return _unary("nan_to_num", a, out=out, params=params)


# ---- in-place ----------------------------------------------------------------------------------
def add_(a, b, alpha=1):
    return add(a, b, alpha=alpha, out=a, _inplace=True)


def sub_(a, b, alpha=1):
    return sub(a, b, alpha=alpha, out=a, _inplace=True)


def mul_(a, b):
    return mul(a, b, out=a, _inplace=True)


def div_(a, b, rounding_mode=None):
    return div(a, b, rounding_mode=rounding_mode, out=a, _inplace=True)


def floor_divide_(a, b):
    return floor_divide(a, b, out=a, _inplace=True)


def remainder_(a, b):
    return remainder(a, b, out=a, _inplace=True)


def pow_(a, b):
    return pow(a, b, out=a, _inplace=True)


def clamp_(a, min=None, max=None):  # noqa: A002
    return clamp(a, min=min, max=max, out=a, _inplace=True)


def relu_(a):
    return relu(a, out=a, _inplace=True)


def neg_(a):
    return neg(a, out=a, _inplace=True)


def _inplace_math(fn):
    def op(a):
        return _assign_inplace(a, fn(a))

    op.__name__ = op.__qualname__ = fn.__name__ + "_"
    return op


exp_, sqrt_, log_, sigmoid_, tanh_, abs_, floor_, ceil_, round_, trunc_, reciprocal_ = (
    _inplace_math(f) for f in (exp, sqrt, log, sigmoid, tanh, abs, floor, ceil, round, trunc,
                               reciprocal))


def _bitwise_inplace(name):
    def op(a, b):
        return _bitwise(name, a, b, out=a, inplace=True)

    return op


def copy_(dst, src, non_blocking=False, *, _checked=False):
    """Write ``src`` (broadcast to ``dst``'s shape, cast to its dtype) into ``dst``."""
    if not isinstance(src, Array):
        raise TypeError(f"copy_(): argument 'other' must be Tensor, not {type(src).__name__}")
    shape = dst._np.shape
    if src._np.shape != shape:
        if broadcast_shapes(shape, src._np.shape) != shape:
            raise RuntimeError(
                f"output with shape {list(shape)} doesn't match the broadcast shape "
                f"{list(broadcast_shapes(shape, src._np.shape))}"
            )
    if not _checked:
        _check_writable_once(dst)
    if dst._np.size == 0:
        return dst
    s = src._np
    if s.dtype != dst._np.dtype:
        s = s.astype(dst._np.dtype)
    if s.shape != shape:
        s = np.broadcast_to(s, shape)
    _copy_into(dst._np, s)
    return dst


def fill_(a, value):
    if isinstance(value, Array):
        if value.ndim:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value.ndim} dimensions."
            )
        value = value.item()
    _check_writable_once(a)
    a._np[...] = _scalar_np(value, a.dtype)
    return a


def zero_(a):
    return fill_(a, 0)


# ---- conversions -------------------------------------------------------------------------------
def _cast(a, dtype):
    if a.dtype is dtype:
        return a
    with np.errstate(invalid="ignore", over="ignore"):  # nan -> int is silent in torch
        return Array(a._np.astype(dtype.np))


def _converter(dtype):
    def op(a):
        return _cast(a, dtype)

    op.__name__ = op.__qualname__ = dtype.name
    return op


def type_as(a, other):
    return _cast(a, other.dtype)


# ---- Array methods and operators ---------------------------------------------------------------
def _number_or_array(x):
    return isinstance(x, (Array,) + _SCALARS)


def _operator(fn, reflected=False):
    def op(self, other):
        if not _number_or_array(other):
            return NotImplemented
        return fn(other, self) if reflected else fn(self, other)

    return op


def _ioperator(fn):
    def op(self, other):
        if not _number_or_array(other):
            return NotImplemented
        fn(self, other)
        return self

    return op


ARRAY_METHODS = {
    "__hash__": object.__hash__,
    "__add__": _operator(add), "__radd__": _operator(add, True), "__iadd__": _ioperator(add_),
    "__sub__": _operator(sub), "__rsub__": _operator(sub, True), "__isub__": _ioperator(sub_),
    "__mul__": _operator(mul), "__rmul__": _operator(mul, True), "__imul__": _ioperator(mul_),
    "__truediv__": _operator(div), "__rtruediv__": _operator(div, True),
    "__itruediv__": _ioperator(div_),
    "__floordiv__": _operator(floor_divide), "__rfloordiv__": _operator(floor_divide, True),
    "__ifloordiv__": _ioperator(floor_divide_),
    "__mod__": _operator(remainder), "__rmod__": _operator(remainder, True),
    "__imod__": _ioperator(remainder_),
    "__pow__": _operator(pow), "__rpow__": _operator(pow, True), "__ipow__": _ioperator(pow_),
    "__neg__": neg, "__pos__": positive, "__abs__": abs, "__invert__": _invert,
    "__eq__": _operator(eq), "__ne__": _operator(ne), "__lt__": _operator(lt),
    "__le__": _operator(le), "__gt__": _operator(gt), "__ge__": _operator(ge),
    "__and__": _operator(bitwise_and), "__rand__": _operator(bitwise_and, True),
    "__iand__": _ioperator(_bitwise_inplace("bitwise_and")),
    "__or__": _operator(bitwise_or), "__ror__": _operator(bitwise_or, True),
    "__ior__": _ioperator(_bitwise_inplace("bitwise_or")),
    "__xor__": _operator(bitwise_xor), "__rxor__": _operator(bitwise_xor, True),
    "__ixor__": _ioperator(_bitwise_inplace("bitwise_xor")),
    "float": _converter(D.float32), "double": _converter(D.float64),
    "half": _converter(D.float16), "long": _converter(D.int64), "int": _converter(D.int32),
    "short": _converter(D.int16), "char": _converter(D.int8), "byte": _converter(D.uint8),
    "bool": _converter(D.bool), "type_as": type_as,
}
for _name in (
    "add sub subtract rsub mul multiply div divide true_divide floor_divide remainder fmod pow "
    "float_power maximum minimum eq ne lt le gt ge greater greater_equal less less_equal "
    "not_equal equal logical_and logical_or logical_xor logical_not bitwise_and bitwise_or "
    "bitwise_xor bitwise_not neg negative positive abs absolute sign square exp log log1p expm1 "
    "log2 sqrt rsqrt reciprocal sin cos tanh sigmoid erf floor ceil round trunc fix relu "
    "clamp clamp_min clamp_max clip isnan isinf isfinite nan_to_num "
    "add_ sub_ mul_ div_ floor_divide_ remainder_ pow_ clamp_ relu_ neg_ exp_ sqrt_ log_ "
    "sigmoid_ tanh_ abs_ floor_ ceil_ round_ trunc_ reciprocal_ copy_ fill_ zero_"
).split():
    ARRAY_METHODS[_name] = globals()[_name]
ARRAY_METHODS["where"] = lambda self, cond, other: where(cond, self, other)
del _name
