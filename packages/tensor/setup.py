"""Build the Cython kernels of ember_tensor.

Compiler directives live here, once, not in the sources. Environment switches:

* ``EMBER_BOUNDSCHECK=1`` turns Cython's bounds and wraparound checks back on (a debugging
  build; the ``boundscheck`` tox env uses it).
* ``EMBER_NO_OPENMP=1`` builds the kernels serially even where the compiler has OpenMP.
* ``EMBER_LIBGOMP=1`` links the kernels to the compiler's OpenMP runtime (libgomp) instead of
  Ember's own pool (``src/ember_tensor/_omp_pool.c``; below).
* ``EMBER_NATIVE=1`` builds one copy of the kernels with ``-march=native``: fastest on the
  building CPU, and dies with SIGILL on an older one. Never for wheels.

By default the build is portable and fast at once. On x86-64 every kernel extension is
compiled three times from the same generated C: for the baseline x86-64 ISA (runs on any
CPU NumPy runs on), for x86-64-v3 (AVX2, FMA) into ``_kernels/_avx2/`` and for x86-64-v4
(AVX-512) into ``_kernels/_avx512/``. ``_kernels/__init__.py`` asks the CPU once at import
(``cpu_features.pyx``) and loads the highest copy it can run; ``EMBER_CPU`` forces a lower one.

With gcc on Linux the kernels are compiled with ``-fopenmp`` but linked against Ember's own
thread pool, ``ember_tensor/_omp_pool*.so``, which implements the GNU OpenMP entry points
they call (its symbols carry their own version node, so they never mix with a libgomp that
torch loads). Every copy of every kernel finds it by its run path, so all share one pool.
"""
import os
import pathlib
import platform
import re
import subprocess
import sys
import sysconfig
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = pathlib.Path(__file__).parent
KERNELS = HERE / "src" / "ember_tensor" / "_kernels"

# Kernel copies beyond the baseline, by the folder they load from and the gcc/clang target.
# The micro-architecture levels, not single features, so that one name says what a copy needs
# and cpu_features.h can ask the CPU for exactly that.
LEVELS = {"avx2": ["-march=x86-64-v3"], "avx512": ["-march=x86-64-v4"]}
# Decides which copy the others are: it must stay baseline-only.
SELECTOR = "cpu_features"
# Extra switches of one module's copy at one level. binary's loops stream memory (add, mul of
# 1e6 floats): in 256-bit vectors its AVX-512 copy ran them 5-7% faster on Zen 4 (1e6 float32
# add, 1 thread 172 -> 161 us, 2 threads 69.4 -> 65.9; mul alike), and gave the same bits for
# every kernel (4200 launches compared, specials included). unary is not here: sigmoid's
# last elements of a run, which the vector width decides, changed in their last bits.
LEVEL_MODULE_FLAGS = {("avx512", "binary"): ["-mprefer-vector-width=256"]}


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


POOL = "ember_tensor._omp_pool"
POOL_SOURCES = [HERE / "src" / "ember_tensor" / "_omp_pool.c"]
POOL_MAP = HERE / "src" / "ember_tensor" / "_omp_pool.map"


def _compiler_is_gcc():
    """True when the C compiler is gcc (whose -fopenmp code calls the GOMP_* entry points
    Ember's pool implements; clang's calls LLVM's __kmpc_*)."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    src = "#if !defined(__GNUC__) || defined(__clang__)\n#error not gcc\n#endif\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "probe.c"
        path.write_text(src)
        cmd = cc.split() + ["-c", str(path), "-o", str(pathlib.Path(tmp) / "probe.o")]
        try:
            return subprocess.run(cmd, capture_output=True).returncode == 0
        except OSError:
            return False


def _own_pool(openmp_compile_args):
    """True when the kernels link to Ember's pool rather than to libgomp."""
    return (bool(openmp_compile_args) and sys.platform.startswith("linux")
            and not _flag("EMBER_LIBGOMP") and _compiler_is_gcc())


def _pool_extension():
    # built as an extension module for setuptools' sake; Python never imports it
    return Extension(
        POOL, [str(path.relative_to(HERE)) for path in POOL_SOURCES],
        depends=[str(POOL_MAP.relative_to(HERE))],
        extra_compile_args=["-O2", "-pthread"],
        extra_link_args=["-pthread", f"-Wl,--version-script={POOL_MAP}"],
    )


