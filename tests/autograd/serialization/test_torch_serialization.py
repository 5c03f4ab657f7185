"""Interop with live torch (the oracle): files written by one are read by the other."""
import collections

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
import ember_tensor  # noqa: E402
from ember.nn import Parameter  # noqa: E402
from ember.serialization import load, save  # noqa: E402

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def E(values, dtype="float32"):
    return ember.Tensor._make(ember_tensor.Array(np.asarray(values, dtype=dtype)))


def as_np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach()._data._np


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_reads_every_dtype_ember_writes(tmp_path, dtype):
    values = (np.arange(-6, 6).reshape(3, 4) * 5).astype(dtype)
    save({"t": E(values, dtype), "s": E(values[1, 2], dtype)}, tmp_path / "e.pth")
    out = torch.load(tmp_path / "e.pth", weights_only=True)
    assert out["t"].dtype == getattr(torch, dtype) and out["s"].dim() == 0
    np.testing.assert_array_equal(out["t"].numpy(), values)


def test_torch_sees_ember_views_as_views_of_one_storage(tmp_path):
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    obj = {"base": E(base), "t": ember.Tensor._make(ember_tensor.Array(base.T)),
           "s": ember.Tensor._make(ember_tensor.Array(base[1:, ::2]))}
    save(obj, tmp_path / "v.pth")
    out = torch.load(tmp_path / "v.pth", weights_only=True)
    assert out["t"].stride() == (1, 4) and out["s"].stride() == (4, 2)
    assert out["s"].storage_offset() == 4
    ptr = out["base"].untyped_storage().data_ptr()
    assert out["t"].untyped_storage().data_ptr() == ptr == out["s"].untyped_storage().data_ptr()
    np.testing.assert_array_equal(out["s"].numpy(), base[1:, ::2])


def test_torch_reads_parameters_metadata_and_plain_values(tmp_path):
    sd = collections.OrderedDict(w=Parameter(E([1.0, 2.0])), b=E([3.0]))
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    obj = {"sd": sd, "size": ember.Size([2, 3]), "dtype": ember.int8, "bytes": b"\x00\xff",
           "set": {1, 2}, "complex": 1 - 2j, "big": -(2 ** 90), "tuple": (1, "a", None, 2.5)}
    save(obj, tmp_path / "p.pth")
    out = torch.load(tmp_path / "p.pth", weights_only=True)
    assert isinstance(out["sd"]["w"], torch.nn.Parameter) and out["sd"]["w"].requires_grad
    assert type(out["sd"]["b"]) is torch.Tensor
    assert out["sd"]._metadata == {"": {"version": 1}}
    assert out["size"] == torch.Size([2, 3]) and out["dtype"] is torch.int8
    assert out["bytes"] == b"\x00\xff" and out["set"] == {1, 2} and out["complex"] == 1 - 2j
    assert out["big"] == -(2 ** 90) and out["tuple"] == (1, "a", None, 2.5)


def test_torch_module_loads_an_ember_state_dict(tmp_path):
    nn = ember.nn
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    save(model.state_dict(), tmp_path / "m.pth")
    ref = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                              torch.nn.Flatten(), torch.nn.Linear(4, 2))
    ref.load_state_dict(torch.load(tmp_path / "m.pth", weights_only=True))
    for (k, a), (k2, b) in zip(model.state_dict().items(), ref.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(as_np(a), b.numpy())


@pytest.mark.parametrize("zipfile_format", [True, False])
def test_ember_reads_fresh_torch_checkpoints(tmp_path, zipfile_format):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8),
                                torch.nn.Linear(8, 5))
    sd = model.state_dict()
    sd["half"] = torch.randn(4).half()
    sd["strided"] = sd["0.weight"][:, 1:, ::2]
    sd["expanded"] = torch.tensor([1.0, 2.0]).expand(3, 2)
    torch.save(sd, tmp_path / "t.pth", _use_new_zipfile_serialization=zipfile_format)
    out = load(tmp_path / "t.pth")
    assert list(out) == list(sd) and out._metadata == sd._metadata
    for key, ref in sd.items():
        got = out[key]
        assert got.stride() == ref.stride() and got.storage_offset() == ref.storage_offset(), key
        assert str(got.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1], key
        np.testing.assert_array_equal(as_np(got), ref.numpy(), err_msg=key)


def test_torch_saved_parameters_and_containers(tmp_path):
    obj = {"p": torch.nn.Parameter(torch.ones(2)), "f": torch.nn.Parameter(torch.ones(1), False),
           "list": [torch.arange(3), {"k": (torch.zeros(()), 5)}], "size": torch.Size([4]),
           "dtype": torch.float64, "dev": torch.device("cpu")}
    torch.save(obj, tmp_path / "o.pth")
    out = load(tmp_path / "o.pth")
    assert isinstance(out["p"], Parameter) and out["p"].requires_grad
    assert isinstance(out["f"], Parameter) and not out["f"].requires_grad
    np.testing.assert_array_equal(as_np(out["list"][0]), [0, 1, 2])
    assert out["list"][1]["k"][1] == 5 and out["list"][1]["k"][0].dim() == 0
    assert out["size"] == ember.Size([4]) and out["dtype"] is ember.float64
    assert str(out["dev"]) == "cpu"


def test_shared_resnet18_layout_file_matches_torch(shared_dir):
    path = shared_dir / "weights" / "resnet18-imagenet-layout.pth"
    if not path.exists():
        pytest.skip("resnet18-imagenet-layout.pth is not present")
    ours = load(path)
    ref = torch.load(path, weights_only=True)
    assert list(ours) == list(ref)
    for key in ref:
        np.testing.assert_array_equal(as_np(ours[key]), as_np(ref[key]), err_msg=key)


def test_shared_legacy_file_matches_torch(shared_dir):
    path = shared_dir / "weights" / "legacy-format-small.pth"
    if not path.exists():
        pytest.skip("legacy-format-small.pth is not present")
    ours, ref = load(path), torch.load(path, weights_only=True)
    for key in ref:
        np.testing.assert_array_equal(as_np(ours[key]), as_np(ref[key]), err_msg=key)
        assert ours[key].stride() == ref[key].stride()


def test_both_refuse_the_same_malicious_file(tmp_path):
    import os
    import pickle

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {tmp_path / 'pwned'}",)

    torch.save({"x": Evil()}, tmp_path / "evil.pth")
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(tmp_path / "evil.pth", weights_only=True)
    with pytest.raises(pickle.UnpicklingError) as ours:
        load(tmp_path / "evil.pth")
    assert "posix.system" in str(theirs.value) and "posix.system" in str(ours.value)
    assert not (tmp_path / "pwned").exists()
