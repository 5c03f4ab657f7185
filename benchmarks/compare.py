"""Compare the ratios of two RESULTS.md tables, case by case.

    python benchmarks/compare.py 2b66927              # that commit's table vs the working tree's
    python benchmarks/compare.py OLD_REV NEW_REV      # two commits' tables
    python benchmarks/compare.py OLD_REV --tolerance 0.05

Issue 13 asks that no ratio get worse by more than 5% against a reference run. This reads the
``| ops |`` and ``| e2e |`` rows of both tables, matches cases by name, and lists every case
whose ratio (Ember / torch) grew by more than the tolerance, then the cases present in only
one table (renamed or new). It compares ratios, not times: the two runs may have met
different machine load, and the ratio is what each run measured fairly.
"""
from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys

RESULTS = "benchmarks/RESULTS.md"
ROOT = pathlib.Path(__file__).resolve().parent.parent


def table_text(rev: str | None) -> str:
    """RESULTS.md at ``rev`` (a git revision), or the working tree's when ``rev`` is None."""
    if rev is None:
        return (ROOT / RESULTS).read_text()
    return subprocess.run(["git", "show", f"{rev}:{RESULTS}"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout


def ratios(text: str) -> dict[str, float]:
    """``suite/case`` -> ratio, from a RESULTS.md table's rows."""
    found = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 5 or cells[0] not in ("ops", "e2e"):
            continue
        try:
            found[f"{cells[0]}/{cells[1]}"] = float(cells[4])
        except ValueError:  # a row without a ratio (a memory-only or skipped case)
            continue
    return found


def worse(old: dict[str, float], new: dict[str, float],
          tolerance: float) -> list[tuple[str, float, float]]:
    """Cases in both tables whose ratio grew by more than ``tolerance`` (relative)."""
    return [(case, old[case], new[case]) for case in old
            if case in new and new[case] > old[case] * (1.0 + tolerance)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="git revision of the reference RESULTS.md")
    parser.add_argument("new", nargs="?", help="git revision to compare (default: working tree)")
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args(argv)
    old, new = ratios(table_text(args.old)), ratios(table_text(args.new))
    regressed = worse(old, new, args.tolerance)
    print(f"{len(set(old) & set(new))} cases in both tables; "
          f"{len(regressed)} worse by more than {args.tolerance:.0%}:")
    for case, before, after in regressed:
        print(f"  {case}: {before:.2f} -> {after:.2f}")
    only_old, only_new = sorted(set(old) - set(new)), sorted(set(new) - set(old))
    if only_old:
        print("only in the reference table: " + "; ".join(only_old))
    if only_new:
        print("only in the compared table: " + "; ".join(only_new))
    return 1 if regressed else 0


if __name__ == "__main__":
    sys.exit(main())
