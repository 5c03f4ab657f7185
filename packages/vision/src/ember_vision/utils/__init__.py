"""torchvision.utils for Ember: ``make_grid``, ``save_image`` and the ``draw_*`` helpers.

They take and return ``ember.Tensor``; the pixel work is NumPy and Pillow, arranged so the
results equal torchvision's (the same float32 arithmetic, the same Pillow drawing calls).
"""
from ._draw import draw_bounding_boxes, draw_keypoints
from ._grid import make_grid, save_image
from ._masks import draw_segmentation_masks

__all__ = ["draw_bounding_boxes", "draw_keypoints", "draw_segmentation_masks", "make_grid",
           "save_image"]
