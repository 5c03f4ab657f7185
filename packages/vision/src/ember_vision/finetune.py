"""``ember-vision finetune``: a new classifier on a pretrained ResNet-18, one command.

With the backbone frozen (the default when pretrained weights are available) the backbone
runs in eval mode, so each image's 512 features are the same in every epoch: they are
computed once, and the epochs train only ``fc`` on them: the same model as running the
frozen network every epoch, at a fraction of the cost. (fc trains on standardised features;
the scaling is folded into its weights at the end.) ``--train-all`` (and random starting
weights) trains the whole network on the images, epoch after epoch.
"""
import json
import math
import os
import time

import numpy as np
from tqdm import tqdm

import ember
from ember import nn, optim

from . import _interop as io
from ._training_data import IMAGENET_MEAN, IMAGENET_STD, load_dataset, split_indices
from ._weights_file import load_pretrained, load_user_weights
from .errors import UsageError
from .models import resnet18

# Chosen so that the bare command (digits, 2-core CPU) ends well within 3 minutes: fc on
# cached features is cheap (30 epochs), a whole-network epoch is not (2 epochs, 16 px: the
# digits are 8x8 to begin with). Image folders get a size ImageNet features can work with.
DEFAULTS = {"batch_size": 64, "lr": 0.01, "val_fraction": 0.2,
            "epochs_frozen": 30, "epochs_full": 2,
            "digits_size_frozen": 32, "digits_size_full": 16, "folder_size": 112}


def _batches(dataset, indices, batch_size, desc, progress):
    """(images ndarray (B, 3, S, S), targets ndarray (B,)) in the order of ``indices``."""
    bar = tqdm(total=len(indices), desc=desc, unit="img", disable=not progress, leave=False)
    try:
        for start in range(0, len(indices), batch_size):
            chunk = indices[start:start + batch_size]
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
    return np.concatenate(feats), np.concatenate(labels)


def _set_lr(optimizer, base_lr, epoch, epochs):
    """Cosine decay from base_lr to 0 over the run: big steps first, a settled finish."""
    lr = 0.5 * base_lr * (1 + math.cos(math.pi * (epoch - 1) / epochs))
    for group in optimizer.param_groups:
        group["lr"] = lr


def _step_stats(logits, target_np, loss):
    pred = io.to_numpy(logits).argmax(axis=1)
    return float(loss.item()) * len(target_np), int((pred == target_np).sum())


class _Epochs:
    """Runs epochs and keeps the per-epoch history that metrics.json and the plot show."""

    def __init__(self, epochs, log, progress):
        self.epochs, self.log, self.progress = epochs, log, progress
        self.history = []

    def record(self, epoch, seconds, train, val):
        row = {"epoch": epoch, "train_loss": train[0], "train_acc": train[1],
               "val_loss": val[0], "val_acc": val[1], "seconds": round(seconds, 2)}
        self.history.append(row)
        self.log(f"epoch {epoch}/{self.epochs}: train loss {train[0]:.4f} acc {train[1]:.3f} | "
                 f"val loss {val[0]:.4f} acc {val[1]:.3f} ({seconds:.1f}s)")


def _standardiser(feats):
    """Per-feature mean and scale of the training features (scale 1 where they are flat)."""
    mu = feats.mean(axis=0)
    sigma = feats.std(axis=0)
    sigma[sigma < 1e-6 * max(float(sigma.max()), 1e-30)] = 1.0
    return mu.astype(np.float32), sigma.astype(np.float32)


def _fold_standardiser(fc, mu, sigma):
    """fc(x) = W (x - mu) / sigma + b, rewritten as a plain Linear on the raw features."""
    w = io.to_numpy(fc.weight.detach()).astype(np.float64)
    b = io.to_numpy(fc.bias.detach()).astype(np.float64)
    w_raw = w / sigma
    b_raw = b - w_raw @ mu
    with ember.no_grad():
        fc.weight.copy_(io.from_numpy(w_raw.astype(np.float32)))
        fc.bias.copy_(io.from_numpy(b_raw.astype(np.float32)))


