"""The op test table: one row per whole op of the elementwise table (rows with ``grad``).

Each row is checked from what it declares: its forward against its NumPy ``ref``, its
``grad`` formula against finite differences (gradcheck, float64), integer promotion, and
that every form it generates (function, alias, method, in-place, ``out=``, the Array method)
exists and agrees. The generated files must be what ``tools/generate_ops.py`` writes today,
and their stubs must name exactly the generated members. Live torch: test_torch_generated_ops.
"""
import ast
import importlib.util
import math
import pathlib

import numpy as np
import pytest

import ember
import ember_tensor
from ember import _generated_tensor_ops
from ember._ops import generated
from ember_tensor import _generated_array_ops
from ember_tensor._kernels import elementwise_ops as table

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROWS = {row["name"]: (row, 1) for row in table.UNARY if "grad" in row}
ROWS.update({row["name"]: (row, 2) for row in table.BINARY if "grad" in row})
NAMES = sorted(ROWS)


def _inputs(name, dtype="float64", requires_grad=False):
    row, arity = ROWS[name]
    lo, hi = row.get("domain", (-2.0, 2.0))
    rng = np.random.default_rng(sum(map(ord, name)))
    return [ember.tensor(rng.uniform(lo, hi, (3, 4)), dtype=getattr(ember, dtype),
                         requires_grad=requires_grad) for _ in range(arity)]


def _ref(name, xs):
    row, _ = ROWS[name]
    values = {"a": xs[0].detach().double().numpy()}
    if len(xs) == 2:
        values["b"] = xs[1].detach().double().numpy()
    return eval(row["ref"], {"np": np, "math": math}, values)


def test_the_table_declares_the_ops_this_file_checks():
    assert {"exp", "log10", "atan2", "sinc", "fmax"} <= set(NAMES)
    assert set(generated.FUNCTIONS) == {n for name in NAMES
                                        for n in (name, *ROWS[name][0].get("aliases", ()))}


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 1e-5)])
@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_reference(name, dtype, rtol):
    xs = _inputs(name, dtype)
    out = getattr(ember, name)(*xs)
    assert out.dtype is getattr(ember, dtype)
    np.testing.assert_allclose(out.double().numpy(), _ref(name, xs), rtol=rtol,
                               atol=rtol * 1e-2)


@pytest.mark.parametrize("name", NAMES)
def test_integer_inputs_promote_as_declared(name):
    row, _ = ROWS[name]
    xs = [x.round().long() for x in _inputs(name)]
    if row.get("promote") == "common" and "int64" not in row["dtypes"]:
        pytest.skip("no integer kernel: test_float_only_common_rows_refuse_integers_as_torch")
    out = getattr(ember, name)(*xs)
    if row.get("promote", "float") == "float":
        assert out.dtype is ember.get_default_dtype()
        expected = getattr(ember, name)(*(x.float() for x in xs))
        assert out.equal(expected)
    else:
        assert out.dtype is ember.int64
        np.testing.assert_array_equal(out.numpy(), _ref(name, xs))


@pytest.mark.parametrize("name", [name for name in NAMES if ROWS[name][0].get("promote") ==
                                  "common" and "int64" not in ROWS[name][0]["dtypes"]])
def test_float_only_common_rows_refuse_integers_as_torch(name):
    """hypot, logaddexp: torch promotes to the common dtype, then has no integer kernel."""
    xs = [x.round().long() for x in _inputs(name)]
    with pytest.raises(NotImplementedError, match=f'"{name}_cpu" not implemented for \'Long\''):
        getattr(ember, name)(*xs)
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        getattr(ember, name)(*(x > 0 for x in xs))
    mixed = getattr(ember, name)(xs[0].float(), xs[1])  # float with int: float32, as torch
    assert mixed.dtype is ember.float32


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    xs = _inputs(name, requires_grad=True)
    assert ember.autograd.gradcheck(getattr(ember, name), tuple(xs))


