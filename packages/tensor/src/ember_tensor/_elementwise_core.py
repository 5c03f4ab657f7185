"""The machinery every elementwise op runs on: operand checks, torch's broadcasting of shapes,
``out=`` validation, casts and copies, and dispatch of a Cython loop from ``_kernels.binary`` /
``_kernels.unary`` under ``_kernels.strided.launch``.

An op resolves the result dtype with torch's promotion rules, casts the operands that need it,
broadcasts them as stride-0 views (no copies) and runs the loop. Bool travels as uint8 (same
bytes) and float16 is computed in float32.
"""
import builtins
import warnings

import numpy as np

from . import _dtype as D
from ._array import Array
from ._kernels import binary as _binary_kernels
from ._kernels import fast_path as _fast_path
from ._kernels import unary as _unary_kernels
from ._kernels.strided import launch as _launch


_KERNELS = {**_binary_kernels.KERNELS, **_unary_kernels.KERNELS}
_UINT8 = np.dtype(np.uint8)
_BOOL = np.dtype(np.bool_)
_INT64 = np.dtype(np.int64)
_SCALARS = (builtins.bool, builtins.int, builtins.float, np.generic)

# ---- operands ----------------------------------------------------------------------------------
def _is_scalar(x):
    return isinstance(x, _SCALARS)


def _check_operand(x, op):
    if not isinstance(x, Array) and not _is_scalar(x):
        raise TypeError(
            f"{op}(): argument 'other' (position 2) must be Tensor, not {type(x).__name__}"
        )


def _shape(x):
    return x._np.shape if isinstance(x, Array) else ()


def broadcast_shapes(*shapes):
    """torch's broadcast of shapes, with its error naming the clashing sizes."""
    if len(shapes) == 2 and shapes[0] == shapes[1]:  # the usual case, without the loops
        return tuple(shapes[0])
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
    try:
        return _KERNEL_BY_DTYPE[name, dtype]
    except KeyError:
        pass
    # NumPy computes a dtype's ``name`` in Python on every read (thousands of instructions):
    # look it up once per (op, dtype) and remember the entry by the ember dtype itself
    key = name, ("uint8" if dtype is D.bool else dtype.np.name)
    try:
        entry = _KERNELS[key]
    except KeyError:
        raise NotImplementedError(
            f'"{name}_cpu" not implemented for \'{dtype.torch_name}\''
        ) from None
    _KERNEL_BY_DTYPE[name, dtype] = entry
    return entry


_KERNEL_BY_DTYPE: dict = {}


