"""The compiled common call (``_kernels/fast_path.pyx``): ``_fast`` and ``_unary`` run the
plain contiguous same-dtype case in C and hand everything else to the Python forms; both
must give the same arrays (values, dtype, shape, ownership) and the same errors."""
import sys
import weakref

import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import _elementwise_core as core
from ember_tensor._kernels import fast_path

RNG = np.random.default_rng(0)
DTYPES = [np.float32, np.float64, np.int64, np.int32, np.int16, np.int8, np.uint8]


def _arr(shape, dtype):
    if np.dtype(dtype).kind == "f":
        return et.from_numpy(RNG.standard_normal(shape).astype(dtype))
    return et.from_numpy(RNG.integers(1, 9, shape).astype(dtype))


def _same(got, want):
    if want is None:  # the common call does not apply: both leave it to the general rules
        assert got is None
        return
    assert type(got) is et.Array and type(want) is et.Array
    assert got._np.dtype == want._np.dtype and got._np.shape == want._np.shape
    assert got._np.flags.c_contiguous and got._np.flags.owndata
    np.testing.assert_array_equal(got._np, want._np)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "eq", "lt"])
@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (0, 4)])
def test_binary_matches_the_general_form(name, dtype, shape):
    a, b = _arr(shape, dtype), _arr(shape, dtype)
    _same(core._fast(name, a, b), core._fast_general(name, a, b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
@pytest.mark.parametrize("number", [2, -3, 0.5, 2.0**40])
def test_number_operand_matches_the_general_form(name, dtype, number):
    a = _arr((2, 9), dtype)
    _same(core._fast(name, a, number), core._fast_general(name, a, number))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,params", [("relu", ()), ("square", ()), ("exp", ()),
                                         ("leaky_relu", (0.25,)), ("neg", ())])
def test_unary_matches_the_general_form(name, params, dtype):
    a = _arr((4, 6), dtype)
    _same(core._unary(name, a, params=params), core._unary_general(name, a, params=params))


def test_other_calls_take_the_general_forms():
    a = _arr((4, 6), np.float32)
    cases = [
        (a, et.from_numpy(a._np.T.copy().T)),  # non-contiguous (transposed storage) operand
        (a, _arr((6,), np.float32)),  # broadcast
        (a, _arr((4, 6), np.float64)),  # promotion: the common call returns None
        (a, core._wrap(a._np.astype(">f4"))),  # another byte order (made only internally)
        (_arr((300, 300), np.float32), _arr((300, 300), np.float32)),  # past one thread's work
        (a, True),  # bool is not a plain number here
        (et.from_numpy(a._np[:, ::2]), 2.0),  # strided self
    ]
    for x, y in cases:
        _same(core._fast("add", x, y), core._fast_general("add", x, y))
    with pytest.raises(RuntimeError, match="must match the size"):
        core._fast("add", a, _arr((5,), np.float32))
    with pytest.raises(AttributeError):
        core._fast("add", a._np, a)  # not an Array: the general form's error
    with pytest.raises(OverflowError):
        core._fast("add", a, 10**400)
    b = et.from_numpy(np.ones((4, 6), bool))
    _same(core._unary("logical_not", b), core._unary_general("logical_not", b))


@pytest.mark.parametrize("shape", [(5,), (300, 301)])  # (the second past one thread's work)
def test_results_hold_no_extra_references(shape):
    a = _arr(shape, np.float32)
    for make in (lambda: core._fast("add", a, a), lambda: core._fast("mul", a, 3.0),
                 lambda: core._unary("relu", a)):
        res = make()
        counts = sys.getrefcount(res), sys.getrefcount(res._np)  # (outside the assert's rewrite)
        assert counts == (2, 2)  # the holder's and the call's
        ref = weakref.ref(res)
        del res
        assert ref() is None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["mul", "sub", "maximum", "remainder", "div_floor", "div_trunc"])
def test_same_dtype_binary_matches_the_general_form(name, dtype):
    a, b, row = _arr((3, 4), dtype), _arr((3, 4), dtype), _arr((4,), dtype)
    for y in (b, row):  # (a broadcast goes to the general form)
        try:
            want = core._binary_general(name, a, y)
        except NotImplementedError as e:  # a name without this dtype's loop: the same refusal
            with pytest.raises(NotImplementedError, match=str(e)):
                core._binary(name, a, y)
            continue
        _same(core._binary(name, a, y), want)


def test_same_dtype_binary_reports_integer_division_by_zero():
    a = _arr((5,), np.int64)
    zero = et.from_numpy(np.zeros(5, np.int64))
    for fn in (core._binary, core._binary_general):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn("div_floor", a, zero)


