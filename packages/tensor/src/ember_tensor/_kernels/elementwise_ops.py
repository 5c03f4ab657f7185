"""The elementwise kernels, one row per op: the single place to declare one.

setup.py reads this file by path (it must import nothing, least of all ember_tensor) and
expands ``binary.pyx.tp`` / ``unary.pyx.tp`` with it into ``binary.pyx`` / ``unary.pyx``: one
loop per (op, dtype) with ``strided.kernel_fn``'s shape, and ``KERNELS[name, dtype] =
(address, (output dtype, input dtypes...))``.

A row is a dict:

* ``name``: the ``KERNELS`` key; ``dtypes``: the compute dtypes it is instantiated for.
* ``expr``: the C expression of one element over the input elements, named ``a`` (one input)
  or ``a``, ``b`` (two) unless ``args`` names them, in their dtypes. Either one string, or a
  dict keyed by dtype name or by kind (``"real"``, ``"integral"``) where the dtypes differ;
  the dtype's key wins. Dtypes without an expression use ``snippet`` instead.
* ``snippet``: a named loop body kept in the template, for loops that are more than one
  expression (an error code, a temporary, one loop per mode).
* ``out``: a fixed output dtype (comparisons write bool as ``"uint8"``), else the compute dtype.
* ``inputs``: the input dtypes where they are not all the compute dtype (``None`` stands for
  it); by default the table's arity (``BINARY`` 2, ``UNARY`` 1) inputs of the compute dtype.
* ``params``: names bound to ``prm[0]``, ``prm[1]``, ... cast to the compute type.
* ``consts``: ``(name, value)`` pairs declared in the compute type. A bare literal in a float
  loop is a C double and widens the loop (half the SIMD lanes plus conversions).

A row with ``grad`` is a whole op: ``tools/generate_ops.py`` writes from it the ``ember_tensor``
function and ``Array`` method, the ``ember`` function, ``Tensor`` method and in-place form, the
backward node, the ``.pyi`` stubs, and the op test table's row. Its op fields:

* ``grad``: the derivative as Tensor expressions over ``grad`` (the incoming gradient),
  ``self`` and ``other`` (the inputs) and ``result`` (the output), one per input, as torch's
  ``derivatives.yaml`` writes them; what a formula names is what the node saves.
* ``promote``: ``"float"`` (integer inputs compute in the default float dtype) or ``"common"``
  (torch's type promotion of the inputs). ``node``: the grad_fn name where torch's is not
  ``<Name>Backward0``. ``aliases``: other names of every form (``arcsin`` for ``asin``).
  ``inplace``: False where torch has no in-place form or it is written by hand.
* ``nodes`` (arithmetic, whose forward ``ember._ops.arithmetic`` writes): the backward nodes
  by torch's grad_fn name, each one formula per input as ``grad`` is, over ``self`` and
  ``other`` (or the names ``inputs`` gives) and ``result``; other free names are the node's
  attributes (``alpha``, ``exponent``), set by ``record``. ``numbers``: inputs that may be a
  Python number, which then rides on the node as the attribute of the same name.
* ``forms`` (arithmetic): the op's other spellings, which the generator writes around its
  forward (``ember_tensor.arithmetic`` normalises and checks the arguments,
  ``ember._ops.arithmetic`` records): ``function``, the forward's name where it is not the
  row's; ``keywords``, its keyword arguments with their defaults (``alpha``,
  ``rounding_mode``), which the in-place method passes on; ``aliases``, torch's other names of
  the function, method and in-place method; ``operator``, Python's operator (``"add"``:
  ``__add__``, ``__radd__``, ``__iadd__``); ``reflected``, how ``number <op> tensor`` is
  computed on Tensors, over ``self`` (the tensor) and ``other`` (the number), as torch's
  ``Tensor.__r<op>__`` computes it (on Arrays it is always the function with the operands
  swapped); ``plain``, the node the common call records (two Tensors of one dtype, or a
  Tensor and a Python float/int its dtype absorbs), which the Tensor operator then runs
  straight on the row's kernel, saving what the node's formulas need for the inputs that
  require grad; a pair names a Tensor operand's node, then a Number operand's (``pow``).
  ``fast``: the ember_tensor function that computes the common call where ``_fast`` on the
  kernel would not be torch's (``pow``'s special exponents), an Array or None.
  ``general`` and ``record`` name the hooks the generated forwards call after their shared
  steps (the common call, out=, operand checks, two Numbers): in ``ember_tensor.arithmetic``
  what the op does with checked operands and its keywords (promotion, alpha, rounding
  modes, errors), in ``ember._ops.arithmetic`` which node records it (a Number first);
  ``other``, torch's name of the second operand where it is not ``other``. As in
  torch, every operator form returns NotImplemented for an operand that is
  neither a Tensor nor a Number (forward, reflected and in-place alike), so Python raises its
  ``unsupported operand type(s)`` error.
* Test table only: ``ref``, the NumPy value over ``a`` (and ``b``) for the default suite;
  ``domain``, the interval test inputs are drawn from where the op is smooth.
"""

