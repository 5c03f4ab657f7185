"""Fused optimizer updates (SGD, Adam/AdamW, RMSprop) over flat contiguous buffers.

Each entry point takes NumPy arrays that ``ember_tensor.optim_update`` has already made
contiguous and matched; it checks them again here anyway because the loops run without
bounds checks. The arithmetic follows torch's single-tensor reference step by step (same
order, same scalar precomputations in double, same rounding to the tensor's dtype), so
float32 trajectories agree with torch's to rounding.
"""
cimport numpy as cnp
from cython.parallel cimport prange

from .parallel cimport threads_for
from .types cimport real

from libc.math cimport sqrt, sqrtf, fabs
from libc.stdint cimport uintptr_t
from libc.stdlib cimport free, malloc, qsort

cdef extern from "optim.h" nogil:
    void ember_sgd_momentum_f32(float* p, const float* g, float* buf, Py_ssize_t n, float lr,
                                float momentum, float one_minus_dampening)
    void ember_sgd_momentum_f64(double* p, const double* g, double* buf, Py_ssize_t n,
                                double lr, double momentum, double one_minus_dampening)
    void ember_sgd_plain_f32(float* p, const float* g, Py_ssize_t n, float lr)
    void ember_sgd_plain_f64(double* p, const double* g, Py_ssize_t n, double lr)
    void ember_adam_plain_f32(float* p, const float* g, float* m, float* v, Py_ssize_t n,
                              float neg_step_size, float one_minus_beta1, float beta2,
                              float one_minus_beta2, float bc2_sqrt, float eps, float decay)
    void ember_adam_plain_f64(double* p, const double* g, double* m, double* v, Py_ssize_t n,
                              double neg_step_size, double one_minus_beta1, double beta2,
                              double one_minus_beta2, double bc2_sqrt, double eps,
                              double decay)

import numpy as np

cnp.import_array()

# Elements a thread takes at a time. Blocks are handed out dynamically, not split evenly up
# front: on a loaded machine a descheduled thread would otherwise hold every other thread at
# the end-of-loop barrier until it got its share done.
cdef Py_ssize_t BLOCK = 1 << 15


cdef inline real _sqrt(real x) noexcept nogil:
    if real is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef inline real _lerp(real a, real b, real w) noexcept nogil:
    # torch's lerp: the branch keeps the result exact at both ends of the weight range
    if fabs(w) < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (1 - w)


# ---- SGD ----------------------------------------------------------------------------------
cdef void sgd_range(real* p, const real* g, real* buf, Py_ssize_t start, Py_ssize_t end,
                    real lr, real momentum, real one_minus_dampening, real weight_decay,
                    bint nesterov, bint maximize, bint first_step) noexcept nogil:
    cdef Py_ssize_t i
    cdef real d, b
    if not maximize and weight_decay == 0 and not nesterov:
        # the everyday settings: branch-free loops that vectorise wherever this is inlined
        if buf == NULL:
            if real is float:
                ember_sgd_plain_f32(p + start, g + start, end - start, lr)
            else:
                ember_sgd_plain_f64(p + start, g + start, end - start, lr)
            return
        if not first_step:
            if real is float:
                ember_sgd_momentum_f32(p + start, g + start, buf + start, end - start, lr,
                                       momentum, one_minus_dampening)
            else:
                ember_sgd_momentum_f64(p + start, g + start, buf + start, end - start, lr,
                                       momentum, one_minus_dampening)
            return
    for i in range(start, end):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + weight_decay * p[i]
        if buf != NULL:
            if first_step:
                b = d
            else:
                b = buf[i] * momentum + one_minus_dampening * d
            buf[i] = b
            d = d + momentum * b if nesterov else b
        p[i] = p[i] - lr * d


