"""The nn cases replayed on Ember against golden files made with torch (no torch needed)."""
import json
import pathlib
import sys

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from ember import nn

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))

from nn_cases import CASES  # noqa: E402
from nn_compare import run_case  # noqa: E402
from nn_models import REPRS, _build  # noqa: E402

GOLDEN = np.load(HERE / "golden" / "nn_functional.npz")
META = json.loads((HERE / "golden" / "nn_modules.json").read_text())


@pytest.mark.parametrize("name,specs,fn", CASES, ids=[c[0] for c in CASES])
def test_case_matches_golden(name, specs, fn):
    inputs = [GOLDEN[f"{name}/in{i}"] for i in range(len(specs))]
    values, grad_fns, grads, _ = run_case(ember, EF, specs, fn, seed=7, inputs=inputs)
    assert grad_fns == META["grad_fns"][name]
    for i, v in enumerate(values):
        want = GOLDEN[f"{name}/out{i}"]
        assert v.shape == want.shape and v.dtype == want.dtype
        np.testing.assert_allclose(v, want, rtol=1e-7, atol=1e-9)
    for i, g in enumerate(grads):
        key = f"{name}/grad{i}"
        assert (g is None) == (key not in GOLDEN.files)
        if g is not None:
            np.testing.assert_allclose(g, GOLDEN[key], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_module_repr_matches_golden(i):
    assert repr(REPRS[i](nn)) == META["reprs"][i]


def test_model_repr_keys_and_metadata_match_golden():
    model = _build(nn)
    assert repr(model) == META["model_repr"]
    sd = model.state_dict()
    assert list(sd.keys()) == META["state_dict_keys"]
    assert {k: v for k, v in sd._metadata.items()} == META["metadata"]