NUMERIC = ("float32", "float64", "int64", "int32", "int16", "int8", "uint8")
REAL = NUMERIC[:2]
INTEGRAL = NUMERIC[2:]

# C storage type of each dtype
CTYPES = {"float32": "float", "float64": "double", "int64": "int64_t", "int32": "int32_t",
          "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t"}

ONE = (("one", "1"),)
# float math whose float32 loop calls the double function and rounds once: correctly rounded
# (libm's float versions are not; torch's SLEEF kernels are within 1 ulp of this)
# with each op's fields (see above)
POSITIVE, UNIT = (0.1, 3.0), (-0.9, 0.9)
ERF_REF = "np.vectorize(math.erf)(a)"
VIA_DOUBLE: dict[str, dict] = {
    "tan": {"grad": "grad * (1 + result * result)", "ref": "np.tan(a)", "domain": (-1.2, 1.2)},
    "asin": {"grad": "grad * (1 - self * self).rsqrt()", "aliases": ("arcsin",),
             "ref": "np.arcsin(a)", "domain": UNIT},
    "acos": {"grad": "-grad * (1 - self * self).rsqrt()", "aliases": ("arccos",),
             "ref": "np.arccos(a)", "domain": UNIT},
    "atan": {"grad": "grad / (self * self + 1)", "aliases": ("arctan",), "ref": "np.arctan(a)"},
    "sinh": {"grad": "grad * self.cosh()", "ref": "np.sinh(a)"},
    "cosh": {"grad": "grad * self.sinh()", "ref": "np.cosh(a)"},
    "asinh": {"grad": "grad * (self * self + 1).rsqrt()", "aliases": ("arcsinh",),
              "ref": "np.arcsinh(a)"},
    "acosh": {"grad": "grad * (self * self - 1).rsqrt()", "aliases": ("arccosh",),
              "ref": "np.arccosh(a)", "domain": (1.1, 3.0)},
    # torch records atanh_ but refuses its backward: the in-place form is hand-written
    "atanh": {"grad": "grad / (1 - self * self)", "aliases": ("arctanh",), "inplace": False,
              "ref": "np.arctanh(a)", "domain": UNIT},
    "exp2": {"grad": "grad * result * math.log(2.0)", "ref": "np.exp2(a)"},
    "erfc": {"grad": "grad * (-2.0 / math.sqrt(math.pi)) * (-(self * self)).exp()",
             "ref": "1 - " + ERF_REF},
}
# torch's hardsigmoid backward takes 1/6 as a float constant, for double inputs too
HARD = (("zero", "0"), ("half", "0.5"), ("three", "3"), ("six", "6"),
        ("sixth", "<float>(1.0 / 6.0)"))
# torch's two-sided lerp: exact at both ends (w = 0 gives a, w = 1 gives b)
LERP = {"consts": ONE + (("half", "0.5"),),
        "expr": {f"float{bits}": f"a + w * (b - a) if {fabs}(w) < half else b - (b - a) * (one - w)"
                 for bits, fabs in (("32", "fabsf"), ("64", "fabs"))}}

