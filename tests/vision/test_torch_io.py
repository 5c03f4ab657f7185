"""ember_vision.io against torchvision.io: the same names, enum values and signatures; decoded
pixels equal torchvision's PIL path (``pil_to_tensor``) for lossless files, and equal
torchvision.io's own decoders wherever its compiled image extension loads (it does not beside
CPU torch on the development machines, so those comparisons skip there)."""
import inspect
import io

import numpy as np
import pytest
from PIL import Image

from ember_vision import io as eio
from ember_vision._interop import to_numpy

NAMES = ["ImageReadMode", "decode_image", "decode_jpeg", "decode_png", "encode_jpeg",
         "encode_png", "read_file", "read_image", "write_file", "write_jpeg", "write_png"]
RNG = np.random.default_rng(5)


def _png(mode, size=(7, 5)):
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
    if mode == "P":
        img = Image.fromarray(RNG.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
        img = img.quantize(8)
    else:
        shape = (size[1], size[0], channels[mode])
        arr = RNG.integers(0, 256, shape, dtype=np.uint8)
        img = Image.fromarray(arr[..., 0] if mode == "L" else arr, mode=None)
        img = img.convert(mode) if img.mode != mode else img
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_names_enum_and_signatures_equal_torchvision(torchvision):
    tio = torchvision.io
    for name in NAMES:
        assert hasattr(eio, name) and hasattr(tio, name), name
    assert {m.name: m.value for m in eio.ImageReadMode} == \
        {m.name: m.value for m in tio.ImageReadMode}
    assert eio.ImageReadMode.RGBA is eio.ImageReadMode.RGB_ALPHA
    for name in NAMES[1:]:
        ours = inspect.signature(getattr(eio, name)).parameters
        theirs = inspect.signature(getattr(tio, name)).parameters
        assert list(ours) == list(theirs), name
        for p in ours:
            a, b = ours[p].default, theirs[p].default
            assert getattr(a, "name", a) == getattr(b, "name", b), (name, p)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_decode_png_unchanged_equals_pil_to_tensor(torchvision, tmp_path, mode):
    data = _png(mode)
    (tmp_path / "x.png").write_bytes(data)
    expect = torchvision.transforms.functional.pil_to_tensor(Image.open(io.BytesIO(data)))
    got = eio.read_image(tmp_path / "x.png")
    np.testing.assert_array_equal(to_numpy(got), expect.numpy())


def _torchvision_io_works(tio):
    import torch
    try:
        tio.encode_png(torch.zeros(1, 2, 2, dtype=torch.uint8))
    except RuntimeError:
        return False
    return True


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_decoders_equal_torchvision_io(torchvision):
    import torch

    import ember
    tio = torchvision.io
    if not _torchvision_io_works(tio):
        pytest.skip("torchvision's image extension does not load beside this torch build")
    buf = io.BytesIO()
    Image.fromarray(RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)).save(buf, "JPEG")
    files = {kind: _png(kind) for kind in ("L", "LA", "RGB", "RGBA", "P")}
    files["jpeg"] = buf.getvalue()
    for kind, data in files.items():
        for mode in ("UNCHANGED", "GRAY", "GRAY_ALPHA", "RGB", "RGB_ALPHA"):
            if kind == "jpeg" and mode.endswith("ALPHA"):
                continue
            raw = np.frombuffer(data, np.uint8).copy()
            ours = eio.decode_image(ember.tensor(raw), mode=mode)
            theirs = tio.decode_image(torch.from_numpy(raw), mode=mode)
            np.testing.assert_array_equal(to_numpy(ours), theirs.numpy(), err_msg=(kind, mode))
