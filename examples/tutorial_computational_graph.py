"""The computational graph: a DAG of backward nodes, drawn as in the tutorial's figure.

Writes the graph of Q = 3a^3 - b^2 as Graphviz DOT text and, when Graphviz's ``dot`` is
installed, as an SVG (leaves in blue, the output in green). Pass a folder to write into
(default: the current one).
"""
import pathlib
import sys

import ember as torch
from ember.autograd.graph import GraphvizNotFoundError, render, to_dot

out_dir = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2

# walk the DAG from the root: every node lists the nodes it passes gradients to
stack, seen = [(Q.grad_fn, 0)], set()
while stack:
    fn, depth = stack.pop()
    print("  " * depth + type(fn).__name__)
    if id(fn) in seen:
        continue
    seen.add(id(fn))
    stack.extend((nxt, depth + 1) for nxt, _ in reversed(fn.next_functions) if nxt is not None)

(out_dir / "autograd_graph.dot").write_text(to_dot(Q, params={"a": a, "b": b}, name="Q"))
print(f"wrote {out_dir / 'autograd_graph.dot'}")
try:
    render(Q, out_dir / "autograd_graph.svg", params={"a": a, "b": b})
    print(f"wrote {out_dir / 'autograd_graph.svg'}")
except GraphvizNotFoundError as err:
    print(f"no SVG: {err}")

# the graph is rebuilt on every forward, so Python control flow just works
Q.sum().backward()
print(a.grad, b.grad)
