"""Finetuning with a frozen backbone and no augmentation: features computed once, the head
trained on them.

The frozen backbone runs in eval mode, so each image's features (the input of the model's
head, ``_architectures.backbone_features``) are the same in every epoch: they are computed
once, and the epochs train only the head (with what follows it to the logits: SqueezeNet's
ReLU and pooling) on them: the same model as running the frozen network every epoch, at a
fraction of the cost. The head trains on features standardised per channel; the scaling is
folded into its weights at the end, so the saved model is a plain torchvision model.
"""
import math
import time

import numpy as np
from tqdm import tqdm

import ember
from ember import nn, optim

from . import _interop as io
from ._architectures import backbone_features, feature_tail, head_modules
from ._divergence import DivergenceGuard
from ._training_data import batches


def set_lr(optimizer, base_lr, epoch, epochs):
    """Cosine decay from base_lr to 0 over the run: big steps first, a settled finish."""
    lr = 0.5 * base_lr * (1 + math.cos(math.pi * (epoch - 1) / epochs))
    for group in optimizer.param_groups:
        group["lr"] = lr


def step_stats(logits, target_np, loss_value):
    pred = io.to_numpy(logits).argmax(axis=1)
    return loss_value * len(target_np), int((pred == target_np).sum())


def _feature_shape(model, arch, dataset, index):
    """The per-image feature shape, from one image (for a rank that has none of its own)."""
    images, _ = next(batches(dataset, [index], 1))
    with ember.no_grad():
        return tuple(backbone_features(model, arch, io.from_numpy(images)).shape[1:])


def extract(model, arch, dataset, indices, cfg, progress, desc):
    """(features (N, ...) float32, labels (N,)) of the images ``indices``."""
    feats, labels = [], []
    with ember.no_grad():
        for images, targets in batches(dataset, indices, cfg["batch_size"], desc, progress,
                                       cfg.get("workers", 0)):
            x = backbone_features(model, arch, io.from_numpy(images))
            feats.append(io.to_numpy(x).copy())
            labels.append(targets)
    if not feats:
        return None, np.zeros(0, np.int64)
    return np.concatenate(feats), np.concatenate(labels)


def extract_on_all_ranks(model, arch, dataset, indices, cfg, progress, ranks):
    """Each rank extracts the features of its shard of ``indices``; rank 0 gathers them in
    the order of ``indices`` (labels in an extra column, exact in float32 below 2**24);
    the other ranks get (None, None)."""
    import ember.distributed as dist

    feats, labels = extract(model, arch, dataset, ranks.shard(indices), cfg, progress,
                            "computing backbone features")
    shape = feats.shape[1:] if feats is not None else _feature_shape(model, arch, dataset,
                                                                     indices[0])
    width = int(np.prod(shape))
    rows = -(-len(indices) // ranks.size)
    block = np.zeros((rows, width + 1), np.float32)  # shards padded to equal size
    if feats is not None:
        block[:len(feats), :-1] = feats.reshape(len(feats), width)
        block[:len(feats), -1] = labels
    gathered = [ember.zeros(block.shape) for _ in range(ranks.size)] if ranks.main else None
    dist.gather(io.from_numpy(block), gathered, dst=0)
    if not ranks.main:
        return None, None
    every = np.empty((len(indices), block.shape[1]), np.float32)
    for r, part in enumerate(gathered):
        every[r::ranks.size] = io.to_numpy(part)[:len(indices[r::ranks.size])]
    return every[:, :-1].reshape((len(indices),) + shape), every[:, -1].astype(np.int64)


def _channel_axes(feats):
    return (0,) + tuple(range(2, feats.ndim))


def standardiser(feats):
    """Per-channel mean and scale of the training features (scale 1 where they are flat),
    shaped to broadcast against them."""
    axes = _channel_axes(feats)
    mu = feats.mean(axis=axes, keepdims=True)[0]
    sigma = feats.std(axis=axes, keepdims=True)[0]
    sigma[sigma < 1e-6 * max(float(sigma.max()), 1e-30)] = 1.0
    return mu.astype(np.float32), sigma.astype(np.float32)


def _folded(head, mu, sigma):
    """head(x) = W (x - mu) / sigma + b as (weight, bias) of the same layer on raw features
    (a Linear, or SqueezeNet's 1x1 convolution: the same sum over input channels)."""
    shape = tuple(head.weight.shape)
    w = io.to_numpy(head.weight.detach()).astype(np.float64).reshape(shape[0], shape[1])
    b = io.to_numpy(head.bias.detach()).astype(np.float64)
    w_raw = w / sigma.reshape(-1)
    b_raw = b - w_raw @ mu.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):  # checked by the caller
        return w_raw.reshape(shape).astype(np.float32), b_raw.astype(np.float32)


