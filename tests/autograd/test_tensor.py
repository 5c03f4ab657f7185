"""ember.Tensor's own API: construction, metadata, conversions, pickling, views' versions."""
import pickle

import numpy as np
import pytest

import ember as torch


def test_type_and_module():
    assert torch.Tensor.__module__ == "ember"
    assert str(type(torch.ones(1))) == "<class 'ember.Tensor'>"


def test_legacy_constructor():
    assert torch.Tensor([1, 2]).dtype is torch.float32
    assert torch.Tensor(2, 3).shape == (2, 3)
    assert torch.Tensor().shape == (0,)


def test_make_wraps_without_copy():
    import ember_tensor as et

    a = et.zeros(3)
    t = torch.Tensor._make(a)
    assert t._data is a and not t.requires_grad and t.is_leaf


def test_metadata():
    t = torch.zeros(2, 3)
    assert t.shape == torch.Size([2, 3]) and t.size(1) == 3 and t.dim() == 2 and t.ndim == 2
    assert t.numel() == 6 and t.stride() == (3, 1) and t.is_contiguous()
    assert not t.t().is_contiguous() and t.element_size() == 4
    assert str(t.device) == "cpu" and t.storage_offset() == 0
    assert t[1].storage_offset() == 3


def test_conversions():
    t = torch.tensor([[1.5, 2.0]])
    assert t.tolist() == [[1.5, 2.0]] and t[0, 0].item() == 1.5
    assert float(t[0, 0]) == 1.5 and int(torch.tensor(3)) == 3
    with pytest.raises(ValueError, match="only one element tensors"):
        float(t)
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value"):
        bool(t)
    assert np.asarray(t).shape == (1, 2)
    assert f"{torch.tensor(2.5):.2f}" == "2.50"
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        torch.ones(2, requires_grad=True).numpy()
    assert len(t) == 1 and [x.shape for x in torch.zeros(3, 2)] == [(2,)] * 3


def test_numpy_shares_memory():
    n = np.zeros(3, dtype=np.float32)
    t = torch.from_numpy(n)
    t.add_(1)
    assert n.tolist() == [1.0, 1.0, 1.0] and t.numpy() is n


def test_hash_is_identity_and_eq_is_elementwise():
    a, b = torch.ones(2), torch.ones(2)
    assert len({a, b}) == 2
    assert (a == b).tolist() == [True, True]


def test_pickle_roundtrip():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    u = pickle.loads(pickle.dumps(t))
    assert u.tolist() == [1.0, 2.0] and u.requires_grad and u.is_leaf


def test_detach_and_data_share_memory_and_version():
    a = torch.ones(2, requires_grad=True)
    d = a.detach()
    d.add_(1)
    assert a.tolist() == [2.0, 2.0] and a._version == 1
    a.data.mul_(2)
    assert a.tolist() == [4.0, 4.0]
    a.data = torch.zeros(2)
    assert a.tolist() == [0.0, 0.0] and a.requires_grad


def test_requires_grad_toggle_and_repr():
    t = torch.zeros(2).requires_grad_()
    assert repr(t) == "tensor([0., 0.], requires_grad=True)"
    assert repr(t.detach()) == "tensor([0., 0.])"
    assert repr(t.sum()) == "tensor(0., grad_fn=<SumBackward0>)"


def test_views_share_version_counter():
    a = torch.zeros(2, 3)
    views = [a.view(6), a.t(), a[0], a.unsqueeze(0), a.expand(2, 2, 3), a.transpose(0, 1)]
    a.add_(1)
    assert all(v._version == 1 for v in views)
    assert a.clone()._version == 0


def test_factories_kwargs():
    assert torch.zeros(2, dtype=torch.float64).dtype is torch.float64
    assert torch.ones(2, requires_grad=True).requires_grad
    assert torch.randn(2, 2, requires_grad=True).requires_grad
    assert torch.arange(5).dtype is torch.int64
    assert torch.tensor(3.0).shape == ()
    assert torch.full((2,), 7).dtype is torch.int64
    assert torch.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert torch.zeros_like(torch.ones(2, 3)).shape == (2, 3)
    assert torch.rand_like(torch.ones(3)).shape == (3,)
    torch.manual_seed(0)
    x = torch.rand(3)
    torch.manual_seed(0)
    assert torch.equal(x, torch.rand(3))


def test_top_level_functions_exist():
    for name in ("add", "sub", "mul", "div", "pow", "exp", "log", "sqrt", "rsqrt", "abs",
                 "sign", "sin", "cos", "tanh", "sigmoid", "relu", "clamp", "maximum", "minimum",
                 "where", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_not",
                 "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var",
                 "std", "all", "any", "logsumexp", "norm", "cumsum", "matmul", "mm", "bmm",
                 "addmm", "cat", "stack", "split", "chunk", "flatten", "reshape", "squeeze",
                 "unsqueeze", "transpose", "permute", "t", "allclose", "isclose", "equal",
                 "clone", "numel", "is_tensor", "no_grad", "enable_grad", "set_grad_enabled",
                 "inference_mode", "is_grad_enabled", "promote_types", "result_type",
                 "get_default_dtype", "set_default_dtype", "Generator", "default_generator",
                 "get_num_threads", "set_num_threads", "set_printoptions", "autograd"):
        assert hasattr(torch, name), name
    assert torch.result_type(torch.ones(2, dtype=torch.int64), 1.5) is torch.float32
    assert torch.numel(torch.ones(2, 3)) == 6


def test_max_with_dim_returns_values_and_indices():
    m = torch.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1)
    assert m.values.tolist() == [5.0, 7.0] and m.indices.tolist() == [1, 0]
    v, i = m
    assert i.dtype is torch.int64


def test_bad_inputs_raise_torch_errors():
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        torch.ones(2, 3).mm(torch.ones(2, 3))
    with pytest.raises(IndexError, match="Dimension out of range"):
        torch.ones(2).sum(3)
    with pytest.raises(RuntimeError, match="is invalid for input of size"):
        torch.ones(6).view(4)
    with pytest.raises(IndexError):
        torch.ones(2)[5]
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        torch.ones(2, dtype=torch.int64).add_(1.5)
