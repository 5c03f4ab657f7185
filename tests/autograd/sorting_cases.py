"""The op cases of issue 14's sorting, selection, scatter, counting and diagonal ops, shared by
the live comparison with torch (test_torch_ops_sorting.py), the golden replay in the default
suite (test_ops_sorting.py) and the tool that records torch's answers
(tools/make_golden_sorting.py). Each case is a function of the library (``ember`` or
``torch``); what it returns, or raises, is what gets compared."""
# 24 distinct values, shuffled: no ties, so every index is determined
DISTINCT = [[[6.5, -7.5, 9.5, -1.5], [-0.5, -9.5, 10.5, -5.5], [11.5, -8.5, 8.5, -3.5]],
            [[-11.5, 4.5, 0.5, 7.5], [1.5, -4.5, -6.5, 5.5], [2.5, -2.5, -10.5, 3.5]]]
TIES = [[3.0, 1.0, 2.0, 1.0, 2.0], [0.0, 5.0, 5.0, -1.0, 5.0]]
NAN = [[1.0, float("nan"), 2.0, 0.5], [4.0, 3.0, float("nan"), float("nan")]]
IDX = [[0, 1, 2, 0], [2, 0, 0, 1]]


def grad_of(make, data=DISTINCT, dtype="float32"):
    """The op's printed result and the input's gradient under a fixed upstream weight."""
    def run(L):
        x = L.tensor(data, dtype=getattr(L, dtype), requires_grad=True)
        out = make(L, x)
        vals = out[0] if isinstance(out, tuple) else out
        w = L.arange(vals.numel(), dtype=vals.dtype).reshape(vals.shape) / 7
        (vals * w).sum().backward()
        return out, x.grad
    return run


