"""The arithmetic rows' ``forms`` (add, sub, mul, div, pow: their functions, keywords,
operators and hooks) and the code fragments both layers' writers make from them.
"""
from .table import TABLE, load_arithmetic_nodes


def load_forms():
    """The arithmetic rows' ``forms``, each with its function, keywords, aliases, operator and
    reflected expression, in table order."""
    table = {}
    exec(compile(TABLE.read_text(), str(TABLE), "exec"), table)
    forms = []
    for row in table["BINARY"]:
        if "forms" in row:
            spec = row["forms"]
            forms.append({"function": spec.get("function", row["name"]),
                          "keywords": tuple(spec.get("keywords", ())),
                          "aliases": tuple(spec.get("aliases", ())),
                          "operator": spec["operator"], "reflected": spec["reflected"],
                          "kernel": row["name"], "plain": spec.get("plain"),
                          "fast": spec.get("fast"), "general": spec.get("general"),
                          "record": spec.get("record"), "other": spec.get("other", "other")})
    nodes = {node["name"]: node for node in load_arithmetic_nodes()}
    for form in forms:
        plain = form["plain"]
        tensor, number = (plain, plain) if not isinstance(plain, tuple) else plain
        form["node"], form["number_node"] = nodes.get(tensor), nodes.get(number)
    return forms


def _form_names(forms):
    """The forwards the operator forms call (with ``rsub``, which a reflected form names)."""
    import re

    names = [f["function"] for f in forms]
    for form in forms:
        names += [n for n in re.findall(r"(?<![.\w])([a-z_]+)\(", form["reflected"])
                  if n not in names]
    return names


def _fast_call(form, a, b):
    """The common call's kernel run: the row's ``fast`` hook, else ``_fast`` on its kernel."""
    if form["fast"]:
        return f"{form['fast']}({a}, {b})"
    return f'_fast("{form["kernel"]}", {a}, {b})'


def _at_defaults(form):
    """The test that every keyword is at its default (``alpha`` 1, not True or 1.0)."""
    tests = []
    for k, v in form["keywords"]:
        tests.append(f"{k} is None" if v is None else f"type({k}) is {type(v).__name__} and "
                     f"{k} == {v!r}")
    return "".join(f" and {t}" for t in tests)


_OPERAND_CHECK = {"array": "isinstance(b, _OPERANDS)",
                  "tensor": "tx is _Tensor or tx is float or tx is int or isinstance(other, "
                            "_OPERANDS)"}


def _keywords(form, values):
    """``alpha=1`` (``values``: the defaults) or ``alpha=alpha`` (the names passed on)."""
    return "".join(f", {k}={v if values else k}" for k, v in form["keywords"])


def _inplace_names(forms):
    return [n + "_" for f in forms for n in (f["function"], *f["aliases"])]
