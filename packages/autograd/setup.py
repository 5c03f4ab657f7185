"""Build the compiled core of ember (``src/ember/_core/*.pyx``): Tensor's and the graph's
fields, ``record`` and the backward engine's loop.

Compiler directives live here, once, not in the sources. These are interpreter glue, not
kernels: no OpenMP, no ``-march`` copies, so one build runs on every CPU of its platform.
``EMBER_BOUNDSCHECK=1`` turns Cython's bounds and wraparound checks back on, as for
ember-tensor. Pure-Python reference versions of ``record`` and the engine stay in
``ember/_core`` (``EMBER_PURE_PYTHON_CORE=1`` selects them; see ``ember/_core``).
"""
import os
import pathlib
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = pathlib.Path(__file__).parent
SRC = HERE / "src"
# every .pyx of these packages is one extension module
FOLDERS = [SRC / "ember" / "_core"]


def _flag(name):
    return os.environ.get(name, "").strip() not in ("", "0", "false", "False")


def _extensions():
    exts = [Extension(".".join(pyx.relative_to(SRC).with_suffix("").parts),
                      [str(pyx.relative_to(HERE))], extra_compile_args=["-O2"])
            for folder in FOLDERS for pyx in sorted(folder.glob("*.pyx"))]
    checks = _flag("EMBER_BOUNDSCHECK")
    directives = {
        "language_level": "3",
        "boundscheck": checks,
        "wraparound": checks,
        "initializedcheck": checks,
        "auto_pickle": False,  # Tensor and Node pickle through their Python classes
        "embedsignature": True,
    }
    import Cython

    tag = (f"py{sys.version_info[0]}{sys.version_info[1]}-cy{Cython.__version__}"
           f"{'-checked' if checks else ''}")
    return cythonize(exts, compiler_directives=directives, include_path=[str(HERE / "src")],
                     build_dir=str(pathlib.Path("build") / f"cython-{tag}")), tag


EXTENSIONS, TAG = _extensions()
setup(ext_modules=EXTENSIONS,
      options={"build": {"build_base": str(pathlib.Path("build") / TAG)}})
