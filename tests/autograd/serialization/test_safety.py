"""ember.load refuses malicious, forged, truncated and corrupt files with clear errors.

Malicious pickles are *written* here with Python's pickle (writing is harmless); only Ember's
restricted interpreter ever reads them, and a marker file proves no payload ran.
"""
import io
import os
import pickle
import struct
import tarfile
import zipfile

import numpy as np
import pytest

import ember
import ember_tensor
from ember.serialization import CheckpointError, TruncatedCheckpointError, load, save
from ember.serialization.zip_writer import ZipWriter


def T(values, dtype="float32"):
    return ember.Tensor._make(ember_tensor.Array(np.asarray(values, dtype=dtype)))


def make_zip(pkl, records=None, prefix="archive", extra_names=()):
    buf = io.BytesIO()
    zw = ZipWriter(buf)
    zw.add(f"{prefix}/data.pkl", pkl)
    for key, data in (records or {}).items():
        zw.add(f"{prefix}/data/{key}", data)
    for name in extra_names:
        zw.add(name, b"x")
    zw.add(f"{prefix}/version", b"3\n")
    zw.close()
    buf.seek(0)
    return buf


def op(value):
    """Pickle opcodes pushing ``value`` (no PROTO/STOP)."""
    return pickle.dumps(value, 2)[2:-1]


