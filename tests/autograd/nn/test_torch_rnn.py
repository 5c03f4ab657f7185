"""Recurrent layers against live torch: the seeded cases, torch's own state_dict loaded into
Ember, reprs and error messages."""
import pathlib
import sys

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from rnn_cases import CASES, run_rnn_case  # noqa: E402


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_case_matches_torch(name, dtype):
    tv, tg = run_rnn_case(torch, name, dtype)
    ev, eg = run_rnn_case(ember, name, dtype)
    tol = dict(rtol=1e-9, atol=1e-11) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    for a, b in zip(ev + eg, tv + tg):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_torch_state_dict_loads_and_gives_torch_outputs(kind):
    torch.manual_seed(0)
    t_layer = getattr(torch.nn, kind)(4, 6, num_layers=2, batch_first=True)
    e_layer = getattr(ember.nn, kind)(4, 6, num_layers=2, batch_first=True)
    e_layer.load_state_dict({k: ember.tensor(v.numpy()) for k, v in
                             t_layer.state_dict().items()})
    x = torch.randn(3, 5, 4)
    t_out = t_layer(x)[0]
    e_out = e_layer(ember.tensor(x.numpy()))[0]
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


CONSTRUCTORS = [
    ("RNN", (10, 20), {}), ("RNN", (10, 20, 2), {"nonlinearity": "relu", "bias": False}),
    ("LSTM", (10, 20), {"num_layers": 3, "batch_first": True, "dropout": 0.25,
                        "bidirectional": True, "proj_size": 7}),
    ("GRU", (5, 6), {"bidirectional": True}), ("RNNCell", (3, 4), {"nonlinearity": "relu"}),
    ("LSTMCell", (3, 4), {"bias": False}), ("GRUCell", (3, 4), {}),
]


@pytest.mark.parametrize("kind,args,kwargs", CONSTRUCTORS)
def test_repr_and_parameters_as_torch(kind, args, kwargs):
    t_layer = getattr(torch.nn, kind)(*args, **kwargs)
    e_layer = getattr(ember.nn, kind)(*args, **kwargs)
    assert repr(e_layer) == repr(t_layer)
    assert ([(n, tuple(p.shape)) for n, p in e_layer.named_parameters()]
            == [(n, tuple(p.shape)) for n, p in t_layer.named_parameters()])


BAD_CALLS = [
    lambda T: T.nn.RNN(3, 4, nonlinearity="gelu"),
    lambda T: T.nn.LSTM(3, 4, proj_size=5),
    lambda T: T.nn.GRU(3, 0),
    lambda T: T.nn.GRU(3, 4.0),
    lambda T: T.nn.LSTM(3, 4)(T.zeros(2, 1, 5)),
    lambda T: T.nn.LSTM(3, 4)(T.zeros(2, 3), (T.zeros(1, 1, 4), T.zeros(1, 1, 4))),
    lambda T: T.nn.GRU(3, 4)(T.zeros(2, 2, 3), T.zeros(2, 2, 4)),
    lambda T: T.nn.RNN(3, 4)(T.zeros(2, 3, 3, 3)),
    lambda T: T.nn.GRUCell(3, 4)(T.zeros(2, 2, 3)),
    lambda T: T.nn.utils.rnn.pack_padded_sequence(T.zeros(3, 2, 1), [2, 3]),
    lambda T: T.nn.utils.rnn.pad_sequence([T.zeros(2)], padding_side="top"),
    lambda T: T.nn.utils.rnn.pack_padded_sequence(T.zeros(3, 2, 1), [3, 0]),
    lambda T: T.nn.utils.rnn.pack_padded_sequence(T.zeros(3, 2, 1), [3, 2, 1]),
    lambda T: T.nn.utils.rnn.pad_packed_sequence(
        T.nn.utils.rnn.pack_padded_sequence(T.zeros(3, 2, 1), [3, 2]), total_length=1),
]


@pytest.mark.parametrize("call", range(len(BAD_CALLS)))
def test_errors_as_torch(call):
    with pytest.raises(Exception) as t_err:
        BAD_CALLS[call](torch)
    with pytest.raises(Exception) as e_err:
        BAD_CALLS[call](ember)
    assert type(e_err.value) is type(t_err.value)
    assert str(e_err.value) == str(t_err.value)