cdef void _sgd_run(real* p, const real* g, real* buf, Py_ssize_t n, int threads,
                   real lr, real momentum, real one_minus_dampening, real weight_decay,
                   bint nesterov, bint maximize, bint first_step) noexcept nogil:
    cdef Py_ssize_t b, nblocks = (n + BLOCK - 1) // BLOCK
    if threads <= 1:
        sgd_range(p, g, buf, 0, n, lr, momentum, one_minus_dampening, weight_decay,
                  nesterov, maximize, first_step)
        return
    for b in prange(nblocks, num_threads=threads, schedule="dynamic"):
        sgd_range(p, g, buf, b * BLOCK, min(n, (b + 1) * BLOCK), lr, momentum,
                  one_minus_dampening, weight_decay, nesterov, maximize, first_step)


cdef void _sgd_many_run(real** ps, real** gs, real** bufs, const Py_ssize_t* sizes,
                        Py_ssize_t m, const Py_ssize_t* block_param, const Py_ssize_t* block_start,
                        Py_ssize_t nblocks, int threads, real lr, real momentum,
                        real one_minus_dampening, real weight_decay, bint nesterov,
                        bint maximize) noexcept nogil:
    cdef Py_ssize_t b, k, s
    if threads <= 1:
        for k in range(m):
            sgd_range(ps[k], gs[k], bufs[k], 0, sizes[k], lr, momentum, one_minus_dampening,
                      weight_decay, nesterov, maximize, False)
        return
    for b in prange(nblocks, num_threads=threads, schedule="dynamic"):
        k = block_param[b]
        s = block_start[b]
        sgd_range(ps[k], gs[k], bufs[k], s, min(sizes[k], s + BLOCK), lr, momentum,
                  one_minus_dampening, weight_decay, nesterov, maximize, False)


# ---- Adam / AdamW -------------------------------------------------------------------------
cdef void adam_range(real* p, const real* g, real* m, real* v, real* vmax,
                     Py_ssize_t start, Py_ssize_t end,
                     real neg_step_size, real one_minus_beta1, real beta2,
                     real one_minus_beta2, real bc2_sqrt, real eps, real weight_decay,
                     real decay_factor, bint decoupled, bint amsgrad,
                     bint maximize) noexcept nogil:
    cdef Py_ssize_t i
    cdef real d, mi, vi, pi
    if not amsgrad and not maximize and (weight_decay == 0 or decoupled):
        # the everyday settings: a branch-free loop that vectorises wherever it is inlined
        if real is float:
            ember_adam_plain_f32(p + start, g + start, m + start, v + start, end - start,
                                 neg_step_size, one_minus_beta1, beta2, one_minus_beta2,
                                 bc2_sqrt, eps, decay_factor if weight_decay != 0 else 1)
        else:
            ember_adam_plain_f64(p + start, g + start, m + start, v + start, end - start,
                                 neg_step_size, one_minus_beta1, beta2, one_minus_beta2,
                                 bc2_sqrt, eps, decay_factor if weight_decay != 0 else 1)
        return
    for i in range(start, end):
        d = -g[i] if maximize else g[i]
        pi = p[i]
        if weight_decay != 0:
            if decoupled:
                pi = pi * decay_factor
            else:
                d = d + weight_decay * pi
        mi = _lerp(m[i], d, one_minus_beta1)
        m[i] = mi
        vi = v[i] * beta2 + one_minus_beta2 * d * d
        v[i] = vi
        if amsgrad:
            if vmax[i] > vi or vmax[i] != vmax[i]:  # torch.maximum keeps NaN
                vi = vmax[i]
            vmax[i] = vi
        p[i] = pi + neg_step_size * (mi / (_sqrt(vi) / bc2_sqrt + eps))


