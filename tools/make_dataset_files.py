"""Write small data set files in the real on-disk formats, for tests that must not download.

    python tools/make_dataset_files.py OUT_DIR      # one tree with every format in it

Writers (importable; tests load this file by path):
- ``write_idx(path, array)``: IDX (MNIST) with the big-endian header; ``.gz`` names gzip.
- ``write_mnist_tree(root, cls, n_train, n_test, seed)``: ``root/<cls>/raw/`` as torchvision.
- ``py2_pickle(obj)``: a protocol-2 pickle spelled as Python 2's cPickle wrote CIFAR's
  batches (SHORT_BINSTRING/BINSTRING strs, ``numpy.core.multiarray._reconstruct``, the raw
  array bytes as a BINSTRING), for dicts of str/int/list/uint8 arrays.
- ``write_cifar_tree(root, which, n_per_batch, seed, writer)``: ``cifar-10-batches-py`` or
  ``cifar-100-python`` with every file; ``writer`` is ``py2_pickle`` or Python 3's
  ``pickle.dumps(protocol=2)``.
- ``mat5_bytes(variables, compress)``: a MATLAB 5 .mat file (numeric arrays, optionally
  zlib-compressed elements), ``write_svhn(root, split, n, seed, compress)``.
- ``write_stl10_tree(root, n_train, n_test, n_unlabeled, seed)``.
Each tree writer returns ``{file name: md5}``; ``with_md5s(cls, md5s)`` makes a subclass
of a data set class (Ember's or torchvision's) whose checksum tables name those files.
"""
import gzip
import hashlib
import os
import pickle
import struct
import sys
import zlib

import numpy as np

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                 "ship", "truck"]


def _md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def with_md5s(cls, md5s):
    """``cls`` with ``train_list``/``test_list``/``meta``/``split_list`` MD5s from ``md5s``."""
    attrs = {}
    for table in ("train_list", "test_list"):
        if hasattr(cls, table):
            attrs[table] = [[name, md5s[name]] for name, _ in getattr(cls, table)]
    if hasattr(cls, "meta"):
        attrs["meta"] = dict(cls.meta, md5=md5s[cls.meta["filename"]])
    if hasattr(cls, "split_list"):
        attrs["split_list"] = {k: [v[0], v[1], md5s.get(v[1], v[2])]
                               for k, v in cls.split_list.items()}
    return type(cls.__name__, (cls,), attrs)


# -- IDX -----------------------------------------------------------------------------------

