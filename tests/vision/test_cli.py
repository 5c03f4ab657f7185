"""The ember-vision command: error paths (one line; status 2 for the user's input, 1 for a
failed run), --version, and tiny end-to-end runs whose verdicts do not hang on rounding."""
import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import ember
from ember_vision.cli import main
from ember_vision.models import resnet18, resnet50


def _colour_tree(root, classes=("blue", "red"), per_class=6, size=12):
    """Classes that differ by colour, so even a tiny run can tell them apart."""
    rng = np.random.default_rng(0)
    base = {"blue": (20, 40, 220), "red": (220, 30, 20), "green": (30, 200, 40)}
    for cls in classes:
        (root / cls).mkdir(parents=True)
        for k in range(per_class):
            noise = rng.integers(-20, 20, (size, size, 3))
            pix = np.clip(np.array(base[cls]) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pix).save(root / cls / f"{k}.png")
    return root


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("setup,expect", [
    ("missing", "data folder not found"),
    ("one_class", "found only one class ('only')"),
    ("no_images", "Found no valid file for the classes"),
])
def test_bad_data_is_one_line_and_status_2(tmp_path, capsys, setup, expect):
    data = tmp_path / "data"
    if setup == "one_class":
        _colour_tree(data, classes=("blue",), per_class=2)
        (data / "blue").rename(data / "only")
    elif setup == "no_images":
        (data / "a").mkdir(parents=True)
        (data / "b").mkdir()
    code, out, err = _run(["finetune", "--data", str(data), "--out", str(tmp_path / "o")],
                          capsys)
    assert code == 2
    assert err.startswith("ember-vision: error: ") and expect in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unreadable_image_names_the_file(tmp_path, capsys):
    data = _colour_tree(tmp_path / "data", per_class=2)
    (data / "red" / "zz_broken.jpg").write_bytes(b"garbage, not a jpeg")
    code, _, err = _run(["finetune", "--data", str(data), "--weights", "none", "--epochs",
                         "1", "--image-size", "8", "--no-progress",
                         "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "zz_broken.jpg" in err and err.count("\n") == 1


def test_wrong_architecture_weights(tmp_path, capsys):
    data = _colour_tree(tmp_path / "data", per_class=2)
    path = tmp_path / "r50.pth"
    ember.save(resnet50().state_dict(), str(path))
    code, _, err = _run(["finetune", "--data", str(data), "--weights", str(path),
                         "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "does not hold ResNet-18 weights" in err and "r50.pth" in err
    code, _, err = _run(["finetune", "--data", str(data), "--weights",
                         str(tmp_path / "absent.pth"), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "weights file not found" in err


def test_debug_shows_the_traceback(tmp_path):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    base = [sys.executable, "-m", "ember_vision", "finetune", "--data", str(tmp_path / "nope")]
    plain = subprocess.run(base, capture_output=True, text=True, env=env)
    assert plain.returncode == 2
    assert plain.stderr.strip().splitlines() == [
        f"ember-vision: error: data folder not found: {tmp_path / 'nope'}"]
    debug = subprocess.run(base + ["--debug"], capture_output=True, text=True, env=env)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


@pytest.mark.parametrize("args,expect", [
    (["--image-size", "4"], "--image-size must be at least 8, got 4"),
    (["--lr", "-1"], "--lr must be a positive number, got -1.0"),
    (["--lr", "0"], "--lr must be a positive number, got 0.0"),
    (["--lr", "nan"], "--lr must be a positive number, got nan"),
    (["--lr", "inf"], "--lr must be a positive number, got inf"),
    (["--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["--batch-size", "0"], "--batch-size must be positive, got 0"),
    (["--seed", "-1"], "--seed must be zero or positive, got -1"),
    (["--max-samples", "0"], "--max-samples must be positive, got 0"),
    (["--weights", "none", "--batch-size", "1"], "--batch-size 1 cannot train the whole network"),
])
def test_bad_numbers_are_usage_errors(tmp_path, capsys, args, expect):
    data = _colour_tree(tmp_path / "data", per_class=2)
    code, _, err = _run(["finetune", "--data", str(data), *args, "--no-progress",
                         "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and err.startswith("ember-vision: error: ") and expect in err, err
    assert err.count("\n") == 1 and not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv", [["finetune", "--epochs", "two"], ["finetune", "--bogus"],
                                  ["predict", "x.png"], ["nonsense"]])
def test_malformed_command_lines_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_unwritable_out_is_a_failed_run_not_a_traceback(tmp_path, capsys):
    data = _colour_tree(tmp_path / "data", per_class=2)
    (tmp_path / "file").write_text("a file where the --out folder would go")
    code, _, err = _run(["finetune", "--data", str(data), "--weights", "none", "--epochs", "1",
                         "--image-size", "8", "--no-progress",
                         "--out", str(tmp_path / "file" / "out")], capsys)
    assert code == 1 and err.startswith("ember-vision: error: ") and err.count("\n") == 1
    assert "Traceback" not in err and "file" in err


def test_finetune_train_all_then_predict(tmp_path, capsys):
    data = _colour_tree(tmp_path / "data")
    out = tmp_path / "run"
    # This tests the command, so its numbers must be far from chaos. At 16 px ResNet-18's
    # layer4 is 1x1, so train-mode BatchNorm there normalises batch-size values per channel;
    # with batches of 4 (and a last one of 2) its gradients, ~1 / std of those few values,
    # made the run chaotic: weights reached ~2e3 after one epoch and whether outputs stayed
    # finite depended on the CPU's rounding. One batch of all 10 training images, lr 0.001
    # and 2 steps keep every output near 1, some 37 orders of magnitude from overflow (the
    # losses agree to ~1e-7 across thread counts, ~1e-4 between Winograd and im2col
    # convolutions); the assertions need only finiteness and structure. The divergence
    # path is tested on purpose in test_finetune_divergence.py.
    code, text, err = _run(["finetune", "--data", str(data), "--weights", "none",
                            "--epochs", "2", "--image-size", "16", "--batch-size", "10",
                            "--lr", "0.001", "--no-progress", "--out", str(out)], capsys)
    assert code == 0, err
    assert "training the whole network" in text and "epoch 2/2" in text
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["classes"] == ["blue", "red"] and metrics["frozen_backbone"] is False
    assert metrics["num_train"] == 10 and metrics["num_val"] == 2
    assert len(metrics["history"]) == 2 and "diverged" not in metrics
    for row in metrics["history"]:
        assert np.isfinite(row["train_loss"]) and np.isfinite(row["val_loss"])
        assert 0 <= row["val_acc"] <= 1
    state = ember.load(str(out / "model.pth"))
    assert tuple(state["fc.weight"].shape) == (2, 512) and len(state) == 122
    assert all(np.isfinite(v.numpy()).all() for v in state.values())

    code, text, err = _run(["predict", "--model", str(out), str(data / "red" / "0.png")],
                           capsys)
    assert code == 0, err
    lines = text.splitlines()
    assert lines[0].endswith("0.png") and len(lines) == 3  # two classes: top-2
    probs = [float(line.split("%")[0]) for line in lines[1:]]
    assert abs(sum(probs) - 100) < 0.1 and probs[0] >= probs[1]
    assert {line.split()[-1] for line in lines[1:]} == {"blue", "red"}


def test_finetune_frozen_backbone_from_a_weights_file(tmp_path, capsys):
    data = _colour_tree(tmp_path / "data", classes=("blue", "red", "green"))
    ember.manual_seed(1)
    start = resnet18()
    ember.save(start.state_dict(), str(tmp_path / "start.pth"))
    out = tmp_path / "run"
    code, text, err = _run(["finetune", "--data", str(data), "--weights",
                            str(tmp_path / "start.pth"), "--epochs", "20", "--lr", "0.05",
                            "--image-size", "16", "--no-progress", "--out", str(out)], capsys)
    assert code == 0, err
    assert "backbone frozen" in text
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["frozen_backbone"] is True and len(metrics["history"]) == 20
    assert metrics["history"][-1]["train_loss"] < metrics["history"][0]["train_loss"]
    saved = ember.load(str(out / "model.pth"))
    # the backbone is exactly the starting one; only fc changed
    np.testing.assert_array_equal(saved["layer2.0.conv1.weight"].detach().numpy(),
                                  start.layer2[0].conv1.weight.detach().numpy())
    np.testing.assert_array_equal(saved["bn1.running_mean"].numpy(),
                                  start.bn1.running_mean.numpy())
    assert tuple(saved["fc.weight"].shape) == (3, 512)


def test_predict_errors(tmp_path, capsys):
    code, _, err = _run(["predict", "--model", str(tmp_path / "none"), "x.png"], capsys)
    assert code == 2 and "model folder not found" in err
    code, _, err = _run(["predict", "--model", str(tmp_path), "x.png"], capsys)
    assert code == 2 and "not a finetune output folder" in err
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"classes": ["a", "b"], "image_size": 16}))
    ember.save(resnet18(num_classes=2).state_dict(), str(run / "model.pth"))
    (tmp_path / "junk.png").write_bytes(b"not a png")
    code, _, err = _run(["predict", "--model", str(run), str(tmp_path / "junk.png")], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "junk.png" in err and "not an image format PIL can decode" in err
    code, _, err = _run(["predict", "--model", str(run), str(tmp_path / "gone.png")], capsys)
    assert code == 2 and "image not found" in err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "finetune" in capsys.readouterr().err


def test_version_flag(capsys):
    import ember_vision

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"ember-vision {ember_vision.__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", ember_vision.__version__)


def test_python_m_version_matches_the_installed_distribution():
    from importlib import metadata

    proc = subprocess.run([sys.executable, "-m", "ember_vision", "--version"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == f"ember-vision {metadata.version('ember-vision')}\n"


def test_version_falls_back_to_the_package_when_not_installed(monkeypatch):
    from importlib import metadata

    import ember_vision
    from ember_vision import cli

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    monkeypatch.setattr(ember_vision, "__version__", "9.8.7")
    assert cli.version() == "9.8.7"


def test_readme_names_the_default_output_folder():
    from ember_vision.cli import _parser

    default = _parser().parse_args(["finetune"]).out
    assert default == "ember-vision-out"
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert f"`./{default}/`" in quickstart
    assert "ember-finetune" not in readme  # the name an older README promised


def test_offline_without_cache_says_so_and_trains_everything(tmp_path, capsys, monkeypatch):
    import urllib.error

    import ember_vision.hub

    def offline(url, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(ember_vision.hub, "load_state_dict_from_url", offline)
    data = _colour_tree(tmp_path / "data", per_class=3)
    code, text, err = _run(["finetune", "--data", str(data), "--epochs", "1",
                            "--image-size", "8", "--no-progress",
                            "--out", str(tmp_path / "o")], capsys)
    assert code == 0, err
    notice = [line for line in text.splitlines() if "could not be downloaded" in line]
    assert len(notice) == 1
    assert "starting from random weights and training the whole network" in notice[0]
    assert any(line.startswith("ember-vision finetune:")
               and line.endswith("training the whole network") for line in text.splitlines())
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["frozen_backbone"] is False


def test_predict_with_the_imagenet_weights(tmp_path, capsys, monkeypatch):
    """--model DEFAULT: the published classifier (here: a self-made file in the cache)."""
    ckpt = tmp_path / "home" / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    ember.manual_seed(0)
    ember.save(resnet18().state_dict(), str(ckpt / "resnet18-f37072fd.pth"))
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-torch-cache"))
    Image.new("RGB", (40, 30), (120, 60, 30)).save(tmp_path / "x.jpg")
    code, text, err = _run(["predict", "--model", "DEFAULT", str(tmp_path / "x.jpg")], capsys)
    assert code == 0, err
    lines = text.splitlines()
    assert len(lines) == 6
    from ember_vision.models import ResNet18_Weights
    categories = set(ResNet18_Weights.DEFAULT.meta["categories"])
    assert all(line.split("%", 1)[1].strip() in categories for line in lines[1:])


def test_fc_trained_on_standardised_features_folds_into_a_plain_linear():
    from ember import nn

    from ember_vision.finetune import _fold_standardiser, _standardiser

    rng = np.random.default_rng(0)
    feats = (rng.standard_normal((50, 8)) * [1, 10, 100, 1e3, 0.1, 5, 5, 0]
             + rng.standard_normal(8) * 30).astype(np.float32)
    mu, sigma = _standardiser(feats)
    assert sigma[7] == 1.0  # a flat feature is left unscaled
    fc = nn.Linear(8, 3)
    with ember.no_grad():
        want = fc(ember.from_numpy((feats - mu) / sigma)).numpy()
    _fold_standardiser(fc, mu, sigma)
    with ember.no_grad():
        got = fc(ember.from_numpy(feats)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