VALUE_CASES = {
    "sort": lambda L: L.sort(L.tensor(TIES)),
    "sort_desc_dim0": lambda L: L.tensor(TIES).sort(dim=0, descending=True),
    "sort_stable_kw": lambda L: L.sort(L.tensor(TIES), stable=True, descending=True),
    "sort_nan": lambda L: (L.sort(L.tensor(NAN)), L.sort(L.tensor(NAN), descending=True)),
    "sort_int_bool_0d": lambda L: (L.sort(L.tensor([3, 1, 2])), L.sort(L.tensor([True, False])),
                                   L.sort(L.tensor(2.0))),
    "argsort": lambda L: (L.argsort(L.tensor(TIES), dim=1, descending=True),
                          L.tensor(TIES).argsort(stable=True)),
    "msort": lambda L: L.msort(L.tensor(TIES)),
    "topk": lambda L: (L.topk(L.tensor(DISTINCT), 2), L.tensor(DISTINCT).topk(2, dim=0),
                       L.topk(L.tensor(DISTINCT), 2, dim=1, largest=False),
                       L.topk(L.arange(40.) * 7 % 40, 3),  # k << n: a selection first
                       L.topk(L.arange(40) * 7 % 40, 5, largest=False)),
    "topk_nan_int_0d": lambda L: (L.topk(L.tensor([1.0, float("nan"), 3.0]), 2),
                                  L.topk(L.tensor([5, 1, 3]), 2, largest=False),
                                  L.topk(L.tensor(3.0), 1)),
    "kthvalue": lambda L: (L.kthvalue(L.tensor(DISTINCT), 2), L.tensor(DISTINCT).kthvalue(
        1, dim=0, keepdim=True)),
    "median": lambda L: (L.tensor(TIES).median(), L.median(L.tensor(TIES), 1),
                         L.tensor(TIES).median(dim=0, keepdim=True),
                         L.tensor([1., 2., 2., 2., 3., 2.]).median(0)),
    "median_nan": lambda L: (L.tensor(NAN).median(), L.tensor(NAN).median(1),
                             L.tensor(NAN).nanmedian(), L.tensor(NAN).nanmedian(1)),
    "median_int_empty": lambda L: (L.tensor([4, 1, 3, 2]).median(), L.tensor([]).median()),
    "mode": lambda L: (L.tensor([[1., 2., 2., 1., 3.], [4, 4, 4, 1, 1]]).mode(),
                       L.mode(L.tensor([3, 1, 3, 1, 2])), L.tensor(TIES).mode(0, True)),
    "cummax_cummin": lambda L: (L.tensor([1., 3., 2., 3., 0.]).cummax(0),
                                L.cummin(L.tensor(TIES), 1), L.tensor(NAN).cummax(1),
                                L.tensor([1, 3, 2]).cummin(0)),
    "searchsorted": lambda L: (
        L.searchsorted(L.tensor([1, 3, 5, 7, 9]), L.tensor([[3, 6, 9], [3, 6, 9]])),
        L.searchsorted(L.tensor([1, 3, 5, 7, 9]), L.tensor([3, 6, 9]), right=True),
        L.searchsorted(L.tensor([1, 3, 5, 7, 9]), L.tensor([3, 6, 9]), side="right",
                       out_int32=True),
        L.searchsorted(L.tensor([[1, 3, 5], [2, 4, 6]]), L.tensor([[3, 6, 9], [3, 6, 9]])),
        L.searchsorted(L.tensor([1, 3, 5, 7, 9]), 5),
        L.searchsorted(L.tensor([5, 1, 9, 3, 7]), L.tensor([3, 6]),
                       sorter=L.tensor([1, 3, 0, 4, 2]))),
    "bucketize": lambda L: (L.bucketize(L.tensor([[3, 6, 9], [3, 6, 9]]),
                                        L.tensor([1, 3, 5, 7, 9])),
                            L.bucketize(L.tensor([3., 6., 9.]), L.tensor([1., 3., 5., 7., 9.]),
                                        right=True, out_int32=True),
                            L.bucketize(4, L.tensor([1, 3, 5, 7, 9]))),
    "scatter": lambda L: (L.zeros(3, 4).scatter(0, L.tensor(IDX), L.arange(1., 9.).view(2, 4)),
                          L.scatter(L.zeros(3, 4), 1, L.tensor(IDX), 5.0),
                          L.zeros(3, 4, dtype=L.int64).scatter(0, L.tensor(IDX).int(),
                                                               L.arange(8).view(2, 4))),
    "scatter_small_index": lambda L: L.zeros(3, 4).scatter(
        1, L.tensor([[2], [0]]), L.arange(1., 9.).view(2, 4)),
    "scatter_add": lambda L: (L.scatter_add(L.ones(3, 4), 0, L.tensor(IDX),
                                            L.arange(1., 9.).view(2, 4)),
                              L.ones(3, 4).scatter_add_(1, L.tensor(IDX),
                                                        L.arange(1., 9.).view(2, 4))),
    "scatter_reduce": lambda L: tuple(
        L.scatter_reduce(L.ones(3, 4) * 2, 0, L.tensor(IDX), L.arange(1., 9.).view(2, 4), how,
                         include_self=inc)
        for how in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)),
    "scatter_reduce_int_mean": lambda L: L.scatter_reduce(
        L.ones(3, 4, dtype=L.int64), 0, L.tensor(IDX), L.arange(8).view(2, 4) * 3, "mean"),
    "scatter_inplace": lambda L: (L.zeros(3, 4).scatter_(0, L.tensor(IDX), 2.0),
                                  L.ones(3, 4).scatter_reduce_(0, L.tensor(IDX),
                                                               L.arange(1., 9.).view(2, 4),
                                                               "prod", include_self=False)),
    "index_add": lambda L: (L.index_add(L.ones(3, 4), 0, L.tensor([0, 2]),
                                        L.arange(1., 9.).view(2, 4), alpha=2),
                            L.ones(3, 4).index_add_(1, L.tensor([3, 3]),
                                                    L.arange(1., 7.).view(3, 2)),
                            L.zeros(3, dtype=L.int64).index_add(0, L.tensor([0, 2]),
                                                                L.tensor([1, 2]), alpha=2)),
    "index_fill": lambda L: (L.zeros(3, 4).index_fill(1, L.tensor([0, 2]), -1.0),
                             L.index_fill(L.zeros(3, 4), 0, L.tensor([1]), L.tensor(7.0)),
                             L.zeros(3, 4).index_fill_(1, L.tensor([3]), 2),
                             L.zeros(3, 2).index_fill(1, L.tensor([-2]), 1.0),
                             L.zeros(3, dtype=L.int64).index_fill(0, L.tensor([1]), -2.7)),
    "index_copy": lambda L: (L.index_copy(L.zeros(3, 4), 0, L.tensor([0, 2]),
                                          L.arange(1., 9.).view(2, 4)),
                             L.zeros(3, 4).index_copy_(1, L.tensor([1]), L.ones(3, 1))),
    "unique": lambda L: (L.unique(L.tensor([3, 1, 2, 3, 1])),
                         L.unique(L.tensor([3, 1, 2, 3, 1, 7, 5]), sorted=False),
                         L.tensor([3, 1, 2, 3, 1]).unique(return_inverse=True,
                                                          return_counts=True),
                         L.unique(L.tensor([[1, 2], [0, 1], [1, 2]]), dim=0,
                                  return_inverse=True, return_counts=True),
                         L.unique(L.tensor([[1., 2.], [3., 1.]]), return_counts=True)),
    "unique_consecutive": lambda L: (
        L.unique_consecutive(L.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True,
                             return_counts=True),
        L.tensor([[1, 1, 2], [1, 1, 2]]).unique_consecutive(dim=1),
        L.tensor([[1, 1, 2], [1, 1, 2]]).unique_consecutive(return_counts=True)),
    "bincount": lambda L: (L.bincount(L.tensor([0, 1, 1, 3]), minlength=6),
                           L.tensor([0, 1, 1, 3]).bincount(L.tensor([.5, 1, 2, 3])),
                           L.bincount(L.tensor([0, 1, 1, 3]),
                                      weights=L.tensor([.5, 1, 2, 3], dtype=L.float64)),
                           L.bincount(L.tensor([0, 1, 1, 3]), weights=L.tensor([5, 1, 2, 3])),
                           L.bincount(L.tensor([], dtype=L.int64))),
    "histc": lambda L: (L.histc(L.tensor([1., 2, 1, 4, 2.5]), bins=4, min=0, max=3),
                        L.tensor([1., 2, 1, 4, 2.5]).histc(bins=4),
                        L.histc(L.tensor([1., 2.], dtype=L.float64), bins=3),
                        L.histc(L.tensor([2., 2.]), bins=2)),
    "histc_on_edges": lambda L: (  # elements on bin edges, binned with torch's rounding
        L.histc(L.tensor(_grid(-1, 2, 22)), bins=7, min=-1, max=2),
        L.histc(L.tensor(_grid(0.1, 0.7, 31)), bins=7, min=0.1, max=0.7),
        L.histc(L.tensor(_grid(-3.3, 5.1, 10), dtype=L.float64), bins=3, min=-3.3, max=5.1)),
    "argwhere_nonzero": lambda L: (L.argwhere(L.tensor([[1, 0], [0, 3]])),
                                   L.tensor([0., 2.]).argwhere(), L.argwhere(L.tensor(1)),
                                   L.tensor([[1, 0], [0, 3]]).nonzero(as_tuple=True),
                                   L.nonzero(L.tensor([[1, 0], [0, 3]]))),
    "repeat_interleave": lambda L: (
        L.repeat_interleave(L.tensor([1., 2.]), 2),
        L.tensor([[1, 2], [3, 4]]).repeat_interleave(L.tensor([1, 2]), dim=0),
        L.repeat_interleave(L.tensor([[1, 2], [3, 4]]), 3, dim=1),
        L.repeat_interleave(L.tensor([2, 0, 1])),
        L.repeat_interleave(L.tensor([1., 2.]), L.tensor(2))),
    "diag_diagonal": lambda L: (L.diag(L.arange(1., 10.).view(3, 3)),
                                L.arange(1., 13.).view(3, 4).diag(1),
                                L.diag(L.tensor([1., 2.]), -1),
                                L.diagonal(L.arange(24.).view(2, 3, 4), offset=-1, dim1=2,
                                           dim2=0),
                                L.arange(1., 10.).view(3, 3).diagonal(5)),
    "diag_embed": lambda L: (L.diag_embed(L.tensor([1., 2.])),
                             L.diag_embed(L.arange(6.).view(2, 3), offset=1, dim1=0, dim2=2)),
    "trace": lambda L: (L.trace(L.arange(1., 10.).view(3, 3)),
                        L.arange(6).view(2, 3).trace(),
                        L.arange(6, dtype=L.int32).view(2, 3).trace()),
    "tril_triu": lambda L: (L.tril(L.arange(1., 10.).view(3, 3), -1),
                            L.arange(1., 13.).view(3, 4).triu(diagonal=1),
                            L.tril(L.ones(2, 2, 3)), L.ones(3, 3).tril_(1),
                            L.ones(3, 3).triu_()),
    "diagonal_is_a_view": lambda L: _write_through_diagonal(L),
    "gather": lambda L: (L.arange(12.).view(3, 4).gather(0, L.tensor([[2, 0, 1, 1]])),
                         L.gather(L.tensor(3.), 0, L.tensor(0)),
                         L.take_along_dim(L.arange(12.).view(3, 4), L.tensor([[0], [1], [2]]),
                                          1)),
    "out_pairs": lambda L: _out_pairs(L),
}


