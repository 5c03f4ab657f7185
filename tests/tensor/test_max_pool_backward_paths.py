"""max_pool2d's backward has two ways to start from zeros: the kernel zeroes each plane it
scatters into, or (a grad_input of pooling.ZEROED_ALLOCATION_BYTES and up, off by default:
slower in the quiet A/B) the array comes zeroed from np.zeros and only the scatter runs. Both
must give the same bits, accumulate overlapping windows in output order, and refuse indices
outside the plane."""
import numpy as np
import pytest

from ember_tensor import from_numpy
from ember_tensor.nn import pooling


@pytest.fixture(params=["kernel zeroes", "allocation zeroed"])
def zero_path(request, monkeypatch):
    if request.param == "allocation zeroed":
        monkeypatch.setattr(pooling, "ZEROED_ALLOCATION_BYTES", 0)
    else:
        monkeypatch.setattr(pooling, "ZEROED_ALLOCATION_BYTES", None)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_matches_a_direct_accumulation(zero_path, dtype):
    rng = np.random.default_rng(3)
    # ties, so argmaxes repeat across overlapping 3x3/1 windows and the scatter accumulates
    x = rng.integers(0, 3, size=(2, 3, 9, 11)).astype(dtype)
    out, idx = pooling.max_pool2d_with_indices(from_numpy(x), 3, 1, 1)
    go = rng.standard_normal(out.shape).astype(dtype)
    gx = pooling.max_pool2d_backward(from_numpy(go), from_numpy(x), idx)._np
    want = np.zeros(x.shape, dtype).reshape(6, -1)
    for p, (g_plane, i_plane) in enumerate(zip(go.reshape(6, -1), idx._np.reshape(6, -1))):
        for g, i in zip(g_plane, i_plane):  # output order, as the kernel adds
            want[p, i] += g
    np.testing.assert_array_equal(gx, want.reshape(x.shape))


def test_out_of_plane_index_is_refused(zero_path):
    x = from_numpy(np.zeros((1, 1, 4, 4), np.float32))
    go = from_numpy(np.ones((1, 1, 2, 2), np.float32))
    with pytest.raises(RuntimeError, match="out of range"):
        pooling.max_pool2d_backward(go, x, from_numpy(np.full((1, 1, 2, 2), 16)))