def tensor_pickle(numel, offset, size, stride, storage=b"FloatStorage", key="0"):
    pid = (b"(" + op("storage") + b"ctorch\n" + storage + b"\n" + op(key) + op("cpu")
           + op(numel) + b"tQ")
    return (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(" + pid + op(offset) + op(tuple(size))
            + op(tuple(stride)) + b"\x89Nt" + b"R.")


class Payload:
    """Pickles as a call to ``func(*args)``: what an attacker would put in a checkpoint."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


# ---- code-execution attempts ----------------------------------------------------------------
@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_os_system_payload_is_refused_and_never_runs(tmp_path, protocol):
    marker = tmp_path / "pwned"
    payload = {"w": Payload(os.system, f"touch {marker}")}
    with pytest.raises(pickle.UnpicklingError, match=r"posix\.system|os\.system|nt\.system") as info:
        load(make_zip(pickle.dumps(payload, protocol)))
    assert "Weights only load failed" in str(info.value)
    assert not marker.exists()


def test_eval_and_exec_and_subprocess_are_refused(tmp_path):
    import subprocess

    marker = tmp_path / "pwned"
    cases = [
        (Payload(eval, f"open({str(marker)!r}, 'w')"), "builtins.eval"),
        (Payload(exec, f"open({str(marker)!r}, 'w')"), "builtins.exec"),
        (Payload(subprocess.call, ["touch", str(marker)]), "subprocess.call"),
        (Payload(getattr, 1, "real"), "builtins.getattr"),
        (Payload(__import__, "os"), "builtins.__import__"),
    ]
    for payload, name in cases:
        with pytest.raises(pickle.UnpicklingError, match=name.replace(".", r"\.")):
            load(make_zip(pickle.dumps([payload], 2)))
    assert not marker.exists()


def test_payload_hidden_in_legacy_and_tar_files_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps({"a": Payload(os.system, f"touch {marker}")}, 2)
    legacy = (pickle.dumps(0x1950A86A20F9469CFC6C, 2) + pickle.dumps(1001, 2)
              + pickle.dumps({"protocol_version": 1001, "little_endian": True}, 2) + evil
              + pickle.dumps([], 2))
    with pytest.raises(pickle.UnpicklingError, match="system"):
        load(io.BytesIO(legacy))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in [("sys_info", pickle.dumps({"little_endian": True}, 2)),
                           ("storages", pickle.dumps(0, 2) + pickle.dumps([], 2)),
                           ("tensors", pickle.dumps(0, 2)), ("pickle", evil)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="system"):
        load(buf)
    assert not marker.exists()


def test_opcodes_that_build_arbitrary_objects_are_refused():
    cases = {
        b"(S'x'\nios\nsystem\n.": "Unsupported pickle opcode",                # INST
        b"\x80\x04\x8c\x02os\x8c\x06system\x93.": "os.system",                # STACK_GLOBAL
        b"\x80\x02K\x01K\x02R.": "unrecognized function",                     # REDUCE on an int
        b"\x80\x02]K\x01b.": "Can only build",                                # BUILD on a list
        b"\x80\x02]K\x01K\x02s.": "Can only SETITEM",                          # SETITEM on a list
        b"\x80\x02}K\x01a.": "Can only append",                               # APPEND on a dict
        b"\x80\x02X\x06\x00\x00\x00moduleK\x01\x86Q.": "Only persistent_load of storage",
        b"\x80\x02X\x01\x00\x00\x000Q.": "persistent_load id must be",
        b"\x80\x02\x82\x01.": "Unsupported pickle opcode",                    # EXT1
        b"\x80\x02ccollections\nOrderedDict\n)R}X\x09\x00\x00\x00__class__K\x01sb.": "attribute",
    }
    for data, message in cases.items():
        with pytest.raises(pickle.UnpicklingError, match=message):
            load(make_zip(data))


def test_storage_type_tokens_cannot_be_called():
    with pytest.raises(pickle.UnpicklingError, match="unrecognized function"):
        load(make_zip(b"\x80\x02ctorch\nFloatStorage\nK\x03\x85R."))


def test_unsupported_dtypes_name_the_dtype():
    with pytest.raises(CheckpointError, match="bfloat16"):
        load(make_zip(tensor_pickle(2, 0, (2,), (1,), storage=b"BFloat16Storage"), {"0": b"\0" * 4}))


# ---- forged sizes: must fail before allocating ------------------------------------------------
def test_forged_storage_numel_fails_before_allocating():
    huge = 1 << 40  # 4 TiB of float32 if it were believed
    with pytest.raises(CheckpointError, match="declares 1099511627776 elements"):
        load(make_zip(tensor_pickle(huge, 0, (huge,), (1,)), {"0": b"\0" * 8}))


@pytest.mark.parametrize("offset,size,stride,message", [
    (0, (3,), (1,), "needs 3 elements but its storage holds 2"),
    (2, (1,), (1,), "needs 3 elements"),
    (0, (2, 2), (1, 1), "needs 3 elements"),
    (0, (1 << 20, 1 << 20), (0, 0), None),  # stride 0 views may be huge: torch allows expand
    (0, (1 << 40, 1 << 40), (0, 0), "too big"),
    (-1, (1,), (1,), "negative"),
    (0, (-2,), (1,), "negative"),
    (0, (2,), (-1,), "negative"),
    (0, (2,), (1, 1), "different lengths"),
    (5, (0,), (1,), "past the end"),
])
def test_views_outside_their_storage_are_refused(offset, size, stride, message):
    data = make_zip(tensor_pickle(2, offset, size, stride), {"0": np.zeros(2, "<f4").tobytes()})
    if message is None:
        t = load(data)
        assert tuple(t.shape) == size and t.stride() == (0, 0)
        return
    with pytest.raises(CheckpointError, match=message):
        load(data)


def test_legacy_forged_numel_fails_before_allocating():
    pid_pickle = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((" + op("storage")
                  + b"ctorch\nFloatStorage\n" + op("k") + op("cpu") + op(1 << 40) + b"NtQ"
                  + op(0) + op((1,)) + op((1,)) + b"\x89Nt" + b"R.")
    legacy = (pickle.dumps(0x1950A86A20F9469CFC6C, 2) + pickle.dumps(1001, 2)
              + pickle.dumps({"little_endian": True}, 2) + pid_pickle + pickle.dumps(["k"], 2)
              + struct.pack("<q", 1 << 40) + b"\0" * 16)
    with pytest.raises(TruncatedCheckpointError, match="declare more data"):
        load(io.BytesIO(legacy))


def test_huge_string_length_fails_without_allocating():
    with pytest.raises(TruncatedCheckpointError, match="truncated"):
        load(make_zip(b"\x80\x02\x8d" + struct.pack("<Q", 1 << 60) + b"abc."))


# ---- archive structure -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["archive/../evil", "other/data/0", "/abs/path", "archive//x",
                                  "archive\\..\\x"])
def test_entries_outside_the_archive_folder_are_refused(name):
    with pytest.raises(CheckpointError, match="outside the archive folder"):
        load(make_zip(op(1).join([b"\x80\x02", b"."]), extra_names=[name]))


def test_duplicate_entries_are_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02K\x01.")
        zf.writestr("archive/version", b"3\n")
        with pytest.warns(UserWarning):
            zf.writestr("archive/data.pkl", b"\x80\x02K\x02.")
    buf.seek(0)
    with pytest.raises(CheckpointError, match="duplicate entry"):
        load(buf)


def test_missing_records_are_reported():
    with pytest.raises(CheckpointError, match="storage record data/0 is missing"):
        load(make_zip(tensor_pickle(2, 0, (2,), (1,))))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02K\x01.")
    buf.seek(0)
    with pytest.raises(CheckpointError, match="no version record"):
        load(buf)


# ---- truncation and corruption ------------------------------------------------------------------
def _checkpoint_bytes(tmp_path):
    sd = {"w": T(np.arange(64, dtype=np.float32).reshape(8, 8)), "b": T(np.ones(8)),
          "n": T(3, "int64")}
    save(sd, tmp_path / "c.pth")
    return (tmp_path / "c.pth").read_bytes()


def test_every_truncation_of_a_zip_checkpoint_fails_cleanly(tmp_path):
    data = _checkpoint_bytes(tmp_path)
    for cut in list(range(0, len(data), max(1, len(data) // 60))) + [len(data) - 1]:
        with pytest.raises(RuntimeError) as info:
            load(io.BytesIO(data[:cut]))
        assert "truncated" in str(info.value) or "not a valid checkpoint" in str(info.value)


def test_every_truncation_of_a_legacy_checkpoint_fails_cleanly():
    data = (pathlib_fixture("legacy_mixed.pth")).read_bytes()
    for cut in range(0, len(data), 7):
        with pytest.raises((RuntimeError, pickle.UnpicklingError)):
            load(io.BytesIO(data[:cut]))


def pathlib_fixture(name):
    import pathlib
    return pathlib.Path(__file__).parent / "fixtures" / name


def test_every_truncation_of_a_tar_checkpoint_fails_cleanly(shared_dir):
    path = shared_dir / "weights" / "tar-format-small.pth"
    if not path.exists():
        pytest.skip("tar-format-small.pth is not present")
    data = path.read_bytes()
    for cut in range(263, len(data), 97):  # a tar shorter than its header is not a tar at all
        try:
            result = load(io.BytesIO(data[:cut]))
        except (RuntimeError, pickle.UnpicklingError):
            continue
        # tar pads members to 512-byte blocks: a cut inside the final padding loses nothing
        assert list(result) == ["fc.weight", "fc.bias"] and cut >= 2048


def test_empty_file_is_an_eof_and_a_runtime_error(tmp_path):
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(RuntimeError, match="empty"):
        load(tmp_path / "empty.pth")
    with pytest.raises(EOFError):
        load(tmp_path / "empty.pth")


def test_flipped_storage_byte_fails_the_crc(tmp_path):
    data = bytearray(_checkpoint_bytes(tmp_path))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("c/data/0")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    data[start + 5] ^= 0xFF
    with pytest.raises(CheckpointError, match="CRC"):
        load(io.BytesIO(bytes(data)))


def test_garbage_is_not_a_valid_checkpoint():
    with pytest.raises(CheckpointError, match="not a valid checkpoint"):
        load(io.BytesIO(b"hello world, not a checkpoint"))
    with pytest.raises(CheckpointError, match="not a valid checkpoint"):
        load(io.BytesIO(b"PK\x03\x04" + b"\0" * 100))


def test_load_argument_errors(tmp_path):
    with pytest.raises(TypeError, match="io.BytesIO"):
        load(bytearray(b"PK\x03\x04"))
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.pth")
    with pytest.raises(TypeError, match="unexpected keyword"):
        load(io.BytesIO(b""), bogus=1)
