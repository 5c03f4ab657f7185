"""ember_vision.io and ember_vision.utils without torch: round trips through real PNG/JPEG/GIF/
WebP bytes, every ImageReadMode, torchvision's checks, and make_grid/save_image/
draw_bounding_boxes values worked out by hand (tests/vision/test_torch_*.py compares with
torchvision itself)."""
import io

import numpy as np
import pytest
from PIL import Image

import ember
from ember_vision import io as eio
from ember_vision import utils as eu
from ember_vision._interop import to_numpy

RNG = np.random.default_rng(11)
RGB = RNG.integers(0, 256, (3, 6, 9), dtype=np.uint8)


def _bytes_tensor(data):
    return ember.tensor(np.frombuffer(data, np.uint8).copy())


def _saved(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_png_round_trip_file_and_modes(tmp_path):
    img = ember.tensor(RGB)
    eio.write_png(img, tmp_path / "a.png", compression_level=9)
    back = eio.read_image(tmp_path / "a.png")
    assert str(back.dtype) == "ember.uint8" and tuple(back.shape) == (3, 6, 9)
    np.testing.assert_array_equal(to_numpy(back), RGB)
    grey = to_numpy(eio.read_image(tmp_path / "a.png", eio.ImageReadMode.GRAY))
    r, g, b = (RGB[i].astype(np.uint32) for i in range(3))
    np.testing.assert_array_equal(grey[0], (6968 * r + 23434 * g + 2366 * b + 16384) >> 15)
    rgba = to_numpy(eio.read_image(tmp_path / "a.png", "rgb_alpha"))
    assert rgba.shape == (4, 6, 9) and (rgba[3] == 255).all()
    assert to_numpy(eio.read_image(tmp_path / "a.png", "GRAY_ALPHA")).shape == (2, 6, 9)
    raw = eio.read_file(tmp_path / "a.png")
    assert str(raw.dtype) == "ember.uint8" and raw.dim() == 1
    eio.write_file(tmp_path / "b.png", raw)
    assert (tmp_path / "b.png").read_bytes() == (tmp_path / "a.png").read_bytes()


@pytest.mark.parametrize("mode,channels", [("L", 1), ("LA", 2), ("RGBA", 4), ("P", 3)])
def test_png_unchanged_keeps_the_stored_channels(mode, channels):
    img = Image.fromarray(RGB.transpose(1, 2, 0)).convert(mode)
    out = eio.decode_png(_bytes_tensor(_saved(img, "PNG")))
    assert tuple(out.shape) == (channels, 6, 9)
    expect = np.asarray(img.convert("RGB") if mode == "P" else img)
    np.testing.assert_array_equal(to_numpy(out), expect.reshape(6, 9, -1).transpose(2, 0, 1))


def test_16_bit_grey_png_is_int32():  # torchvision: uint16, a dtype Ember lacks
    arr = RNG.integers(0, 65536, (4, 5), dtype=np.uint16)
    out = eio.decode_image(_bytes_tensor(_saved(Image.fromarray(arr), "PNG")))
    assert str(out.dtype) == "ember.int32"
    np.testing.assert_array_equal(to_numpy(out)[0], arr)


def test_jpeg_round_trip_and_grey_luma():
    yy, xx = np.mgrid[0:16, 0:24]
    smooth = np.stack([xx * 10, yy * 15, 128 + 0 * xx]).astype(np.uint8)  # JPEG-friendly
    data = eio.encode_jpeg(ember.tensor(smooth), quality=95)
    out = eio.decode_jpeg(data)
    assert tuple(out.shape) == (3, 16, 24)
    assert np.abs(to_numpy(out).astype(int) - smooth).mean() < 3
    grey = eio.decode_image(data, mode=eio.ImageReadMode.GRAY)
    assert tuple(grey.shape) == (1, 16, 24)
    greys = eio.encode_jpeg([ember.tensor(smooth[:1])] * 2)
    assert len(greys) == 2 and tuple(eio.decode_jpeg(greys[1]).shape) == (1, 16, 24)
    with pytest.raises(RuntimeError, match="not supported for JPEG"):
        eio.decode_jpeg(data, mode="RGB_ALPHA")
    assert len(eio.decode_jpeg([data, data])) == 2


def test_gif_and_webp():
    frames = [Image.fromarray(RGB.transpose(1, 2, 0)).convert("P"),
              Image.fromarray(RGB[::-1].transpose(1, 2, 0)).convert("P")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    anim = eio.decode_image(_bytes_tensor(buf.getvalue()))
    assert tuple(anim.shape) == (2, 3, 6, 9)
    webp = eio.decode_image(_bytes_tensor(_saved(Image.fromarray(RGB.transpose(1, 2, 0)),
                                                 "WEBP", lossless=True)))
    np.testing.assert_array_equal(to_numpy(webp), RGB)


def test_exif_orientation():
    img = Image.fromarray(RGB.transpose(1, 2, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = _bytes_tensor(_saved(img, "PNG", exif=exif))
    assert tuple(eio.decode_image(data).shape) == (3, 6, 9)
    assert tuple(eio.decode_image(data, apply_exif_orientation=True).shape) == (3, 9, 6)


def test_io_errors_are_torchvisions():
    cases = [
        (lambda: eio.decode_image(ember.tensor(np.zeros(3, np.float32))),
         RuntimeError, "Expected a torch.uint8 tensor"),
        (lambda: eio.decode_image(ember.tensor(np.zeros((2, 2), np.uint8))),
         RuntimeError, "Expected a non empty 1-dimensional tensor"),
        (lambda: eio.decode_image(_bytes_tensor(b"hello world")), RuntimeError,
         "Unsupported image file"),
        (lambda: eio.decode_png(_bytes_tensor(b"\x89PNG\r\n\x1a\n broken")), RuntimeError,
         "Could not decode the PNG image"),
        (lambda: eio.read_file("/nonexistent/x.png"), RuntimeError, "No such file"),
        (lambda: eio.encode_png(ember.tensor(RGB), compression_level=10), RuntimeError,
         "Compression level should be between 0 and 9"),
        (lambda: eio.encode_png(ember.tensor(np.zeros((2, 3, 3), np.uint8))), RuntimeError,
         "The number of channels should be 1 or 3, got: 2"),
        (lambda: eio.encode_png(ember.tensor(np.zeros((3, 3), np.uint8))), RuntimeError,
         "Input data should be a 3-dimensional tensor"),
        (lambda: eio.encode_jpeg(ember.tensor(RGB), quality=0), ValueError,
         "Image quality should be a positive number between 1 and 100"),
        (lambda: eio.encode_jpeg(ember.tensor(RGB.astype(np.float32))), RuntimeError,
         "Input tensor dtype should be uint8"),
    ]
    for call, kind, text in cases:
        with pytest.raises(kind, match=text):
            call()


def test_make_grid_layout_by_hand():
    batch = RNG.random((5, 3, 2, 3), dtype=np.float32)
    grid = to_numpy(eu.make_grid(ember.tensor(batch), nrow=2, padding=1, pad_value=0.5))
    assert grid.shape == (3, 3 * 3 + 1, 2 * 4 + 1)
    np.testing.assert_array_equal(grid[:, 1:3, 1:4], batch[0])
    np.testing.assert_array_equal(grid[:, 4:6, 5:8], batch[3])
    np.testing.assert_array_equal(grid[:, 7:9, 1:4], batch[4])
    assert (grid[:, 7:9, 5:8] == 0.5).all() and (grid[:, 0] == 0.5).all()
    norm = to_numpy(eu.make_grid(ember.tensor(batch), normalize=True, padding=0))
    assert norm.min() == 0 and norm.max() == 1
    one = to_numpy(eu.make_grid(ember.tensor(batch[:1, :1])))
    assert one.shape == (3, 2, 3)  # a single grey image: 3 channels, no padding
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        eu.make_grid(batch)


def test_save_image_rounds_like_torchvision(tmp_path):
    img = np.array([[[0.0, 0.5, 1.0, 1.3], [-0.2, 0.002, 0.998, 0.25]]], np.float32)
    eu.save_image(ember.tensor(img), tmp_path / "x.png")
    saved = np.asarray(Image.open(tmp_path / "x.png"))
    expect = np.clip(img[0] * np.float32(255) + np.float32(0.5), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(saved[..., 0], expect)


def test_draw_bounding_boxes_by_hand():
    img = ember.tensor(np.zeros((3, 10, 12), np.uint8))
    boxes = ember.tensor(np.array([[1, 2, 8, 7]], np.float32))
    out = to_numpy(eu.draw_bounding_boxes(img, boxes, colors="red", width=1))
    assert tuple(out[:, 2, 1]) == (255, 0, 0) and tuple(out[:, 7, 8]) == (255, 0, 0)
    assert tuple(out[:, 4, 4]) == (0, 0, 0) and tuple(out[:, 0, 0]) == (0, 0, 0)
    filled = to_numpy(eu.draw_bounding_boxes(img, boxes, colors=(0, 0, 255), fill=True))
    assert filled[2, 4, 4] == 100 and tuple(filled[:, 2, 1]) == (0, 0, 255)
    with pytest.raises(ValueError, match="Boxes need to be in"):
        eu.draw_bounding_boxes(img, ember.tensor(np.array([[8, 2, 1, 7]], np.float32)))
    with pytest.raises(TypeError, match="Tensor expected"):
        eu.draw_bounding_boxes(np.zeros((3, 4, 4), np.uint8), boxes)


def test_segmentation_masks_and_keypoints_by_hand():
    img = np.full((3, 6, 8), 100, np.uint8)
    masks = np.zeros((2, 6, 8), bool)
    masks[0, :3] = True
    masks[1, 2:] = True  # row 2 is under both masks: painted black
    out = to_numpy(eu.draw_segmentation_masks(ember.tensor(img), ember.tensor(masks),
                                              alpha=0.5, colors=["red", (0, 0, 250)]))
    assert tuple(out[:, 0, 0]) == (177, 50, 50)  # 100 * 0.5 + (255, 0, 0) * 0.5, truncated
    assert tuple(out[:, 2, 0]) == (50, 50, 50) and tuple(out[:, 5, 0]) == (50, 50, 175)
    kp = ember.tensor(np.array([[[3, 3]]], np.float32))
    dots = to_numpy(eu.draw_keypoints(ember.tensor(np.zeros((3, 7, 7), np.uint8)), kp,
                                      colors="white", radius=1))
    assert dots[:, 3, 3].tolist() == [255, 255, 255] and dots[:, 0, 0].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="must be of dtype bool"):
        eu.draw_segmentation_masks(ember.tensor(img), ember.tensor(masks.astype(np.uint8)))


def test_png_transparency_chunk_only_adds_alpha_to_palette_images():
    rgb = Image.fromarray(RGB.transpose(1, 2, 0))
    keyed = eio.decode_png(_bytes_tensor(_saved(rgb, "PNG", transparency=(1, 2, 3))))
    assert tuple(keyed.shape) == (3, 6, 9)
    pal = rgb.convert("P")
    pal.info["transparency"] = 0
    assert tuple(eio.decode_png(_bytes_tensor(_saved(pal, "PNG", transparency=0))).shape) == \
        (4, 6, 9)