@pytest.mark.parametrize("name", NAMES)
def test_every_form_exists_and_agrees(name):
    row, arity = ROWS[name]
    xs = _inputs(name)
    expected = getattr(ember, name)(*xs)
    node = row.get("node") or name.capitalize() + "Backward0"
    leaves = [x.clone().requires_grad_() for x in xs]
    assert type(getattr(ember, name)(*leaves).grad_fn).__name__ == node
    for alias in (name, *row.get("aliases", ())):
        assert getattr(ember, alias)(*xs).equal(expected), alias
        assert getattr(xs[0], alias)(*xs[1:]).equal(expected), alias
        out = ember.empty(0, dtype=expected.dtype)
        assert getattr(ember, alias)(*xs, out=out) is out and out.equal(expected), alias
        arrays = [x._data for x in xs]
        got = getattr(arrays[0], alias)(*arrays[1:])
        assert ember.Tensor._make(got).equal(expected), alias
        if row.get("inplace", True):
            y = xs[0].clone()
            assert getattr(y, alias + "_")(*xs[1:]) is y and y.equal(expected), alias
            a = arrays[0].clone()
            getattr(a, alias + "_")(*arrays[1:])
            assert ember.Tensor._make(a).equal(expected), alias
    with pytest.raises(TypeError, match=rf"^{name}\(\): argument 'input' \(position 1\) must be "
                                        "Tensor, not list"):
        getattr(ember, name)([1.0], *xs[1:])


@pytest.mark.parametrize("name", NAMES)
def test_out_refuses_inputs_that_require_grad(name):
    xs = _inputs(name, requires_grad=True)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        getattr(ember, name)(*xs, out=ember.empty(0))


def _stub_members(path, cls=None):
    tree = ast.parse(path.read_text())
    body = tree.body
    if cls is not None:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == cls).body
    return {n.name for n in body if isinstance(n, ast.FunctionDef)}


def _public(cls):
    """The members a stub must declare: the public ones and the operators."""
    return {k for k, v in vars(cls).items()
            if (not k.startswith("_") or k.endswith("__")) and (callable(v) or
                                                                isinstance(v, property))}


def test_stubs_name_exactly_the_generated_members():
    tensor_stub = pathlib.Path(_generated_tensor_ops.__file__).with_suffix(".pyi")
    array_stub = pathlib.Path(_generated_array_ops.__file__).with_suffix(".pyi")
    functions_stub = pathlib.Path(generated.__file__).with_suffix(".pyi")
    methods = _public(_generated_tensor_ops.GeneratedTensorMethods)
    assert _stub_members(tensor_stub, "GeneratedTensorMethods") == methods
    assert methods <= set(dir(ember.Tensor))
    array_methods = _public(_generated_array_ops.GeneratedArrayMethods)
    assert _stub_members(array_stub, "GeneratedArrayMethods") == array_methods
    assert _stub_members(array_stub) == set(_generated_array_ops.__all__) | {"_bind"}
    assert array_methods <= set(dir(ember_tensor.Array))
    assert _stub_members(functions_stub) == set(generated.FUNCTIONS)


def test_generated_methods_are_class_members_not_attached():
    # inherited from the generated mixins: nothing sets them on the classes at import
    for name in NAMES:
        assert name not in vars(ember.Tensor) and name not in vars(ember_tensor.Array), name
        assert getattr(ember.Tensor, name) is getattr(
            _generated_tensor_ops.GeneratedTensorMethods, name)


def test_generated_files_are_fresh():
    spec = importlib.util.spec_from_file_location("generate_ops", ROOT / "tools" /
                                                  "generate_ops.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    stale = [str(p.relative_to(ROOT)) for p, text in generator.outputs().items()
             if not p.exists() or p.read_text() != text]
    assert not stale, f"run python tools/generate_ops.py: {stale}"


