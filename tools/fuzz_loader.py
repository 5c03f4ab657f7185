"""Fuzz ``ember.load`` with mutated copies of valid checkpoints.

    python tools/fuzz_loader.py --cases 10000 [--seed 0] [--show N]

Seeds: the torch-made fixtures in tests/autograd/serialization/fixtures (zip and legacy), a
file written by ``ember.save``, a small tar checkpoint built by tools/make_hostile_corpus.py
and, when ../shared is present, its small legacy and tar weights; one case in five mutates a
file of the hostile corpus instead (``--no-hostile`` turns that off), and a payload that
runs after mutation counts as a failure. Mutations: bit flips, bytes
set to boundary values, truncation at a record boundary (zip headers and data, legacy pickles
and storage records, pickle opcodes inside data.pkl), shuffled zip entries, spliced pickles
(the head of one data.pkl joined to the tail of another), deleted or inserted byte runs, and
mutations inside data.pkl re-zipped with a correct CRC so they reach the unpickler.

The contract: every load either succeeds (and then every tensor in the result can be read
whole) or raises ``RuntimeError`` or ``pickle.UnpicklingError`` (or a subclass: ember's
CheckpointError / TruncatedCheckpointError are RuntimeErrors). Any other exception type is a
bug ("unclean"), as is a case that runs over 1 s ("timeout") or kills the process ("crash":
cases run in a child process that is restarted after a crash). Exit status 1 on any of those.

Case ``i`` of seed ``s`` is reproducible on its own: ``--show i`` prints what it did and
writes the mutated file to /tmp/ember-fuzz-case-<i>.pth.
"""
import argparse
import collections
import importlib.util
import io
import json
import os
import pathlib
import pickle
import pickletools
import random
import signal
import subprocess
import sys
import time
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "autograd" / "serialization" / "fixtures"
SHARED = pathlib.Path(os.environ.get("EMBER_SHARED_DIR", ROOT.parent / "shared"))
CLEAN = (RuntimeError, pickle.UnpicklingError)
OUTCOMES = ("clean_error", "load_same", "load_changed", "unclean", "timeout", "crash",
            "payload_ran")


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so the loader's own handlers cannot swallow it."""


