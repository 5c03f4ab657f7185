"""Fused in-place optimizer updates: ``sgd_``, ``adam_`` (AdamW with
``decoupled_weight_decay=True``) and ``rmsprop_``.

Each call updates one parameter and its state buffers in a single pass over memory (the
Cython kernels in ``_kernels/optim.pyx``), following torch's single-tensor reference math so
trajectories match torch's. Arguments are ``Array``s; state buffers that the settings do not
use are ``None``. float32 and float64 run in place; other floating dtypes and non-contiguous
arrays go through contiguous working copies that are written back.
"""
import numpy as np

from ._array import Array
from ._kernels import optim as _k

__all__ = ["sgd_", "sgd_many_", "direct_sgd", "adam_", "rmsprop_"]

_NATIVE = (np.dtype(np.float32), np.dtype(np.float64))


def _check(fn, param, named):
    """torch's error types for what the optimizer could hand us wrongly; returns ndarrays."""
    if not isinstance(param, Array):
        raise TypeError(f"{fn}(): argument 'param' must be Array, not {type(param).__name__}")
    dtype = param.dtype
    if not dtype.is_floating_point:
        raise RuntimeError(f"{fn}(): expected a floating point parameter, but got {dtype}")
    out = {}
    for name, arr in named.items():
        if arr is None:
            out[name] = None
            continue
        if not isinstance(arr, Array):
            raise TypeError(f"{fn}(): argument '{name}' must be Array, not {type(arr).__name__}")
        if arr._np.shape != param._np.shape:
            raise RuntimeError(
                f"{fn}(): {name} has shape {list(arr._np.shape)} but param has shape "
                f"{list(param._np.shape)}"
            )
        if arr.dtype is not dtype:
            raise RuntimeError(
                f"{fn}(): expected {name} to have dtype {dtype}, but got {arr.dtype}"
            )
        out[name] = arr._np
    return param._np, out


def _direct(param, grad, state, state_ok):
    """True when the kernel can run straight on the arrays' memory: ``param`` a writeable
    C-contiguous float32/float64 Array, ``grad`` and ``state`` (None allowed) Arrays of its
    dtype and shape, C-contiguous; ``state_ok`` says the settings have the state they need.
    Anything else takes the checked path, which raises torch's errors or uses working copies."""
    if not state_ok or type(param) is not Array or type(grad) is not Array:
        return False
    p = param._np
    if p.dtype not in _NATIVE or not (p.flags.c_contiguous and p.flags.writeable):
        return False
    for arr in (grad, state):
        if arr is None:
            continue
        if type(arr) is not Array:
            return False
        a = arr._np
        if a.dtype != p.dtype or a.shape != p.shape or not a.flags.c_contiguous:
            return False
    return state is None or state._np.flags.writeable


def _needs(fn, named, name):
    if named[name] is None:
        raise RuntimeError(f"{fn}(): {name} is required for these settings but is None")


def _run(kernel, param, named, written, **scalars):
    """Call ``kernel`` directly when everything is native and contiguous, else on working
    copies (float32 compute for float16) whose results are copied back into ``written``."""
    arrays = [param] + list(named.values())
    direct = param.dtype in _NATIVE and all(
        a is None or a.flags.c_contiguous for a in arrays
    ) and param.flags.writeable
    if direct:
        kernel(param, *named.values(), **scalars)
        return
    compute = param.dtype if param.dtype in _NATIVE else np.dtype(np.float32)
    work = {k: (None if a is None else np.ascontiguousarray(a, dtype=compute))
            for k, a in named.items()}
    wparam = np.ascontiguousarray(param, dtype=compute)
    if wparam is param:
        wparam = param.copy()
    for k in written:
        if work[k] is not None and work[k] is named[k]:
            work[k] = named[k].copy()
    kernel(wparam, *work.values(), **scalars)
    param[...] = wparam
    for k in written:
        if named[k] is not None:
            named[k][...] = work[k]


