"""Noticing that a finetune run diverged, undoing the step that did it, and saying why.

A run diverges when a loss or a weight stops being a finite number (or the validation loss
does: eval-mode outputs can overflow while the training loss still looks fine). Nothing
after that point is worth keeping, so the training loops stop there, put back the weights
(and BatchNorm statistics) from before the failing step, or from the last epoch that
validated, and the command reports where and why instead of saving weights that ``predict``
would turn into ``nan%``.
"""
import math

import numpy as np

from . import _interop as io

# Train-mode BatchNorm normalises each channel over batch x height x width values, and its
# gradient grows like 1 / (their standard deviation): with few values the statistics are
# ill-conditioned and training turns chaotic (whether it overflows then depends on the last
# bit of rounding). ResNet-18's layer4 sees ceil(S/32) x ceil(S/32) positions, one per image
# at 16-32 px; below this many values per channel we blame the batch before the learning rate.
BN_MIN_VALUES = 16
# SGD with momentum 0.9 takes steps of up to ~10x the lr: from here on the lr alone can blow
# up a pretrained or freshly initialised ResNet (finetuning recipes use 0.001-0.01).
LR_SUSPECT = 0.1


def layer4_positions(image_size):
    """Spatial positions per image at ResNet-18's last BatchNorm (every stage rounds up)."""
    return math.ceil(image_size / 32) ** 2


class Diverged(Exception):
    """Raised inside a training loop; ``report`` becomes metrics.json's "diverged" entry."""

    def __init__(self, report):
        super().__init__(report["what"])
        self.report = report


def describe(value):
    """'nan', 'inf' or '-inf' for a non-finite float, for messages and metrics.json."""
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


class WeightKeeper:
    """Copies of a model's trainable parameters and buffers, taken before every step.

    Only the optimizer step changes parameters and only a train-mode forward changes the
    BatchNorm buffers, so a copy taken before both lets a failed step be undone exactly.
    Copying ResNet-18 costs a few milliseconds, a few percent of a training step.
    """

    def __init__(self, model, params):
        self._model = model
        self._params = list(params)
        self._saved = None

    def _live(self):
        # fetched on every call: a module may rebind a buffer instead of updating it in place
        tensors = self._params + [b for b in self._model.buffers() if b is not None]
        return [io.to_numpy(t) for t in tensors]

    def keep(self):
        live = self._live()
        if self._saved is None:
            self._saved = [a.copy() for a in live]
        else:
            for saved, a in zip(self._saved, live):
                np.copyto(saved, a)

    def restore(self):
        if self._saved is not None:
            for a, saved in zip(self._live(), self._saved):
                np.copyto(a, saved)

    def params_finite(self):
        with np.errstate(over="ignore", invalid="ignore"):
            for p in self._params:
                a = io.to_numpy(p)
                # a sum is finite when every element is (fast); only a non-finite sum, which
                # huge finite values can also give, needs the element-wise look
                if not np.isfinite(a.sum()) and not np.isfinite(a).all():
                    return False
        return True


def explain(lr, whole_network, smallest_batch, image_size):
    """(reason, advice) for a divergence: a batch too small for BatchNorm, the lr, or both."""
    lr_note = f"learning rate too high (--lr {lr:g})"
    lr_advice = f"try a smaller --lr (this run: {lr:g})"
    values = smallest_batch * layer4_positions(image_size)
    if not whole_network or values >= BN_MIN_VALUES:
        return lr_note, lr_advice
    need = math.ceil(BN_MIN_VALUES / layer4_positions(image_size))
    bn_note = (f"batch too small for BatchNorm (layer4 normalises {values} values per channel: "
               f"batches of {smallest_batch} at {image_size} px)")
    bn_advice = f"try --batch-size {need} or more (or a larger --image-size)"
    if lr >= LR_SUSPECT:
        return f"{lr_note}, and {bn_note}", f"{lr_advice}, and {bn_advice}"
    return bn_note, f"{bn_advice}, or a smaller --lr"


class DivergenceGuard:
    """Watches one training run and raises Diverged with the model put back in order.

    Per step: the weights and BatchNorm statistics from before the step come back if its
    loss or the weights it produced are not finite. Per epoch: a validation loss that is
    not finite (eval-mode outputs can overflow while the training loss still looks fine)
    brings back the weights of the last epoch that validated, or the starting weights.
    """

    def __init__(self, model, params, cfg, epochs, steps):
        params = list(params)
        self._cfg, self._epochs, self._steps = cfg, epochs, steps
        self._before_step = WeightKeeper(model, params)
        self._last_good = WeightKeeper(model, params)
        self._last_good.keep()
        self._good_epoch = 0

    def before_step(self):
        self._before_step.keep()

    def loss(self, loss, epoch, step):
        """The loss as a float, once it is known to be finite."""
        value = float(loss.item())
        if not math.isfinite(value):
            self._before_step.restore()
            self._stop(f"the training loss is {describe(value)}", epoch, step,
                       "the weights from before this step")
        return value

    def after_step(self, epoch, step):
        if not self._before_step.params_finite():
            self._before_step.restore()
            self._stop("a step made the weights non-finite (the gradient or the update "
                       "overflowed)", epoch, step, "the weights from before this step")

    def end_epoch(self, epoch, val_loss, problem=None):
        """After validation: ``problem`` names any other reason the weights are unusable."""
        if math.isfinite(val_loss) and problem is None:
            self._last_good.keep()
            self._good_epoch = epoch
            return
        self._last_good.restore()
        kept = (f"the weights after epoch {self._good_epoch}" if self._good_epoch else
                "the starting weights (no epoch validated)")
        if not math.isfinite(val_loss):
            problem = (f"the validation loss is {describe(val_loss)} (the network's eval-mode "
                       "outputs overflow)")
        self._stop(problem, epoch, None, kept)

    def _stop(self, what, epoch, step, kept):
        cfg = self._cfg
        reason, advice = explain(cfg["lr"], cfg["whole_network"], cfg["smallest_batch"],
                                 cfg["image_size"])
        raise Diverged({"epoch": epoch, "epochs": self._epochs, "step": step,
                        "steps_per_epoch": self._steps,
                        "phase": "train" if step is not None else "validation",
                        "what": what, "reason": reason, "advice": advice, "kept": kept})


def message(entry, model_path):
    """One line for stderr: what happened, where, the likely cause, what to try."""
    where = f"epoch {entry['epoch']}/{entry['epochs']}"
    if entry["step"] is not None:
        where += f", step {entry['step']}/{entry['steps_per_epoch']}"
    return (f"training diverged at {where}: {entry['what']}; likely cause: {entry['reason']}; "
            f"{entry['advice']}. Saved {entry['kept']} to {model_path}; details in "
            "metrics.json")
