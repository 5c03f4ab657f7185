"""The classification models of issue 15 against torchvision's goldens (made by
tools/make_golden_models.py): state-dict keys and shapes, parameter counts, ``repr``, and
every field of the weights enums; plus a tiny forward of each model and its builders'
keyword handling. Values against torch are in test_torch_models_parity.py."""
import gzip
import json
import math
import pathlib
import re
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember_vision import models

GOLDEN = json.loads(gzip.decompress(
    (pathlib.Path(__file__).parent / "golden" / "models_torchvision.json.gz").read_bytes()))
NAMES = sorted(GOLDEN)
# smallest input each architecture accepts comfortably (inception_v3 needs 75 px)
INPUT_SIZE = {"inception_v3": 75, "alexnet": 63}


@pytest.fixture
def no_init(monkeypatch):
    """Skip random initialisation while building (structure does not depend on values, and
    VGG's 100M-parameter classifier takes seconds to fill)."""
    for cls in (nn.Linear, nn.Conv2d, nn.BatchNorm2d):
        monkeypatch.setattr(cls, "reset_parameters", lambda self: None)
    for fn in ("kaiming_normal_", "kaiming_uniform_", "normal_", "trunc_normal_", "constant_",
               "uniform_", "zeros_", "ones_"):
        monkeypatch.setattr(nn.init, fn, lambda tensor, *a, **k: tensor)


def _build(name, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # googlenet/inception init_weights
        return models.get_model(name, **kwargs)


def _without_bn_bias(text):
    # torch 2.13's BatchNorm repr lists ``bias=True``; ember.nn's own repr is nn's business
    return re.sub(r"(BatchNorm2d\([^)]*?), bias=True", r"\1", text)


@pytest.mark.parametrize("name", NAMES)
def test_layout_count_and_repr_match_torchvision(name, no_init):
    gold = GOLDEN[name]
    model = _build(name)
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == gold["state_dict"]
    assert sum(p.numel() for p in model.parameters()) == gold["num_params"]
    assert _without_bn_bias(repr(model)) == _without_bn_bias(gold["repr"])


def _jsonable(value):
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if type(value).__name__ == "InterpolationMode":
        return value.value
    return value


@pytest.mark.parametrize("name", NAMES)
def test_weights_enum_matches_torchvision(name):
    gold = GOLDEN[name]["weights"]
    enum = models.get_model_weights(name)
    assert enum.__name__ == gold["enum"]
    assert getattr(models, gold["enum"]) is enum
    assert [w.name for w in enum] == list(gold["members"])
    assert enum.DEFAULT is enum[gold["DEFAULT"]]
    for w in enum:
        want = gold["members"][w.name]
        assert w.url == want["url"]
        meta = dict(w.meta)
        cats = meta.pop("categories")
        assert (None if cats is None else [len(cats), cats[0], cats[-1]]) == want["categories"]
        assert _jsonable(meta) == want["meta"], w
        assert _jsonable(dict(w.transforms.keywords)) == want["transforms"], w
        preset = w.transforms()
        assert preset.crop_size == [want["transforms"]["crop_size"]]
        assert models.get_weight(f"{enum.__name__}.{w.name}") is w


def test_registry_lists_every_model():
    assert set(NAMES) <= set(models.list_models())
    assert models.list_models(include="vgg1[19]*") == ["vgg11", "vgg11_bn", "vgg19", "vgg19_bn"]
    assert models.list_models(module=models.densenet) == [
        "densenet121", "densenet161", "densenet169", "densenet201"]
    assert models.get_model_weights(models.vgg16) is models.VGG16_Weights
    assert isinstance(models.get_model("squeezenet1_1", num_classes=3), models.SqueezeNet)


def _fill(model):
    """Deterministic small values, so the forward is finite without random init."""
    pattern = np.random.default_rng(0).standard_normal(4099).astype(np.float32) * 0.05
    with ember.no_grad():
        for _, p in model.named_parameters():
            if p.numel() > 1 << 20:  # VGG/AlexNet classifiers: a constant is enough, and fast
                p.fill_(1e-3)
            else:
                p.copy_(ember.from_numpy(np.resize(pattern, tuple(p.shape))))


@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith("vgg")] + ["vgg11_bn"])
def test_tiny_forward(name, no_init):
    model = _build(name, num_classes=7)
    _fill(model)
    model.eval()
    size = INPUT_SIZE.get(name, 32)
    with ember.no_grad():
        out = model(ember.from_numpy(
            np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)))
    assert tuple(out.shape) == (1, 7)
    assert np.isfinite(out.numpy()).all()


def test_aux_heads_in_train_mode(no_init):
    g = _build("googlenet", num_classes=5)
    _fill(g)
    out = g(ember.rand(2, 3, 64, 64))
    assert type(out).__name__ == "GoogLeNetOutputs"
    assert [tuple(o.shape) for o in out] == [(2, 5)] * 3
    g.eval()
    assert tuple(g(ember.rand(1, 3, 64, 64)).shape) == (1, 5)
    no_aux = _build("googlenet", num_classes=5, aux_logits=False)
    assert no_aux.aux1 is None and no_aux.aux2 is None
    assert sum(p.numel() for p in _build("googlenet", aux_logits=False).parameters()) == \
        models.GoogLeNet_Weights.DEFAULT.meta["num_params"]
    inc = _build("inception_v3", num_classes=5, aux_logits=False)
    assert inc.AuxLogits is None


