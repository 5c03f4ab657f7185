"""Contiguous loops of the two- and three-operand elementwise ops, one per op and dtype.

Each loop has ``strided.kernel_fn``'s shape and is listed in ``KERNELS`` under
``(name, compute dtype name)`` as ``(address, operand dtypes)``; ``strided.launch`` runs it.
Integer division returns error code 1 on a zero divisor instead of trapping the process.
"""
from libc.math cimport (
    M_2_SQRTPI, M_SQRT1_2, M_SQRT2, erf, exp, floor, floorf, fmod, fmodf, pow, powf, tanh,
    trunc, truncf,
)

cdef extern from "fast_math.h" nogil:
    # straight-line float32 math the vectoriser can inline (libm's are one call per element)
    float ember_fast_expf(float x)
    float ember_fast_tanhf(float x)
    float ember_fast_erff(float x)

from .strided cimport int8_t, int16_t, int32_t, int64_t, integral, uint8_t
from .types cimport numeric, real

import numpy as np

KERNELS = {}
_NUMERIC = ("float32", "float64", "int64", "int32", "int16", "int8", "uint8")
_INTEGRAL = _NUMERIC[2:]


def _register(name, dtype_names, fns, out=None, inputs=None):
    """List ``fns`` (addresses, one per dtype) under ``name``; ``out`` fixes the output dtype."""
    for dt, f in zip(dtype_names, fns):
        ins = inputs if inputs is not None else (dt, dt)
        KERNELS[name, dt] = (f, tuple(np.dtype(x) for x in (out or dt,) + ins))


# ---- arithmetic ----------------------------------------------------------------------------
cdef int add_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] + b[i]
    return 0


cdef int sub_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] - b[i]
    return 0


cdef int mul_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] * b[i]
    return 0


cdef int div_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef const real* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] / b[i]
    return 0


cdef int div_trunc_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef const real* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        if real is float:
            o[i] = truncf(a[i] / b[i])
        else:
            o[i] = trunc(a[i] / b[i])
    return 0


cdef inline real _fmod(real a, real b) noexcept nogil:
    if real is float:
        return fmodf(a, b)
    else:
        return fmod(a, b)


cdef inline real _floor(real a) noexcept nogil:
    if real is float:
        return floorf(a)
    else:
        return floor(a)


cdef int div_floor_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    # Python's float floor division: exact quotient of (a - fmod) then floor, so that
    # 1 // 0.1 == 9 as in Python and torch, not floor(1 / 0.1) == 10.
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef const real* b = p[2]
    cdef real x, y, mod, div, fl
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        y = b[i]
        if y == 0:
            o[i] = x / y
            continue
        mod = _fmod(x, y)
        div = (x - mod) / y
        if mod != 0 and ((y < 0) != (mod < 0)):
            div = div - 1
        if div != 0:
            fl = _floor(div)
            if div - fl > 0.5:
                fl = fl + 1
        else:
            fl = 0.0 if (x / y) >= 0 else -0.0
        o[i] = fl
    return 0


cdef int remainder_real_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef const real* b = p[2]
    cdef real mod
    cdef Py_ssize_t i
    for i in range(n):
        mod = _fmod(a[i], b[i])
        if mod != 0 and ((b[i] < 0) != (mod < 0)):
            mod = mod + b[i]
        o[i] = mod
    return 0


