"""``einsum`` on Arrays: torch's equation rules and errors, NumPy's contraction order.

``parse`` turns an equation into explicit subscripts, one letter per dimension (an ellipsis
becomes letters nobody used), with torch's implicit output (ellipsis dimensions first, then
the letters seen once, in ASCII order) and torch's size-1 broadcasting of a letter. The
autograd layer differentiates through the same explicit form.
"""
import math
import string

import numpy as np

from . import _dtype as D
from . import _team
from ._array import Array

_LETTERS = string.ascii_letters


def _split(equation):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    return lhs.split(","), (rhs if arrow else None)


def parse(equation: str, shapes: list) -> tuple[list[str], str, dict]:
    """(explicit input subscripts, explicit output subscripts, size of each letter)."""
    inputs, output = _split(equation)
    if len(inputs) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(inputs) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    for term in inputs + ([output] if output else []):
        for ch in term.replace("...", ""):
            if ch not in _LETTERS:
                raise RuntimeError(f"einsum(): invalid subscript given at index "
                                   f"{equation.find(ch)} in the equation string, subscripts "
                                   "must be in [a-zA-Z]")
    used = set("".join(inputs) + (output or ""))
    spare = [c for c in _LETTERS if c not in used]
    ell_ndim = max((len(s) - (len(t) - 3) for t, s in zip(inputs, shapes) if "..." in t),
                   default=0)
    ell = "".join(spare[:ell_ndim])
    subs: list[str] = []
    sizes: dict[str, int] = {}
    for i, (term, shape) in enumerate(zip(inputs, shapes)):
        named = len(term.replace("...", ""))
        if "..." in term:
            k = len(shape) - named
            term = term.replace("...", ell[ell_ndim - k:] if k else "")
        elif named != len(shape):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) does not match "
                f"the number of dimensions ({len(shape)}) for operand {i} and no ellipsis was "
                "given")
        local: dict[str, int] = {}
        for ch, n in zip(term, shape):
            if local.setdefault(ch, n) != n:
                raise RuntimeError(f"einsum(): subscript {ch} is repeated for operand {i} but "
                                   f"the sizes don't match, {n} != {local[ch]}")
            seen = sizes.get(ch)
            if seen is not None and seen != n and seen != 1 and n != 1:
                raise RuntimeError(f"einsum(): subscript {ch} has size {n} for operand {i} "
                                   f"which does not broadcast with previously seen size {seen}")
            sizes[ch] = n if seen is None or seen == 1 else seen
        subs.append(term)
    if output is None:
        counts = "".join(subs)
        output = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1
                                      and c not in ell))
    else:
        output = output.replace("...", ell)
        for ch in output:
            if output.count(ch) > 1:
                raise RuntimeError(f"einsum(): output subscript {ch} appears more than once in "
                                   "the output")
            if ch not in sizes:
                raise RuntimeError(f"einsum(): output subscript {ch} does not appear in the "
                                   "equation for any input operand")
    return subs, output, sizes


def contract(subs: list[str], output: str, sizes: dict, arrays: list) -> np.ndarray:
    """The einsum of explicit subscripts, size-1 letters broadcast first as torch does.

    Float32/float64 operands are contracted two at a time in the order ``np.einsum_path``
    picks, each pair as one batched product on ``_team.matmul`` (the OpenMP team, cblas
    pinned per thread): ``np.einsum(optimize=True)`` would hand its pairs to ``tensordot``,
    which wakes OpenBLAS's own thread pool beside the team. Other dtypes, and what a pair
    leaves over (sums, diagonals, the final order), go to ``np.einsum``, which calls no
    BLAS."""
    views = []
    for term, a in zip(subs, arrays):
        want = tuple(sizes[c] for c in term)
        views.append(a if a.shape == want else np.broadcast_to(a, want))
    expr = ",".join(subs) + "->" + output
    if len(views) > 1 and all(v.dtype in _BLAS_TYPES for v in views):
        out = _pairwise(list(zip(subs, views)), output, expr)
    else:
        # integer products run NumPy's own loops: only they may take its contraction order
        out = np.einsum(expr, *views, optimize=len(views) > 2 and views[0].dtype.kind in "biu")
    out = np.asarray(out)  # a 0-d result stays 0-d
    return out if out.flags.c_contiguous else out.copy()


_BLAS_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _pairwise(ops: list, output: str, expr: str) -> np.ndarray:
    """Contract ``ops`` ((subscripts, array) pairs) pair by pair down to ``output``."""
    path = np.einsum_path(expr, *(a for _, a in ops), optimize="greedy")[0][1:]
    for picked in path:
        group = [ops[i] for i in picked]
        ops = [op for i, op in enumerate(ops) if i not in picked]
        keep = set(output).union(*(t for t, _ in ops))
        if len(group) == 2:
            ops.append(_product(group[0], group[1], keep))
        else:  # einsum_path contracts one or two operands at a step; anything else as it is
            terms = "".join(t for t, _ in group)
            new = "".join(dict.fromkeys(c for c in terms if c in keep))
            ops.append((new, np.einsum(",".join(t for t, _ in group) + "->" + new,
                                       *(a for _, a in group))))
    (term, a), = ops
    return a if term == output else np.einsum(term + "->" + output, a)


def _product(x: tuple, y: tuple, keep: set) -> tuple:
    """(subscripts, array) of two operands contracted over the letters they share that
    ``keep`` does not need: one (batch, rows, inner) @ (batch, inner, cols) product."""
    (tx, a), (ty, b) = x, y
    # letters only one side has and nobody needs are summed out first, diagonals taken
    tx2 = "".join(dict.fromkeys(c for c in tx if c in keep or c in ty))
    ty2 = "".join(dict.fromkeys(c for c in ty if c in keep or c in tx))
    if tx2 != tx:
        a = np.einsum(tx + "->" + tx2, a)
    if ty2 != ty:
        b = np.einsum(ty + "->" + ty2, b)
    batch = "".join(c for c in tx2 if c in ty2 and c in keep)
    inner = "".join(c for c in tx2 if c in ty2 and c not in keep)
    rows = "".join(c for c in tx2 if c not in ty2)
    cols = "".join(c for c in ty2 if c not in tx2)
    size = dict(zip(tx2, a.shape)) | dict(zip(ty2, b.shape))

    def block(arr, term, order):
        arr = arr.transpose([term.index(c) for c in "".join(order)])
        return arr.reshape([math.prod(size[c] for c in part) for part in order])

    r = _team.matmul(block(a, tx2, (batch, rows, inner)), block(b, ty2, (batch, inner, cols)))
    new = batch + rows + cols
    return new, r.reshape([size[c] for c in new])


def einsum(equation: str, *operands) -> Array:
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:  # torch's type and words
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    dtype = operands[0].dtype
    for x in operands[1:]:
        if x.dtype is not dtype:
            raise RuntimeError(f"expected scalar type {dtype.torch_name} but found "
                               f"{x.dtype.torch_name}")
    subs, output, sizes = parse(equation, [x._np.shape for x in operands])
    out = contract(subs, output, sizes, [x._np for x in operands])
    if dtype is D.bool:
        out = out.astype(bool)
    return Array(out.astype(dtype.np, copy=False))
