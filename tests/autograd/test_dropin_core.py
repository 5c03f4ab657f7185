"""Core drop-in behaviour the tutorials lean on: iterating 1-D tensors, 0-d gradients from
several paths, assignment through masks and slices on non-leaves.

Expected values were read off torch 2.13 (CPU); test_torch_dropin.py checks the same cases
against live torch.
"""
import re

import numpy as np
import pytest

import ember
import ember_tensor as et

def re_start(text):
    return "^" + re.escape(text)


DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _vector(name):
    return ember.tensor([1, 0, 3]).to(getattr(ember, name))


# ---- iterating a 1-D tensor yields 0-d views ------------------------------------------------
@pytest.mark.parametrize("name", DTYPES)
def test_iterating_a_1d_tensor_of_every_dtype_gives_0d_tensors(name):
    t = _vector(name)
    items = list(t)
    assert [x.shape for x in items] == [ember.Size([])] * 3
    assert all(x.dtype is t.dtype for x in items)
    expected = [True, False, True] if name == "bool" else [1, 0, 3]
    assert [x.item() for x in items] == expected
    assert [x.item() for x in t.unbind()] == expected
    assert [t.select(0, i).item() for i in range(3)] == expected
    assert [t[i].item() for i in range(3)] == expected
    assert [(a.item(), b.item()) for a, b in zip(t, t.flip(0))] == list(
        zip(expected, expected[::-1]))


@pytest.mark.parametrize("name", DTYPES)
def test_ember_tensor_array_iterates_and_selects_as_0d_arrays(name):
    a = et.tensor([1, 0, 3], dtype=getattr(et, name))
    parts = list(a) + list(a.unbind()) + [a.select(0, 1), a[2]]
    assert all(isinstance(p, et.Array) and p.shape == et.Size([]) for p in parts)


def test_iteration_select_and_indexing_give_views_as_torch():
    t = ember.zeros(3)
    for x in t:
        x.add_(1)
    t.unbind()[0].add_(1)
    t.select(0, 1).mul_(5)
    t[2].sub_(3)
    assert t.tolist() == [2.0, 5.0, -2.0]


def test_repr_of_iterated_items():
    assert [repr(x) for x in ember.tensor([1, 2], dtype=ember.uint8)] == [
        "tensor(1, dtype=ember.uint8)", "tensor(2, dtype=ember.uint8)"]
    assert repr(list(zip(ember.tensor([1, 2]), ember.tensor([True, False])))) == (
        "[(tensor(1), tensor(True)), (tensor(2), tensor(False))]")


def test_iterated_items_carry_unbind_grad_fn_and_gradients():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    items = list(x)
    assert [i.grad_fn.name() for i in items] == ["UnbindBackward0"] * 3
    s = sum(v * v for v in x)
    assert repr(s) == "tensor(14., grad_fn=<AddBackward0>)"
    s.backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_unbind_and_select_gradients():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, b, c = x.unbind()
    (a * b * c).backward()
    assert x.grad.tolist() == [6.0, 3.0, 2.0]
    x.grad = None
    (x.select(0, 1) ** 2).backward()
    assert x.grad.tolist() == [0.0, 4.0, 0.0]
    x.grad = None
    (x[0] * x[-1]).backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    m = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    sum(row[0] * row[1] for row in m).backward()
    assert m.grad.tolist() == [[2.0, 1.0], [4.0, 3.0]]


# ---- 0-d gradients delivered along two or more paths -----------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_0d_gradient_accumulates_from_several_paths(dtype):
    q = ember.tensor(1.5, dtype=getattr(ember, dtype), requires_grad=True)
    (q * q).backward()
    assert q.grad.shape == ember.Size([]) and q.grad.dtype is q.dtype
    assert q.grad.item() == 3.0
    q.grad = None
    (q * q + q.exp() + q).backward()
    np.testing.assert_allclose(q.grad.item(), 2 * 1.5 + np.exp(1.5) + 1, rtol=1e-6)
    q.grad = None
    (q.sin() * q.cos() * q).backward()
    np.testing.assert_allclose(q.grad.item(), -1.4144, atol=1e-4)  # torch: tensor(-1.4144)


