"""The ember layer's Tensor side: ``_generated_tensor_ops.py`` (the differentiable whole ops
as members of ``GeneratedTensorMethods``, the forms' in-place methods and operators with
their common call inlined, the arithmetic forwards) and its stub.
"""
from .forms import _OPERAND_CHECK, _at_defaults, _fast_call, _form_names, _keywords
from .stubs import _STUB_IMPORTS, _forms_stub, _forward_stub, attached_stub
from .table import HEADER, ROOT, _aliases, _doc, _mentions
from .text import _wrapped, _wrapped_assign, _wrapped_strings


TENSOR_OPS = ROOT / "packages/autograd/src/ember/_generated_tensor_ops.py"


def tensor_forwards(forms):
    """The ``ember`` forwards of the rows with a ``record`` hook: the common call inlined
    (``plain``), out= through ``out_forms``' rules, the operands checked (Arrays wrapped),
    two Numbers as a 0-d Tensor, else the hook, which picks the node and records."""
    lines = []
    for form in forms:
        if not form["record"]:
            continue
        fn, other = form["function"], form["other"]
        kws = "".join(f", {k}={v!r}" for k, v in form["keywords"])
        passed = "".join(f", {k}" for k, _ in form["keywords"])
        named = "".join(f", {k}={k}" for k, _ in form["keywords"])
        body = ["    tx = type(other)", *_plain_call(form, "    ")] if form["node"] else []
        body = [x.replace("self", "input").replace("other", other) for x in body]
        lines += ["", "", f"def {fn}(input, {other}, *{kws}, out=None):",
                  f'    """Differentiable {fn}, as torch\'s; the node is picked by '
                  f'``arithmetic.{form["record"]}``."""',
                  f"    if out is None{_at_defaults(form)} and isinstance(input, _Tensor):",
                  *("    " + x for x in body),
                  "    if out is not None:  # torch's out= rules (out_forms), then this without it",
                  f"        return _{fn}_out(input, {other}{named}, out=out)",
                  f'    input, {other} = _operands("{fn}", input, {other}, "{other}")',
                  f"    if isinstance(input, _Tensor) or isinstance({other}, _Tensor):",
                  f"        return {form['record']}(input, {other}{passed})",
                  "    # two Numbers: a 0-d Tensor, as torch's functions wrap them",
                  f"    return _Tensor._make(_E.{fn}(input, {other}{passed}))"]
    return lines


def _plain_call(form, indent):
    """The lines that run ``form``'s common call on the kernel and return its recorded
    result: an ``if`` on ``other``'s type, open for an ``elif``/fall-through after it."""
    inner = indent + "        "
    return [f"{indent}if tx is _Tensor:",
            f"{indent}    res = {_fast_call(form, 'self._data', 'other._data')}",
            f"{indent}    if res is not None:",
            *(inner + x for x in _plain_record(form["node"], False)),
            f"{indent}elif tx is float or tx is int:",
            f"{indent}    res = {_fast_call(form, 'self._data', 'other')}",
            f"{indent}    if res is not None:",
            *(inner + x for x in _plain_record(form["number_node"], True))]


def _plain_record(node, number):
    """The ``record`` call of a ``plain`` node: each saved input kept only when a formula
    that names it is for an input that requires grad; a Number ``other`` (``number``) rides
    on the node instead."""
    inputs = node["inputs"]
    save = []
    for name in node["saved"]:
        users = [i for i, g in enumerate(node["grads"]) if _mentions(g, name)]
        if number:
            users = [i for i in users if inputs[i] != "other"]
        if name == "result":  # the output, kept whole
            save.append("res")
        elif name in node["numbers"] and number or not users:
            save.append("None")
        elif len(users) == len(inputs):
            save.append(name)
        else:
            needs = " or ".join(f"{inputs[i]}._requires_grad" for i in users)
            save.append(f"{name} if {needs} else None")
    call = f"return record({node['name']}, res, ({', '.join(inputs)}{',' * (len(inputs) == 1)})"
    extra = "".join(f", {n}=other" for n in node["numbers"]) if number else ""
    if number and "other" not in inputs:  # the Number is the node's one attribute (exponent)
        (attr,) = node["attrs"]
        extra = f", {attr}=other"
    if not save:
        return [call + extra + ")"]
    items = ", ".join(save) + ("," if len(save) == 1 else "")
    one_line = f"{call}, save=({items}){extra})"
    if len(one_line) <= 100 - 16:  # the operator's indent
        return [one_line]
    return [f"{call}, save=(", *(f"    {x}," for x in save[:-1]), f"    {save[-1]}){extra})"]