def _out_pairs(L):
    """sort/topk/kthvalue/cummax with ``out=``: empty outputs are resized, and the result is
    torch's ``<op>_out`` return type holding the out tensors."""
    results = []
    for call in (lambda o: L.sort(L.tensor([3., 1., 2.]), out=o),
                 lambda o: L.topk(L.tensor([3., 1., 2.]), 2, out=o),
                 lambda o: L.kthvalue(L.tensor([[3., 1.], [0., 2.]]), 1, out=o),
                 lambda o: L.cummax(L.tensor([1., 3., 2.]), 0, out=o)):
        pair = (L.empty(0), L.empty(0, dtype=L.int64))
        res = call(pair)
        results.append((res, res.values is pair[0], res.indices is pair[1]))
    return results


def _grid(lo, hi, n):
    """n evenly spaced numbers from lo to hi, as Python floats (no library's linspace)."""
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def _write_through_diagonal(L):
    m = L.zeros(3, 3)
    m.diagonal().fill_(2.0)
    return m


ERROR_CASES = {
    "topk_k": lambda L: L.topk(L.tensor([1., 2.]), 3),
    "topk_bool": lambda L: L.topk(L.tensor([True, False]), 1),
    "sort_dim": lambda L: L.sort(L.zeros(2, 2), dim=2),
    "kthvalue_k": lambda L: L.kthvalue(L.zeros(2, 3), 0),
    "median_bool": lambda L: L.tensor([True, False]).median(),
    "scatter_index_dtype": lambda L: L.zeros(3, 4).scatter(0, L.tensor(IDX).float(), 1.0),
    "scatter_bounds": lambda L: L.zeros(3, 4).scatter(0, L.tensor(IDX) + 2, 1.0),
    "scatter_negative": lambda L: L.zeros(3, 4).scatter(0, L.tensor(IDX) - 1, 1.0),
    "scatter_ndim": lambda L: L.zeros(3, 4).scatter(0, L.tensor(IDX)[0], 1.0),
    "scatter_dtype": lambda L: L.zeros(3, 4).scatter(0, L.tensor(IDX), L.ones(2, 4).double()),
    "scatter_sizes": lambda L: L.zeros(3, 4).scatter(0, L.zeros(2, 5, dtype=L.int64),
                                                     L.ones(2, 4)),
    "scatter_reduce_name": lambda L: L.zeros(3, 4).scatter(0, L.tensor(IDX), L.ones(2, 4),
                                                           reduce="mean"),
    "scatter_reduce_bad": lambda L: L.scatter_reduce(L.ones(3), 0, L.tensor([0]), L.ones(1),
                                                     "foo"),
    "scatter_leaf": lambda L: L.zeros(3, 4, requires_grad=True).scatter_(0, L.tensor(IDX), 1.),
    "index_add_count": lambda L: L.zeros(3, 4).index_add(0, L.tensor([0, 1]), L.ones(3, 4)),
    "index_add_bounds": lambda L: L.zeros(3, 4).index_add(0, L.tensor([0, 3]), L.ones(2, 4)),
    "index_add_index_dtype": lambda L: L.zeros(3, 4).index_add(0, L.tensor([0., 1.]),
                                                               L.ones(2, 4)),
    "index_add_2d_index": lambda L: L.zeros(3, 4).index_add(0, L.tensor([[0, 1]]),
                                                            L.ones(2, 4)),
    "index_add_slices": lambda L: L.zeros(2, 3, 4).index_add(1, L.tensor([0, 2]),
                                                             L.ones(2, 2, 2)),
    "index_add_0d_source_dims": lambda L: L.tensor(1.).index_add(0, L.tensor([0]),
                                                                 L.tensor([2.])),
    "index_add_0d_two_indices": lambda L: L.tensor(1.).index_add(0, L.tensor([0, 0]),
                                                                 L.tensor(2.)),
    "index_add_dtype": lambda L: L.zeros(3, 4).index_add(0, L.tensor([0, 2]),
                                                         L.ones(2, 4, dtype=L.float64)),
    "index_fill_value": lambda L: L.zeros(3, 4).index_fill(1, L.tensor([0]), L.tensor([1.])),
    "index_fill_bounds": lambda L: L.zeros(3, 4).index_fill(1, L.tensor([4]), 2),
    "index_copy_bounds": lambda L: L.zeros(3, 4).index_copy(0, L.tensor([0, 3]),
                                                            L.ones(2, 4)),
    "bincount_negative": lambda L: L.bincount(L.tensor([0, -1])),
    "bincount_2d": lambda L: L.bincount(L.tensor([[0, 1]])),
    "bincount_float": lambda L: L.bincount(L.tensor([0., 1.])),
    "histc_int": lambda L: L.histc(L.tensor([1, 2]), bins=4),
    "histc_range": lambda L: L.histc(L.tensor([1., 2.]), bins=4, min=3, max=1),
    "histc_bins": lambda L: L.histc(L.tensor([1., 2.]), bins=0),
    "searchsorted_shape": lambda L: L.searchsorted(L.tensor([[1, 3, 5], [2, 4, 6]]),
                                                   L.tensor([3, 6, 9])),
    "searchsorted_side": lambda L: L.searchsorted(L.tensor([1, 3]), L.tensor([3]), side="x"),
    "searchsorted_conflict": lambda L: L.searchsorted(L.tensor([1, 3]), L.tensor([3]),
                                                      side="left", right=True),
    "searchsorted_sorter": lambda L: L.searchsorted(L.tensor([1, 3, 5]), L.tensor([2]),
                                                    sorter=L.tensor([0, 1])),
    "sort_out_indices_dtype": lambda L: L.sort(L.tensor([2., 1.]), out=(
        L.empty(0), L.empty(0, dtype=L.int32))),
    "index_add_1d_bounds": lambda L: L.zeros(3).index_add(0, L.tensor([-1]), L.ones(1)),
    "index_add_negative": lambda L: L.zeros(3, 2).index_add(0, L.tensor([-1]), L.ones(1, 2)),
    "index_fill_negative_bounds": lambda L: L.zeros(3).index_fill(0, L.tensor([-4]), 2),
    "scatter_reduce_mean_bool": lambda L: L.zeros(3, dtype=L.bool).scatter_reduce(
        0, L.tensor([1, 1]), L.tensor([True, True]), "mean"),
    "searchsorted_0d": lambda L: L.searchsorted(L.tensor(1.), L.tensor([1.5])),
    "gather_negative": lambda L: L.arange(12.).view(3, 4).gather(0, L.tensor([[-1, 0, 1, 1]])),
    "gather_sizes": lambda L: L.arange(12.).view(3, 4).gather(0, L.zeros(1, 5, dtype=L.int64)),
    "bucketize_2d": lambda L: L.bucketize(L.tensor([3]), L.tensor([[1, 3]])),
    "repeat_interleave_size": lambda L: L.repeat_interleave(L.tensor([1., 2.]),
                                                            L.tensor([1, 2, 3])),
    "repeat_interleave_negative": lambda L: L.repeat_interleave(L.tensor([1., 2.]), -1),
    "repeat_interleave_negative_t": lambda L: L.repeat_interleave(L.tensor([1., 2.]),
                                                                  L.tensor([1, -1])),
    "repeat_interleave_float": lambda L: L.repeat_interleave(L.tensor([1., 2.]),
                                                             L.tensor([1., 1.])),
    "diag_3d": lambda L: L.diag(L.zeros(2, 2, 2)),
    "diagonal_same_dims": lambda L: L.diagonal(L.zeros(3, 3), 0, 1, 1),
    "diagonal_dim": lambda L: L.diagonal(L.zeros(3, 3), 0, 0, 2),
    "diag_embed_same": lambda L: L.diag_embed(L.zeros(2), 0, 0, 0),
    "trace_1d": lambda L: L.trace(L.zeros(2)),
    "trace_bool": lambda L: L.trace(L.ones(2, 2, dtype=L.bool)),
    "tril_1d": lambda L: L.tril(L.zeros(2)),
    "scatter_src_larger_backward": lambda L: L.zeros(2, 4).scatter(
        1, L.tensor([[1], [2]]), L.ones(2, 4, requires_grad=True)).sum().backward(),
    "scatter_reduce_sum_src_larger_backward": lambda L: L.zeros(2, 4).scatter_reduce(
        1, L.tensor([[1], [2]]), L.ones(2, 4, requires_grad=True), "sum").sum().backward(),
    "unique_backward": lambda L: L.unique(L.zeros(3, requires_grad=True)).sum().backward(),
    "bincount_backward": lambda L: L.bincount(
        L.tensor([0, 1]), weights=L.ones(2, requires_grad=True)).sum().backward(),
    "scatter_reduce_kw_backward": lambda L: L.zeros(3, requires_grad=True).mul(1).scatter(
        0, L.tensor([0, 0]), L.ones(2, requires_grad=True), reduce="add").sum().backward(),
}