# ---- the arithmetic rows' backward nodes (``nodes``): one formula, two generated paths ------
# each node with forwards that record it; x, y: float64 leaves (y > 0.5, x with an exact 0)
NODE_CASES = {
    "AddBackward0": (lambda x, y: x + y, lambda x, y: x.add(y, alpha=2.5), lambda x, y: 3 + x),
    "SubBackward0": (lambda x, y: x - y, lambda x, y: ember.sub(x, y, alpha=-1.5)),
    "RsubBackward0": (lambda x, y: ember.rsub(x, y), lambda x, y: ember.rsub(y, x, alpha=2)),
    "RsubBackward1": (lambda x, y: 2 - x, lambda x, y: ember.rsub(x, 3, alpha=2)),
    "MulBackward0": (lambda x, y: x * y, lambda x, y: x * 3, lambda x, y: 0.5 * y),
    "DivBackward0": (lambda x, y: x / y, lambda x, y: y / 4),
    "DivBackward2": (lambda x, y: x.div(y, rounding_mode="floor"),
                     lambda x, y: ember.div(x, y, rounding_mode="trunc")),
    "PowBackward0": (lambda x, y: x ** 3, lambda x, y: x ** 2, lambda x, y: y ** 0,
                     lambda x, y: y ** -1.5),
    "PowBackward1": (lambda x, y: y ** x, lambda x, y: x.abs() ** y),
    "PowBackward2": (lambda x, y: 2 ** x, lambda x, y: 0.5 ** y),
}
NODE_FORWARDS = [(node, i) for node, fns in NODE_CASES.items() for i in range(len(fns))]


def _leaves():
    rng = np.random.default_rng(7)
    x = rng.uniform(-2.0, 2.0, (3, 4))
    x[0, 0] = 0.0
    return (ember.tensor(x, requires_grad=True),
            ember.tensor(rng.uniform(0.5, 2.0, (3, 4)), requires_grad=True))


def test_every_arithmetic_node_has_cases():
    declared = [name for row in table.BINARY for name in row.get("nodes", {})]
    assert sorted(declared) == sorted(NODE_CASES)


@pytest.mark.parametrize("node, case", NODE_FORWARDS)
def test_arithmetic_node_paths_agree_and_match_finite_differences(node, case):
    """A plain backward runs the formula as kernels on the Arrays, ``create_graph`` as Tensor
    ops: the same numbers to the bit, and finite differences agree with both."""
    fn = NODE_CASES[node][case]
    x, y = _leaves()
    out = fn(x, y)
    assert type(out.grad_fn).__name__ == node
    g = ember.ones_like(out) * 0.75
    plain = ember.autograd.grad(out, (x, y), g, allow_unused=True)
    graph = ember.autograd.grad(fn(x, y), (x, y), g, allow_unused=True, create_graph=True)
    for p, q in zip(plain, graph):
        assert (p is None) == (q is None)
        if p is not None:
            assert q.requires_grad or not p.requires_grad
            np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    if node == "DivBackward2":  # piecewise constant: finite differences jump at the steps
        return
    x0, y0 = (t.detach() for t in _leaves())
    if node == "PowBackward1" and case == 1:  # |x| ** y has no derivative at x = 0
        x0 = x0 + (x0 == 0) * 0.25
    assert ember.autograd.gradcheck(lambda a, b: fn(a, b), (x0.requires_grad_(),
                                                           y0.requires_grad_()))


@pytest.mark.parametrize("name", NAMES)
def test_plain_and_create_graph_backward_agree(name):
    """The whole ops' nodes too: a plain backward (kernels on the Arrays where the formula
    translates) gives the create_graph one's numbers to the bit."""
    xs = _inputs(name, requires_grad=True)
    fn = getattr(ember, name)
    g = ember.ones_like(fn(*xs)) * 0.75
    plain = ember.autograd.grad(fn(*xs), xs, g)
    graph = ember.autograd.grad(fn(*xs), xs, g, create_graph=True)
    for p, q in zip(plain, graph):
        np.testing.assert_array_equal(p.numpy(), q.detach().numpy())
