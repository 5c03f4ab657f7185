"""``gradcheck`` and ``gradgradcheck``: analytical gradients against finite differences.

As in torch: the numerical Jacobian is central differences (step ``eps``) on each input
element; the analytical one is one ``autograd.grad`` call per output element; they must agree
within ``atol + rtol * |numerical|``. Use float64 inputs: float32 rounding swamps eps=1e-6.
"""
import warnings

import numpy as np

from ember_tensor import float64

from .._core.entry import grad
from .._creation import from_numpy
from .._grad_mode import enable_grad, no_grad
from .._tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck/gradgradcheck when the two Jacobians disagree."""


def _tupled(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs_numpy(func, inputs):
    with no_grad():
        outs = _tupled(func(*inputs))
    return [o.detach().numpy().astype(np.float64).reshape(-1).copy()
            for o in outs if isinstance(o, Tensor)]


def _numerical(func, inputs, diff_idx, eps):
    """For each differentiable input, a list (per output) of [n_in, n_out] arrays."""
    result = []
    base = _outputs_numpy(func, inputs)
    for j in diff_idx:
        arr = inputs[j].detach().numpy()  # shares memory: perturbing it perturbs the input
        n_in = arr.size
        cols = [np.zeros((n_in, b.size)) for b in base]
        for k in range(n_in):
            idx = np.unravel_index(k, arr.shape) if arr.ndim else ()
            orig = arr[idx].item()
            arr[idx] = orig - eps
            minus = _outputs_numpy(func, inputs)
            arr[idx] = orig + eps
            plus = _outputs_numpy(func, inputs)
            arr[idx] = orig
            for i, (p, m) in enumerate(zip(plus, minus)):
                cols[i][k] = (p - m) / (2 * eps)
        result.append(cols)
    return result


def _analytical(func, inputs, diff_idx):
    outs = [o for o in _tupled(func(*inputs)) if isinstance(o, Tensor)]
    diff_inputs = [inputs[j] for j in diff_idx]
    result = [[np.zeros((inputs[j].numel(), o.numel())) for o in outs] for j in diff_idx]
    for i, out in enumerate(outs):
        if not out.requires_grad:
            continue
        for m in range(out.numel()):
            onehot = np.zeros(out.numel(), dtype=out.dtype.np)
            onehot[m] = 1
            go = from_numpy(onehot.reshape(tuple(out.shape)))
            grads = grad(out, diff_inputs, go, retain_graph=True,
                                        allow_unused=True)
            for jj, g in enumerate(grads):
                if g is not None:
                    result[jj][i][:, m] = g.detach().numpy().astype(np.float64).reshape(-1)
    return result


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """True when ``func``'s analytical gradients match finite differences at ``inputs``."""
    inputs = _tupled(inputs)
    diff_idx = [j for j, x in enumerate(inputs)
                if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of the them have requires_grad=True.")
    for j in diff_idx:
        if inputs[j].dtype is not float64:
            warnings.warn(
                f"Input #{j} requires gradient and is not a double precision floating point. "
                "This check will likely fail if all the inputs are not of double precision "
                "floating point. ", UserWarning, stacklevel=2)
    numerical = _numerical(func, inputs, diff_idx, eps)
    analytical = _analytical(func, inputs, diff_idx)
    for jj, j in enumerate(diff_idx):
        for i, (num, ana) in enumerate(zip(numerical[jj], analytical[jj])):
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                return _fail(
                    f"Jacobian mismatch for output {i} with respect to input {j},\n"
                    f"numerical:{from_numpy(num)}\nanalytical:{from_numpy(ana)}\n",
                    raise_exception)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, fast_mode=False, masked=False):
    """gradcheck of the gradient: second derivatives through ``create_graph=True``."""
    inputs = _tupled(inputs)
    if grad_outputs is None:
        outs = [o for o in _tupled(func(*inputs)) if isinstance(o, Tensor)
                and o.requires_grad]
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            from_numpy(rng.standard_normal(tuple(o.shape)).astype(o.dtype.np))
            .requires_grad_(True) for o in outs)
    grad_outputs = _tupled(grad_outputs)
    n = len(inputs)

    def first_derivative(*args):
        xs, gos = args[:n], args[n:]
        # the numerical pass runs under no_grad; the first derivative still needs a graph
        with enable_grad():
            outs = [o for o in _tupled(func(*xs))
                    if isinstance(o, Tensor) and o.requires_grad]
            diff = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
            grads = grad(outs, diff, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
