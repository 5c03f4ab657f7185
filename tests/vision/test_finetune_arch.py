"""``ember-vision finetune --arch``: every architecture's head is found and replaced as
torchvision's finetuning tutorial does, the frozen path's features and head give the model's
own logits, and tiny end-to-end runs (SqueezeNet's convolution head among them) train,
save and predict."""
import json

import numpy as np
import pytest

import ember
from ember import nn
from ember_vision import _architectures as A
from ember_vision.cli import main
from ember_vision.models import get_model, list_models
from ember_vision.models.inception import InceptionOutputs

pytestmark = pytest.mark.usefixtures("no_training_plot")

# the tutorial's table: where each family's new head goes, and what kind of layer it is
EXPECTED_HEADS = {
    "resnet": ["fc"], "resnext": ["fc"], "wide_resnet": ["fc"], "regnet": ["fc"],
    "shufflenet": ["fc"], "googlenet": ["fc"], "inception": ["fc", "AuxLogits.fc"],
    "alexnet": ["classifier.6"], "vgg": ["classifier.6"], "squeezenet": ["classifier.1"],
    "densenet": ["classifier"], "mobilenet_v2": ["classifier.1"],
    "efficientnet": ["classifier.1"], "mobilenet_v3": ["classifier.3"],
    "convnext": ["classifier.2"],
}


def _expected_paths(arch):
    for prefix, paths in EXPECTED_HEADS.items():
        if arch.startswith(prefix):
            return paths
    raise AssertionError(f"no expectation for {arch}")


def _needs(arch):
    if arch not in list_models():
        pytest.skip(f"ember_vision.models has no {arch} yet (another change adds it)")


@pytest.fixture
def uninitialised(monkeypatch):
    """Skip weight initialisation while models are built: VGG's 140M values take ~15 s to
    draw here, and these tests look at the modules, not their values."""
    from ember.nn import init

    for name in dir(init):
        if name.endswith("_") and not name.startswith("_"):
            monkeypatch.setattr(init, name, lambda tensor, *args, **kwargs: tensor)


@pytest.mark.parametrize("arch", A.ARCHITECTURES)
def test_every_arch_gets_a_new_head_where_the_tutorial_puts_it(arch, uninitialised):
    _needs(arch)
    model = get_model(arch, weights=None, **A.build_kwargs(arch, "random"))
    paths = _expected_paths(arch)
    old = [A.submodule(model, p) for p in paths]
    A.replace_head(model, arch, 7)
    for path, before in zip(paths, old):
        head = A.submodule(model, path)
        assert head is not before
        if arch.startswith("squeezenet"):  # a 1x1 convolution to the classes
            assert isinstance(head, nn.Conv2d) and head.kernel_size == (1, 1)
            assert (head.in_channels, head.out_channels) == (before.in_channels, 7)
            assert model.num_classes == 7
        else:
            assert isinstance(head, nn.Linear)
            assert (head.in_features, head.out_features) == (before.in_features, 7)
    A.freeze_backbone(model, arch)
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert trainable == {id(p) for p in A.head_parameters(model, arch)}
    assert len(trainable) == 2 * len(paths)  # weight and bias of each head


def test_googlenet_is_built_without_its_auxiliary_heads(uninitialised):
    model = get_model("googlenet", weights=None, **A.build_kwargs("googlenet", "random"))
    assert model.aux1 is None and model.aux2 is None


def test_unknown_and_missing_architectures_are_usage_errors(tmp_path, capsys, cli_helpers):
    data = cli_helpers._colour_tree(tmp_path / "data", per_class=2)
    code, _, err = cli_helpers._run(["finetune", "--data", str(data), "--arch", "lenet"], capsys)
    assert code == 2 and "unknown --arch 'lenet'; choose one of: alexnet, vgg11" in err
    missing = [a for a in A.ARCHITECTURES if a not in list_models()]
    if missing:
        code, _, err = cli_helpers._run(["finetune", "--data", str(data), "--arch", missing[0]], capsys)
        assert code == 2 and f"--arch {missing[0]} is not available" in err


