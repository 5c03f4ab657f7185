"""Property tests of the public ops over shapes, dtypes, strides and broadcasting (hypothesis).

Every property draws shapes that include zero-size and 1-sized dims, takes strided views
(permuted, sliced with steps) of the inputs, and compares ember's result with NumPy computed
in float64 (values) and with torch's promotion rules (dtypes). Inputs torch refuses must
raise torch's error type. Examples stay bounded (30 per property) so the suite stays fast;
tests/reliability/test_torch_kernel_fuzz.py repeats the error cases against live torch.
"""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import ember  # noqa: E402
import ember.nn.functional as F  # noqa: E402

# tools/update_reliability.py raises the count through the environment for heavier runs
EXAMPLES = int(os.environ.get("EMBER_FUZZ_EXAMPLES", "30"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 30)
DTYPES = ["float32", "float64", "int32", "int64"]
FLOATS = ["float32", "float64"]
SHAPE = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)


def _np_values(rng, shape, dtype, low=-5, high=5):
    if dtype.startswith("float"):
        return rng.uniform(low, high, size=shape).astype(dtype)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    return rng.integers(low, high + 1, size=shape).astype(dtype)


@st.composite
def views(draw, shape=None, dtypes=DTYPES):
    """(ember tensor, the same values as a NumPy array): contiguous, permuted or sliced."""
    shape = draw(SHAPE) if shape is None else shape
    dtype = draw(st.sampled_from(dtypes))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["contiguous", "permuted", "sliced"]))
    if kind == "permuted" and len(shape) >= 2:
        order = draw(st.permutations(range(len(shape))))
        inverse = list(np.argsort(order))
        base_shape = tuple(shape[i] for i in inverse)
        base = _np_values(rng, base_shape, dtype)
        return ember.from_numpy(base.copy()).permute(*order), base.transpose(order)
    if kind == "sliced" and len(shape) >= 1:
        step = draw(st.integers(1, 3))
        start = draw(st.integers(0, 2))
        base_shape = (start + shape[0] * step,) + tuple(shape[1:])
        base = _np_values(rng, base_shape, dtype)
        sl = slice(start, start + shape[0] * step, step)
        return ember.from_numpy(base.copy())[sl], base[sl]
    base = _np_values(rng, shape, dtype)
    return ember.from_numpy(base.copy()), base


def result_dtype(a, b, a_0d=False, b_0d=False):
    """torch's promotion of two tensors: floats beat ints, else the wider; a 0-d tensor only
    decides the dtype when the other is 0-d too, or when it is float and the other int (then
    its own dtype wins: int32 tensor + 0-d float64 tensor is float64)."""
    if a_0d != b_0d:
        dim_dtype, zero_dtype = (b, a) if a_0d else (a, b)
        if zero_dtype.startswith("float") and not dim_dtype.startswith("float"):
            return zero_dtype
        return dim_dtype
    floats = [d for d in (a, b) if d.startswith("float")]
    if floats:
        return max(floats, key=lambda d: np.dtype(d).itemsize)
    return max((a, b), key=lambda d: np.dtype(d).itemsize)


def promoted(a, b):
    return result_dtype(name(a), name(b), a.dim() == 0, b.dim() == 0)


def name(t):
    return str(t.dtype).split(".")[-1]


def check(out, expected, dtype, rtol=1e-5, atol=1e-5):
    assert name(out) == dtype, (name(out), dtype)
    got = out.numpy()
    assert got.shape == np.shape(expected)
    if dtype.startswith("float"):
        tol = 1e-12 if dtype == "float64" else 1
        np.testing.assert_allclose(got, expected, rtol=rtol * tol if tol < 1 else rtol,
                                   atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


BINARY = {
    "add": (ember.add, np.add), "sub": (ember.sub, np.subtract), "mul": (ember.mul, np.multiply),
    "maximum": (ember.maximum, np.maximum), "minimum": (ember.minimum, np.minimum),
}


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                 min_side=0, max_side=4),
       op=st.sampled_from(sorted(BINARY)), data=st.data())
def test_binary_ops_broadcast_like_numpy(shapes, op, data):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    a, na = data.draw(views(sa))
    b, nb = data.draw(views(sb))
    ember_op, np_op = BINARY[op]
    out = ember_op(a, b)
    dtype = promoted(a, b)
    expected = np_op(na.astype(np.float64), nb.astype(np.float64))
    assert tuple(out.shape) == out_shape
    check(out, expected.astype(dtype), dtype)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                 min_side=0, max_side=4), data=st.data())
