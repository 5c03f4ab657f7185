"""Contiguous loops of the one-operand elementwise ops, one per op and dtype.

Same contract as ``binary``: each loop has ``strided.kernel_fn``'s shape and is listed in
``KERNELS`` under ``(name, dtype name)``; ``prm`` carries scalar arguments (clamp bounds, slopes).
Float math is instantiated for float32 and float64 only: integer inputs are cast first.
"""
from libc.math cimport (
    M_2_SQRTPI, M_SQRT1_2, M_SQRT2, ceil, ceilf, cos, cosf, erf, exp, expm1, expm1f, fabs,
    fabsf, floor, floorf, isinf, log, log1p, log1pf, log2, log2f, logf, nearbyint, nearbyintf,
    sin, sinf, sqrt, sqrtf, tanh, trunc, truncf,
)

cdef extern from "fast_math.h" nogil:
    # straight-line float32 math the vectoriser can inline (libm's are one call per element)
    float ember_fast_expf(float x)
    float ember_fast_sigmoidf(float x)
    float ember_fast_tanhf(float x)
    float ember_fast_erff(float x)

from .strided cimport int8_t, int16_t, int32_t, int64_t, integral, uint8_t
from .types cimport numeric, real

import numpy as np

KERNELS = {}
_NUMERIC = ("float32", "float64", "int64", "int32", "int16", "int8", "uint8")
_REAL = _NUMERIC[:2]
_INTEGRAL = _NUMERIC[2:]


def _register(name, dtype_names, fns, out=None):
    """List ``fns`` (addresses, one per dtype) under ``name``; ``out`` fixes the output dtype."""
    for dt, f in zip(dtype_names, fns):
        KERNELS[name, dt] = (f, (np.dtype(out or dt), np.dtype(dt)))


# ---- float math ------------------------------------------------------------------------------
cdef int exp_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = ember_fast_expf(x)
        else:
            o[i] = exp(x)
    return 0

cdef int log_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = logf(x)
        else:
            o[i] = log(x)
    return 0

cdef int log1p_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = log1pf(x)
        else:
            o[i] = log1p(x)
    return 0

cdef int expm1_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = expm1f(x)
        else:
            o[i] = expm1(x)
    return 0

cdef int log2_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = log2f(x)
        else:
            o[i] = log2(x)
    return 0

cdef int sqrt_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = sqrtf(x)
        else:
            o[i] = sqrt(x)
    return 0

# Constants in float kernels are typed `real`: a bare literal is a C double and would turn the
# float loop into double arithmetic (half the SIMD lanes plus conversions).
cdef int rsqrt_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x, one = 1
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = one / sqrtf(x)
        else:
            o[i] = one / sqrt(x)
    return 0

cdef int reciprocal_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real one = 1
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = one / a[i]
    return 0

cdef int sin_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = sinf(x)
        else:
            o[i] = sin(x)
    return 0

cdef int cos_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = cosf(x)
        else:
            o[i] = cos(x)
    return 0

cdef int tanh_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = ember_fast_tanhf(x)
        else:
            o[i] = tanh(x)
    return 0

cdef int sigmoid_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = ember_fast_sigmoidf(x)
        else:
            o[i] = 1 / (1 + exp(-x))
    return 0

cdef int erf_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = ember_fast_erff(x)
        else:
            o[i] = erf(x)
    return 0

cdef int floor_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = floorf(x)
        else:
            o[i] = floor(x)
    return 0

cdef int ceil_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = ceilf(x)
        else:
            o[i] = ceil(x)
    return 0

cdef int round_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = nearbyintf(x)
        else:
            o[i] = nearbyint(x)
    return 0

cdef int trunc_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if real is float:
            o[i] = truncf(x)
        else:
            o[i] = trunc(x)
    return 0

# ---- sign-aware and integer-friendly ops ----------------------------------------------------
cdef int copy_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i]
    return 0


# A Python scalar operand travels in prm[0], so `x * 2.0` runs as a flat one-input loop instead
# of broadcasting a 0-dim operand through a block buffer (float dtypes only: a double holds them).
cdef int add_scalar_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real s = <real>prm[0]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] + s
    return 0


cdef int mul_scalar_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real s = <real>prm[0]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] * s
    return 0


cdef int div_scalar_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real s = <real>prm[0]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] / s
    return 0


cdef int neg_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = -a[i]
    return 0


