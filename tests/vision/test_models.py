"""ResNet structure, names and reprs against the torchvision-layout golden files; weights
enums, the registry, the legacy ``pretrained=`` interface, and loading the shared layout file."""
import json
import pathlib
import re
import shutil
import warnings

import numpy as np
import pytest

import ember
from ember import nn
import ember_vision as torchvision
from ember_vision.models import (
    ResNet18_Weights, ResNet50_Weights, get_model, get_model_weights, get_weight, list_models,
    resnet18, resnet50,
)

GOLDEN = pathlib.Path(__file__).parent / "golden"


def _layout(name):
    return json.loads((GOLDEN / f"{name}_layout.json").read_text())


@pytest.fixture(scope="module")
def r18():
    ember.manual_seed(0)
    return resnet18()


def test_resnet18_names_shapes_and_counts(r18):
    layout = _layout("resnet18")
    params = list(r18.named_parameters())
    assert len(params) == 62
    assert [[k, list(p.shape)] for k, p in params] == layout["parameters"]
    sd = r18.state_dict()
    assert len(sd) == 122
    assert [[k, list(v.shape)] for k, v in sd.items()] == [e[:2] for e in layout["state_dict"]]
    assert sum(p.numel() for p in r18.parameters()) == 11689512 == layout["num_params"]
    assert sd["layer1.0.bn1.num_batches_tracked"].dtype == ember.int64


def test_resnet50_names_and_counts():
    model = resnet50()
    layout = _layout("resnet50")
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == \
        [e[:2] for e in layout["state_dict"]]
    assert sum(p.numel() for p in model.parameters()) == 25557032


def _with_ember_batchnorm_repr(text):
    """The golden text with each BatchNorm2d line as ember's own BatchNorm2d prints it, so
    this test checks the model's structure; BatchNorm2d's repr is nn's own test."""
    def sub(m):
        return repr(nn.BatchNorm2d(int(m.group(1))))
    return re.sub(r"BatchNorm2d\((\d+), [^)]*\)", sub, text)


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_print_model_matches_torchvision(name):
    model = get_model(name)
    golden = (GOLDEN / f"{name}_repr.txt").read_text()
    assert repr(model) + "\n" == _with_ember_batchnorm_repr(golden)


def test_children_print_as_torchvision(r18):
    layout = dict(_layout("resnet18")["children"])
    children = dict(r18.named_children())
    assert list(children) == list(layout)
    for name in ("conv1", "relu", "maxpool", "avgpool", "fc"):
        assert repr(children[name]) == layout[name]
    assert repr(children["fc"]) == "Linear(in_features=512, out_features=1000, bias=True)"
    assert repr(children["avgpool"]) == "AdaptiveAvgPool2d(output_size=(1, 1))"


def test_default_initialisation(r18):
    w = r18.conv1.weight.detach().numpy()
    fan_out = 64 * 7 * 7
    assert abs(w.std() - np.sqrt(2.0 / fan_out)) < 0.1 * np.sqrt(2.0 / fan_out)
    assert (r18.bn1.weight.detach().numpy() == 1).all()
    assert (r18.bn1.bias.detach().numpy() == 0).all()
    zero = resnet18(zero_init_residual=True)
    assert (zero.layer1[0].bn2.weight.detach().numpy() == 0).all()
    assert (zero.layer1[0].bn1.weight.detach().numpy() == 1).all()


def test_builder_options():
    m = resnet18(num_classes=7)
    assert m.fc.out_features == 7
    m = resnet50(replace_stride_with_dilation=[False, True, True])
    assert m.layer3[1].conv2.dilation == (2, 2) and m.layer4[0].conv2.stride == (1, 1)
    m = resnet50(groups=2, width_per_group=32)
    assert m.layer1[0].conv2.groups == 2
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        resnet18(groups=2)
    with pytest.raises(ValueError, match="replace_stride_with_dilation should be None"):
        resnet18(replace_stride_with_dilation=[True])
    with pytest.raises(TypeError):
        resnet18(True)  # builders are keyword-only


def test_forward_shapes_and_grad_fn(r18):
    x = ember.rand(2, 3, 64, 64)
    r18.eval()
    with ember.no_grad():
        assert tuple(r18(x).shape) == (2, 1000)
    r18.train()
    out = r18(ember.rand(1, 3, 64, 64))
    assert tuple(out.shape) == (1, 1000)
    assert type(out.grad_fn).__name__ == "AddmmBackward0"


