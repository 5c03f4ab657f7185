"""Run each tutorial script in examples/ and check the lines the mission shows.

The ResNet weights come from a temporary $EMBER_HOME cache: the shared layout file when
../shared is present, else a randomly initialised ResNet-18 saved with ember.save (so the
test also runs on a fresh clone, offline).
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SHARED_LAYOUT = ROOT.parent / "shared" / "weights" / "resnet18-imagenet-layout.pth"
CACHED_NAME = "resnet18-f37072fd.pth"


def _self_made_weights(path):
    import ember
    from ember_vision.models import resnet18

    ember.manual_seed(0)
    ember.save(resnet18().state_dict(), str(path))


@pytest.fixture(scope="module", params=["shared", "self-made"])
def ember_home(request, tmp_path_factory):
    home = tmp_path_factory.mktemp(f"ember_home_{request.param}")
    ckpt = home / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    if request.param == "shared":
        if not SHARED_LAYOUT.is_file():
            pytest.skip("../shared/weights is not present beside this clone")
        shutil.copy(SHARED_LAYOUT, ckpt / CACHED_NAME)
    else:
        _self_made_weights(ckpt / CACHED_NAME)
    return home


def _run(script, home=None, args=()):
    env = dict(os.environ)
    if home is not None:
        env["EMBER_HOME"] = str(home)
        env["TORCH_HOME"] = str(home / "no-torch-cache")  # never read a real torch cache
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


SGD_REPR = """SGD (
Parameter Group 0
    dampening: 0
    differentiable: False
    foreach: None
    fused: None
    lr: 0.01
    maximize: False
    momentum: 0.95
    nesterov: False
    weight_decay: 0
)"""


def test_training_step(ember_home):
    out = _run("tutorial_training_step.py", ember_home)
    lines = out.splitlines()
    assert "UserWarning: The parameter 'pretrained' is deprecated since 0.13" in out
    assert "The current behavior is equivalent to passing " \
           "`weights=ResNet18_Weights.IMAGENET1K_V1`." in out
    assert "ember.Size([1, 3, 64, 64])" in lines and "1000" in lines
    assert "ember.Size([1, 1000])" in lines
    assert re.search(r"^tensor\(\[\[.*grad_fn=<AddmmBackward0>\)$", out, re.S | re.M)
    assert re.search(r"^tensor\(-?\d+\.\d{4}, grad_fn=<SumBackward0>\)$", out, re.M)
    assert "<class 'ember.Tensor'>" in lines
    assert "every parameter has .grad: True" in lines
    assert "step changed fc.weight: True" in lines
    assert out.rstrip().endswith(SGD_REPR)


def test_finetuning(ember_home):
    out = _run("tutorial_finetuning.py", ember_home)
    lines = out.splitlines()
    assert lines[0] == "ResNet("
    for child in ["Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)",
                  "ReLU(inplace=True)",
                  "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)",
                  "AdaptiveAvgPool2d(output_size=(1, 1))",
                  "Linear(in_features=512, out_features=1000, bias=True)"]:
        assert child in lines, child
    assert any(line.startswith("BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True")
               for line in lines)
    assert "True True" in lines  # dir(model) has parameters and fc
    assert "parameters with gradients: ['fc.weight', 'fc.bias']" in lines
    assert "frozen parameters have no grad and did not change: True" in lines
    assert "fc.weight changed: True" in lines
    assert lines[-1] == "False ember.Size([2, 10])"


def test_differentiation():
    out = _run("tutorial_differentiation.py")
    assert out.splitlines() == [
        "tensor([True, True])",
        "tensor([True, True])",
        "tensor([True, True]) tensor([36., 81.])",
        "tensor([True, True]) tensor([-12.,  -8.])",
        "(tensor([3., 4.], requires_grad=True), tensor([5., 7.], requires_grad=True))",
        "tensor([ 56., 143.], grad_fn=<SubBackward0>)",
        "(tensor([ 81., 144.]), tensor([-10., -14.]))",
        "tensor([ 81., 144.], grad_fn=<MulBackward0>)",
        "RuntimeError: grad can be implicitly created only for scalar outputs",
    ]


def test_vector_calculus():
    out = _run("tutorial_vector_calculus.py")
    assert out.splitlines() == [
        "tensor([36.0000, 40.5000]) tensor([-12.,  -4.])",
        "tensor([36.0000, 40.5000])",
        "tensor([[36.,  0.],",
        "        [ 0., 81.]])",
        "tensor([36.0000, 40.5000])",
        "tensor([36.0000, 40.5000])",
        "tensor([[12.,  0.],",
        "        [ 0., 18.]])",
    ]


def test_dag_exclusion():
    out = _run("tutorial_dag_exclusion.py")
    lines = out.splitlines()
    assert lines[0].startswith("<SubBackward0 object at 0x")
    assert lines[1] == "['MulBackward0', 'PowBackward0']"
    assert lines[2:] == ["Does `a` require gradients?: False",
                         "Does `b` require gradients?: True",
                         "Does `c` require gradients?: False"]


def test_computational_graph(tmp_path):
    out = _run("tutorial_computational_graph.py", args=[str(tmp_path)])
    lines = out.splitlines()
    assert lines[:6] == ["SubBackward0", "  MulBackward0", "    PowBackward0",
                         "      AccumulateGrad", "  PowBackward0", "    AccumulateGrad"]
    assert lines[-1] == "tensor([36., 81.]) tensor([-12.,  -8.])"
    dot = (tmp_path / "autograd_graph.dot").read_text()
    assert dot.startswith("digraph") and "lightblue" in dot and "SubBackward0" in dot
    if shutil.which("dot"):
        assert (tmp_path / "autograd_graph.svg").read_text().lstrip().startswith("<?xml")
