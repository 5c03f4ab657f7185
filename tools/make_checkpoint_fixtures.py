"""Write the small torch-made checkpoints that ember.load is tested against (needs torch).

    python tools/make_checkpoint_fixtures.py

Creates, in tests/autograd/serialization/fixtures/:
  zip_state_dict.pth     torch.save of a Linear+BatchNorm state_dict (+ a view sharing storage)
  zip_mixed.pth          tensors of every Ember dtype, 0-d, empty, transposed and sliced views,
                         a Parameter, a Size, dtypes and plain containers
  legacy_mixed.pth       the same object in the legacy stream format (torch 0.1.10-1.5)
  golden.json            what loading each file must give (values, dtypes, shapes, strides,
                         storage offsets, which entries share storage), for the torch-free suite
The values are deterministic (arange-based), so re-running gives identical tensors.
"""
import collections
import json
import pathlib

import torch

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "autograd" / "serialization" / "fixtures"
DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def state_dict_object():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    with torch.no_grad():
        model[0].weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4)
        model[0].bias.copy_(torch.tensor([-1.5, 2.25]))
        model[1].running_mean.fill_(0.5)
        model[1].num_batches_tracked.fill_(7)
    sd = model.state_dict()
    sd["view"] = sd["0.weight"][:, 1]  # offset 1, stride 3: shares 0.weight's storage
    return sd


def mixed_object():
    tensors = {}
    for i, name in enumerate(DTYPES):
        dt = getattr(torch, name)
        base = torch.arange(-3, 9).reshape(3, 4) * (i + 1)
        tensors[name] = base.to(dt)
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    return {
        "tensors": tensors,
        "scalar": torch.tensor(3.5),
        "scalar_long": torch.tensor(-7),
        "empty": torch.zeros(0, 3),
        "transposed": base.t(),
        "sliced": base[1:, ::2],
        "base": base,
        "param": torch.nn.Parameter(torch.tensor([1.0, -2.0])),
        "frozen": torch.nn.Parameter(torch.tensor([4.0]), requires_grad=False),
        "size": torch.Size([2, 3]),
        "dtype": torch.float16,
        "list": [1, 2.5, "three", None, True, (4, 5)],
        "big": 2 ** 70,
        "neg": -123456,
        "bytes": b"\x00\xffabc",
        "nested": collections.OrderedDict(a={"b": [torch.tensor([1, 2], dtype=torch.int32)]}),
    }


def describe(obj):
    """JSON description of what loading must give."""
    if isinstance(obj, torch.Tensor):
        desc = {
            "tensor": str(obj.dtype).replace("torch.", ""),
            "shape": list(obj.shape), "stride": list(obj.stride()),
            "offset": obj.storage_offset(), "values": obj.detach().tolist(),
            "parameter": isinstance(obj, torch.nn.Parameter),
            "requires_grad": obj.requires_grad,
        }
        return desc
    if isinstance(obj, torch.Size):
        return {"size": list(obj)}
    if isinstance(obj, torch.dtype):
        return {"dtype": str(obj).replace("torch.", "")}
    if isinstance(obj, dict):
        return {"dict": [[k, describe(v)] for k, v in obj.items()],
                "ordered": isinstance(obj, collections.OrderedDict),
                "metadata": describe(dict(obj._metadata)) if hasattr(obj, "_metadata") else None}
    if isinstance(obj, (list, tuple)):
        return {"list" if isinstance(obj, list) else "tuple": [describe(v) for v in obj]}
    if isinstance(obj, bytes):
        return {"bytes": list(obj)}
    if isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) >= 2 ** 53:
        return {"bigint": str(obj)}
    return {"value": obj}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    sd = state_dict_object()
    mixed = mixed_object()
    torch.save(sd, OUT / "zip_state_dict.pth")
    torch.save(mixed, OUT / "zip_mixed.pth")
    torch.save(mixed, OUT / "legacy_mixed.pth", _use_new_zipfile_serialization=False)
    golden = {
        "torch_version": torch.__version__,
        "zip_state_dict.pth": describe(sd),
        "zip_mixed.pth": describe(mixed),
        "legacy_mixed.pth": describe(mixed),
        "shared": {"zip_state_dict.pth": [["0.weight", "view"]],
                   "zip_mixed.pth": [["base", "transposed", "sliced"]],
                   "legacy_mixed.pth": [["base", "transposed", "sliced"]]},
    }
    # round-trip check with torch itself, so a fixture is never written wrong
    for name in ("zip_state_dict.pth", "zip_mixed.pth", "legacy_mixed.pth"):
        assert describe(torch.load(OUT / name, weights_only=True)) == golden[name], name
    (OUT / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
