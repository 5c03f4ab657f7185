"""End-to-end benchmarks: the tutorial's workloads on ResNet-18, Ember beside torch.

Both frameworks get the same weights (torch's random init copied into Ember) and the same
inputs. Cases follow the performance issue: tiny autograd, no-grad forward, the tutorial's
training step, the frozen-backbone finetuning step, 16x224 forward/step, peak RSS in fresh
processes, and thread/batch scaling.
"""
import json
import subprocess
import sys
import textwrap

import numpy as np

from timing import compare


def _models(num_classes=1000):
    import ember
    import torch
    import torch_resnet
    from ember_vision.models import resnet18

    torch.manual_seed(0)
    t_model = torch_resnet.resnet18(num_classes)
    e_model = resnet18(num_classes=num_classes)
    state = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in
             t_model.state_dict().items()}
    e_model.load_state_dict(state)
    return e_model, t_model


def _inputs(shape, classes=1000, seed=0):
    import ember
    import torch

    rng = np.random.default_rng(seed)
    x = rng.random(shape, dtype=np.float32)
    y = rng.random((shape[0], classes), dtype=np.float32)
    return (ember.from_numpy(x.copy()), ember.from_numpy(y.copy()),
            torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))


def case_tiny_autograd():
    import ember
    import torch

    def make(lib):
        def step():
            a = lib.tensor([2., 3.], requires_grad=True)
            b = lib.tensor([6., 4.], requires_grad=True)
            q = 3 * a ** 3 - b ** 2
            q.backward(gradient=lib.tensor([1., 1.]))
        return step

    return compare(make(ember), make(torch), repeat=2000, budget=2.0)


def case_forward(batch, size, budget=10.0):
    import ember
    import torch

    e_model, t_model = _models()
    e_model.eval()
    t_model.eval()
    ex, _, tx, _ = _inputs((batch, 3, size, size))

    def e_fn():
        with ember.no_grad():
            e_model(ex)

    def t_fn():
        with torch.no_grad():
            t_model(tx)

    return compare(e_fn, t_fn, repeat=15, budget=budget)


def case_train_step(batch, size, budget=15.0):
    import ember
    import torch

    e_model, t_model = _models()
    ex, ey, tx, ty = _inputs((batch, 3, size, size))
    e_opt = ember.optim.SGD(e_model.parameters(), lr=1e-2, momentum=0.9)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=1e-2, momentum=0.9)

    def e_fn():
        e_opt.zero_grad()
        (e_model(ex) - ey).sum().backward()
        e_opt.step()

    def t_fn():
        t_opt.zero_grad()
        (t_model(tx) - ty).sum().backward()
        t_opt.step()

    return compare(e_fn, t_fn, repeat=9, budget=budget)


def case_finetune_step(batch=32, size=64):
    import ember
    import torch

    e_model, t_model = _models()
    for p in e_model.parameters():
        p.requires_grad = False
    for p in t_model.parameters():
        p.requires_grad = False
    e_model.fc = ember.nn.Linear(512, 10)
    t_model.fc = torch.nn.Linear(512, 10)
    e_model.fc.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy())
                                for k, v in t_model.fc.state_dict().items()})
    ex, _, tx, _ = _inputs((batch, 3, size, size))
    labels = np.arange(batch) % 10
    ey, ty = ember.from_numpy(labels.copy()), torch.from_numpy(labels.copy())
    e_opt = ember.optim.SGD(e_model.fc.parameters(), lr=1e-2, momentum=0.9)
    t_opt = torch.optim.SGD(t_model.fc.parameters(), lr=1e-2, momentum=0.9)
    e_loss, t_loss = ember.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()

    def e_fn():
        e_opt.zero_grad()
        e_loss(e_model(ex), ey).backward()
        e_opt.step()

    def t_fn():
        t_opt.zero_grad()
        t_loss(t_model(tx), ty).backward()
        t_opt.step()

    return compare(e_fn, t_fn, repeat=9, budget=15.0)


_RSS_SNIPPET = textwrap.dedent("""
    import resource, sys
    sys.path[:0] = {paths!r}
    import numpy as np
    lib = sys.argv[1]
    if lib == "ember":
        import ember as fw
        from ember_vision.models import resnet18
        model = resnet18()
    else:
        import torch as fw
        import torch_resnet
        model = torch_resnet.resnet18()
    fw.set_num_threads(2)
    x = fw.from_numpy(np.random.default_rng(0).random((16, 3, 224, 224), dtype=np.float32))
    opt = fw.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and
    # exec, so a child of a big benchmark process would report the parent's peak.
    with open("/proc/self/status") as f:
        hwm = [line for line in f if line.startswith("VmHWM:")]
    if hwm:
        print(int(hwm[0].split()[1]) * 1024)
    else:
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
""")


def case_peak_rss():
    import pathlib

    here = pathlib.Path(__file__).resolve().parent
    code = _RSS_SNIPPET.format(paths=[str(here), str(here.parent / "tools")])
    out = {}
    for lib in ("ember", "torch"):
        proc = subprocess.run([sys.executable, "-c", code, lib], capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"peak-RSS run for {lib} failed:\n{proc.stderr[-2000:]}")
        out[lib] = int(proc.stdout.strip().splitlines()[-1])
    return out["ember"], out["torch"]


def _with_threads(n, fn, *args):
    import ember_tensor
    import torch

    old_e, old_t = ember_tensor.get_num_threads(), torch.get_num_threads()
    ember_tensor.set_num_threads(n)
    torch.set_num_threads(n)
    try:
        return fn(*args)
    finally:
        ember_tensor.set_num_threads(old_e)
        torch.set_num_threads(old_t)


def run(quick=False):
    """Yield (name, ember_seconds, torch_seconds, note) rows."""
    yield ("1 tiny autograd Q=3a^3-b^2, backward", *case_tiny_autograd(), "target <= 0.5")
    yield ("2 ResNet-18 no-grad forward 1x3x64x64", *case_forward(1, 64), "target <= 0.8")
    yield ("3 tutorial training step 1x3x64x64", *case_train_step(1, 64), "target <= 0.8")
    yield ("4 finetune step (frozen, new fc) 32x3x64x64", *case_finetune_step(), "target <= 0.8")
    if quick:
        return
    yield ("5a ResNet-18 no-grad forward 16x3x224x224", *case_forward(16, 224, 20.0),
           "target <= 1.0")
    yield ("5b ResNet-18 training step 16x3x224x224", *case_train_step(16, 224, 30.0),
           "target <= 1.0")
    e_rss, t_rss = case_peak_rss()
    print(json.dumps({"peak_rss_bytes": {"ember": e_rss, "torch": t_rss}}))
    yield ("6 peak RSS of case 5b (fresh process), ratio of bytes", e_rss, t_rss,
           f"{e_rss / 2**20:.0f} MiB vs {t_rss / 2**20:.0f} MiB; target <= 1.0")
    for threads in (1, 2):
        yield (f"7 step 1x3x64x64, {threads} thread(s)",
               *_with_threads(threads, case_train_step, 1, 64), "")
    for batch in (1, 4, 16):
        yield (f"7 step {batch}x3x224x224, 2 threads", *case_train_step(batch, 224, 20.0), "")
    yield ("7 step 16x3x224x224, 1 thread", *_with_threads(1, case_train_step, 16, 224, 30.0), "")
