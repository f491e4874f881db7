"""`govsim compare` as a user runs it, and what the first run after an install costs.

1. First run: with an empty kernel cache (`GOVSIM_CACHE_DIR` set to a fresh folder, as after
   a fresh install) `govsim run hotline --days 2` is timed, then the same command again with
   the cache filled; the difference is the one-off compilation.
2. `govsim compare` with no options (the four presets on the whole city for 365 days, as many
   at a time as there are cores), wall time, warm cache, median of `--repeat`.

Each command runs in a fresh process from the project's own `govsim`.

    .venv/bin/python benchmarks/compare_year.py                  # ~3 min
    .venv/bin/python benchmarks/compare_year.py --repeat 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOVSIM = Path(sys.executable).with_name("govsim")
TARGETS = {"compile_s": 30.0, "compare_s": 90.0}


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([str(GOVSIM), *argv], env=env, capture_output=True, text=True,
                          check=False)  # a failure is said below
    wall = time.perf_counter() - started
    if proc.returncode:
        sys.exit(f"compare_year: {' '.join(argv)} failed: {proc.stderr.strip()[-500:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="timed comparisons (median shown)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {GOVSIM}")
    work = Path(tempfile.mkdtemp(prefix="govsim-bench-"))
    try:
        env = {**os.environ, "GOVSIM_CACHE_DIR": str(work / "cache")}
        small = ["run", "hotline", "--days", "2", "--out", str(work / "small")]
        cold = timed(small, env)
        warm = timed(small, env)
        print(f"first run, empty kernel cache: {cold:.1f} s; the same run again: {warm:.1f} s; "
              f"compilation {cold - warm:.1f} s")
        compare = [timed(["compare", "--out", str(work / f"compare{i}")], env)
                   for i in range(args.repeat)]
        wall = statistics.median(compare)
        print(f"govsim compare (1:1, four regimes, 365 days): {wall:.1f} s wall "
              f"(runs: {', '.join(f'{c:.1f}' for c in compare)})")
        print("\nIssue 12 targets:")
        for name, value, target in (("first run after a fresh install, extra wall time",
                                     cold - warm, TARGETS["compile_s"]),
                                    ("govsim compare wall time, warm install", wall,
                                     TARGETS["compare_s"])):
            print(f"  [{'PASS' if value <= target else 'FAIL'}] {name}: {value:.1f} s "
                  f"(target <= {target:g} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
