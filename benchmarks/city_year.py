"""A full Beijing year: the four presets on the default city at scales 0.01, 0.1 and 1.0.

Each run is a fresh child process, so its peak resident set is its own. Per regime and scale it
reports wall time, CPU time (the child's own, which is what "one core" means on a shared
machine), problems simulated per second, events per second and peak memory; then how the cost
per problem grows with scale, whether the rate measures at scale 1.0 agree with scale 0.1 (z
scores), and each target of issue 7 with its measured figure. Results are saved after every run
(`--out`, atomically), so an interrupted benchmark keeps what it measured.

    .venv/bin/python benchmarks/city_year.py                       # everything (~10 min)
    .venv/bin/python benchmarks/city_year.py --presets hotline --scales 1.0 --repeat 3
    .venv/bin/python benchmarks/city_year.py --scales 0.01 0.1     # quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PRESETS = ("fragmented", "whistle", "hotline", "proactive")
#: rate measures compared between scales: (summary column, closed-case count it is a share of)
RATES = ("resolution_rate", "satisfaction_rate", "response_rate", "overdue_share",
         "bounced_share", "whistled_share")
#: volumes per real resident, compared between scales as Poisson counts
VOLUMES = ("occurred", "reported", "resolved", "hotline_contacts")
TARGETS = {"hotline_s": 120.0, "all_four_s": 480.0, "peak_gb": 4.0, "linear_ratio": 1.5,
           "z_max": 3.0}


def child(preset: str, scale: float, days: int, seed: int, overrides: dict) -> dict:
    """One run, measured from inside: build, the days, the tables."""
    import sim  # imported here so the parent's import time is not counted

    models = []
    t0, c0 = time.perf_counter(), time.process_time()
    marks = {}

    def on_day(model):
        if not models:
            models.append(model)
        marks["days_done"] = (time.perf_counter(), time.process_time())

    result = sim.run(preset, seed=seed, days=days, scale=scale, overrides=overrides,
                     on_day=on_day)
    t1, c1 = time.perf_counter(), time.process_time()
    model = models[0]
    summary = result.summary.iloc[0]
    closed = int(result.problems["outcome"].isin(["resolved", "closed_unresolved"]).sum())
    return {
        "preset": preset, "scale": scale, "days": days, "seed": seed,
        "wall_s": t1 - t0, "cpu_s": c1 - c0,
        "tables_cpu_s": c1 - marks["days_done"][1],
        "problems": int(model.next_pid), "cases": int(result.problems["entered_h"].notna().sum()),
        "closed": closed, "events": int(model.clock.events),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "summary": {k: _plain(summary[k]) for k in (*RATES, *VOLUMES) if k in summary.index},
    }


def _plain(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def run_child(preset: str, scale: float, days: int, seed: int, overrides: dict) -> dict:
    cmd = [sys.executable, __file__, "--child", preset, str(scale), str(days), str(seed),
           json.dumps(overrides)]
    load_before = os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        lines = proc.stderr.strip().splitlines() or ["(no message)"]
        sys.exit(f"city_year: {preset} at scale {scale:g} failed: {lines[-1]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["load_before"], row["load_after"] = load_before, os.getloadavg()[0]
    return row


def save(rows: list[dict], path: Path) -> None:
    """Write all rows so far, all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(rows, f, indent=1)
    os.replace(tmp, path)


def median_rows(rows: list[dict]) -> dict[tuple[str, float], dict]:
    """Per (preset, scale): medians of the timing fields over repeats, the rest from the first."""
    groups: dict[tuple[str, float], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["preset"], row["scale"]), []).append(row)
    out = {}
    for key, group in groups.items():
        m = dict(group[0])
        for field in ("wall_s", "cpu_s", "tables_cpu_s", "peak_rss_mb", "load_before"):
            m[field] = statistics.median(r[field] for r in group)
        m["peak_rss_mb"] = max(r["peak_rss_mb"] for r in group)
        m["repeats"] = len(group)
        out[key] = m
    return out


def consistency(a: dict, b: dict) -> list[tuple[str, float, float, float]]:
    """z scores of the difference between two runs' measures (scale a vs scale b), using each
    run's own sampling error: binomial for rates over its closed cases, Poisson for volumes
    (counts reported in real units, i.e. simulated count / scale)."""
    rows = []
    for name in RATES:
        pa, pb = a["summary"].get(name), b["summary"].get(name)
        if pa is None or pb is None:
            continue
        var = pa * (1 - pa) / max(a["closed"], 1) + pb * (1 - pb) / max(b["closed"], 1)
        rows.append((name, pa, pb, (pb - pa) / math.sqrt(var) if var > 0 else 0.0))
    for name in VOLUMES:
        va, vb = a["summary"].get(name), b["summary"].get(name)
        if not va or not vb:
            continue
        # simulated counts are real / scale^-1; their variance is the count itself (Poisson)
        na, nb = va * a["scale"], vb * b["scale"]
        se = math.sqrt(na / a["scale"] ** 2 + nb / b["scale"] ** 2)
        rows.append((name, va, vb, (vb - va) / se))
    return rows


