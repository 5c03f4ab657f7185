"""Module full backward hooks and pre-hooks replayed against torch's logs (a golden made by
tools/make_golden_backward_hooks.py): arguments, replacements, order, errors, warnings."""
import json
import pathlib
import sys

import pytest

import ember

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))

from backward_hook_cases import SCENARIOS  # noqa: E402

GOLDEN = json.loads((HERE / "golden" / "backward_hooks.json").read_text())


def _plain(log):
    return json.loads(json.dumps(log))  # tuples become lists, as in the golden


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_scenario_matches_torch(scenario):
    assert _plain(scenario(ember)) == GOLDEN[scenario.__name__]


def test_hook_sees_rnn_gradients_and_grad_fn_name():
    ember.manual_seed(0)
    gru = ember.nn.GRU(2, 3)
    seen = []
    gru.register_full_backward_hook(lambda m, gi, go: seen.append((gi[0].shape, len(go))))
    x = ember.randn(4, 1, 2, requires_grad=True)
    out, h = gru(x)
    assert out.grad_fn.name() == "BackwardHookFunctionBackward"
    (out.sum() + h.sum()).backward()
    assert seen == [((4, 1, 2), 2)]
