"""Write the hostile-checkpoint corpus that ``ember.load`` must refuse (no torch needed).

    python tools/make_hostile_corpus.py

Creates tests/reliability/hostile/<case>.pth (each a few kB at most) and manifest.json, which
says for every file what it attacks, which container wraps it, the error type ``ember.load``
must raise and a regular expression its message must match. Payloads that would run code all
try to create the marker file ``MARKER`` below; the tests assert it never appears.

Every byte is assembled here by hand (opcodes, zip records, tar members), never by pickling a
live object, so the files do exactly what their names say and nothing else. Re-running the
script gives byte-identical files.
"""
import io
import json
import pathlib
import struct
import tarfile
import zlib

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "reliability" / "hostile"
MARKER = "/tmp/ember-hostile-marker-pwned"
TOUCH = f"touch {MARKER}"


# ---- a tiny pickle assembler ----------------------------------------------------------------
def u(text):  # BINUNICODE
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def i(n):  # BININT / LONG1 for anything wider
    if -2**31 <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def tup(*items):
    return b"(" + b"".join(items) + b"t"


def glob(module, name):  # GLOBAL
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def sglob(module, name):  # STACK_GLOBAL (protocol 4)
    return u(module) + u(name) + b"\x93"


def p2(body):
    return b"\x80\x02" + body + b"."


def p4(body):
    return b"\x80\x04" + body + b"."


def storage_pid(numel, key="0", kind="FloatStorage", legacy=False):
    fields = [u("storage"), glob("torch", kind), u(key), u("cpu"), i(numel)]
    if legacy:
        fields.append(b"N")
    return tup(*fields) + b"Q"  # BINPERSID


def tensor(numel, offset, size, stride, key="0", legacy=False):
    return (glob("torch._utils", "_rebuild_tensor_v2")
            + tup(storage_pid(numel, key, legacy=legacy), i(offset),
                  tup(*map(i, size)), tup(*map(i, stride)), b"\x89", b"N")
            + b"R")


def state_dict(value):
    """OrderedDict({'w': value}): the shape of every real checkpoint."""
    return glob("collections", "OrderedDict") + b")R" + u("w") + value + b"s"


CALL_OS_SYSTEM = glob("os", "system") + tup(u(TOUCH)) + b"R"
FLOATS4 = struct.pack("<4f", 1, 2, 3, 4)


# ---- containers ------------------------------------------------------------------------------
def raw_zip(entries, *, central=None):
    """A zip of STORED entries written field by field, so names, sizes and offsets can lie.

    ``entries``: (name, data[, declared_size, method, compressed]) tuples. ``central`` lists
    (name, local index, declared size) records for the central directory (default: one per
    local entry), which lets several records point at the same bytes.
    """
    out = io.BytesIO()
    locals_ = []
    for entry in entries:
        name, data = entry[0], entry[1]
        declared = entry[2] if len(entry) > 2 else len(data)
        method = entry[3] if len(entry) > 3 else 0
        stored = entry[4] if len(entry) > 4 else data
        raw = name.encode()
        crc = zlib.crc32(data)
        offset = out.tell()
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc,
                              len(stored), declared, len(raw), 0))
        out.write(raw)
        out.write(stored)
        locals_.append((raw, crc, len(stored), declared, method, offset))
    if central is None:
        central = [(loc[0].decode(), k, loc[3]) for k, loc in enumerate(locals_)]
    cd_start = out.tell()
    for name, k, declared in central:
        _, crc, csize, _, method, offset = locals_[k]
        raw = name.encode()
        out.write(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21,
                              crc, csize, declared, len(raw), 0, 0, 0, 0, 0, offset))
        out.write(raw)
    cd_size = out.tell() - cd_start
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central),
                          cd_size, cd_start, 0))
    return out.getvalue()


def ckpt_zip(pkl, storages=None, extra=(), prefix="archive"):
    entries = [(f"{prefix}/data.pkl", pkl), (f"{prefix}/version", b"3\n")]
    entries += [(f"{prefix}/data/{k}", v) for k, v in (storages or {}).items()]
    return raw_zip(entries + list(extra))


