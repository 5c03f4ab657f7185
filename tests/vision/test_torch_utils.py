"""ember_vision.utils against torchvision.utils on the same inputs: make_grid (every argument),
save_image (the decoded pixels of the saved file) and draw_bounding_boxes (pixel for pixel)."""
import io
import warnings

import numpy as np
import pytest
from PIL import Image

import ember
from ember_vision import utils as eu
from ember_vision._interop import to_numpy

torch = pytest.importorskip("torch")


def _pair(arr):
    return ember.tensor(arr), torch.from_numpy(np.ascontiguousarray(arr))


def _equal(ours, theirs):
    a, b = to_numpy(ours), theirs.numpy()
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


RNG = np.random.default_rng(0)
BATCH = (RNG.standard_normal((5, 3, 4, 6)) * 2).astype(np.float32)


@pytest.mark.parametrize("kwargs", [
    {}, {"nrow": 2}, {"nrow": 3, "padding": 0}, {"padding": 5, "pad_value": 0.7},
    {"normalize": True}, {"normalize": True, "value_range": (-1, 1)},
    {"normalize": True, "scale_each": True},
    {"normalize": True, "scale_each": True, "value_range": (-0.5, 2.0), "nrow": 4},
    {"nrow": 10},
])
def test_make_grid_equals_torchvision(torchvision, kwargs):
    ours, theirs = _pair(BATCH)
    _equal(eu.make_grid(ours, **kwargs), torchvision.utils.make_grid(theirs, **kwargs))


@pytest.mark.parametrize("shape", [(4, 5), (1, 4, 5), (3, 4, 5), (2, 1, 4, 5), (1, 3, 4, 5)])
def test_make_grid_shapes_and_lists(torchvision, shape):
    arr = RNG.random(shape, dtype=np.float32)
    ours, theirs = _pair(arr)
    _equal(eu.make_grid(ours), torchvision.utils.make_grid(theirs))
    if len(shape) == 3:
        _equal(eu.make_grid([ours, ours * 2], nrow=1),
               torchvision.utils.make_grid([theirs, theirs * 2], nrow=1))


def test_make_grid_uint8_and_errors(torchvision):
    arr = RNG.integers(0, 256, (3, 3, 2, 2), dtype=np.uint8)
    ours, theirs = _pair(arr)
    _equal(eu.make_grid(ours, pad_value=7.6), torchvision.utils.make_grid(theirs, pad_value=7.6))
    cases = [((ours,), {"normalize": True}, (theirs,)),
             (([ours, 3],), {}, ([theirs, 3],)),
             (("x",), {}, ("x",)),
             ((ember.tensor(BATCH),), {"normalize": True, "value_range": [0, 1]},
              (torch.from_numpy(BATCH),))]
    for args, kwargs, targs in cases:
        with pytest.raises(Exception) as a:
            eu.make_grid(*args, **kwargs)
        with pytest.raises(Exception) as b:
            torchvision.utils.make_grid(*targs, **kwargs)
        assert type(a.value) is type(b.value) and str(a.value) == str(b.value)


@pytest.mark.parametrize("kwargs", [{}, {"nrow": 2, "normalize": True, "padding": 1}])
def test_save_image_equals_torchvision(torchvision, kwargs):
    arr = RNG.random((3, 3, 5, 4), dtype=np.float32) * 1.2 - 0.1
    ours, theirs = _pair(arr)
    a, b = io.BytesIO(), io.BytesIO()
    eu.save_image(ours, a, format="png", **kwargs)
    torchvision.utils.save_image(theirs, b, format="png", **kwargs)
    np.testing.assert_array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)))


IMAGE = RNG.integers(0, 256, (3, 40, 50), dtype=np.uint8)
BOXES = np.array([[2, 3, 20, 25], [10.7, 5.2, 45.9, 38.1], [0, 0, 49, 39]], np.float32)


@pytest.mark.parametrize("kwargs", [
    {}, {"labels": ["cat", "dog", "z"]}, {"colors": "red", "width": 3},
    {"colors": ["#FF00FF", (0, 255, 0), "blue"], "fill": True, "labels": ["a", "b", "c"]},
    {"labels": ["x", "y", "w"], "fill_labels": True, "label_colors": "white"},
    {"labels": ["x", "y", "w"], "fill_labels": True, "label_background_colors": "yellow"},
])
def test_draw_bounding_boxes_equals_torchvision(torchvision, kwargs):
    img, timg = _pair(IMAGE)
    boxes, tboxes = _pair(BOXES)
    _equal(eu.draw_bounding_boxes(img, boxes, **kwargs),
           torchvision.utils.draw_bounding_boxes(timg, tboxes, **kwargs))


def test_draw_bounding_boxes_float_grey_and_rotated(torchvision):
    f = (IMAGE / 255.0).astype(np.float32)
    (img, timg), (boxes, tboxes) = _pair(f), _pair(BOXES)
    _equal(eu.draw_bounding_boxes(img, boxes, colors="orange"),
           torchvision.utils.draw_bounding_boxes(timg, tboxes, colors="orange"))
    grey, tgrey = _pair(IMAGE[:1])
    _equal(eu.draw_bounding_boxes(grey, boxes), torchvision.utils.draw_bounding_boxes(tgrey,
                                                                                       tboxes))
    rotated = np.array([[5, 5, 30, 8, 27, 30, 2, 27]], np.float32)
    (img, timg), (rb, trb) = _pair(IMAGE), _pair(rotated)
    _equal(eu.draw_bounding_boxes(img, rb, width=2),
           torchvision.utils.draw_bounding_boxes(timg, trb, width=2))