# Past one thread's work (PARALLEL_MIN_WORK element touches) a float call goes through
# strided.launch from C: the general forms' results, errors and refusals all the same.
BIG = (300, 301)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "pow", "eq", "lt"])
def test_big_binary_matches_the_general_form(name, dtype):
    a, b = _arr(BIG, dtype), _arr(BIG, dtype)
    a._np.flat[:3] = (np.nan, np.inf, -0.0) if a._np.dtype.kind == "f" else 0
    _same(core._fast(name, a, b), core._fast_general(name, a, b))
    for y in (_arr(BIG[1:], dtype), core._wrap(b._np.T.copy().T)):  # broadcast, transposed
        _same(core._fast(name, a, y), core._fast_general(name, a, y))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
@pytest.mark.parametrize("number", [2, -3, 0.5, 2.0**40, True])
def test_big_number_operand_matches_the_general_form(name, dtype, number):
    a = _arr(BIG, dtype)
    _same(core._fast(name, a, number), core._fast_general(name, a, number))


def test_big_number_operand_errors_as_the_general_form():
    a = _arr(BIG, np.float32)
    for fn in (core._fast, core._fast_general):
        with pytest.raises(OverflowError):
            fn("mul", a, 10**400)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,params", [("relu", ()), ("exp", ()), ("leaky_relu", (0.25,)),
                                         ("neg", ()), ("abs", ())])
def test_big_unary_matches_the_general_form(name, params, dtype):
    a = _arr(BIG, dtype)
    try:
        want = core._unary_general(name, a, params=params)
    except NotImplementedError as e:
        with pytest.raises(NotImplementedError, match=str(e)):
            core._unary(name, a, params=params)
        return
    _same(core._unary(name, a, params=params), want)
    t = core._wrap(a._np.T)  # strided: the general form, which still runs it
    _same(core._unary(name, t, params=params), core._unary_general(name, t, params=params))



# Two Arrays of one dtype that broadcast, or with a strided operand, run through
# strided.launch from C (fast_path._launched): the general form's arrays and errors.
BROADCASTS = [((3, 5), (5,)), ((5,), (3, 5)), ((3, 1), (1, 5)), ((3, 5), (3, 1)),
              ((2, 3, 5), (3, 5)), ((2, 1, 5), (4, 1)), ((3, 5), ()), ((), (3, 5)),
              ((0, 5), (5,)), ((3, 0), (1,)), ((4, 1, 2, 1), (3, 1, 6)), ((300, 301), (301,)),
              ((300, 301), (300, 1)), ((1, 301), (300, 1))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "pow", "eq", "lt"])
@pytest.mark.parametrize("shapes", BROADCASTS)
def test_broadcast_in_c_matches_the_general_form(name, dtype, shapes):
    a, b = _arr(shapes[0], dtype), _arr(shapes[1], dtype)
    if a._np.dtype.kind == "f" and a._np.size:
        a._np.flat[:3] = (np.nan, np.inf, -0.0)[:a._np.size]
    for x, y in ((a, b), (b, a)):
        want = core._fast_general(name, x, y)
        _same(core._fast(name, x, y), want)
        old = fast_path._set_launch_broadcasts(False)
        try:
            _same(core._fast(name, x, y), want)
        finally:
            fast_path._set_launch_broadcasts(old)


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_strided_operands_in_c_match_the_general_form(dtype):
    for shape in ((4, 6), (300, 301)):
        a, b = _arr(shape, dtype), _arr(shape, dtype)
        t = core._wrap(a._np.T.copy().T)  # transposed storage
        s = core._wrap(_arr((shape[0], 2 * shape[1]), dtype)._np[:, ::2])  # a step of 2
        for x, y in ((t, b), (b, t), (s, b), (t, s), (s, _arr(shape[1:], dtype))):
            _same(core._fast("mul", x, y), core._fast_general("mul", x, y))
            _same(core._fast("gt", x, y), core._fast_general("gt", x, y))


def test_broadcast_in_c_leaves_errors_and_promotion_to_the_general_form():
    a = _arr((4, 6), np.float32)
    for y in (_arr((5,), np.float32), _arr((3, 6), np.float32), _arr((2, 4, 5), np.float32)):
        with pytest.raises(RuntimeError, match="must match the size"):
            core._fast("mul", a, y)
        with pytest.raises(RuntimeError, match="must match the size"):
            core._fast("mul", core._wrap(a._np.T), y)
    assert core._fast("mul", a, _arr((6,), np.float64)) is None  # promotion: not the common call
    t = core._wrap(a._np.T)
    assert core._fast("mul", t, _arr((4,), np.int64)) is None
    _same(core._fast("mul", t, 2.0), core._fast_general("mul", t, 2.0))  # a number: general