class BuildExt(build_ext):
    """Builds Ember's pool first, then links every kernel against it (by its path now, by
    a run path relative to the kernel at run time)."""

    def build_extensions(self):
        pool = [ext for ext in self.extensions if ext.name == POOL]
        if not pool:
            return super().build_extensions()
        path = pathlib.Path(self.get_ext_fullpath(POOL)).resolve()
        pool[0].extra_link_args = pool[0].extra_link_args + [f"-Wl,-soname,{path.name}"]
        self.build_extension(pool[0])
        everything = self.extensions
        self.extensions = [ext for ext in everything if ext.name != POOL]
        for ext in self.extensions:
            # ember_tensor._kernels.x sits one folder below the pool, _kernels._avx2.x two
            up = "/".join([".."] * (ext.name.count(".") - 1))
            origin = "$ORIGIN" + ("/" + up if up else "")
            ext.extra_link_args = ext.extra_link_args + [str(path), f"-Wl,-rpath,{origin}"]
        try:
            super().build_extensions()
        finally:
            self.extensions = everything


def _targets_x86_64():
    """True when the extensions are built for x86-64 (the only ISA with per-level copies)."""
    host = sysconfig.get_platform()
    return host.endswith("x86_64") or (host.startswith("win") and platform.machine() == "AMD64")


def _level_variants(base_exts, build_dir):
    """One extension per (level, kernel module), compiled from the C that Cython wrote once.

    Each copy compiles a small C file of its own that includes the generated one, so that the
    copies' object files never share a path (setuptools names objects after their sources).
    """
    variants = []
    for level, flags in LEVELS.items():
        # `build_ext --inplace` (editable installs) copies into the source tree's folder and
        # expects it to exist; the folders hold only compiled files, so git has none of them.
        (KERNELS / f"_{level}").mkdir(exist_ok=True)
        for ext in base_exts:
            if ext.name.endswith("." + SELECTOR):
                continue
            generated = pathlib.Path(ext.sources[0]).resolve()
            shim = pathlib.Path(build_dir) / f"level-{level}" / generated.name
            text = f'/* the {level} copy of {generated.name} */\n#include "{generated}"\n'
            shim.parent.mkdir(parents=True, exist_ok=True)
            if not shim.exists() or shim.read_text() != text:  # keep mtimes: no needless rebuild
                shim.write_text(text)
            package, _, module = ext.name.rpartition(".")
            variants.append(Extension(
                f"{package}._{level}.{module}", [str(shim)],
                depends=[str(generated)] + list(ext.depends),
                include_dirs=ext.include_dirs,
                extra_compile_args=(ext.extra_compile_args + flags
                                    + LEVEL_MODULE_FLAGS.get((level, module), [])),
                extra_link_args=ext.extra_link_args,
                define_macros=ext.define_macros,
            ))
    return variants


# Modules whose float32 exp/tanh/sigmoid/erf are branch-free C (simd.h): special cases
# are selects. Under AVX2 gcc turns those selects into vector blends only with
# -fno-trapping-math; otherwise it assumes a comparison may trap, keeps a branch,
# and the loop runs scalar (exp over 1M float32: 1.7 ms instead of 0.35; softmax 1000x1000
# 1.66 -> 0.48 ms). Results are unchanged: only floating-point exception flags, which Ember
# never reads, may differ. Not for every module: in max_pool.pyx it makes gcc vectorise the
# max-pool row sweeps into code 4x slower than the scalar selects (16x64x112x112: 10 ->
# 42 ms); the other modules measured the same either way. grid_sample's per-block tap
# passes (floor, range tests, selects) vectorise only with it.
BRANCH_FREE_MATH = {"unary", "binary", "softmax", "grid_sample"}


# Modules whose results must match torch's bit for bit where torch fuses multiply-adds:
# they write their fmas out, and nothing else may fuse (gcc would on the AVX2/AVX-512 copies
# only, so the copies would disagree).
NO_CONTRACTION = {"grid_sample"}


def _module_flags(pyx):
    """Switches for one kernel module beyond the common ones."""
    flags = ["-fno-trapping-math"] if pyx.stem in BRANCH_FREE_MATH else []
    return flags + (["-ffp-contract=off"] if pyx.stem in NO_CONTRACTION else [])


