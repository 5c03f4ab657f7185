"""Recurrent-layer cases run the same way on torch and on Ember.

Each case builds a layer, fills every parameter (in ``named_parameters`` order) and the
inputs from one seeded NumPy stream, runs forward, then backward of a weighted sum of the
outputs; ``run_rnn_case`` returns NumPy arrays so the caller can compare frameworks or
write goldens (tools/make_golden_rnn.py).
"""
import numpy as np


# name -> (class name, constructor kwargs, input shape, hidden-state shapes, packing)
CASES = {
    "rnn_tanh": ("RNN", dict(input_size=3, hidden_size=4), (5, 2, 3), [(1, 2, 4)], None),
    "rnn_relu_deep_bidir_batch_first": (
        "RNN", dict(input_size=3, hidden_size=4, num_layers=2, nonlinearity="relu",
                    bidirectional=True, batch_first=True), (2, 5, 3), [], None),
    "lstm_two_layers": ("LSTM", dict(input_size=3, hidden_size=4, num_layers=2), (5, 2, 3),
                        [(2, 2, 4), (2, 2, 4)], None),
    "lstm_bidir_proj": ("LSTM", dict(input_size=3, hidden_size=4, proj_size=2,
                                     bidirectional=True), (5, 2, 3), [], None),
    "gru_unbatched_nobias": ("GRU", dict(input_size=3, hidden_size=4, bias=False), (5, 3),
                             [(1, 4)], None),
    "gru_packed_unsorted_bidir": ("GRU", dict(input_size=3, hidden_size=4, bidirectional=True),
                                  (5, 3, 3), [(2, 3, 4)], ([2, 5, 3], False, False)),
    "lstm_packed_sorted_batch_first": ("LSTM", dict(input_size=3, hidden_size=4,
                                                    batch_first=True, num_layers=2),
                                       (3, 5, 3), [], ([5, 3, 1], True, True)),
    "rnn_cell": ("RNNCell", dict(input_size=3, hidden_size=4), (2, 3), [(2, 4)], None),
    "rnn_cell_relu_unbatched": ("RNNCell", dict(input_size=3, hidden_size=4,
                                                nonlinearity="relu"), (3,), [], None),
    "lstm_cell": ("LSTMCell", dict(input_size=3, hidden_size=4), (2, 3), [(2, 4), (2, 4)],
                  None),
    "gru_cell_unbatched": ("GRUCell", dict(input_size=3, hidden_size=4), (3,), [(4,)], None),
}


def _flatten(out):
    if isinstance(out, tuple):
        return [t for item in out for t in _flatten(item)]
    return [out]


def run_rnn_case(torch, name, dtype="float64", seed=0):
    """Returns (outputs, grads of inputs then of parameters) as lists of NumPy arrays."""
    kind, kwargs, in_shape, hx_shapes, packing = CASES[name]
    rng = np.random.default_rng(seed)
    np_dtype = np.dtype(dtype)
    torch_dtype = getattr(torch, dtype)
    layer = getattr(torch.nn, kind)(**kwargs).to(torch_dtype)
    params = list(layer.parameters())
    with torch.no_grad():
        for p in params:
            p.copy_(torch.from_numpy(rng.uniform(-0.6, 0.6, tuple(p.shape)).astype(np_dtype)))

    def leaf(shape):
        return torch.from_numpy(rng.standard_normal(shape).astype(np_dtype)).requires_grad_()

    x = leaf(in_shape)
    hx = [leaf(s) for s in hx_shapes]
    args = [x]
    if packing is not None:
        lengths, enforce_sorted, batch_first = packing
        args[0] = torch.nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    if hx:
        args.append(tuple(hx) if kind.startswith("LSTM") else hx[0])
    out = layer(*args)
    if packing is not None:
        padded, lens = torch.nn.utils.rnn.pad_packed_sequence(out[0], batch_first=packing[2])
        out = (padded, out[1])
        assert lens.tolist() == packing[0]
    outs = _flatten(out)
    loss = sum((o * torch.from_numpy(rng.standard_normal(tuple(o.shape)).astype(np_dtype)))
               .sum() for o in outs)
    loss.backward()
    values = [o.detach().numpy() for o in outs]
    grads = [t.grad.numpy() for t in [x] + hx + params]
    return values, grads
