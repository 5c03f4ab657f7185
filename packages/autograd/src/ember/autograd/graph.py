"""Draw the autograd graph behind a tensor, as the tutorial's figure does.

``to_dot(t)`` gives Graphviz DOT text: backward nodes as grey boxes named as torch names them
(``MulBackward0``), leaf tensors in light blue with their names and shapes, the output in
green. ``render(t, path)`` runs Graphviz's ``dot`` to make an SVG or PNG.

The walk is iterative, so graphs of any depth are drawn without recursion.
"""
import shutil
import subprocess

__all__ = ["to_dot", "render", "GraphvizNotFoundError"]


class GraphvizNotFoundError(RuntimeError):
    """Raised by ``render`` when Graphviz's ``dot`` program is not installed."""


def _shape(t):
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def _quote(text):
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def to_dot(root, params=None, name="output"):
    """DOT text of the backward graph of ``root`` (a tensor, or a list/tuple of tensors).

    ``params`` maps names to tensors (e.g. ``dict(model.named_parameters())`` or
    ``{"a": a, "b": b}``) to label the leaves; unnamed leaves show their shape only.
    """
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    names = {id(t): n for n, t in (params or {}).items()}
    lines = [
        "digraph autograd {",
        '  graph [rankdir=BT, fontname="Helvetica"];',
        '  node [shape=box, style="filled", fillcolor=lightgrey, fontname="Helvetica", '
        'fontsize=12, height=0.3];',
    ]
    seen = {}

    def node_id(obj):
        key = id(obj)
        if key not in seen:
            seen[key] = f"n{len(seen)}"
        return seen[key]

    stack = []
    for i, t in enumerate(roots):
        out_name = name if len(roots) == 1 else f"{name}[{i}]"
        tid = node_id(t)
        lines.append(f"  {tid} [label={_quote(out_name + chr(10) + _shape(t))}, "
                     "fillcolor=darkolivegreen1];")
        fn = t.grad_fn
        if fn is not None:
            lines.append(f"  {node_id(fn)} -> {tid};")
            stack.append(fn)
        elif t.requires_grad:
            label = names.get(id(t), "") + "\n" + _shape(t) if id(t) in names else _shape(t)
            lines[-1] = (f"  {tid} [label={_quote(label.strip())}, fillcolor=lightblue];")
    drawn = set()
    while stack:
        fn = stack.pop()
        if id(fn) in drawn:
            continue
        drawn.add(id(fn))
        fid = node_id(fn)
        variable = getattr(fn, "variable", None)
        if variable is not None:  # AccumulateGrad: draw the leaf tensor itself
            label = _shape(variable)
            if id(variable) in names:
                label = f"{names[id(variable)]}\n{label}"
            lines.append(f"  {fid} [label={_quote(label)}, fillcolor=lightblue];")
        else:
            lines.append(f"  {fid} [label={_quote(fn.name())}];")
        for nxt, _ in getattr(fn, "next_functions", ()):
            if nxt is None:
                continue
            lines.append(f"  {node_id(nxt)} -> {fid};")
            stack.append(nxt)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(root, path, format=None, params=None):
    """Write the graph of ``root`` to ``path`` as SVG or PNG (from the suffix, or ``format``).

    Needs Graphviz's ``dot`` on PATH (Debian: ``apt-get install graphviz``); without it,
    raises GraphvizNotFoundError. Returns ``path``.
    """
    path = str(path)
    fmt = format or path.rsplit(".", 1)[-1].lower()
    if fmt not in ("svg", "png", "pdf", "dot"):
        raise ValueError(f"render: unsupported format {fmt!r} (use svg, png, pdf or dot)")
    text = to_dot(root, params=params)
    if fmt == "dot":
        with open(path, "w") as f:
            f.write(text)
        return path
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError(
            "rendering the graph needs Graphviz's `dot` program, which is not on PATH; "
            "install Graphviz (Debian/Ubuntu: apt-get install graphviz) or write the DOT text "
            "with ember.autograd.graph.to_dot()"
        )
    proc = subprocess.run([dot, f"-T{fmt}", "-o", path], input=text.encode(),
                          capture_output=True)
    if proc.returncode:
        raise RuntimeError(f"dot failed: {proc.stderr.decode(errors='replace').strip()}")
    return path