cdef void _adam_run(real* p, const real* g, real* m, real* v, real* vmax, Py_ssize_t n,
                    int threads, real neg_step_size, real one_minus_beta1, real beta2,
                    real one_minus_beta2, real bc2_sqrt, real eps, real weight_decay,
                    real decay_factor, bint decoupled, bint amsgrad,
                    bint maximize) noexcept nogil:
    cdef Py_ssize_t b, nblocks = (n + BLOCK - 1) // BLOCK
    if threads <= 1:
        adam_range(p, g, m, v, vmax, 0, n, neg_step_size, one_minus_beta1, beta2,
                   one_minus_beta2, bc2_sqrt, eps, weight_decay, decay_factor, decoupled,
                   amsgrad, maximize)
        return
    for b in prange(nblocks, num_threads=threads, schedule="dynamic"):
        adam_range(p, g, m, v, vmax, b * BLOCK, min(n, (b + 1) * BLOCK), neg_step_size,
                   one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps, weight_decay,
                   decay_factor, decoupled, amsgrad, maximize)


# ---- RMSprop ------------------------------------------------------------------------------
cdef void rmsprop_range(real* p, const real* g, real* sq, real* gavg, real* buf,
                        Py_ssize_t start, Py_ssize_t end,
                        real lr, real alpha, real one_minus_alpha, real eps,
                        real weight_decay, real momentum, bint centered,
                        bint maximize) noexcept nogil:
    cdef Py_ssize_t i
    cdef real d, s, ga, avg, b
    for i in range(start, end):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + weight_decay * p[i]
        s = sq[i] * alpha + one_minus_alpha * d * d
        sq[i] = s
        if centered:
            ga = _lerp(gavg[i], d, one_minus_alpha)
            gavg[i] = ga
            avg = _sqrt(s - ga * ga) + eps
        else:
            avg = _sqrt(s) + eps
        if buf != NULL:
            b = buf[i] * momentum + d / avg
            buf[i] = b
            p[i] = p[i] - lr * b
        else:
            p[i] = p[i] - lr * (d / avg)


cdef void _rmsprop_run(real* p, const real* g, real* sq, real* gavg, real* buf, Py_ssize_t n,
                       int threads, real lr, real alpha, real one_minus_alpha, real eps,
                       real weight_decay, real momentum, bint centered,
                       bint maximize) noexcept nogil:
    cdef Py_ssize_t b, nblocks = (n + BLOCK - 1) // BLOCK
    if threads <= 1:
        rmsprop_range(p, g, sq, gavg, buf, 0, n, lr, alpha, one_minus_alpha, eps,
                      weight_decay, momentum, centered, maximize)
        return
    for b in prange(nblocks, num_threads=threads, schedule="dynamic"):
        rmsprop_range(p, g, sq, gavg, buf, b * BLOCK, min(n, (b + 1) * BLOCK), lr, alpha,
                      one_minus_alpha, eps, weight_decay, momentum, centered, maximize)


