"""The ember_tensor layer: ``_generated_array_ops.py`` (the whole ops as Array functions and
members of ``GeneratedArrayMethods``, the forms' in-place methods and operators, the
arithmetic forwards) and its stub.
"""
from .forms import (_OPERAND_CHECK, _at_defaults, _fast_call, _form_names, _inplace_names,
                    _keywords)
from .stubs import _STUB_IMPORTS, _forms_stub, _forward_stub, attached_stub
from .table import HEADER, ROOT, _aliases, _all_names, _doc
from .text import _wrapped_assign, _wrapped_strings


ARRAY_OPS = ROOT / "packages/tensor/src/ember_tensor/_generated_array_ops.py"


def array_forwards(forms):
    """The ``ember_tensor`` forwards of the rows with a ``general`` hook: the common call on
    the kernel (``_fast`` or the row's ``fast``), the operand check, then the hook with the
    keywords, ``out`` and whether it writes in place."""
    lines = []
    for form in forms:
        if not form["general"]:
            continue
        fn = form["function"]
        passed = "".join(f", {k}" for k, _ in form["keywords"])
        lines += ["", "", f"def {fn}(a, b{_keywords(form, True)}, out=None, *, _inplace=False):",
                  f'    """{fn} with torch\'s promotion, checks and errors: the common call on '
                  f'its kernel,\n    the rest by ``arithmetic.{form["general"]}``."""',
                  f"    if out is None{_at_defaults(form)} and type(a) is Array:",
                  f"        res = {_fast_call(form, 'a', 'b')}",
                  "        if res is not None:", "            return res",
                  f'    _check_operand(b, "{fn}")',
                  f"    return {form['general']}(a, b{passed}, out, _inplace)"]
    return lines


def array_forms(forms):
    """The Array members of the arithmetic rows' forms: the in-place methods and Python's
    operators (forward, reflected with the operands swapped, in-place)."""
    lines = []
    check = _OPERAND_CHECK["array"]
    for form in forms:
        fn, op = form["function"], form["operator"]
        lines += ["", f"    def {fn}_(a, b{_keywords(form, True)}):",
                  f'        """In-place {fn}."""',
                  f"        return _{fn}(a, b{_keywords(form, False)}, out=a, _inplace=True)"]
        lines += [f"    {alias}_ = {fn}_" for alias in form["aliases"]]
        for dunder, call in ((f"__{op}__", f"_{fn}(a, b)"), (f"__r{op}__", f"_{fn}(b, a)")):
            lines += ["", f"    def {dunder}(a, b):", f"        if {check}:",
                      f"            return {call}", "        return NotImplemented"]
        lines += ["", f"    def __i{op}__(a, b):", f"        if {check}:",
                  f"            _{fn}(a, b, out=a, _inplace=True)", "            return a",
                  "        return NotImplemented"]
    return lines


