"""``torch.linalg``: decompositions, solvers and norms (``import ember as torch`` then
``torch.linalg.svd(A)``). The ops live in ``ember._ops.linalg_extra``."""
from ember_tensor.linalg_decomp import LinAlgError  # noqa: F401 - torch.linalg.LinAlgError

from ._ops.linalg_extra import LINALG

globals().update(LINALG)
__all__ = ["LinAlgError", *LINALG]