BINARY = (
    # ---- arithmetic
    {"name": "add", "dtypes": NUMERIC, "expr": "a + b",
     "forms": {"keywords": (("alpha", 1),), "operator": "add", "reflected": "add(self, other)",
               "plain": "AddBackward0", "general": "_add_general", "record": "_add_recorded"},
     "nodes": {"AddBackward0": ("grad", "grad if alpha == 1 else grad * alpha")}},
    {"name": "sub", "dtypes": NUMERIC, "expr": "a - b",
     "forms": {"keywords": (("alpha", 1),), "aliases": ("subtract",), "operator": "sub",
               "reflected": "rsub(self, other)", "plain": "SubBackward0",
               "general": "_sub_general", "record": "_sub_recorded"},
     "nodes": {"SubBackward0": ("grad", "-grad if alpha == 1 else grad * -alpha"),
               "RsubBackward0": ("-grad if alpha == 1 else grad * -alpha", "grad"),  # rsub(t, u)
               "RsubBackward1": ("-grad if alpha == 1 else grad * -alpha",)}},  # Number - Tensor
    {"name": "mul", "dtypes": NUMERIC, "expr": "a * b",
     "forms": {"aliases": ("multiply",), "operator": "mul", "reflected": "mul(self, other)",
               "plain": "MulBackward0", "general": "_mul_general", "record": "_mul_recorded"},
     "nodes": {"MulBackward0": ("grad * other", "grad * self")}, "numbers": ("other",)},
    {"name": "maximum", "dtypes": NUMERIC,
     "expr": {"real": "a if (a > b or a != a) else b",  # NaN wins, as torch
              "integral": "a if a > b else b"}},
    {"name": "minimum", "dtypes": NUMERIC,
     "expr": {"real": "a if (a < b or a != a) else b", "integral": "a if a < b else b"}},
    {"name": "div", "dtypes": REAL, "expr": "a / b",
     # n / t is n times the reciprocal, as torch computes it (one rounding more than a division)
     "forms": {"keywords": (("rounding_mode", None),), "aliases": ("divide", "true_divide"),
               "operator": "truediv", "reflected": "mul(self.reciprocal(), other)",
               "plain": "DivBackward0", "general": "_div_general", "record": "_div_recorded"},
     "nodes": {"DivBackward0": ("grad / other", "-grad * self / (other * other)"),
               "DivBackward2": ("grad * 0", "grad * 0")},  # rounding_mode: piecewise constant
     "numbers": ("other",)},
    # integer division returns error code 1 on a zero divisor instead of trapping the process
    {"name": "div_trunc", "dtypes": NUMERIC,
     "expr": {"float32": "truncf(a / b)", "float64": "trunc(a / b)"}, "snippet": "div_trunc_int"},
    {"name": "div_floor", "dtypes": NUMERIC, "snippet": "div_floor",
     "forms": {"function": "floor_divide", "operator": "floordiv",
               "reflected": "floor_divide(other, self)"}},
    {"name": "remainder", "dtypes": NUMERIC, "snippet": "remainder",
     "forms": {"operator": "mod", "reflected": "remainder(other, self)"}},
    {"name": "pow", "dtypes": NUMERIC,
     "expr": {"float32": "powf(a, b)", "float64": "pow(a, b)"}, "snippet": "pow_int",
     # plain: a Tensor exponent's node, a Number exponent's; torch's special exponents
     # (x * x for 2, sqrt for 0.5, ...) are the kernel hook ``fast``
     "forms": {"operator": "pow", "reflected": "pow(other, self)",
               "plain": ("PowBackward1", "PowBackward0"), "fast": "_pow_fast",
               "general": "_pow_general", "record": "_pow_recorded", "other": "exponent"},
     "nodes": {
         # Tensor ** Number; 2, the common square, with one product fewer and no pow
         "PowBackward0": ("grad * 0 if exponent == 0 else grad * (self * 2) if exponent == 2 "
                          "else grad * (self ** (exponent - 1) * exponent)",),
         "PowBackward1": (  # Tensor ** Tensor; 0 ** b for b >= 0 has a zero exponent gradient
             "grad * other * self ** (other - 1)",
             "where((self == 0) & (other >= 0), zeros_like(grad * result), "
             "grad * result * log(where(self == 0, ones_like(self), self)))"),
         "PowBackward2": {"inputs": ("exponent",),  # Number ** Tensor
                          "grad": ("grad * result * math.log(base) if base > 0 else grad * 0",)},
     }},
    {"name": "bitwise_and", "dtypes": INTEGRAL, "expr": "a & b"},
    {"name": "bitwise_or", "dtypes": INTEGRAL, "expr": "a | b"},
    {"name": "bitwise_xor", "dtypes": INTEGRAL, "expr": "a ^ b"},
    {"name": "atan2", "dtypes": REAL,
     "expr": {"float32": "<float>atan2(<double>a, <double>b)", "float64": "atan2(a, b)"},
     "grad": ("grad * other / (self * self + other * other)",
              "grad * -self / (self * self + other * other)"),
     "aliases": ("arctan2",), "ref": "np.arctan2(a, b)"},
    # NaN loses unless both are NaN (C's fmax); the gradient goes to the operand taken
    {"name": "fmax", "dtypes": NUMERIC,
     "expr": {"real": "b if a != a else (a if (a > b or b != b) else b)",
              "integral": "a if a > b else b"},
     "grad": ("grad.masked_fill((self >= other).logical_or(other.isnan()).logical_not(), 0)",
              "grad.masked_fill((self >= other).logical_or(other.isnan()), 0)"),
     "promote": "common", "inplace": False, "ref": "np.fmax(a, b)"},  # torch has no fmax_
    {"name": "fmin", "dtypes": NUMERIC,
     "expr": {"real": "b if a != a else (a if (a < b or b != b) else b)",
              "integral": "a if a < b else b"},
     "grad": ("grad.masked_fill((self <= other).logical_or(other.isnan()).logical_not(), 0)",
              "grad.masked_fill((self <= other).logical_or(other.isnan()), 0)"),
     "promote": "common", "inplace": False, "ref": "np.fmin(a, b)"},  # torch has no fmin_
    # C's hypot scales instead of squaring (no overflow); float32 through double, rounded once
    {"name": "hypot", "dtypes": REAL,
     "expr": {"float32": "<float>hypot(<double>a, <double>b)", "float64": "hypot(a, b)"},
     "grad": ("grad * self / result", "grad * other / result"),
     "promote": "common", "ref": "np.hypot(a, b)"},
    # log(e^a + e^b) as max + log1p(exp(-|a - b|)), as torch: equal infinities give themselves
    # (the difference would be NaN); float32 through double, rounded once
    {"name": "logaddexp", "dtypes": REAL,
     "expr": {"float32": "a if (a == b and isinf(a)) else <float>((<double>a if a > b else "
                         "<double>b) + log1p(exp(-fabs(<double>a - <double>b))))",
              "float64": "a if (a == b and isinf(a)) else "
                         "(a if a > b else b) + log1p(exp(-fabs(a - b)))"},
     "grad": ("grad / (1 + exp(other - self))", "grad / (1 + exp(self - other))"),
     "promote": "common", "inplace": False, "ref": "np.logaddexp(a, b)"},  # no logaddexp_
    # ---- comparisons and logic (bool out, stored as uint8)
    {"name": "eq", "dtypes": NUMERIC, "out": "uint8", "expr": "a == b"},
    {"name": "ne", "dtypes": NUMERIC, "out": "uint8", "expr": "a != b"},
    {"name": "lt", "dtypes": NUMERIC, "out": "uint8", "expr": "a < b"},
    {"name": "le", "dtypes": NUMERIC, "out": "uint8", "expr": "a <= b"},
    {"name": "gt", "dtypes": NUMERIC, "out": "uint8", "expr": "a > b"},
    {"name": "ge", "dtypes": NUMERIC, "out": "uint8", "expr": "a >= b"},
    {"name": "logical_and", "dtypes": NUMERIC, "out": "uint8", "expr": "(a != 0) & (b != 0)"},
    {"name": "logical_or", "dtypes": NUMERIC, "out": "uint8", "expr": "(a != 0) | (b != 0)"},
    {"name": "logical_xor", "dtypes": NUMERIC, "out": "uint8", "expr": "(a != 0) ^ (b != 0)"},
    {"name": "where", "dtypes": NUMERIC, "args": ("c", "a", "b"), "inputs": ("uint8", None, None),
     "expr": "a if c else b"},
    # ---- interpolation and fused multiply-adds (three inputs; a scalar weight / value in prm[0])
    {"name": "lerp", "dtypes": REAL, "args": ("a", "b", "w"), **LERP},
    {"name": "lerp_scalar", "dtypes": REAL, "params": ("w",), **LERP},
    {"name": "addcmul", "dtypes": NUMERIC, "args": ("s", "a", "b"), "params": ("v",),
     "expr": "s + v * a * b"},
    {"name": "addcdiv", "dtypes": REAL, "args": ("s", "a", "b"), "params": ("v",),
     "expr": "s + v * a / b"},
    # ---- fused activation backwards: g is the incoming gradient, x the saved input, y the
    # saved output; prm[0] the threshold / slope / gelu approximation
    {"name": "threshold_backward", "dtypes": REAL, "args": ("g", "x"), "params": ("t",),
     "expr": "0 if x <= t else g"},  # torch's mask: a NaN input lets the gradient through
    {"name": "leaky_relu_backward", "dtypes": REAL, "args": ("g", "x"), "params": ("slope",),
     "expr": "g if x > 0 else g * slope"},
    {"name": "sigmoid_backward", "dtypes": REAL, "args": ("g", "y"), "consts": ONE,
     "expr": "g * (one - y) * y"},
    {"name": "tanh_backward", "dtypes": REAL, "args": ("g", "y"), "consts": ONE,
     "expr": "g * (one - y * y)"},
    # prm[0]: 0 exact, 1 tanh approximation
    {"name": "gelu_backward", "dtypes": REAL, "args": ("g", "x"), "snippet": "gelu_backward"},
    # MobileNetV3's hard activations, EfficientNet's SiLU: torch's piecewise rules with its
    # boundaries (0 at x = -3, g at x = 3) and NaNs (hardswish's NaN stays NaN, the masks' 0)
    {"name": "hardswish_backward", "dtypes": REAL, "args": ("g", "x"), "consts": HARD,
     "expr": "zero if x <= -three else (g if x >= three else g * (x / three + half))"},
    {"name": "hardsigmoid_backward", "dtypes": REAL, "args": ("g", "x"), "consts": HARD,
     "expr": "g * sixth if (x > -three and x < three) else zero"},
    {"name": "silu_backward", "dtypes": REAL, "args": ("g", "x"), "consts": ONE,
     "expr": {f"float{b}": f"g / (one + {e}(-x)) * (one + x * (one - one / (one + {e}(-x))))"
              for b, e in (("32", "ember_fast_expf"), ("64", "exp"))}},
    # prm = (min, max): the gradient passes strictly inside the bounds only (not NaN), as torch's
    {"name": "hardtanh_backward", "dtypes": REAL, "args": ("g", "x"), "params": ("lo", "hi"),
     "consts": (("zero", "0"),), "expr": "g if (x > lo and x < hi) else zero"},
)