GRAD_CASES = {
    "gather": lambda L, x: x.gather(2, L.tensor([[[0, 0], [3, 1], [2, 2]]] * 2)),
    "sort": lambda L, x: L.sort(x, dim=1),
    "sort_desc_stable": lambda L, x: x.sort(dim=0, descending=True, stable=True),
    "msort": lambda L, x: L.msort(x),
    "topk": lambda L, x: L.topk(x, 2, dim=2),
    "kthvalue": lambda L, x: L.kthvalue(x, 2, dim=1, keepdim=True),
    "median_all": lambda L, x: x.median(),
    "median_dim": lambda L, x: x.median(2),
    "nanmedian_dim": lambda L, x: L.nanmedian(x, 0),
    "mode": lambda L, x: x.mode(1),
    "cummax": lambda L, x: L.cummax(x, 2),
    "cummin": lambda L, x: x.cummin(0),
    "scatter": lambda L, x: x.scatter(2, L.tensor([[[0, 1]] * 3] * 2), 9.0),
    "scatter_src": lambda L, x: L.zeros(2, 3, 5, dtype=x.dtype).scatter(2, L.tensor([[[4, 0, 2, 1]] * 3] * 2),
                                                         x),
    "scatter_add": lambda L, x: L.ones(2, 3, 5, dtype=x.dtype).scatter_add(2, L.tensor([[[4, 0, 4, 1]] * 3] * 2),
                                                            x),
    "scatter_reduce_amax": lambda L, x: L.scatter_reduce(
        L.zeros(2, 3, 2, dtype=x.dtype), 2, L.tensor([[[0, 1, 0, 1]] * 3] * 2), x, "amax"),
    "index_add": lambda L, x: L.index_add(x, 2, L.tensor([0, 3]), x[:, :, :2] * 1, alpha=3),
    "index_fill": lambda L, x: x.index_fill(2, L.tensor([1, 3]), 0.5),
    "index_copy": lambda L, x: x.index_copy(1, L.tensor([2, 0]), x[:, :2] * 2),
    "repeat_interleave_int": lambda L, x: x.repeat_interleave(2, dim=1),
    "repeat_interleave_flat": lambda L, x: L.repeat_interleave(x, 3),
    "repeat_interleave_tensor": lambda L, x: x.repeat_interleave(L.tensor([2, 0, 1]), dim=1),
    "diagonal": lambda L, x: x.diagonal(1, 1, 2),
    "diag": lambda L, x: L.diag(x[0], -1),
    "diag_1d": lambda L, x: L.diag(x[0, 0], 1),
    "diag_embed": lambda L, x: L.diag_embed(x, 1),
    "trace": lambda L, x: L.trace(x[1]),
    "tril": lambda L, x: x.tril(1),
    "triu": lambda L, x: L.triu(x, -1),
    "tril_inplace": lambda L, x: (x * 1).tril_(),
    "scatter_inplace": lambda L, x: (x * 1).scatter_(1, L.tensor([[[0, 1, 2, 0]]] * 2), 1.5),
    "index_add_inplace": lambda L, x: (x * 1).index_add_(0, L.tensor([1]), x[:1] * 1),
}


