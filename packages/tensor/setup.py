"""Build the Cython kernels of ember_tensor.

Compiler directives live here, once, not in the sources. Environment switches:

* ``EMBER_BOUNDSCHECK=1`` turns Cython's bounds and wraparound checks back on (a debugging
  build; the ``boundscheck`` tox env uses it).
* ``EMBER_NO_OPENMP=1`` builds the kernels serially even where the compiler has OpenMP.
* ``EMBER_PORTABLE=1`` drops ``-march=native`` (for wheels meant for other machines).
"""
import os
import pathlib
import subprocess
import sys
import sysconfig
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = pathlib.Path(__file__).parent
KERNELS = HERE / "src" / "ember_tensor" / "_kernels"


def _flag(name):
    return os.environ.get(name, "").strip() not in ("", "0", "false", "False")


def _compiler_accepts(flags):
    """True when the C compiler builds and links a tiny OpenMP program with ``flags``."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    src = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "probe.c"
        path.write_text(src)
        cmd = cc.split() + [str(path), "-o", str(pathlib.Path(tmp) / "probe")] + flags
        try:
            return subprocess.run(cmd, capture_output=True).returncode == 0
        except OSError:
            return False


def _openmp_flags():
    if _flag("EMBER_NO_OPENMP"):
        return [], []
    if sys.platform == "darwin":
        candidates = [["-Xpreprocessor", "-fopenmp"]]
    else:
        candidates = [["-fopenmp"]]
    for flags in candidates:
        if _compiler_accepts(flags + ["-lomp"] if sys.platform == "darwin" else flags):
            return flags, (["-lomp"] if sys.platform == "darwin" else flags)
    print("ember-tensor: no OpenMP in this compiler; kernels build serially", file=sys.stderr)
    return [], []


def _extensions():
    compile_args, link_args = _openmp_flags()
    # -fno-math-errno lets sqrt and friends vectorise; Ember never reads errno
    compile_args = ["-O3", "-fno-math-errno"] + compile_args
    if not _flag("EMBER_PORTABLE") and sys.platform != "win32":
        compile_args.append("-march=native")
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
    exts = []
    for pyx in sorted(KERNELS.glob("*.pyx")):
        exts.append(
            Extension(
                f"ember_tensor._kernels.{pyx.stem}",
                [str(pyx.relative_to(HERE))],
                include_dirs=[numpy.get_include(), str(KERNELS)],
                extra_compile_args=compile_args,
                extra_link_args=link_args,
                define_macros=macros,
            )
        )
    checks = _flag("EMBER_BOUNDSCHECK")
    directives = {
        "language_level": "3",
        "boundscheck": checks,
        "wraparound": checks,
        "initializedcheck": checks,
        "cdivision": True,
        "embedsignature": True,
    }
    # Generated C depends on the Cython and NumPy of the building environment: keep one copy
    # per (Python, NumPy, Cython), or a tox env would reuse C written against another NumPy.
    import Cython

    tag = (f"py{sys.version_info[0]}{sys.version_info[1]}-np{numpy.__version__}"
           f"-cy{Cython.__version__}{'-checked' if checks else ''}")
    return cythonize(exts, compiler_directives=directives, include_path=[str(HERE / "src")],
                     build_dir=str(pathlib.Path("build") / f"cython-{tag}"), nthreads=2)


setup(ext_modules=_extensions())
