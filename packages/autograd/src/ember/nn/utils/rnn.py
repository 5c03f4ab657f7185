"""Variable-length batches for the recurrent layers: ``PackedSequence`` and its helpers.

A packed sequence stores the steps of a batch one after another, each step holding only
the sequences still running (longest first), with ``batch_sizes[t]`` rows at step ``t``.
Packing and unpacking are slicing and concatenation, so gradients flow through them.
"""
from collections import namedtuple
from typing import Any, Optional

from ember_tensor import float32, float64

from ..._creation import as_tensor, full, tensor
from ..._ops.shape import cat, stack
from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]

# named PackedSequence, as torch's base is, so reprs and pickles read that name
_PackedBase = namedtuple("PackedSequence",  # type: ignore[name-match]
                         ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def invert_permutation(permutation: Optional[Tensor]) -> Optional[Tensor]:
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    order = permutation.tolist()
    inverse = [0] * len(order)
    for position, index in enumerate(order):
        inverse[index] = position
    return tensor(inverse, dtype=permutation.dtype)


class PackedSequence(_PackedBase):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)``, as torch's namedtuple."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes, ...)) form
            data, batch_sizes = data[0], data[1]
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data):
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._with_data(data)

    def cpu(self, *args, **kwargs):
        return self

    def cuda(self, *args, **kwargs):
        return self._with_data(self.data.cuda(*args, **kwargs))  # raises as torch's CPU build

    def double(self):
        return self.to(dtype=float64)

    def float(self):
        return self.to(dtype=float32)

    def half(self):
        return self._with_data(self.data.half())

    def long(self):
        return self._with_data(self.data.long())

    def int(self):
        return self._with_data(self.data.int())

    def detach(self):
        return self._with_data(self.data.detach())

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _lengths_list(lengths):
    if isinstance(lengths, Tensor):
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Packs a padded ``(T, B, *)`` (or ``(B, T, *)``) batch whose sequences have ``lengths``."""
    lens = _lengths_list(lengths)
    batch_dim = 0 if batch_first else 1
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        sorted_indices = None
    else:
        order = sorted(range(len(lens)), key=lambda i: -lens[i])
        sorted_indices = tensor(order)
        lens = [lens[i] for i in order]
        input = input.index_select(batch_dim, sorted_indices)
    if input.size(batch_dim) != len(lens):
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lens)} (batch_size={input.size(batch_dim)})")
    if lens and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if batch_first:
        input = input.transpose(0, 1)
    steps = lens[0] if lens else 0
    if steps > input.size(0):
        raise RuntimeError(f"Expected sequence length to be larger than or equal to "
                           f"{steps}, but got {input.size(0)}")
    sizes = [sum(1 for n in lens if n > t) for t in range(steps)]
    data = cat([input[t, :b] for t, b in enumerate(sizes)])
    return PackedSequence(data, tensor(sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: Optional[int] = None):
    """Inverse of ``pack_padded_sequence``: ``(padded, lengths)`` in the original order."""
    data, batch_sizes, _, unsorted = sequence
    sizes = [int(b) for b in batch_sizes.tolist()]
    steps, batch = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
    else:
        total_length = steps
    tail = tuple(data.shape[1:])
    rows, offset = [], 0
    for b in sizes:
        part = data[offset:offset + b]
        offset += b
        if b < batch:
            part = cat([part, full((batch - b,) + tail, padding_value, dtype=data.dtype)])
        rows.append(part)
    if total_length > steps:
        pad = full((batch,) + tail, padding_value, dtype=data.dtype)
        rows.extend([pad] * (total_length - steps))
    padded = stack(rows)
    lengths: Any = [sum(1 for b in sizes if b > i) for i in range(batch)]  # then a tensor
    lengths = tensor(lengths)
    if batch_first:
        padded = padded.transpose(0, 1)
    if unsorted is not None:
        padded = padded.index_select(0 if batch_first else 1, unsorted)
        lengths = lengths.index_select(0, unsorted)
    return padded, lengths


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stacks ``(L_i, *)`` tensors into ``(L_max, B, *)`` (or ``(B, L_max, *)``), padded."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.size(0) for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.size(0)
        if missing:
            pad = full((missing,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype)
            s = cat([s, pad] if padding_side == "right" else [pad, s])
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False):
    """Splits a padded batch back into its sequences (a list of ``(L_i, *)`` tensors)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:n] for seq, n in zip(padded_sequences.unbind(0), _lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Packs a list of ``(L_i, *)`` tensors (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = as_tensor([s.size(0) for s in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence):
    """The list of sequences a ``PackedSequence`` holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
