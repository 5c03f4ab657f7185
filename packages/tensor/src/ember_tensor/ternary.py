"""Three-operand elementwise ops: ``lerp`` (tensor or scalar weight), ``addcmul``, ``addcdiv``.

Each runs one generated kernel of the elementwise table (``_kernels/elementwise_ops.py``) over
the broadcast operands; a scalar weight or ``value`` travels in the kernel's parameters.
"""
from . import _dtype as D
from ._array import Array
from ._elementwise_core import _check_operand, _run, _shape, broadcast_shapes

# the C++ type names torch's lerp checks print ("expected dtype float for `end` ...")
_ADDCDIV_INTEGER = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
    "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
    "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
    "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
    "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
    "for all dtypes."
)


def _require_array(x, fn, name, pos):
    if not isinstance(x, Array):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _same_dtype(x, dtype, name):
    if x.dtype is not dtype:
        raise RuntimeError(f"expected dtype {dtype.cpp_name} for `{name}` but got dtype "
                           f"{x.dtype.cpp_name}")


def lerp(input: Array, end: Array, weight, out: Array | None = None,
         inplace: bool = False) -> Array:
    """``input + weight * (end - input)``, computed as torch does from whichever end is nearer,
    so ``weight`` 0 and 1 give ``input`` and ``end`` exactly. Float dtypes only."""
    _require_array(input, "lerp", "input", 1)
    _require_array(end, "lerp", "end", 2)
    dtype = input.dtype
    _same_dtype(end, dtype, "end")
    operands: tuple[Array, ...]
    params: tuple[float, ...]
    if isinstance(weight, Array):
        if weight.ndim > 0:
            _same_dtype(weight, dtype, "weight")
        kernel, operands, params = "lerp", (input, end, weight), ()
        shape = broadcast_shapes(input._np.shape, end._np.shape, weight._np.shape)
    else:
        _check_operand(weight, "lerp")
        kernel, operands, params = "lerp_scalar", (input, end), (float(weight),)
        shape = broadcast_shapes(input._np.shape, end._np.shape)
    if not dtype.is_floating_point:
        kind = "tensor" if kernel == "lerp" else "scalar"
        raise NotImplementedError(f"\"lerp_kernel_{kind}\" not implemented for "
                                  f"'{dtype.torch_name}'")
    return _run(kernel, dtype, dtype, operands, shape, out, params, inplace)


def _addc(name, input, tensor1, tensor2, value, out, inplace):
    for pos, (arg, x) in enumerate((("input", input), ("tensor1", tensor1),
                                    ("tensor2", tensor2)), start=1):
        _require_array(x, name, arg, pos)
    _check_operand(value, name)
    if (name == "addcdiv" and not tensor1.dtype.is_floating_point
            and not tensor2.dtype.is_floating_point):
        raise RuntimeError(_ADDCDIV_INTEGER)
    compute = D.result_type(input, tensor1, tensor2)
    if compute is D.bool:
        raise NotImplementedError(f"\"{name}_cpu_out\" not implemented for 'Bool'")
    shape = broadcast_shapes(_shape(input), _shape(tensor1), _shape(tensor2))
    return _run(name, compute, compute, (input, tensor1, tensor2), shape, out, (value,), inplace)


def addcmul(input: Array, tensor1: Array, tensor2: Array, value=1, out: Array | None = None,
            inplace: bool = False) -> Array:
    """``input + value * tensor1 * tensor2``; ``value`` is cast to the result dtype, as torch."""
    return _addc("addcmul", input, tensor1, tensor2, value, out, inplace)


def addcdiv(input: Array, tensor1: Array, tensor2: Array, value=1, out: Array | None = None,
            inplace: bool = False) -> Array:
    """``input + value * tensor1 / tensor2``; integer ``tensor1``/``tensor2`` are refused."""
    return _addc("addcdiv", input, tensor1, tensor2, value, out, inplace)
