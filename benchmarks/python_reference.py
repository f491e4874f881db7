"""The compiled engine against the Python engine it replaced, measure by measure.

`benchmarks/reference/python_engine_1to1.csv` holds the summary row of every preset at 1:1 for
365 days, seeds 0-4, as the Python engine (commit 1261fc0, the last before the compiled
engine) computed it. This script runs the same 20 scenarios on the current engine and prints,
for each preset and measure, the two means over seeds, their difference and Welch's t (the
difference over its standard error from the seed-to-seed spread). The two engines draw their
random numbers differently (keyed draws here, one stream there), so single runs differ; the
means over seeds should agree within sampling error except where a change was made on purpose
(docs/performance.md, 'Against the Python engine', explains each).

    .venv/bin/python benchmarks/python_reference.py            # ~8 min on 2 cores
    .venv/bin/python benchmarks/python_reference.py --report   # the last run again
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference" / "python_engine_1to1.csv"
MEASURES = ("occurred", "reported", "found_proactively", "prevented", "resolved",
            "resolved_latency_occurrence_h_mean", "resolved_latency_occurrence_h_median",
            "resolved_latency_occurrence_h_p90", "resolved_latency_report_h_mean", "response_rate",
            "resolution_rate", "satisfaction_rate", "handoffs_per_case", "bounced_share",
            "whistled_share", "overdue_share", "hotline_contacts", "street_staff_hours",
            "street_utilisation", "department_staff_hours", "department_utilisation",
            "district_centre_staff_hours", "hotline_staff_hours", "street_overtime_hours")


def one(preset: str, seed: int) -> dict:
    import sim

    return sim.run(preset, seed=seed, scale=1.0, days=365).summary.iloc[0].to_dict()


def compare(ref: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for preset, r in ref.groupby("scenario", sort=False):
        n = new[new["scenario"] == preset]
        for m in MEASURES:
            a, b = r[m].astype(float), n[m].astype(float)
            if a.isna().all() and b.isna().all():
                continue
            se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
            diff = b.mean() - a.mean()
            rows.append({"preset": preset, "measure": m, "python": a.mean(), "compiled": b.mean(),
                         "difference": diff, "relative": diff / a.mean() if a.mean() else math.nan,
                         "t": diff / se if se > 0 else (0.0 if diff == 0 else math.inf)})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/python_reference.csv"))
    parser.add_argument("--report", action="store_true", help="only print the report of --out")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    ref = pd.read_csv(REFERENCE).rename(columns=lambda c: re.sub(  # written before the rename
        r"^latency_(occurrence|report)_h_", r"resolved_latency_\1_h_", c))
    if not args.report:
        jobs = list(ref[["scenario", "seed"]].itertuples(index=False, name=None))
        with ProcessPoolExecutor(args.workers, mp_context=mp.get_context("spawn")) as pool:
            rows = list(pool.map(one, *zip(*jobs, strict=True)))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(args.out, index=False)
    new = pd.read_csv(args.out)
    table = compare(ref, new)
    with pd.option_context("display.width", 160, "display.max_rows", 500,
                           "display.float_format", "{:.4g}".format):
        print(table.to_string(index=False))
    clear = table[table["t"].abs() > 3]
    print(f"\n{len(table)} preset-measure pairs; {len(clear)} differ by more than 3 standard "
          f"errors over seeds (each explained in docs/performance.md):")
    for row in clear.itertuples():
        print(f"  {row.preset:<11}{row.measure:<30}{row.python:>14.4g}{row.compiled:>14.4g}"
              f"  ({row.relative:+.1%}, t={row.t:+.1f})")


if __name__ == "__main__":
    main()