def tensor_module(ops, forms):
    nodes = [op["node"] for op in ops]
    inplace = [op["name"] for op in ops if op["inplace"]]
    lines = [HEADER + "The differentiable ops of the whole-op rows, as members of the class "
             "Tensor inherits.\n\nEach computes on the Array with ``ember_tensor`` and "
             "``record``s its node; ``ember._ops.generated``\nbinds ``record``, the nodes and the "
             "in-place forms at import (they stand above ``Tensor``).\n\"\"\"",
             "from ember_tensor import elementwise as _E",
             "from ember_tensor._elementwise_core import _fast",
             *(f"from ember_tensor.arithmetic import {f['fast']}" for f in forms if f["fast"]),
             "",
             "# bound by ember._ops.generated at import",
             "record = None"]
    lines += _wrapped_assign(nodes + [f"_{n}_inplace" for n in inplace])
    plain = list(dict.fromkeys(n["name"] for f in forms for n in (f["node"], f["number_node"])
                               if n is not None))
    hooks = [f["record"] for f in forms if f["record"]]
    lines += ["# bound by ember._ops.arithmetic: its forwards, their in-place forms, operands,",
              "# the nodes of the operators' common calls, the forwards' hooks and out= forms",
              *_wrapped_assign([f"_{n}" for n in _form_names(forms)]
                               + [f"_{f['function']}_inplace" for f in forms]
                               + ["_Tensor", "_OPERANDS", "_operands"]
                               + plain + hooks
                               + [f"_{f['function']}_out" for f in forms if f["record"]])]
    lines += ["", "", "def _not_tensor(fn, x, name=\"input\", pos=1):",
              "    raise TypeError(f\"{fn}(): argument '{name}' (position {pos}) must be Tensor, "
              "not \"", "                    f\"{type(x).__name__}\")",
              "", "", "class GeneratedTensorMethods:",
              '    """The table\'s whole ops as Tensor methods (each is also the function), and '
              'the\n    arithmetic rows\' in-place methods and operators."""',
              "", "    __slots__ = ()"]
    lines += tensor_forms(forms)
    for op in ops:
        n = op["name"]
        ins = ("input",) if op["arity"] == 1 else ("input", "other")
        save = _save_tuple(op, ins)
        lines += ["", f"    def {n}({', '.join(ins)}):", f'        """{_doc(op)}"""',
                  "        if not isinstance(input, GeneratedTensorMethods):",
                  f'            _not_tensor("{n}", input)']
        if op["arity"] == 2:
            lines += ["        if not isinstance(other, GeneratedTensorMethods):",
                      f'            _not_tensor("{n}", other, "other", 2)',
                      f"        res = _E.{n}(input._data, other._data)"]
        else:
            lines.append(f"        res = _E.{n}(input._data)")
        lines.append(f"        return record({op['node']}, res, ({', '.join(ins)},){save})")
        if op["inplace"]:
            args = ", ".join(("self",) + ins[1:])
            lines += ["", f"    def {n}_({args}):", f'        """In-place {n}."""',
                      f"        return _{n}_inplace({args})"]
        lines += _aliases(op, "    ", True)
    lines += ["", ""]
    for op in ops:
        for name in (op["name"], *op["aliases"]):
            lines.append(f"{name} = GeneratedTensorMethods.{name}")
    lines += ["", "", "# ---- the arithmetic forwards (``ember._ops.arithmetic`` re-exports them)"]
    lines += tensor_forwards(forms)[2:]
    aliases = [f'"{a}": "{f["function"]}",' for f in forms for a in f["aliases"]]
    lines += ["", "", "# torch's other names of the forwards (the forms' aliases): name -> forward",
              "FORM_ALIASES = {", *_wrapped(aliases), "}"]
    lines += ["", "", "def _bind(record_fn, inplace, nodes):",
              '    """Called once by ``ember._ops.generated``: ``record``, the node classes, and '
              '``inplace(fn,\n    name)`` (the in-place form of an op)."""',
              "    names = globals()",
              '    names["record"] = record_fn',
              "    for node in nodes:",
              "        names[node.__name__] = node",
              "    for name in _INPLACE:",
              '        names[f"_{name}_inplace"] = inplace(names[name], name)', "", "",
              "_INPLACE = (", *_wrapped_strings(inplace), ")", "", "",
              "def _bind_arithmetic(tensor, operands, functions, inplace, nodes, hooks):",
              '    """Called once by ``ember._ops.arithmetic``: the Tensor class, the operand '
              'types its\n    operators take, the forwards by name, ``inplace`` as '
              '``_bind``\'s, the nodes, and the\n    forwards\' hooks and out= forms by '
              'name."""',
              "    names = globals()",
              "    unknown = set(hooks) - set(names)",
              "    assert not unknown, unknown",
              "    names.update(hooks)",
              '    names["_Tensor"], names["_OPERANDS"] = tensor, operands',
              "    for node in nodes:",
              "        names[node.__name__] = node",
              "    for name, fn in functions.items():",
              '        names[f"_{name}"] = fn',
              "    for name in _ARITHMETIC_INPLACE:",
              '        names[f"_{name}_inplace"] = inplace(functions[name], name)', "", "",
              "_ARITHMETIC_INPLACE = (", *_wrapped_strings([f["function"] for f in forms]), ")",
              ""]
    return "\n".join(lines)