# ---- seeds -----------------------------------------------------------------------------------
def _corpus_tool():
    spec = importlib.util.spec_from_file_location("make_hostile_corpus",
                                                  ROOT / "tools" / "make_hostile_corpus.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def hostile_seeds():
    """[(name, bytes)] of the committed hostile corpus: mutating refused files explores the
    refusal paths (and a mutated payload must stay as dead as the original)."""
    folder = ROOT / "tests" / "reliability" / "hostile"
    return [(f"hostile/{p.name}", p.read_bytes()) for p in sorted(folder.glob("*.pth"))]


def seeds(include_shared=True, include_hostile=False):
    """[(name, bytes)] of valid checkpoints (then, if asked, hostile ones), in a fixed order."""
    import numpy as np

    import ember
    out = [(p.name, p.read_bytes()) for p in sorted(FIXTURES.glob("*.pth"))]
    buf = io.BytesIO()
    state = collections.OrderedDict(
        w=ember.tensor(np.arange(12, dtype=np.float32).reshape(3, 4)),
        b=ember.tensor([1, -2, 3], dtype=ember.int64), flag=ember.tensor(True),
        nested={"list": [ember.zeros(2, 0), 1.5, "x"]})
    state["view"] = state["w"][:, 1]
    ember.save(state, buf)
    out.append(("ember_save.pth", buf.getvalue()))
    tool = _corpus_tool()
    out.append(("tar_small.pth", tool.tar_ckpt(tool.p2(tool.u("1") + b"Q"))))
    if include_shared:
        for name in ("legacy-format-small.pth", "tar-format-small.pth"):
            path = SHARED / "weights" / name
            if path.is_file():
                out.append((name, path.read_bytes()))
    if include_hostile:
        out += hostile_seeds()
    return out


# ---- structure of a checkpoint ---------------------------------------------------------------
def zip_entries(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def rezip(entries):
    from ember.serialization.zip_writer import ZipWriter
    buf = io.BytesIO()
    zw = ZipWriter(buf)
    zw.names = _Anything()  # let shuffles and splices repeat names on purpose
    for name, payload in entries:
        zw.add(name, payload)
    zw.close()
    return buf.getvalue()


class _Anything(set):
    def __contains__(self, item):
        return False


def opcode_boundaries(pkl):
    """Offsets at which each opcode of the (first) pickle in ``pkl`` starts, plus its end."""
    cuts = []
    try:
        for _, _, pos in pickletools.genops(pkl):
            cuts.append(pos)
    except Exception:  # noqa: BLE001 - a mutated pickle may stop parsing anywhere
        pass
    return cuts or [0]


def record_boundaries(data):
    """Byte offsets where a record starts or ends, for whichever format ``data`` is."""
    cuts = {0, len(data)}
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for info in zf.infolist():
                    cuts.add(info.header_offset)
                    start = info.header_offset + 30 + len(info.orig_filename.encode())
                    cuts.update((start, start + info.compress_size))
        except (zipfile.BadZipFile, ValueError):  # a hostile seed zipfile cannot parse
            pass
        cuts.add(data.rfind(b"PK\x01\x02"))
        cuts.add(data.rfind(b"PK\x05\x06"))
    elif data[:1] == b"\x80":
        pos = 0
        stream = io.BytesIO(data)
        for _ in range(5):  # the five legacy pickles
            try:
                for _ in pickletools.genops(stream):
                    pass
            except Exception:  # noqa: BLE001
                break
            pos = stream.tell()
            cuts.add(pos)
        while pos + 8 <= len(data):  # storage records: int64 count, raw bytes
            cuts.add(pos)
            cuts.add(pos + 8)
            count = int.from_bytes(data[pos:pos + 8], "little", signed=True)
            if count < 0:
                break
            pos += 8 + count * 4  # the element size is unknown here; a guess still cuts
    else:
        cuts.update(range(0, len(data), 512))
    return sorted(c for c in cuts if 0 <= c <= len(data))


# ---- mutations -------------------------------------------------------------------------------
def _flip(rng, data, n):
    out = bytearray(data)
    for _ in range(n):
        pos = rng.randrange(len(out))
        out[pos] ^= 1 << rng.randrange(8)
    return bytes(out)


def _set_bytes(rng, data):
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(out))
        width = rng.choice((1, 2, 4, 8))
        value = rng.choice((0, 0xFF, 0x7F, 0x80))
        out[pos:pos + width] = bytes([value]) * width
    return bytes(out)


def _splice_bytes(rng, data):
    a, b = sorted(rng.randrange(len(data) + 1) for _ in range(2))
    if rng.random() < 0.5:
        return data[:a] + data[b:]  # delete a run
    return data[:a] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))) + data[a:]


def _pkl_of(entries):
    for k, (name, payload) in enumerate(entries):
        if name.endswith("/data.pkl"):
            return k, payload
    return None, None


