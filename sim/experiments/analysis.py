"""From run records to tidy tables: the runs, means with 95 % CIs, paired differences, indices.

All functions are pure: the same plan and records give the same tables, whether the sweep ran
serially, on a pool or on Dask, in one go or resumed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
#: Per-run bookkeeping columns that vary between executions (left out of equality checks).
TIMING_COLUMNS = ("sim_s", "wall_s", "worker")


def runs_table(plan: pd.DataFrame, records: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per planned run: its inputs, status (ok / failed / pending), error, outcomes."""
    outcome_names: dict[str, None] = {}
    for run_id in plan["run_id"]:
        record = records.get(run_id)
        if record is not None and record.get("status") == "ok":
            outcome_names.update(dict.fromkeys(record.get("outcomes", {})))
    names = [n for n in outcome_names if n not in plan.columns]
    status, error, trace, sim_s, wall_s, worker = [], [], [], [], [], []
    values: dict[str, list[Any]] = {n: [] for n in names}
    for run_id in plan["run_id"]:
        record = records.get(run_id)
        if record is None:
            status.append("pending")
            error.append(None)
            trace.append(None)
            sim_s.append(np.nan)
            wall_s.append(np.nan)
            worker.append(None)
            for n in names:
                values[n].append(None)
            continue
        status.append(record.get("status", "failed"))
        error.append(record.get("error"))
        trace.append(record.get("traceback"))
        sim_s.append(record.get("sim_s", np.nan))
        wall_s.append(record.get("wall_s", np.nan))
        worker.append(record.get("worker"))
        outcomes = record.get("outcomes") or {}
        for n in names:
            values[n].append(outcomes.get(n))
    index = plan.index
    columns = {"status": pd.Categorical(status, categories=["ok", "failed", "pending"]),
               "error": pd.array(error, dtype="string"),
               **{n: _column(values[n], index) for n in names},
               "sim_s": np.asarray(sim_s, dtype=float), "wall_s": np.asarray(wall_s, dtype=float),
               "worker": pd.array(worker, dtype="string"),
               "traceback": pd.array(trace, dtype="string")}
    plan = plan.drop(columns=[c for c in columns if c in plan.columns])
    return pd.concat([plan, pd.DataFrame(columns, index=index)], axis=1)  # one block each


def _column(values: list[Any], index: pd.Index) -> pd.Series:
    """Numbers as float (NaN where missing), flags as nullable booleans, anything else as is."""
    if _all_bool(values):
        return pd.Series(pd.array(values, dtype="boolean"), index=index)
    column = pd.Series(values, index=index, dtype=object)
    numeric = pd.to_numeric(column, errors="coerce")
    if numeric.notna().sum() == column.notna().sum():  # every given value is a number
        return numeric.astype(float)
    return column


def _as_float(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column):
        return column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def _all_bool(values: list[Any]) -> bool:
    given = [v for v in values if v is not None]
    return bool(given) and all(isinstance(v, bool) for v in given)


def measures(runs: pd.DataFrame, parameters: list[str], wanted: list[str] | None = None) \
        -> list[str]:
    """The numeric outcome columns (or the `wanted` ones that exist), in table order."""
    fixed = set(runs.columns[:runs.columns.get_loc("status")]) | set(parameters)
    fixed |= {"status", "error", "traceback", *TIMING_COLUMNS}
    numeric = [c for c in runs.columns if c not in fixed
               and (pd.api.types.is_numeric_dtype(runs[c]) or pd.api.types.is_bool_dtype(runs[c]))]
    if wanted is None:
        return numeric
    return [c for c in wanted if c in numeric]