# ties: the global median shares its gradient among equal elements; sort/median/mode with
# ties pick the indices torch's CPU kernels pick on these small rows (stable order, last
# index for mode)
TIE_CASES = {
    "median_all": grad_of(lambda L, x: x.median(), data=TIES),
    "sort_desc": grad_of(lambda L, x: x.sort(1, descending=True), data=TIES),
    "median_dim": grad_of(lambda L, x: x.median(1), data=TIES),
    "mode": grad_of(lambda L, x: x.mode(1), data=TIES),
    "cummax": grad_of(lambda L, x: x.cummax(1), data=TIES),
    "scatter_reduce_amin": grad_of(lambda L, x: L.scatter_reduce(
        L.full((2, 2), 2.0), 1, L.tensor([[0, 0, 1, 1, 1]] * 2), x, "amin"), data=TIES),
    "scatter_reduce_prod_zeros": grad_of(lambda L, x: L.scatter_reduce(
        L.tensor([[1., 0.], [0., 2.]]), 1, L.tensor([[0, 0, 1, 1, 1]] * 2), x, "prod",
        include_self=False), data=[[3.0, 0.0, 2.0, 1.0, 2.0], [0.0, 5.0, 0.0, -1.0, 5.0]]),
}


def _index_fill_value_grad(L):
    """A 0-d tensor filled in gets each filled slice's gradient once, even when the index
    names a slice twice; index_copy's sources each get theirs."""
    x = L.zeros(3, 2, requires_grad=True)
    v = L.tensor(2., requires_grad=True)
    s = L.ones(3, 2, requires_grad=True)
    y = x.index_fill(0, L.tensor([1, 1, 2]), v) + x.index_copy(0, L.tensor([1, 1, 2]), s)
    (y * L.arange(6.).view(3, 2)).sum().backward()
    return y, x.grad, v.grad, s.grad


