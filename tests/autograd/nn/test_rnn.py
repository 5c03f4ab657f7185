"""Recurrent layers against torch's goldens (tools/make_golden_rnn.py), plus gradcheck,
torch's parameter names, reprs and argument errors (no torch needed)."""
import math
import pathlib
import sys

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import rnn as rnn_utils

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))

from rnn_cases import CASES, run_rnn_case  # noqa: E402

GOLDEN = np.load(HERE / "golden" / "rnn.npz")


@pytest.mark.parametrize("name", list(CASES))
def test_case_matches_torch_golden(name):
    values, grads = run_rnn_case(ember, name)
    for i, v in enumerate(values):
        np.testing.assert_allclose(v, GOLDEN[f"{name}/out{i}"], rtol=1e-10, atol=1e-12)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, GOLDEN[f"{name}/grad{i}"], rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_gradcheck_bidirectional_two_layers(kind):
    # the parameters' gradients are checked against torch's above; here the input's and the
    # initial state's, through both directions and both layers
    ember.manual_seed(0)
    layer = getattr(nn, kind)(2, 3, num_layers=2, bidirectional=True).double()
    x = ember.randn(3, 1, 2, dtype=ember.float64, requires_grad=True)
    h0 = ember.randn(4, 1, 3, dtype=ember.float64, requires_grad=True)

    def f(inp, h):
        out, hidden = layer(inp, (h, h * 0.5) if kind == "LSTM" else h)
        return (out,) + (hidden if isinstance(hidden, tuple) else (hidden,))

    assert ember.autograd.gradcheck(f, (x, h0))


def test_gradcheck_packed_lstm():
    ember.manual_seed(1)
    layer = nn.LSTM(2, 3).double()
    x = ember.randn(4, 3, 2, dtype=ember.float64, requires_grad=True)

    def f(inp):
        packed = rnn_utils.pack_padded_sequence(inp, [2, 4, 1], enforce_sorted=False)
        out, (h, c) = layer(packed)
        return rnn_utils.pad_packed_sequence(out)[0], h, c

    assert ember.autograd.gradcheck(f, (x,))


@pytest.mark.parametrize("kind", ["GRUCell", "LSTMCell", "RNNCell"])
def test_gradcheck_cells(kind):
    ember.manual_seed(2)
    cell = getattr(nn, kind)(2, 3).double()
    x = ember.randn(2, 2, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda inp: cell(inp), (x,))


def test_parameter_names_shapes_and_init():
    lstm = nn.LSTM(3, 8, num_layers=2, bidirectional=True, proj_size=2)
    shapes = {k: tuple(v.shape) for k, v in lstm.state_dict().items()}
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                "weight_hr_l0"]
    assert shapes["weight_ih_l1_reverse"] == (32, 4)
    assert shapes["weight_hh_l1_reverse"] == (32, 2)
    assert shapes["weight_hr_l1_reverse"] == (2, 8)
    assert len(shapes) == 20
    bound = 1 / math.sqrt(8)
    for p in lstm.parameters():
        assert float(p.abs().max()) <= bound
    gru = nn.GRU(3, 5, bias=False)
    assert list(gru.state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert [tuple(p.shape) for p in nn.GRUCell(3, 5).parameters()] == [(15, 3), (15, 5),
                                                                       (15,), (15,)]


def test_reprs_as_torch():
    assert repr(nn.RNN(10, 20)) == "RNN(10, 20)"
    assert repr(nn.RNN(10, 20, 2, nonlinearity="relu")) == "RNN(10, 20, num_layers=2)"
    assert (repr(nn.LSTM(10, 20, num_layers=2, batch_first=True, dropout=0.5, bias=False,
                         bidirectional=True, proj_size=5))
            == "LSTM(10, 20, proj_size=5, num_layers=2, bias=False, batch_first=True, "
               "dropout=0.5, bidirectional=True)")
    assert repr(nn.GRUCell(4, 6, bias=False)) == "GRUCell(4, 6, bias=False)"
    assert repr(nn.RNNCell(4, 6, nonlinearity="relu")) == "RNNCell(4, 6, nonlinearity=relu)"
    assert repr(nn.LSTMCell(4, 6)) == "LSTMCell(4, 6)"


def test_shapes_of_outputs():
    lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)
    out, (h, c) = lstm(ember.randn(2, 7, 3))
    assert out.shape == (2, 7, 8) and h.shape == (4, 2, 4) and c.shape == (4, 2, 4)
    out, h = nn.GRU(3, 4)(ember.randn(7, 3))
    assert out.shape == (7, 4) and h.shape == (1, 4)


def test_packing_round_trip_and_pad_sequence():
    seqs = [ember.ones(3, 2), ember.ones(1, 2) * 2, ember.ones(2, 2) * 3]
    padded = rnn_utils.pad_sequence(seqs, batch_first=True)
    assert padded.shape == (3, 3, 2) and padded[1, 1:].abs().sum().item() == 0
    assert rnn_utils.pad_sequence(seqs, padding_value=-1.0, padding_side="left")[0, 1, 0] == -1
    packed = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices.tolist() == [0, 2, 1]
    assert packed.unsorted_indices.tolist() == [0, 2, 1]
    back = rnn_utils.unpack_sequence(packed)
    assert [tuple(s.shape) for s in back] == [(3, 2), (1, 2), (2, 2)]
    again, lengths = rnn_utils.pad_packed_sequence(packed, batch_first=True, total_length=5)
    assert again.shape == (3, 5, 2) and lengths.tolist() == [3, 1, 2]
    assert lengths.dtype == ember.int64


def test_errors_as_torch():
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(ember.zeros(3, 2, 1), [1, 3])
    packed = rnn_utils.pack_padded_sequence(ember.zeros(3, 2, 1), [3, 1])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        rnn_utils.pad_packed_sequence(packed, total_length=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=2)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater"):
        nn.GRU(3, 4, dropout=0.5)
    lstm = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match=r"input.size\(-1\) must be equal to input_size. "
                                           r"Expected 3, got 5"):
        lstm(ember.zeros(2, 1, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 1, 4\), got "
                                           r"\[1, 2, 4\]"):
        lstm(ember.zeros(2, 1, 3), (ember.zeros(1, 1, 4), ember.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\), got "
                                           r"\[1, 1, 4\]"):
        nn.RNN(3, 4)(ember.zeros(5, 2, 3), ember.zeros(1, 1, 4))
    with pytest.raises(ValueError, match="GRU: Expected input to be 2D or 3D, got 4D instead"):
        nn.GRU(3, 4)(ember.zeros(1, 1, 1, 3))
    with pytest.raises(ValueError, match=r"RNN input dtype \(ember.float64\) does not match"):
        nn.RNN(3, 4)(ember.zeros(5, 2, 3, dtype=ember.float64))
    with pytest.raises(ValueError, match="LSTMCell: Expected hx\\[1\\] to be 1D or 2D"):
        nn.LSTMCell(3, 4)(ember.zeros(3), (ember.zeros(4), ember.zeros(1, 1, 4)))


def test_dropout_between_layers_only_in_training():
    ember.manual_seed(0)
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = ember.randn(5, 2, 3)
    gru.eval()
    a, _ = gru(x)
    b, _ = gru(x)
    assert ember.equal(a, b)
    gru.train()
    c, _ = gru(x)
    assert not ember.equal(a, c)
