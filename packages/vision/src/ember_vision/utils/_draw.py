"""``draw_bounding_boxes``: boxes and labels drawn with Pillow, as torchvision draws them."""
import math
import warnings
from typing import Optional, Union

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

from .. import _interop

Color = Union[str, tuple]


def _palette(num_objects: int) -> list:
    """torchvision's deterministic default colours: i * (2^25-1, 2^15-1, 2^21-1) mod 255."""
    palette = (2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1)
    return [tuple((i * p) % 255 for p in palette) for i in range(num_objects)]


def _parse_colors(colors, *, num_objects: int) -> list:
    if colors is None:
        colors = _palette(num_objects)
    elif isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError("Number of colors must be equal or larger than the number of "
                             f"objects, but got {len(colors)} < {num_objects}.")
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(
            f"colors must be a tuple or a string, or a list thereof, but got {colors}.")
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(
            f"If passed as tuple, colors should be an RGB triplet, but got {colors}.")
    else:
        colors = [colors] * num_objects
    return [ImageColor.getrgb(c) if isinstance(c, str) else tuple(c) for c in colors]


class _Draw(ImageDraw.ImageDraw):
    """Pillow's drawer plus the dashed-edge polygon torchvision uses for rotated boxes."""

    def oriented_rectangle(self, xy, fill=None, outline=None, width=1):
        # the first edge dashed (it marks the box's orientation), the others solid
        self.dashed_line(((xy[0], xy[1]), (xy[2], xy[3])), width=width, fill=outline)
        n = len(xy)
        for i in range(2, n, 2):
            self.line(((xy[i], xy[i + 1]), (xy[(i + 2) % n], xy[(i + 3) % n])),
                      width=width, fill=outline)
        self.polygon(xy, fill=fill, outline=None, width=0)

    def dashed_line(self, xy, fill=None, width=0, joint=None, dash_length=5, space_length=5):
        drawing = True
        for (x1, y1), (x2, y2) in zip(xy[:-1], xy[1:]):
            remaining = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5  # torchvision's formula
            angle = math.atan2(y2 - y1, x2 - x1)
            while remaining > 0:
                step = min(remaining, dash_length if drawing else space_length)
                end_x, end_y = x1 + math.cos(angle) * step, y1 + math.sin(angle) * step
                if drawing:
                    self.line([(x1, y1), (end_x, end_y)], fill, width, joint)
                remaining -= step
                x1, y1 = end_x, end_y
                drawing = not drawing


def _to_uint8(pixels: np.ndarray) -> np.ndarray:
    """torchvision's ``to_dtype(uint8, scale=True)`` of a float image: ``x * (256 - 1e-3)``."""
    return (pixels * pixels.dtype.type(255 + 1.0 - 1e-3)).astype(np.uint8)


