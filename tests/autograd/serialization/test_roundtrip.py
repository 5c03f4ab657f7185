"""ember.save -> ember.load round trips: every object type and dtype, views, shared storages."""
import collections
import io
import os
import zipfile

import numpy as np
import pytest

import ember
import ember_tensor
from ember.nn import Parameter
from ember.serialization import load, save

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def T(values, dtype="float32"):
    return ember.Tensor._make(ember_tensor.Array(np.asarray(values, dtype=np.dtype(dtype))))


def roundtrip(obj, tmp_path, name="ckpt.pth"):
    path = tmp_path / name
    save(obj, path)
    return load(path)


def same_tensor(a, b):
    assert type(a) is type(b)
    assert a.dtype is b.dtype
    assert tuple(a.shape) == tuple(b.shape)
    assert a.stride() == b.stride()
    np.testing.assert_array_equal(a._data._np, b._data._np)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_roundtrips_exactly(tmp_path, dtype):
    values = (np.arange(-6, 6).reshape(3, 4) * 7).astype(dtype)
    out = roundtrip({"t": T(values, dtype)}, tmp_path)
    assert out["t"].dtype is getattr(ember, dtype)
    np.testing.assert_array_equal(out["t"]._data._np, values)


def test_float_specials_and_half_precision_bits_survive(tmp_path):
    values = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45, 65504.0], dtype=np.float32)
    half = np.array([np.nan, -0.0, 6.1e-5, 65504.0], dtype=np.float16)
    out = roundtrip([T(values), T(half, "float16")], tmp_path)
    assert out[0]._data._np.tobytes() == values.tobytes()
    assert out[1]._data._np.tobytes() == half.tobytes()


def test_zero_dim_and_empty_tensors(tmp_path):
    out = roundtrip({"s": T(3.5), "l": T(-7, "int64"), "e": T(np.zeros((0, 3)), "float32")},
                    tmp_path)
    assert out["s"].shape == ember.Size([]) and out["s"].item() == 3.5
    assert out["l"].dtype is ember.int64 and out["l"].item() == -7
    assert tuple(out["e"].shape) == (0, 3)


def test_views_share_one_storage_after_loading(tmp_path):
    base = T(np.arange(12, dtype=np.float32).reshape(3, 4))
    transposed = ember.Tensor._make(ember_tensor.Array(base._data._np.T))
    sliced = ember.Tensor._make(ember_tensor.Array(base._data._np[1:, ::2]))
    out = roundtrip({"base": base, "t": transposed, "s": sliced}, tmp_path)
    assert out["t"].stride() == (1, 4)
    assert out["s"].storage_offset() == 4 and out["s"].stride() == (4, 2)
    np.testing.assert_array_equal(out["s"]._data._np, [[4, 6], [8, 10]])
    # one storage on disk, one buffer in memory: writing through one view shows in the others
    out["base"]._data._np[1, 0] = 100.0
    assert out["t"]._data._np[0, 1] == 100.0 and out["s"]._data._np[0, 0] == 100.0
    with zipfile.ZipFile(tmp_path / "ckpt.pth") as zf:
        assert [n for n in zf.namelist() if "/data/" in n] == ["ckpt/data/0"]


def test_negative_stride_view_is_saved_as_a_compact_copy(tmp_path):
    flipped = ember_tensor.Array(np.arange(5, dtype=np.float32)[::-1])
    out = roundtrip({"f": ember.Tensor._make(flipped)}, tmp_path)
    np.testing.assert_array_equal(out["f"]._data._np, [4, 3, 2, 1, 0])
    assert out["f"].stride() == (1,)


def test_same_tensor_twice_loads_as_one_object(tmp_path):
    t = T([1.0, 2.0])
    out = roundtrip([t, t], tmp_path)
    assert out[0] is out[1]


def test_parameters_keep_type_and_requires_grad(tmp_path):
    p = Parameter(T([1.0, -2.0]))
    frozen = Parameter(T([4.0]), requires_grad=False)
    out = roundtrip({"p": p, "f": frozen}, tmp_path)
    assert isinstance(out["p"], Parameter) and out["p"].requires_grad
    assert isinstance(out["f"], Parameter) and not out["f"].requires_grad
    np.testing.assert_array_equal(out["p"].detach()._data._np, [1.0, -2.0])


def test_leaf_tensor_requires_grad_survives(tmp_path):
    t = T([1.0, 2.0]).requires_grad_(True)
    out = roundtrip(t, tmp_path)
    assert out.requires_grad and type(out) is ember.Tensor


def test_plain_objects_roundtrip(tmp_path):
    obj = {
        "none": None, "true": True, "false": False, "small": 5, "int2": 40000, "neg": -123456,
        "big": 2 ** 70, "huge": -(2 ** 3000), "float": 2.5, "str": "h\u00e9llo \u2603" * 100,
        "bytes": b"\x00\xffabc", "empty_bytes": b"", "tuple": (1, (2, 3), ()), "list": [1, [2]],
        "set": {1, 2, 3}, "frozenset": frozenset({"a"}), "complex": 1 + 2j,
        "size": ember.Size([2, 3]), "dtype": ember.float16, "long_list": list(range(2500)),
        "many_keys": {str(i): i for i in range(1200)},
    }
    out = roundtrip(obj, tmp_path)
    assert out == obj
    assert type(out["size"]) is ember_tensor.Size and out["dtype"] is ember.float16
    assert type(out["tuple"]) is tuple and type(out["set"]) is set