def mutate(rng, pool):
    """(description, mutated bytes) for one case drawn from ``pool``.

    Valid seeds are drawn 4 times in 5 when the pool also holds hostile files."""
    valid = [s for s in pool if not s[0].startswith("hostile/")]
    hostile = [s for s in pool if s[0].startswith("hostile/")]
    name, data = rng.choice(hostile if hostile and rng.random() < 0.2 else valid)
    # structured (re-zipping) mutations need a zip that zipfile itself can read back
    is_zip = data[:2] == b"PK" and not name.startswith("hostile/")
    kinds = ["flip", "flip_many", "set_bytes", "truncate_record", "truncate_any", "splice_bytes"]
    if is_zip:
        kinds += ["pkl_flip", "pkl_set", "pkl_truncate", "shuffle", "splice_pickles",
                  "pkl_splice_bytes", "drop_entry"]
    kind = rng.choice(kinds)
    if kind == "flip":
        return f"{name}: flip 1 bit", _flip(rng, data, 1)
    if kind == "flip_many":
        n = rng.randint(2, 32)
        return f"{name}: flip {n} bits", _flip(rng, data, n)
    if kind == "set_bytes":
        return f"{name}: set bytes to boundary values", _set_bytes(rng, data)
    if kind == "truncate_record":
        cut = rng.choice(record_boundaries(data))
        return f"{name}: truncate at record boundary {cut}", data[:cut]
    if kind == "truncate_any":
        cut = rng.randrange(len(data))
        return f"{name}: truncate at {cut}", data[:cut]
    if kind == "splice_bytes":
        return f"{name}: delete or insert a byte run", _splice_bytes(rng, data)
    entries = zip_entries(data)
    k, pkl = _pkl_of(entries)
    if kind == "shuffle":
        rng.shuffle(entries)
        return f"{name}: shuffle zip entries", rezip(entries)
    if kind == "drop_entry":
        gone = entries.pop(rng.randrange(len(entries)))[0]
        return f"{name}: drop entry {gone}", rezip(entries)
    if kind == "splice_pickles":
        other_name, other = rng.choice([s for s in valid if s[1][:2] == b"PK"])
        other_entries = zip_entries(other)
        _, other_pkl = _pkl_of(other_entries)
        a = rng.choice(opcode_boundaries(pkl))
        b = rng.choice(opcode_boundaries(other_pkl))
        entries[k] = (entries[k][0], pkl[:a] + other_pkl[b:])
        prefix = entries[k][0].split("/")[0]
        for other_entry, payload in other_entries:  # bring the other file's storages along
            rel = other_entry.split("/", 1)[1]
            if rel.startswith("data/") and rng.random() < 0.5:
                entries.append((f"{prefix}/{rel}", payload))
        return f"{name}: data.pkl[:{a}] + {other_name} data.pkl[{b}:]", rezip(entries)
    if kind == "pkl_flip":
        entries[k] = (entries[k][0], _flip(rng, pkl, rng.randint(1, 4)))
        return f"{name}: flip bits in data.pkl, re-zip", rezip(entries)
    if kind == "pkl_set":
        entries[k] = (entries[k][0], _set_bytes(rng, pkl))
        return f"{name}: set data.pkl bytes to boundary values, re-zip", rezip(entries)
    if kind == "pkl_truncate":
        cut = rng.choice(opcode_boundaries(pkl))
        entries[k] = (entries[k][0], pkl[:cut])
        return f"{name}: truncate data.pkl at opcode boundary {cut}, re-zip", rezip(entries)
    entries[k] = (entries[k][0], _splice_bytes(rng, pkl))
    return f"{name}: delete or insert bytes in data.pkl, re-zip", rezip(entries)


# ---- running one case ------------------------------------------------------------------------
def _touch_everything(obj, depth=0):
    """Read every tensor in a loaded result whole (a bad view would fault here)."""
    import numpy as np

    import ember
    if depth > 100:
        return
    if isinstance(obj, ember.Tensor):
        np.array(obj.detach().numpy(), copy=True)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _touch_everything(key, depth + 1)
            _touch_everything(value, depth + 1)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for value in obj:
            _touch_everything(value, depth + 1)