cdef int div_trunc_int_k(integral** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef integral* o = p[0]
    cdef const integral* a = p[1]
    cdef const integral* b = p[2]
    cdef Py_ssize_t i
    cdef int err = 0
    for i in range(n):
        if b[i] == 0:
            o[i] = 0
            err = 1
        elif integral is not uint8_t and b[i] == -1:
            o[i] = -a[i]  # INT_MIN / -1 traps on x86; negation wraps as torch does
        else:
            o[i] = a[i] / b[i]
    return err


cdef int div_floor_int_k(integral** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef integral* o = p[0]
    cdef const integral* a = p[1]
    cdef const integral* b = p[2]
    cdef integral q
    cdef Py_ssize_t i
    cdef int err = 0
    for i in range(n):
        if b[i] == 0:
            o[i] = 0
            err = 1
        elif integral is not uint8_t and b[i] == -1:
            o[i] = -a[i]
        else:
            q = a[i] / b[i]
            if integral is not uint8_t:
                if a[i] % b[i] != 0 and ((a[i] < 0) != (b[i] < 0)):
                    q = q - 1
            o[i] = q
    return err


cdef int remainder_int_k(integral** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef integral* o = p[0]
    cdef const integral* a = p[1]
    cdef const integral* b = p[2]
    cdef integral r
    cdef Py_ssize_t i
    cdef int err = 0
    for i in range(n):
        if b[i] == 0:
            o[i] = 0
            err = 1
        elif integral is not uint8_t and b[i] == -1:
            o[i] = 0
        else:
            r = a[i] % b[i]
            if integral is not uint8_t:
                if r != 0 and ((r < 0) != (b[i] < 0)):
                    r = r + b[i]
            o[i] = r
    return err


cdef int pow_real_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef const real* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        if real is float:
            o[i] = powf(a[i], b[i])
        else:
            o[i] = pow(a[i], b[i])
    return 0


cdef int pow_int_k(integral** p, Py_ssize_t n, const double* prm) noexcept nogil:
    # squaring with wrap-around, as torch; negative exponents give 0 except for bases 1, -1
    cdef integral* o = p[0]
    cdef const integral* a = p[1]
    cdef const integral* b = p[2]
    cdef integral base, result
    cdef long long e
    cdef Py_ssize_t i
    for i in range(n):
        base = a[i]
        e = b[i]
        if e < 0:
            if base == 1:
                o[i] = 1
            elif integral is not uint8_t and base == -1:
                o[i] = 1 if e % 2 == 0 else -1
            else:
                o[i] = 0
            continue
        result = 1
        while e:
            if e & 1:
                result = result * base
            base = base * base
            e >>= 1
        o[i] = result
    return 0


cdef int maximum_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        if numeric is float or numeric is double:
            o[i] = a[i] if (a[i] > b[i] or a[i] != a[i]) else b[i]  # NaN wins, as torch
        else:
            o[i] = a[i] if a[i] > b[i] else b[i]
    return 0


cdef int minimum_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        if numeric is float or numeric is double:
            o[i] = a[i] if (a[i] < b[i] or a[i] != a[i]) else b[i]
        else:
            o[i] = a[i] if a[i] < b[i] else b[i]
    return 0


# ---- comparisons and logic (bool out, stored as uint8) ---------------------------------------
cdef int eq_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] == b[i]
    return 0


cdef int ne_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] != b[i]
    return 0


cdef int lt_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] < b[i]
    return 0


cdef int le_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] <= b[i]
    return 0


cdef int gt_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] > b[i]
    return 0


cdef int ge_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] >= b[i]
    return 0


cdef int logical_and_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = (a[i] != 0) & (b[i] != 0)
    return 0


cdef int logical_or_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = (a[i] != 0) | (b[i] != 0)
    return 0


cdef int logical_xor_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const numeric* a = p[1]
    cdef const numeric* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = (a[i] != 0) ^ (b[i] != 0)
    return 0


cdef int bitwise_and_k(integral** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef integral* o = p[0]
    cdef const integral* a = p[1]
    cdef const integral* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] & b[i]
    return 0


cdef int bitwise_or_k(integral** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef integral* o = p[0]
    cdef const integral* a = p[1]
    cdef const integral* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] | b[i]
    return 0


cdef int bitwise_xor_k(integral** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef integral* o = p[0]
    cdef const integral* a = p[1]
    cdef const integral* b = p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] ^ b[i]
    return 0


cdef int where_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const uint8_t* c = <const uint8_t*>p[1]
    cdef const numeric* a = p[2]
    cdef const numeric* b = p[3]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] if c[i] else b[i]
    return 0


# ---- fused activation backwards: prm[0] is the threshold / slope / gelu approximation ---------
cdef int threshold_backward_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* g = p[1]
    cdef const real* x = p[2]
    cdef real t = <real>prm[0]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = 0 if x[i] <= t else g[i]  # torch's mask: a NaN input lets the gradient through
    return 0


cdef int leaky_relu_backward_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* g = p[1]
    cdef const real* x = p[2]
    cdef real slope = <real>prm[0]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = g[i] if x[i] > 0 else g[i] * slope
    return 0


cdef int sigmoid_backward_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* g = p[1]
    cdef const real* y = p[2]
    cdef real one = 1  # typed: a bare 1 would be a C double and widen the float loop
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = g[i] * (one - y[i]) * y[i]
    return 0


cdef int tanh_backward_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* g = p[1]
    cdef const real* y = p[2]
    cdef real one = 1
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = g[i] * (one - y[i] * y[i])
    return 0


