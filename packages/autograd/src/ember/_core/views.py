"""In-place ops on views, and views of tensors modified in place: torch's view + inplace rules.

A view shares its base's memory, so an in-place op on either changes both. The graph must
follow, or gradients come out silently wrong (``a = x * 1; a[:2].exp_()`` would still
differentiate ``a`` as ``x * 1``). As torch does:

* every differentiable view knows its root ``_base`` (a view of a view points at the first
  base), and the base keeps weak references to its live views;
* an in-place op on a view rewrites the base's history: the base's ``grad_fn`` becomes a
  ``CopySlices`` node that passes the base's gradient through unchanged outside the view's
  elements and through the in-place op's own backward inside them;
* after an in-place op on a base or on any of its views, every live view of that base gets
  a fresh ``grad_fn``, ``AsStridedBackward0``: the view taken again from the base's new
  history. (torch regenerates lazily when ``grad_fn`` is read; here it happens eagerly, at
  the in-place op, so the hot paths that read ``grad_fn`` pay nothing.)

Which elements of the base a view covers is found from memory, not from replaying the view
ops: ``flat_index`` maps each element of the view to its position in the base.
"""
from __future__ import annotations

import weakref

import numpy as np

from ember_tensor import Array

from .._tensor import check_view_inplace  # noqa: F401 - part of this module's API
from ._graph import _NO_EDGE, Node, _accumulator

__all__ = ["register_view", "after_inplace", "check_view_inplace", "flat_index"]


def register_view(view, of, multi_output: bool = False) -> None:
    """Record that ``view`` (a new Tensor) is a differentiable view of ``of``."""
    base = of._base if of._base is not None else of
    view._base = base
    if multi_output:
        view.__dict__["_multi_output_view"] = True
    views = base._views
    if views is None:
        base._views = [weakref.ref(view)]
        return
    views.append(weakref.ref(view))
    if len(views) >= 64 and len(views) & (len(views) - 1) == 0:  # prune at powers of two
        views[:] = [r for r in views if r() is not None]


def flat_index(base: np.ndarray, view: np.ndarray) -> np.ndarray | None:
    """For each element of ``view``, its C-order flat index in ``base`` (int64, view's shape);
    None when ``view`` does not lie inside ``base``'s elements (then it is no view of it)."""
    item = base.itemsize
    if view.itemsize != item or base.size == 0:
        return None

    def positions(arr, origin):
        pos = np.full(arr.shape, origin, dtype=np.int64)
        for axis, (n, stride) in enumerate(zip(arr.shape, arr.strides)):
            if stride % item:
                return None
            shape = [1] * arr.ndim
            shape[axis] = n
            pos += (np.arange(n, dtype=np.int64) * (stride // item)).reshape(shape)
        return pos

    base_pos = positions(base, 0)
    offset = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if base_pos is None or offset % item:
        return None
    view_pos = positions(view, offset // item)
    if view_pos is None:
        return None
    lo, hi = int(base_pos.min()), int(base_pos.max())
    if view_pos.size and (view_pos.min() < lo or view_pos.max() > hi):
        return None
    lookup = np.full(hi - lo + 1, -1, dtype=np.int64)
    lookup[(base_pos - lo).ravel()] = np.arange(base.size, dtype=np.int64)
    index = lookup[view_pos - lo]
    if index.size and index.min() < 0:
        return None
    return index


class CopySlices(Node):
    """The base's history after an in-place op on one of its views: outside the view's
    elements the base's gradient passes unchanged; inside, through the in-place op's node
    ``fn``, whose input ``target`` (the view as it was) this node replaces with the base."""

    def backward(self, g):
        # the ops record through _core.node, which imports this module: reached at run time
        from .._ops.indexing import _scatter_add, _take

        index, fn, target = self.index, self.fn, self.target
        flat = g.reshape(-1)
        grads = list(fn.backward(_take(flat, (index,)).reshape(self.view_shape)))
        inner = grads[target]
        keep = np.ones(flat.shape[0], dtype=flat._data._np.dtype)
        keep[index] = 0
        base_grad = flat * type(g)._make(Array(keep))
        if inner is not None:
            base_grad = base_grad + _scatter_add(inner.reshape(-1), (flat.shape[0],), (index,))
        grads[target] = base_grad.reshape(self.base_shape) if self.needs_input_grad[
            target] else None
        return tuple(grads)


class AsStridedBackward0(Node):
    """A view taken again from its base's current history (torch's name for it)."""

    def backward(self, g):
        from .._ops.indexing import _scatter_add  # at run time, as in CopySlices.backward

        size = int(np.prod(self.base_shape, dtype=np.int64))
        return (_scatter_add(g.reshape(-1), (size,), (self.index,)).reshape(self.base_shape),)


def _edge(t):
    if not t._requires_grad:
        return _NO_EDGE
    return (t.grad_fn, t._output_nr) if t.grad_fn is not None else (_accumulator(t), 0)


def _index_of(view, base):
    index = view.__dict__.get("_flat_index")
    if index is None or index[0] is not base._data._np:
        found = flat_index(base._data._np, view._data._np)
        if found is not None:
            found = found.reshape(-1)  # the nodes gather and scatter flat gradients
        view.__dict__["_flat_index"] = index = (base._data._np, found)
    return index[1]


def after_inplace(tensor, node, target: int = 0) -> None:
    """Fix the graph after ``tensor`` was modified in place by the op whose node is ``node``
    (its input ``target`` being ``tensor`` as it was): rewrite the base's history when
    ``tensor`` is a view, then give every live view of the base a fresh ``grad_fn``."""
    base = tensor._base
    if base is None:
        base = tensor
    elif node is not None:
        index = _index_of(tensor, base)
        if index is not None:
            arr = base._data._np
            copy = CopySlices()
            edges = list(node.next_functions)
            needs = list(node.needs_input_grad)
            meta = list(node._input_meta)
            edges[target], needs[target] = _edge(base), base._requires_grad
            meta[target] = (arr.shape, arr.dtype)
            copy.next_functions, copy.needs_input_grad = tuple(edges), tuple(needs)
            copy._input_meta, copy._out_meta = tuple(meta), ((arr.shape, arr.dtype),)
            copy.fn, copy.target, copy.index = node, target, index
            copy.view_shape, copy.base_shape = tensor._data._np.shape, arr.shape
            base.grad_fn, base._output_nr, base._requires_grad = copy, 0, True
    if base._views is None or base.grad_fn is None:
        return
    live = []
    for ref in base._views:
        view = ref()
        if view is None:
            continue
        live.append(ref)
        index = _index_of(view, base)
        if index is None:
            continue
        regen = AsStridedBackward0()
        arr = base._data._np
        regen.next_functions, regen.needs_input_grad = ((base.grad_fn, base._output_nr),), (
            True,)
        regen._input_meta = ((arr.shape, arr.dtype),)
        regen._out_meta = ((view._data._np.shape, view._data._np.dtype),)
        regen.index, regen.base_shape = index, arr.shape
        view.grad_fn, view._output_nr, view._requires_grad = regen, 0, True
    base._views = live