def array_module(ops, forms):
    lines = [HEADER + "The Array functions of the whole-op rows, as members of the class Array "
             "inherits.\n\nWhat they call lives above ``Array`` and is bound by "
             "``unary_math._bind`` at import.\n\"\"\"",
             "import numpy as np", "",
             "# bound by ember_tensor.unary_math at import (they need Array, which needs this)",
             "Array = _FAST_UNARY = _launch = _wrap = _unary = _binary = _assign_inplace = None",
             "_check_operand = _float_dtype = _float_pair_dtype = _common_dtype = None",
             "# the arithmetic forwards and what their operators take, the common call's kernel",
             "# run and the forwards' hooks, bound by arithmetic",
             *_wrapped_assign([f"_{n}" for n in _form_names(forms)] + ["_OPERANDS", "_fast"]
                              + [f[k] for f in forms for k in ("fast", "general") if f[k]]),
             "", "", "class GeneratedArrayMethods:",
             '    """The table\'s whole ops as Array methods (each is also the function), and '
             'the\n    arithmetic rows\' in-place methods and operators."""',
             "", "    __slots__ = ()"]
    lines += array_forms(forms)
    for op in ops:
        n = op["name"]
        lines.append("")
        if op["arity"] == 1:
            lines += [
                f"    def {n}(a, out=None):",
                f'        """{_doc(op)}"""',
                "        if out is None and type(a) is Array:",
                f'            entry = _FAST_UNARY.get(("{n}", a._np.dtype))  # float inputs only',
                "            if entry is not None:",
                "                res = np.empty(a._np.shape, entry[1][0])",
                "                _launch(entry, res, (a._np,))",
                "                return _wrap(res)",
                "        if not isinstance(a, Array):",
                f"            raise TypeError(f\"{n}(): argument 'input' must be Tensor, \"",
                "                            f\"not {type(a).__name__}\")",
                f'        return _unary("{n}", a, _float_dtype(a), out=out)',
            ]
            if op["inplace"]:
                lines += ["", f"    def {n}_(a):", f'        """In-place {n}."""',
                          f"        return _assign_inplace(a, {n}(a))"]
        else:
            dtype = "_float_pair_dtype" if op["promote"] == "float" else "_common_dtype"
            lines += [
                f"    def {n}(a, b, out=None):",
                f'        """{_doc(op)}"""',
                f'        _check_operand(b, "{n}")',
                f"        compute = {dtype}(a, b)",
                f'        return _binary("{n}", a, b, compute, compute, out)',
            ]
            if op["inplace"]:
                lines += ["", f"    def {n}_(a, b):", f'        """In-place {n}."""',
                          f"        return _assign_inplace(a, {n}(a, b))"]
        lines += _aliases(op, "    ", True)
    lines += ["", ""]
    for op in ops:
        for name in (op["name"], *op["aliases"]):
            lines.append(f"{name} = GeneratedArrayMethods.{name}")
        if op["inplace"]:
            for name in (op["name"], *op["aliases"]):
                lines.append(f"{name}_ = GeneratedArrayMethods.{name}_")
    inplace_forms = _inplace_names(forms)
    lines += [f"{name} = GeneratedArrayMethods.{name}" for name in inplace_forms]
    lines += ["", "", "# ---- the arithmetic forwards (``ember_tensor.arithmetic`` re-exports "
              "them)"]
    lines += array_forwards(forms)[2:]
    forwards = [f["function"] for f in forms if f["general"]]
    lines += ["", "__all__ = [", *_wrapped_strings(_all_names(ops, True) + inplace_forms
                                                   + forwards), "]",
              "", "",
              "def _bind(**names):",
              '    """Called once by ``unary_math`` with what the functions above dispatch to."""',
              "    unknown = set(names) - set(globals())",
              "    assert not unknown, unknown",
              "    globals().update(names)", ""]
    return "\n".join(lines)


def array_stub(ops, forms, attached):
    lines = ['"""Types of _generated_array_ops (GENERATED by tools/generate_ops.py)."""',
             *_STUB_IMPORTS, "from ._array import Array", "",
             "_Number = Union[int, float, bool]", "", "",
             "class GeneratedArrayMethods:"]
    lines += ["    " + sig for sig in _array_signatures(ops, "self")]
    lines += ["    " + sig for sig in _forms_stub(forms, "Array", "Union[Array, _Number]")]
    lines += ["    # attached at import from the ops modules' ARRAY_METHODS (_array_methods)",
              *attached_stub(attached, "Array")]
    lines += ["", "", *_array_signatures(ops, "a: Array"),
              *(_forward_stub(f, "Array", False) for f in forms if f["general"]),
              *_forms_stub(forms, "Array", "Union[Array, _Number]", "a: Array"), "",
              "def _bind(**names: Any) -> None: ...", ""]
    return "\n".join(lines)


def _array_signatures(ops, first):
    """The stub lines of every function (and in-place form) with ``first`` as its array."""
    out = []
    for op in ops:
        other = ", b: Union[Array, _Number]" if op["arity"] == 2 else ""
        for name in (op["name"], *op["aliases"]):
            out.append(f"def {name}({first}{other}, out: Optional[Array] = None) -> Array: ...")
            if op["inplace"]:
                out.append(f"def {name}_({first}{other}) -> Array: ...")
    return out
