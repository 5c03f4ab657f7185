"""``nn._util.wrap`` (the nn kernels' results as Arrays): an ndarray of a dtype Ember names
is wrapped by ``fast_path.wrap`` without ``Array.__init__``; the result must be what
``Array(a)`` gives, and every other input still goes through ``Array``'s checks."""
import weakref

import numpy as np
import pytest

from ember_tensor import Array
from ember_tensor.nn._util import wrap


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.int32,
                                   np.int16, np.int8, np.uint8, np.bool_])
def test_same_as_array(dtype):
    a = np.ones((2, 3), dtype)
    w, ref = wrap(a), Array(a)
    assert type(w) is Array and w._np is a
    assert w.dtype == ref.dtype and tuple(w.shape) == tuple(ref.shape)
    weakref.ref(w)


def test_scalar_and_subclass_and_refused_dtype():
    assert wrap(np.float32(2))._np.shape == ()

    class Sub(np.ndarray):
        pass
    s = np.ones(2).view(Sub)
    assert wrap(s)._np is s
    for bad in (np.ones(2, "U3"), np.ones(2, np.complex64)):
        with pytest.raises(TypeError) as got:
            wrap(bad)
        with pytest.raises(TypeError) as want:
            Array(bad)
        assert str(got.value) == str(want.value)