def _expand_templates():
    """Write each ``_kernels/*.pyx.tp`` out as its ``.pyx`` (git-ignored), from the op table.

    ``elementwise_ops.py`` is read by path, never imported as part of ember_tensor, which may
    not be built yet. A ``.pyx`` is rewritten only when its text changes: its mtime is what
    tells cythonize whether to regenerate the C.
    """
    from Cython import Tempita

    table = {}
    exec(compile((KERNELS / "elementwise_ops.py").read_text(), "elementwise_ops.py", "exec"),
         table)
    for tp in sorted(KERNELS.glob("*.pyx.tp")):
        text = Tempita.Template(tp.read_text(), name=tp.name).substitute(table)
        pyx = tp.with_suffix("")
        if not pyx.exists() or pyx.read_text() != text:
            pyx.write_text(text)


def _headers(pyx):
    """The kernel headers a module's C includes: named in its ``.pyx``, its own ``.pxd``, or a
    ``.pxd`` it cimports from this folder, transitively.

    Cython records a ``cdef extern from "x.h"`` only for the ``.pyx`` -> C step, so without
    these as ``depends`` an edited header rebuilt nothing, and an incremental build (the
    per-level copies above all) kept the old code silently.
    """
    # a module's own .pxd is read with it, cimported or not
    seen, todo, headers = set(), [pyx, pyx.with_suffix(".pxd")], set()
    while todo:
        source = todo.pop()
        if source in seen or not source.exists():
            continue
        seen.add(source)
        text = source.read_text()
        headers.update(KERNELS / name for name in re.findall(r'"(\w+\.h)"', text))
        todo.extend(KERNELS / f"{name}.pxd"
                    for name in re.findall(r"from \.(\w+) cimport", text))
    return sorted(str(header.relative_to(HERE)) for header in headers if header.exists())


def _extensions():
    compile_args, link_args = _openmp_flags()
    own_pool = _own_pool(compile_args)
    if own_pool:
        link_args = ["-pthread"]   # not -fopenmp, which would link libgomp
    # -fno-math-errno lets sqrt and friends vectorise; Ember never reads errno
    compile_args = ["-O3", "-fno-math-errno"] + compile_args
    native = _flag("EMBER_NATIVE")
    if native and sys.platform != "win32":
        compile_args.append("-march=native")
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
              ("EMBER_NATIVE_BUILD", "1" if native else "0"),
              ("EMBER_OWN_POOL", "1" if own_pool else "0")]
    # a kernel relinks when the pool's interface changes (and once after it was linked to
    # libgomp); the pool's code it reaches at run time
    pool_depends = [str(POOL_MAP.relative_to(HERE))] if own_pool else []
    exts = []
    for pyx in sorted(KERNELS.glob("*.pyx")):
        exts.append(
            Extension(
                f"ember_tensor._kernels.{pyx.stem}",
                [str(pyx.relative_to(HERE))],
                depends=_headers(pyx) + pool_depends,
                include_dirs=[numpy.get_include(), str(KERNELS)],
                extra_compile_args=compile_args + _module_flags(pyx),
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
    build_dir = pathlib.Path("build") / f"cython-{_build_tag(checks)}"
    base = cythonize(exts, compiler_directives=directives, include_path=[str(HERE / "src")],
                     build_dir=str(build_dir), nthreads=2)
    pool = [_pool_extension()] if own_pool else []
    if not own_pool:
        # an in-place pool left by an earlier build would tell ember_tensor it is in use
        for stale in (HERE / "src" / "ember_tensor").glob("_omp_pool.*.so"):
            stale.unlink()
    if native or not _targets_x86_64():
        return pool + base
    return pool + base + _level_variants(base, build_dir)


def _build_tag(checks):
    """Names one build configuration: its generated C and its compiled objects live apart.

    Generated C depends on the Python, NumPy and Cython of the building environment, and the
    objects on the compiler switches, which setuptools does not track: without a folder per
    configuration a tox env would reuse C written against another NumPy, or a native build
    would silently link a portable build's objects.
    """
    import Cython

    flags = "".join(suffix for name, suffix in (("EMBER_NATIVE", "-native"),
                                                ("EMBER_NO_OPENMP", "-serial"),
                                                ("EMBER_LIBGOMP", "-libgomp"))
                    if _flag(name))
    return (f"py{sys.version_info[0]}{sys.version_info[1]}-np{numpy.__version__}"
            f"-cy{Cython.__version__}{'-checked' if checks else ''}{flags}")


_expand_templates()
setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt},
      options={"build": {"build_base": str(pathlib.Path("build") /
                                           _build_tag(_flag("EMBER_BOUNDSCHECK")))}})