def test_weights_enum_meta_and_transforms():
    w = ResNet18_Weights.DEFAULT
    assert w is ResNet18_Weights.IMAGENET1K_V1
    assert repr(w) == "ResNet18_Weights.IMAGENET1K_V1"
    assert w.url == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    meta = w.meta
    assert len(meta["categories"]) == 1000
    assert meta["categories"][0] == "tench" and meta["categories"][-1] == "toilet tissue"
    assert meta["min_size"] == (1, 1) and meta["num_params"] == 11689512
    assert meta["_metrics"]["ImageNet-1K"] == {"acc@1": 69.758, "acc@5": 89.078}
    assert meta["_ops"] == 1.814 and meta["_file_size"] == 44.661
    assert meta["recipe"].startswith("https://github.com/pytorch/vision")
    preset = w.transforms()
    assert preset.crop_size == [224] and preset.resize_size == [256]
    assert ResNet50_Weights.DEFAULT is ResNet50_Weights.IMAGENET1K_V2
    assert ResNet50_Weights.IMAGENET1K_V2.transforms().resize_size == [232]
    assert [m.name for m in ResNet50_Weights] == ["IMAGENET1K_V1", "IMAGENET1K_V2"]


def test_registry():
    assert list_models(include="resnet[0-9]*") == [
        "resnet101", "resnet152", "resnet18", "resnet34", "resnet50"]
    assert list_models(include="resnet1*", exclude="resnet18") == ["resnet101", "resnet152"]
    assert get_model_weights("resnet18") is ResNet18_Weights
    assert get_model_weights(resnet50) is ResNet50_Weights
    assert get_weight("ResNet50_Weights.IMAGENET1K_V2") is ResNet50_Weights.IMAGENET1K_V2
    assert isinstance(get_model("resnet18", num_classes=3), torchvision.models.ResNet)
    with pytest.raises(ValueError, match="Unknown model"):
        get_model("vgg10")


def test_wrong_weights_type_and_name():
    with pytest.raises(TypeError, match="expected ResNet18_Weights but received"):
        resnet18(weights=ResNet50_Weights.DEFAULT)
    with pytest.raises(KeyError):
        resnet18(weights="IMAGENET1K_V9")
    with pytest.raises(ValueError, match="expected value 1000 but got 10"):
        resnet18(weights="DEFAULT", num_classes=10)


def test_pretrained_false_warns_and_means_no_weights():
    with pytest.warns(UserWarning) as record:
        model = resnet18(pretrained=False)
    messages = [str(r.message) for r in record]
    assert messages == [
        "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, "
        "please use 'weights' instead.",
        "Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 "
        "and may be removed in the future. The current behavior is equivalent to passing "
        "`weights=None`.",
    ]
    assert model.fc.out_features == 1000


@pytest.fixture
def cached_layout(tmp_path, monkeypatch, shared_dir):
    """$EMBER_HOME/hub/checkpoints/resnet18-f37072fd.pth = the shared layout file."""
    src = shared_dir / "weights" / "resnet18-imagenet-layout.pth"
    if not src.is_file():
        pytest.skip("shared layout file absent")
    dst = tmp_path / "hub" / "checkpoints"
    dst.mkdir(parents=True)
    shutil.copy(src, dst / "resnet18-f37072fd.pth")
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-torch-cache"))
    return dst / "resnet18-f37072fd.pth"


def test_pretrained_true_warns_and_loads_the_cached_weights(cached_layout):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = torchvision.models.resnet18(pretrained=True)
    texts = [str(r.message) for r in record if issubclass(r.category, UserWarning)]
    assert texts[:2] == [
        "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, "
        "please use 'weights' instead.",
        "Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 "
        "and may be removed in the future. The current behavior is equivalent to passing "
        "`weights=ResNet18_Weights.IMAGENET1K_V1`. You can also use "
        "`weights=ResNet18_Weights.DEFAULT` to get the most up-to-date weights.",
    ]
    state = ember.load(str(cached_layout), weights_only=True)
    assert len(state) == 102
    np.testing.assert_array_equal(model.conv1.weight.detach().numpy(),
                                  state["conv1.weight"].detach().numpy())
    np.testing.assert_array_equal(model.layer4[1].bn2.running_var.numpy(),
                                  state["layer4.1.bn2.running_var"].detach().numpy())
    assert int(model.bn1.num_batches_tracked.item()) == 0


def test_weights_by_enum_and_by_name_load_strict(cached_layout):
    a = resnet18(weights=ResNet18_Weights.DEFAULT)
    b = resnet18(weights="DEFAULT")
    c = resnet18(weights="ResNet18_Weights.IMAGENET1K_V1")
    for m in (b, c):
        np.testing.assert_array_equal(m.fc.weight.detach().numpy(),
                                      a.fc.weight.detach().numpy())
    sd = ResNet18_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
    assert len(sd) == 102 and "layer1.0.bn1.num_batches_tracked" not in sd
    fresh = resnet18()
    fresh.load_state_dict(sd, strict=True)