TIE_CASES["index_fill_copy_repeated_index"] = _index_fill_value_grad
# self equal to the maximum where include_self=False drops it: torch still counts it when it
# shares the gradient out
TIE_CASES["scatter_reduce_amax_dropped_self_tie"] = grad_of(
    lambda L, x: L.tensor([[3., 1.], [2., 0.]]).scatter_reduce(
        0, L.tensor([[0, 1, 0, 1]]).t().expand(4, 2)[:2], x[:2, :2] * 1, "amax",
        include_self=False), data=[[3.0, 2.0, 0.0], [3.0, 0.0, 5.0]])


def scatter_reduce_grads(reduce, include_self):
    """scatter_reduce's result and both gradients, positions hit several times."""
    def run(L):
        x = L.tensor([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=True)
        src = L.tensor([[2.0, 0.25, -3.0, 1.0], [5.0, -0.5, 2.5, 0.75]], requires_grad=True)
        out = L.scatter_reduce(x, 1, L.tensor([[0, 2, 0, 0], [1, 1, 2, 1]]), src, reduce,
                               include_self=include_self)
        (out * L.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])).sum().backward()
        return out, x.grad, src.grad
    return run


for _how in ("sum", "prod", "mean", "amax", "amin"):
    for _inc in (True, False):
        TIE_CASES[f"scatter_reduce_{_how}_{_inc}"] = scatter_reduce_grads(_how, _inc)