cdef int abs_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef Py_ssize_t i
    for i in range(n):
        if numeric is float:
            o[i] = fabsf(a[i])  # also -0.0 -> 0.0
        elif numeric is double:
            o[i] = fabs(a[i])
        elif numeric is uint8_t:
            o[i] = a[i]
        else:
            o[i] = -a[i] if a[i] < 0 else a[i]
    return 0


cdef int sign_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = (0 < a[i]) - (a[i] < 0)
    return 0


cdef int square_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] * a[i]
    return 0


cdef int relu_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef Py_ssize_t i
    for i in range(n):
        # one compare-and-select the vectoriser takes as is. As torch: only values below 0
        # are replaced, so NaN and -0.0 pass through unchanged
        o[i] = 0 if a[i] < 0 else a[i]
    return 0


cdef int clamp_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    # prm = (min, max, has_min, has_max); min applied first so min > max gives max, as torch
    cdef numeric* o = p[0]
    cdef const numeric* a = p[1]
    cdef numeric lo = <numeric>prm[0], hi = <numeric>prm[1], x
    cdef bint has_lo = prm[2] != 0, has_hi = prm[3] != 0
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if has_lo and x < lo:
            x = lo
        if has_hi and x > hi:
            x = hi
        o[i] = x
    return 0


cdef int logical_not_k(numeric** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const numeric* a = p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] == 0
    return 0


cdef int bitwise_not_k(integral** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef integral* o = p[0]
    cdef const integral* a = p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = ~a[i]
    return 0


cdef int leaky_relu_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real slope = <real>prm[0]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] if a[i] > 0 else a[i] * slope
    return 0


cdef int gelu_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    # prm[0]: 0 exact (x * Phi(x)), 1 tanh approximation; one loop per mode so each vectorises
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x, k_beta = M_SQRT2 * M_2_SQRTPI * 0.5, k_kappa = 0.044715, half = 0.5, one = 1
    cdef Py_ssize_t i
    if prm[0] == 0:
        for i in range(n):
            x = a[i]
            if real is float:
                o[i] = x * half * (one + ember_fast_erff(x * <float>M_SQRT1_2))
            else:
                o[i] = x * 0.5 * (1 + erf(x * M_SQRT1_2))
    else:
        for i in range(n):
            x = a[i]
            if real is float:
                o[i] = half * x * (one + ember_fast_tanhf(k_beta * (x + k_kappa * x * x * x)))
            else:
                o[i] = 0.5 * x * (1 + tanh(k_beta * (x + k_kappa * x * x * x)))
    return 0


cdef int isnan_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const real* a = p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = a[i] != a[i]
    return 0


cdef int isinf_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const real* a = p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = isinf(a[i]) != 0
    return 0


cdef int isfinite_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const real* a = p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = (a[i] == a[i]) and not isinf(a[i])
    return 0


cdef int nan_to_num_k(real** p, Py_ssize_t n, const double* prm) noexcept nogil:
    # prm = (nan, posinf, neginf) already resolved to this dtype's finite extremes
    cdef real* o = p[0]
    cdef const real* a = p[1]
    cdef real x
    cdef Py_ssize_t i
    for i in range(n):
        x = a[i]
        if x != x:
            x = <real>prm[0]
        elif isinf(x):
            x = <real>prm[1] if x > 0 else <real>prm[2]
        o[i] = x
    return 0


_register("exp", _REAL, (<size_t>exp_k[float], <size_t>exp_k[double]))
_register("log", _REAL, (<size_t>log_k[float], <size_t>log_k[double]))
_register("log1p", _REAL, (<size_t>log1p_k[float], <size_t>log1p_k[double]))
_register("expm1", _REAL, (<size_t>expm1_k[float], <size_t>expm1_k[double]))
_register("log2", _REAL, (<size_t>log2_k[float], <size_t>log2_k[double]))
_register("sqrt", _REAL, (<size_t>sqrt_k[float], <size_t>sqrt_k[double]))
_register("rsqrt", _REAL, (<size_t>rsqrt_k[float], <size_t>rsqrt_k[double]))
_register("reciprocal", _REAL, (<size_t>reciprocal_k[float], <size_t>reciprocal_k[double]))
_register("sin", _REAL, (<size_t>sin_k[float], <size_t>sin_k[double]))
_register("cos", _REAL, (<size_t>cos_k[float], <size_t>cos_k[double]))
_register("tanh", _REAL, (<size_t>tanh_k[float], <size_t>tanh_k[double]))
_register("sigmoid", _REAL, (<size_t>sigmoid_k[float], <size_t>sigmoid_k[double]))
_register("erf", _REAL, (<size_t>erf_k[float], <size_t>erf_k[double]))
_register("floor", _REAL, (<size_t>floor_k[float], <size_t>floor_k[double]))
_register("ceil", _REAL, (<size_t>ceil_k[float], <size_t>ceil_k[double]))
_register("round", _REAL, (<size_t>round_k[float], <size_t>round_k[double]))
_register("trunc", _REAL, (<size_t>trunc_k[float], <size_t>trunc_k[double]))

