"""Write tests/tensor/golden/printing.json: torch's repr of ~90 varied tensors.

Each case stores the input as a nested list plus its dtype, the print options in force,
any autograd suffixes, and torch's repr with ``torch.`` spelled ``ember.``. The default test
suite rebuilds each input with NumPy and compares ``format_tensor`` against it, so it needs no
torch. Run: ``python tools/make_golden_printing.py`` (needs torch).
"""
import json
import math
import pathlib

import torch

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "tensor" / "golden" / "printing.json"
DEFAULT_OPTS = dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)


def _cases():
    g = torch.Generator().manual_seed(1234)

    def randn(*shape, scale=1.0, dtype=torch.float32):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)

    def randint(lo, hi, *shape, dtype=torch.int64):
        return torch.randint(lo, hi, shape, generator=g, dtype=dtype)

    nan, inf = math.nan, math.inf
    yield "mission_a_grad", torch.tensor([36.0, 81.0]), {}, []
    yield "mission_sq", torch.tensor([81.0, 144.0]), {}, []
    yield "mission_neg", torch.tensor([-12.0, -8.0]), {}, []
    yield "mission_bool", torch.tensor([True, True]), {}, []
    yield "mission_scalar", torch.tensor(-505.1766), {}, []
    yield "mission_scalar_grad", torch.tensor(-505.1766), {}, ["grad_fn=<SumBackward0>"]
    yield "mission_requires_grad", torch.tensor([3.0, 4.0]), {}, ["requires_grad=True"]
    yield "mission_mul", torch.tensor([56.0, 143.0]), {}, ["grad_fn=<SubBackward0>"]
    for shape in [(5,), (3, 4), (2, 3, 4), (2, 2, 2, 3), (1, 1, 5), (4, 1)]:
        yield f"randn_{'x'.join(map(str, shape))}", randn(*shape), {}, []
    for scale in [1e-8, 1e-5, 1e-4, 1e-3, 0.1, 10.0, 1e3, 1e4, 1e5, 1e8, 1e10]:
        yield f"scale_{scale:g}", randn(6, scale=scale), {}, []
        yield f"scale_{scale:g}_2d", randn(2, 3, scale=scale), {}, []
    yield "span_1e3", torch.tensor([1.0, 999.0]), {}, []
    yield "span_over_1e3", torch.tensor([1.0, 1001.0]), {}, []
    yield "mixed_mag", torch.tensor([1e-8, 1e10, -3.5, 0.0]), {}, []
    yield "int_valued", torch.tensor([1.0, -2.0, 300.0, 0.0]), {}, []
    yield "int_valued_big", torch.tensor([1e9, 2.0]), {}, []
    yield "int_valued_1e8", torch.tensor([1e8, 3.0, 7.0]), {}, []
    yield "rounding_up", torch.tensor([9.99996, 0.5]), {}, []
    yield "neg_zero", torch.tensor([-0.0, 0.0, 1.5]), {}, []
    yield "all_zero", torch.zeros(2, 3), {}, []
    yield "nan_only", torch.tensor([nan, nan]), {}, []
    yield "inf_only", torch.tensor([inf, -inf]), {}, []
    yield "nan_inf_int", torch.tensor([1.0, nan, inf, -inf]), {}, []
    yield "nan_frac", torch.tensor([0.5, nan, -2.25]), {}, []
    yield "nan_sci", torch.tensor([1e-5, inf, 3.0]), {}, []
    yield "scalar_nan", torch.tensor(nan), {}, []
    yield "scalar_inf", torch.tensor(-inf), {}, []
    yield "scalar_int_valued", torch.tensor(3.0), {}, []
    yield "scalar_small", torch.tensor(1.5e-7), {}, []
    yield "scalar_f64", torch.tensor(2.5, dtype=torch.float64), {}, []
    yield "scalar_int", torch.tensor(7), {}, []
    yield "scalar_int32", torch.tensor(-7, dtype=torch.int32), {}, []
    yield "scalar_bool", torch.tensor(False), {}, []
    yield "f64", randn(3, 3, dtype=torch.float64), {}, []
    yield "f64_int_valued", torch.tensor([1.0, 2.0], dtype=torch.float64), {}, []
    yield "f16", randn(2, 4, dtype=torch.float16), {}, []
    yield "f16_big", torch.tensor([60000.0, 1.0], dtype=torch.float16), {}, []
    yield "int64", randint(-1000, 1000, 3, 5), {}, []
    yield "int64_wide", randint(-10**12, 10**12, 12), {}, []
    yield "int32", randint(-50, 50, 2, 3, dtype=torch.int32), {}, []
    yield "int16", randint(-300, 300, 7, dtype=torch.int16), {}, []
    yield "int8", randint(-128, 127, 4, 4, dtype=torch.int8), {}, []
    yield "uint8", randint(0, 255, 10, dtype=torch.uint8), {}, []
    yield "bool_mixed", torch.tensor([[True, False], [False, True]]), {}, []
    yield "bool_false", torch.tensor([False, False, False]), {}, []
    yield "empty_1d", torch.zeros(0), {}, []
    yield "empty_2d", torch.zeros(0, 3), {}, []
    yield "empty_3d", torch.zeros(2, 0, 4), {}, []
    yield "empty_int", torch.zeros(0, dtype=torch.int64), {}, []
    yield "empty_f64", torch.zeros(3, 0, dtype=torch.float64), {}, []
    yield "empty_bool", torch.zeros(0, dtype=torch.bool), {}, []
    yield "wide_row", randn(100), {}, []
    yield "wide_matrix", randn(3, 40), {}, []
    yield "wide_sci", randn(30, scale=1e6), {}, []
    yield "wide_int", randint(0, 100000, 40), {}, []
    yield "wide_3d", randn(2, 2, 25), {}, []
    yield "long_column", randn(30, 1), {}, []
    yield "summ_1d", randn(2000), {}, []
    yield "summ_1d_int", torch.arange(1500), {}, []
    yield "summ_2d", randn(40, 40), {}, []
    yield "summ_3d", randn(10, 10, 20), {}, []
    yield "summ_tall", randn(1100, 1), {}, []
    yield "summ_wide", randn(1, 1100), {}, []
    yield "summ_nan", torch.cat([torch.tensor([nan]), randn(1200)]), {}, []
    yield "summ_hidden_big", torch.cat([randn(3), torch.full((1000,), 1e9), randn(3)]), {}, []
    yield "prec2", randn(5), {"precision": 2}, []
    yield "prec8", randn(3, 3), {"precision": 8}, []
    yield "prec0", randn(4, scale=10), {"precision": 0}, []
    yield "prec2_sci", randn(4, scale=1e-6), {"precision": 2}, []
    yield "sci_true", randn(2, 3), {"sci_mode": True}, []
    yield "sci_true_int", torch.tensor([1.0, 2.0]), {"sci_mode": True}, []
    yield "sci_false", randn(4, scale=1e-6), {"sci_mode": False}, []
    yield "sci_false_big", randn(4, scale=1e10), {"sci_mode": False}, []
    yield "linewidth40", randn(20), {"linewidth": 40}, []
    yield "linewidth120", randn(4, 30), {"linewidth": 120}, []
    yield "linewidth10", randn(6), {"linewidth": 10}, []
    yield "threshold5", torch.arange(10), {"threshold": 5}, []
    yield "threshold5_2d", randn(4, 8), {"threshold": 5}, []
    yield "edgeitems1", randn(20, 20), {"edgeitems": 1}, []
    yield "edgeitems0", randn(2000), {"edgeitems": 0}, []
    yield "profile_short", randn(40, 40), {"profile": "short"}, []
    yield "profile_full", randn(1200, scale=3), {"profile": "full"}, []
    yield "suffix_wrap", randn(8), {}, ["requires_grad=True"]
    yield "suffix_wrap_long", randn(9, scale=100), {}, ["grad_fn=<SubBackward0>"]
    yield "suffix_addmm", randn(2, 5, scale=100), {}, ["grad_fn=<AddmmBackward0>"]
    yield "suffix_dtype_grad", randn(3, dtype=torch.float64), {}, ["requires_grad=True"]
    yield "suffix_2d", randn(2, 8), {}, ["grad_fn=<MulBackward0>"]
    yield "suffix_empty", torch.zeros(0, 2), {}, ["requires_grad=True"]
    yield "suffix_narrow", randn(3), {"linewidth": 30}, ["grad_fn=<MulBackward0>"]
    yield "default_f64_float", randn(3, dtype=torch.float64), {"default_dtype": "float64"}, []
    yield "default_f64_f32", randn(3), {"default_dtype": "float64"}, []