def test_0d_gradient_accumulates_into_an_existing_grad():
    q = ember.randn((), requires_grad=True)
    (q * q).backward()
    first = q.grad.item()
    (q * q).backward()
    assert q.grad.shape == ember.Size([]) and q.grad.item() == pytest.approx(2 * first)


def test_0d_arrays_from_numpy_scalars():
    # NumPy hands back scalars from 0-d arithmetic; Array keeps them as 0-d arrays
    a = et.Array(np.float32(2.5))
    assert a.shape == et.Size([]) and a.dtype is et.float32 and a.item() == 2.5
    with pytest.raises(TypeError, match="Array wraps a numpy.ndarray, got float"):
        et.Array(2.5)


# ---- assignment through a mask or a slice on a non-leaf --------------------------------------
def test_scalar_through_a_mask_on_a_non_leaf():
    x = ember.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    y = x * 2
    y[y < 0] = 0
    assert repr(y) == "tensor([0., 4., 0., 8.], grad_fn=<IndexPutBackward0>)"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 0.0, 2.0]  # masked-out positions: no gradient


def test_scalar_into_a_slice_on_a_non_leaf():
    x = ember.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    y = x * 2
    y[1:3] = 5
    assert repr(y) == "tensor([-2.,  5.,  5.,  8.], grad_fn=<CopySlices>)"
    (y * y).sum().backward()
    assert x.grad.tolist() == [-8.0, 0.0, 0.0, 32.0]


def test_tensor_that_requires_grad_into_a_slice():
    x = ember.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    v = ember.tensor([7.0, 8.0], requires_grad=True)
    y = x * 2
    y[1:3] = v
    (y * y).sum().backward()
    assert x.grad.tolist() == [-8.0, 0.0, 0.0, 32.0]
    assert v.grad.tolist() == [14.0, 16.0]


def test_0d_tensor_through_a_mask_gets_the_summed_gradient():
    x = ember.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    v = ember.tensor(3.0, requires_grad=True)
    y = x * 2
    y[y < 0] = v
    (y * y).sum().backward()
    assert x.grad.tolist() == [0.0, 16.0, 0.0, 32.0]
    assert v.grad.shape == ember.Size([]) and v.grad.item() == 12.0


def test_row_column_and_broadcast_assignments():
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = ember.tensor([10.0, 20.0], requires_grad=True)
    y = x * 1
    y[:, 0] = v
    y[0] = 0.5
    (y * y).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 8.0]]
    assert v.grad.tolist() == [0.0, 40.0]
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = ember.tensor([5.0], dtype=ember.float64, requires_grad=True)
    y = x * 1
    y[0:2] = w  # broadcast, and cast to float32
    (y * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 3.0]
    assert w.grad.dtype is ember.float64 and w.grad.tolist() == [6.0]


def test_assignments_chained_and_from_the_tensor_itself():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[0] = 7
    y[0] = y[1] * 2
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 1.0]
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[[0, 2]] = ember.tensor([5.0, 6.0])
    assert y.grad_fn.name() == "IndexPutBackward0"
    (y * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 0.0]


def test_assignment_into_a_fresh_tensor_from_one_that_requires_grad():
    v = ember.tensor([5.0, 6.0], requires_grad=True)
    y = ember.zeros(3)
    y[1:] = v
    assert repr(y) == "tensor([0., 5., 6.], grad_fn=<CopySlices>)"
    (y * 2).sum().backward()
    assert v.grad.tolist() == [2.0, 2.0]


def test_assignment_under_no_grad_builds_no_node():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with ember.no_grad():
        y = x * 2
        y[0] = 0
    assert not y.requires_grad and y.grad_fn is None


