"""The arithmetic rows' declared ``forms`` (elementwise table): every in-place method, alias and
Python operator they declare is a generated member of Tensor's and Array's bases, refuses
foreign operands with NotImplemented, computes what the declaration says (reflected forms
included), and the forwards keep torch's argument rules. Live torch:
test_torch_arithmetic_forms."""
import numpy as np
import pytest

import ember
from ember import _generated_tensor_ops
from ember_tensor import Array, _generated_array_ops
from ember_tensor._kernels import elementwise_ops as table

FORMS = [row["forms"] | {"function": row["forms"].get("function", row["name"])}
         for row in table.BINARY if "forms" in row]
IDS = [f["function"] for f in FORMS]
X = np.array([1.5, -2.0, 3.25, 0.75])
Y = np.array([2.0, 0.5, -1.5, 4.0])
# what each operator computes, by Python's operator name, in NumPy
NUMPY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
         "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power}


def _members(form):
    op = form["operator"]
    names = [f"__{op}__", f"__r{op}__", f"__i{op}__", form["function"] + "_"]
    return names + [a + "_" for a in form.get("aliases", ())]


@pytest.mark.parametrize("form", FORMS, ids=IDS)
def test_forms_are_generated_members(form):
    for base in (_generated_tensor_ops.GeneratedTensorMethods,
                 _generated_array_ops.GeneratedArrayMethods):
        for name in _members(form):
            assert name in vars(base), (base.__name__, name)
            assert name not in vars(ember.Tensor) and name not in vars(Array)


@pytest.mark.parametrize("operand", ["x", None, [1.0], object()])
@pytest.mark.parametrize("form", FORMS, ids=IDS)
def test_operators_refuse_foreign_operands(form, operand):
    op = form["operator"]
    for x in (ember.tensor(X), ember.tensor(X)._data):
        for dunder in (f"__{op}__", f"__r{op}__", f"__i{op}__"):
            assert getattr(x, dunder)(operand) is NotImplemented, dunder


@pytest.mark.parametrize("form", FORMS, ids=IDS)
def test_operators_compute_their_declaration(form):
    op = form["operator"]
    want = NUMPY[op]
    t, u = ember.tensor(X), ember.tensor(Y)
    a, b = t._data, u._data
    np.testing.assert_allclose(getattr(t, f"__{op}__")(u).numpy(), want(X, Y), rtol=1e-6)
    np.testing.assert_allclose(getattr(a, f"__{op}__")(b).numpy(), want(X, Y), rtol=1e-6)
    for number in (3, 2.5):  # number <op> tensor
        reflected = getattr(t, f"__r{op}__")(number).numpy()
        np.testing.assert_allclose(reflected, want(number, X), rtol=1e-6)
        reflected = getattr(a, f"__r{op}__")(number).numpy()
        np.testing.assert_allclose(reflected, want(number, X), rtol=1e-6)
    for x in (ember.tensor(X), ember.tensor(X)._data):
        y = u if isinstance(x, ember.Tensor) else b
        same = getattr(x, f"__i{op}__")(y)
        assert same is x
        np.testing.assert_allclose(x.numpy(), want(X, Y), rtol=1e-6)


def test_inplace_methods_pass_their_keywords():
    t, u = ember.tensor(X), ember.tensor(Y)
    np.testing.assert_allclose(t.clone().add_(u, alpha=2).numpy(), X + 2 * Y, rtol=1e-6)
    np.testing.assert_allclose(t.clone().subtract_(u, alpha=3).numpy(), X - 3 * Y, rtol=1e-6)
    np.testing.assert_allclose(t.clone().div_(u, rounding_mode="floor").numpy(),
                               np.floor(X / Y))
    np.testing.assert_allclose(t.clone().true_divide_(u).numpy(), X / Y, rtol=1e-6)
    a, b = ember.tensor(X)._data, ember.tensor(Y)._data
    np.testing.assert_allclose(a.sub_(b, alpha=2).numpy(), X - 2 * Y, rtol=1e-6)
    with pytest.raises(TypeError, match=r"add_\(\) got an unexpected keyword"):
        t.add_(u, rounding_mode="floor")


def test_inplace_operator_records_and_bumps_the_version():
    leaf = ember.tensor(X, requires_grad=True)
    u = ember.tensor(Y, requires_grad=True)
    x = leaf * 1
    version = x._version
    x -= u
    assert type(x.grad_fn).__name__ == "SubBackward0" and x._version == version + 1
    x.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), np.ones(4))
    np.testing.assert_allclose(u.grad.numpy(), -np.ones(4))


def test_reflected_forms_record_torchs_nodes():
    t = ember.tensor(X, requires_grad=True)
    u = ember.tensor(Y, requires_grad=True)
    assert type((2 - t).grad_fn).__name__ == "RsubBackward1"
    assert type((2 / t).grad_fn).__name__ == "MulBackward0"  # 2 * t.reciprocal(), as torch
    assert type((2 ** t).grad_fn).__name__ == "PowBackward2"
    out = ember.rsub(t, u, alpha=2)  # u - 2 t
    assert type(out.grad_fn).__name__ == "RsubBackward0"
    out.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), -2 * np.ones(4))
    np.testing.assert_allclose(u.grad.numpy(), np.ones(4))


@pytest.mark.parametrize("call, dtype, value", [
    ("add(2, 3)", "int64", 5), ("add(2, 3.5)", "float32", 5.5), ("add(True, 3)", "int64", 4),
    ("add(2, 3, alpha=2)", "int64", 8), ("mul(2, 3)", "int64", 6),
    ("mul(True, False)", "bool", False), ("sub(2.0, 3)", "float32", -1.0),
    ("div(2, 4)", "float32", 0.5), ("floor_divide(5, 3)", "int64", 1),
])
def test_functions_of_two_numbers_give_a_tensor(call, dtype, value):
    out = eval(call, vars(ember))
    assert isinstance(out, ember.Tensor) and out.dim() == 0
    assert str(out.dtype) == f"ember.{dtype}" and out.item() == value