def _from_uint8(pixels: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Back to a float image: ``x * (1 / 255)`` in that float type."""
    return pixels.astype(dtype) * dtype.type(1.0 / 255)


def _check_rgb_image(image) -> None:
    """draw_segmentation_masks' and draw_keypoints' checks, in torchvision's order."""
    if not _interop.is_tensor(image):
        raise TypeError(f"The image must be a tensor, got {type(image)}")
    if not (str(image.dtype).endswith("uint8") or image.is_floating_point()):
        raise ValueError(f"The image dtype must be uint8 or float, got {image.dtype}")
    if image.dim() != 3:
        raise ValueError("Pass individual images, not batches")
    if image.shape[0] != 3:
        raise ValueError("Pass an RGB image. Other Image formats are not supported")


def _check(image, boxes):
    if not _interop.is_tensor(image):
        raise TypeError(f"Tensor expected, got {type(image)}")
    if not (str(image.dtype).endswith("uint8") or image.is_floating_point()):
        raise ValueError(f"The image dtype must be uint8 or float, got {image.dtype}")
    if image.dim() != 3:
        raise ValueError("Pass individual images, not batches")
    if image.shape[0] not in {1, 3}:
        raise ValueError("Only grayscale and RGB images are supported")
    b = _interop.to_numpy(boxes)
    if b.shape[-1] == 4 and len(b) and ((b[:, 0] > b[:, 2]).any() or (b[:, 1] > b[:, 3]).any()):
        raise ValueError("Boxes need to be in (xmin, ymin, xmax, ymax) format. Use "
                         "torchvision.ops.box_convert to convert them")
    return b


def draw_bounding_boxes(image, boxes, labels: Optional[list] = None,
                        colors: Optional[Union[list, Color]] = None, fill: Optional[bool] = False,
                        width: int = 1, font: Optional[str] = None,
                        font_size: Optional[int] = None,
                        label_colors: Optional[Union[list, Color]] = None,
                        label_background_colors: Optional[Union[list, Color]] = None,
                        fill_labels: bool = False):
    """Draw (N, 4) ``(xmin, ymin, xmax, ymax)`` boxes (or (N, 8) rotated corner lists) on a
    (C, H, W) uint8 or float image; returns a new image tensor of the same dtype."""
    box_array = _check(image, boxes)
    num_boxes = box_array.shape[0]
    if num_boxes == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn", stacklevel=2)
        return image
    if labels is None:
        labels = [None] * num_boxes
    elif len(labels) != num_boxes:
        raise ValueError(f"Number of boxes ({num_boxes}) and labels ({len(labels)}) mismatch. "
                         "Please specify labels for each box.")
    colors = _parse_colors(colors, num_objects=num_boxes)
    if label_colors or fill_labels:
        label_colors = _parse_colors(label_colors if label_colors else "black",
                                     num_objects=num_boxes)
    else:
        label_colors = list(colors)
    if fill_labels and label_background_colors:
        label_background_colors = _parse_colors(label_background_colors, num_objects=num_boxes)
    else:
        label_background_colors = list(colors)
    if font is None:
        if font_size is not None:
            warnings.warn("Argument 'font_size' will be ignored since 'font' is not set.",
                          stacklevel=2)
        txt_font = ImageFont.load_default()
    else:
        txt_font = ImageFont.truetype(font=font, size=font_size or 10)

    pixels = _interop.to_numpy(image)
    if pixels.shape[0] == 1:
        pixels = np.tile(pixels, (3, 1, 1))
    float_dtype = pixels.dtype if pixels.dtype.kind == "f" else None
    if float_dtype is not None:
        pixels = _to_uint8(pixels)
    canvas = Image.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0)))
    draw = _Draw(canvas, "RGBA") if fill else _Draw(canvas)
    for bbox, color, label, label_color, label_bg in zip(
            box_array.astype(np.int64).tolist(), colors, labels, label_colors,
            label_background_colors):
        draw_box = draw.oriented_rectangle if len(bbox) > 4 else draw.rectangle
        draw_box(bbox, width=width, outline=color, fill=color + (100,) if fill else None)
        if label is not None:
            box_margin = 1
            margin = width + box_margin
            if fill_labels:
                left, top, right, bottom = draw.textbbox((bbox[0] + margin, bbox[1] + margin),
                                                         label, font=txt_font)
                draw.rectangle((left - box_margin, top - box_margin, right + box_margin,
                                bottom + box_margin), fill=label_bg)
            draw.text((bbox[0] + margin, bbox[1] + margin), label, fill=label_color,
                      font=txt_font)
    out = np.asarray(canvas).transpose(2, 0, 1).copy()
    if float_dtype is not None:
        out = _from_uint8(out, float_dtype)
    return _interop.from_numpy(np.ascontiguousarray(out))


def draw_keypoints(image, keypoints, connectivity: Optional[list] = None,
                   colors: Optional[Color] = None, radius: int = 2, width: int = 3,
                   visibility=None):
    """Draw (num_instances, K, 2) keypoints as discs of ``radius`` (and the ``connectivity``
    pairs as lines of ``width``) on a (3, H, W) uint8 or float image."""
    _check_rgb_image(image)
    kpts = _interop.to_numpy(keypoints)
    if kpts.ndim != 3:
        raise ValueError("keypoints must be of shape (num_instances, K, 2)")
    vis = (np.ones(kpts.shape[:-1], dtype=bool) if visibility is None
           else _interop.to_numpy(visibility))
    if vis.ndim == 3:  # as pred.split([2, 1], dim=-1) gives it: (num_instances, K, 1)
        vis = vis.squeeze(-1)
    if vis.ndim != 2:
        raise ValueError(f"visibility must be of shape (num_instances, K). Got ndim={vis.ndim}")
    if vis.shape != kpts.shape[:-1]:
        raise ValueError("keypoints and visibility must have the same dimensionality for "
                         "num_instances and K. Got visibility.shape="
                         f"{_size(vis.shape)} and keypoints.shape={_size(kpts.shape)}")
    pixels = _interop.to_numpy(image)
    float_dtype = pixels.dtype if pixels.dtype.kind == "f" else None
    if float_dtype is not None:
        pixels = _to_uint8(pixels)
    canvas = Image.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0)))
    draw = ImageDraw.Draw(canvas)
    for inst, inst_vis in zip(kpts.astype(np.int64).tolist(), vis.astype(bool).tolist()):
        for (x, y, *_), seen in zip(inst, inst_vis):
            if seen:
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colors,
                             outline=None, width=0)
        for a, b in connectivity or ():
            if inst_vis[a] and inst_vis[b]:
                draw.line(((inst[a][0], inst[a][1]), (inst[b][0], inst[b][1])), width=width)
    out = np.array(canvas).transpose(2, 0, 1)
    if float_dtype is not None:
        out = _from_uint8(out, float_dtype)
    return _interop.from_numpy(np.ascontiguousarray(out))


def _size(shape) -> str:
    """A shape as Ember prints ``tensor.shape`` (torch's ``torch.Size([2, 3])``)."""
    return f"ember.Size({list(shape)})"
