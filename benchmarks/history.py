"""The calibrated history (`beijing-2018-2024`, 2017-07 to 2025) at 1:1: what one calibration
evaluation costs, and what a full `govsim run` of it costs.

A fit evaluates the whole 8½-year history once per point and seed, so its cost decides the
scale a fit can afford. Each run is a fresh child process (kernels from the compile cache),
measured from inside: CPU seconds (user and system) and the peak resident set, sampled every
20 ms. Two kinds of run:

- `evaluation`: what `govsim calibrate` does with one (point, seed): a lean run (counts only,
  `columns=()`) and every target's value;
- `full`: `sim.run` with every table, the problem table written to disk as the run goes, as
  `govsim run beijing-2018-2024` makes them (before it saves them), and every target's value.

    .venv/bin/python benchmarks/history.py                      # evaluation x 3 at 1:1 (~6 min)
    .venv/bin/python benchmarks/history.py --kinds full --repeat 1
    .venv/bin/python benchmarks/history.py --scale 0.05 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

KINDS = ("evaluation", "full")
#: Issue 25's targets at 1:1 (medians of CPU s; peak GB).
TARGETS = {"evaluation_cpu_s": 30.0, "evaluation_peak_gb": 1.5, "full_cpu_s": 60.0,
           "full_peak_gb": 3.0}


def _rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9


def child(kind: str, scale: float, seed: int) -> dict:
    import sim
    from sim.calibration.fit import chosen_targets, load_spec
    from sim.calibration.targets import simulated_all

    peak = [0.0]

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], _rss_gb())
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()
    spec, scenario = load_spec("beijing")
    targets = [t for t, _ in chosen_targets(spec)]
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    result = sim.run(scenario, seed=seed, scale=scale,
                     columns=() if kind == "evaluation" else None)
    values = simulated_all(result, targets)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return {"kind": kind, "scale": scale, "seed": seed, "wall_s": time.perf_counter() - t0,
            "user_s": r1.ru_utime - r0.ru_utime, "sys_s": r1.ru_stime - r0.ru_stime,
            "cpu_s": (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime),
            "peak_gb": max(peak[0], r1.ru_maxrss / 1e6),
            "problems": result.meta["accounting"]["occurred"],
            "contacts_2024": values[[t.key for t in targets].index("hotline_contacts 2024")]}


def run_child(kind: str, scale: float, seed: int) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, str(scale), str(seed)]
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode:
        lines = proc.stderr.strip().splitlines() or [f"(exit status {proc.returncode})"]
        sys.exit(f"history: {kind} at scale {scale:g} failed: {lines[-1]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["load_before"] = load
    return row


def report(rows: list[dict]) -> None:
    print(f"\n{'kind':<12}{'scale':>6}{'runs':>5}{'CPU s':>8}{'user':>7}{'sys':>6}{'wall s':>8}"
          f"{'problems':>13}{'peak GB':>9}")
    for kind in KINDS:
        group = [r for r in rows if r["kind"] == kind]
        if not group:
            continue
        m = {f: statistics.median(r[f] for r in group)
             for f in ("cpu_s", "user_s", "sys_s", "wall_s")}
        peak = max(r["peak_gb"] for r in group)
        print(f"{kind:<12}{group[0]['scale']:>6g}{len(group):>5}{m['cpu_s']:>8.1f}"
              f"{m['user_s']:>7.1f}{m['sys_s']:>6.1f}{m['wall_s']:>8.1f}"
              f"{group[0]['problems']:>13,}{peak:>9.2f}")
        print(f"{'':<12}CPU s of each run: {sorted(round(r['cpu_s'], 1) for r in group)}")
        if group[0]["scale"] == 1.0:
            cpu, gb = TARGETS[f"{kind}_cpu_s"], TARGETS[f"{kind}_peak_gb"]
            print(f"  [{'PASS' if m['cpu_s'] <= cpu else 'FAIL'}] {kind} at 1:1, CPU "
                  f"<= {cpu:g} s: {m['cpu_s']:.1f} s")
            print(f"  [{'PASS' if peak <= gb else 'FAIL'}] {kind} at 1:1, peak memory "
                  f"<= {gb:g} GB: {peak:.2f} GB")
    print("(CPU seconds of the run's own process, medians over runs; peak: the largest)")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=["evaluation"], choices=KINDS)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (medians)")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/history.json"))
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"{len(args.kinds)} kind(s) x {args.repeat} at scale {args.scale:g}", flush=True)
    rows = []
    for _ in range(args.repeat):
        for kind in args.kinds:
            row = run_child(kind, args.scale, args.seed)
            rows.append(row)
            print(f"  {kind}: {row['cpu_s']:.1f} s CPU, {row['wall_s']:.1f} s wall, peak "
                  f"{row['peak_gb']:.2f} GB", flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(rows, indent=1))
    report(rows)


if __name__ == "__main__":
    main()