def test_division_and_comparisons(shapes, data):
    a, na = data.draw(views(shapes.input_shapes[0]))
    b, nb = data.draw(views(shapes.input_shapes[1]))
    fa, fb = na.astype(np.float64), nb.astype(np.float64)
    dtype = promoted(a, b)
    true_dtype = dtype if dtype.startswith("float") else "float32"
    with np.errstate(divide="ignore", invalid="ignore"):
        check(ember.div(a, b), (fa / fb).astype(true_dtype), true_dtype)
    for op, np_op in ((ember.eq, np.equal), (ember.lt, np.less), (ember.ge, np.greater_equal)):
        out = op(a, b)
        assert name(out) == "bool"
        np.testing.assert_array_equal(out.numpy(), np_op(na.astype(dtype), nb.astype(dtype)))


UNARY = {
    "exp": (ember.exp, np.exp, (-5, 5)), "log": (ember.log, np.log, (0.01, 5)),
    "sqrt": (ember.sqrt, np.sqrt, (0, 5)), "tanh": (ember.tanh, np.tanh, (-5, 5)),
    "sigmoid": (ember.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (-5, 5)),
    "sin": (ember.sin, np.sin, (-5, 5)), "floor": (ember.floor, np.floor, (-5, 5)),
    "abs": (ember.abs, np.abs, (-5, 5)), "neg": (ember.neg, np.negative, (-5, 5)),
    "relu": (ember.relu, lambda x: np.maximum(x, 0), (-5, 5)),
}


@SETTINGS
@given(op=st.sampled_from(sorted(UNARY)), data=st.data())
def test_unary_ops_on_views(op, data):
    t, values = data.draw(views(dtypes=FLOATS))
    ember_op, np_op, (low, high) = UNARY[op]
    # rescale into the op's domain, through ember so the view keeps its strides
    span = (values - (-5)) / 10
    t = t.sub(-5).div(10).mul(high - low).add(low)
    values = span.astype(np.float64) * (high - low) + low
    check(ember_op(t), np_op(values).astype(name(t)), name(t), rtol=1e-5, atol=1e-5)


REDUCTIONS = {
    "sum": (ember.sum, np.sum), "mean": (ember.mean, np.mean), "amax": (ember.amax, np.max),
    "amin": (ember.amin, np.min), "prod": (ember.prod, np.prod),
}


@SETTINGS
@given(op=st.sampled_from(sorted(REDUCTIONS)), keepdim=st.booleans(), data=st.data())
def test_reductions_over_dims(op, keepdim, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    dtypes = FLOATS if op == "mean" else DTYPES
    t, values = data.draw(views(shape, dtypes))
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                              unique_by=lambda d: d % nd))
    ember_op, np_op = REDUCTIONS[op]
    if op == "prod":  # torch.prod takes one dim
        dims = dims[:1]
        out = ember_op(t, dim=dims[0], keepdim=keepdim)
    else:
        out = ember_op(t, dim=tuple(dims), keepdim=keepdim)
    axes = tuple(d % nd for d in dims)
    expected = np_op(values.astype(np.float64), axis=axes, keepdims=keepdim)
    dtype = name(t)
    if op in ("sum", "prod") and not dtype.startswith("float"):
        dtype = "int64"  # torch sums and multiplies integers in int64
    check(out, expected.astype(dtype), dtype, rtol=1e-4, atol=1e-4)


def test_reductions_of_empty_dims_follow_torch():
    empty = ember.zeros(2, 0)
    assert ember.sum(empty, dim=1).tolist() == [0.0, 0.0]
    assert ember.prod(empty, dim=1).tolist() == [1.0, 1.0]
    assert np.isnan(ember.mean(empty, dim=1).numpy()).all()
    with pytest.raises((RuntimeError, IndexError)):
        ember.amax(empty, dim=1)


@SETTINGS
@given(n=st.integers(0, 4), k=st.integers(0, 4), m=st.integers(0, 4),
       batch=st.sampled_from([(), (1,), (2,), (3, 1)]), data=st.data())
def test_matmul_shapes_and_values(n, k, m, batch, data):
    a, na = data.draw(views(batch + (n, k), FLOATS))
    b, nb = data.draw(views((k, m), [name(a)]))
    out = ember.matmul(a, b)
    check(out, np.matmul(na.astype(np.float64), nb).astype(name(a)), name(a), 1e-4, 1e-4)
    if k > 0:
        with pytest.raises(RuntimeError):
            ember.matmul(a, ember.zeros(k + 1, m, dtype=a.dtype))


