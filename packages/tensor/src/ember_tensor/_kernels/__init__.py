"""Picks, once per process, which compiled copy of the kernels this CPU runs.

A portable build (the default) holds every kernel module three times: for baseline x86-64
in this folder, and for the AVX2 and AVX-512 levels in ``_avx2/`` and ``_avx512/`` (see
``setup.py``). Before any kernel module is imported, this package puts the chosen level's
folder first on its ``__path__``, so ``from ember_tensor._kernels import binary`` loads that
copy under the usual name: the modules' own cimports of each other (``reduce`` from
``softmax``, say) then resolve within the same level.

``EMBER_CPU=baseline|avx2|avx512`` forces a level (the tests run each one this way); asking
for one this CPU cannot run is an error rather than a crash with SIGILL later.
"""
import importlib.machinery
import os

from . import cpu_features

LEVELS = ("baseline", "avx2", "avx512")
_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
_HERE = os.path.dirname(os.path.abspath(__file__))


def _modules_in(folder: str) -> set[str]:
    """Names of the extension modules compiled into ``folder``."""
    try:
        names = os.listdir(folder)
    except OSError:
        return set()
    return {name.split(".", 1)[0] for name in names if name.endswith(_SUFFIXES)}


def _complete(level: str) -> bool:
    """True when ``level``'s folder holds a copy of every baseline kernel module."""
    if level == "baseline":
        return True
    wanted = _modules_in(_HERE) - {"cpu_features"}
    return bool(wanted) and wanted <= _modules_in(os.path.join(_HERE, "_" + level))


def _choose_level(requested: str) -> str:
    if cpu_features.native_build():
        if requested:
            raise RuntimeError(
                f"EMBER_CPU={requested} needs ember-tensor's portable build; this one was built "
                "with EMBER_NATIVE=1 for its building CPU only. Unset EMBER_CPU, or reinstall "
                "without EMBER_NATIVE.")
        return "native"
    supported = cpu_features.supported_levels()
    if not requested:
        # The highest level this CPU runs whose copy was built (a build on another
        # architecture, or one interrupted half-way, may lack the upper ones).
        return next(level for level in reversed(supported) if _complete(level))
    if requested not in LEVELS:
        raise RuntimeError(
            f"EMBER_CPU must be one of {', '.join(LEVELS)} (or unset for the best this CPU "
            f"runs), got {requested!r}")
    if requested not in supported:
        raise RuntimeError(
            f"EMBER_CPU={requested} asks for kernels this CPU cannot execute (it runs "
            f"{', '.join(supported)}); running them would crash with an illegal instruction")
    if not _complete(requested):
        raise RuntimeError(
            f"EMBER_CPU={requested}: this build of ember-tensor has no {requested} kernels "
            "(built for another architecture?)")
    return requested


LEVEL = _choose_level(os.environ.get("EMBER_CPU", "").strip().lower())
if LEVEL not in ("baseline", "native"):
    __path__.insert(0, os.path.join(_HERE, "_" + LEVEL))  # noqa: F821 (the package's own)