# How torch is made to print each autograd suffix: an op that leaves the values unchanged.
_GRAD_FN_OPS = {
    "MulBackward0": lambda x: x * 1,
    "SubBackward0": lambda x: x - 0,
    "SumBackward0": lambda x: x.reshape(1).sum(),
    "AddmmBackward0": lambda x: torch.addmm(
        x, torch.zeros(x.shape[0], 1, dtype=x.dtype), torch.zeros(1, x.shape[1], dtype=x.dtype)
    ),
}


def _torch_repr(t, opts, suffixes):
    opts = dict(opts)
    default = opts.pop("default_dtype", None)
    torch.set_printoptions(**opts)
    if default:
        torch.set_default_dtype(getattr(torch, default))
    try:
        if not suffixes:
            shown = t
        else:
            (suffix,) = suffixes
            shown = t.clone().requires_grad_(True)
            if suffix.startswith("grad_fn="):
                shown = _GRAD_FN_OPS[suffix[len("grad_fn=<"):-1]](shown)
                assert torch.equal(shown.detach(), t)
        text = repr(shown)
    finally:
        torch.set_printoptions(profile="default")
        torch.set_default_dtype(torch.float32)
    return text.replace("torch.", "ember.")


def main():
    cases = []
    for name, t, opts, suffixes in _cases():
        cases.append({
            "name": name,
            "dtype": str(t.dtype).replace("torch.", ""),
            "shape": list(t.shape),
            "data": t.tolist(),
            "opts": opts,
            "suffixes": suffixes,
            "repr": _torch_repr(t, opts, suffixes),
        })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(cases, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
