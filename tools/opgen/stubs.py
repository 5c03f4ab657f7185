"""Stub (``.pyi``) text shared by the writers: the common imports, the forms' methods and
forwards, and the members attached at import, read from their signatures.
"""

_STUB_IMPORTS = ("# ruff: noqa: E501,F401 - generated: one signature a line, one import header",
                 "import builtins", "from typing import Any, Callable, Iterable, Optional, "
                 "Sequence, Union", "")


def _forms_stub(forms, cls, operand, self_type=None):
    """Stub lines of the forms' in-place methods and operators (``operand``: what the
    operators take; ``self_type``: the in-place methods' first parameter, or a method)."""
    first = self_type or "self"
    lines = []
    for form in forms:
        fn, op = form["function"], form["operator"]
        star = ", *" if form["keywords"] and cls == "Tensor" else ""
        kws = "".join(f", {k}: Any = ..." for k, _ in form["keywords"])
        for name in (fn, *form["aliases"]):
            lines.append(f"def {name}_({first}, other: {operand}{star}{kws}) -> {cls}: ...")
        if self_type is None:
            lines += [f"def __{p}{op}__(self, other: Any) -> {cls}: ..." for p in ("", "r", "i")]
    return lines


def _forward_stub(form, cls, tensor):
    """A generated forward's stub line (``tensor``: ember's keyword-only form)."""
    fn = form["function"]
    kws = "".join(f", {k}: Any = ..." for k, _ in form["keywords"])
    if tensor:
        return (f"def {fn}(input: Any, {form['other']}: Any, *{kws}, out: Optional[{cls}] = "
                f"None) -> {cls}: ...")
    return (f"def {fn}(a: Any, b: Any{kws}, out: Optional[{cls}] = None, *, "
            f"_inplace: bool = False) -> {cls}: ...")


# names whose annotation text a stub may keep; anything else becomes Any
_KNOWN = {"Tensor", "Array", "Optional", "Union", "Any", "None", "Sequence", "Callable",
          "Iterable", "Size", "int", "float", "bool", "str", "complex", "object", "tuple",
          "list", "dict", "slice"}
_BUILTINS = ("int", "float", "bool", "str", "complex", "object", "tuple", "list", "dict", "slice")
# operators that give a Tensor whatever their function says; == and != differ from object's
_TENSOR_DUNDERS = {f"__{n}__" for n in (
    "add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow rpow matmul "
    "rmatmul and rand or ror xor rxor lshift rlshift rshift rrshift neg pos abs invert lt le gt "
    "ge eq ne").split()}


def attached_stub(methods, self_type, indent="    "):
    """The stub lines of a class's attached members (``self_type``: the class's name)."""
    lines = []
    for name in sorted(methods):
        value = methods[name]
        if isinstance(value, property):
            lines += [f"{indent}@property", f"{indent}def {name}(self) -> Any: ..."]
            if value.fset is not None:
                lines += [f"{indent}@{name}.setter",
                          f"{indent}def {name}(self, value: Any) -> None: ..."]
            continue
        lines.append(indent + _stub_def(name, value, method=self_type, out=False))
    return lines


def _stub_def(name, fn, method, out):
    """``def name(...) -> ...: ...`` from ``fn``'s signature; ``method``: the class's name
    (whose instances the first parameter takes) or None for a function."""
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return f"def {name}(self, *args: Any, **kwargs: Any) -> Any: ..."
    parts, star_done, positional_only = [], False, False
    params = list(sig.parameters.values())
    if method and (not params or params[0].kind not in (params[0].POSITIONAL_ONLY,
                                                        params[0].POSITIONAL_OR_KEYWORD)):
        parts.append("self")  # e.g. ``def f(*tensors)``: the instance is the first of them
    for i, p in enumerate(params):
        if p.kind is p.POSITIONAL_ONLY:
            positional_only = True
        elif positional_only:
            parts.append("/")
            positional_only = False
        if p.kind is p.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if out and p.kind is p.VAR_KEYWORD:
            if not star_done:
                parts.append("*")
                star_done = True
            parts.append("out: Optional[Tensor] = None")
            out = False
        text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
        if p.kind is p.VAR_POSITIONAL:
            star_done = True
        if p.annotation is not p.empty and not (method and i == 0):  # self: the class
            text += ": " + _annotation(p.annotation, method)
        if p.default is not p.empty:
            text += (" = " if p.annotation is not p.empty else "=") + "..."
        parts.append(text)
    if positional_only:
        parts.append("/")
    if out and "out" not in sig.parameters:
        if not star_done:
            parts.append("*")
        parts.append("out: Optional[Tensor] = None")
    returns = _returns(name, sig, method)
    # == and != give a tensor (an array), as torch's: not object's bool
    ignore = ("  # type: ignore[override]" if name in ("__eq__", "__ne__") and returns != "Any"
              else "")
    return f"def {name}({', '.join(parts)}) -> {returns}: ...{ignore}"


def _returns(name, sig, method):
    if sig.return_annotation is not sig.empty:
        return _annotation(sig.return_annotation, method)
    if name in _TENSOR_DUNDERS or (name.endswith("_") and not name.startswith("_")):
        return method or "Tensor"  # operators and in-place forms give their class
    return "Any"


def _annotation(annotation, self_type):
    """An annotation as stub text, builtins spelled ``builtins.x`` (a class may have a
    method named ``float``); Any where it names what the stub does not know."""
    import inspect
    import re

    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    text = re.sub(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)", r"\1", text)  # drop module paths
    text = text.replace("NoneType", "None")
    known = _KNOWN - {"Tensor"} if self_type == "Array" else _KNOWN  # no Tensor below ember
    if not set(re.findall(r"[A-Za-z_]\w*", text)) <= known:
        return "Any"
    return re.sub(rf"\b({'|'.join(_BUILTINS)})\b", r"builtins.\1", text)