MAGIC = p2(i(0x1950A86A20F9469CFC6C))


def _sys_info():
    return p2(b"}(" + u("protocol_version") + i(1001) + u("little_endian") + b"\x88" + b"u")


def legacy(obj_pickle, keys=("0",), records=((4, FLOATS4),), sys_info=None):
    out = MAGIC + p2(i(1001)) + (sys_info if sys_info is not None else _sys_info())
    out += obj_pickle + p2(b"(" + b"".join(u(k) for k in keys) + b"l")
    for count, data in records:
        out += struct.pack("<q", count) + data
    return out


def tar(members, lie=None):
    """A ustar tar; ``lie`` = (member, declared size) forges that member's header size."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tf.addfile(info, io.BytesIO(data))
    raw = bytearray(out.getvalue())
    if lie is not None:
        name, size = lie
        pos = 0
        while pos < len(raw):  # walk the headers: each is followed by its data blocks
            real = int(raw[pos + 124:pos + 135] or b"0", 8)
            if raw[pos:pos + 100].rstrip(b"\0") == name.encode():
                raw[pos + 124:pos + 136] = b"%011o\0" % size
                header = raw[pos:pos + 512]
                header[148:156] = b" " * 8
                raw[pos + 148:pos + 156] = b"%06o\0 " % sum(header)
                break
            pos += 512 + -(-real // 512) * 512
    return bytes(raw)


def tar_ckpt(pickle_member, storages=None, tensors=None):
    sys_info = p2(b"}(" + u("protocol_version") + i(1000) + u("little_endian") + b"\x88" + b"u")
    if storages is None:
        storages = (p2(i(1)) + p2(tup(i(0), u("cpu"), glob("torch", "FloatStorage")))
                    + struct.pack("<q", 4) + FLOATS4 + p2(b"]"))
    if tensors is None:
        tensors = (p2(i(1)) + p2(tup(i(1), i(0), glob("torch", "FloatTensor")))
                   + struct.pack("<iiqqq", 1, 0, 4, 1, 0))
    return tar([("sys_info", sys_info), ("storages", storages), ("tensors", tensors),
                ("pickle", pickle_member)])


# ---- the corpus ------------------------------------------------------------------------------
REFUSED = "UnpicklingError"
CORRUPT = "CheckpointError"
TRUNC = "TruncatedCheckpointError"


def cases():
    """(file stem, attack, container, expected error, message regex, file bytes)."""
    ok_tensor = tensor(4, 0, (4,), (1,))
    store = {"0": FLOATS4}
    popen = glob("subprocess", "Popen") + tup(b"]" + b"(" + u("touch") + u(MARKER) + b"e") + b"R"
    yield ("global_os_system", "GLOBAL os.system REDUCE('touch marker')", "zip", REFUSED,
           r"os\.system", ckpt_zip(p2(state_dict(CALL_OS_SYSTEM))))
    yield ("stack_global_os_system", "STACK_GLOBAL os.system (protocol 4)", "zip", REFUSED,
           r"os\.system", ckpt_zip(p4(sglob("os", "system") + tup(u(TOUCH)) + b"R")))
    yield ("global_posix_system", "GLOBAL posix.system", "zip", REFUSED, r"posix\.system",
           ckpt_zip(p2(glob("posix", "system") + tup(u(TOUCH)) + b"R")))
    yield ("global_nt_system", "GLOBAL nt.system (Windows' os)", "zip", REFUSED, r"nt\.system",
           ckpt_zip(p2(glob("nt", "system") + tup(u(TOUCH)) + b"R")))
    yield ("global_subprocess_popen", "GLOBAL subprocess.Popen(['touch', marker])", "zip",
           REFUSED, r"subprocess\.Popen", ckpt_zip(p2(popen)))
    yield ("stack_global_subprocess_popen", "STACK_GLOBAL subprocess.Popen", "zip", REFUSED,
           r"subprocess\.Popen",
           ckpt_zip(p4(sglob("subprocess", "Popen") + tup(b"]" + b"(" + u("touch") + u(MARKER)
                                                          + b"e") + b"R")))
    code = f"__import__('os').system({TOUCH!r})"
    yield ("builtins_eval", "GLOBAL builtins.eval(code)", "zip", REFUSED, r"builtins\.eval",
           ckpt_zip(p2(glob("builtins", "eval") + tup(u(code)) + b"R")))
    yield ("builtins_exec", "STACK_GLOBAL builtins.exec(code)", "zip", REFUSED,
           r"builtins\.exec", ckpt_zip(p4(sglob("builtins", "exec") + tup(u(code)) + b"R")))
    yield ("py2_builtin_eval", "GLOBAL __builtin__.eval (Python 2 spelling)", "zip", REFUSED,
           r"builtins\.eval", ckpt_zip(p2(glob("__builtin__", "eval") + tup(u(code)) + b"R")))
    yield ("builtins_getattr", "builtins.getattr(builtins.__import__('os'), 'system')", "zip",
           REFUSED, r"builtins\.getattr",
           ckpt_zip(p2(glob("builtins", "getattr") + tup(
               glob("builtins", "__import__") + tup(u("os")) + b"R", u("system")) + b"R"
               + tup(u(TOUCH)) + b"R")))
    yield ("builtins_import", "builtins.__import__('os')", "zip", REFUSED,
           r"builtins\.__import__",
           ckpt_zip(p2(glob("builtins", "__import__") + tup(u("os")) + b"R")))
    yield ("torch_allowlisted_module_other_name", "GLOBAL torch._utils._load_from_bytes "
           "(a torch name outside the allowlist)", "zip", REFUSED, r"_load_from_bytes",
           ckpt_zip(p2(glob("torch._utils", "_load_from_bytes") + tup(u("x")) + b"R")))
    yield ("inst_subprocess_popen", "INST subprocess.Popen (protocol 0 instantiation)", "zip",
           REFUSED, r"(?i)opcode|subprocess",
           ckpt_zip(b"(" + u("touch") + b"isubprocess\nPopen\n."))
    yield ("inst_ordered_dict", "INST of an allowlisted class: the opcode itself is refused",
           "zip", REFUSED, r"(?i)opcode", ckpt_zip(b"(icollections\nOrderedDict\n."))
    yield ("obj_os_system", "OBJ with os.system as the class", "zip", REFUSED,
           r"(?i)opcode|os\.system", ckpt_zip(p2(b"(" + glob("os", "system") + u(TOUCH) + b"o")))
    yield ("newobj_popen", "NEWOBJ subprocess.Popen", "zip", REFUSED, r"subprocess\.Popen",
           ckpt_zip(p2(glob("subprocess", "Popen") + tup(u(TOUCH)) + b"\x81")))
    yield ("newobj_ex_ordered_dict", "NEWOBJ_EX of an allowlisted class", "zip", REFUSED,
           r"(?i)opcode",
           ckpt_zip(p4(sglob("collections", "OrderedDict") + b")}" + b"\x92")))
    yield ("reduce_storage_type", "REDUCE on torch.FloatStorage (a token, not a callable)",
           "zip", REFUSED, r"(?i)unrecognized function|FloatStorage",
           ckpt_zip(p2(glob("torch", "FloatStorage") + tup(i(10**9)) + b"R")))
    yield ("reduce_dtype", "REDUCE on the dtype torch.float32", "zip", REFUSED,
           r"(?i)unrecognized function|float32",
           ckpt_zip(p2(glob("torch", "float32") + tup(u(TOUCH)) + b"R")))
    yield ("build_on_list", "BUILD on a list", "zip", REFUSED, r"(?i)can only build",
           ckpt_zip(p2(b"]" + b"}" + u("append") + u("x") + b"s" + b"b")))
    yield ("build_dunder_on_ordered_dict", "BUILD setting __class__ on an OrderedDict", "zip",
           REFUSED, r"__class__",
           ckpt_zip(p2(glob("collections", "OrderedDict") + b")R" + b"}" + u("__class__")
                       + glob("collections", "Counter") + b"s" + b"b")))
    yield ("build_tensor_state", "BUILD with Python state on a tensor", "zip", REFUSED,
           r"(?i)tensor state",
           ckpt_zip(p2(ok_tensor + b"}" + u("__reduce__") + u("x") + b"s" + b"b"), store))
    yield ("persid_not_storage", "persistent id ('module', 'os', ...)", "zip", REFUSED,
           r"(?i)only persistent_load of storage",
           ckpt_zip(p2(tup(u("module"), u("os"), u("system")) + b"Q")))
    yield ("persid_plain_string", "persistent id that is a bare string", "zip", REFUSED,
           r"(?i)persistent_load id", ckpt_zip(p2(u("0") + b"Q"), store))
    yield ("persid_text_protocol0", "PERSID text opcode (protocol 0)", "zip", REFUSED,
           r"(?i)persistent_load id", ckpt_zip(b"Pstorage\n."))
    yield ("ext_registry", "EXT1: the copyreg extension registry", "zip", REFUSED,
           r"(?i)opcode", ckpt_zip(p2(b"\x82\x01")))
    yield ("storage_numel_huge", "storage declares 10**12 floats, 16 bytes present", "zip",
           CORRUPT, r"declares 1000000000000 elements",
           ckpt_zip(p2(state_dict(tensor(10**12, 0, (4,), (1,)))), store))
    yield ("storage_numel_negative", "storage declares -1 elements", "zip", CORRUPT,
           r"bad element count", ckpt_zip(p2(tensor(-1, 0, (4,), (1,))), store))
    yield ("view_past_storage", "tensor view offset 2 size 4 on a 4-element storage", "zip",
           CORRUPT, r"needs 6 elements", ckpt_zip(p2(state_dict(tensor(4, 2, (4,), (1,)))),
                                                   store))
    yield ("view_stride_past_storage", "size (2, 2) stride (3, 1) on 4 elements", "zip",
           CORRUPT, r"needs 5 elements", ckpt_zip(p2(tensor(4, 0, (2, 2), (3, 1))), store))
    yield ("size_negative", "size (-1,)", "zip", CORRUPT, r"negative",
           ckpt_zip(p2(tensor(4, 0, (-1,), (1,))), store))
    yield ("stride_negative", "stride (-1,) walking backwards out of the storage", "zip",
           CORRUPT, r"negative", ckpt_zip(p2(tensor(4, 3, (4,), (-1,))), store))
    yield ("offset_negative", "storage offset -8", "zip", CORRUPT, r"negative",
           ckpt_zip(p2(tensor(4, -8, (4,), (1,))), store))
    yield ("size_huge_memory_bomb", "size (2**40,) on a 4-element storage", "zip", CORRUPT,
           r"needs 1099511627776 elements",
           ckpt_zip(p2(tensor(4, 0, (2**40,), (1,))), store))
    yield ("size_overflow_int64", "sizes whose product overflows int64", "zip", CORRUPT,
           r"needs|too big|overflow|maximum",
           ckpt_zip(p2(tensor(4, 0, (2**62, 2**62, 4), (1, 1, 1))), store))
    yield ("stride_huge", "stride 2**62", "zip", CORRUPT, r"needs",
           ckpt_zip(p2(tensor(4, 0, (2,), (2**62,))), store))
    yield ("too_many_dims", "a 1000-dimensional view", "zip", CORRUPT, r"dimensions",
           ckpt_zip(p2(tensor(4, 0, (1,) * 1000, (1,) * 1000)), store))
    yield ("zip_entry_dotdot", "entry named archive/../../x", "zip", CORRUPT,
           r"outside the archive folder",
           ckpt_zip(p2(b"N"), extra=[("archive/../../x", TOUCH.encode())]))
    yield ("zip_entry_absolute", "entry named /tmp/ember-hostile-marker-pwned", "zip", CORRUPT,
           r"outside the archive folder", ckpt_zip(p2(b"N"), extra=[(MARKER, b"x")]))
    yield ("zip_entry_first_absolute", "first entry with an absolute path", "zip", CORRUPT,
           r"(?i)not inside a folder|outside the archive folder",
           raw_zip([("/archive/data.pkl", p2(b"N")), ("/archive/version", b"3\n")]))
    yield ("zip_entry_backslash", "entry named archive\\..\\x (Windows traversal)", "zip",
           CORRUPT, r"outside the archive folder",
           ckpt_zip(p2(b"N"), extra=[("archive\\..\\..\\x", b"x")]))
    bomb = zlib.compress(b"\0" * (1 << 20), 9)[2:-4]
    yield ("zip_bomb_declared_size", "deflated data.pkl declaring 4 GB", "zip", CORRUPT,
           r"implausible size",
           raw_zip([("archive/data.pkl", b"\0" * (1 << 20), 0xFFFF0000, 8, bomb),
                    ("archive/version", b"3\n")]))
    yield ("zip_bomb_compressed_storage", "a deflated 1 MB storage record", "zip", CORRUPT,
           r"compressed",
           raw_zip([("archive/data.pkl", p2(tensor(1 << 18, 0, (4,), (1,)))),
                    ("archive/version", b"3\n"),
                    ("archive/data/0", b"\0" * (1 << 20), 1 << 20, 8, bomb)]))
    # 100 central records all pointing at one 32 kB local entry: 3.2 MB of storages from a
    # 50 kB file unless overlapping records are refused (the ratio grows with the file)
    n_over = 100
    over_pkl = p2(b"(" + b"".join(tensor(1 << 13, 0, (4,), (1,), key=str(k))
                                  for k in range(n_over)) + b"l")
    blob = struct.pack("<f", 1.0) * (1 << 13)
    central = [("archive/data.pkl", 0, len(over_pkl)), ("archive/version", 1, 2)]
    central += [(f"archive/data/{k}", 2, len(blob)) for k in range(n_over)]
    yield ("zip_overlapping_entries", "100 storage records sharing one local entry's bytes",
           "zip", CORRUPT, r"(?i)overlap",
           raw_zip([("archive/data.pkl", over_pkl), ("archive/version", b"3\n"),
                    ("archive/data/0", blob)], central=central))
    yield ("zip_duplicate_entries", "data.pkl twice (a harmless one and a payload)", "zip",
           CORRUPT, r"duplicate entry",
           ckpt_zip(p2(b"N"), extra=[("archive/data.pkl", p2(CALL_OS_SYSTEM))]))
    yield ("zip_version_huge", "version record 99999", "zip", CORRUPT, r"not supported",
           raw_zip([("archive/data.pkl", p2(b"N")), ("archive/version", b"99999\n")]))
    yield ("zip_key_traversal", "storage key '../../etc/passwd'", "zip", REFUSED,
           r"bad storage key",
           ckpt_zip(p2(tensor(4, 0, (4,), (1,), key="../../etc/passwd")), store))
    yield ("binunicode8_huge", "BINUNICODE8 declaring 2**62 bytes", "zip", TRUNC,
           r"truncated", ckpt_zip(p4(b"\x8d" + struct.pack("<Q", 2**62) + b"abc")))
    yield ("long4_huge", "LONG4 declaring 2**31-1 bytes", "zip", TRUNC, r"truncated",
           ckpt_zip(p2(b"\x8b" + struct.pack("<i", 2**31 - 1) + b"\x01")))
    yield ("unbalanced_mark_stack", "STOP with an open MARK", "zip", REFUSED,
           r"unbalanced", ckpt_zip(p2(b"(N")))
    yield ("memo_get_missing", "BINGET of a memo slot never set", "zip", REFUSED,
           r"(?i)memo", ckpt_zip(p2(b"h\x07")))
    # ---- legacy stream ----
    yield ("legacy_os_system_in_object", "legacy stream, os.system in the object pickle",
           "legacy", REFUSED, r"os\.system", legacy(p2(CALL_OS_SYSTEM), keys=(), records=()))
    yield ("legacy_os_system_in_sys_info", "legacy stream, os.system in the sys-info pickle",
           "legacy", REFUSED, r"os\.system",
           legacy(p2(b"N"), keys=(), records=(), sys_info=p2(CALL_OS_SYSTEM)))
    yield ("legacy_persid_in_header", "legacy stream, a storage id in the magic-number pickle",
           "legacy", REFUSED, r"(?i)persistent ids are not allowed",
           p2(tup(u("storage")) + b"Q") + b"\0" * 64)
    yield ("legacy_storage_count_lies", "key list names a storage the object never used",
           "legacy", CORRUPT, r"key list does not match",
           legacy(p2(tensor(4, 0, (4,), (1,), legacy=True)), keys=("0", "1"),
                  records=((4, FLOATS4), (4, FLOATS4))))
    yield ("legacy_record_count_lies", "record says 3 elements, storage declared 4", "legacy",
           CORRUPT, r"declares 4 elements but its data holds 3",
           legacy(p2(tensor(4, 0, (4,), (1,), legacy=True)), records=((3, FLOATS4),)))
    yield ("legacy_numel_huge", "legacy storage declares 10**12 floats", "legacy", TRUNC,
           r"declare more data",
           legacy(p2(tensor(10**12, 0, (4,), (1,), legacy=True)), records=((10**12, FLOATS4),)))
    yield ("legacy_view_past_storage", "legacy view_metadata beyond the root storage",
           "legacy", CORRUPT, r"lies outside",
           legacy(p2(glob("torch._utils", "_rebuild_tensor_v2") + tup(
               tup(u("storage"), glob("torch", "FloatStorage"), u("0"), u("cpu"), i(4),
                   tup(u("v"), i(2), i(100))) + b"Q",
               i(0), tup(i(4)), tup(i(1)), b"\x89", b"N") + b"R")))
    # ---- tar (torch <= 0.1.9) ----
    yield ("tar_os_system_in_pickle", "tar, os.system in the object pickle", "tar", REFUSED,
           r"os\.system", tar_ckpt(p2(CALL_OS_SYSTEM)))
    yield ("tar_member_size_lies", "tar header declares 1 MB for a 40-byte member", "tar",
           TRUNC, r"(?i)truncated",
           tar([("sys_info", p2(b"}")), ("storages", p2(i(0)) + p2(b"]")),
                ("tensors", p2(i(0))), ("pickle", p2(b"N"))], lie=("storages", 1 << 20)))
    yield ("tar_storage_numel_huge", "tar storage record declares 2**40 floats", "tar", TRUNC,
           r"truncated",
           tar_ckpt(p2(b"N"), storages=p2(i(1)) + p2(tup(i(0), u("cpu"),
                                                           glob("torch", "FloatStorage")))
                    + struct.pack("<q", 2**40) + FLOATS4 + p2(b"]")))
    yield ("tar_tensor_count_lies", "tar tensors member declares 10**9 tensors, holds one",
           "tar", TRUNC, r"truncated",
           tar_ckpt(p2(b"N"), tensors=p2(i(10**9)) + p2(tup(i(1), i(0),
                                                           glob("torch", "FloatTensor")))
                    + struct.pack("<iiqqq", 1, 0, 4, 1, 0)))
    yield ("tar_tensor_past_storage", "tar tensor of size 400 on a 4-element storage", "tar",
           CORRUPT, r"needs 400 elements",
           tar_ckpt(p2(b"N"), tensors=p2(i(1)) + p2(tup(i(1), i(0),
                                                       glob("torch", "FloatTensor")))
                    + struct.pack("<iiqqq", 1, 0, 400, 1, 0)))
    yield ("tar_duplicate_member", "tar with two 'pickle' members", "tar", CORRUPT,
           r"duplicate tar member",
           tar([("sys_info", p2(b"}")), ("pickle", p2(b"N")), ("storages", p2(i(0)) + p2(b"]")),
                ("tensors", p2(i(0))), ("pickle", p2(CALL_OS_SYSTEM))]))


def write_corpus(out=OUT):
    """Write every case into ``out``; returns the manifest."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.pth"):
        old.unlink()
    manifest = {"marker": MARKER, "cases": {}}
    for stem, attack, container, error, match, data in cases():
        (out / f"{stem}.pth").write_bytes(data)
        manifest["cases"][stem] = {"attack": attack, "container": container, "error": error,
                                   "match": match, "bytes": len(data)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def main():
    manifest = write_corpus()
    total = sum(c["bytes"] for c in manifest["cases"].values())
    print(f"wrote {len(manifest['cases'])} hostile checkpoints ({total} bytes) to {OUT}")


if __name__ == "__main__":
    main()