def report(rows: list[dict]) -> None:
    med = median_rows(rows)
    print(f"\n{'regime':<11}{'scale':>6}{'wall s':>9}{'CPU s':>9}{'problems':>12}"
          f"{'problems/s':>12}{'events':>12}{'events/s':>11}{'peak MB':>9}{'load':>6}")
    for (preset, scale), m in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(f"{preset:<11}{scale:>6g}{m['wall_s']:>9.1f}{m['cpu_s']:>9.1f}{m['problems']:>12,}"
              f"{m['problems'] / m['cpu_s']:>12,.0f}{m['events']:>12,}"
              f"{m['events'] / m['cpu_s']:>11,.0f}{m['peak_rss_mb']:>9,.0f}"
              f"{m['load_before']:>6.1f}")
    print("(per-second figures use CPU time; wall time is longer when other jobs share the cores)")

    scales = sorted({s for _, s in med})
    if len(scales) > 1:
        print("\nCost per problem (CPU µs) by scale, and relative to scale 0.1:")
        print(f"{'regime':<11}" + "".join(f"{s:>10g}" for s in scales) + f"{'1.0/0.1':>10}")
        for preset in PRESETS:
            per = {s: med[(preset, s)]["cpu_s"] / med[(preset, s)]["problems"] * 1e6
                   for s in scales if (preset, s) in med}
            if not per:
                continue
            ratio = per[1.0] / per[0.1] if 1.0 in per and 0.1 in per else float("nan")
            print(f"{preset:<11}" + "".join(f"{per.get(s, math.nan):>10.1f}" for s in scales)
                  + f"{ratio:>10.2f}")

    if 1.0 in scales and 0.1 in scales:
        print("\nScale 1.0 against scale 0.1 x 10 (z = difference / combined sampling error):")
        for preset in PRESETS:
            if (preset, 0.1) not in med or (preset, 1.0) not in med:
                continue
            for name, a, b, z in consistency(med[(preset, 0.1)], med[(preset, 1.0)]):
                flag = "" if abs(z) < TARGETS["z_max"] else "  <-- |z| >= 3"
                print(f"  {preset:<11}{name:<20}{a:>14.4g}{b:>14.4g}  z={z:+.2f}{flag}")
    targets(med)


def targets(med: dict[tuple[str, float], dict]) -> None:
    print("\nIssue 7 targets (CPU seconds of one core; wall in brackets):")

    def line(name: str, value: str, ok: bool | None) -> None:
        mark = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        print(f"  [{mark}] {name}: {value}")

    h = med.get(("hotline", 1.0))
    line("hotline, scale 1.0, 365 days < 120 s",
         f"{h['cpu_s']:.1f} s ({h['wall_s']:.1f} s)" if h else "not run",
         h["cpu_s"] < TARGETS["hotline_s"] if h else None)
    full = [med[(p, 1.0)] for p in PRESETS if (p, 1.0) in med]
    if len(full) == len(PRESETS):
        cpu, wall = sum(m["cpu_s"] for m in full), sum(m["wall_s"] for m in full)
        line("all four presets, scale 1.0 < 480 s", f"{cpu:.1f} s ({wall:.1f} s)",
             cpu < TARGETS["all_four_s"])
        peak = max(m["peak_rss_mb"] for m in full) / 1024.0
        line("peak memory at scale 1.0 < 4 GB", f"{peak:.2f} GB", peak < TARGETS["peak_gb"])
    else:
        line("all four presets, scale 1.0 < 480 s", "not all run", None)
    ratios = [(med[(p, 1.0)]["cpu_s"] / med[(p, 1.0)]["problems"])
              / (med[(p, 0.1)]["cpu_s"] / med[(p, 0.1)]["problems"])
              for p in PRESETS if (p, 1.0) in med and (p, 0.1) in med]
    line("time per problem at 1.0 within 1.5x of 0.1",
         f"worst ratio {max(ratios):.2f}" if ratios else "not run",
         max(ratios) <= TARGETS["linear_ratio"] if ratios else None)
    zs = [abs(z) for p in PRESETS if (p, 1.0) in med and (p, 0.1) in med
          for *_, z in consistency(med[(p, 0.1)], med[(p, 1.0)])]
    line("rate measures at 1.0 consistent with 0.1 x 10 (all |z| < 3)",
         f"max |z| = {max(zs):.2f} over {len(zs)} measures" if zs else "not run",
         max(zs) < TARGETS["z_max"] if zs else None)
    print("  the SimPy-baseline ratio: benchmarks/baseline_simpy.py")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        preset, scale, days, seed = sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), \
            int(sys.argv[5])
        print(json.dumps(child(preset, scale, days, seed, json.loads(sys.argv[6]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--scales", nargs="+", type=float, default=[0.01, 0.1, 1.0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per regime and scale; "
                        "medians shown")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="a dotted scenario override for every run, e.g. "
                        "reporting.trust_learning_rate=0 (values read as YAML)")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/city_year.json"))
    parser.add_argument("--report", action="store_true", help="only print the report of --out")
    args = parser.parse_args()
    if args.report:
        report(json.loads(args.out.read_text()))
        return
    overrides = {}
    for item in args.set:
        field, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set {item}: expected FIELD=VALUE")
        overrides[field] = yaml.safe_load(value)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"python {sys.version.split()[0]}; results -> {args.out}"
          + (f"; overrides {overrides}" if overrides else ""))
    rows: list[dict] = []
    for scale in sorted(args.scales):
        for preset in args.presets:
            for _ in range(args.repeat):
                row = run_child(preset, scale, args.days, args.seed, overrides)
                rows.append(row)
                save(rows, args.out)
                print(f"  {preset:<11} scale {scale:<5g} CPU {row['cpu_s']:7.1f} s  wall "
                      f"{row['wall_s']:7.1f} s  {row['problems']:>11,} problems  "
                      f"peak {row['peak_rss_mb']:,.0f} MB  load {row['load_before']:.1f}",
                      flush=True)
    report(rows)


if __name__ == "__main__":
    main()
