"""Checkpoints written by torch (committed fixtures and ../shared/weights) load as torch loads them.

fixtures/golden.json is what torch.load(weights_only=True) gave for each fixture
(tools/make_checkpoint_fixtures.py); these tests need no torch.
"""
import collections
import json
import pathlib

import numpy as np
import pytest

import ember
import ember_tensor
from ember.nn import Parameter
from ember.serialization import load

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
GOLDEN = json.loads((FIXTURES / "golden.json").read_text())
FILES = ["zip_state_dict.pth", "zip_mixed.pth", "legacy_mixed.pth"]


def check(obj, desc, where):
    if "tensor" in desc:
        assert isinstance(obj, ember.Tensor), where
        assert obj.dtype is getattr(ember, desc["tensor"]), where
        assert list(obj.shape) == desc["shape"], where
        assert list(obj.stride()) == desc["stride"], where
        assert obj.storage_offset() == desc["offset"], where
        assert isinstance(obj, Parameter) == desc["parameter"], where
        assert obj.requires_grad == desc["requires_grad"], where
        expected = np.array(desc["values"]).reshape(desc["shape"])
        np.testing.assert_array_equal(obj.detach()._data._np, expected, err_msg=where)
    elif "size" in desc:
        assert type(obj) is ember_tensor.Size and list(obj) == desc["size"], where
    elif "dtype" in desc:
        assert obj is getattr(ember, desc["dtype"]), where
    elif "dict" in desc:
        assert isinstance(obj, dict), where
        assert (type(obj) is collections.OrderedDict) == desc["ordered"], where
        assert list(obj) == [k for k, _ in desc["dict"]], where
        for key, sub in desc["dict"]:
            check(obj[key], sub, f"{where}[{key!r}]")
        if desc["metadata"] is not None:
            check(dict(obj._metadata), desc["metadata"], f"{where}._metadata")
    elif "list" in desc or "tuple" in desc:
        kind = "list" if "list" in desc else "tuple"
        assert type(obj).__name__ == kind and len(obj) == len(desc[kind]), where
        for i, sub in enumerate(desc[kind]):
            check(obj[i], sub, f"{where}[{i}]")
    elif "bytes" in desc:
        assert obj == bytes(desc["bytes"]), where
    elif "bigint" in desc:
        assert obj == int(desc["bigint"]), where
    else:
        assert obj == desc["value"] and type(obj) is type(desc["value"]), where


@pytest.mark.parametrize("name", FILES)
def test_torch_written_fixture_loads_like_torch(name):
    loaded = load(FIXTURES / name)
    check(loaded, GOLDEN[name], name)


@pytest.mark.parametrize("name", FILES)
def test_views_in_torch_files_share_memory(name):
    loaded = load(FIXTURES / name)
    for group in GOLDEN["shared"][name]:
        arrays = [loaded[k]._data._np for k in group]
        for other in arrays[1:]:
            assert np.shares_memory(arrays[0], other)


def test_legacy_fixture_declares_the_legacy_magic():
    head = (FIXTURES / "legacy_mixed.pth").read_bytes()[:4]
    assert head == b"\x80\x02\x8a\x0a"


# ---- ../shared/weights ------------------------------------------------------------------------
def test_shared_resnet18_layout_file(shared_dir):
    path = shared_dir / "weights" / "resnet18-imagenet-layout.pth"
    if not path.exists():
        pytest.skip("resnet18-imagenet-layout.pth is not present")
    sd = load(path)
    assert type(sd) is collections.OrderedDict and len(sd) == 102
    assert all(t.dtype is ember.float32 for t in sd.values())
    # weights and biases were saved as Parameters; running stats as plain tensors
    assert sum(t.numel() for t in sd.values() if isinstance(t, Parameter)) == 11689512
    assert not isinstance(sd["bn1.running_mean"], Parameter)
    assert tuple(sd["conv1.weight"].shape) == (64, 3, 7, 7)
    assert tuple(sd["fc.weight"].shape) == (1000, 512)
    assert not any(k.endswith("num_batches_tracked") for k in sd)
    var = sd["bn1.running_var"].detach()._data._np
    assert var.min() >= 0.5 and var.max() <= 1.5


def test_shared_resnet18_layout_file_loads_into_resnet18(shared_dir):
    path = shared_dir / "weights" / "resnet18-imagenet-layout.pth"
    if not path.exists():
        pytest.skip("resnet18-imagenet-layout.pth is not present")
    models = pytest.importorskip("ember_vision.models")
    model = models.resnet18()
    model.load_state_dict(load(path, map_location="cpu"), strict=True)
    np.testing.assert_array_equal(model.fc.bias.detach()._data._np,
                                  load(path)["fc.bias"].detach()._data._np)


def test_shared_legacy_file(shared_dir):
    path = shared_dir / "weights" / "legacy-format-small.pth"
    if not path.exists():
        pytest.skip("legacy-format-small.pth is not present")
    sd = load(path)
    assert list(sd) == ["conv.weight", "bn.running_mean", "bn.num_batches_tracked", "view"]
    np.testing.assert_array_equal(sd["conv.weight"]._data._np, [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(sd["bn.running_mean"]._data._np, [0, 0, 0])
    n = sd["bn.num_batches_tracked"]
    assert n.dtype is ember.int64 and n.dim() == 0 and n.item() == 0
    view = sd["view"]
    assert view.storage_offset() == 1 and view.stride() == (3,)
    np.testing.assert_array_equal(view._data._np, [1.0, 4.0])
    assert np.shares_memory(view._data._np, sd["conv.weight"]._data._np)
    assert sd._metadata["bn"] == {"version": 2}


def test_shared_tar_file(shared_dir):
    path = shared_dir / "weights" / "tar-format-small.pth"
    if not path.exists():
        pytest.skip("tar-format-small.pth is not present")
    sd = load(path)
    assert type(sd) is collections.OrderedDict and list(sd) == ["fc.weight", "fc.bias"]
    np.testing.assert_array_equal(sd["fc.weight"]._data._np, [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(sd["fc.bias"]._data._np, [4.0, 5.0])
    assert sd["fc.weight"].dtype is ember.float32
    assert np.shares_memory(sd["fc.weight"]._data._np, sd["fc.bias"]._data._np)