def test_help_lists_every_architecture(capsys):
    with pytest.raises(SystemExit):
        main(["finetune", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(arch in text for arch in A.ARCHITECTURES)
    assert "the backbone runs on every epoch's images instead of once" in text


def test_image_size_below_the_models_minimum(tmp_path, capsys, cli_helpers):
    data = cli_helpers._colour_tree(tmp_path / "data", per_class=2)
    code, _, err = cli_helpers._run(["finetune", "--data", str(data), "--arch", "squeezenet1_1",
                         "--image-size", "16", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "--image-size must be at least 17 for squeezenet1_1, got 16" in err


def test_input_sizes_come_from_the_published_weights():
    assert A.input_sizes("resnet18") == (224, 256, 1)
    assert A.input_sizes("inception_v3") == (299, 342, 75)
    assert A.input_sizes("resnet50")[:2] == (224, 232)


@pytest.mark.parametrize("arch,size", [("resnet18", 32), ("squeezenet1_1", 32),
                                       ("densenet121", 32), ("inception_v3", 75)])
def test_cached_features_through_the_head_are_the_models_logits(arch, size):
    ember.manual_seed(0)
    model = get_model(arch, weights=None, **A.build_kwargs(arch, "random"))
    A.replace_head(model, arch, 3)
    model.eval()
    x = ember.randn(2, 3, size, size)
    with ember.no_grad():
        want = model(x).numpy()
        feats = A.backbone_features(model, arch, x)
        got = A.feature_tail(model, arch)(feats).numpy()
    assert got.shape == (2, 3)
    np.testing.assert_array_equal(got, want)
    assert A.submodule(model, A.head_spec(arch).paths[0]) is not None  # the head is back


def test_inception_auxiliary_loss_is_weighted_0_4():
    criterion = nn.CrossEntropyLoss()
    target = ember.tensor([0, 2])
    logits, aux = ember.randn(2, 3), ember.randn(2, 3)
    got_logits, loss = A.logits_and_loss(InceptionOutputs(logits, aux), target, criterion,
                                         "inception_v3")
    assert got_logits is logits
    want = criterion(logits, target).item() + 0.4 * criterion(aux, target).item()
    assert loss.item() == pytest.approx(want, rel=1e-6)
    plain_logits, plain = A.logits_and_loss(logits, target, criterion, "resnet18")
    assert plain_logits is logits and plain.item() == criterion(logits, target).item()


def test_squeezenet_frozen_from_a_weights_file_then_predict(tmp_path, capsys, cli_helpers):
    """SqueezeNet's head is a convolution: its cached features are (512, h, w) maps,
    standardised per channel while it trains and folded back into the convolution."""
    data = cli_helpers._colour_tree(tmp_path / "data")
    ember.manual_seed(1)
    start = get_model("squeezenet1_1")
    ember.save(start.state_dict(), str(tmp_path / "start.pth"))
    out = tmp_path / "run"
    code, text, err = cli_helpers._run(["finetune", "--data", str(data), "--arch", "squeezenet1_1",
                            "--weights", str(tmp_path / "start.pth"), "--epochs", "8",
                            "--lr", "0.05", "--image-size", "32", "--no-progress",
                            "--out", str(out)], capsys)
    assert code == 0, err
    assert "squeezenet1_1 from weights file" in text
    assert "backbone frozen, training classifier.1 only" in text
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["arch"] == "squeezenet1_1" and metrics["frozen_backbone"] is True
    assert metrics["image_size"] == 32 and metrics["resize_size"] == round(32 * 256 / 224)
    assert metrics["history"][-1]["train_loss"] < metrics["history"][0]["train_loss"]
    saved = ember.load(str(out / "model.pth"))
    assert tuple(saved["classifier.1.weight"].shape) == (2, 512, 1, 1)
    np.testing.assert_array_equal(saved["features.0.weight"].numpy(),
                                  start.features[0].weight.detach().numpy())
    code, text, err = cli_helpers._run(["predict", "--model", str(out), str(data / "red" / "0.png")],
                           capsys)
    assert code == 0, err
    assert {line.split()[-1] for line in text.splitlines()[1:]} == {"blue", "red"}


def test_shufflenet_whole_network_from_random_weights(tmp_path, capsys, cli_helpers):
    data = cli_helpers._colour_tree(tmp_path / "data")
    out = tmp_path / "run"
    code, text, err = cli_helpers._run(["finetune", "--data", str(data), "--arch", "shufflenet_v2_x1_0",
                            "--weights", "none", "--epochs", "1", "--batch-size", "10",
                            "--lr", "0.001", "--image-size", "32", "--no-progress",
                            "--out", str(out)], capsys)
    assert code == 0, err
    assert "shufflenet_v2_x1_0 from random initialisation" in text
    assert "training the whole network" in text
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["arch"] == "shufflenet_v2_x1_0" and metrics["frozen_backbone"] is False
    assert np.isfinite(metrics["history"][0]["train_loss"])
    saved = ember.load(str(out / "model.pth"))
    assert tuple(saved["fc.weight"].shape) == (2, 1024)
    code, _, err = cli_helpers._run(["predict", "--model", str(out), str(data / "blue" / "1.png")], capsys)
    assert code == 0, err


def test_weights_file_of_another_architecture_names_both(tmp_path, capsys, cli_helpers):
    data = cli_helpers._colour_tree(tmp_path / "data", per_class=2)
    ember.save(get_model("squeezenet1_0").state_dict(), str(tmp_path / "sq10.pth"))
    code, _, err = cli_helpers._run(["finetune", "--data", str(data), "--arch", "squeezenet1_1",
                         "--weights", str(tmp_path / "sq10.pth"),
                         "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "does not hold squeezenet1_1 weights" in err


def test_googlenet_from_its_published_weights_then_predict(tmp_path, capsys, monkeypatch,
                                                            cli_helpers):
    """--weights DEFAULT through the builder (here: a self-made file in the cache, with the
    auxiliary heads the published file has): the builder drops them and feeds inputs as
    the published weights expect; predict rebuilds the same model from the output folder."""
    from ember_vision.models.googlenet import GoogLeNet

    ckpt = tmp_path / "home" / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    ember.manual_seed(0)
    published = GoogLeNet(aux_logits=True, transform_input=True, init_weights=True)
    ember.save(published.state_dict(), str(ckpt / "googlenet-1378be20.pth"))
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-torch-cache"))
    data = cli_helpers._colour_tree(tmp_path / "data", per_class=3)
    out = tmp_path / "run"
    code, text, err = cli_helpers._run(
        ["finetune", "--data", str(data), "--arch", "googlenet", "--epochs", "1",
         "--image-size", "32", "--no-progress", "--out", str(out)], capsys)
    assert code == 0, err
    assert "googlenet from GoogLeNet_Weights.IMAGENET1K_V1" in text and "frozen" in text
    saved = ember.load(str(out / "model.pth"))
    assert not any(k.startswith(("aux1.", "aux2.")) for k in saved)
    assert tuple(saved["fc.weight"].shape) == (2, 1024)
    np.testing.assert_array_equal(saved["conv1.conv.weight"].numpy(),
                                  published.conv1.conv.weight.detach().numpy())
    code, _, err = cli_helpers._run(["predict", "--model", str(out),
                                     str(data / "red" / "0.png")], capsys)
    assert code == 0, err


def test_inception_whole_network_needs_299_px(tmp_path, capsys, cli_helpers):
    data = cli_helpers._colour_tree(tmp_path / "data", per_class=2)
    code, _, err = cli_helpers._run(
        ["finetune", "--data", str(data), "--arch", "inception_v3", "--weights", "none",
         "--image-size", "107", "--no-progress", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and err.count("\n") == 1
    assert ("--image-size must be at least 299 to train the whole inception_v3 (its "
            "auxiliary classifier needs 17x17 maps), got 107") in err
