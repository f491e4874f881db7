"""Sweep throughput: runs per minute with 1 and 2 local workers, and the overhead per run.

The sweep is the presets on the default Beijing city at 10 % scale for 90 days, with a few
replications. For each worker count it reports runs per minute and splits the wall time per run
into the simulation itself (`sim_s`, measured inside the worker: building the model, the days,
the tables) and the overhead around it: scenario construction, shipping the result back, writing
the durable record, pool start-up (amortised). Target (issue 4): overhead under 10 % of the
simulation for a 10 %-scale, 90-day run.

    .venv/bin/python benchmarks/sweep.py [--workers 1 2] [--replications 2] [--days 90]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sim
from sim.experiments import run_sweep


def measure(workers: int, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    spec = {"name": f"bench-{workers}", "scenarios": list(args.scenarios),
            "set": {"days": args.days, "scale": args.scale},
            "replications": args.replications, "seed": args.seed}
    started = time.perf_counter()
    result = run_sweep(spec, folder / f"w{workers}", workers=workers, progress=False)
    wall = time.perf_counter() - started
    runs = result.runs
    assert (runs["status"] == "ok").all(), result.failures
    n = len(runs)
    per_run = wall * workers / n  # worker-seconds spent per run
    simulated = float(runs["sim_s"].mean())
    in_worker = float((runs["wall_s"] - runs["sim_s"]).mean())
    return {"workers": workers, "runs": n, "wall": wall, "per_minute": 60.0 * n / wall,
            "sim": simulated, "per_run": per_run, "in_worker": in_worker,
            "overhead": per_run - simulated}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--scenarios", nargs="+", default=list(sim.PRESETS))
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{len(args.scenarios)} scenarios x {args.replications} replications, Beijing, "
          f"scale {args.scale:g}, {args.days} days")
    print(f"{'workers':>7} {'runs':>5} {'wall s':>8} {'runs/min':>9} {'sim s/run':>10} "
          f"{'overhead s/run':>15} {'overhead %':>11} {'in worker s':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for workers in args.workers:
            m = measure(workers, args, Path(tmp))
            print(f"{m['workers']:>7} {m['runs']:>5} {m['wall']:>8.1f} {m['per_minute']:>9.1f} "
                  f"{m['sim']:>10.2f} {m['overhead']:>15.3f} "
                  f"{100 * m['overhead'] / m['sim']:>10.1f}% {m['in_worker']:>12.3f}")
    print("overhead = wall x workers / runs - sim; 'in worker' = scenario construction and "
          "result extraction inside the worker (part of the overhead)")


if __name__ == "__main__":
    main()