cdef int gelu_backward_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* g = p[1]
    cdef const real* xs = p[2]
    cdef real x, cdf, pdf, inner, t, k_beta, k_kappa = 0.044715, half = 0.5, one = 1, three = 3
    cdef Py_ssize_t i
    if prm[0] == 0:  # exact: d/dx x*Phi(x) = Phi(x) + x*phi(x)
        k_beta = M_2_SQRTPI * M_SQRT1_2 * 0.5
        for i in range(n):
            x = xs[i]
            if real is float:
                cdf = half * (one + ember_fast_erff(x * <float>M_SQRT1_2))
                pdf = k_beta * ember_fast_expf(-half * x * x)
            else:
                cdf = 0.5 * (1 + erf(x * M_SQRT1_2))
                pdf = k_beta * exp(-0.5 * x * x)
            o[i] = g[i] * (cdf + x * pdf)
    else:  # tanh approximation
        k_beta = M_SQRT2 * M_2_SQRTPI * 0.5
        for i in range(n):
            x = xs[i]
            inner = k_beta * (x + k_kappa * x * x * x)
            if real is float:
                t = ember_fast_tanhf(inner)
            else:
                t = tanh(inner)
            o[i] = g[i] * (half * (one + t)
                           + half * x * (one - t * t) * k_beta * (one + three * k_kappa * x * x))
    return 0


_register("add", _NUMERIC, (
    <size_t>add_k[float], <size_t>add_k[double], <size_t>add_k[int64_t], <size_t>add_k[int32_t],
    <size_t>add_k[int16_t], <size_t>add_k[int8_t], <size_t>add_k[uint8_t]))
_register("sub", _NUMERIC, (
    <size_t>sub_k[float], <size_t>sub_k[double], <size_t>sub_k[int64_t], <size_t>sub_k[int32_t],
    <size_t>sub_k[int16_t], <size_t>sub_k[int8_t], <size_t>sub_k[uint8_t]))
_register("mul", _NUMERIC, (
    <size_t>mul_k[float], <size_t>mul_k[double], <size_t>mul_k[int64_t], <size_t>mul_k[int32_t],
    <size_t>mul_k[int16_t], <size_t>mul_k[int8_t], <size_t>mul_k[uint8_t]))
_register("maximum", _NUMERIC, (
    <size_t>maximum_k[float], <size_t>maximum_k[double], <size_t>maximum_k[int64_t],
    <size_t>maximum_k[int32_t], <size_t>maximum_k[int16_t], <size_t>maximum_k[int8_t],
    <size_t>maximum_k[uint8_t]))
_register("minimum", _NUMERIC, (
    <size_t>minimum_k[float], <size_t>minimum_k[double], <size_t>minimum_k[int64_t],
    <size_t>minimum_k[int32_t], <size_t>minimum_k[int16_t], <size_t>minimum_k[int8_t],
    <size_t>minimum_k[uint8_t]))
_register("div", _NUMERIC[:2], (<size_t>div_k[float], <size_t>div_k[double]))
_register("div_trunc", _NUMERIC[:2], (<size_t>div_trunc_k[float], <size_t>div_trunc_k[double]))
_register("div_floor", _NUMERIC[:2], (<size_t>div_floor_k[float], <size_t>div_floor_k[double]))
_register("remainder", _NUMERIC[:2], (
    <size_t>remainder_real_k[float], <size_t>remainder_real_k[double]))
_register("pow", _NUMERIC[:2], (<size_t>pow_real_k[float], <size_t>pow_real_k[double]))
_register("div_trunc", _INTEGRAL, (
    <size_t>div_trunc_int_k[int64_t], <size_t>div_trunc_int_k[int32_t],
    <size_t>div_trunc_int_k[int16_t], <size_t>div_trunc_int_k[int8_t],
    <size_t>div_trunc_int_k[uint8_t]))
_register("div_floor", _INTEGRAL, (
    <size_t>div_floor_int_k[int64_t], <size_t>div_floor_int_k[int32_t],
    <size_t>div_floor_int_k[int16_t], <size_t>div_floor_int_k[int8_t],
    <size_t>div_floor_int_k[uint8_t]))
_register("remainder", _INTEGRAL, (
    <size_t>remainder_int_k[int64_t], <size_t>remainder_int_k[int32_t],
    <size_t>remainder_int_k[int16_t], <size_t>remainder_int_k[int8_t],
    <size_t>remainder_int_k[uint8_t]))
_register("pow", _INTEGRAL, (
    <size_t>pow_int_k[int64_t], <size_t>pow_int_k[int32_t], <size_t>pow_int_k[int16_t],
    <size_t>pow_int_k[int8_t], <size_t>pow_int_k[uint8_t]))
_register("bitwise_and", _INTEGRAL, (
    <size_t>bitwise_and_k[int64_t], <size_t>bitwise_and_k[int32_t],
    <size_t>bitwise_and_k[int16_t], <size_t>bitwise_and_k[int8_t],
    <size_t>bitwise_and_k[uint8_t]))
