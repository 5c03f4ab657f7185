"""A seeded sample of the loader fuzzer (tools/fuzz_loader.py) in the default suite.

The contract enforced here and by ``python tools/fuzz_loader.py --cases 10000``: a mutated
checkpoint either loads (every tensor readable whole) or raises RuntimeError /
pickle.UnpicklingError (ember's CheckpointError and TruncatedCheckpointError are
RuntimeErrors); no other exception type, no hang, no crash.
"""
import importlib.util
import io
import pathlib
import pickle
import random
import tarfile
import zipfile

import pytest

import ember

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("fuzz_loader", ROOT / "tools" / "fuzz_loader.py")
fuzz_loader = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz_loader)


@pytest.fixture(scope="module")
def pool():
    return fuzz_loader.seeds(include_shared=False)


def test_seeds_load_and_cover_every_format(pool):
    heads = {data[:2] for _, data in pool}
    assert b"PK" in heads and b"\x80\x02" in heads  # zip and legacy
    assert any(data[257:262] == b"ustar" for _, data in pool)
    for name, data in pool:
        assert fuzz_loader.run_case(data) == ("load_changed", ""), name


def test_seeded_sample_of_300_mutations_fails_cleanly(pool):
    counts, bad = fuzz_loader.fuzz_in_process(300, seed=20240611, include_shared=False)
    assert not bad, bad[:5]
    assert sum(counts.values()) == 300
    # the mutations must exercise both sides of the contract
    assert counts["clean_error"] > 100
    assert counts["load_same"] + counts["load_changed"] > 10


def test_mutated_hostile_files_stay_refused_and_dead():
    marker = pathlib.Path("/tmp/ember-hostile-marker-pwned")
    marker.unlink(missing_ok=True)
    counts, bad = fuzz_loader.fuzz_in_process(150, seed=5, include_hostile=True)
    assert not bad, bad[:5]
    assert not marker.exists()
    assert counts["clean_error"] > 100


def test_cases_are_reproducible_one_by_one(pool):
    first = list(fuzz_loader.generate(7, 0, 20, pool))
    again = [next(fuzz_loader.generate(7, i, i + 1, pool)) for i in range(20)]
    assert [(i, d, b) for i, d, b in first] == [(i, d, b) for i, d, b in again]
    assert len({b for _, _, b in first}) > 15


def _tar_end(data):
    """Where a tar's last member's data ends: cutting the zero blocks after it loses nothing."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        last = tf.getmembers()[-1]
        return last.offset_data + last.size


def test_every_record_boundary_truncation_of_each_seed_fails_cleanly(pool):
    for name, data in pool:
        complete = _tar_end(data) if data[257:262] == b"ustar" else len(data)
        for cut in fuzz_loader.record_boundaries(data)[:-1]:
            outcome, detail = fuzz_loader.run_case(data[:cut])
            if cut >= complete:
                assert outcome == "load_changed", (name, cut, detail)
            else:
                assert outcome == "clean_error", (name, cut, detail)


def test_every_opcode_truncation_of_data_pkl_fails_cleanly(pool):
    name, data = next(s for s in pool if s[0] == "zip_state_dict.pth")
    entries = fuzz_loader.zip_entries(data)
    k, pkl = fuzz_loader._pkl_of(entries)
    for cut in fuzz_loader.opcode_boundaries(pkl)[:-1]:
        entries[k] = (entries[k][0], pkl[:cut])
        assert fuzz_loader.run_case(fuzz_loader.rezip(entries))[0] == "clean_error", cut


def test_shuffled_entries_still_load_the_same(pool):
    name, data = next(s for s in pool if s[0] == "zip_mixed.pth")
    expected = fuzz_loader._signature(ember.load(io.BytesIO(data)))
    entries = fuzz_loader.zip_entries(data)
    rng = random.Random(3)
    for _ in range(5):
        rng.shuffle(entries)
        if entries[0][0].count("/") == 0:
            continue
        loaded = ember.load(io.BytesIO(fuzz_loader.rezip(entries)))
        assert fuzz_loader._signature(loaded) == expected


@pytest.mark.parametrize("blob", [
    b"PK\x03\x04" + b"\xff" * 40,                            # a zip that is all garbage
    b"\x80\x02X\x04\x00\x00\x00\xff\xfe\xfd\xfc.",           # bad UTF-8 in a legacy pickle
    b"\x80\x02" + b"(" * 10000 + b".",                       # 10,000 open MARKs
    b"\x80\x02" + b"]" * 10000 + b"e" * 9999 + b".",         # deep stack, bad APPENDS
])
def test_regressions_found_by_fuzzing_fail_cleanly(blob):
    with pytest.raises((RuntimeError, pickle.UnpicklingError)):
        ember.load(io.BytesIO(blob))


def test_bad_utf8_and_bad_offsets_inside_zip_fail_cleanly(pool):
    """Regressions: a UTF-8 error in data.pkl, a local header at a negative or huge offset."""
    name, data = next(s for s in pool if s[0] == "zip_state_dict.pth")
    entries = fuzz_loader.zip_entries(data)
    k, pkl = fuzz_loader._pkl_of(entries)
    entries[k] = (entries[k][0], pkl.replace(b"X\x01\x00\x00\x000", b"X\x01\x00\x00\x00\xff", 1))
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(fuzz_loader.rezip(entries)))
    raw = bytearray(data)
    cd = raw.find(b"PK\x01\x02")
    for offset in (0xFFFFFFF0, 0x7FFFFFFF):
        raw[cd + 42:cd + 46] = offset.to_bytes(4, "little")
        with pytest.raises(RuntimeError):
            ember.load(io.BytesIO(bytes(raw)))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.infolist()[0].filename.endswith("data.pkl")
