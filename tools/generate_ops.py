"""Write the Python side of every op the elementwise table declares whole (rows with ``grad``).

The kernel loops come from the same table through ``setup.py`` and the ``.pyx.tp`` templates;
this script writes, from the rows' op fields (``elementwise_ops.py`` explains them):

* ``ember_tensor/_generated_array_ops.py``: the functions on Arrays (normalise, promote, run
  the kernel) as members of ``GeneratedArrayMethods``, which ``Array`` inherits, so each
  function is its method too; with the in-place forms and aliases; and the arithmetic rows'
  forwards (``add``, ``sub``, ``mul``, ``div``, ``pow``): their common call on the kernel and
  operand check, then the ``general`` hook each row names in ``ember_tensor.arithmetic``.
* ``ember/_generated_tensor_ops.py``: the differentiable op (compute on the Array, then
  ``record``) as members of ``GeneratedTensorMethods``, which ``Tensor`` inherits; the in-place
  methods; the arithmetic rows' operators and ``ember`` forwards: the common call inlined,
  out=, the operand check, then the ``record`` hook in ``ember._ops.arithmetic``.
* ``ember/_ops/generated.py``: the backward nodes, named as torch's grad_fn, from the formulas
  (the whole ops' ``grad`` and the arithmetic rows' ``nodes``), and the ``ember.*`` functions
  with ``out=``. A formula is written once; where each of its steps is an arithmetic operator
  or a whole op's method, it is also written out as those steps' kernels on the Arrays, which
  a plain backward (grad mode off) runs instead of the Tensor ops ``create_graph`` needs.
* a ``.pyi`` stub beside each, with types.

The files are checked in (an editable install then needs no build step for them, and a diff
shows what a table edit changed); ``python tools/generate_ops.py --check`` fails when they are
stale (tests/autograd/test_generated_ops.py runs it). Both generated modules that classes
inherit from sit below their class in the import graph, so what they call from above (the
kernels' dispatch, ``record``, the nodes) is bound once, at import, by the module that owns it
(``unary_math`` and ``_ops/generated``) through their ``_bind``: no import cycle.

The writers live in ``tools/opgen/``, one concern a module: ``table`` (reading the rows),
``forms`` (the arithmetic rows' forms), ``array_ops`` (the ember_tensor layer), ``tensor_ops``
and ``nodes`` (the ember layer's methods, nodes and functions), ``surface`` (the namespace and
the attached members), ``stubs`` and ``text`` (stub text and line wrapping). This file is the
command line, and what the tests load (``outputs``).
"""
import argparse
import pathlib
import sys

# the writers' package beside this file (the tests load this file by path, not as a module)
_HERE = str(pathlib.Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from opgen.array_ops import ARRAY_OPS, array_module, array_stub  # noqa: E402
from opgen.forms import load_forms  # noqa: E402
from opgen.nodes import FUNCTIONS, functions_module, functions_stub  # noqa: E402
from opgen.surface import NAMESPACE, load_surface, namespace_module, namespace_stub  # noqa: E402
from opgen.table import ROOT, load_arithmetic_nodes, load_ops  # noqa: E402
from opgen.tensor_ops import TENSOR_OPS, tensor_module, tensor_stub  # noqa: E402


def table_outputs():
    """The modules written from the table alone (the packages import them: a table edit
    that the packages' hand-written side already relies on needs them first)."""
    ops, forms, arithmetic = load_ops(), load_forms(), load_arithmetic_nodes()
    return {ARRAY_OPS: array_module(ops, forms), TENSOR_OPS: tensor_module(ops, forms),
            FUNCTIONS: functions_module(ops, arithmetic)}


def outputs():
    ops = load_ops()
    forms = load_forms()
    arithmetic = load_arithmetic_nodes()
    surface = load_surface()
    return {
        **table_outputs(),
        ARRAY_OPS.with_suffix(".pyi"): array_stub(ops, forms, surface.array_methods),
        TENSOR_OPS.with_suffix(".pyi"): tensor_stub(ops, forms, surface.tensor_methods),
        FUNCTIONS.with_suffix(".pyi"): functions_stub(ops, arithmetic),
        NAMESPACE: namespace_module(surface), NAMESPACE.with_suffix(".pyi"):
            namespace_stub(surface),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="fail if a generated file differs from what the table gives")
    args = parser.parse_args(argv)
    stale = []
    if not args.check:  # before outputs() imports the packages
        for path, text in table_outputs().items():
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
                stale.append(path)
    for path, text in outputs().items():
        if path.exists() and path.read_text() == text:
            continue
        if path not in stale:
            stale.append(path)
        if not args.check:
            path.write_text(text)
    if args.check and stale:
        print("stale (run python tools/generate_ops.py):",
              *(str(p.relative_to(ROOT)) for p in stale), sep="\n  ")
        return 1
    for path in stale:
        print("wrote", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