UNARY = (
    # ---- float math: integer inputs are cast first
    {"name": "exp", "dtypes": REAL, "expr": {"float32": "ember_fast_expf(a)", "float64": "exp(a)"},
     "grad": "grad * result", "ref": "np.exp(a)"},
    {"name": "log", "dtypes": REAL, "expr": {"float32": "logf(a)", "float64": "log(a)"},
     "grad": "grad / self", "ref": "np.log(a)", "domain": POSITIVE},
    {"name": "log1p", "dtypes": REAL, "expr": {"float32": "log1pf(a)", "float64": "log1p(a)"},
     "grad": "grad / (self + 1)", "node": "Log1PBackward0", "ref": "np.log1p(a)",
     "domain": POSITIVE},
    {"name": "expm1", "dtypes": REAL, "expr": {"float32": "expm1f(a)", "float64": "expm1(a)"},
     "grad": "grad * (result + 1)", "ref": "np.expm1(a)"},
    {"name": "log2", "dtypes": REAL, "expr": {"float32": "log2f(a)", "float64": "log2(a)"},
     "grad": "grad / (self * math.log(2.0))", "ref": "np.log2(a)", "domain": POSITIVE},
    # float32 through double: libm's log10f misrounds a quarter of its results, torch's ~0.1%
    {"name": "log10", "dtypes": REAL, "expr": {"float32": "<float>log10(<double>a)",
                                                 "float64": "log10(a)"},
     "grad": "grad / (self * math.log(10.0))", "ref": "np.log10(a)", "domain": POSITIVE},
    # torch multiplies by the constant rounded to the compute type: so does the typed const
    {"name": "deg2rad", "dtypes": REAL, "consts": (("k", "0.017453292519943295"),),
     "expr": "a * k", "grad": "grad * (math.pi / 180.0)", "node": "Deg2RadBackward0",
     "ref": "np.deg2rad(a)"},
    {"name": "rad2deg", "dtypes": REAL, "consts": (("k", "57.29577951308232"),),
     "expr": "a * k", "grad": "grad * (180.0 / math.pi)", "node": "Rad2DegBackward0",
     "ref": "np.rad2deg(a)"},
    {"name": "sqrt", "dtypes": REAL, "expr": {"float32": "sqrtf(a)", "float64": "sqrt(a)"},
     "grad": "grad / (2 * result)", "ref": "np.sqrt(a)", "domain": POSITIVE},
    {"name": "rsqrt", "dtypes": REAL, "consts": ONE,
     "expr": {"float32": "one / sqrtf(a)", "float64": "one / sqrt(a)"},
     "grad": "grad * -0.5 * result ** 3", "ref": "1 / np.sqrt(a)", "domain": POSITIVE},
    {"name": "reciprocal", "dtypes": REAL, "consts": ONE, "expr": "one / a",
     "grad": "-grad * result * result", "ref": "1 / a", "domain": POSITIVE},
    {"name": "sin", "dtypes": REAL, "expr": {"float32": "sinf(a)", "float64": "sin(a)"},
     "grad": "grad * self.cos()", "ref": "np.sin(a)"},
    *({"name": n, "dtypes": REAL, "expr": {"float32": f"<float>{n}(<double>a)",
                                           "float64": f"{n}(a)"}, **op}
      for n, op in VIA_DOUBLE.items()),
    # sin(pi a) / (pi a) in the input's precision, 1 at 0, as torch
    {"name": "sinc", "dtypes": REAL, "consts": ONE + (("pi", "3.14159265358979323846"),),
     "expr": {"float32": "one if a == 0 else sinf(pi * a) / (pi * a)",
              "float64": "one if a == 0 else sin(pi * a) / (pi * a)"},
     "grad": "((math.pi * self * (math.pi * self).cos() - (math.pi * self).sin())"
             " / (math.pi * self * self)).masked_fill(self == 0, 0) * grad",
     "ref": "np.sinc(a)"},
    {"name": "cos", "dtypes": REAL, "expr": {"float32": "cosf(a)", "float64": "cos(a)"},
     "grad": "grad * -self.sin()", "ref": "np.cos(a)"},
    {"name": "tanh", "dtypes": REAL,
     "expr": {"float32": "ember_fast_tanhf(a)", "float64": "tanh(a)"},
     "grad": "grad * (1 - result * result)", "ref": "np.tanh(a)"},
    {"name": "sigmoid", "dtypes": REAL,
     "expr": {"float32": "ember_fast_sigmoidf(a)", "float64": "1 / (1 + exp(-a))"},
     "grad": "grad * result * (1 - result)", "ref": "1 / (1 + np.exp(-a))"},
    {"name": "erf", "dtypes": REAL, "expr": {"float32": "ember_fast_erff(a)", "float64": "erf(a)"},
     "grad": "grad * (2.0 / math.sqrt(math.pi)) * (-(self * self)).exp()", "ref": ERF_REF},
    {"name": "floor", "dtypes": REAL, "expr": {"float32": "floorf(a)", "float64": "floor(a)"}},
    {"name": "ceil", "dtypes": REAL, "expr": {"float32": "ceilf(a)", "float64": "ceil(a)"}},
    {"name": "round", "dtypes": REAL,
     "expr": {"float32": "nearbyintf(a)", "float64": "nearbyint(a)"}},
    {"name": "trunc", "dtypes": REAL, "expr": {"float32": "truncf(a)", "float64": "trunc(a)"}},
    # ---- sign-aware and integer-friendly ops
    {"name": "copy", "dtypes": NUMERIC, "expr": "a"},
    {"name": "neg", "dtypes": NUMERIC, "expr": "-a"},
    {"name": "abs", "dtypes": NUMERIC,  # fabs also maps -0.0 to 0.0
     "expr": {"float32": "fabsf(a)", "float64": "fabs(a)", "uint8": "a",
              "integral": "-a if a < 0 else a"}},
    {"name": "sign", "dtypes": NUMERIC, "expr": "(0 < a) - (a < 0)"},
    {"name": "square", "dtypes": NUMERIC, "expr": "a * a"},
    # one compare-and-select the vectoriser takes as is. As torch: only values below 0 are
    # replaced, so NaN and -0.0 pass through unchanged
    {"name": "relu", "dtypes": NUMERIC, "expr": "0 if a < 0 else a"},
    # prm = (min, max, has_min, has_max); min applied first so min > max gives max, as torch
    {"name": "clamp", "dtypes": NUMERIC, "snippet": "clamp"},
    {"name": "logical_not", "dtypes": NUMERIC, "out": "uint8", "expr": "a == 0"},
    {"name": "bitwise_not", "dtypes": INTEGRAL, "expr": "~a"},
    # A Python scalar operand travels in prm[0], so `x * 2.0` runs as a flat one-input loop
    # instead of broadcasting a 0-dim operand (float dtypes only: a double holds them).
    {"name": "add_scalar", "dtypes": REAL, "params": ("s",), "expr": "a + s"},
    {"name": "mul_scalar", "dtypes": REAL, "params": ("s",), "expr": "a * s"},
    {"name": "div_scalar", "dtypes": REAL, "params": ("s",), "expr": "a / s"},
    {"name": "leaky_relu", "dtypes": REAL, "params": ("slope",),
     "expr": "a if a > 0 else a * slope"},
    # prm[0]: 0 exact (x * Phi(x)), 1 tanh approximation; one loop per mode so each vectorises
    {"name": "gelu", "dtypes": REAL, "snippet": "gelu"},
    # x * relu6(x + 3) / 6 and relu6(x + 3) / 6 in torch's order of operations; NaN stays NaN
    # (float32: simd.h's loop, the same operations with the clamp as max/min instructions)
    {"name": "hardswish", "dtypes": REAL, "consts": HARD, "snippet": "hardswish_f32",
     "expr": {"float64": "a * (zero if a + three < zero else (six if a + three > six else "
                         "a + three)) / six"}},
    {"name": "hardsigmoid", "dtypes": REAL, "consts": HARD,
     "expr": "(zero if a + three < zero else (six if a + three > six else a + three)) / six"},
    {"name": "silu", "dtypes": REAL, "consts": ONE,
     "expr": {"float32": "a / (one + ember_fast_expf(-a))", "float64": "a / (one + exp(-a))"}},
    {"name": "isnan", "dtypes": REAL, "out": "uint8", "expr": "a != a"},
    {"name": "isinf", "dtypes": REAL, "out": "uint8", "expr": "isinf(a) != 0"},
    {"name": "isfinite", "dtypes": REAL, "out": "uint8", "expr": "(a == a) and not isinf(a)"},
    # prm = (nan, posinf, neginf) already resolved to this dtype's finite extremes
    {"name": "nan_to_num", "dtypes": REAL, "snippet": "nan_to_num"},
)


