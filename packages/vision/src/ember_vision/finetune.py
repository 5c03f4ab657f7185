"""``ember-vision finetune``: a new classifier on a pretrained ResNet-18, one command.

With the backbone frozen (the default when pretrained weights are available) the backbone
runs in eval mode, so each image's 512 features are the same in every epoch: they are
computed once, and the epochs train only ``fc`` on them: the same model as running the
frozen network every epoch, at a fraction of the cost. (fc trains on standardised features;
the scaling is folded into its weights at the end.) ``--train-all`` (and random starting
weights) trains the whole network on the images, epoch after epoch.

Under ``mpiexec -n N`` (one process per rank, joined to ``ember.distributed``'s group): with
the backbone frozen each rank computes the features of its share of the images and rank 0
trains fc on all of them; training the whole network, each rank trains a
DistributedDataParallel replica (BatchNorm as SyncBatchNorm, so statistics are those of the
global batch) on its DistributedSampler shard with ``batch_size / N`` images per step, and
the validation loss and accuracy are summed over the ranks' shares. Rank 0 alone shows
progress and writes the outputs; every rank returns (or raises) the same result.

A run whose loss or weights stop being finite stops there with the weights from before the
failing step (whose validation outputs overflow: with those of the last epoch that
validated), records where and why in metrics.json, and raises ``TrainingDiverged``
(``_divergence.py``).
"""
import json
import math
import os
import time

import numpy as np
from tqdm import tqdm

import ember
from ember import nn, optim

from . import _divergence
from . import _interop as io
from ._divergence import Diverged, DivergenceGuard
from ._training_data import IMAGENET_MEAN, IMAGENET_STD, Ranks, load_dataset, split_indices
from ._weights_file import load_pretrained, load_user_weights
from .errors import TrainingDiverged, UsageError
from .models import resnet18

# Chosen so that the bare command (digits, 2-core CPU) ends well within 3 minutes: fc on
# cached features is cheap (30 epochs), a whole-network epoch is not (2 epochs, 16 px: the
# digits are 8x8 to begin with). Image folders get a size ImageNet features can work with.
DEFAULTS = {"batch_size": 64, "lr": 0.01, "val_fraction": 0.2,
            "epochs_frozen": 30, "epochs_full": 2,
            "digits_size_frozen": 32, "digits_size_full": 16, "folder_size": 112}


