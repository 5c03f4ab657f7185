"""``torch.autograd.anomaly_mode``: anomaly detection, defined in ``ember._anomaly_mode``.

It lives below ``ember.autograd`` because ``record`` and the backward engine
(``ember._core``), which every op imports, read its flag and call its checks.
"""
from .._anomaly_mode import (  # noqa: F401 - re-exported
    __all__, detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly,
)
