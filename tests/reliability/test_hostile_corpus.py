"""Every file in the hostile corpus is refused by ember.load: right error, no code run, no bomb.

The corpus (tests/reliability/hostile/, written by tools/make_hostile_corpus.py) is committed,
so this test reads fixed bytes; manifest.json says what each file attacks and which error and
message it must produce. Payloads try to create a marker file; a positive control proves that
Python's own pickle *would* have run them.
"""
import importlib.util
import json
import os
import pathlib
import pickle
import re
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile

import pytest

import ember
from ember.serialization import CheckpointError, TruncatedCheckpointError

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOSTILE = pathlib.Path(__file__).resolve().parent / "hostile"
MANIFEST = json.loads((HOSTILE / "manifest.json").read_text())
MARKER = pathlib.Path(MANIFEST["marker"])
ERRORS = {"UnpicklingError": pickle.UnpicklingError, "CheckpointError": CheckpointError,
          "TruncatedCheckpointError": TruncatedCheckpointError}
# no refusal may allocate more than this (the largest file is ~50 kB)
ALLOC_LIMIT = 2 << 20
# cases ember.load gets wrong today: stem -> why (the test turns green when fixed)
KNOWN_BUGS = {}


def _cases():
    for stem in sorted(MANIFEST["cases"]):
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[stem])] \
            if stem in KNOWN_BUGS else []
        yield pytest.param(stem, id=stem, marks=marks)


@pytest.fixture
def no_marker():
    MARKER.unlink(missing_ok=True)
    yield
    assert not MARKER.exists(), "a payload in the hostile corpus ran"


def test_corpus_is_big_and_small():
    cases = MANIFEST["cases"]
    assert len(cases) >= 25
    containers = {c["container"] for c in cases.values()}
    assert containers == {"zip", "legacy", "tar"}
    for stem, case in cases.items():
        path = HOSTILE / f"{stem}.pth"
        assert path.stat().st_size == case["bytes"] < 64 * 1024, stem


@pytest.mark.parametrize("stem", _cases())
def test_hostile_file_is_refused(stem, no_marker):
    case = MANIFEST["cases"][stem]
    path = HOSTILE / f"{stem}.pth"
    tracemalloc.start()
    try:
        with pytest.raises(ERRORS[case["error"]]) as info:
            ember.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert re.search(case["match"], message), message
    # every refusal is one of the two clean families, and says something useful
    assert isinstance(info.value, (RuntimeError, pickle.UnpicklingError))
    assert len(message) > 20
    assert peak < ALLOC_LIMIT, f"{stem}: refusing it allocated {peak} bytes"


@pytest.mark.parametrize("stem", ["global_os_system", "builtins_eval", "builtins_exec"])
def test_refusal_also_holds_through_file_objects(stem, no_marker):
    with open(HOSTILE / f"{stem}.pth", "rb") as f, pytest.raises(pickle.UnpicklingError):
        ember.load(f, map_location="cpu")


@pytest.mark.skipif(os.name != "posix", reason="the payloads call touch")
@pytest.mark.parametrize("stem", ["global_os_system", "stack_global_subprocess_popen",
                                  "builtins_eval"])
def test_payloads_are_live_under_plain_pickle(stem):
    """Positive control: Python's pickle, in a child process, does run the payload."""
    with zipfile.ZipFile(HOSTILE / f"{stem}.pth") as zf:
        data = zf.read("archive/data.pkl")
    MARKER.unlink(missing_ok=True)
    try:
        # Popen returns before touch finishes: wait for the child's children too
        code = ("import pickle, sys, time, os; obj = pickle.loads(sys.stdin.buffer.read());"
                "getattr(obj, 'wait', lambda: None)()")
        subprocess.run([sys.executable, "-c", code], input=data, check=True, timeout=30)
        assert MARKER.exists()
    finally:
        MARKER.unlink(missing_ok=True)


def test_committed_corpus_matches_its_generator(tmp_path):
    spec = importlib.util.spec_from_file_location("make_hostile_corpus",
                                                  ROOT / "tools" / "make_hostile_corpus.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    manifest = tool.write_corpus(tmp_path)
    assert manifest == MANIFEST
    for stem in manifest["cases"]:
        assert (tmp_path / f"{stem}.pth").read_bytes() == (HOSTILE / f"{stem}.pth").read_bytes()


BOMBS = ["storage_numel_huge", "size_huge_memory_bomb", "size_overflow_int64", "stride_huge",
         "legacy_numel_huge", "tar_storage_numel_huge", "tar_tensor_count_lies",
         "binunicode8_huge", "long4_huge", "zip_bomb_declared_size",
         "zip_bomb_compressed_storage"]
PEAK_RSS = textwrap.dedent("""
    import resource, sys
    import ember
    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    try:
        ember.load(sys.argv[1] + "/global_os_system.pth")
    except Exception:
        pass
    before = peak()
    for stem in sys.argv[2:]:
        try:
            ember.load(f"{sys.argv[1]}/{stem}.pth")
        except Exception:
            pass
    print(peak() - before)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss is in kB on Linux")
def test_memory_bombs_do_not_raise_peak_rss():
    """The same promise as tracemalloc's, from the kernel's side, in a fresh process."""
    assert set(BOMBS) <= set(MANIFEST["cases"])
    out = subprocess.run([sys.executable, "-c", PEAK_RSS, str(HOSTILE), *BOMBS],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    grown_kb = int(out.split()[-1])
    assert grown_kb < 8 * 1024, f"peak RSS rose by {grown_kb} kB while refusing memory bombs"
