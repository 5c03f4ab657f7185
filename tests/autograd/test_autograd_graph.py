"""The tutorial's DAG picture: DOT text for any output, rendered when Graphviz is present."""
import shutil

import pytest

import ember
from ember.autograd import graph


def _tutorial_graph():
    a = ember.tensor([2., 3.], requires_grad=True)
    b = ember.tensor([6., 4.], requires_grad=True)
    return a, b, 3 * a ** 3 - b ** 2


def test_dot_text_has_ops_as_boxes_and_leaves_in_blue():
    a, b, q = _tutorial_graph()
    dot = graph.to_dot(q, params={"a": a, "b": b}, name="Q")
    assert dot.startswith("digraph autograd {")
    for op in ("SubBackward0", "MulBackward0", "PowBackward0"):
        assert f'label="{op}"' in dot
    assert 'label="a\\n(2)", fillcolor=lightblue' in dot
    assert 'label="b\\n(2)", fillcolor=lightblue' in dot
    assert 'label="Q\\n(2)", fillcolor=darkolivegreen1' in dot
    # each node drawn once, and every edge points at a drawn node
    labels = [line for line in dot.splitlines() if "[label=" in line]
    assert len(labels) == len({line.split()[0] for line in labels})


def test_dot_of_a_deep_chain_does_not_recurse():
    x = ember.tensor([1.], requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    assert graph.to_dot(y).count("MulBackward0") == 3000


def test_leaf_without_grad_is_not_drawn():
    a = ember.tensor([1., 2.], requires_grad=True)
    c = ember.tensor([3., 4.])
    dot = graph.to_dot(a * c)
    assert dot.count("lightblue") == 1


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_svg_and_png(tmp_path):
    a, b, q = _tutorial_graph()
    svg = graph.render(q, tmp_path / "q.svg", params={"a": a, "b": b})
    text = open(svg).read()
    assert "<svg" in text and "SubBackward0" in text
    png = graph.render(q, tmp_path / "q.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_render_without_graphviz_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    _, _, q = _tutorial_graph()
    with pytest.raises(graph.GraphvizNotFoundError, match="apt-get install graphviz"):
        graph.render(q, tmp_path / "q.svg")