def test_batched_matmul_with_empty_inner_dim():
    out = ember.matmul(ember.zeros(2, 3, 0), ember.zeros(0, 4))
    assert tuple(out.shape) == (2, 3, 4) and not out.numpy().any()


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), data=st.data())
def test_integer_and_boolean_indexing(shape, data):
    t, values = data.draw(views(shape))
    size = shape[0]
    idx = data.draw(st.lists(st.integers(-size, size - 1), min_size=0, max_size=6))
    index = ember.tensor(idx, dtype=ember.int64)
    np.testing.assert_array_equal(t[index].numpy(), values[np.array(idx, dtype=np.int64)])
    mask = data.draw(hnp.arrays(np.bool_, (size,)))
    np.testing.assert_array_equal(t[ember.from_numpy(mask.copy())].numpy(), values[mask])
    bad = data.draw(st.sampled_from([size, -size - 1, size + 7]))
    with pytest.raises(IndexError):
        t[ember.tensor([bad])]
    with pytest.raises(IndexError):
        t[bad]


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), data=st.data())
def test_index_assignment(shape, data):
    t, values = data.draw(views(shape, FLOATS))
    t = t.clone()
    values = values.copy()
    size = shape[0]
    idx = data.draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=4,
                             unique_by=lambda i: i % size))
    fill = data.draw(st.floats(-100, 100, allow_nan=False, width=32))
    t[ember.tensor(idx)] = fill
    values[np.array(idx)] = fill
    np.testing.assert_array_equal(t.numpy(), values)
    start, stop = sorted(data.draw(st.tuples(st.integers(0, size), st.integers(0, size))))
    src_shape = (stop - start,) + tuple(shape[1:])
    src = np.arange(np.prod(src_shape), dtype=values.dtype).reshape(src_shape)
    t[start:stop] = ember.from_numpy(src.copy())
    values[start:stop] = src
    np.testing.assert_array_equal(t.numpy(), values)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
       count=st.integers(1, 3), data=st.data())
def test_cat_and_stack(shape, count, data):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    parts, arrays = [], []
    dtype = data.draw(st.sampled_from(DTYPES))
    for _ in range(count):
        part_shape = list(shape)
        part_shape[dim % nd] = data.draw(st.integers(0, 3))
        t, v = data.draw(views(tuple(part_shape), [dtype]))
        parts.append(t)
        arrays.append(v)
    check(ember.cat(parts, dim=dim), np.concatenate(arrays, axis=dim % nd), dtype)
    same = [p for p in parts if tuple(p.shape) == tuple(parts[0].shape)]
    sdim = data.draw(st.integers(-nd - 1, nd))
    check(ember.stack(same, dim=sdim),
          np.stack([a for a in arrays if a.shape == arrays[0].shape], axis=sdim % (nd + 1)),
          dtype)
    if nd >= 2:  # (a 1-d empty tensor is skipped by cat, whatever the other shapes)
        with pytest.raises(RuntimeError):
            ember.cat([parts[0], ember.zeros(*(s + 1 for s in shape), 2)], dim=0)


def conv2d_reference(x, w, bias, stride, padding, dilation, groups):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dilation:i * dilation + stride * (oh - 1) + 1:stride,
                           j * dilation:j * dilation + stride * (ow - 1) + 1:stride]
                out[:, g * og:(g + 1) * og] += np.einsum(
                    "nchw,oc->nohw", patch, w[g * og:(g + 1) * og, :, i, j])
    if bias is not None:
        out += bias[None, :, None, None]
    return out


@SETTINGS
@given(n=st.integers(1, 2), groups=st.integers(1, 2), cg=st.integers(1, 2),
       og=st.integers(1, 2), h=st.integers(1, 7), w=st.integers(1, 7), k=st.integers(1, 3),
       stride=st.integers(1, 3), padding=st.integers(0, 2), dilation=st.integers(1, 2),
       use_bias=st.booleans(), dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**16))
def test_conv2d_random_params(n, groups, cg, og, h, w, k, stride, padding, dilation, use_bias,
                              dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, groups * cg, h, w)).astype(dtype)
    weight = rng.standard_normal((groups * og, cg, k, k)).astype(dtype)
    bias = rng.standard_normal(groups * og).astype(dtype) if use_bias else None
    args = (ember.from_numpy(x), ember.from_numpy(weight),
            None if bias is None else ember.from_numpy(bias))
    if h + 2 * padding < dilation * (k - 1) + 1 or w + 2 * padding < dilation * (k - 1) + 1:
        with pytest.raises(RuntimeError):
            F.conv2d(*args, stride=stride, padding=padding, dilation=dilation, groups=groups)
        return
    out = F.conv2d(*args, stride=stride, padding=padding, dilation=dilation, groups=groups)
    expected = conv2d_reference(x.astype(np.float64), weight.astype(np.float64), bias,
                                stride, padding, dilation, groups)
    check(out, expected.astype(dtype), dtype, rtol=1e-4, atol=1e-4)


