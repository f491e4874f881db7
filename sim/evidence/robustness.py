"""Robust or not: which assumed values each preset difference rests on, and whether its sign holds
over their documented ranges.

The assumed parameters and their ranges are `sim/data/parameters.csv` (docs/model.md lists
them). Three stages, each a sweep of the four presets with the same assumed values at every
point (common random numbers), read as the differences of consecutive presets (whistle minus
fragmented, hotline minus whistle, proactive minus hotline):

1. **one at a time** (`oat`): each assumed parameter alone at the low and the high end of its
   range, the others as calibrated, on several seeds: can this assumption alone reverse the
   difference? (It does when the difference's interval at that end lies on the other side of 0.)
2. **Morris screening** (`morris`): elementary effects over trajectories through the whole space
   of assumed values: which assumptions matter at all (mu*), and with interactions (sigma); and
   the share of sampled points at which the difference keeps its sign.
3. **Sobol'** (`sobol`) on the assumptions Morris ranks highest: how much of the difference's
   variance each explains, alone (S1) and with others (ST).

Each stage is a durable, resumable sweep (`sim.experiments`); `robustness.csv` sums it up per
preset difference and measure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.evidence.decompose import MEASURES_FUNCTION, _interval, ladder, require_complete
from sim.evidence.measures import outcome
from sim.scenario.parameters import ranges

STAGES = ("oat", "morris", "sobol")
#: The measures a robustness analysis reads (headline first).
MEASURES = ("resolved_within_7d_share", "resolved_share", "dealt_share", "satisfaction_rate",
            "street_staff_hours", "department_staff_hours")
#: The run each point is: a half year of the calibrated city at a tenth of its streets (a sweep
#: of thousands of runs), after the presets' own warm-up.
DEFAULT_RUN = {"days": 180, "scale": 0.1}


@dataclass
class Robustness:
    summary: pd.DataFrame  # per step and measure: the difference, its sign over the ranges
    oat: pd.DataFrame | None
    morris: pd.DataFrame | None
    sobol: pd.DataFrame | None
    folder: Path


def _spec(name: str, parameters: dict[str, tuple[float, float]], design: dict[str, Any],
          replications: int, seed: int, run: dict[str, Any]) -> dict[str, Any]:
    scenarios = [s.before for s in ladder()] + [ladder()[-1].after]
    return {"name": f"robustness-{name}", "scenarios": scenarios, "set": run,
            "parameters": {p: {"low": lo, "high": hi} for p, (lo, hi) in parameters.items()},
            "design": design, "replications": replications, "seed": seed,
            "outcomes": list(MEASURES), "measures": MEASURES_FUNCTION}


def step_differences(runs: pd.DataFrame, measures: tuple[str, ...] = MEASURES) -> pd.DataFrame:
    """A runs table of the consecutive presets' differences: one row per step, point and
    replication (`scenario` is the step, `whistle - fragmented`), a column per measure."""
    ok = runs[runs["status"] == "ok"]
    frames = []
    for step in ladder():
        keys = ["point", "replication"]
        a = ok[ok["scenario"] == step.before].set_index(keys)
        b = ok[ok["scenario"] == step.after].set_index(keys)
        both = a.index.intersection(b.index)
        frame = pd.DataFrame(index=both)
        for name in measures:
            frame[name] = outcome(b.loc[both], name) - outcome(a.loc[both], name)
        frame = frame.reset_index()
        frame.insert(0, "scenario", f"{step.after} - {step.before}")
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["status"] = "ok"
    return out


def oat_table(diffs: pd.DataFrame, points: list[dict[str, Any]]) -> pd.DataFrame:
    """Per step, measure and parameter: the difference at the calibrated values and with the
    parameter alone at its low and high end (means and intervals over seeds), and whether one
    end reverses it (its interval on the other side of 0 from the calibrated difference)."""
    rows = []
    for step, part in diffs.groupby("scenario", sort=False):
        by_point = {p: g for p, g in part.groupby("point")}
        for measure in MEASURES:
            base = _interval(by_point[0][measure].to_numpy(float)) if 0 in by_point else None
            if base is None:
                continue
            for j in range(1, len(points), 2):
                (parameter, low_value), = points[j].items()
                high_value = points[j + 1][parameter]
                low = _interval(by_point[j][measure].to_numpy(float))
                high = _interval(by_point[j + 1][measure].to_numpy(float))
                reverses = _reversed(base[0], low) or _reversed(base[0], high)
                rows.append({"step": step, "measure": measure, "parameter": parameter,
                             "difference": base[0], "difference_low": base[1],
                             "difference_high": base[2], "value_low": low_value,
                             "at_low": low[0], "at_low_low": low[1], "at_low_high": low[2],
                             "value_high": high_value, "at_high": high[0],
                             "at_high_low": high[1], "at_high_high": high[2],
                             "reverses": reverses, "seeds": base[3]})
    return pd.DataFrame(rows)


def _reversed(difference: float, end: tuple[float, float, float, int]) -> bool:
    """Whether an end's interval lies on the other side of 0 from `difference`."""
    _, low, high, _ = end
    if difference == 0 or math.isnan(difference) or math.isnan(low):
        return False
    return high < 0 if difference > 0 else low > 0


