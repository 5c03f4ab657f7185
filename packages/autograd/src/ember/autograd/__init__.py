"""``ember.autograd``: ``backward``, ``grad``, ``Function``, grad modes and the graph nodes.

The graph machinery every op uses (``record``, the nodes, the engine) lives below this
package in ``ember._core``, so importing it never runs this ``__init__`` and the tools here
(``functional``, ``gradcheck``) may use the ops.
"""
# ember.autograd.engine/.node/.views: the graph machinery's modules, under their old names
from .._core import engine, node, views  # noqa: F401
from . import anomaly_mode, grad_mode
from .._core.entry import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)
from .._core._graph import Node
from .variable import Variable

# Tools built on grad(): numerical checks, the functional API, the DAG drawing, anomaly mode.
from . import functional, graph
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .gradcheck import gradcheck, gradgradcheck

__all__ = [
    "backward", "grad", "Function", "FunctionCtx", "once_differentiable", "Variable",
    "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "Node",
    "functional", "graph", "gradcheck", "gradgradcheck", "detect_anomaly",
    "set_detect_anomaly", "is_anomaly_enabled",
]