_register("bitwise_or", _INTEGRAL, (
    <size_t>bitwise_or_k[int64_t], <size_t>bitwise_or_k[int32_t], <size_t>bitwise_or_k[int16_t],
    <size_t>bitwise_or_k[int8_t], <size_t>bitwise_or_k[uint8_t]))
_register("bitwise_xor", _INTEGRAL, (
    <size_t>bitwise_xor_k[int64_t], <size_t>bitwise_xor_k[int32_t],
    <size_t>bitwise_xor_k[int16_t], <size_t>bitwise_xor_k[int8_t],
    <size_t>bitwise_xor_k[uint8_t]))
_register("eq", _NUMERIC, (
    <size_t>eq_k[float], <size_t>eq_k[double], <size_t>eq_k[int64_t], <size_t>eq_k[int32_t],
    <size_t>eq_k[int16_t], <size_t>eq_k[int8_t], <size_t>eq_k[uint8_t]), out="uint8")
_register("ne", _NUMERIC, (
    <size_t>ne_k[float], <size_t>ne_k[double], <size_t>ne_k[int64_t], <size_t>ne_k[int32_t],
    <size_t>ne_k[int16_t], <size_t>ne_k[int8_t], <size_t>ne_k[uint8_t]), out="uint8")
_register("lt", _NUMERIC, (
    <size_t>lt_k[float], <size_t>lt_k[double], <size_t>lt_k[int64_t], <size_t>lt_k[int32_t],
    <size_t>lt_k[int16_t], <size_t>lt_k[int8_t], <size_t>lt_k[uint8_t]), out="uint8")
_register("le", _NUMERIC, (
    <size_t>le_k[float], <size_t>le_k[double], <size_t>le_k[int64_t], <size_t>le_k[int32_t],
    <size_t>le_k[int16_t], <size_t>le_k[int8_t], <size_t>le_k[uint8_t]), out="uint8")
_register("gt", _NUMERIC, (
    <size_t>gt_k[float], <size_t>gt_k[double], <size_t>gt_k[int64_t], <size_t>gt_k[int32_t],
    <size_t>gt_k[int16_t], <size_t>gt_k[int8_t], <size_t>gt_k[uint8_t]), out="uint8")
_register("ge", _NUMERIC, (
    <size_t>ge_k[float], <size_t>ge_k[double], <size_t>ge_k[int64_t], <size_t>ge_k[int32_t],
    <size_t>ge_k[int16_t], <size_t>ge_k[int8_t], <size_t>ge_k[uint8_t]), out="uint8")
_register("logical_and", _NUMERIC, (
    <size_t>logical_and_k[float], <size_t>logical_and_k[double], <size_t>logical_and_k[int64_t],
    <size_t>logical_and_k[int32_t], <size_t>logical_and_k[int16_t],
    <size_t>logical_and_k[int8_t], <size_t>logical_and_k[uint8_t]), out="uint8")
_register("logical_or", _NUMERIC, (
    <size_t>logical_or_k[float], <size_t>logical_or_k[double], <size_t>logical_or_k[int64_t],
    <size_t>logical_or_k[int32_t], <size_t>logical_or_k[int16_t],
    <size_t>logical_or_k[int8_t], <size_t>logical_or_k[uint8_t]), out="uint8")
_register("logical_xor", _NUMERIC, (
    <size_t>logical_xor_k[float], <size_t>logical_xor_k[double], <size_t>logical_xor_k[int64_t],
    <size_t>logical_xor_k[int32_t], <size_t>logical_xor_k[int16_t],
    <size_t>logical_xor_k[int8_t], <size_t>logical_xor_k[uint8_t]), out="uint8")
for _dt, _f in zip(_NUMERIC, (
        <size_t>where_k[float], <size_t>where_k[double], <size_t>where_k[int64_t],
        <size_t>where_k[int32_t], <size_t>where_k[int16_t], <size_t>where_k[int8_t],
        <size_t>where_k[uint8_t])):
    _register("where", (_dt,), (_f,), inputs=("uint8", _dt, _dt))
_register("threshold_backward", _NUMERIC[:2], (
    <size_t>threshold_backward_k[float], <size_t>threshold_backward_k[double]))
_register("leaky_relu_backward", _NUMERIC[:2], (
    <size_t>leaky_relu_backward_k[float], <size_t>leaky_relu_backward_k[double]))
_register("sigmoid_backward", _NUMERIC[:2], (
    <size_t>sigmoid_backward_k[float], <size_t>sigmoid_backward_k[double]))
_register("tanh_backward", _NUMERIC[:2], (
    <size_t>tanh_backward_k[float], <size_t>tanh_backward_k[double]))
_register("gelu_backward", _NUMERIC[:2], (
    <size_t>gelu_backward_k[float], <size_t>gelu_backward_k[double]))