def test_draw_bounding_boxes_errors_and_warnings(torchvision):
    img, timg = _pair(IMAGE)
    bad = np.array([[20, 3, 2, 25]], np.float32)
    cases = [((img, ember.tensor(bad)), (timg, torch.from_numpy(bad)), {}),
             ((img[None], ember.tensor(BOXES)), (timg[None], torch.from_numpy(BOXES)), {}),
             ((img, ember.tensor(BOXES)), (timg, torch.from_numpy(BOXES)), {"labels": ["a"]}),
             ((img, ember.tensor(BOXES)), (timg, torch.from_numpy(BOXES)),
              {"colors": ["red"]}),
             ((img, ember.tensor(BOXES)), (timg, torch.from_numpy(BOXES)),
              {"colors": (1, 2)})]
    for args, targs, kwargs in cases:
        with pytest.raises(ValueError) as a:
            eu.draw_bounding_boxes(*args, **kwargs)
        with pytest.raises(ValueError) as b:
            torchvision.utils.draw_bounding_boxes(*targs, **kwargs)
        assert str(a.value) == str(b.value)
    empty = np.zeros((0, 4), np.float32)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = eu.draw_bounding_boxes(img, ember.tensor(empty))
    assert out is img and "No box was drawn" in str(got[0].message)


MASKS = np.zeros((3, 40, 50), bool)
MASKS[0, 5:20, 5:30] = True
MASKS[1, 15:35, 20:45] = True
MASKS[2, 30:40, 0:10] = True


@pytest.mark.parametrize("kwargs", [{}, {"alpha": 0.35}, {"colors": "green", "alpha": 1.0},
                                    {"colors": ["red", (0, 0, 255), "#123456"]}])
@pytest.mark.parametrize("float_image", [False, True])
def test_draw_segmentation_masks_equals_torchvision(torchvision, kwargs, float_image):
    pixels = (IMAGE / 255.0).astype(np.float32) if float_image else IMAGE
    (img, timg), (masks, tmasks) = _pair(pixels), _pair(MASKS)
    _equal(eu.draw_segmentation_masks(img, masks, **kwargs),
           torchvision.utils.draw_segmentation_masks(timg, tmasks, **kwargs))
    (one, tone) = _pair(MASKS[1])
    _equal(eu.draw_segmentation_masks(img, one, **kwargs),
           torchvision.utils.draw_segmentation_masks(timg, tone, **kwargs))


KEYPOINTS = np.array([[[5, 6], [20, 10.7], [33, 30]], [[40, 5], [45, 35], [10, 38]]],
                     np.float32)


@pytest.mark.parametrize("kwargs", [
    {}, {"connectivity": [(0, 1), (1, 2)], "colors": "blue", "radius": 3, "width": 2},
    {"connectivity": [(0, 2)], "visibility": np.array([[True, False, True], [True, True,
                                                                             False]])},
])
def test_draw_keypoints_equals_torchvision(torchvision, kwargs):
    kw_ours, kw_theirs = dict(kwargs), dict(kwargs)
    if "visibility" in kwargs:
        kw_ours["visibility"], kw_theirs["visibility"] = _pair(kwargs["visibility"])
    (img, timg), (kp, tkp) = _pair(IMAGE), _pair(KEYPOINTS)
    _equal(eu.draw_keypoints(img, kp, **kw_ours),
           torchvision.utils.draw_keypoints(timg, tkp, **kw_theirs))
    f = (IMAGE / 255.0).astype(np.float32)
    (img, timg) = _pair(f)
    _equal(eu.draw_keypoints(img, kp, **kw_ours),
           torchvision.utils.draw_keypoints(timg, tkp, **kw_theirs))


def test_masks_and_keypoints_errors_equal_torchvision(torchvision):
    img, timg = _pair(IMAGE)
    cases = [
        (eu.draw_segmentation_masks, torchvision.utils.draw_segmentation_masks,
         (img, ember.tensor(MASKS.astype(np.uint8))),
         (timg, torch.from_numpy(MASKS.astype(np.uint8)))),
        (eu.draw_segmentation_masks, torchvision.utils.draw_segmentation_masks,
         (img[:1], ember.tensor(MASKS)), (timg[:1], torch.from_numpy(MASKS))),
        (eu.draw_segmentation_masks, torchvision.utils.draw_segmentation_masks,
         (img, ember.tensor(MASKS[:, :5])), (timg, torch.from_numpy(MASKS[:, :5]))),
        (eu.draw_keypoints, torchvision.utils.draw_keypoints,
         (img, ember.tensor(KEYPOINTS[0])), (timg, torch.from_numpy(KEYPOINTS[0]))),
    ]
    for ours, theirs, args, targs in cases:
        with pytest.raises(ValueError) as a:
            ours(*args)
        with pytest.raises(ValueError) as b:
            theirs(*targs)
        assert str(a.value).replace("ember.", "torch.") == str(b.value)
    vis = np.ones((2, 2), bool)
    with pytest.raises(ValueError) as a:
        eu.draw_keypoints(img, ember.tensor(KEYPOINTS), visibility=ember.tensor(vis))
    with pytest.raises(ValueError) as b:
        torchvision.utils.draw_keypoints(timg, torch.from_numpy(KEYPOINTS),
                                         visibility=torch.from_numpy(vis))
    assert str(a.value).replace("ember.", "torch.") == str(b.value)
