"""Run pytest once per kernel level this CPU can execute, each in its own process.

    python tools/run_cpu_levels.py [pytest arguments...]

A portable ember-tensor build carries baseline, AVX2 and AVX-512 copies of every kernel and
loads the best one the CPU runs; ``EMBER_CPU`` forces a lower one. Running the kernel tests
under each level on one machine is how a level that only some machines would pick gets
tested at all. Levels the CPU lacks are reported as not run (they would crash, not fail).
Exits non-zero if any level's run fails, or if this build has no levels (a native build).
"""
import os
import subprocess
import sys


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
        print(f"==== EMBER_CPU={level}", flush=True)
        proc = subprocess.run([sys.executable, "-m", "pytest", *argv],
                              env={**env, "EMBER_CPU": level})
        results[level] = "passed" if proc.returncode == 0 else f"FAILED ({proc.returncode})"
    for level in ladder.split():
        print(f"{level:>9}: {results.get(level, 'not run: this CPU cannot execute it')}")
    return 0 if all(r == "passed" for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
