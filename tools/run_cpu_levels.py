"""Run pytest once per kernel level this CPU can execute, each in its own process.

    python tools/run_cpu_levels.py [pytest arguments...]

A portable ember-tensor build carries baseline, AVX2 and AVX-512 copies of every kernel and
loads the best one the CPU runs; ``EMBER_CPU`` forces a lower one. Running the kernel tests
under each level on one machine is how a level that only some machines would pick gets
tested at all. Levels the CPU lacks are reported as not run (they would crash, not fail).
Exits non-zero if any level's run fails, or if this build has no levels (a native build).

Below the CPU's best level NumPy's own SIMD dispatch is held to the same level
(``NPY_DISABLE_CPU_FEATURES``), so that each run sees the numbers a machine of that level
would compute, not only Ember's kernels of that level. BLAS is left as it is.
"""
import os
import subprocess
import sys


# NumPy's dispatched feature names above each level (NumPy 2.4 names the x86-64 levels;
# older releases name the single features).
_NUMPY_ABOVE = {
    "avx2": lambda name: name.startswith("AVX512") or name == "X86_V4",
    "baseline": lambda name: (name.startswith("AVX512") or name in (
        "X86_V3", "X86_V4", "AVX", "AVX2", "F16C", "FMA3")),
}


def _numpy_features_above(level: str, env: dict) -> str:
    """NumPy's dispatched features this CPU has above ``level``, space-separated."""
    code = ("import numpy\n"
            "try:\n    from numpy._core import _multiarray_umath as m\n"
            "except ImportError:\n    from numpy.core import _multiarray_umath as m\n"
            "print(*[f for f in m.__cpu_dispatch__ if m.__cpu_features__.get(f)])")
    names = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                           capture_output=True, text=True).stdout.split()
    above = _NUMPY_ABOVE.get(level, lambda name: False)
    return " ".join(name for name in names if above(name))


def main(argv: list[str]) -> int:
    code = ("import ember_tensor as et\n"
            "from ember_tensor._kernels import LEVELS, cpu_features\n"
            "print(cpu_features.native_build())\n"
            "print(*LEVELS)\n"
            "print(*et.supported_cpu_levels())")
    env = {k: v for k, v in os.environ.items() if k != "EMBER_CPU"}
    native, ladder, supported = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True,
        text=True).stdout.splitlines()
    if native == "True":
        print("ember-tensor was built with EMBER_NATIVE=1: it has no levels to run")
        return 1
    results = {}
    for level in supported.split():
        run_env = {**env, "EMBER_CPU": level}
        held = _numpy_features_above(level, env)
        if held:
            run_env["NPY_DISABLE_CPU_FEATURES"] = held
        print(f"==== EMBER_CPU={level}" + (f", NumPy without {held}" if held else ""),
              flush=True)
        proc = subprocess.run([sys.executable, "-m", "pytest", *argv], env=run_env)
        results[level] = "passed" if proc.returncode == 0 else f"FAILED ({proc.returncode})"
    for level in ladder.split():
        print(f"{level:>9}: {results.get(level, 'not run: this CPU cannot execute it')}")
    return 0 if all(r == "passed" for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