# Ops whose one-expression loops also come with one variant per input that reads that input
# as a single value (binary.pyx registers them with ``strided.register_once``): a last dim
# broadcast from size 1 (a column ``(N, 1)`` against ``(N, M)``) then runs without filling a
# row buffer first.
ONCE_VARIANTS = ("add", "sub", "mul", "div", "maximum", "minimum",
                 "eq", "ne", "lt", "le", "gt", "ge")


def kernels(rows, arity):
    """One dict per (row, dtype) with what a template needs to write its loop.

    ``arity``: the table's number of inputs (BINARY 2, UNARY 1); ``args`` or ``inputs`` of a
    row override it (``where`` takes three).
    """
    out = []
    default = arity
    for row in rows:
        arity = len(row.get("inputs") or row.get("args") or ()) or default
        names = row.get("args") or ("a", "b", "c")[:arity]
        for dt in row["dtypes"]:
            kind = "real" if dt in REAL else "integral"
            expr = row.get("expr")
            if isinstance(expr, dict):
                expr = expr.get(dt, expr.get(kind))
            ins = [dt if x is None else x for x in (row.get("inputs") or (None,) * arity)]
            odt = row.get("out") or dt
            once = (tuple(range(1, arity + 1))
                    if expr is not None and row["name"] in ONCE_VARIANTS else ())
            fn = f"{row['name']}_{dt}"
            out.append({
                "name": row["name"], "dt": dt, "kind": kind, "fn": fn,
                "T": CTYPES[dt], "O": CTYPES[odt], "out": odt,
                "args": [(name, x, CTYPES[x]) for name, x in zip(names, ins)],
                "pointers": [(j, name, CTYPES[x])
                             for j, (name, x) in enumerate(zip(names, ins), start=1)],
                "signature": (odt, *ins), "expr": expr,
                "snippet": None if expr is not None else row["snippet"],
                "params": row.get("params", ()), "consts": row.get("consts", ()),
                # (function name, input read once or None) of each loop the row gets
                "once": once, "forms": [(fn, None)] + [(f"{fn}_once{j}", j) for j in once],
            })
    return out
