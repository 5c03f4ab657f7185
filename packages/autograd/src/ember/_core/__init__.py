"""Ember's compiled core, and the one switch that selects its readable Python reference.

Compiled (Cython): the fields and hot getters of every Tensor (``tensor_base.pyx`` here), of
every backward node and saved tensor (``graph_base.pyx`` here), ``record`` (the call every
differentiable op makes, ``ember/autograd/_record_compiled.pyx``) and the backward engine's
loop (``ember/autograd/_engine_compiled.pyx``; both live in ``ember.autograd``, whose modules
they import). These carry every speed shortcut.

``EMBER_PURE_PYTHON_CORE=1`` in the environment, read once at import, makes
``ember.autograd.node.record`` and the engine run their pure-Python reference versions
instead (``ember/autograd/node.py`` and ``ember/autograd/engine.py``): written to be read,
with no shortcut, and checked against the compiled ones by
``tests/autograd/test_core_reference.py``. Tensor's and Node's fields stay compiled under
either setting: they hold data, not logic.
"""
import os

PURE_PYTHON_CORE = os.environ.get("EMBER_PURE_PYTHON_CORE", "").strip() not in ("", "0")