_IDX_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def idx_bytes(array):
    array = np.asarray(array)
    code = _IDX_CODES[array.dtype.str[1:]]
    head = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array):
    data = idx_bytes(array)
    if str(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as f:
        f.write(data)


def write_mnist_tree(root, cls="MNIST", n_train=12, n_test=7, seed=0, gz=False):
    rng = np.random.default_rng(seed)
    raw = os.path.join(root, cls, "raw")
    os.makedirs(raw, exist_ok=True)
    out = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{split}-{kind}-ubyte" + (".gz" if gz else "")
            write_idx(os.path.join(raw, name), arr)
            out[name] = arr
    return out


# -- Python 2 style protocol-2 pickles (CIFAR) --------------------------------------------

def _p2_str(s):
    raw = s.encode("latin1") if isinstance(s, str) else s
    if len(raw) < 256:
        return b"U" + bytes([len(raw)]) + raw
    return b"T" + struct.pack("<i", len(raw)) + raw


def _p2_int(v):
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if 0 <= v < 65536:
        return b"M" + struct.pack("<H", v)
    return b"J" + struct.pack("<i", v)


def _p2(obj, out):
    if isinstance(obj, bool):
        out.append(b"\x88" if obj else b"\x89")
    elif isinstance(obj, int):
        out.append(_p2_int(obj))
    elif isinstance(obj, (str, bytes)):
        out.append(_p2_str(obj))
    elif isinstance(obj, list):
        out.append(b"](")
        for v in obj:
            _p2(v, out)
        out.append(b"e")
    elif isinstance(obj, dict):
        out.append(b"}(")
        for k, v in obj.items():
            _p2(k, out)
            _p2(v, out)
        out.append(b"u")
    elif isinstance(obj, np.ndarray):
        out.append(b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
                   + _p2_int(0) + b"\x85" + _p2_str("b") + b"\x87R(" + _p2_int(1))
        shape = b"".join(_p2_int(n) for n in obj.shape)
        out.append(shape + b"\x85\x86\x87"[obj.ndim - 1:obj.ndim] if 1 <= obj.ndim <= 3
                   else b"(" + shape + b"t")
        order = "|" if obj.dtype.itemsize == 1 else "<"
        out.append(b"cnumpy\ndtype\n" + _p2_str(obj.dtype.str[1:]) + _p2_int(0) + _p2_int(1)
                   + b"\x87R(" + _p2_int(3) + _p2_str(order) + b"NNN" + b"J\xff\xff\xff\xff"
                   + b"J\xff\xff\xff\xff" + _p2_int(0) + b"tb\x89"
                   + _p2_str(np.ascontiguousarray(obj).astype(obj.dtype.newbyteorder("<"))
                             .tobytes()) + b"tb")
    else:
        raise TypeError(f"py2_pickle cannot write {type(obj).__name__}")


def py2_pickle(obj):
    out = [b"\x80\x02"]
    _p2(obj, out)
    out.append(b".")
    return b"".join(out)


def py3_pickle(obj):
    return pickle.dumps(obj, protocol=2)


def write_cifar_tree(root, which="cifar10", n_per_batch=4, seed=0, writer=py2_pickle):
    rng = np.random.default_rng(seed)
    if which == "cifar10":
        folder, files, key = "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)] \
            + ["test_batch"], "labels"
        meta_name, meta = "batches.meta", {"num_cases_per_batch": n_per_batch,
                                           "label_names": CIFAR10_NAMES, "num_vis": 3072}
        n_classes = 10
    else:
        folder, files, key = "cifar-100-python", ["train", "test"], "fine_labels"
        meta_name = "meta"
        meta = {"fine_label_names": [f"fine{i}" for i in range(100)],
                "coarse_label_names": [f"coarse{i}" for i in range(20)]}
        n_classes = 100
    base = os.path.join(root, folder)
    os.makedirs(base, exist_ok=True)
    md5s = {}
    for name in files:
        entry = {"batch_label": f"batch {name}", key: rng.integers(0, n_classes, n_per_batch)
                 .tolist(), "data": rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
                 "filenames": [f"img_{name}_{i}.png" for i in range(n_per_batch)]}
        if which == "cifar100":
            entry["coarse_labels"] = [y // 5 for y in entry[key]]
        with open(os.path.join(base, name), "wb") as f:
            f.write(writer(entry))
        md5s[name] = _md5(os.path.join(base, name))
    with open(os.path.join(base, meta_name), "wb") as f:
        f.write(writer(meta))
    md5s[meta_name] = _md5(os.path.join(base, meta_name))
    return md5s


# -- MATLAB 5 ------------------------------------------------------------------------------

_MI = {"i1": 1, "u1": 2, "i2": 3, "u2": 4, "i4": 5, "u4": 6, "f4": 7, "f8": 9, "i8": 12,
       "u8": 13}
_MX = {"f8": 6, "f4": 7, "i1": 8, "u1": 9, "i2": 10, "u2": 11, "i4": 12, "u4": 13, "i8": 14,
       "u8": 15}


def _element(mi_type, payload, order="<"):
    if len(payload) <= 4:  # the small element format, as MATLAB writes short names
        if order == "<":
            tag = struct.pack("<HH", mi_type, len(payload))
        else:  # the same uint32 (size << 16 | type), big-endian
            tag = struct.pack(">I", len(payload) << 16 | mi_type)
        return tag + payload.ljust(4, b"\0")
    pad = (-len(payload)) % 8
    return struct.pack(order + "II", mi_type, len(payload)) + payload + b"\0" * pad


def _matrix(name, array, stored_as=None, order="<"):
    array = np.asarray(array)
    code = array.dtype.str[1:]
    flags = struct.pack(order + "II", _MX[code], 0)
    dims = struct.pack(f"{order}{array.ndim}i", *array.shape)
    stored = np.dtype(stored_as or array.dtype)
    values = array.astype(stored).astype(stored.newbyteorder(order))
    real = _element(_MI[stored.str[1:]], values.tobytes(order="F"), order)
    body = (_element(6, flags, order) + _element(5, dims, order)
            + _element(1, name.encode("ascii"), order) + real)
    return struct.pack(order + "II", 14, len(body)) + body


def mat5_bytes(variables, compress=False, stored_as=None, order="<"):
    """``variables``: {name: ndarray}; ``stored_as``: {name: dtype} to store a class narrower
    (MATLAB keeps doubles holding small integers as uint8 data); ``order`` ``">"`` writes a
    big-endian file (endian mark "MI")."""
    head = b"MATLAB 5.0 MAT-file, written by ember tools/make_dataset_files.py".ljust(116)
    out = [head + b"\0" * 8 + struct.pack(order + "H", 0x0100)
           + (b"IM" if order == "<" else b"MI")]
    for name, array in variables.items():
        element = _matrix(name, array, (stored_as or {}).get(name), order)
        if compress:
            packed = zlib.compress(element)
            element = struct.pack(order + "II", 15, len(packed)) + packed
        out.append(element)
    return b"".join(out)


def write_svhn(root, split="train", n=6, seed=0, compress=False):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    y = rng.integers(1, 11, (n, 1)).astype(np.float64)
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, f"{split}_32x32.mat")
    with open(path, "wb") as f:
        f.write(mat5_bytes({"X": x, "y": y}, compress=compress, stored_as={"y": np.uint8}))
    return {os.path.basename(path): _md5(path)}


# -- STL-10 --------------------------------------------------------------------------------

def write_stl10_tree(root, n_train=5, n_test=3, n_unlabeled=2, seed=0):
    rng = np.random.default_rng(seed)
    base = os.path.join(root, "stl10_binary")
    os.makedirs(base, exist_ok=True)
    files = {
        "train_X.bin": rng.integers(0, 256, n_train * 3 * 96 * 96, dtype=np.uint8),
        "train_y.bin": rng.integers(1, 11, n_train, dtype=np.uint8),
        "test_X.bin": rng.integers(0, 256, n_test * 3 * 96 * 96, dtype=np.uint8),
        "test_y.bin": rng.integers(1, 11, n_test, dtype=np.uint8),
        "unlabeled_X.bin": rng.integers(0, 256, n_unlabeled * 3 * 96 * 96, dtype=np.uint8),
    }
    md5s = {}
    for name, arr in files.items():
        arr.tofile(os.path.join(base, name))
        md5s[name] = _md5(os.path.join(base, name))
    with open(os.path.join(base, "class_names.txt"), "w") as f:
        f.write("\n".join(["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey",
                           "ship", "truck"]) + "\n")
    with open(os.path.join(base, "fold_indices.txt"), "w") as f:
        for k in range(10):
            f.write(" ".join(str((k + i) % n_train) for i in range(min(3, n_train))) + " \n")
    return md5s


def main(argv):
    if len(argv) != 1:
        print(__doc__)
        return 2
    root = argv[0]
    for cls in ("MNIST", "FashionMNIST", "KMNIST"):
        write_mnist_tree(root, cls)
    write_cifar_tree(root, "cifar10")
    write_cifar_tree(root, "cifar100")
    for split in ("train", "test"):
        write_svhn(root, split)
    write_stl10_tree(root)
    print(f"wrote small MNIST/FashionMNIST/KMNIST/CIFAR/SVHN/STL10 files under {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