def _signature(obj):
    """A comparable digest of a loaded result (values, dtypes, shapes, structure)."""
    import ember
    if isinstance(obj, ember.Tensor):
        return ("T", str(obj.dtype), tuple(obj.shape), obj.detach().numpy().tobytes())
    if isinstance(obj, dict):
        return ("D", tuple((_signature(k), _signature(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(_signature(v) for v in obj))
    return ("V", repr(obj))


def _on_alarm(signum, frame):
    raise CaseTimeout()


def run_case(data, expected=None, timeout=1.0):
    """(outcome, detail) for loading ``data``; ``expected`` is the seed's signature."""
    import ember
    use_alarm = hasattr(signal, "setitimer") and timeout
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        result = ember.load(io.BytesIO(data))
        _touch_everything(result)
        same = expected is not None and _signature(result) == expected
        return ("load_same" if same else "load_changed"), ""
    except CaseTimeout:
        return "timeout", f"over {timeout} s"
    except CLEAN as exc:
        return "clean_error", type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - classifying every other type is the point
        return "unclean", f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def generate(seed, start, stop, pool):
    for index in range(start, stop):
        rng = random.Random(seed * 1_000_003 + index)
        desc, data = mutate(rng, pool)
        yield index, desc, data


def expected_signatures(pool):
    import ember
    return {name: _signature(ember.load(io.BytesIO(data))) for name, data in pool
            if not name.startswith("hostile/")}


def fuzz_in_process(cases, seed=0, include_shared=False, timeout=1.0, include_hostile=False):
    """Run ``cases`` cases here (no crash isolation); returns (Counter, [bad cases])."""
    pool = seeds(include_shared, include_hostile)
    sigs = expected_signatures(pool)
    counts = collections.Counter()
    bad = []
    for index, desc, data in generate(seed, 0, cases, pool):
        outcome, detail = run_case(data, sigs.get(desc.split(":")[0]), timeout)
        counts[outcome] += 1
        if outcome in ("unclean", "timeout"):
            bad.append((index, desc, outcome, detail))
    return counts, bad


# ---- crash isolation: a worker process, restarted after a crash -----------------------------
def _worker(seed, start, stop, include_shared, timeout, include_hostile=True):
    try:
        import resource
        limit = 4 << 30  # a memory bomb fails as MemoryError (unclean) instead of thrashing
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    pool = seeds(include_shared, include_hostile)
    sigs = expected_signatures(pool)
    out = sys.stdout
    for index, desc, data in generate(seed, start, stop, pool):
        out.write(json.dumps({"start": index}) + "\n")
        out.flush()
        outcome, detail = run_case(data, sigs.get(desc.split(":")[0]), timeout)
        out.write(json.dumps({"index": index, "desc": desc, "outcome": outcome,
                              "detail": detail}) + "\n")
        out.flush()


def fuzz(cases, seed=0, include_shared=True, timeout=1.0, log=None, include_hostile=True):
    """Run ``cases`` cases in a worker process (restarted after a crash); returns
    (Counter of outcomes, [bad cases]). A payload that ran is a bad case too."""
    marker = pathlib.Path(_corpus_tool().MARKER)
    marker.unlink(missing_ok=True)
    counts = collections.Counter()
    bad = []
    start = 0
    while start < cases:
        cmd = [sys.executable, __file__, "--worker", str(seed), str(start), str(cases),
               str(int(include_shared)), str(timeout), str(int(include_hostile))]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        current = None
        for line in proc.stdout:
            record = json.loads(line)
            if "start" in record:
                current = record["start"]
                continue
            current = None
            counts[record["outcome"]] += 1
            if record["outcome"] in ("unclean", "timeout"):
                bad.append((record["index"], record["desc"], record["outcome"], record["detail"]))
            done = record["index"] + 1
            if log and done % 1000 == 0:
                log(f"  {done}/{cases} cases: {dict(counts)}")
        code = proc.wait()
        if current is None and code == 0:
            break
        if current is None:  # died between cases (e.g. while building the pool)
            raise RuntimeError(f"fuzz worker failed with exit status {code}")
        counts["crash"] += 1
        bad.append((current, "(see --show)", "crash", f"worker died with status {code}"))
        start = current + 1
    if marker.exists():
        counts["payload_ran"] += 1
        bad.append((-1, "a mutated hostile file", "payload_ran", f"{marker} was created"))
        marker.unlink()
    return counts, bad


def show(seed, index, include_shared=True, include_hostile=True):
    pool = seeds(include_shared, include_hostile)
    (_, desc, data), = generate(seed, index, index + 1, pool)
    path = pathlib.Path(f"/tmp/ember-fuzz-case-{index}.pth")
    path.write_bytes(data)
    outcome, detail = run_case(data, expected_signatures(pool).get(desc.split(":")[0]))
    print(f"case {index} (seed {seed}): {desc}\n  -> {outcome} {detail}\n  file: {path}")


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        seed, start, stop, shared, timeout, hostile = sys.argv[2:8]
        _worker(int(seed), int(start), int(stop), bool(int(shared)), float(timeout),
                bool(int(hostile)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds per case")
    parser.add_argument("--no-shared", action="store_true", help="ignore ../shared seeds")
    parser.add_argument("--no-hostile", action="store_true",
                        help="mutate only valid checkpoints, not the hostile corpus")
    parser.add_argument("--show", type=int, metavar="N", help="replay case N and stop")
    parser.add_argument("--json", help="also write the counts to this file")
    args = parser.parse_args(argv)
    if args.show is not None:
        show(args.seed, args.show, not args.no_shared, not args.no_hostile)
        return 0
    began = time.perf_counter()
    counts, bad = fuzz(args.cases, args.seed, not args.no_shared, args.timeout, log=print,
                       include_hostile=not args.no_hostile)
    elapsed = time.perf_counter() - began
    print(f"{args.cases} cases (seed {args.seed}) in {elapsed:.1f} s")
    for outcome in OUTCOMES:
        print(f"  {outcome:13} {counts.get(outcome, 0)}")
    for index, desc, outcome, detail in bad[:30]:
        print(f"  BAD case {index}: {outcome} {detail} [{desc}]")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(
            {"cases": args.cases, "seed": args.seed, "seconds": round(elapsed, 1),
             "counts": {o: counts.get(o, 0) for o in OUTCOMES},
             "bad": bad[:100]}, indent=1) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
