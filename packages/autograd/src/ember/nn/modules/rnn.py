"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

Composed from differentiable Tensor ops (linear, sigmoid, tanh, cat, slicing), so autograd
needs nothing new. Gate order and formulas are torch's (LSTM ``i, f, g, o``; GRU ``r, z, n``
with ``r`` applied to ``W_hn h + b_hn``). Every sequence is handled in one layout: a flat
``(steps * batch, features)`` tensor plus the batch size at each step, which is what a
``PackedSequence`` already is; a padded input is the special case where every step has the
full batch.
"""
import math
import numbers
import warnings

from ..._creation import zeros
from ..._ops.shape import cat, stack
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from ._util import empty
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---- one time step of each kind: ``gi`` is the input projection x W_ih^T + b_ih ----------
def _tanh_step(gi, state, w_hh, b_hh, w_hr):
    return (F.linear(state[0], w_hh, b_hh).add(gi).tanh(),)


def _relu_step(gi, state, w_hh, b_hh, w_hr):
    return (F.relu(F.linear(state[0], w_hh, b_hh).add(gi)),)


def _lstm_step(gi, state, w_hh, b_hh, w_hr):
    h, c = state
    i, f, g, o = (gi + F.linear(h, w_hh, b_hh)).chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(gi, state, w_hh, b_hh, w_hr):
    h = state[0]
    i_r, i_z, i_n = gi.chunk(3, 1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, 1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return ((1 - z) * n + z * h,)


_STEPS = {"RNN_TANH": _tanh_step, "RNN_RELU": _relu_step, "LSTM": _lstm_step, "GRU": _gru_step}


def _run_direction(step, gi, batch_sizes, state0, weights, reverse):
    """One layer, one direction over a flat sequence; returns (flat output, final state).

    ``state0`` holds (batch, features) tensors sorted by decreasing length, as the steps'
    batch sizes are. Going forward, sequences drop out of the batch as they end (their rows
    keep their last state); going backward, each sequence joins at its own last step with
    its initial state.
    """
    # one split node: its backward concatenates the steps' gradients once, where slicing
    # each step would make the engine add a full-size gradient per step
    steps = gi.split(batch_sizes) if len(batch_sizes) > 1 else (gi,)
    order = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
    outputs = [None] * len(batch_sizes)
    state = state0 if not reverse else tuple(s[:batch_sizes[-1]] for s in state0)
    for t in order:
        b = batch_sizes[t]
        active = state[0].shape[0]
        if reverse and b > active:
            state = tuple(cat([s, s0[active:b]]) for s, s0 in zip(state, state0))
        prev = state if b == state[0].shape[0] else tuple(s[:b] for s in state)
        new = step(steps[t], prev, *weights)
        outputs[t] = new[0]
        if reverse or b == state[0].shape[0]:
            state = new
        else:
            state = tuple(cat([n, s[b:]]) for n, s in zip(new, state))
    out = outputs[0] if len(outputs) == 1 else cat(outputs)
    return out, state


class RNNBase(Module):
    """Shared constructor, parameters, argument checks and the layer/direction loop."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        for name, value in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * dirs
            for direction in range(dirs):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = [base + suffix for base, _ in shapes]
                for name, (_, shape) in zip(names, shapes):
                    setattr(self, name, Parameter(empty(*shape, dtype=dtype, device=device)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """A no-op on the CPU (torch compacts weights for cuDNN here)."""

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ---- argument checks (torch's messages) -------------------------------------------------
    def check_input(self, input, batch_sizes):
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype})."
                f" Convert input: input.to({weight_dtype}), or convert model: "
                f"model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = batch_sizes[0]
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        dirs = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * dirs, mini_batch, real_hidden)

    def check_hidden_size(self, hx, expected, msg="Expected hidden size {}, got {}"):
        if hx.size() != expected:
            raise RuntimeError(msg.format(expected, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    # ---- forward ----------------------------------------------------------------------------
    def _prepare(self, input, hx, n_states):
        """Unpack/unbatch the input; returns (flat, batch_sizes, hx, how to rebuild output)."""
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_idx, unsorted_idx = input
            sizes = [int(b) for b in batch_sizes.tolist()]
            if hx is not None and sorted_idx is not None:
                hx = tuple(h.index_select(1, sorted_idx) for h in hx)
            return data, sizes, hx, ("packed", input), sizes[0]
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(self.mode, self.mode)
        if input.dim() not in (2, 3):
            tail = " tensor instead" if name == "RNN" else " instead"
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{tail}")
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if hx is not None:
            want = 3 if batched else 2
            if any(h.dim() != want for h in hx):
                kind = ("batched 3-D", "3-D") if batched else ("unbatched 2-D", "2-D")
                if n_states == 2:
                    raise RuntimeError(
                        f"For {kind[0]} input, hx and cx should also be {kind[1]} but got "
                        f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                raise RuntimeError(f"For {kind[0]} input, hx should also be {kind[1]} but "
                                   f"got {hx[0].dim()}-D tensor")
            if not batched:
                hx = tuple(h.unsqueeze(1) for h in hx)
        if not batched:
            input = input.unsqueeze(batch_dim)
        seq = input.transpose(0, 1) if self.batch_first else input
        steps, batch = seq.shape[0], seq.shape[1]
        flat = seq.reshape(steps * batch, seq.shape[2]) if steps * batch else seq
        return flat, [batch] * steps, hx, ("dense", input, batched), batch

    def _run(self, input, hx, n_states):
        flat, sizes, hx, how, batch = self._prepare(input, hx, n_states)
        dirs = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            shapes = [real_hidden, self.hidden_size][:n_states]
            hx = tuple(zeros(self.num_layers * dirs, batch, h, dtype=flat.dtype)
                       for h in shapes)
        data = flat if how[0] == "packed" else how[1]
        self.check_forward_args(data, hx[0], sizes if how[0] == "packed" else None)
        if n_states == 2:
            expected_c = self.get_expected_hidden_size(data, sizes if how[0] == "packed"
                                                       else None)[:2] + (self.hidden_size,)
            self.check_hidden_size(hx[1], expected_c, "Expected hidden[1] size {}, got {}")
        step = _STEPS[self.mode]
        layer_in = flat
        finals = [[] for _ in range(n_states)]
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                names = self._all_weights[layer * dirs + d]
                params = dict(zip((n.rsplit("_l", 1)[0] for n in names),
                                  (getattr(self, n) for n in names)))
                gi = F.linear(layer_in, params["weight_ih"], params.get("bias_ih"))
                state0 = tuple(h[layer * dirs + d] for h in hx)
                weights = (params["weight_hh"], params.get("bias_hh"), params.get("weight_hr"))
                out, state = _run_direction(step, gi, sizes, state0, weights, reverse=d == 1)
                outs.append(out)
                for k in range(n_states):
                    finals[k].append(state[k])
            layer_in = outs[0] if dirs == 1 else cat(outs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        hidden = tuple(stack(f) for f in finals)
        return self._finish(layer_in, hidden, how, sizes)

    def _finish(self, flat_out, hidden, how, sizes):
        if how[0] == "packed":
            packed = how[1]
            if packed.unsorted_indices is not None:
                hidden = tuple(h.index_select(1, packed.unsorted_indices) for h in hidden)
            out = PackedSequence(flat_out, packed.batch_sizes, packed.sorted_indices,
                                 packed.unsorted_indices)
            return out, hidden
        _, input, batched = how
        steps = len(sizes)
        out = flat_out.reshape(steps, sizes[0] if steps else 0, flat_out.shape[-1])
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
            hidden = tuple(h.squeeze(1) for h in hidden)
        return out, hidden


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        out, hidden = self._run(input, None if hx is None else (hx,), 1)
        return out, hidden[0]


class LSTM(RNNBase):
    """Long short-term memory, optionally with a projection of ``h`` (``proj_size``)."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        out, hidden = self._run(input, None if hx is None else tuple(hx), 2)
        return out, hidden


class GRU(RNNBase):
    """Gated recurrent unit (torch's formulation: ``r`` scales ``W_hn h + b_hn``)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        out, hidden = self._run(input, None if hx is None else (hx,), 1)
        return out, hidden[0]


# ---- cells ---------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` of one cell."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(rows, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(rows, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(rows, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(rows, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _cell(self, name, input, hx, n_states):
        """Checks and batches the arguments, runs one step, unbatches the result."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        if hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    what = "hidden" if n_states == 1 else f"hx[{idx}]"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got "
                                     f"{value.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            blank = zeros(input.size(0), self.hidden_size, dtype=input.dtype)
            hx = (blank,) * n_states
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx)
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} "
                               f"expected {self.input_size}")
        for k, h in enumerate(hx):
            label = "" if n_states == 1 else f"[{k}]"
            if h.size(0) != input.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match "
                                   f"hidden{label} batch size {h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got "
                                   f"{h.size(1)}, expected {self.hidden_size}")
        gi = F.linear(input, self.weight_ih, self.bias_ih)
        out = self._step(gi, hx, self.weight_hh, self.bias_hh, None)
        if not batched:
            out = tuple(o.squeeze(0) for o in out)
        return out


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    @property
    def _step(self):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return _tanh_step if self.nonlinearity == "tanh" else _relu_step

    def forward(self, input, hx=None):
        return self._cell("RNNCell", input, None if hx is None else (hx,), 1)[0]


class LSTMCell(RNNCellBase):
    _step = staticmethod(_lstm_step)

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        return self._cell("LSTMCell", input, None if hx is None else tuple(hx), 2)


class GRUCell(RNNCellBase):
    _step = staticmethod(_gru_step)

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        return self._cell("GRUCell", input, None if hx is None else (hx,), 1)[0]
