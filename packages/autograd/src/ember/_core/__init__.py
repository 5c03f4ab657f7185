"""Ember's compiled core, and the one switch that selects its readable Python reference.

Compiled (Cython, ``*.pyx`` beside this file): the fields and hot getters of every Tensor
(``tensor_base``), of every backward node and saved tensor (``graph_base``), ``record`` (the
call every differentiable op makes, ``record.pyx``) and the backward engine's loop
(``engine.pyx``). These carry every speed shortcut.

``EMBER_PURE_PYTHON_CORE=1`` in the environment, read once at import, makes
``ember.autograd.node.record`` and the engine run their pure-Python reference versions
instead (``ember/autograd/node.py`` and ``ember/autograd/engine.py``): written to be read,
with no shortcut, and checked against the compiled ones by
``tests/autograd/test_core_reference.py``. Tensor's and Node's fields stay compiled under
either setting: they hold data, not logic.
"""
import os

PURE_PYTHON_CORE = os.environ.get("EMBER_PURE_PYTHON_CORE", "").strip() not in ("", "0")