def sgd_(param, grad, momentum_buffer, *, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
         nesterov=False, maximize=False, first_step=False):
    """One SGD step on ``param`` in place; returns ``param``.

    With ``momentum != 0``, ``momentum_buffer`` is updated too; on ``first_step`` it is set
    to the (weight-decayed) gradient without dampening, as torch does for a fresh buffer.
    """
    buf = momentum_buffer if momentum != 0 else None
    if _direct(param, grad, buf, momentum == 0 or buf is not None):
        # the common case, once per parameter per step: skip building the checked copies'
        # bookkeeping (the kernel still refuses anything it could misread)
        _k.sgd(param._np, grad._np, None if buf is None else buf._np, float(lr),
               float(momentum), float(dampening), float(weight_decay), bool(nesterov),
               bool(maximize), bool(first_step))
        return param
    p, named = _check("sgd_", param, {"grad": grad, "momentum_buffer": momentum_buffer})
    _needs("sgd_", named, "grad")
    if momentum != 0:
        _needs("sgd_", named, "momentum_buffer")
    else:
        named["momentum_buffer"] = None
    _run(_k.sgd, p, named, ("momentum_buffer",), lr=float(lr), momentum=float(momentum),
         dampening=float(dampening), weight_decay=float(weight_decay),
         nesterov=bool(nesterov), maximize=bool(maximize), first_step=bool(first_step))
    return param


def direct_sgd(param, grad, momentum_buffer) -> bool:
    """True when ``sgd_many_`` takes these Arrays as they are (``momentum_buffer`` None for
    plain SGD): native dtype, contiguous, matching, the parameter and buffer writeable."""
    return _direct(param, grad, momentum_buffer, True)


def sgd_many_(params, grads, momentum_buffers, *, lr, momentum=0.0, dampening=0.0,
              weight_decay=0.0, nesterov=False, maximize=False):
    """One SGD step on each of ``params`` (ndarrays that ``direct_sgd`` accepted, none on
    its first step), in one pass over all of them: the bits of ``sgd_`` on each in turn.
    ``momentum_buffers`` is None without momentum. Arrays that share memory are updated one
    by one, in order."""
    if _k.sgd_many(params, grads, momentum_buffers, float(lr), float(momentum),
                   float(dampening), float(weight_decay), bool(nesterov), bool(maximize)):
        return
    for k, (p, g) in enumerate(zip(params, grads)):
        _k.sgd(p, g, None if momentum_buffers is None else momentum_buffers[k], float(lr),
               float(momentum), float(dampening), float(weight_decay), bool(nesterov),
               bool(maximize), False)


def adam_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1=0.9,
          beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
          decoupled_weight_decay=False):
    """One Adam step on ``param`` in place (AdamW when ``decoupled_weight_decay``).

    ``step`` counts this step (1 on the first call). ``max_exp_avg_sq`` is used only when
    ``amsgrad``. Returns ``param``.
    """
    p, named = _check("adam_", param, {
        "grad": grad, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq,
        "max_exp_avg_sq": max_exp_avg_sq,
    })
    for name in ("grad", "exp_avg", "exp_avg_sq"):
        _needs("adam_", named, name)
    if amsgrad:
        _needs("adam_", named, "max_exp_avg_sq")
    else:
        named["max_exp_avg_sq"] = None
    _run(_k.adam, p, named, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), step=float(step),
         lr=float(lr), beta1=float(beta1), beta2=float(beta2), eps=float(eps),
         weight_decay=float(weight_decay), amsgrad=bool(amsgrad), maximize=bool(maximize),
         decoupled_weight_decay=bool(decoupled_weight_decay))
    return param


def rmsprop_(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha=0.99, eps=1e-8,
             weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    """One RMSprop step on ``param`` in place; ``grad_avg`` is used when ``centered``,
    ``momentum_buffer`` when ``momentum > 0``. Returns ``param``."""
    p, named = _check("rmsprop_", param, {
        "grad": grad, "square_avg": square_avg, "grad_avg": grad_avg,
        "momentum_buffer": momentum_buffer,
    })
    for name in ("grad", "square_avg"):
        _needs("rmsprop_", named, name)
    if centered:
        _needs("rmsprop_", named, "grad_avg")
    else:
        named["grad_avg"] = None
    if momentum > 0:
        _needs("rmsprop_", named, "momentum_buffer")
    else:
        named["momentum_buffer"] = None
    _run(_k.rmsprop, p, named, ("square_avg", "grad_avg", "momentum_buffer"), lr=float(lr),
         alpha=float(alpha), eps=float(eps), weight_decay=float(weight_decay),
         momentum=float(momentum), centered=bool(centered), maximize=bool(maximize))
    return param
