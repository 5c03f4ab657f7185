"""Ember's core: the Tensor's and the graph's machinery, below ``ember.autograd`` and the ops.

Compiled (Cython): the fields and hot getters of every Tensor (``tensor_base.pyx``), of every
backward node and saved tensor (``graph_base.pyx``), ``record`` (the call every
differentiable op makes, ``_record_compiled.pyx``), the backward engine's loop
(``_engine_compiled.pyx``) and their reads of the thread's grad-mode flags
(``grad_flags.pyx``). These carry every speed shortcut. Beside them in Python: the node
classes (``_graph``), ``record``'s home (``node``), the engine (``engine``,
``_backward_steps``), its entry points ``backward`` and ``grad`` (``entry``) and the views'
gradient bookkeeping (``views``). Every op imports these, so none of them imports
``ember.autograd`` (whose tools are built on the ops) or the ops at import time;
``ember.autograd`` re-exports what is public.

``EMBER_PURE_PYTHON_CORE=1`` in the environment, read once at import, makes
``ember._core.node.record`` and the engine run their pure-Python reference versions
instead (``node.py`` and ``engine.py`` here): written to be read,
with no shortcut, and checked against the compiled ones by
``tests/autograd/test_core_reference.py``. Tensor's and Node's fields stay compiled under
either setting: they hold data, not logic.
"""
import os

PURE_PYTHON_CORE = os.environ.get("EMBER_PURE_PYTHON_CORE", "").strip() not in ("", "0")
