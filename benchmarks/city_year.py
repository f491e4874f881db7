"""A full Beijing year at 1:1: the four presets on the whole default city, 365 days.

Each run is what `sim.run` does: results streamed, the problem table written to disk as cases
become final (in the days' time), every table made at the end.

Each run is a fresh child process (its kernels loaded from the compile cache, so compilation is
not counted; see benchmarks/compare_year.py for the first run after an install), and its own
CPU time is measured in three parts: building the city and the model, the 365 days, and the
result tables. Peak memory is the child's resident set. Results are saved after every run
(`--out`, atomically), so an interrupted benchmark keeps what it measured. Repeats run the
presets in turn, so every preset sees the same load; medians are reported.

    .venv/bin/python benchmarks/city_year.py                       # 4 presets x 3 (~5 min)
    .venv/bin/python benchmarks/city_year.py --presets hotline --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PRESETS = ("fragmented", "whistle", "hotline", "proactive")
#: Issue 12's targets (CPU seconds of one core, GB), and issue 25's for the hotline.
TARGETS = {"hotline_s": 15.0, "all_four_s": 60.0, "peak_gb": 2.0, "hotline_25_s": 5.0}


def child(preset: str, scale: float, days: int, seed: int) -> dict:
    """One run, measured from inside: build, the days, the tables."""
    from sim.api import as_scenario
    from sim.ledger import Streamed
    from sim.model import GovernanceModel
    from sim.results import collect

    spec, _ = as_scenario(preset, {"seed": seed, "days": days, "scale": scale})
    c0 = time.process_time()
    t0 = time.perf_counter()
    model = GovernanceModel(spec, stream=Streamed())  # as sim.run: the problem table to disk
    c1 = time.process_time()
    while model.day < model.total_days:
        model.step()
    model.finish()
    c2 = time.process_time()
    result = collect(model)
    c3 = time.process_time()
    wall = time.perf_counter() - t0
    return {
        "preset": preset, "scale": scale, "days": days, "seed": seed, "wall_s": wall,
        "cpu_s": c3 - c0, "build_s": c1 - c0, "days_s": c2 - c1, "tables_s": c3 - c2,
        "problems": model.next_pid, "events": model.events_run,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "resolution_rate": float(result.measures["resolution_rate"]),
    }


def run_child(preset: str, scale: float, days: int, seed: int) -> dict:
    cmd = [sys.executable, __file__, "--child", preset, str(scale), str(days), str(seed)]
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # said below
    if proc.returncode:
        lines = proc.stderr.strip().splitlines() or ["(no message)"]
        sys.exit(f"city_year: {preset} at scale {scale:g} failed: {lines[-1]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["load_before"] = load
    return row


def save(rows: list[dict], path: Path) -> None:
    """Write all rows so far, all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(rows, f, indent=1)
    os.replace(tmp, path)


def report(rows: list[dict]) -> None:
    by: dict[str, list[dict]] = {}
    for row in rows:
        by.setdefault(row["preset"], []).append(row)
    fields = ("cpu_s", "build_s", "days_s", "tables_s", "wall_s")
    print(f"\n{'regime':<11}{'runs':>5}{'CPU s':>8}{'build':>7}{'days':>7}{'tables':>7}"
          f"{'wall s':>8}{'problems':>12}{'events':>12}{'events/s':>11}{'peak MB':>9}")
    med = {}
    for preset in PRESETS:
        group = by.get(preset)
        if not group:
            continue
        m = {f: statistics.median(r[f] for r in group) for f in fields}
        m["peak_rss_mb"] = max(r["peak_rss_mb"] for r in group)
        m["all_cpu"] = sorted(round(r["cpu_s"], 1) for r in group)
        med[preset] = m
        first = group[0]
        print(f"{preset:<11}{len(group):>5}{m['cpu_s']:>8.1f}{m['build_s']:>7.1f}"
              f"{m['days_s']:>7.1f}{m['tables_s']:>7.1f}{m['wall_s']:>8.1f}"
              f"{first['problems']:>12,}{first['events']:>12,}"
              f"{first['events'] / m['days_s']:>11,.0f}{m['peak_rss_mb']:>9,.0f}")
    print("(CPU seconds of the run's own process, medians over runs; events/s over the days)")
    print("\nIssue 12 targets:")

    def line(name: str, value: str, ok: bool | None) -> None:
        print(f"  [{'n/a ' if ok is None else ('PASS' if ok else 'FAIL')}] {name}: {value}")

    h = med.get("hotline")
    line(f"issue 25: hotline, 1:1, 365 days <= {TARGETS['hotline_25_s']:g} s CPU",
         f"{h['cpu_s']:.1f} s" if h else "not run",
         h["cpu_s"] <= TARGETS["hotline_25_s"] if h else None)
    line(f"hotline, 1:1, 365 days <= {TARGETS['hotline_s']:g} s CPU",
         f"{h['cpu_s']:.1f} s (runs {h['all_cpu']})" if h else "not run",
         h["cpu_s"] <= TARGETS["hotline_s"] if h else None)
    if len(med) == len(PRESETS):
        total = sum(m["cpu_s"] for m in med.values())
        line(f"all four presets at 1:1 <= {TARGETS['all_four_s']:g} s CPU", f"{total:.1f} s",
             total <= TARGETS["all_four_s"])
        peak = max(m["peak_rss_mb"] for m in med.values()) / 1024.0
        line(f"peak memory at 1:1 <= {TARGETS['peak_gb']:g} GB", f"{peak:.2f} GB",
             peak <= TARGETS["peak_gb"])
    print("  the SimPy ratio: benchmarks/baseline_simpy.py; `govsim compare` and the first "
          "run: benchmarks/compare_year.py")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        preset, scale, days, seed = sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), \
            int(sys.argv[5])
        print(json.dumps(child(preset, scale, days, seed)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per preset (medians shown)")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/city_year.json"))
    parser.add_argument("--report", action="store_true", help="only print the report of --out")
    args = parser.parse_args()
    if args.report:
        report(json.loads(args.out.read_text()))
        return
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"python {sys.version.split()[0]}; results -> {args.out}")
    run_child(args.presets[0], 0.01, 2, 0)  # compile once, if the cache is cold
    rows: list[dict] = []
    for _ in range(args.repeat):
        for preset in args.presets:
            row = run_child(preset, args.scale, args.days, args.seed)
            rows.append(row)
            save(rows, args.out)
            print(f"  {preset:<11} CPU {row['cpu_s']:6.1f} s (build {row['build_s']:.1f}, days "
                  f"{row['days_s']:.1f}, tables {row['tables_s']:.1f})  {row['problems']:>11,} "
                  f"problems  peak {row['peak_rss_mb']:,.0f} MB  load {row['load_before']:.1f}",
                  flush=True)
    report(rows)


if __name__ == "__main__":
    main()