def maxpool_reference(x, k, stride, padding, dilation, ceil_mode):
    n, c, h, w = x.shape

    def out_size(size):
        span = size + 2 * padding - dilation * (k - 1) - 1
        out = (-(-span // stride) if ceil_mode else span // stride) + 1
        if ceil_mode and (out - 1) * stride >= size + padding:
            out -= 1  # the last window must start inside the input or its left padding
        return out

    oh, ow = max(out_size(h), 0), max(out_size(w), 0)
    if 0 in (oh, ow):
        return np.zeros((n, c, oh, ow))
    big = np.full((n, c, h + 2 * padding + k * dilation + stride,
                   w + 2 * padding + k * dilation + stride), -np.inf)
    big[:, :, padding:padding + h, padding:padding + w] = x
    out = np.full((n, c, oh, ow), -np.inf)
    for i in range(k):
        for j in range(k):
            patch = big[:, :, i * dilation:i * dilation + stride * (oh - 1) + 1:stride,
                        j * dilation:j * dilation + stride * (ow - 1) + 1:stride]
            out = np.maximum(out, patch)
    return out


@SETTINGS
@given(h=st.integers(1, 8), w=st.integers(1, 8), k=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.integers(0, 1), dilation=st.integers(1, 2), ceil_mode=st.booleans(),
       dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**16))
def test_max_pool2d_random_params(h, w, k, stride, padding, dilation, ceil_mode, dtype, seed):
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w)).astype(dtype)
    call = dict(kernel_size=k, stride=stride, padding=padding, dilation=dilation,
                ceil_mode=ceil_mode)
    if padding <= k // 2:
        expected = maxpool_reference(x, k, stride, padding, dilation, ceil_mode)
    if padding > k // 2 or 0 in expected.shape:
        with pytest.raises(RuntimeError):
            F.max_pool2d(ember.from_numpy(x), **call)
        return
    out = F.max_pool2d(ember.from_numpy(x), **call)
    check(out, expected.astype(dtype), dtype, 0, 0)


@SETTINGS
@given(data=st.data(), log=st.booleans())
def test_softmax_and_log_softmax(data, log):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4))
    t, values = data.draw(views(shape, FLOATS))
    t = t.mul(10)  # large logits exercise the max-subtraction
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    v = values.astype(np.float64) * 10
    shifted = v - (v.max(axis=dim, keepdims=True) if v.size else 0)
    lse = np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    expected = shifted - lse if log else np.exp(shifted - lse)
    out = (F.log_softmax if log else F.softmax)(t, dim=dim)
    check(out, expected.astype(name(t)), name(t), rtol=1e-4, atol=1e-5)
    with pytest.raises(IndexError):
        F.softmax(t, dim=nd)


@pytest.mark.parametrize("call", [
    lambda: ember.add(ember.zeros(2, 3), ember.zeros(4, 3)),
    lambda: ember.mul(ember.zeros(2, 0), ember.zeros(3)),
    lambda: ember.matmul(ember.zeros(2, 3), ember.zeros(2, 3)),
    lambda: ember.matmul(ember.zeros(()), ember.zeros(3)),
    lambda: ember.cat([ember.zeros(2, 3), ember.zeros(2, 4)], dim=0),
    lambda: ember.stack([ember.zeros(2), ember.zeros(3)]),
    lambda: F.conv2d(ember.zeros(1, 3, 4, 4), ember.zeros(2, 2, 3, 3)),
    lambda: F.conv2d(ember.zeros(1, 2, 2, 2), ember.zeros(1, 2, 3, 3)),
    lambda: F.max_pool2d(ember.zeros(1, 1, 4, 4), 3, padding=2),
], ids=["broadcast", "broadcast-empty", "matmul", "matmul-0d", "cat", "stack", "conv-channels",
        "conv-kernel-too-big", "pool-padding"])
def test_bad_shapes_raise_runtime_error(call):
    with pytest.raises(RuntimeError):
        call()


@pytest.mark.parametrize("call", [
    lambda: ember.zeros(2, 3).sum(dim=2),
    lambda: ember.zeros(2, 3)[2],
    lambda: ember.zeros(2, 3)[:, -4],
    lambda: F.softmax(ember.zeros(2, 3), dim=-3),
    lambda: ember.cat([ember.zeros(2, 3)], dim=2),
], ids=["sum-dim", "index", "index-neg", "softmax-dim", "cat-dim"])
def test_bad_dims_and_indices_raise_index_error(call):
    with pytest.raises(IndexError):
        call()