def _reflected(form):
    """The declared reflected expression with its forwards' bound names (``_add``)."""
    import re

    return re.sub(r"(?<![.\w])([a-z_]+)\(", r"_\1(", form["reflected"])


def tensor_forms(forms):
    """The Tensor members of the arithmetic rows' forms: the in-place methods (torch's
    keyword-only arguments) and Python's operators."""
    lines = []
    check = _OPERAND_CHECK["tensor"]
    for form in forms:
        fn, op = form["function"], form["operator"]
        star = ", *" if form["keywords"] else ""
        lines += ["", f"    def {fn}_(self, other{star}{_keywords(form, True)}):",
                  f'        """In-place {fn}."""',
                  f"        return _{fn}_inplace(self, other{_keywords(form, False)})"]
        lines += [f"    {alias}_ = {fn}_" for alias in form["aliases"]]
        reflected = _reflected(form)
        if form["record"] and form["reflected"] == f"{fn}(other, self)":
            # number <op> tensor with checked operands and default keywords: the hook itself
            defaults = "".join(f", {v!r}" for _, v in form["keywords"])
            reflected = f"{form['record']}(other, self{defaults})"
        forms_here = ((f"__r{op}__", reflected),
                      (f"__i{op}__", f"_{fn}_inplace(self, other)"))
        if form["node"] is None:
            forms_here = ((f"__{op}__", f"_{fn}(self, other)"),) + forms_here
        else:  # the common call straight on the kernel; anything else through the forward
            # (or straight to its record hook: the operands are checked, keywords default)
            defaults = "".join(f", {v!r}" for _, v in form["keywords"])
            rest = (f"{form['record']}(self, other{defaults})" if form["record"]
                    else f"_{fn}(self, other)")
            lines += ["", f"    def __{op}__(self, other):", "        tx = type(other)",
                      *_plain_call(form, "        "),
                      "        elif not isinstance(other, _OPERANDS):",
                      "            return NotImplemented",
                      f"        return {rest}"]
        for dunder, call in forms_here:
            lines += ["", f"    def {dunder}(self, other):", "        tx = type(other)",
                      f"        if {check}:", f"            return {call}",
                      "        return NotImplemented"]
    return lines


def _save_tuple(op, ins):
    names = {"self": ins[0], "other": ins[-1], "result": "res"}
    saved = [names[s] for s in op["saved"]]
    return f", save=({', '.join(saved)},)" if saved else ""


def tensor_stub(ops, forms, attached):
    lines = ['"""Types of _generated_tensor_ops (GENERATED by tools/generate_ops.py)."""',
             *_STUB_IMPORTS, "from ember_tensor import Array", "", "from ._tensor import Tensor",
             "", "", "class GeneratedTensorMethods:"]
    for op in ops:
        for name in (op["name"], *op["aliases"]):
            other = ", other: Tensor" if op["arity"] == 2 else ""
            lines.append(f"    def {name}(self{other}) -> Tensor: ...")
            if op["inplace"]:
                lines.append(f"    def {name}_(self{other}) -> Tensor: ...")
    operand = "Union[Tensor, int, float, bool]"
    lines += ["    " + sig for sig in _forms_stub(forms, "Tensor", operand)]
    lines += ["    # attached at import from the ops modules' TENSOR_METHODS (ember._ops.install)",
              *attached_stub(attached, "Tensor"), "", ""]
    for op in ops:
        for name in (op["name"], *op["aliases"]):
            other = ", other: Tensor" if op["arity"] == 2 else ""
            lines.append(f"def {name}(input: Tensor{other}) -> Tensor: ...")
    lines += [_forward_stub(f, "Tensor", True) for f in forms if f["record"]]
    lines += ["FORM_ALIASES: dict[str, str]"]
    lines += ["", "", "def _bind(record_fn: Callable[..., Any], inplace: Callable[..., Any], "
              "nodes: Iterable[type]) -> None: ...",
              "def _bind_arithmetic(tensor: type, operands: tuple, functions: dict[str, Any], "
              "inplace: Callable[..., Any], nodes: Iterable[type], hooks: dict[str, Any]) -> "
              "None: ...", ""]
    return "\n".join(lines)
