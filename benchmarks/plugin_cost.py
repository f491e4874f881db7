"""What a Python-level rule costs: the hotline year with no plug-in, with an empty one, with the
grid-cadre plug-in (docs/extending.md), side by side.

Each run is a fresh child process (kernels loaded from the compile cache), `sim.run` as a user
calls it, its CPU time measured from inside; the variants run in turn, so each sees the same
load; medians are reported, and each variant's ratio to the plain run.

    .venv/bin/python benchmarks/plugin_cost.py                 # 1:1, 365 days, 3 repeats
    .venv/bin/python benchmarks/plugin_cost.py --scale 0.1 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

VARIANTS = ("none", "empty", "grid_cadre")

CHILD = """
import json, sys, time
import sim

variant, scale, days = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])


class Empty(sim.DailyMechanism):
    def before_day(self, day):
        pass

    def after_day(self, day):
        pass


kwargs = {"none": {}, "empty": {"mechanisms": [Empty()]},
          "grid_cadre": {"overrides": {"plugins": {"grid_cadre": {"share": 0.3}}}}}[variant]
c0 = time.process_time()
sim.run("hotline", seed=0, days=days, scale=scale, problems=False, **kwargs)
print(json.dumps({"cpu_s": time.process_time() - c0}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for _ in range(args.repeat):
        for variant in VARIANTS:
            out = subprocess.run([sys.executable, "-c", CHILD, variant, str(args.scale),
                                  str(args.days)], capture_output=True, text=True, check=True)
            times[variant].append(json.loads(out.stdout.strip().splitlines()[-1])["cpu_s"])
    base = statistics.median(times["none"])
    print(f"hotline, {args.days} days, scale {args.scale:g}, median of {args.repeat} "
          "(CPU s of the run, the warm-up included)")
    for variant in VARIANTS:
        m = statistics.median(times[variant])
        print(f"  {variant:<11} {m:7.2f} s  x{m / base:.3f}  "
              f"({', '.join(f'{t:.2f}' for t in times[variant])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
