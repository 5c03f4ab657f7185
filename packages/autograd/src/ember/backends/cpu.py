"""``ember.backends.cpu``, as ``torch.backends.cpu``."""
import ember_tensor as _et

# torch's names for the kernel levels (ATen's CPU capability), by ember_tensor's.
_TORCH_NAMES = {"baseline": "DEFAULT", "avx2": "AVX2", "avx512": "AVX512"}


def get_cpu_capability() -> str:
    """The instruction set the kernels run with: ``"DEFAULT"``, ``"AVX2"`` or ``"AVX512"``.

    Ember's portable build picks its kernel copy from the CPU at import (``EMBER_CPU`` forces
    a lower one, as ``ATEN_CPU_CAPABILITY`` does for torch). An ``EMBER_NATIVE=1`` build was
    compiled for its building CPU: it reports the best level that CPU runs.
    """
    level = _et.cpu_level()
    if level == "native":
        level = _et.supported_cpu_levels()[-1]
    return _TORCH_NAMES[level]
