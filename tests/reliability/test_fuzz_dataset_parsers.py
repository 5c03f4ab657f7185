"""Hostile and fuzzed data set files: every parser either reads them or raises DatasetFileError.

The contract (ember_vision/datasets/_file_errors.py): the IDX reader (MNIST), the data-only
pickle reader (CIFAR), the MAT 5 reader (SVHN) and STL-10's binary reader answer a damaged,
truncated, oversized or malicious file with ``DatasetFileError`` (a ``ValueError``), never
another exception, a crash, a hang or an allocation larger than the file justifies; a pickle
that would run code (``__reduce__`` -> ``os.system``) is refused before anything is called.
Hypothesis mutates real-format seeds; examples stay few so the file runs in a few seconds
(EMBER_FUZZ_EXAMPLES raises the count for heavier runs).
"""
import gzip
import importlib.util
import os
import pathlib
import pickle
import struct
import time
import zlib

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ember_vision.datasets import DatasetFileError  # noqa: E402
from ember_vision.datasets._idx import read_idx  # noqa: E402
from ember_vision.datasets._matlab import load_mat_variables  # noqa: E402
from ember_vision.datasets._safe_pickle import load_data_pickle  # noqa: E402
from ember_vision.datasets.stl10 import _read_images, _read_labels  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("make_dataset_files",
                                               ROOT / "tools" / "make_dataset_files.py")
files = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(files)

EXAMPLES = int(os.environ.get("EMBER_FUZZ_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 60)
MARKER = pathlib.Path("/tmp/ember-dataset-pickle-pwned")


# -- seeds in the real formats ------------------------------------------------------------

def _cifar_entry(n=2):
    rng = np.random.default_rng(3)
    return {"batch_label": "training batch 1 of 5", "labels": [3, 8][:n],
            "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            "filenames": ["a_s_000.png", "b_s_001.png"][:n]}


SEEDS = {
    "idx_images": files.idx_bytes(np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)),
    "idx_labels": files.idx_bytes(np.array([1, 7, 3], np.uint8)),
    "idx_gz": gzip.compress(files.idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4)),
                            mtime=0),
    "pickle_py2": files.py2_pickle(_cifar_entry()),
    "pickle_py3": pickle.dumps(_cifar_entry(), protocol=2),
    "mat": files.mat5_bytes({"X": np.ones((2, 2, 3, 1), np.uint8), "y": np.ones((1, 1))}),
    "mat_zlib": files.mat5_bytes({"X": np.ones((2, 2, 3, 1), np.uint8),
                                  "y": np.ones((1, 1))}, compress=True),
}


def _parse(kind, data, tmp):
    """Run the parser for ``kind`` on ``data``; returns what it read."""
    if kind.startswith("pickle"):
        return load_data_pickle(data, kind)
    path = tmp / {"mat": "f.mat", "mat_zlib": "f.mat", "idx_gz": "f.idx.gz"}.get(kind, "f.idx")
    path.write_bytes(data)
    if kind.startswith("mat"):
        return load_mat_variables(path, ("X", "y"))
    return read_idx(path)


def _contract(kind, data, tmp):
    start = time.perf_counter()
    try:
        _parse(kind, data, tmp)
    except DatasetFileError:
        pass
    assert time.perf_counter() - start < 2.0, f"{kind}: parsing took too long"


def test_seeds_parse():
    tmp = pathlib.Path(os.environ.get("TMPDIR", "/tmp"))
    for kind, data in SEEDS.items():
        got = _parse(kind, data, tmp)
        if kind.startswith("pickle"):
            np.testing.assert_array_equal(got["data"], _cifar_entry()["data"])
            assert got["labels"] == [3, 8]


# -- fuzzing ------------------------------------------------------------------------------

@st.composite
def _mutated(draw):
    kind = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[kind])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "dup"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]))
        elif op == "cut":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 32))]
    return kind, bytes(data)