def test_a_0d_integer_tensor_indexes_as_an_int():
    y = ember.zeros(2, 3)
    y[ember.tensor(1), ember.tensor(2)].add_(1)  # a view, as torch
    assert y.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    x = ember.zeros(2, 3, requires_grad=True)
    assert x[ember.tensor(1)].grad_fn.name() == "SelectBackward0"
    assert x[ember.tensor(1), [0, 1]].grad_fn.name() == "IndexBackward0"
    with pytest.raises(IndexError, match="^index -3 is out of bounds for dimension 0 with size 2$"):
        y[ember.tensor(-3)]
    z = x * 1
    z[ember.tensor(0)] = 1.0
    assert z.grad_fn.name() == "CopySlices"


# ---- small conveniences -----------------------------------------------------------------------
def test_format_of_a_0d_tensor_formats_its_number():
    t = ember.tensor(2.5)
    assert f"{t}" == "2.5" and f"{t:.2f}" == "2.50" and format(t, ".2f") == "2.50"
    assert f"{t:e}" == "2.500000e+00" and f"{t:<8}|" == "2.5     |"
    assert f"{ember.tensor(0.1)}" == "0.10000000149011612"  # the float32 value, as torch
    assert f"{ember.tensor(7)}" == "7" and f"{ember.tensor(7):05d}" == "00007"
    assert f"{ember.tensor(True)}" == "True"
    assert f"{ember.tensor(0.5, requires_grad=True) * 2}" == "1.0"
    assert "loss: {:>7f}".format(ember.tensor(0.123456789)) == "loss: 0.123457"
    assert str(t) == "tensor(2.5000)"


def test_format_of_other_tensors_is_objects():
    t = ember.tensor([1.0, 2.0])
    assert f"{t}" == "tensor([1., 2.])"
    for bad in (t, ember.tensor([1.0])):
        with pytest.raises(TypeError, match=r"^unsupported format string passed to "
                                            r"Tensor.__format__$"):
            f"{bad:.2f}"
    p = ember.nn.Parameter(ember.tensor(2.5))
    assert f"{p}" == "Parameter containing:\ntensor(2.5000, requires_grad=True)"
    with pytest.raises(TypeError, match="^unsupported format string passed to "
                                        "Parameter.__format__$"):
        f"{p:.2f}"


def test_tensor_from_a_range():
    assert repr(ember.tensor(range(4))) == "tensor([0, 1, 2, 3])"
    assert repr(ember.tensor(range(0))) == "tensor([])"
    assert repr(ember.tensor(range(1, 10, 3), dtype=ember.float32)) == "tensor([1., 4., 7.])"
    assert ember.tensor([range(2), range(2)]).tolist() == [[0, 1], [0, 1]]
    assert ember.as_tensor(range(3)).dtype is ember.int64
    assert ember.tensor(range(2**40, 2**40 + 2)).tolist() == [2**40, 2**40 + 1]


@pytest.mark.parametrize("value, dtype", [
    (np.float64(2.5), "float64"), (np.float32(2.5), "float32"), (np.float16(2.5), "float16"),
    (np.int64(3), "int64"), (np.int32(3), "int32"), (np.int16(3), "int16"),
    (np.int8(3), "int8"), (np.uint8(3), "uint8"), (np.bool_(True), "bool"),
])
def test_a_numpy_scalar_keeps_its_dtype(value, dtype):
    expected = getattr(ember, dtype)
    for made in (ember.tensor(value), ember.as_tensor(value), ember.tensor([value, value])):
        assert made.dtype is expected
    assert ember.tensor(value).shape == ember.Size([])
    assert ember.tensor(value, dtype=ember.float32).dtype is ember.float32


@pytest.mark.parametrize("data, dtype", [
    ([np.float64(1), 2.0], "float64"), ([2.0, np.float64(1)], "float64"),
    ([np.float32(1), np.float64(1)], "float64"), ([1, np.float64(1)], "float64"),
    ([np.int32(1), 2], "int64"), ([np.int32(1), 2.5], "float32"),
    ([np.float16(1), 2], "float16"), ([np.uint8(1), np.int8(1)], "int16"),
    ([np.uint8(1), True], "uint8"), ([[np.float64(1)], [2]], "float64"),
    ([np.array([1.0, 2.0]), np.array([3.0, 4.0])], "float64"), ([[], []], "float32"),
])
def test_mixed_literals_promote_as_torch(data, dtype):
    assert ember.tensor(data).dtype is getattr(ember, dtype)