def indices(diffs: pd.DataFrame, manifest: dict[str, Any], raw: np.ndarray | None,
            seed: int) -> pd.DataFrame | None:
    """Morris or Sobol' indices of each step's difference (SALib, through the sweep's own
    analysis), with the share of sampled points at which the difference keeps the sign of its
    mean and its range."""
    from sim.experiments.analysis import indices_tables

    labels = list(dict.fromkeys(diffs["scenario"]))
    table, _, _ = indices_tables(diffs, manifest["design"], raw, list(MEASURES), labels, seed)
    if table is None:
        return None
    spread = []
    for (step, measure), part in diffs.melt(id_vars=["scenario", "point"],
                                            value_vars=list(MEASURES),
                                            var_name="outcome").groupby(["scenario", "outcome"]):
        values = part.groupby("point")["value"].mean().to_numpy(float)
        sign = np.sign(np.nanmean(values))
        spread.append({"scenario": step, "outcome": measure,
                       "sampled_min": float(np.nanmin(values)),
                       "sampled_max": float(np.nanmax(values)),
                       "same_sign_share": float(np.mean(np.sign(values) == sign))})
    return table.merge(pd.DataFrame(spread), on=["scenario", "outcome"], how="left").rename(
        columns={"scenario": "step", "outcome": "measure"})


def summary(oat: pd.DataFrame | None, morris: pd.DataFrame | None,
            sobol: pd.DataFrame | None) -> pd.DataFrame:
    """Per step and measure: the calibrated difference and its interval, the assumptions that
    alone reverse it, the share of sampled points keeping its sign, the most influential
    assumptions (Sobol' ST, else Morris mu*)."""
    rows = []
    keys = (oat if oat is not None and len(oat) else morris)
    if keys is None:
        return pd.DataFrame()
    for (step, measure), part in keys.groupby(["step", "measure"], sort=False):
        row: dict[str, Any] = {"step": step, "measure": measure}
        if oat is not None and len(oat):
            first = part.iloc[0] if "difference" in part else None
            if first is not None:
                row.update(difference=first["difference"],
                           difference_low=first["difference_low"],
                           difference_high=first["difference_high"])
            o = oat[(oat["step"] == step) & (oat["measure"] == measure)]
            row["reversed_by"] = " ".join(o.loc[o["reverses"], "parameter"])
        for table, column, name in ((morris, "mu_star", "morris"), (sobol, "ST", "sobol")):
            if table is None:
                continue
            t = table[(table["step"] == step) & (table["measure"] == measure)]
            if t.empty:
                continue
            row[f"{name}_same_sign_share"] = float(t["same_sign_share"].iloc[0])
            row[f"{name}_min"] = float(t["sampled_min"].iloc[0])
            row[f"{name}_max"] = float(t["sampled_max"].iloc[0])
            top = t.sort_values(column, ascending=False).head(5)
            row[f"{name}_top"] = " ".join(top["parameter"])
        rows.append(row)
    return pd.DataFrame(rows)


