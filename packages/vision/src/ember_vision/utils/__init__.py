"""torchvision.utils for Ember: ``make_grid``, ``save_image`` and ``draw_bounding_boxes``.

They take and return ``ember.Tensor``; the pixel work is NumPy and Pillow, arranged so the
results equal torchvision's (the same float32 arithmetic, the same Pillow drawing calls).
"""
from ._draw import draw_bounding_boxes
from ._grid import make_grid, save_image

__all__ = ["draw_bounding_boxes", "make_grid", "save_image"]