def test_state_dict_metadata_and_order_survive(tmp_path):
    sd = collections.OrderedDict([("b.weight", T([1.0])), ("a.bias", T([2.0]))])
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("b", {"version": 2})])
    out = roundtrip(sd, tmp_path)
    assert type(out) is collections.OrderedDict and list(out) == ["b.weight", "a.bias"]
    assert out._metadata == sd._metadata


def test_module_state_dict_roundtrip_into_a_fresh_module(tmp_path):
    nn = ember.nn
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    save(model.state_dict(), tmp_path / "m.pth")
    fresh = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    fresh.load_state_dict(load(tmp_path / "m.pth"))
    for (k, a), (k2, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(a._data._np, b._data._np)


def test_shared_references_and_cycles_in_lists(tmp_path):
    inner = [1, 2]
    outer = [inner, inner]
    outer.append(outer)
    out = roundtrip(outer, tmp_path)
    assert out[0] is out[1] and out[2] is out


def test_save_to_file_objects(tmp_path):
    buf = io.BytesIO()
    save({"x": T([1.0, 2.0])}, buf)
    buf.seek(0)
    assert zipfile.ZipFile(buf).namelist()[0] == "archive/data.pkl"
    buf.seek(0)
    np.testing.assert_array_equal(load(buf)["x"]._data._np, [1.0, 2.0])
    with open(tmp_path / "f.pth", "wb") as f:
        save([1, 2], f)
    assert load(str(tmp_path / "f.pth")) == [1, 2]


def test_archive_layout_matches_torch(tmp_path):
    save({"x": T(np.arange(3, dtype=np.float32))}, tmp_path / "model.pth")
    with zipfile.ZipFile(tmp_path / "model.pth") as zf:
        names = zf.namelist()
        assert names == ["model/data.pkl", "model/.format_version", "model/.storage_alignment",
                         "model/byteorder", "model/data/0", "model/version",
                         "model/.data/serialization_id"]
        assert zf.read("model/version") == b"3\n"
        assert zf.read("model/byteorder") == b"little"
        assert zf.read("model/data/0") == np.arange(3, dtype="<f4").tobytes()
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        raw = (tmp_path / "model.pth").read_bytes()
        for info in zf.infolist():  # every record's data starts on a 64-byte boundary
            name_len, extra_len = np.frombuffer(raw[info.header_offset + 26:info.header_offset + 30], "<u2")
            assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0
        assert zf.read("model/data.pkl")[:2] == b"\x80\x02"


def test_unsupported_objects_raise_type_error_naming_the_type(tmp_path):
    class Thing:
        pass

    with pytest.raises(TypeError, match=r"test_roundtrip.*Thing"):
        save({"a": Thing()}, tmp_path / "x.pth")
    with pytest.raises(TypeError, match="numpy.ndarray"):
        save(np.zeros(2), tmp_path / "x.pth")
    with pytest.raises(TypeError, match="function"):
        save([os.system], tmp_path / "x.pth")
    assert not any(tmp_path.iterdir())  # no file and no temporary left behind


def test_failed_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "keep.pth"
    save({"v": 1}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        save({"v": object()}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.pth"]


def test_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    from ember.serialization import zip_writer

    path = tmp_path / "keep.pth"
    save({"v": T([1.0])}, path)
    before = path.read_bytes()

    def boom(self, name, data):
        if "/data/" in name:
            raise KeyboardInterrupt
        return original(self, name, data)

    original = zip_writer.ZipWriter.add
    monkeypatch.setattr(zip_writer.ZipWriter, "add", boom)
    with pytest.raises(KeyboardInterrupt):
        save({"v": T([2.0])}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.pth"]


def test_save_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="protocol 2"):
        save({}, tmp_path / "x.pth", pickle_protocol=4)
    with pytest.raises(RuntimeError, match="does not exist"):  # torch's type
        save({}, tmp_path / "missing" / "x.pth")
    with pytest.raises(AttributeError, match="writable binary file"):
        save({}, 42)
    with pytest.raises(IsADirectoryError):
        save({}, tmp_path)


def test_mmap_load_shares_the_file_and_matches(tmp_path):
    path = tmp_path / "m.pth"
    values = np.arange(100, dtype=np.float64).reshape(10, 10)
    save({"a": T(values, "float64"), "b": T([1, 2], "int16")}, path)
    out = load(path, mmap=True)
    np.testing.assert_array_equal(out["a"]._data._np, values)
    out["a"]._data._np[0, 0] = -1.0  # copy-on-write: the file is not modified
    np.testing.assert_array_equal(load(path)["a"]._data._np, values)
    with pytest.raises(ValueError, match="file path"):
        load(io.BytesIO(path.read_bytes()), mmap=True)


def test_map_location_forms(tmp_path):
    path = tmp_path / "m.pth"
    save([T([1.0])], path)
    for loc in (None, "cpu", {"cpu": "cpu"}, lambda storage, loc: storage):
        assert load(path, map_location=loc)[0].item() == 1.0
    with pytest.raises(RuntimeError, match="CPU only"):
        load(path, map_location="cuda:0")
    with pytest.raises(RuntimeError, match="return the storage unchanged"):
        load(path, map_location=lambda storage, loc: None)
    with pytest.raises(TypeError, match="map_location"):
        load(path, map_location=3)


def test_weights_only_false_loads_plain_checkpoints_too(tmp_path):
    # weights_only=False (whole models, tests/autograd/test_dropin_whole_model.py) reads
    # checkpoint data as the default does
    save({"n": 3}, tmp_path / "x.pth")
    assert load(tmp_path / "x.pth", weights_only=False) == {"n": 3}