def _check_writable_once(arr):
    """torch refuses to write through an expanded (stride-0) dim: several elements, one cell."""
    np_arr = arr._np
    if 0 not in np_arr.strides or np_arr.size == 0:  # nothing expanded, or nothing written
        return
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
    if type(out) is Array and out._np.dtype is result_dtype.np and out._np.shape == shape:
        _check_writable_once(out)  # the usual out=: its own dtype and shape already
        return
    if not isinstance(out, Array):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if not can_cast(result_dtype, out.dtype):
        raise RuntimeError(
            f"result type {result_dtype.torch_name} can't be cast to the desired output type "
            f"{out.dtype.torch_name}"
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
            if arr.dtype is not want and arr.dtype != want:
                arr = arr.astype(want)
        else:
            arr = _scalar_np(x, compute)
        ins.append(arr.view(_UINT8) if arr.dtype == _BOOL else arr)
    ins = tuple(ins)
    if out is not None:
        _prepare_out(out, shape, out_dtype, inplace)
        if out._np.dtype is out_dtype.np or out.dtype is out_dtype:
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
# (an entry is (address, dtypes, ...): what follows the dtypes passes through to launch)
for (_name, _dt), _entry in _KERNELS.items():
    _dts = _entry[1]
    if _name in ("add", "sub", "mul", "div", "maximum", "minimum", "pow"):
        _FAST[_name, _dts[1]] = _entry
    elif _name in ("eq", "ne", "lt", "le", "gt", "ge"):
        _FAST[_name, _dts[1]] = (_entry[0], (_BOOL,) + _dts[1:]) + _entry[2:]


def _fast_general(name, a, b):
    """The result of a plain same-dtype op, or None when promotion rules must be worked out.

    ``_fast`` (compiled, ``_kernels/fast_path.pyx``) runs the contiguous same-shape calls in C
    and hands every other call here."""
    an = a._np
    dt = an.dtype
    tb = type(b)
    if tb is Array:
        bn = b._np
        if bn.dtype != dt:
            return None
        shape = an.shape  # each read builds a tuple: read once
        if shape != bn.shape:
            shape = broadcast_shapes(shape, bn.shape)
    elif (tb is builtins.float or tb is builtins.int) and dt.kind == "f":
        entry = _FAST_SCALAR.get((name, dt))
        if entry is not None:  # the scalar rides in the kernel's parameters
            res = np.empty(an.shape, dt)
            _launch(entry, res, (an,), (b if name != "sub" else -b,))
            out = _new_array(Array)
            out._np = res
            return out
        bn = np.array(b, dt)
        shape = an.shape
    elif tb is builtins.int and dt == _INT64:
        bn = np.array(b, dt)
        shape = an.shape
    else:
        return None
    entry = _FAST.get((name, dt))
    if entry is None:
        return None
    res = np.empty(shape, entry[1][0])
    _launch(entry, res, (an, bn))
    out = _new_array(Array)
    out._np = res
    return out


def _fast_into(name, a, b, out):
    """Write the plain same-dtype op into ``out`` (an Array of the operands' dtype and their
    common shape, nothing expanded); False, having written nothing, when torch's promotion,
    broadcasting or resizing rules must be worked out by the general path."""
    if type(a) is not Array or type(b) is not Array or type(out) is not Array:
        return False
    an, bn, on = a._np, b._np, out._np
    dt = on.dtype
    if an.dtype is not dt or bn.dtype is not dt:
        return False
    shape = on.shape
    if an.shape != shape or bn.shape != shape or 0 in on.strides or not on.flags.writeable:
        return False
    if name == "div" and dt.kind != "f":  # integer division is true division: a float result
        return False
    entry = _FAST.get((name, dt))
    if entry is None or entry[1][0] is not dt:  # (comparisons write bool)
        return False
    _launch(entry, on, (an, bn))
    return True


_FAST_SCALAR = {(op, entry[1][1]): entry for (name, _), entry in _unary_kernels.KERNELS.items()
                for op in (("add", "sub") if name == "add_scalar" else (name[:-7],))
                if name.endswith("_scalar")}


def _binary_general(name, a, b, dtype=None, out_dtype=None, out=None, params=(),
                    inplace=False):
    """A two-input op's result with torch's promotion; ``_binary`` (compiled,
    ``_kernels/fast_path.pyx``) runs two contiguous Arrays of one dtype and shape in C and
    hands every other call here."""
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


_FAST_UNARY = {(name, entry[1][1]): entry for (name, _), entry in _unary_kernels.KERNELS.items()
               if entry[1][0] == entry[1][1]}


def _unary_general(name, a, dtype=None, out_dtype=None, out=None, params=(), inplace=False):
    """A unary op's result; ``_unary`` (compiled, ``_kernels/fast_path.pyx``) runs the plain
    contiguous calls in C and hands every other call here."""
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


# two-input loops whose operands and result share one dtype, by (op, that dtype)
_SAME_DTYPE = {(name, entry[1][0]): entry for (name, _), entry in _binary_kernels.KERNELS.items()
               if len(entry[1]) == 3 and entry[1][0] == entry[1][1] == entry[1][2]}
_fast_path.bind(Array, _FAST, _FAST_SCALAR, _FAST_UNARY, _SAME_DTYPE, _fast_general,
                _unary_general, _binary_general)
_fast = _fast_path.binary
_unary = _fast_path.unary
_binary = _fast_path.same_dtype


# ---- writing results into existing arrays -----------------------------------------------------
def _cast(a, dtype):
    if a.dtype is dtype:
        return a
    with np.errstate(invalid="ignore", over="ignore"):  # nan -> int is silent in torch
        return Array(a._np.astype(dtype.np))


def _assign_inplace(dst, res):
    _prepare_out(dst, res._np.shape, res.dtype, True)
    _copy_into(dst._np, res._np)
    return dst


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
    if a._np.size:  # an expanded empty tensor is a read-only NumPy view: nothing to write
        a._np[...] = _scalar_np(value, a.dtype)
    return a


def zero_(a):
    return fill_(a, 0)