def _batch_slices(n, batch_size):
    """(start, stop) of ceil(n / batch_size) batches of near-equal size covering range(n).

    Train-mode BatchNorm takes its statistics over one batch, so a short last batch (10
    images in batches of 4 ending with 2) is a badly conditioned statistic; equal sizes
    avoid it (3, 3, 4). Two or more images never give a batch of one: BatchNorm cannot
    normalise a single value per channel (ResNet-18's layer4 is 1x1 at up to 32 px).
    """
    if n == 0:
        return []
    count = max(1, math.ceil(n / batch_size))
    if n >= 2:
        count = min(count, n // 2)
    return [(k * n // count, (k + 1) * n // count) for k in range(count)]


def _batches(dataset, indices, batch_size, desc, progress):
    """(images ndarray (B, 3, S, S), targets ndarray (B,)) in the order of ``indices``."""
    bar = tqdm(total=len(indices), desc=desc, unit="img", disable=not progress, leave=False)
    try:
        for start, stop in _batch_slices(len(indices), batch_size):
            chunk = indices[start:stop]
            images, targets = [], []
            for i in chunk:
                x, y = dataset[i]
                images.append(io.to_numpy(x))
                targets.append(y)
            bar.update(len(chunk))
            yield np.stack(images), np.asarray(targets, dtype=np.int64)
    finally:
        bar.close()


def backbone_features(model, x):
    """Everything of a torchvision ResNet except ``fc``: (B, 3, H, W) -> (B, 512)."""
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    x = model.layer4(model.layer3(model.layer2(model.layer1(x))))
    return ember.flatten(model.avgpool(x), 1)


def _extract(model, dataset, indices, batch_size, progress, desc):
    feats, labels = [], []
    with ember.no_grad():
        for images, targets in _batches(dataset, indices, batch_size, desc, progress):
            feats.append(io.to_numpy(backbone_features(model, io.from_numpy(images))).copy())
            labels.append(targets)
    if not feats:  # more ranks than images
        return np.zeros((0, model.fc.in_features), np.float32), np.zeros(0, np.int64)
    return np.concatenate(feats), np.concatenate(labels)


def _extract_on_all_ranks(model, dataset, indices, batch_size, progress, ranks):
    """Each rank extracts the features of its shard of ``indices``; rank 0 gathers them in
    the order of ``indices`` (labels in an extra column, exact in float32 below 2**24);
    the other ranks get (None, None)."""
    import ember.distributed as dist

    feats, labels = _extract(model, dataset, ranks.shard(indices), batch_size, progress,
                             "computing backbone features")
    rows = -(-len(indices) // ranks.size)
    block = np.zeros((rows, feats.shape[1] + 1), np.float32)  # shards padded to equal size
    block[:len(feats), :-1] = feats
    block[:len(feats), -1] = labels
    gathered = [ember.zeros(block.shape) for _ in range(ranks.size)] if ranks.main else None
    dist.gather(io.from_numpy(block), gathered, dst=0)
    if not ranks.main:
        return None, None
    every = np.empty((len(indices), block.shape[1]), np.float32)
    for r, part in enumerate(gathered):
        every[r::ranks.size] = io.to_numpy(part)[:len(indices[r::ranks.size])]
    return every[:, :-1], every[:, -1].astype(np.int64)


def _sum_over_ranks(values, ranks):
    """Each number summed over every rank (as float64); unchanged on one rank."""
    if ranks.size == 1:
        return values
    import ember.distributed as dist

    total = io.from_numpy(np.asarray(values, dtype=np.float64))
    dist.all_reduce(total)
    return io.to_numpy(total).tolist()


def _set_lr(optimizer, base_lr, epoch, epochs):
    """Cosine decay from base_lr to 0 over the run: big steps first, a settled finish."""
    lr = 0.5 * base_lr * (1 + math.cos(math.pi * (epoch - 1) / epochs))
    for group in optimizer.param_groups:
        group["lr"] = lr


def _step_stats(logits, target_np, loss_value):
    pred = io.to_numpy(logits).argmax(axis=1)
    return loss_value * len(target_np), int((pred == target_np).sum())


def _finite_or_none(x):
    """JSON has no NaN or infinity: a value that is not finite is recorded as null."""
    return x if x is not None and math.isfinite(x) else None


class _Epochs:
    """Runs epochs and keeps the per-epoch history that metrics.json and the plot show."""

    def __init__(self, epochs, log, progress):
        self.epochs, self.log, self.progress = epochs, log, progress
        self.history = []

    def record(self, epoch, seconds, train, val):
        if not math.isfinite(val[0]):
            val = (val[0], None)  # the argmax of non-finite outputs means nothing
        row = {"epoch": epoch, "train_loss": _finite_or_none(train[0]), "train_acc": train[1],
               "val_loss": _finite_or_none(val[0]), "val_acc": val[1],
               "seconds": round(seconds, 2)}
        self.history.append(row)
        val_acc = "-" if val[1] is None else f"{val[1]:.3f}"
        self.log(f"epoch {epoch}/{self.epochs}: train loss {train[0]:.4f} acc {train[1]:.3f} | "
                 f"val loss {val[0]:.4f} acc {val_acc} ({seconds:.1f}s)")


def _standardiser(feats):
    """Per-feature mean and scale of the training features (scale 1 where they are flat)."""
    mu = feats.mean(axis=0)
    sigma = feats.std(axis=0)
    sigma[sigma < 1e-6 * max(float(sigma.max()), 1e-30)] = 1.0
    return mu.astype(np.float32), sigma.astype(np.float32)


def _folded(fc, mu, sigma):
    """fc(x) = W (x - mu) / sigma + b as (weight, bias) of a plain Linear on raw features."""
    w = io.to_numpy(fc.weight.detach()).astype(np.float64)
    b = io.to_numpy(fc.bias.detach()).astype(np.float64)
    w_raw = w / sigma
    b_raw = b - w_raw @ mu
    with np.errstate(over="ignore", invalid="ignore"):  # checked by the caller
        return w_raw.astype(np.float32), b_raw.astype(np.float32)


def _fold_standardiser(fc, mu, sigma):
    """Rewrites fc, trained on standardised features, as a plain Linear on the raw ones."""
    w_raw, b_raw = _folded(fc, mu, sigma)
    with ember.no_grad():
        fc.weight.copy_(io.from_numpy(w_raw))
        fc.bias.copy_(io.from_numpy(b_raw))


def _train_fc_on_features(model, feats, labels, split, cfg, run):
    """Frozen backbone: epochs over cached features, updating only model.fc.

    The features are standardised while fc trains (their scale depends on the backbone's
    weights, and a badly scaled input makes SGD diverge or crawl); the standardisation is
    folded into fc's weight and bias at the end, so the saved model is a plain ResNet-18.
    """
    train_idx, val_idx = split
    mu, sigma = _standardiser(feats[train_idx])
    feats = (feats - mu) / sigma
    arrays = feats[train_idx], labels[train_idx], feats[val_idx], labels[val_idx]
    try:
        _fc_epochs(model.fc, arrays, (mu, sigma), cfg, run)
    finally:  # a diverged run still saves a plain ResNet-18 (with its last usable fc)
        _fold_standardiser(model.fc, mu, sigma)


def _fc_epochs(fc, arrays, scaling, cfg, run):
    ftr, ytr, fval, yval = arrays
    optimizer = optim.SGD(fc.parameters(), lr=cfg["lr"], momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    rng = np.random.default_rng(cfg["seed"])
    bs = cfg["batch_size"]
    guard = DivergenceGuard(fc, fc.parameters(), cfg, run.epochs, math.ceil(len(ytr) / bs))
    for epoch in range(1, run.epochs + 1):
        t0 = time.perf_counter()
        _set_lr(optimizer, cfg["lr"], epoch, run.epochs)
        order = rng.permutation(len(ytr))
        loss_sum, correct = 0.0, 0
        bar = tqdm(range(0, len(order), bs), desc=f"epoch {epoch}/{run.epochs}",
                   unit="batch", leave=False, disable=not run.progress)
        for step, start in enumerate(bar, 1):
            b = order[start:start + bs]
            guard.before_step()
            logits = fc(io.from_numpy(ftr[b]))
            loss = criterion(logits, io.from_numpy(ytr[b]))
            value = guard.loss(loss, epoch, step)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            guard.after_step(epoch, step)
            s_loss, s_ok = _step_stats(logits.detach(), ytr[b], value)
            loss_sum, correct = loss_sum + s_loss, correct + s_ok
            bar.set_postfix(loss=f"{value:.3f}")
        with ember.no_grad():
            logits = fc(io.from_numpy(fval))
            vloss = criterion(logits, io.from_numpy(yval))
        v_loss, v_ok = _step_stats(logits, yval, float(vloss.item()))
        run.record(epoch, time.perf_counter() - t0, (loss_sum / len(ytr), correct / len(ytr)),
                   (v_loss / len(yval), v_ok / len(yval)))
        folds = all(np.isfinite(a).all() for a in _folded(fc, *scaling))
        guard.end_epoch(epoch, v_loss, None if folds else "fc's weights overflow float32 once "
                        "the feature scaling is folded into them")


def _evaluate(model, dataset, indices, cfg, criterion, progress, ranks):
    """(loss, accuracy) over ``indices``: each rank evaluates its shard, the sums are
    reduced over the ranks."""
    loss_sum, correct = _evaluate_sums(model, dataset, ranks.shard(indices), cfg, criterion,
                                       progress)
    loss_sum, correct = _sum_over_ranks([loss_sum, correct], ranks)
    return loss_sum / len(indices), int(correct) / len(indices)


def _evaluate_sums(model, dataset, indices, cfg, criterion, progress):
    model.eval()
    loss_sum, correct = 0.0, 0
    with ember.no_grad():
        for images, targets in _batches(dataset, indices, cfg["batch_size"], "validating",
                                        progress):
            logits = model(io.from_numpy(images))
            loss = criterion(logits, io.from_numpy(targets))
            s_loss, s_ok = _step_stats(logits, targets, float(loss.item()))
            loss_sum, correct = loss_sum + s_loss, correct + s_ok
    return loss_sum, correct


class _EpochOrder:
    """The training images of each epoch, in this rank's order: a seeded permutation of
    all of them on one process; this rank's DistributedSampler shard (equal lengths on
    every rank, so all run the same number of steps) under mpiexec."""

    def __init__(self, train_idx, seed, ranks):
        self.train_idx = train_idx
        self.rng = np.random.default_rng(seed)
        self.sampler = None
        if ranks.size > 1:
            from ember.utils.data import DistributedSampler

            self.sampler = DistributedSampler(range(len(train_idx)), ranks.size, ranks.rank,
                                              shuffle=True, seed=seed)

    def __len__(self):
        return len(self.train_idx) if self.sampler is None else len(self.sampler)

    def epoch(self, epoch):
        if self.sampler is None:
            return [self.train_idx[i] for i in self.rng.permutation(len(self.train_idx))]
        self.sampler.set_epoch(epoch)
        return [self.train_idx[i] for i in self.sampler]


def _replicated(model, ranks):
    """(module to call, module to save): a DistributedDataParallel replica whose BatchNorm
    layers are SyncBatchNorm (same parameters and buffers, so the saved keys are a
    ResNet-18's) under mpiexec; the model itself on one process."""
    if ranks.size == 1:
        return model, model
    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return nn.parallel.DistributedDataParallel(model), model


def _mean_over_ranks(loss, ranks):
    """The loss averaged over the ranks: every rank sees the same value, so the divergence
    guard stops all of them at the same step or none."""
    if ranks.size == 1:
        return loss
    import ember.distributed as dist

    mean = loss.detach().clone()
    dist.all_reduce(mean, op=dist.ReduceOp.AVG)
    return mean


def _train_network(model, dataset, split, cfg, run, ranks):
    """Whole network (or fc only, if frozen, still through the images): epochs over images."""
    train_idx, val_idx = split
    net, model = _replicated(model, ranks)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = optim.SGD(params, lr=cfg["lr"], momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    order = _EpochOrder(train_idx, cfg["seed"], ranks)
    batch_size = -(-cfg["batch_size"] // ranks.size)  # the global batch, split over ranks
    steps = len(_batch_slices(len(order), batch_size))
    guard = DivergenceGuard(model, params, cfg, run.epochs, steps)
    for epoch in range(1, run.epochs + 1):
        t0 = time.perf_counter()
        _set_lr(optimizer, cfg["lr"], epoch, run.epochs)
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        bar = tqdm(_batches(dataset, order.epoch(epoch), batch_size, "loading", False),
                   total=steps, desc=f"epoch {epoch}/{run.epochs}", unit="batch",
                   leave=False, disable=not run.progress)
        for step, (images, targets) in enumerate(bar, 1):
            guard.before_step()
            logits = net(io.from_numpy(images))
            loss = criterion(logits, io.from_numpy(targets))
            value = guard.loss(_mean_over_ranks(loss, ranks), epoch, step)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            guard.after_step(epoch, step)
            s_loss, s_ok = _step_stats(logits.detach(), targets, float(loss.item()))
            loss_sum, correct, seen = loss_sum + s_loss, correct + s_ok, seen + len(targets)
            bar.set_postfix(loss=f"{value:.3f}")
        loss_sum, correct, seen = _sum_over_ranks([loss_sum, correct, seen], ranks)
        val = _evaluate(model, dataset, val_idx, cfg, criterion, False, ranks)
        run.record(epoch, time.perf_counter() - t0, (loss_sum / seen, correct / seen), val)
        guard.end_epoch(epoch, val[0])


def _plot(history, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    def column(key):  # null (not finite) values leave a gap in the line
        return [float("nan") if r[key] is None else r[key] for r in history]

    epochs = [r["epoch"] for r in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, column("train_loss"), "o-", label="train")
    ax1.plot(epochs, column("val_loss"), "o-", label="validation")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy loss")
    ax1.legend()
    ax2.plot(epochs, column("train_acc"), "o-", label="train")
    ax2.plot(epochs, column("val_acc"), "o-", label="validation")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.set_ylim(0, 1)
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _start_model(weights, progress, log):
    """(model, description, pretrained?) for --weights DEFAULT|none|PATH."""
    key = str(weights)
    if key.lower() == "none":
        return resnet18(), "random initialisation (--weights none)", False
    if key.upper() in ("DEFAULT", "IMAGENET1K_V1", "RESNET18_WEIGHTS.IMAGENET1K_V1"):
        model, ok = load_pretrained(progress, log)
        return model, ("ResNet18_Weights.IMAGENET1K_V1" if ok else "random initialisation"), ok
    return load_user_weights(key), f"weights file {key}", True


def _checked_arguments(batch_size, lr, epochs, image_size, seed, max_samples, val_fraction):
    """The numeric arguments with defaults filled in; a UsageError (status 2) for bad ones."""
    batch_size = DEFAULTS["batch_size"] if batch_size is None else int(batch_size)
    lr = DEFAULTS["lr"] if lr is None else float(lr)
    val_fraction = DEFAULTS["val_fraction"] if val_fraction is None else float(val_fraction)
    if image_size is not None and int(image_size) < 8:
        raise UsageError(f"--image-size must be at least 8, got {image_size}")
    if batch_size < 1:
        raise UsageError(f"--batch-size must be positive, got {batch_size}")
    if not (lr > 0 and math.isfinite(lr)):
        raise UsageError(f"--lr must be a positive number, got {lr}")
    if epochs is not None and int(epochs) < 1:
        raise UsageError(f"--epochs must be at least 1, got {epochs}")
    if int(seed) < 0:
        raise UsageError(f"--seed must be zero or positive, got {seed}")
    if max_samples is not None and int(max_samples) < 1:
        raise UsageError(f"--max-samples must be positive, got {max_samples}")
    if not 0 < val_fraction < 1:
        raise UsageError(f"the validation fraction must be in (0, 1), got {val_fraction}")
    return batch_size, lr, val_fraction


def _train(model, dataset, split, frozen, cfg, run, ranks):
    """Runs the epochs; returns None, or the "diverged" report of a run that diverged.
    (With a frozen backbone under mpiexec, only rank 0 trains fc: the other ranks return
    None once their features are gathered.)"""
    try:
        if frozen:
            model.eval()  # a frozen backbone keeps its BatchNorm statistics too
            everything = sorted(split[0] + split[1])
            if ranks.size > 1:
                feats, labels = _extract_on_all_ranks(model, dataset, everything,
                                                      cfg["batch_size"], run.progress, ranks)
            else:
                feats, labels = _extract(model, dataset, everything, cfg["batch_size"],
                                         run.progress, "computing backbone features")
            if ranks.main:
                pos = {idx: k for k, idx in enumerate(everything)}
                local = ([pos[i] for i in split[0]], [pos[i] for i in split[1]])
                _train_fc_on_features(model, feats, labels, local, cfg, run)
        else:
            _train_network(model, dataset, split, cfg, run, ranks)
    except Diverged as stop:
        return stop.report
    finally:
        model.eval()
    return None


def finetune(data=None, weights="DEFAULT", epochs=None, batch_size=None, lr=None,
             freeze_backbone=None, image_size=None, out="ember-vision-out", seed=0,
             val_fraction=None, max_samples=None, progress=True, log=print):
    """Finetune ResNet-18 on ``data`` (None: the embedded digits); returns the metrics dict.

    Raises UsageError for bad arguments or data, and TrainingDiverged (after writing the
    last finite weights and metrics.json, which records where and why) when the loss or the
    weights stop being finite. Under ``mpiexec -n N`` every rank runs this; those two
    errors are then raised by every rank alike (``every_rank`` and ``rank`` are set on
    them), others by the rank they happened on.
    """
    ranks = Ranks()
    try:
        metrics = _finetune(ranks, data, weights, epochs, batch_size, lr, freeze_backbone,
                            image_size, out, seed, val_fraction, max_samples,
                            progress and ranks.main, log if ranks.main else _quiet)
    except (UsageError, TrainingDiverged) as err:
        err.every_rank = ranks.size > 1  # the same inputs, or a decision shared by all
        err.rank = ranks.rank
        ranks.close()
        raise
    ranks.close()
    return metrics


def _quiet(*args, **kwargs):
    """The log of ranks other than 0."""


def _start_model_once(weights, progress, log, ranks):
    """_start_model on rank 0 first, so that a download into the cache happens once."""
    if ranks.size == 1:
        return _start_model(weights, progress, log)
    import ember.distributed as dist

    if ranks.main:
        started = _start_model(weights, progress, log)
    dist.barrier()
    if not ranks.main:
        started = _start_model(weights, progress, log)
    return started


def _finetune(ranks, data, weights, epochs, batch_size, lr, freeze_backbone, image_size, out,
              seed, val_fraction, max_samples, progress, log):
    batch_size, lr, val_fraction = _checked_arguments(batch_size, lr, epochs, image_size,
                                                      seed, max_samples, val_fraction)
    ember.manual_seed(seed)
    if data is not None:  # a bad folder is reported before any weights are fetched
        load_dataset(data, 8)
    model, weights_desc, pretrained = _start_model_once(weights, progress, log, ranks)
    frozen = pretrained if freeze_backbone is None else bool(freeze_backbone)
    if not frozen and batch_size < 2:
        raise UsageError("--batch-size 1 cannot train the whole network: train-mode "
                         "BatchNorm needs more than one value per channel; use "
                         f"--batch-size {_divergence.BN_MIN_VALUES} or more")
    if image_size is None:
        image_size = (DEFAULTS["folder_size"] if data is not None else
                      DEFAULTS["digits_size_frozen" if frozen else "digits_size_full"])
    image_size = int(image_size)
    dataset, data_desc = load_dataset(data, image_size)
    classes = list(dataset.classes)
    split = split_indices(dataset.targets, val_fraction, seed, max_samples)
    epochs = int(epochs or (DEFAULTS["epochs_frozen"] if frozen else DEFAULTS["epochs_full"]))
    for p in model.parameters():
        p.requires_grad = not frozen
    model.fc = nn.Linear(model.fc.in_features, len(classes))  # new classifier, trainable
    slices = _batch_slices(len(split[0]), batch_size)
    cfg = {"lr": lr, "batch_size": batch_size, "seed": seed, "image_size": image_size,
           "whole_network": not frozen,
           "smallest_batch": min(stop - start for start, stop in slices)}

    log(f"ember-vision finetune: ResNet-18 from {weights_desc}; data: {data_desc}, "
        f"{len(classes)} classes, {len(split[0])} train / {len(split[1])} validation images "
        f"at {image_size}x{image_size}; "
        + ("backbone frozen, training fc only" if frozen else "training the whole network")
        + (f"; {ranks.size} MPI ranks" if ranks.size > 1 else ""))
    t0 = time.perf_counter()
    run = _Epochs(epochs, log, progress)
    diverged = _train(model, dataset, split, frozen, cfg, run, ranks)
    seconds = time.perf_counter() - t0

    history = run.history
    val_accs = [r["val_acc"] for r in history if r["val_acc"] is not None]
    metrics = {
        "arch": "resnet18", "classes": classes, "image_size": image_size,
        "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
        "weights": weights_desc, "pretrained": pretrained, "frozen_backbone": frozen,
        "data": data_desc, "num_train": len(split[0]), "num_val": len(split[1]),
        "epochs": epochs, "batch_size": batch_size, "lr": lr, "momentum": 0.9, "seed": seed,
        "history": history, "final_val_acc": history[-1]["val_acc"] if history else None,
        "best_val_acc": max(val_accs) if val_accs else None,
        "train_seconds": round(seconds, 2),
    }
    if diverged is not None:
        metrics["diverged"] = diverged
    metrics, model_path, saved = _write_on_rank_0(model, metrics, out, ranks)
    diverged = metrics.get("diverged")
    if diverged is not None:
        log(saved)
        raise TrainingDiverged(_divergence.message(diverged, model_path), diverged, metrics)
    log(f"{saved}; validation accuracy {metrics['final_val_acc']:.3f} after {epochs} "
        f"epoch{'s' if epochs != 1 else ''} ({seconds:.1f}s)")
    return metrics


def _write_on_rank_0(model, metrics, out, ranks):
    """Rank 0 writes the outputs; every rank gets its (metrics, model path, sentence)."""
    shared = list(_write_outputs(model, metrics, out)) if ranks.main else [None, None]
    shared = [metrics] + shared
    if ranks.size > 1:
        import ember.distributed as dist

        dist.broadcast_object_list(shared, src=0)
    return tuple(shared)


def _write_outputs(model, metrics, out):
    """Writes model.pth, metrics.json and (with matplotlib, after a finished epoch)
    training.png; returns (model path, the "saved ..." sentence for the log)."""
    os.makedirs(out, exist_ok=True)
    model_path = os.path.join(out, "model.pth")
    ember.save(model.state_dict(), model_path)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2, allow_nan=False)
    plot_path = os.path.join(out, "training.png")
    if metrics["history"] and _plot(metrics["history"], plot_path):
        plot_note = ", training.png"
    else:
        if os.path.exists(plot_path):  # an older run's plot would describe the wrong run
            os.remove(plot_path)
        plot_note = (" (no training.png: not one epoch finished)" if not metrics["history"]
                     else " (training.png skipped: matplotlib is not installed; "
                     "pip install 'ember-vision[plot]')")
    kept = " (the last finite weights)" if "diverged" in metrics else ""
    return model_path, f"saved {model_path}{kept}, metrics.json{plot_note} to {out}"