def _interval(n: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Student-t 95 % confidence interval of a mean (NaN with fewer than two values)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        q = stats.t.ppf(0.5 + CONFIDENCE / 2, np.where(n > 1, n - 1, np.nan))
        half = q * sd / np.sqrt(n)
    return mean - half, mean + half


def _describe(long: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = long.groupby(keys, sort=False, observed=True)["value"]
    out = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    n = out["n"].to_numpy(dtype=float)
    out["mean"] = out["mean"].where(out["n"] > 0)
    out["ci_low"], out["ci_high"] = _interval(n, out["mean"].to_numpy(float),
                                              out["sd"].to_numpy(float))
    return out


def _long(runs: pd.DataFrame, outcomes: list[str], id_vars: list[str]) -> pd.DataFrame:
    ok = runs[runs["status"] == "ok"]
    numeric = pd.concat([ok[id_vars], pd.DataFrame({o: _as_float(ok[o]) for o in outcomes},
                                                   index=ok.index)], axis=1)
    frame = numeric.melt(id_vars=id_vars, value_vars=outcomes, var_name="outcome",
                         value_name="value")
    frame = frame[np.isfinite(frame["value"].to_numpy(dtype=float))]
    frame["outcome"] = pd.Categorical(frame["outcome"], categories=outcomes)
    return frame


def _point_inputs(runs: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    cols = ["scenario", "point", "regime", *[p for p in parameters if p not in ("regime",)]]
    return runs[cols].drop_duplicates(["scenario", "point"])


def summary_table(runs: pd.DataFrame, parameters: list[str], outcomes: list[str],
                  labels: list[str]) -> pd.DataFrame:
    """Mean, SD and 95 % CI of each outcome per scenario and design point, with failures."""
    columns = ["scenario", "regime", "point", *parameters, "outcome", "n", "n_failed",
               "n_pending", "mean", "sd", "ci_low", "ci_high"]
    if runs.empty or not outcomes:
        return pd.DataFrame(columns=columns)
    inputs = _point_inputs(runs, parameters)
    grid = inputs[["scenario", "point"]].merge(pd.DataFrame({"outcome": outcomes}), how="cross")
    stats_ = _describe(_long(runs, outcomes, ["scenario", "point"]),
                       ["scenario", "point", "outcome"])
    stats_["outcome"] = stats_["outcome"].astype(str)
    out = grid.merge(stats_, on=["scenario", "point", "outcome"], how="left")
    out["n"] = out["n"].fillna(0).astype(int)
    counts = runs.groupby(["scenario", "point"], observed=True)["status"].agg(
        n_failed=lambda s: int((s == "failed").sum()),
        n_pending=lambda s: int((s == "pending").sum())).reset_index()
    out = out.merge(counts, on=["scenario", "point"], how="left").merge(
        inputs, on=["scenario", "point"], how="left")
    out["scenario"] = pd.Categorical(out["scenario"], categories=labels, ordered=True)
    out["outcome"] = pd.Categorical(out["outcome"], categories=outcomes, ordered=True)
    out = out.sort_values(["scenario", "point", "outcome"], kind="stable")
    out["scenario"] = out["scenario"].astype(str)
    out["outcome"] = out["outcome"].astype(str)
    return out[columns].reset_index(drop=True)


def differences_table(runs: pd.DataFrame, parameters: list[str], outcomes: list[str],
                      labels: list[str]) -> pd.DataFrame:
    """Paired differences (scenario − baseline) per design point, over common replications.

    Replication r of every scenario shares its seed, so the pairs share their random numbers
    and the CI of the difference is much tighter than the two separate CIs suggest.
    """
    columns = ["scenario", "baseline", "point", *parameters, "outcome", "n", "mean", "sd",
               "ci_low", "ci_high"]
    if len(labels) < 2 or runs.empty or not outcomes:
        return pd.DataFrame(columns=columns)
    baseline = labels[0]
    long = _long(runs, outcomes, ["scenario", "point", "replication"])
    wide = long.pivot_table(index=["point", "replication", "outcome"], columns="scenario",
                            values="value", observed=True, aggfunc="first")
    frames = []
    for label in labels[1:]:
        if baseline not in wide or label not in wide:
            continue
        diff = (wide[label] - wide[baseline]).dropna().rename("value").reset_index()
        diff["scenario"] = label
        frames.append(diff)
    if not frames:
        return pd.DataFrame(columns=columns)
    pairs = pd.concat(frames, ignore_index=True)
    out = _describe(pairs, ["scenario", "point", "outcome"])
    out["baseline"] = baseline
    out["outcome"] = out["outcome"].astype(str)
    inputs = _point_inputs(runs, parameters).drop(columns=["regime"])
    out = out.merge(inputs, on=["scenario", "point"], how="left")
    out["scenario"] = pd.Categorical(out["scenario"], categories=labels, ordered=True)
    out["outcome"] = pd.Categorical(out["outcome"], categories=outcomes, ordered=True)
    out = out.sort_values(["scenario", "point", "outcome"], kind="stable")
    out["scenario"] = out["scenario"].astype(str)
    out["outcome"] = out["outcome"].astype(str)
    return out[columns].reset_index(drop=True)


def indices_tables(runs: pd.DataFrame, design: dict[str, Any], raw: np.ndarray | None,
                   outcomes: list[str], labels: list[str], seed: int) \
        -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[str]]:
    """Sobol' (S1, ST, optionally S2) or Morris (mu, mu*, sigma) indices per scenario and outcome.

    Each design point's outcome is the mean over its replications. An outcome is skipped (with a
    note) where some point has no value (failed runs, or a measure that does not apply) or where
    it does not vary at all.
    """
    method = design["method"]
    if method not in ("sobol", "morris") or runs.empty:
        return None, None, []
    problem = design["problem"]
    n_points = design["points"]
    means = _long(runs, outcomes, ["scenario", "point"]).groupby(
        ["scenario", "outcome", "point"], observed=True)["value"].mean()
    rows, rows2, notes = [], [], []
    skipped: dict[tuple[str, str], list[str]] = {}
    for label in labels:
        for outcome in outcomes:
            try:
                y = means.loc[(label, outcome)].reindex(range(n_points)).to_numpy(float)
            except KeyError:
                y = np.full(n_points, np.nan)
            if np.isnan(y).any():
                skipped.setdefault((label, "no value at every design point"), []).append(outcome)
                continue
            if np.ptp(y) == 0:
                skipped.setdefault((label, "constant"), []).append(outcome)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if method == "sobol":
                    from SALib.analyze import sobol

                    res = sobol.analyze(problem, y, calc_second_order=design["second_order"],
                                        conf_level=CONFIDENCE, seed=seed)
                    for j, name in enumerate(problem["names"]):
                        rows.append({"scenario": label, "outcome": outcome, "parameter": name,
                                     "S1": res["S1"][j], "S1_conf": res["S1_conf"][j],
                                     "ST": res["ST"][j], "ST_conf": res["ST_conf"][j]})
                    if design["second_order"]:
                        names = problem["names"]
                        for j in range(len(names)):
                            for k in range(j + 1, len(names)):
                                rows2.append({"scenario": label, "outcome": outcome,
                                              "parameter_1": names[j], "parameter_2": names[k],
                                              "S2": res["S2"][j, k],
                                              "S2_conf": res["S2_conf"][j, k]})
                else:
                    from SALib.analyze import morris

                    assert raw is not None
                    res = morris.analyze(problem, raw, y, conf_level=CONFIDENCE,
                                         num_levels=design["levels"], seed=seed)
                    for j, name in enumerate(problem["names"]):
                        rows.append({"scenario": label, "outcome": outcome, "parameter": name,
                                     "mu": float(res["mu"][j]),
                                     "mu_star": float(res["mu_star"][j]),
                                     "sigma": float(res["sigma"][j]),
                                     "mu_star_conf": float(res["mu_star_conf"][j])})
    for (label, reason), names in skipped.items():
        notes.append(f"indices not computed for {len(names)} outcome(s) of {label} ({reason}): "
                     + ", ".join(names))
    table = pd.DataFrame(rows) if rows else None
    table2 = pd.DataFrame(rows2) if rows2 else None
    return table, table2, notes
