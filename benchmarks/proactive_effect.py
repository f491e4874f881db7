"""What 未诉先办 adds to 接诉即办: the proactive preset against the hotline preset on Beijing.

Not a speed benchmark: the measured effect that docs/proactive.md reports. Both presets run at
1:1 on seeds 0-2 (365 days after a 90-day warm-up; the two runs of a seed share their random
numbers), and each measure is compared as a paired difference (proactive - hotline), with its
mean and 95 % interval over seeds (Student's t, 2 degrees of freedom):

- problems prevented at their source (count and share of problems that would have occurred);
- theme-category complaints: residents' requests in the categories the proactive run chose as
  monthly themes, from the first theme's month on, in both runs;
- time to resolution over all problems: the share resolved within 7 days and the time by which
  half are resolved (Kaplan-Meier, problems never resolved counted as such);
- street-office and department staff hours (the cost).

    .venv/bin/python benchmarks/proactive_effect.py                # ~4 min on 2 cores
    .venv/bin/python benchmarks/proactive_effect.py --scale 0.1    # a quick look
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
from scipy import stats

PRESETS = ("hotline", "proactive")
MEASURES = ("prevented", "prevented_share", "theme_complaints", "resolved_within_7d_share",
            "half_resolved_h", "street_staff_hours", "department_staff_hours")


def one(args: tuple[str, int, float, int, int]) -> dict[str, object]:
    import sim

    preset, seed, scale, days, warmup = args
    r = sim.run(preset, seed=seed, scale=scale, days=days,
                overrides={"warmup_days": warmup})
    m = r.measures
    p = r.problems
    themes = sorted({t["category"] for t in r.meta.get("themes", [])})
    first = min((t["month"] for t in r.meta.get("themes", [])), default=None)
    return {"preset": preset, "seed": seed, "themes": themes, "first_theme": first,
            "problems": p[["category", "channel", "entered_h", "outcome"]].copy(),
            "weight": r.weight, "start": str(r.scenario.start_date),
            **{k: float(m[k]) for k in ("prevented", "occurred", "resolved_within_7d_share",
                                        "half_resolved_h", "street_staff_hours",
                                        "department_staff_hours")}}


def theme_complaints(run: dict[str, object], categories: list[str], first: str | None) -> float:
    """Requests (all residents' channels) in `categories` from the month `first` on."""
    if first is None:
        return math.nan
    p = run["problems"]
    origin = pd.Timestamp(run["start"])
    since = (pd.Period(first, "M").start_time - origin) / pd.Timedelta(hours=1)
    sel = (p["category"].isin(categories)
           & p["channel"].isin(["hotline", "street_line", "dept_line"])
           & (p["entered_h"] >= since))
    return float(sel.sum()) * float(run["weight"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--warmup", type=int, default=90)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    jobs = [(p, s, a.scale, a.days, a.warmup) for s in a.seeds for p in PRESETS]
    with ProcessPoolExecutor(a.workers, mp_context=mp.get_context("forkserver")) as pool:
        runs = list(pool.map(one, jobs))
    by = {(r["preset"], r["seed"]): r for r in runs}
    rows = []
    for s in a.seeds:
        h, pr = by[("hotline", s)], by[("proactive", s)]
        cats, first = pr["themes"], pr["first_theme"]
        for r in (h, pr):
            r["prevented_share"] = r["prevented"] / r["occurred"]
            r["theme_complaints"] = theme_complaints(r, cats, first)
        rows.append({k: pr[k] - h[k] for k in MEASURES} | {"seed": s})
        rows[-1] |= {f"hotline_{k}": h[k] for k in MEASURES}
    table = pd.DataFrame(rows)
    n = len(table)
    t = stats.t.ppf(0.975, n - 1) if n > 1 else math.nan
    print(f"proactive - hotline, Beijing, scale {a.scale:g}, {a.days} days after "
          f"{a.warmup} days of warm-up, seeds {a.seeds} (paired; mean, 95 % interval)")
    print(f"{'measure':28s} {'hotline':>14s} {'difference':>14s} {'95 % interval':>26s}")
    for k in MEASURES:
        d = table[k].to_numpy(float)
        base = table[f"hotline_{k}"].mean()
        half = t * d.std(ddof=1) / math.sqrt(n) if n > 1 else math.nan
        rel = f" ({100 * d.mean() / base:+.1f} %)" if base and k not in (
            "prevented", "prevented_share", "resolved_within_7d_share") else ""
        print(f"{k:28s} {base:14.4g} {d.mean():14.4g} "
              f"[{d.mean() - half:11.4g}, {d.mean() + half:11.4g}]{rel}")
    print(table.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
