"""Does a scale below 1:1 change a conclusion? The four presets on Beijing at 0.01, 0.1 and 1.0.

Each preset runs at each scale on seeds 0-2 (365 days; presets compared at one seed share their
sample of streets and their random numbers). Two checks, issue 12's:

- signs: for every pair of presets and each of mean latency from occurrence, resolution rate,
  satisfaction rate and street-office staff hours, the difference (paired by seed, mean over
  seeds) has the same sign at every scale wherever the 1:1 difference is clear of noise (its
  95 % interval over seeds, Student's t with 2 degrees of freedom, excludes zero);
- precision at 0.1: every rate and share within 2 percentage points, every mean latency within
  10 % of 1:1 (means over seeds).

Runs are kept in `--out` as they finish (a second call with the same `--out` reuses those made
by the same code, `sim.provenance.code_version`, for the same number of days).

    .venv/bin/python benchmarks/scale_consistency.py              # ~8 min on 2 cores
    .venv/bin/python benchmarks/scale_consistency.py --report     # the kept runs again
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from scipy import stats

PRESETS = ("fragmented", "whistle", "hotline", "proactive")
SCALES = (0.01, 0.1, 1.0)
SIGN_MEASURES = ("resolved_latency_occurrence_h_mean", "resolution_rate", "satisfaction_rate",
                 "street_staff_hours")
RATES = ("response_rate", "resolution_rate", "satisfaction_rate", "bounced_share",
         "whistled_share", "overdue_share")
LATENCIES = ("resolved_latency_occurrence_h_mean", "resolved_latency_report_h_mean")


def one(preset: str, scale: float, seed: int, days: int) -> dict:
    import sim
    from sim.provenance import code_version

    row = sim.run(preset, seed=seed, scale=scale, days=days).summary.iloc[0]
    return {"preset": preset, "scale": scale, "seed": seed, "days": days,
            "code": code_version(),
            **{k: float(row[k]) for k in (*SIGN_MEASURES, *RATES, *LATENCIES)}}


def _mean(rows: list[dict], preset: str, scale: float, measure: str) -> float:
    values = [r[measure] for r in rows if r["preset"] == preset and r["scale"] == scale]
    return sum(values) / len(values)


def report(rows: list[dict]) -> bool:
    seeds = sorted({r["seed"] for r in rows})
    t = stats.t.ppf(0.975, len(seeds) - 1)
    by = {(r["preset"], r["scale"], r["seed"]): r for r in rows}
    ok = True
    print(f"Signs of preset differences (mean over seeds {seeds}; '*' = clear of noise at 1:1):")
    checked = failed = 0
    for a, b in itertools.combinations(PRESETS, 2):
        for m in SIGN_MEASURES:
            diffs = {s: [by[(a, s, k)][m] - by[(b, s, k)][m] for k in seeds] for s in SCALES}
            full = diffs[1.0]
            mean = sum(full) / len(full)
            sd = math.sqrt(sum((d - mean) ** 2 for d in full) / (len(full) - 1))
            clear = abs(mean) > t * sd / math.sqrt(len(full))
            means = {s: sum(v) / len(v) for s, v in diffs.items()}
            same = all(math.copysign(1, means[s]) == math.copysign(1, mean) for s in SCALES)
            mark = "*" if clear else " "
            verdict = ("ok" if same else "FLIP") if clear else ("-" if same else "flip (noise)")
            if clear:
                checked += 1
                failed += not same
            print(f" {mark} {a:>10} - {b:<10} {m:<27}" + "".join(
                f"{means[s]:>12.4g}" for s in SCALES) + f"   {verdict}")
    print(f"  scales: {', '.join(f'{s:g}' for s in SCALES)}; {checked} clear differences, "
          f"{failed} change sign")
    ok &= failed == 0
    print("\nScale 0.1 against 1:1 (means over seeds):")
    worst_rate, worst_latency = 0.0, 0.0
    for p in PRESETS:
        for m in (*RATES, *LATENCIES):
            full, tenth = _mean(rows, p, 1.0, m), _mean(rows, p, 0.1, m)
            if math.isnan(full) or math.isnan(tenth):
                continue
            if m in RATES:
                gap = 100 * (tenth - full)
                worst_rate = max(worst_rate, abs(gap))
                flag = "" if abs(gap) <= 2 else "   <-- over 2 points"
                print(f"  {p:<11}{m:<27}{100 * full:>9.2f} %{100 * tenth:>9.2f} %"
                      f"{gap:>+8.2f} pt{flag}")
            else:
                rel = tenth / full - 1
                worst_latency = max(worst_latency, abs(rel))
                flag = "" if abs(rel) <= 0.10 else "   <-- over 10 %"
                print(f"  {p:<11}{m:<27}{full:>9.2f} h{tenth:>9.2f} h{100 * rel:>+8.1f} %{flag}")
    print(f"  worst rate gap {worst_rate:.2f} points (target <= 2); worst latency gap "
          f"{100 * worst_latency:.1f} % (target <= 10)")
    ok &= worst_rate <= 2 and worst_latency <= 0.10
    print(f"\n[{'PASS' if ok else 'FAIL'}] scale consistency")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path,
                        default=Path("results/benchmarks/scale_consistency.jsonl"))
    parser.add_argument("--report", action="store_true", help="only report the kept runs")
    args = parser.parse_args()
    from sim.provenance import code_version

    done = []
    if args.out.exists():  # runs of other code or another length are not reused
        kept = [json.loads(line) for line in args.out.read_text().splitlines() if line]
        code = code_version()
        done = [r for r in kept if r.get("code") == code and r.get("days") == args.days]
        if len(done) < len(kept):
            print(f"  {len(kept) - len(done)} kept runs of other code or days left out")
    have = {(r["preset"], r["scale"], r["seed"]) for r in done}
    todo = [(p, s, k) for s in SCALES for p in PRESETS for k in range(args.seeds)
            if (p, s, k) not in have]
    if todo and not args.report:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with ProcessPoolExecutor(args.workers, mp_context=mp.get_context("spawn")) as pool, \
                args.out.open("a") as f:
            futures = [pool.submit(one, p, s, k, args.days) for p, s, k in todo]
            for future in as_completed(futures):
                row = future.result()
                done.append(row)
                f.write(json.dumps(row) + "\n")
                f.flush()
                print(f"  {row['preset']:<11} scale {row['scale']:<5g} seed {row['seed']}",
                      flush=True)
    report(done)


if __name__ == "__main__":
    main()
