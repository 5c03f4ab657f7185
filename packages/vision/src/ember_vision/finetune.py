"""``ember-vision finetune``: a new classifier on a pretrained model, one command.

``--arch`` picks the model (ResNet-18 by default; ``_architectures.ARCHITECTURES``); its
classifier head is replaced by a fresh one for the data's classes, as torchvision's finetuning
tutorial does. With the backbone frozen (the default when pretrained weights are available)
the backbone runs in eval mode, so each image's features are the same in every epoch: they
are computed once and the epochs train only the head on them (``_feature_training.py``).
With ``--augment`` the training images differ in every epoch, so the frozen backbone runs on
them every epoch (the head alone trains). ``--train-all`` (and random starting weights)
trains the whole network on the images, epoch after epoch; Inception-v3's auxiliary head
adds its loss weighted 0.4, as the tutorial trains it. Images are read and decoded by
DataLoader worker threads (``--workers``) while the model computes.

Under ``mpiexec -n N`` (one process per rank, joined to ``ember.distributed``'s group): with
the backbone frozen each rank computes the features of its share of the images and rank 0
trains the head on all of them; training through the images, each rank trains a
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
from ._architectures import (DEFAULT_ARCH, build_kwargs, check_arch, display_name,
                             freeze_backbone, head_spec, input_sizes, logits_and_loss,
                             replace_head)
from ._divergence import Diverged, DivergenceGuard
from ._feature_training import (extract, extract_on_all_ranks, fold_standardiser, set_lr,
                                standardiser, step_stats, train_head_on_features)
from ._training_data import (IMAGENET_MEAN, IMAGENET_STD, Ranks, batch_slices, batches,
                             load_dataset, split_indices, train_transform)
from ._weights_file import load_pretrained, load_user_weights, published_weights
from .errors import TrainingDiverged, UsageError
from .models import get_model

# Chosen so that the bare command (digits, 2-core CPU) ends well within 3 minutes: the head
# on cached features is cheap (30 epochs), a whole-network epoch is not (2 epochs, 16 px: the
# digits are 8x8 to begin with). Image folders get the input size of the architecture's
# published weights (224, Inception-v3 299), which ImageNet features are made for.
DEFAULTS = {"batch_size": 64, "lr": 0.01, "val_fraction": 0.2,
            "epochs_frozen": 30, "epochs_full": 2,
            "digits_size_frozen": 32, "digits_size_full": 16}

# the names older tests and callers import from here
_batch_slices, _standardiser, _fold_standardiser = (batch_slices, standardiser,
                                                    fold_standardiser)


def default_workers():
    """DataLoader threads when --workers is not given: min(2, CPUs)."""
    return min(2, os.cpu_count() or 1)


def _sum_over_ranks(values, ranks):
    """Each number summed over every rank (as float64); unchanged on one rank."""
    if ranks.size == 1:
        return values
    import ember.distributed as dist

    total = io.from_numpy(np.asarray(values, dtype=np.float64))
    dist.all_reduce(total)
    return io.to_numpy(total).tolist()


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
        for images, targets in batches(dataset, indices, cfg["batch_size"], "validating",
                                       progress, cfg.get("workers", 0)):
            logits = model(io.from_numpy(images))
            loss = criterion(logits, io.from_numpy(targets))
            s_loss, s_ok = step_stats(logits, targets, float(loss.item()))
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
    plain model's) under mpiexec; the model itself on one process."""
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
    """Epochs over the images: the whole network, or (frozen, with --augment) the head
    alone behind the eval-mode backbone, which then runs on every epoch's new images."""
    train_idx, val_idx = split
    frozen = not cfg["whole_network"]
    net, model = _replicated(model, ranks)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = optim.SGD(params, lr=cfg["lr"], momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    order = _EpochOrder(train_idx, cfg["seed"], ranks)
    batch_size = -(-cfg["batch_size"] // ranks.size)  # the global batch, split over ranks
    steps = len(batch_slices(len(order), batch_size))
    guard = DivergenceGuard(model, params, cfg, run.epochs, steps)
    for epoch in range(1, run.epochs + 1):
        t0 = time.perf_counter()
        set_lr(optimizer, cfg["lr"], epoch, run.epochs)
        model.train(not frozen)  # a frozen backbone keeps its BatchNorm statistics
        loss_sum, correct, seen = 0.0, 0, 0
        images_of_epoch = batches(dataset, order.epoch(epoch), batch_size, "loading", False,
                                  cfg.get("workers", 0), cfg.get("augment"))
        bar = tqdm(images_of_epoch, total=steps, desc=f"epoch {epoch}/{run.epochs}", unit="batch",
                   leave=False, disable=not run.progress)
        for step, (images, targets) in enumerate(bar, 1):
            guard.before_step()
            logits, loss = logits_and_loss(net(io.from_numpy(images)),
                                           io.from_numpy(targets), criterion, cfg["arch"])
            value = guard.loss(_mean_over_ranks(loss, ranks), epoch, step)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            guard.after_step(epoch, step)
            s_loss, s_ok = step_stats(logits.detach(), targets, float(loss.item()))
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


def _start_model(arch, weights, progress, log):
    """(model, description, pretrained?) for --weights DEFAULT|none|<weights name>|PATH."""
    key = str(weights)
    if key.lower() == "none":
        model = get_model(arch, weights=None, **build_kwargs(arch, "random"))
        return model, "random initialisation (--weights none)", False
    published = published_weights(arch, key)
    if published is not None:
        model, ok = load_pretrained(arch, published, progress, log)
        return model, (repr(published) if ok else "random initialisation"), ok
    return load_user_weights(key, arch), f"weights file {key}", True


def _checked_arguments(batch_size, lr, epochs, image_size, seed, max_samples, val_fraction,
                       arch, workers):
    """The numeric arguments with defaults filled in; a UsageError (status 2) for bad ones."""
    batch_size = DEFAULTS["batch_size"] if batch_size is None else int(batch_size)
    lr = DEFAULTS["lr"] if lr is None else float(lr)
    val_fraction = DEFAULTS["val_fraction"] if val_fraction is None else float(val_fraction)
    smallest = max(8, input_sizes(arch)[2])
    if image_size is not None and int(image_size) < smallest:
        raise UsageError(f"--image-size must be at least {smallest}"
                         + (f" for {arch}" if smallest > 8 else "") + f", got {image_size}")
    if workers is not None and int(workers) < 0:
        raise UsageError(f"--workers must be zero or positive, got {workers}")
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
    (With a frozen backbone under mpiexec, only rank 0 trains the head on the cached
    features: the other ranks return None once their features are gathered.)"""
    arch = cfg["arch"]
    try:
        if frozen and cfg.get("augment") is None:
            model.eval()  # a frozen backbone keeps its BatchNorm statistics too
            everything = sorted(split[0] + split[1])
            if ranks.size > 1:
                feats, labels = extract_on_all_ranks(model, arch, dataset, everything, cfg,
                                                     run.progress, ranks)
            else:
                feats, labels = extract(model, arch, dataset, everything, cfg, run.progress,
                                        "computing backbone features")
            if ranks.main:
                pos = {idx: k for k, idx in enumerate(everything)}
                local = ([pos[i] for i in split[0]], [pos[i] for i in split[1]])
                train_head_on_features(model, arch, feats, labels, local, cfg, run)
        else:
            _train_network(model, dataset, split, cfg, run, ranks)
    except Diverged as stop:
        return stop.report
    finally:
        model.eval()
    return None


def finetune(data=None, weights="DEFAULT", epochs=None, batch_size=None, lr=None,
             freeze_backbone=None, image_size=None, out="ember-vision-out", seed=0,
             val_fraction=None, max_samples=None, progress=True, log=print,
             arch=DEFAULT_ARCH, augment=None, workers=None):
    """Finetune ``arch`` (default ResNet-18) on ``data`` (None: the embedded digits);
    returns the metrics dict.

    ``augment`` names the training images' random transform (``_training_data.AUGMENTATIONS``;
    None or "none": the eval transform); ``workers`` the DataLoader threads that decode
    images (None: min(2, CPUs)). Raises UsageError for bad arguments or data, and
    TrainingDiverged (after writing the last finite weights and metrics.json, which records
    where and why) when the loss or the weights stop being finite. Under ``mpiexec -n N``
    every rank runs this; those two errors are then raised by every rank alike
    (``every_rank`` and ``rank`` are set on them), others by the rank they happened on.
    """
    ranks = Ranks()
    options = {"data": data, "weights": weights, "epochs": epochs, "batch_size": batch_size,
               "lr": lr, "freeze_backbone": freeze_backbone, "image_size": image_size,
               "out": out, "seed": seed, "val_fraction": val_fraction,
               "max_samples": max_samples, "arch": arch, "augment": augment,
               "workers": workers}
    try:
        metrics = _finetune(ranks, options, progress and ranks.main,
                            log if ranks.main else _quiet)
    except (UsageError, TrainingDiverged) as err:
        err.every_rank = ranks.size > 1  # the same inputs, or a decision shared by all
        err.rank = ranks.rank
        ranks.close()
        raise
    ranks.close()
    return metrics


def _quiet(*args, **kwargs):
    """The log of ranks other than 0."""


def _start_model_once(arch, weights, progress, log, ranks):
    """_start_model on rank 0 first, so that a download into the cache happens once."""
    if ranks.size == 1:
        return _start_model(arch, weights, progress, log)
    import ember.distributed as dist

    if ranks.main:
        started = _start_model(arch, weights, progress, log)
    dist.barrier()
    if not ranks.main:
        started = _start_model(arch, weights, progress, log)
    return started


def _sizes(arch, data, image_size, frozen):
    """(input size, resize size): for an image folder the published weights' (224 after
    256, say) or --image-size with their resize ratio; the digits are drawn at the input
    size (default 32, or 16 training the whole network, at least the model's minimum)."""
    crop, resize, minimum = input_sizes(arch)
    if data is None:
        if image_size is None:
            image_size = max(minimum, DEFAULTS["digits_size_frozen" if frozen else
                                               "digits_size_full"])
        return int(image_size), int(image_size)
    if image_size is None:
        return crop, resize
    return int(image_size), int(round(int(image_size) * resize / crop))


def _finetune(ranks, o, progress, log):
    arch = check_arch(o["arch"])
    batch_size, lr, val_fraction = _checked_arguments(
        o["batch_size"], o["lr"], o["epochs"], o["image_size"], o["seed"], o["max_samples"],
        o["val_fraction"], arch, o["workers"])
    augment = None if o["augment"] in (None, "none") else str(o["augment"])
    train_transform(augment or "none", 8)  # an unknown name is refused before any work
    workers = default_workers() if o["workers"] is None else int(o["workers"])
    seed, data = o["seed"], o["data"]
    ember.manual_seed(seed)
    if data is not None:  # a bad folder is reported before any weights are fetched
        load_dataset(data, 8)
    model, weights_desc, pretrained = _start_model_once(arch, o["weights"], progress, log,
                                                        ranks)
    frozen = pretrained if o["freeze_backbone"] is None else bool(o["freeze_backbone"])
    if not frozen and batch_size < 2:
        raise UsageError("--batch-size 1 cannot train the whole network: train-mode "
                         "BatchNorm needs more than one value per channel; use "
                         f"--batch-size {_divergence.BN_MIN_VALUES} or more")
    image_size, resize_size = _sizes(arch, data, o["image_size"], frozen)
    if not frozen and image_size < head_spec(arch).train_min_size:
        raise UsageError(f"--image-size must be at least {head_spec(arch).train_min_size} to "
                         f"train the whole {arch} (its auxiliary classifier needs 17x17 maps), "
                         f"got {image_size}")
    dataset, data_desc = load_dataset(data, image_size, resize_size)
    classes = list(dataset.classes)
    split = split_indices(dataset.targets, val_fraction, seed, o["max_samples"])
    epochs = int(o["epochs"] or (DEFAULTS["epochs_frozen"] if frozen else
                                 DEFAULTS["epochs_full"]))
    replace_head(model, arch, len(classes))  # new classifier, trainable
    if frozen:
        freeze_backbone(model, arch)
    else:
        for p in model.parameters():
            p.requires_grad = True
    slices = batch_slices(len(split[0]), batch_size)
    cfg = {"lr": lr, "batch_size": batch_size, "seed": seed, "image_size": image_size,
           "whole_network": not frozen, "arch": arch, "workers": workers,
           "augment": train_transform(augment, image_size) if augment else None,
           "smallest_batch": min(stop - start for start, stop in slices)}

    head = "/".join(head_spec(arch).paths[:1 if frozen else None])
    what = (f"backbone frozen, training {head} only" if frozen else
            "training the whole network")
    if augment:
        what = (f"{what}; --augment {augment}"
                + (" (the frozen backbone runs every epoch)" if frozen else ""))
    log(f"ember-vision finetune: {display_name(arch)} from {weights_desc}; data: {data_desc}, "
        f"{len(classes)} classes, {len(split[0])} train / {len(split[1])} validation images "
        f"at {image_size}x{image_size}; {what}"
        + (f"; {ranks.size} MPI ranks" if ranks.size > 1 else ""))
    t0 = time.perf_counter()
    run = _Epochs(epochs, log, progress)
    diverged = _train(model, dataset, split, frozen, cfg, run, ranks)
    seconds = time.perf_counter() - t0

    history = run.history
    val_accs = [r["val_acc"] for r in history if r["val_acc"] is not None]
    metrics = {
        "arch": arch, "classes": classes, "image_size": image_size,
        "resize_size": resize_size, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
        "weights": weights_desc, "pretrained": pretrained, "frozen_backbone": frozen,
        "augment": augment or "none", "data": data_desc, "num_train": len(split[0]),
        "num_val": len(split[1]), "epochs": epochs, "batch_size": batch_size, "lr": lr,
        "momentum": 0.9, "seed": seed, "workers": workers,
        "history": history, "final_val_acc": history[-1]["val_acc"] if history else None,
        "best_val_acc": max(val_accs) if val_accs else None,
        "train_seconds": round(seconds, 2),
    }
    if diverged is not None:
        metrics["diverged"] = diverged
    metrics, model_path, saved = _write_on_rank_0(model, metrics, out=o["out"], ranks=ranks)
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