def test_number_input_with_alpha():
    t = ember.tensor(X)
    np.testing.assert_allclose(ember.add(2, t, alpha=3).numpy(), 2 + 3 * X, rtol=1e-6)
    np.testing.assert_allclose(ember.sub(2, t, alpha=3).numpy(), 2 - 3 * X, rtol=1e-6)


@pytest.mark.parametrize("call, error, message", [
    ("sub(t, 3, alpha=True)", RuntimeError, "Boolean alpha only supported for Boolean results."),
    ("add(t, t, alpha=True)", RuntimeError, "Boolean alpha only supported for Boolean results."),
    ("sub(2, 3, alpha=True)", RuntimeError, "Boolean alpha only supported for Boolean results."),
    ("sub(t, t, alpha='x')", TypeError, "sub(): argument 'alpha' must be Number, not str"),
    ("add(t, 2, alpha=None)", TypeError, "add(): argument 'alpha' must be Number, not NoneType"),
    ("add(t, 'x')", TypeError, "add(): argument 'other' (position 2) must be Tensor, not str"),
    ("add('x', t)", TypeError, "add(): argument 'input' (position 1) must be Tensor, not str"),
    ("div('x', t)", TypeError, "div(): argument 'input' (position 1) must be Tensor, not str"),
    ("mul(t, None)", TypeError,
     "mul(): argument 'other' (position 2) must be Tensor, not NoneType"),
    ("rsub(2, t)", TypeError,
     "rsub() received an invalid combination of arguments - got (int, Tensor)"),
])
def test_argument_rules(call, error, message):
    with pytest.raises(error) as info:
        eval(call, {**vars(ember), "t": ember.tensor(X)})
    assert str(info.value).startswith(message)


# ---- the generated forwards and pow's common call ---------------------------------------------
GENERATED = [f for f in FORMS if "general" in f]


@pytest.mark.parametrize("form", GENERATED, ids=[f["function"] for f in GENERATED])
def test_forwards_are_generated_with_their_declared_hooks(form):
    from ember._ops import arithmetic as tensor_hooks
    from ember_tensor import arithmetic as array_hooks

    fn = form["function"]
    assert getattr(ember, fn) is getattr(_generated_tensor_ops, fn)
    assert getattr(array_hooks, fn) is getattr(_generated_array_ops, fn)
    assert getattr(_generated_array_ops, form["general"]) is getattr(array_hooks, form["general"])
    assert getattr(_generated_tensor_ops, form["record"]) is getattr(tensor_hooks, form["record"])


# torch's kernels for these Python-number exponents, as the unary/binary kernels compute them
SPECIAL = {2: lambda x: x * x, 3: lambda x: (x * x) * x, -1: lambda x: x.reciprocal(),
           -2: lambda x: (x * x).reciprocal(), 0.5: lambda x: x.sqrt(),
           -0.5: lambda x: x.rsqrt(), 1: lambda x: x.clone()}


@pytest.mark.parametrize("exponent", list(SPECIAL) + [2.0, -1.0, 3.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pow_special_exponents_run_torchs_kernels(exponent, dtype):
    x = np.random.RandomState(0).uniform(0.1, 3.0, 257).astype(dtype)
    t = ember.tensor(x)
    want = SPECIAL[exponent](t).numpy()
    for got in (t ** exponent, ember.pow(t, exponent), t.pow(exponent),  # the common call
                ember.pow(t, np.float64(exponent)),  # a NumPy number: the general path
                ember.pow(t, exponent, out=ember.empty(257, dtype=t.dtype))):
        assert got.dtype == t.dtype
        assert (got.numpy() == want).all()
    from ember_tensor import elementwise as E

    for got in (Array(x) ** exponent, E.pow(Array(x), exponent)):  # the Array layer alike
        assert (got.numpy() == want).all()


def test_pow_gradient_of_a_negative_power_uses_the_same_kernels():
    x = np.random.RandomState(1).uniform(0.1, 3.0, 64).astype(np.float32)
    t = ember.tensor(x, requires_grad=True)
    (t ** -1).backward(ember.ones(64))
    want = -((ember.tensor(x) * ember.tensor(x)).reciprocal())  # -1 * x ** -2, x ** -2 = 1/(x*x)
    assert (t.grad.numpy() == want.numpy()).all()


def test_pow_common_call_records_torchs_nodes():
    a = ember.tensor([1.5, 2.0], requires_grad=True)
    b = ember.tensor([2.0, 0.5], requires_grad=True)
    assert type((a ** 2).grad_fn).__name__ == "PowBackward0"
    assert type((a ** b).grad_fn).__name__ == "PowBackward1"
    assert type((2 ** b).grad_fn).__name__ == "PowBackward2"
    (a ** b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0 * 1.5, 0.5 * 2.0 ** -0.5], rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [1.5 ** 2 * np.log(1.5), 2 ** 0.5 * np.log(2)],
                               rtol=1e-6)


@pytest.mark.parametrize("make", [ember.tensor, lambda v: Array(np.array(v))])
def test_integer_tensor_to_a_negative_int_power_is_refused(make):
    i = make([1, 2, 3])
    with pytest.raises(RuntimeError, match="^Integers to negative integer powers are not "
                                           "allowed.$"):
        i ** -1
    assert (i ** 2).numpy().tolist() == [1, 4, 9] and (i ** 2).numpy().dtype == np.int64
    assert (i ** 0.5).numpy().dtype == np.float32