def _stage(name: str, folder: Path, parameters: dict[str, tuple[float, float]],
           design: dict[str, Any], replications: int, seed: int, run: dict[str, Any],
           backend: dict[str, Any]) -> tuple[pd.DataFrame, Any, np.ndarray | None]:
    from sim.experiments.sweep import run_sweep

    result = run_sweep(_spec(name, parameters, design, replications, seed, run),
                       folder / name, allow_import=True, **backend)
    require_complete(result, "govsim robustness")
    design_file = folder / name / "design.parquet"
    raw = pd.read_parquet(design_file).to_numpy(float) if design_file.is_file() else None
    return step_differences(result.runs), result, raw


def robustness(out: str | Path | None = None, *, stages: tuple[str, ...] = STAGES,
               parameters: dict[str, tuple[float, float]] | None = None, seeds: int = 3,
               trajectories: int = 8, samples: int = 64, top: int = 8, seed: int = 0,
               days: int | None = None, scale: float | None = None,
               overrides: dict[str, Any] | None = None, workers: int | None = None,
               scheduler: str | None = None, serial: bool = False,
               progress: bool = True) -> Robustness:
    """Run (or resume) the stages and write `oat.csv`, `morris.csv`, `sobol.csv` and
    `robustness.csv` into `out` (default `results/robustness`)."""
    from sim.errors import InputError
    from sim.experiments.design import ANALYSIS_KEY, stream_seed
    from sim.experiments.spec import MIN_SOBOL_SAMPLES, MIN_TRAJECTORIES

    # designs whose indices mean something, refused before any stage runs
    if "morris" in stages and trajectories < MIN_TRAJECTORIES:
        raise InputError(None, "trajectories", f"at least {MIN_TRAJECTORIES} Morris "
                         "trajectories (one gives no spread of effects)", trajectories)
    if "sobol" in stages and (samples < MIN_SOBOL_SAMPLES or samples & (samples - 1)):
        raise InputError(None, "samples", f"a power of 2 >= {MIN_SOBOL_SAMPLES} (Sobol' base "
                         "samples)", samples)
    folder = Path(out) if out is not None else Path("results") / "robustness"
    space = dict(parameters or ranges())
    run = {**DEFAULT_RUN, **(overrides or {})}
    if days is not None:
        run["days"] = days
    if scale is not None:
        run["scale"] = scale
    backend = {"workers": workers, "scheduler": scheduler, "serial": serial,
               "progress": progress}
    analysis_seed = stream_seed(seed, ANALYSIS_KEY)
    oat = morris = sobol = None
    if "oat" in stages:
        diffs, result, _ = _stage("oat", folder, space, {"method": "oat"}, seeds, seed, run,
                                  backend)
        from sim.experiments.design import make_design
        from sim.experiments.spec import parse_spec

        points = make_design(parse_spec(_spec("oat", space, {"method": "oat"}, seeds, seed,
                                              run))).points
        oat = oat_table(diffs, points)
        oat.to_csv(folder / "oat.csv", index=False)
    if "morris" in stages:
        diffs, result, raw = _stage("morris", folder, space,
                                    {"method": "morris", "samples": trajectories}, 1, seed,
                                    run, backend)
        morris = indices(diffs, result.manifest, raw, analysis_seed)
        if morris is not None:
            morris.to_csv(folder / "morris.csv", index=False)
    if "sobol" in stages:
        chosen = space
        if morris is not None:
            headline = morris[morris["measure"] == MEASURES[0]]
            ranked = (headline.assign(rel=headline["mu_star"] / headline.groupby("step")
                                      ["mu_star"].transform("max"))
                      .groupby("parameter")["rel"].max().sort_values(ascending=False))
            chosen = {p: space[p] for p in ranked.index[:top]}
        diffs, result, raw = _stage("sobol", folder, chosen,
                                    {"method": "sobol", "samples": samples}, 1, seed, run,
                                    backend)
        sobol = indices(diffs, result.manifest, raw, analysis_seed)
        if sobol is not None:
            sobol.to_csv(folder / "sobol.csv", index=False)
    table = summary(oat, morris, sobol)
    table.to_csv(folder / "robustness.csv", index=False)
    return Robustness(table, oat, morris, sobol, folder)