def _train_fc_on_features(model, feats, labels, split, cfg, run):
    """Frozen backbone: epochs over cached features, updating only model.fc.

    The features are standardised while fc trains (their scale depends on the backbone's
    weights, and a badly scaled input makes SGD diverge or crawl); the standardisation is
    folded into fc's weight and bias at the end, so the saved model is a plain ResNet-18.
    """
    train_idx, val_idx = split
    mu, sigma = _standardiser(feats[train_idx])
    feats = (feats - mu) / sigma
    optimizer = optim.SGD(model.fc.parameters(), lr=cfg["lr"], momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    rng = np.random.default_rng(cfg["seed"])
    ftr, ytr = feats[train_idx], labels[train_idx]
    fval, yval = feats[val_idx], labels[val_idx]
    bs = cfg["batch_size"]
    for epoch in range(1, run.epochs + 1):
        t0 = time.perf_counter()
        _set_lr(optimizer, cfg["lr"], epoch, run.epochs)
        order = rng.permutation(len(ytr))
        loss_sum, correct = 0.0, 0
        bar = tqdm(range(0, len(order), bs), desc=f"epoch {epoch}/{run.epochs}",
                   unit="batch", leave=False, disable=not run.progress)
        for start in bar:
            b = order[start:start + bs]
            logits = model.fc(io.from_numpy(ftr[b]))
            loss = criterion(logits, io.from_numpy(ytr[b]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            s_loss, s_ok = _step_stats(logits.detach(), ytr[b], loss)
            loss_sum, correct = loss_sum + s_loss, correct + s_ok
            bar.set_postfix(loss=f"{loss.item():.3f}")
        with ember.no_grad():
            logits = model.fc(io.from_numpy(fval))
            vloss = criterion(logits, io.from_numpy(yval))
        v_loss, v_ok = _step_stats(logits, yval, vloss)
        run.record(epoch, time.perf_counter() - t0, (loss_sum / len(ytr), correct / len(ytr)),
                   (v_loss / len(yval), v_ok / len(yval)))
    _fold_standardiser(model.fc, mu, sigma)


def _evaluate(model, dataset, indices, cfg, criterion, progress):
    model.eval()
    loss_sum, correct = 0.0, 0
    with ember.no_grad():
        for images, targets in _batches(dataset, indices, cfg["batch_size"], "validating",
                                        progress):
            logits = model(io.from_numpy(images))
            s_loss, s_ok = _step_stats(logits, targets, criterion(logits, io.from_numpy(targets)))
            loss_sum, correct = loss_sum + s_loss, correct + s_ok
    return loss_sum / len(indices), correct / len(indices)


def _train_network(model, dataset, split, cfg, run):
    """Whole network (or fc only, if frozen, still through the images): epochs over images."""
    train_idx, val_idx = split
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = optim.SGD(params, lr=cfg["lr"], momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    rng = np.random.default_rng(cfg["seed"])
    for epoch in range(1, run.epochs + 1):
        t0 = time.perf_counter()
        _set_lr(optimizer, cfg["lr"], epoch, run.epochs)
        model.train()
        order = [train_idx[i] for i in rng.permutation(len(train_idx))]
        loss_sum, correct, seen = 0.0, 0, 0
        bar = tqdm(_batches(dataset, order, cfg["batch_size"], "loading", False),
                   total=math.ceil(len(order) / cfg["batch_size"]),
                   desc=f"epoch {epoch}/{run.epochs}", unit="batch", leave=False,
                   disable=not run.progress)
        for images, targets in bar:
            logits = model(io.from_numpy(images))
            loss = criterion(logits, io.from_numpy(targets))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            s_loss, s_ok = _step_stats(logits.detach(), targets, loss)
            loss_sum, correct, seen = loss_sum + s_loss, correct + s_ok, seen + len(targets)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        val = _evaluate(model, dataset, val_idx, cfg, criterion, False)
        run.record(epoch, time.perf_counter() - t0, (loss_sum / seen, correct / seen), val)
    model.eval()


def _plot(history, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = [r["epoch"] for r in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, [r["train_loss"] for r in history], "o-", label="train")
    ax1.plot(epochs, [r["val_loss"] for r in history], "o-", label="validation")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy loss")
    ax1.legend()
    ax2.plot(epochs, [r["train_acc"] for r in history], "o-", label="train")
    ax2.plot(epochs, [r["val_acc"] for r in history], "o-", label="validation")
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


def finetune(data=None, weights="DEFAULT", epochs=None, batch_size=None, lr=None,
             freeze_backbone=None, image_size=None, out="ember-vision-out", seed=0,
             val_fraction=None, max_samples=None, progress=True, log=print):
    """Finetune ResNet-18 on ``data`` (None: the embedded digits); returns the metrics dict."""
    batch_size = int(batch_size or DEFAULTS["batch_size"])
    lr = float(lr if lr is not None else DEFAULTS["lr"])
    val_fraction = float(val_fraction if val_fraction is not None else DEFAULTS["val_fraction"])
    if image_size is not None and int(image_size) < 8:
        raise UsageError(f"--image-size must be at least 8, got {image_size}")
    if batch_size < 1:
        raise UsageError(f"--batch-size must be positive, got {batch_size}")
    if not lr > 0:
        raise UsageError(f"--lr must be positive, got {lr}")
    if epochs is not None and int(epochs) < 1:
        raise UsageError(f"--epochs must be at least 1, got {epochs}")
    if not 0 < val_fraction < 1:
        raise UsageError(f"the validation fraction must be in (0, 1), got {val_fraction}")

    ember.manual_seed(seed)
    if data is not None:  # a bad folder is reported before any weights are fetched
        load_dataset(data, 8)
    model, weights_desc, pretrained = _start_model(weights, progress, log)
    frozen = pretrained if freeze_backbone is None else bool(freeze_backbone)
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
    cfg = {"lr": lr, "batch_size": batch_size, "seed": seed}

    log(f"ember-vision finetune: ResNet-18 from {weights_desc}; data: {data_desc}, "
        f"{len(classes)} classes, {len(split[0])} train / {len(split[1])} validation images "
        f"at {image_size}x{image_size}; "
        + ("backbone frozen, training fc only" if frozen else "training the whole network"))
    t0 = time.perf_counter()
    run = _Epochs(epochs, log, progress)
    if frozen:
        model.eval()  # a frozen backbone keeps its BatchNorm statistics too
        everything = sorted(split[0] + split[1])
        feats, labels = _extract(model, dataset, everything, batch_size, progress,
                                 "computing backbone features")
        pos = {idx: k for k, idx in enumerate(everything)}
        local = ([pos[i] for i in split[0]], [pos[i] for i in split[1]])
        _train_fc_on_features(model, feats, labels, local, cfg, run)
    else:
        _train_network(model, dataset, split, cfg, run)
    seconds = time.perf_counter() - t0

    os.makedirs(out, exist_ok=True)
    model_path = os.path.join(out, "model.pth")
    ember.save(model.state_dict(), model_path)
    metrics = {
        "arch": "resnet18", "classes": classes, "image_size": image_size,
        "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
        "weights": weights_desc, "pretrained": pretrained, "frozen_backbone": frozen,
        "data": data_desc, "num_train": len(split[0]), "num_val": len(split[1]),
        "epochs": epochs, "batch_size": batch_size, "lr": lr, "momentum": 0.9, "seed": seed,
        "history": run.history, "final_val_acc": run.history[-1]["val_acc"],
        "best_val_acc": max(r["val_acc"] for r in run.history),
        "train_seconds": round(seconds, 2),
    }
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    plotted = _plot(run.history, os.path.join(out, "training.png"))
    log(f"saved {model_path}, metrics.json"
        + (", training.png" if plotted else
           " (training.png skipped: matplotlib is not installed; "
           "pip install 'ember-vision[plot]')")
        + f" to {out}; validation accuracy {metrics['final_val_acc']:.3f} "
        f"after {epochs} epoch{'s' if epochs != 1 else ''} ({seconds:.1f}s)")
    return metrics