def test_tensor_refuses_what_torch_refuses():
    with pytest.raises(TypeError, match="^new\\(\\): invalid data type 'str'$"):
        ember.tensor([1.0, "a"])
    with pytest.raises(RuntimeError, match="^Could not infer dtype of NoneType$"):
        ember.tensor([1, None])
    with pytest.raises(RuntimeError, match="^Could not infer dtype of dict$"):
        ember.tensor({1: 2})


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_keyword(name):
    f = getattr(ember, name)
    assert f(size=(2, 3)).shape == ember.Size([2, 3])
    assert f(size=[2]).shape == ember.Size([2]) and f(size=ember.Size([2])).shape == (2,)
    assert f(size=()).shape == ember.Size([])
    assert f(size=(np.int64(2), ember.tensor(3))).shape == (2, 3)
    assert f(size=(2,), dtype=ember.float64).dtype is ember.float64
    assert f(size=(2,), requires_grad=True).requires_grad
    for bad, kind in ((3, "int"), (None, "NoneType"), ((2.5,), "tuple"),
                      (ember.tensor([2, 3]), "Tensor")):
        with pytest.raises(TypeError, match=f"^{name}\\(\\): argument 'size' must be tuple of "
                                            f"ints, not {kind}$"):
            f(size=bad)
    if name in ("rand", "randn"):
        start = f"{name}() received an invalid combination of arguments - got "
        with pytest.raises(TypeError, match=re_start(start + "(int, size=tuple)")):
            f(2, size=(2, 3))
        with pytest.raises(TypeError, match=re_start(start + "()")):
            f()
        with pytest.raises(TypeError, match=f'^{name}\\(\\) missing 1 required positional '
                                            'arguments: "size"$'):
            f(dtype=ember.float64)
    else:
        with pytest.raises(TypeError, match=f"^{name}\\(\\) got multiple values for argument "
                                            "'size'$"):
            f(2, size=(2, 3))
        with pytest.raises(TypeError, match=f'^{name}\\(\\) missing 1 required positional '
                                            'arguments: "size"$'):
            f()


def test_seeded_size_keyword_draws_as_positional():
    g = ember.Generator().manual_seed(0)
    a = ember.rand(size=(3,), generator=g)
    b = ember.rand(3, generator=ember.Generator().manual_seed(0))
    assert a.tolist() == b.tolist()
    assert ember.full(size=(2,), fill_value=3).tolist() == [3, 3]
    assert ember.full(size=(2,), fill_value=1.5).dtype is ember.float32


def test_indexing_with_a_range():
    x = ember.arange(6).reshape(3, 2)
    assert x[range(2)].tolist() == [[0, 1], [2, 3]]
    assert x[range(0, 3, 2)].tolist() == [[0, 1], [4, 5]]
    assert x[range(2), 1].tolist() == [1, 3] and x[range(2), range(2)].tolist() == [0, 3]
    assert x[range(-2, 0)].tolist() == [[2, 3], [4, 5]]
    assert x[:, range(1, 2)].tolist() == [[1], [3], [5]]
    assert repr(x[range(0)]) == "tensor([], size=(0, 2), dtype=ember.int64)"
    with pytest.raises(IndexError, match="^index 3 is out of bounds for dimension 0 with size 3$"):
        x[range(4)]
    y = x.clone()
    y[range(2)] = 0
    assert y.tolist() == [[0, 0], [0, 0], [4, 5]]
    w = ember.arange(6.0).reshape(3, 2).requires_grad_()
    picked = w[range(0, 3, 2)]
    assert picked.grad_fn.name() == "IndexBackward0"
    picked.sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
