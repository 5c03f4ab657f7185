"""The DistributedDataParallel cases checked against torch's: the models, the training loop
and the hyper-parameters, written once for a ``torch``-like module (torch itself in
tools/make_golden_ddp.py, ember in mpi_ddp_vs_torch.py), as a user's script would be.

Each case trains for ``STEPS`` SGD-momentum steps on 2 ranks, rank r taking half ``r`` of
every batch of ``BATCH`` samples:
- ``plain``: convolution, linear layers, no BatchNorm;
- ``local_bn``: with BatchNorm under DDP, each rank normalising its own half (torch's DDP
  semantics without SyncBatchNorm; rank 0's running statistics are broadcast before each
  forward, so each rank ends with its own last update of them);
- ``sync_bn``: the same model with SyncBatchNorm. torch 2.13 refuses SyncBatchNorm on CPU
  tensors ("SyncBatchNorm layers only work with GPU modules"), so its golden is what
  SyncBatchNorm stands for: one torch process training plain BatchNorm on the whole batch,
  each rank's loss being the loss of its half of that whole-batch output.
"""
from typing import Any

import numpy as np

CASES = ("plain", "local_bn", "sync_bn")
STEPS = 5
BATCH = 8  # the whole batch; each of the 2 ranks trains on half
CLASSES = 4
INPUT = (2, 4, 4)
SGD = {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3}


def build(torch: Any, case: str) -> Any:
    """The case's model, BatchNorm plain in ``local_bn`` and ``sync_bn`` (converted by the
    caller where it runs SyncBatchNorm)."""
    nn = torch.nn
    bn = case != "plain"
    layers = [nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3) if bn else None, nn.ReLU(), nn.Flatten(),
              nn.Linear(12, 6), nn.BatchNorm1d(6) if bn else None, nn.Tanh(),
              nn.Linear(6, CLASSES)]
    return nn.Sequential(*[m for m in layers if m is not None])


def data() -> tuple[np.ndarray, np.ndarray]:
    """``STEPS`` batches of inputs and class labels (the golden stores them)."""
    rng = np.random.default_rng(17)
    x = rng.standard_normal((STEPS, BATCH, *INPUT)).astype(np.float32) * 2 + 0.5
    y = rng.integers(0, CLASSES, (STEPS, BATCH)).astype(np.int64)
    return x, y


def half(a: Any, rank: int) -> Any:
    """Rank ``rank``'s half of a batch (an array or a tensor)."""
    n = a.shape[0] // 2
    return a[rank * n:(rank + 1) * n]


def train(torch: Any, model: Any, xs: np.ndarray, ys: np.ndarray,
          whole: bool = False) -> list[list[float]]:
    """Trains ``model`` on ``xs, ys`` batch after batch; returns each step's losses: this
    rank's one (``model`` a DDP wrapper given this rank's halves), or with ``whole`` (one
    process, whole batches) those of the two halves of the whole-batch output."""
    opt = torch.optim.SGD(model.parameters(), **SGD)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for x, y in zip(xs, ys):
        opt.zero_grad()
        out = model(torch.tensor(x))
        target = torch.tensor(y)
        loss = loss_fn(out, target)
        loss.backward()
        opt.step()
        losses.append([loss_fn(half(out, r), half(target, r)).item() for r in (0, 1)]
                      if whole else [loss.item()])
    return losses


def state(model: Any) -> dict[str, np.ndarray]:
    """The state dict as numpy arrays (``module.`` prefix of a DDP wrapper removed)."""
    module = getattr(model, "module", model)
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def split_state(model: Any) -> tuple[list[str], list[str]]:
    """The state dict's keys: the parameters', then the buffers' (BatchNorm statistics)."""
    params = {k for k, _ in model.named_parameters()}
    keys = list(model.state_dict())
    return [k for k in keys if k in params], [k for k in keys if k not in params]


def flatten(st: dict[str, np.ndarray], keys: list[str]) -> np.ndarray:
    """``keys``' values of a state dict as one float32 vector (the golden stores a few
    vectors, not one small array per key: an npz entry costs ~250 bytes of headers)."""
    if not keys:
        return np.zeros(0, np.float32)
    return np.concatenate([st[k].reshape(-1).astype(np.float32) for k in keys])


def unflatten(flat: np.ndarray, like: dict[str, np.ndarray],
              keys: list[str]) -> dict[str, np.ndarray]:
    """The inverse of ``flatten``, shapes and dtypes taken from the state dict ``like``."""
    out, start = {}, 0
    for k in keys:
        n = like[k].size
        out[k] = flat[start:start + n].reshape(like[k].shape).astype(like[k].dtype)
        start += n
    assert start == flat.size, (start, flat.size)
    return out
