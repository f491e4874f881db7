"""The four presets on the default Beijing city at 10 % scale for 365 days, one after another.

Reports per regime: wall time, problems simulated per second and peak memory (resident set).
Target (issue 2): all four in under 60 s on one core.

    .venv/bin/python benchmarks/compare_year.py [--scale 0.1] [--days 365] [--repeat 1]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import sim


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=1, help="runs per regime; medians shown")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    total = 0.0
    print(f"{'regime':<11} {'wall s':>8} {'problems':>10} {'problems/s':>11} {'peak RSS MB':>12}")
    for preset in sim.PRESETS:
        walls = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = sim.run(preset, seed=args.seed, days=args.days, scale=args.scale)
            walls.append(time.perf_counter() - t0)
        wall = statistics.median(walls)
        total += wall
        n = len(result.problems)
        print(f"{preset:<11} {wall:>8.2f} {n:>10,} {n / wall:>11,.0f} {peak_rss_mb():>12,.0f}")
    print(f"{'all four':<11} {total:>8.2f}")


if __name__ == "__main__":
    main()
