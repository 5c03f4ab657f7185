"""``ember-vision finetune --augment`` and ``--workers``: training images get the random
transform and validation images the eval one; with a frozen backbone the backbone runs on
every epoch's images instead of once; DataLoader threads decode, and a seed repeats a run
whatever the number of threads."""
import threading

import numpy as np
import pytest

import ember
import ember_vision._weights_file as weights_file_module
import ember_vision.finetune as finetune_module
from ember_vision._training_data import AUGMENTATIONS, batches, train_transform
from ember_vision.errors import UsageError
from ember_vision.finetune import finetune
from ember_vision.models import resnet18

pytestmark = pytest.mark.usefixtures("no_training_plot")




class _Counting:
    """Wraps a transform and counts the images it was given."""

    def __init__(self, transform):
        self.transform, self.calls = transform, 0

    def __call__(self, img):
        self.calls += 1
        return self.transform(img)


def _frozen_run(cli_helpers, tmp_path, monkeypatch, augment, epochs=2):
    """A frozen ResNet-18 run; returns (images through layer1, augment calls, metrics)."""
    data = cli_helpers._colour_tree(tmp_path / "data", per_class=5)  # 8 train / 2 validation images
    ember.manual_seed(3)
    start = resnet18()
    ember.save(start.state_dict(), str(tmp_path / "start.pth"))
    seen = {"backbone": 0}
    real_get_model = weights_file_module.get_model

    def counting_get_model(name, **kwargs):
        model = real_get_model(name, **kwargs)
        model.layer1.register_forward_hook(
            lambda module, args, output: seen.__setitem__(
                "backbone", seen["backbone"] + output.shape[0]))
        return model

    monkeypatch.setattr(weights_file_module, "get_model", counting_get_model)
    counters = []
    real_train_transform = finetune_module.train_transform

    def counting_train_transform(name, size):
        made = real_train_transform(name, size)
        if made is None:
            return None
        counters.append(_Counting(made))
        return counters[-1]

    monkeypatch.setattr(finetune_module, "train_transform", counting_train_transform)
    out = tmp_path / f"run-{augment}"
    metrics = finetune(data=str(data), weights=str(tmp_path / "start.pth"), epochs=epochs,
                       image_size=16, out=str(out), augment=augment, workers=2,
                       progress=False, log=lambda *a: None)
    saved = ember.load(str(out / "model.pth"))
    np.testing.assert_array_equal(saved["bn1.running_mean"].numpy(),
                                  start.bn1.running_mean.numpy())  # the backbone is frozen
    np.testing.assert_array_equal(saved["layer3.0.conv1.weight"].numpy(),
                                  start.layer3[0].conv1.weight.detach().numpy())
    return seen["backbone"], sum(c.calls for c in counters), metrics


def test_frozen_backbone_without_augment_runs_the_backbone_once(cli_helpers, tmp_path,
                                                                monkeypatch):
    images, augmented, metrics = _frozen_run(cli_helpers, tmp_path, monkeypatch, None)
    assert (metrics["num_train"], metrics["num_val"]) == (8, 2)
    assert images == 10 and augmented == 0 and metrics["augment"] == "none"


def test_frozen_backbone_with_augment_runs_the_backbone_every_epoch(cli_helpers, tmp_path,
                                                                   monkeypatch):
    images, augmented, metrics = _frozen_run(cli_helpers, tmp_path, monkeypatch, "basic")
    # every epoch: the 8 training images through the backbone, then the 2 validation ones
    assert images == 2 * (8 + 2)
    assert augmented == 2 * 8  # only the training images are augmented
    assert metrics["augment"] == "basic" and metrics["frozen_backbone"] is True
    assert len(metrics["history"]) == 2


def _whole_network_history(cli_helpers, tmp_path, name, workers):
    data = tmp_path / "data"
    if not data.exists():
        cli_helpers._colour_tree(data)
    metrics = finetune(data=str(data), weights="none", epochs=1, batch_size=5, lr=0.001,
                       image_size=16, out=str(tmp_path / name), augment="basic",
                       workers=workers, seed=4, progress=False, log=lambda *a: None)
    assert metrics["frozen_backbone"] is False and metrics["workers"] == workers
    return [(r["train_loss"], r["train_acc"], r["val_loss"], r["val_acc"])
            for r in metrics["history"]]


def test_augmented_runs_repeat_whatever_the_number_of_workers(cli_helpers, tmp_path):
    """The random crops and flips are drawn in the training loop, image after image, so
    the loading threads cannot reorder them."""
    two = _whole_network_history(cli_helpers, tmp_path, "two", 2)
    assert all(np.isfinite(v) for v in two[0])
    assert _whole_network_history(cli_helpers, tmp_path, "zero", 0) == two


def test_augment_changes_the_training_images(tmp_path, cli_helpers):
    data = cli_helpers._colour_tree(tmp_path / "data", per_class=2)
    from ember_vision._training_data import load_dataset

    dataset, _ = load_dataset(str(data), 16)
    ember.manual_seed(0)
    plain = [x for x, _ in batches(dataset, [0, 1, 2, 3], 4)][0]
    augmented = [x for x, _ in batches(dataset, [0, 1, 2, 3], 4,
                                       augment=train_transform("basic", 16))][0]
    assert plain.shape == augmented.shape == (4, 3, 16, 16)
    assert not np.array_equal(plain, augmented)


def test_workers_decode_on_loader_threads_in_order(tmp_path, cli_helpers):
    data = cli_helpers._colour_tree(tmp_path / "data", per_class=4)
    from ember_vision._training_data import load_dataset

    dataset, _ = load_dataset(str(data), 12)
    threads = set()
    real_getitem = type(dataset).__getitem__

    class Recording(type(dataset)):
        def __getitem__(self, index):
            threads.add(threading.current_thread().name)
            return real_getitem(self, index)

    dataset.__class__ = Recording
    order = [7, 0, 5, 2, 3, 6, 1]
    with_threads = list(batches(dataset, order, 3, workers=2))
    assert threads and all(name.startswith("ember-loader") for name in threads)
    threads.clear()
    in_loop = list(batches(dataset, order, 3, workers=0))
    assert threads == {threading.current_thread().name}
    assert [len(t) for _, t in with_threads] == [2, 2, 3]  # near-equal batches, as before
    for (xa, ya), (xb, yb) in zip(with_threads, in_loop):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert np.concatenate([t for _, t in in_loop]).tolist() == [
        dataset.targets[i] for i in order]


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_every_augmentation_makes_normalised_tensors_of_the_size(name):
    from PIL import Image

    transform = train_transform(name, 24)
    if name == "none":
        assert transform is None
        return
    ember.manual_seed(0)
    x = transform(Image.new("RGB", (40, 30), (200, 30, 60)))
    assert tuple(x.shape) == (3, 24, 24) and x.dtype == ember.float32


def test_bad_augment_and_workers_are_usage_errors(tmp_path, capsys, cli_helpers):
    with pytest.raises(UsageError, match="unknown --augment 'flip'; choose one of: none, "):
        finetune(augment="flip", out=str(tmp_path / "o"), log=lambda *a: None)
    data = cli_helpers._colour_tree(tmp_path / "data", per_class=2)
    code, _, err = cli_helpers._run(["finetune", "--data", str(data), "--workers", "-1",
                         "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "--workers must be zero or positive, got -1" in err
    with pytest.raises(SystemExit) as info:
        cli_helpers.main(["finetune", "--augment", "flip"])
    assert info.value.code == 2