def test_builder_errors_and_warnings():
    with pytest.warns(FutureWarning, match="default weight initialization of GoogleNet"):
        models.googlenet(num_classes=3)
    with pytest.raises(ValueError, match="blocks length should be 3 instead of 2"):
        models.GoogLeNet(blocks=[1, 2], init_weights=False)
    with pytest.raises(ValueError, match="Unsupported SqueezeNet version 2_0"):
        models.SqueezeNet("2_0")
    with pytest.raises(TypeError, match="expected VGG11_Weights but received"):
        models.vgg11(weights=models.AlexNet_Weights.DEFAULT)
    with pytest.raises(ValueError, match="expected value 1000 but got 10"):
        models.squeezenet1_0(weights="DEFAULT", num_classes=10)
    with pytest.raises(TypeError):
        models.alexnet(True)  # keyword-only, as torchvision's builders
    with pytest.raises(ValueError, match="illegal stride value"):
        models.shufflenetv2.InvertedResidual(4, 4, 4)


def test_initialisation_rules():
    ember.manual_seed(0)
    sq = models.squeezenet1_0(num_classes=10)
    final = sq.classifier[1].weight.detach().numpy()
    assert abs(final.std() - 0.01) < 0.002
    assert (sq.features[0].bias.detach().numpy() == 0).all()
    g = models.googlenet(num_classes=10, init_weights=True)
    w = g.fc.weight.detach().numpy()
    assert abs(w.std() - 0.01) < 0.001  # trunc_normal_ at +-2 (absolute): no visible cut
    d = models.densenet121(num_classes=10)
    assert (d.classifier.bias.detach().numpy() == 0).all()
    assert (d.features.norm0.weight.detach().numpy() == 1).all()


def _serve_state_dict(monkeypatch, state_dict):
    """Make every weights enum 'download' ``state_dict`` (the code path after the hub)."""
    calls = []

    def get_state_dict(self, *args, **kwargs):
        calls.append((self, kwargs))
        return dict(state_dict)

    monkeypatch.setattr(models.WeightsEnum, "get_state_dict", get_state_dict)
    return calls


def test_densenet_renames_the_published_files_old_keys(monkeypatch, no_init):
    source = models.densenet121()
    _fill(source)
    # the published files spell ``denselayer1.norm1`` as ``denselayer1.norm.1`` (and, being
    # older than BatchNorm's counter, have no ``num_batches_tracked``)
    old = {re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", k): v
           for k, v in source.state_dict().items() if "num_batches" not in k}
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    calls = _serve_state_dict(monkeypatch, old)
    model = models.densenet121(weights="DEFAULT")
    assert calls == [(models.DenseNet121_Weights.IMAGENET1K_V1,
                      {"progress": True, "check_hash": True})]
    got = model.state_dict()["features.denseblock2.denselayer3.conv2.weight"].numpy()
    want = source.state_dict()["features.denseblock2.denselayer3.conv2.weight"].numpy()
    np.testing.assert_array_equal(got, want)


def test_pretrained_googlenet_and_inception_drop_untrained_aux_heads(monkeypatch, no_init):
    g = _build("googlenet")
    _serve_state_dict(monkeypatch, g.state_dict())
    model = models.googlenet(weights=models.GoogLeNet_Weights.DEFAULT)
    assert model.aux1 is None and model.aux2 is None and not model.aux_logits
    assert model.transform_input  # the ported weights expect torchvision's input mapping
    with pytest.warns(UserWarning, match="auxiliary heads in the pretrained googlenet"):
        with_aux = models.googlenet(weights="DEFAULT", aux_logits=True)
    assert with_aux.aux1 is not None
    with pytest.raises(ValueError, match="expected value True but got False"):
        models.googlenet(weights="DEFAULT", aux_logits=False)
    inc = _build("inception_v3")
    _serve_state_dict(monkeypatch, inc.state_dict())
    model = models.inception_v3(weights="DEFAULT")
    assert model.AuxLogits is not None and model.transform_input
    assert models.inception_v3(weights="DEFAULT", transform_input=False).transform_input is False


def test_published_file_name_loads_from_the_cache(tmp_path, monkeypatch):
    """The whole path a user takes: ``weights="DEFAULT"`` finds the file its URL names in
    $EMBER_HOME/hub/checkpoints (written here by ember.save, as torch.save lays it out) and
    loads it strictly, with the legacy ``pretrained=True`` meaning the same weights."""
    source = models.squeezenet1_1()
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    url = models.SqueezeNet1_1_Weights.DEFAULT.url
    ember.save(source.state_dict(), str(cache / url.rsplit("/", 1)[1]))
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-torch-cache"))
    model = models.get_model("squeezenet1_1", weights="DEFAULT")
    np.testing.assert_array_equal(model.classifier[1].weight.detach().numpy(),
                                  source.classifier[1].weight.detach().numpy())
    with pytest.warns(UserWarning) as record:
        legacy = models.squeezenet1_1(pretrained=True)
    texts = [str(r.message) for r in record]
    assert texts[0].startswith("The parameter 'pretrained' is deprecated")
    assert "`weights=SqueezeNet1_1_Weights.IMAGENET1K_V1`" in texts[1]
    np.testing.assert_array_equal(legacy.features[0].weight.detach().numpy(),
                                  source.features[0].weight.detach().numpy())