_register("copy", _NUMERIC, (
    <size_t>copy_k[float], <size_t>copy_k[double], <size_t>copy_k[int64_t],
    <size_t>copy_k[int32_t], <size_t>copy_k[int16_t], <size_t>copy_k[int8_t],
    <size_t>copy_k[uint8_t]))
_register("neg", _NUMERIC, (
    <size_t>neg_k[float], <size_t>neg_k[double], <size_t>neg_k[int64_t], <size_t>neg_k[int32_t],
    <size_t>neg_k[int16_t], <size_t>neg_k[int8_t], <size_t>neg_k[uint8_t]))
_register("abs", _NUMERIC, (
    <size_t>abs_k[float], <size_t>abs_k[double], <size_t>abs_k[int64_t], <size_t>abs_k[int32_t],
    <size_t>abs_k[int16_t], <size_t>abs_k[int8_t], <size_t>abs_k[uint8_t]))
_register("sign", _NUMERIC, (
    <size_t>sign_k[float], <size_t>sign_k[double], <size_t>sign_k[int64_t],
    <size_t>sign_k[int32_t], <size_t>sign_k[int16_t], <size_t>sign_k[int8_t],
    <size_t>sign_k[uint8_t]))
_register("square", _NUMERIC, (
    <size_t>square_k[float], <size_t>square_k[double], <size_t>square_k[int64_t],
    <size_t>square_k[int32_t], <size_t>square_k[int16_t], <size_t>square_k[int8_t],
    <size_t>square_k[uint8_t]))
_register("relu", _NUMERIC, (
    <size_t>relu_k[float], <size_t>relu_k[double], <size_t>relu_k[int64_t],
    <size_t>relu_k[int32_t], <size_t>relu_k[int16_t], <size_t>relu_k[int8_t],
    <size_t>relu_k[uint8_t]))
_register("clamp", _NUMERIC, (
    <size_t>clamp_k[float], <size_t>clamp_k[double], <size_t>clamp_k[int64_t],
    <size_t>clamp_k[int32_t], <size_t>clamp_k[int16_t], <size_t>clamp_k[int8_t],
    <size_t>clamp_k[uint8_t]))
_register("logical_not", _NUMERIC, (
    <size_t>logical_not_k[float], <size_t>logical_not_k[double], <size_t>logical_not_k[int64_t],
    <size_t>logical_not_k[int32_t], <size_t>logical_not_k[int16_t],
    <size_t>logical_not_k[int8_t], <size_t>logical_not_k[uint8_t]), out="uint8")
_register("bitwise_not", _INTEGRAL, (
    <size_t>bitwise_not_k[int64_t], <size_t>bitwise_not_k[int32_t],
    <size_t>bitwise_not_k[int16_t], <size_t>bitwise_not_k[int8_t],
    <size_t>bitwise_not_k[uint8_t]))
_register("add_scalar", _REAL, (<size_t>add_scalar_k[float], <size_t>add_scalar_k[double]))
_register("mul_scalar", _REAL, (<size_t>mul_scalar_k[float], <size_t>mul_scalar_k[double]))
_register("div_scalar", _REAL, (<size_t>div_scalar_k[float], <size_t>div_scalar_k[double]))
_register("leaky_relu", _REAL, (<size_t>leaky_relu_k[float], <size_t>leaky_relu_k[double]))
_register("gelu", _REAL, (<size_t>gelu_k[float], <size_t>gelu_k[double]))
_register("isnan", _REAL, (<size_t>isnan_k[float], <size_t>isnan_k[double]), out="uint8")
_register("isinf", _REAL, (<size_t>isinf_k[float], <size_t>isinf_k[double]), out="uint8")
_register("isfinite", _REAL, (<size_t>isfinite_k[float], <size_t>isfinite_k[double]), out="uint8")
_register("nan_to_num", _REAL, (<size_t>nan_to_num_k[float], <size_t>nan_to_num_k[double]))