def fold_standardiser(head, mu, sigma):
    """Rewrites the head, trained on standardised features, as the same layer on raw ones."""
    w_raw, b_raw = _folded(head, mu, sigma)
    with ember.no_grad():
        head.weight.copy_(io.from_numpy(w_raw))
        head.bias.copy_(io.from_numpy(b_raw))


def train_head_on_features(model, arch, feats, labels, split, cfg, run):
    """Frozen backbone: epochs over cached features, updating only the model's head."""
    train_idx, val_idx = split
    mu, sigma = standardiser(feats[train_idx])
    feats = (feats - mu) / sigma
    arrays = feats[train_idx], labels[train_idx], feats[val_idx], labels[val_idx]
    head = head_modules(model, arch)[0]
    try:
        _head_epochs(feature_tail(model, arch), head, arrays, (mu, sigma), cfg, run)
    finally:  # a diverged run still saves a plain model (with its last usable head)
        fold_standardiser(head, mu, sigma)


def _head_epochs(tail, head, arrays, scaling, cfg, run):
    ftr, ytr, fval, yval = arrays
    tail.eval()  # SqueezeNet's tail has no dropout after the head; this keeps it so
    optimizer = optim.SGD(head.parameters(), lr=cfg["lr"], momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    rng = np.random.default_rng(cfg["seed"])
    bs = cfg["batch_size"]
    guard = DivergenceGuard(head, head.parameters(), cfg, run.epochs, math.ceil(len(ytr) / bs))
    for epoch in range(1, run.epochs + 1):
        t0 = time.perf_counter()
        set_lr(optimizer, cfg["lr"], epoch, run.epochs)
        order = rng.permutation(len(ytr))
        loss_sum, correct = 0.0, 0
        bar = tqdm(range(0, len(order), bs), desc=f"epoch {epoch}/{run.epochs}",
                   unit="batch", leave=False, disable=not run.progress)
        for step, start in enumerate(bar, 1):
            b = order[start:start + bs]
            guard.before_step()
            logits = tail(io.from_numpy(ftr[b]))
            loss = criterion(logits, io.from_numpy(ytr[b]))
            value = guard.loss(loss, epoch, step)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            guard.after_step(epoch, step)
            s_loss, s_ok = step_stats(logits.detach(), ytr[b], value)
            loss_sum, correct = loss_sum + s_loss, correct + s_ok
            bar.set_postfix(loss=f"{value:.3f}")
        with ember.no_grad():
            logits = tail(io.from_numpy(fval))
            vloss = criterion(logits, io.from_numpy(yval))
        v_loss, v_ok = step_stats(logits, yval, float(vloss.item()))
        run.record(epoch, time.perf_counter() - t0, (loss_sum / len(ytr), correct / len(ytr)),
                   (v_loss / len(yval), v_ok / len(yval)))
        folds = all(np.isfinite(a).all() for a in _folded(head, *scaling))
        guard.end_epoch(epoch, v_loss, None if folds else "the head's weights overflow "
                        "float32 once the feature scaling is folded into them")