@SETTINGS
@given(_mutated())
def test_mutated_files_read_or_fail_cleanly(tmp_path_factory, case):
    kind, data = case
    _contract(kind, data, tmp_path_factory.getbasetemp())


@SETTINGS
@given(st.sampled_from(sorted(SEEDS)), st.binary(max_size=200))
def test_random_bytes_fail_cleanly(tmp_path_factory, kind, data):
    _contract(kind, data, tmp_path_factory.getbasetemp())


def test_every_truncation_of_every_seed_fails_cleanly(tmp_path):
    for kind, data in SEEDS.items():
        for cut in range(0, len(data) - 1, max(1, len(data) // 47)):
            with pytest.raises(DatasetFileError):
                _parse(kind, data[:cut], tmp_path)


# -- malicious pickles --------------------------------------------------------------------

class _RunsShell:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


class _Evals:
    def __reduce__(self):
        return (eval, (f"open({str(MARKER)!r}, 'w')",))


@pytest.mark.parametrize("payload", [
    _RunsShell(), {"data": _RunsShell()}, {"labels": [1, _Evals()]},
    {"data": np.array([_RunsShell()], dtype=object)},
])
@pytest.mark.parametrize("protocol", [2, 4])
def test_code_in_a_pickle_never_runs(payload, protocol):
    MARKER.unlink(missing_ok=True)
    data = pickle.dumps(payload, protocol=protocol)
    with pytest.raises(DatasetFileError, match="refusing to read"):
        load_data_pickle(data, "data_batch_1")
    assert not MARKER.exists()


def test_positive_control_plain_pickle_would_run_the_payload():
    """The payload above is real: Python's pickle runs it (so the refusal is what saves us)."""
    MARKER.unlink(missing_ok=True)
    pickle.loads(pickle.dumps({"data": _RunsShell()}, protocol=2))
    assert MARKER.exists()
    MARKER.unlink()


def test_the_refusal_names_the_callable():
    with pytest.raises(DatasetFileError, match=r"posix.system|os.system"):
        load_data_pickle(pickle.dumps({"x": _RunsShell()}, protocol=2))


def test_other_protocols_and_object_arrays_are_refused():
    with pytest.raises(DatasetFileError, match="protocol 5"):
        load_data_pickle(pickle.dumps({"a": 1}, protocol=5))
    with pytest.raises(DatasetFileError, match="opcode"):
        load_data_pickle(pickle.dumps({"a": 1}, protocol=0))
    with pytest.raises(DatasetFileError, match="not a plain number type"):
        load_data_pickle(pickle.dumps({"a": np.array([1, "x"], dtype=object)}, protocol=2))
    with pytest.raises(DatasetFileError, match="not the dict"):
        load_data_pickle(pickle.dumps([1, 2], protocol=2))


# -- oversized claims: refused before allocating ------------------------------------------

def test_size_claims_beyond_the_file_are_refused_at_once(tmp_path):
    # IDX: 2^32-1 images of 2^32-1 x 2^32-1 in a 16-byte file
    (tmp_path / "big.idx").write_bytes(bytes([0, 0, 8, 3]) + b"\xff" * 12)
    with pytest.raises(DatasetFileError, match="more than the"):
        read_idx(tmp_path / "big.idx")
    # IDX in gzip: a plausible 1 GB claim, 20 real bytes: fails when the data runs out
    head = bytes([0, 0, 8, 1]) + struct.pack(">I", 1 << 30)
    (tmp_path / "big.idx.gz").write_bytes(gzip.compress(head + b"\0" * 20))
    with pytest.raises(DatasetFileError, match="truncated"):
        read_idx(tmp_path / "big.idx.gz")
    # pickle: a BINSTRING announcing 2 GB
    with pytest.raises(DatasetFileError, match="truncated"):
        load_data_pickle(b"\x80\x02}T\xff\xff\xff\x7f" + b"x" * 10)
    # pickle: an array whose shape claims far more than its data
    entry = _cifar_entry()
    good = pickle.dumps(entry, protocol=2)
    bad = good.replace(b"K\x02M\x00\x0c\x86", b"J\xff\xff\xff\x7fM\x00\x0c\x86", 1)
    assert bad != good
    with pytest.raises(DatasetFileError, match="needs"):
        load_data_pickle(bad)
    # MAT: a compressed element claiming 4 GB from a few bytes of zlib
    body = struct.pack("<II", 14, 0xFFFFFFF0) + b"\0" * 64
    packed = zlib.compress(body)
    mat = files.mat5_bytes({})[:128] + struct.pack("<II", 15, len(packed)) + packed
    (tmp_path / "bomb.mat").write_bytes(mat)
    with pytest.raises(DatasetFileError, match="more than zlib can encode"):
        load_mat_variables(tmp_path / "bomb.mat", ("X",))


def test_mat_refuses_other_kinds_of_variables(tmp_path):
    (tmp_path / "v73.mat").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 200)
    with pytest.raises(DatasetFileError, match="7.3"):
        load_mat_variables(tmp_path / "v73.mat", ("X",))
    data = bytearray(files.mat5_bytes({"X": np.ones((2, 2), np.float64)}))
    data[128 + 8 + 8] = 4  # array flags class -> mxCHAR
    (tmp_path / "char.mat").write_bytes(bytes(data))
    with pytest.raises(DatasetFileError, match="char array"):
        load_mat_variables(tmp_path / "char.mat", ("X",))
    (tmp_path / "none.mat").write_bytes(files.mat5_bytes({"Z": np.ones((1, 1))}))
    with pytest.raises(DatasetFileError, match="no numeric variable named 'X'"):
        load_mat_variables(tmp_path / "none.mat", ("X",))


def test_stl10_binaries_are_size_checked(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"\0" * (3 * 96 * 96 + 5))
    with pytest.raises(DatasetFileError, match="whole number"):
        _read_images(str(tmp_path / "x.bin"))
    (tmp_path / "y.bin").write_bytes(bytes([1, 2, 11]))
    with pytest.raises(DatasetFileError, match="outside 1..10"):
        _read_labels(str(tmp_path / "y.bin"), 3)
    with pytest.raises(DatasetFileError, match="3 labels for 4 images"):
        _read_labels(str(tmp_path / "y.bin"), 4)


def test_wrong_magic_is_named(tmp_path):
    (tmp_path / "png.idx").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(DatasetFileError, match="not an IDX file: magic number 89504e47"):
        read_idx(tmp_path / "png.idx")
    (tmp_path / "trail.idx").write_bytes(SEEDS["idx_labels"] + b"\0")
    with pytest.raises(DatasetFileError, match="bytes after"):
        read_idx(tmp_path / "trail.idx")
    (tmp_path / "text.mat").write_bytes(b"MATLAB 4 text " * 20)
    with pytest.raises(DatasetFileError, match="not a MATLAB 5 .mat file"):
        load_mat_variables(tmp_path / "text.mat", ("X",))
    with pytest.raises(DatasetFileError, match="opcode"):
        load_data_pickle(b"PK\x03\x04 a zip, not a pickle")


def test_deep_nesting_is_no_recursion_error():
    nested = b"K\x01" + b"\x85" * 20000  # a tuple nested 20,000 deep (repr fails past ~1,000)
    for data in (b"\x80\x02" + nested + b".",  # as the whole pickle
                 b"\x80\x02cnumpy\ndtype\n" + nested + b"\x85R."):  # as numpy.dtype's arg
        with pytest.raises(DatasetFileError):
            load_data_pickle(data)
    as_shape = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b"
                b"\x87R(K\x01" + nested + b"cnumpy\ndtype\nU\x02u1K\x00K\x01"
                b"\x87R\x89U\x01xtb.")
    with pytest.raises(DatasetFileError, match="shape is not a tuple of sizes: a tuple"):
        load_data_pickle(as_shape)
