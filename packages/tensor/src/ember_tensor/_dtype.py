"""Ember's dtypes and torch's type-promotion rules.

A dtype is a singleton naming one NumPy dtype. Promotion follows torch: categories
bool < integer < floating; dimensioned tensors outrank 0-dim tensors, which outrank Python
scalars, but only when the lower participant is of a higher category does it change the result
(``int64 tensor + 1.5`` is float32, ``float32 tensor + 2.0`` stays float32).
"""
import numpy as np

__all__ = [
    "dtype", "float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
    "bool", "float", "double", "half", "long", "int", "short", "from_numpy_dtype",
    "promote_types", "result_type", "get_default_dtype", "set_default_dtype", "as_dtype",
]

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """One element type. Compare with ``is`` or ``==``; prints as ``ember.float32``."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_signed", "_category",
                 "torch_name", "cpp_name")

    def __init__(self, name, np_dtype, category, torch_name, cpp_name):
        self.name = name
        # torch's two spellings of a dtype in its messages: the ScalarType name ("Float",
        # also in legacy type names such as "torch.FloatTensor") and the C++ type ("float")
        self.torch_name = torch_name
        self.cpp_name = cpp_name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == _FLOAT
        self.is_signed = category == _FLOAT or self.np.kind == "i"
        self._category = category

    @property
    def is_complex(self):
        return False

    def __repr__(self):
        return f"ember.{self.name}"

    def __reduce__(self):
        return (as_dtype, (self.name,))

    def to_real(self):
        return self


float32 = dtype("float32", np.float32, _FLOAT, "Float", "float")
float64 = dtype("float64", np.float64, _FLOAT, "Double", "double")
float16 = dtype("float16", np.float16, _FLOAT, "Half", "c10::Half")
int64 = dtype("int64", np.int64, _INT, "Long", "long int")
int32 = dtype("int32", np.int32, _INT, "Int", "int")
int16 = dtype("int16", np.int16, _INT, "Short", "short int")
int8 = dtype("int8", np.int8, _INT, "Char", "signed char")
uint8 = dtype("uint8", np.uint8, _INT, "Byte", "unsigned char")
bool = dtype("bool", np.bool_, _BOOL, "Bool", "bool")  # noqa: A001 - torch's name

float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16

_ALL = (float32, float64, float16, int64, int32, int16, int8, uint8, bool)
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update(float=float32, double=float64, half=float16, long=int64, int=int32, short=int16)

_default_float = [float32]


def get_default_dtype():
    return _default_float[0]


def set_default_dtype(d):
    d = as_dtype(d)
    if d not in (float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    _default_float[0] = d


def from_numpy_dtype(np_dtype):
    d = _BY_NP.get(np_dtype) if isinstance(np_dtype, np.dtype) else None
    if d is not None:  # the usual call: an array's own dtype
        return d
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types "
            "are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        ) from None


def as_dtype(d):
    """Accept an ember dtype, a NumPy dtype, a Python type or a name; return the ember dtype."""
    if isinstance(d, dtype):
        return d
    if d is None:
        return None
    if isinstance(d, str):
        try:
            return _BY_NAME[d.replace("ember.", "").replace("torch.", "")]
        except KeyError:
            raise TypeError(f"unknown dtype {d!r}") from None
    import builtins

    if d is builtins.float:
        return float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    return from_numpy_dtype(d)


# Pairwise promotion inside one category follows NumPy's table, restricted to our dtypes,
# except that uint8 with a signed int goes to the signed type able to hold both (torch: int16).
def promote_types(a, b):
    a, b = as_dtype(a), as_dtype(b)
    if a is b:
        return a
    if a._category != b._category:
        return a if a._category > b._category else b
    if a._category == _BOOL:
        return bool
    return from_numpy_dtype(np.promote_types(a.np, b.np))


def _scalar_category(x):
    import builtins

    if isinstance(x, builtins.bool) or isinstance(x, np.bool_):
        return _BOOL
    if isinstance(x, (builtins.int, np.integer)):
        return _INT
    return _FLOAT


_DEFAULT_BY_CATEGORY = {_BOOL: lambda: bool, _INT: lambda: int64, _FLOAT: get_default_dtype}


def result_type(*operands):
    """The dtype torch gives an elementwise op on ``operands`` (arrays and Python scalars).

    Arrays are recognised by having a ``dtype`` attribute that is an ember dtype and an
    ``ndim``; anything else is treated as a Python scalar.
    """
    dim_t = zero_t = None  # best dtype among dimensioned / 0-dim arrays
    scalar_cat = -1
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim > 0:
                dim_t = d if dim_t is None else promote_types(dim_t, d)
            else:
                zero_t = d if zero_t is None else promote_types(zero_t, d)
        else:
            scalar_cat = max(scalar_cat, _scalar_category(x))
    result = dim_t
    if zero_t is not None:
        if result is None or zero_t._category > result._category:
            result = zero_t
    if scalar_cat >= 0:
        if result is None:
            result = _DEFAULT_BY_CATEGORY[scalar_cat]()
        elif scalar_cat > result._category:
            result = _DEFAULT_BY_CATEGORY[scalar_cat]()
    return result
