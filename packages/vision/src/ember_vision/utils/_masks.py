"""``draw_segmentation_masks``: boolean masks blended over an image, as torchvision does."""
import warnings
from typing import Optional, Union

import numpy as np

from .. import _interop
from ._draw import Color, _check_rgb_image, _parse_colors


def draw_segmentation_masks(image, masks, alpha: float = 0.8,
                            colors: Optional[Union[list, Color]] = None):
    """Paint each (H, W) boolean mask in its colour (pixels under two or more masks black),
    then blend: ``image * (1 - alpha) + painted * alpha``, back in the image's dtype."""
    _check_rgb_image(image)
    m = _interop.to_numpy(masks)
    if m.ndim == 2:
        m = m[None]
    if m.ndim != 3:
        raise ValueError("masks must be of shape (H, W) or (batch_size, H, W)")
    if m.dtype != np.bool_:
        raise ValueError(f"The masks must be of dtype bool. Got {masks.dtype}")
    pixels = _interop.to_numpy(image)
    if m.shape[-2:] != pixels.shape[-2:]:
        raise ValueError("The image and the masks must have the same height and width")
    if m.shape[0] == 0:
        warnings.warn("masks doesn't contain any mask. No mask was drawn", stacklevel=2)
        return image
    dtype = pixels.dtype
    rgb = _parse_colors(colors, num_objects=m.shape[0])
    if dtype.kind == "f":  # colours in [0, 1] for float images
        rgb = [tuple(v / 255 for v in c) for c in rgb]
    painted = pixels.copy()
    for mask, color in zip(m, rgb):
        painted[:, mask] = np.array(color, dtype=dtype)[:, None]
    painted[:, m.sum(0) > 1] = 0
    # torch: uint8 * python float -> float32; a float image keeps its own float type
    work = dtype if dtype.kind == "f" else np.dtype(np.float32)
    out = (pixels.astype(work) * work.type(1 - alpha)
           + painted.astype(work) * work.type(alpha))
    return _interop.from_numpy(out.astype(dtype))