def _second_order(op):
    """The gradient of ``op`` computed with create_graph=True, and its own gradient."""
    def run(L):
        x = L.tensor([[3., 1., 4.], [2., 5., 0.5]], requires_grad=True)
        out = op(L, x)
        vals = out[0] if isinstance(out, tuple) else out
        (g,) = L.autograd.grad((vals * vals).sum(), x, create_graph=True)
        g.sum().backward()
        return g.detach(), x.grad  # the backward's own nodes are not torch's: values only
    return run


for _name, _op in {
    "cummax": lambda L, x: L.cummax(x, 1), "sort": lambda L, x: x.sort(0),
    "median": lambda L, x: x.median(), "trace_diag": lambda L, x: L.diag(x) * x.diagonal(1)[0],
    "scatter_add": lambda L, x: L.zeros(2, 2).scatter_add(1, L.tensor([[1, 0, 1]] * 2), x),
}.items():
    TIE_CASES[f"second_order_{_name}"] = _second_order(_op)

# every case by one name, as the golden file keys them
ALL_CASES = {
    **{f"value/{k}": v for k, v in VALUE_CASES.items()},
    **{f"error/{k}": v for k, v in ERROR_CASES.items()},
    **{f"grad/{k}": grad_of(v) for k, v in GRAD_CASES.items()},
    **{f"tie/{k}": v for k, v in TIE_CASES.items()},
}