# ---- checks shared by the entry points ----------------------------------------------------
cdef int _threads(Py_ssize_t n) noexcept:
    # every optimizer reads and writes the parameter and at least one state, and reads grad
    return threads_for(5 * n, (n + BLOCK - 1) // BLOCK)


# SGD is a multiply-add or two an element, bound by memory, which one core already draws at
# full rate here: its parameters share the team only from this many elements (more than any
# of ResNet-18's, whose largest has 2.4M). ResNet-18's whole step (11.7M parameters, 62
# calls), 2 threads, 4 alternating rounds, median (min) of 22: with 2-thread loops
# 15.8-20.1 (11.5-15.0) ms at load 3-5, on one 9.6-10.2 (5.4-5.9); on a quieter machine
# 6.1-6.6 vs 5.5-6.2. sgd_many applies it to its parameters' total: in one parallel region
# the 2-thread pass of all 62 takes 3.6 ms against 4.9-5.8 one by one.
cdef Py_ssize_t SGD_PARALLEL_MIN = 1 << 23


cdef object _check(str fn, cnp.ndarray param, dict others):
    """Refuse anything the loops could overrun or misread; returns the common dtype."""
    dt = param.dtype
    if dt != np.float32 and dt != np.float64:
        raise RuntimeError(f"{fn}: expected a float32 or float64 parameter, got {dt}")
    if not param.flags.c_contiguous or not param.flags.writeable:
        raise RuntimeError(f"{fn}: param must be contiguous and writeable")
    for name, arr in others.items():
        if arr is None:
            raise RuntimeError(f"{fn}: {name} is required for these settings")
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{fn}: {name} must be a numpy.ndarray, got {type(arr).__name__}")
        if arr.dtype != dt:
            raise RuntimeError(f"{fn}: {name} has dtype {arr.dtype} but param has dtype {dt}")
        if arr.size != param.size:
            raise RuntimeError(
                f"{fn}: {name} has {arr.size} elements but param has {param.size}")
        if not arr.flags.c_contiguous:
            raise RuntimeError(f"{fn}: {name} must be contiguous")
        if name != "grad" and not arr.flags.writeable:
            raise RuntimeError(f"{fn}: {name} must be writeable")
    return dt


cdef inline void* _ptr(object arr):
    if arr is None:
        return NULL
    return cnp.PyArray_DATA(<cnp.ndarray>arr)


# ---- entry points -------------------------------------------------------------------------
def sgd(cnp.ndarray param, grad, momentum_buffer, double lr, double momentum,
        double dampening, double weight_decay, bint nesterov, bint maximize, bint first_step):
    """One SGD step in place on ``param`` (and ``momentum_buffer`` unless it is None)."""
    others = {"grad": grad}
    if momentum != 0:
        others["momentum_buffer"] = momentum_buffer
    elif momentum_buffer is not None:
        raise RuntimeError("sgd: momentum_buffer given but momentum is 0")
    dt = _check("sgd", param, others)
    cdef Py_ssize_t n = param.size
    cdef int threads = _threads(n) if n >= SGD_PARALLEL_MIN else 1
    cdef void* pp = _ptr(param)
    cdef void* gp = _ptr(grad)
    cdef void* bp = _ptr(others.get("momentum_buffer"))
    cdef double omd = 1.0 - dampening
    if dt == np.float32:
        with nogil:
            _sgd_run(<float*>pp, <float*>gp, <float*>bp, n, threads, <float>lr,
                     <float>momentum, <float>omd, <float>weight_decay, nesterov, maximize,
                     first_step)
    else:
        with nogil:
            _sgd_run(<double*>pp, <double*>gp, <double*>bp, n, threads, lr, momentum, omd,
                     weight_decay, nesterov, maximize, first_step)


cdef int _cmp_addr(const void* a, const void* b) noexcept nogil:
    cdef uintptr_t x = (<const uintptr_t*>a)[0], y = (<const uintptr_t*>b)[0]
    return (x > y) - (x < y)


cdef bint _disjoint(void** ptrs, const Py_ssize_t* sizes, Py_ssize_t m, Py_ssize_t arrays,
                    Py_ssize_t itemsize):
    """True when none of the ``arrays`` x ``m`` memory ranges overlap another (a parameter
    listed twice, or two parameters sharing storage, must be updated one after the other)."""
    cdef uintptr_t* r = <uintptr_t*>malloc(2 * arrays * m * sizeof(uintptr_t))
    cdef Py_ssize_t i, k, c = 0
    cdef bint ok = True
    if r == NULL:
        raise MemoryError()
    for i in range(arrays):
        for k in range(m):
            if ptrs[i * m + k] != NULL and sizes[k] > 0:
                r[2 * c] = <uintptr_t>ptrs[i * m + k]
                r[2 * c + 1] = r[2 * c] + <uintptr_t>(sizes[k] * itemsize)
                c += 1
    qsort(r, c, 2 * sizeof(uintptr_t), _cmp_addr)
    for i in range(1, c):
        if r[2 * i] < r[2 * i - 1]:
            ok = False
            break
    free(r)
    return ok


cdef bint _fits(object arr, int typenum, Py_ssize_t n, bint write):
    if type(arr) is not np.ndarray:
        return False
    cdef cnp.ndarray a = <cnp.ndarray>arr
    return (cnp.PyArray_TYPE(a) == typenum and cnp.PyArray_SIZE(a) == n
            and cnp.PyArray_IS_C_CONTIGUOUS(a) and (not write or cnp.PyArray_ISWRITEABLE(a)))


def sgd_many(list params, list grads, list momentum_buffers, double lr, double momentum,
             double dampening, double weight_decay, bint nesterov, bint maximize):
    """``sgd`` on many parameters at once, none on its first step: the same arithmetic,
    element by element, as one ``sgd`` call each, so the same bits whatever the thread count.
    The parameters' blocks share one parallel region: one wake of the team a step instead
    of one a parameter, so together they reach the rate SGD_PARALLEL_MIN asks of one array
    (ResNet-18's 62 parameters, 11.7M elements). ``momentum_buffers`` is None when
    momentum is 0. All float32 or all float64; anything else raises, as ``sgd`` would.
    Returns False, having changed nothing, when arrays share memory: the caller then updates
    the parameters one by one, in order."""
    cdef Py_ssize_t m = len(params), k, j, nb, total = 0, nblocks = 0
    if len(grads) != m or (momentum_buffers is not None and len(momentum_buffers) != m):
        raise RuntimeError("sgd_many: params, grads and momentum_buffers differ in length")
    if (momentum != 0) != (momentum_buffers is not None):
        raise RuntimeError("sgd_many: momentum_buffers must be given exactly when momentum != 0")
    if m == 0:
        return True
    first = params[0]
    if type(first) is not np.ndarray or first.dtype not in (np.float32, np.float64):
        raise RuntimeError("sgd_many: expected float32 or float64 parameters")
    cdef int typenum = cnp.PyArray_TYPE(<cnp.ndarray>first)
    cdef Py_ssize_t n
    for k in range(m):
        p = params[k]
        if type(p) is not np.ndarray:
            raise TypeError(f"sgd_many: params[{k}] must be a numpy.ndarray")
        n = cnp.PyArray_SIZE(<cnp.ndarray>p)
        if not (_fits(p, typenum, n, True) and _fits(grads[k], typenum, n, False) and (
                momentum_buffers is None or _fits(momentum_buffers[k], typenum, n, True))):
            raise RuntimeError(
                f"sgd_many: parameter {k}, its grad and buffer must be contiguous arrays of "
                "one dtype and size, the parameter and buffer writeable")
        total += n
        nblocks += (n + BLOCK - 1) // BLOCK
    if nblocks == 0:
        return True
    cdef int threads = _threads(total) if total >= SGD_PARALLEL_MIN else 1
    cdef void** ptrs = <void**>malloc(3 * m * sizeof(void*))
    cdef Py_ssize_t* table = <Py_ssize_t*>malloc((m + 2 * nblocks) * sizeof(Py_ssize_t))
    if ptrs == NULL or table == NULL:
        free(ptrs)
        free(table)
        raise MemoryError()
    cdef Py_ssize_t* sizes = table
    cdef Py_ssize_t* block_param = table + m
    cdef Py_ssize_t* block_start = table + m + nblocks
    cdef double omd = 1.0 - dampening
    j = 0
    for k in range(m):
        ptrs[k] = _ptr(params[k])
        ptrs[m + k] = _ptr(grads[k])
        ptrs[2 * m + k] = NULL if momentum_buffers is None else _ptr(momentum_buffers[k])
        n = cnp.PyArray_SIZE(<cnp.ndarray>params[k])
        sizes[k] = n
        for nb in range(0, n, BLOCK):
            block_param[j] = k
            block_start[j] = nb
            j += 1
    if not _disjoint(ptrs, sizes, m, 3, cnp.PyArray_ITEMSIZE(<cnp.ndarray>first)):
        free(ptrs)
        free(table)
        return False
    try:
        if typenum == cnp.NPY_FLOAT32:
            with nogil:
                _sgd_many_run(<float**>ptrs, <float**>(ptrs + m), <float**>(ptrs + 2 * m),
                              sizes, m, block_param, block_start, nblocks, threads,
                              <float>lr, <float>momentum, <float>omd, <float>weight_decay,
                              nesterov, maximize)
        else:
            with nogil:
                _sgd_many_run(<double**>ptrs, <double**>(ptrs + m), <double**>(ptrs + 2 * m),
                              sizes, m, block_param, block_start, nblocks, threads, lr,
                              momentum, omd, weight_decay, nesterov, maximize)
    finally:
        free(ptrs)
        free(table)
    return True


def adam(cnp.ndarray param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, double step,
         double lr, double beta1, double beta2, double eps, double weight_decay,
         bint amsgrad, bint maximize, bint decoupled_weight_decay):
    """One Adam (or AdamW, when decoupled) step in place; ``step`` is already incremented."""
    others = {"grad": grad, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    if amsgrad:
        others["max_exp_avg_sq"] = max_exp_avg_sq
    dt = _check("adam", param, others)
    if step < 1:
        raise RuntimeError(f"adam: step must be at least 1, got {step}")
    # scalar bookkeeping in double, as torch does it in Python floats
    cdef double bc1 = 1 - beta1 ** step
    cdef double bc2 = 1 - beta2 ** step
    cdef double neg_step_size = -(lr / bc1)
    cdef double bc2_sqrt = bc2 ** 0.5
    cdef double decay = 1 - lr * weight_decay
    cdef Py_ssize_t n = param.size
    cdef int threads = _threads(n)
    cdef void* pp = _ptr(param)
    cdef void* gp = _ptr(grad)
    cdef void* mp = _ptr(exp_avg)
    cdef void* vp = _ptr(exp_avg_sq)
    cdef void* xp = _ptr(others.get("max_exp_avg_sq"))
    if dt == np.float32:
        with nogil:
            _adam_run(<float*>pp, <float*>gp, <float*>mp, <float*>vp, <float*>xp, n, threads,
                      <float>neg_step_size, <float>(1 - beta1), <float>beta2,
                      <float>(1 - beta2), <float>bc2_sqrt, <float>eps, <float>weight_decay,
                      <float>decay, decoupled_weight_decay, amsgrad, maximize)
    else:
        with nogil:
            _adam_run(<double*>pp, <double*>gp, <double*>mp, <double*>vp, <double*>xp, n,
                      threads, neg_step_size, 1 - beta1, beta2, 1 - beta2, bc2_sqrt, eps,
                      weight_decay, decay, decoupled_weight_decay, amsgrad, maximize)


def rmsprop(cnp.ndarray param, grad, square_avg, grad_avg, momentum_buffer, double lr,
            double alpha, double eps, double weight_decay, double momentum, bint centered,
            bint maximize):
    """One RMSprop step in place (``grad_avg`` when centered, ``momentum_buffer`` when
    momentum > 0, else None)."""
    others = {"grad": grad, "square_avg": square_avg}
    if centered:
        others["grad_avg"] = grad_avg
    if momentum > 0:
        others["momentum_buffer"] = momentum_buffer
    dt = _check("rmsprop", param, others)
    cdef Py_ssize_t n = param.size
    cdef int threads = _threads(n)
    cdef void* pp = _ptr(param)
    cdef void* gp = _ptr(grad)
    cdef void* sp = _ptr(square_avg)
    cdef void* ap = _ptr(others.get("grad_avg"))
    cdef void* bp = _ptr(others.get("momentum_buffer"))
    if dt == np.float32:
        with nogil:
            _rmsprop_run(<float*>pp, <float*>gp, <float*>sp, <float*>ap, <float*>bp, n,
                         threads, <float>lr, <float>alpha, <float>(1 - alpha), <float>eps,
                         <float>weight_decay, <float>momentum, centered, maximize)
    else:
        with nogil:
            _rmsprop_run(<double*>pp, <double*>gp, <double*>sp, <double*>ap, <double*>bp, n,
                         threads, lr, alpha, 1 - alpha, eps, weight_decay, momentum,
                         centered, maximize)
