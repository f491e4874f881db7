"""Each preset's effect taken apart into its reform's mechanisms, with intervals over seeds.

A preset adds one reform to the one before it (`sim.reforms.PRESET_STEPS`), and a reform is
several mechanisms (the whistle: the whistle call, joint whistles across borders, "6+1+3", enforcement
teams, the chiefs' patrols). How much of the step's effect does each give? The answer depends on
the order mechanisms are added in, since they interact (ranking does nothing without the hotline's
callbacks to score), so the decomposition runs every subset of a reform's mechanisms, 2^k
scenarios, each the later preset with the mechanisms outside the subset undone (their `off`
settings, `sim.reforms`), on the same seeds (common random numbers). From these it gives, per
mechanism and measure, and per seed before averaging:

- the Shapley value: the mechanism's marginal effect averaged over every order of adding them,
  which sums exactly to the step's total effect (the later preset minus the earlier one);
- `alone`: the effect of adding it by itself to the earlier preset;
- `last`: the effect of taking it away from the later preset.

The runs go through the sweep machinery (`sim.experiments`): durable, resumable after an
interruption, on a local pool or a Dask cluster, every run saved as it finishes.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.errors import InputError
from sim.evidence.measures import DEFAULT_MEASURES, outcome
from sim.reforms import PRESET_STEPS, REFORMS, Mechanism

#: Intervals are two-sided at this level, t quantiles with (seeds - 1) degrees of freedom.
CONFIDENCE = 0.95
#: A step's reform has at most this many mechanisms to decompose (2^k scenarios).
MAX_MECHANISMS = 6
MEASURES_FUNCTION = "sim.evidence.measures:extra"


@dataclass(frozen=True)
class Step:
    """One rung of the ladder of presets: `after` is `before` plus `reform`."""

    before: str
    after: str
    reform: str

    @property
    def mechanisms(self) -> tuple[Mechanism, ...]:
        return REFORMS[self.reform].mechanisms

    def label(self, mask: int) -> str:
        """The scenario of a subset (bit j: the j-th mechanism on): the presets themselves at
        the two ends, else the later preset less what is off (`hotline-without-ranking`)."""
        k = len(self.mechanisms)
        if mask == 0:
            return self.before
        if mask == (1 << k) - 1:
            return self.after
        off = [m.name for j, m in enumerate(self.mechanisms) if not mask >> j & 1]
        return f"{self.after}-without-{'-'.join(off)}"


def ladder(names: list[str] | None = None) -> list[Step]:
    """The steps of the presets' ladder, all or those whose reform is named."""
    steps = [Step(before, after, reform) for (before, _), (after, reform)
             in itertools.pairwise(PRESET_STEPS) if reform is not None]
    if names is None:
        return steps
    known = {s.reform: s for s in steps}
    for name in names:
        if name not in known:
            raise InputError(None, "steps", f"reforms of the presets' ladder, some of "
                             f"{', '.join(known)}", name)
    return [known[n] for n in names]


def _undo(step: Step, before: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Per subset mask, the overrides of the later preset that undo the mechanisms outside it
    (a mechanism's `off`, else the earlier preset's values of its fields)."""
    out = {}
    for mask in range(1 << len(step.mechanisms)):
        sets: dict[str, Any] = {}
        for j, m in enumerate(step.mechanisms):
            if mask >> j & 1:
                continue
            if m.off is not None:
                sets.update(m.off)
            else:
                for path in m.on:
                    node: Any = before
                    for key in path.split("."):
                        node = node[key]
                    sets[path] = node
        out[mask] = sets
    return out


def sweep_spec(steps: list[Step], seeds: int = 5, days: int | None = None,
               scale: float | None = None, seed: int = 0,
               overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The sweep (spec as data) that runs every subset of every step's mechanisms, `seeds`
    replications each (common random numbers)."""
    from sim.scenario.loader import load_scenario

    scenarios, seen = [], set()
    for step in steps:
        if len(step.mechanisms) > MAX_MECHANISMS:
            raise InputError(None, "steps", f"reforms of at most {MAX_MECHANISMS} mechanisms",
                             step.reform)
        before = load_scenario(step.before).model_dump(mode="json")
        for mask, sets in _undo(step, before).items():
            label = step.label(mask)
            if label in seen:
                continue  # a preset shared by two steps runs once
            seen.add(label)
            k = len(step.mechanisms)
            ref: dict[str, Any] = {"file": step.before if mask == 0 else step.after,
                                   "label": label}
            if 0 < mask < (1 << k) - 1:
                ref["set"] = {**sets, "name": label}
            scenarios.append(ref)
    common = dict(overrides or {})
    if days is not None:
        common["days"] = days
    if scale is not None:
        common["scale"] = scale
    return {"name": "decompose", "description": "every subset of each reform's mechanisms "
            "(sim.evidence.decompose)", "scenarios": scenarios, "set": common,
            "replications": seeds, "seed": seed, "measures": MEASURES_FUNCTION}


class IncompleteEvidence(RuntimeError):
    """Runs of an evidence table could not finish (a worker lost, runs that raised): the
    table would rest on part of its runs, so none is made; the same command resumes."""


def require_complete(result: Any, command: str) -> None:
    """Raise `IncompleteEvidence` unless every run of the sweep `result` finished and is ok."""
    counts = result.counts
    if counts["pending"] or counts["failed"]:
        why = result.lost[0] if result.lost else (
            str(result.failures["error"].iloc[0]) if counts["failed"] else "")
        raise IncompleteEvidence(
            f"{counts['pending']} run(s) could not finish and {counts['failed']} failed"
            + (f" (first: {why})" if why else "") + f"; no table was made. Finished runs are "
            f"kept: the same {command} command resumes the rest.")


def _interval(values: np.ndarray) -> tuple[float, float, float, int]:
    """Mean and two-sided CONFIDENCE interval (t, n - 1 degrees of freedom) over seeds."""
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(values.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def shapley(values: np.ndarray) -> np.ndarray:
    """Shapley values of k players from the values of all 2^k coalitions (`values[mask]`, bit j:
    player j in): the marginal value of each player averaged over every order of joining."""
    n = len(values)
    k = n.bit_length() - 1
    out = np.zeros(k)
    for j in range(k):
        for mask in range(n):
            if mask >> j & 1:
                continue
            s = mask.bit_count()
            weight = math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
            out[j] += weight * (values[mask | 1 << j] - values[mask])
    return out


def tables(runs: pd.DataFrame, steps: list[Step],
           measures: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(effects, mechanisms) from a decomposition's runs table (a sweep's `runs`).

    `effects`: per step and measure, the earlier and later preset's means and the step's total
    effect (paired by seed) with its interval. `mechanisms`: per step, mechanism and measure, the
    Shapley value, `alone` and `last`, each with its interval, and the Shapley value's share of
    the total effect. Every interval is over seeds (seed noise at fixed parameters)."""
    names = measures or [name for name, _ in DEFAULT_MEASURES]
    ok = runs[runs["status"] == "ok"]
    effects, rows = [], []
    for step in steps:
        k = len(step.mechanisms)
        full = (1 << k) - 1
        labels = [step.label(mask) for mask in range(1 << k)]
        for name in names:
            if name != "overtime_hours" and name not in ok.columns:
                continue
            values = pd.DataFrame({"scenario": ok["scenario"].to_numpy(),
                                   "replication": ok["replication"].to_numpy(),
                                   "value": outcome(ok, name)})
            wide = values.pivot_table(index="replication", columns="scenario", values="value",
                                      aggfunc="first")
            if not set(labels) <= set(wide.columns):
                continue
            v = wide[labels].to_numpy(float)  # replications x 2^k
            v = v[np.isfinite(v).all(axis=1)]  # a seed without a value everywhere is left out
            total = v[:, full] - v[:, 0]
            phi = np.array([shapley(row) for row in v]) if len(v) else np.zeros((0, k))
            effects.append({"step": f"{step.after} - {step.before}", "reform": step.reform,
                            "measure": name, "before": float(np.mean(v[:, 0])) if len(v)
                            else math.nan,
                            "after": float(np.mean(v[:, full])) if len(v) else math.nan,
                            **_named("total", total),
                            "shapley_sum": float(phi.sum(axis=1).mean()) if len(v)
                            else math.nan})
            for j, m in enumerate(step.mechanisms):
                alone = v[:, 1 << j] - v[:, 0]
                last = v[:, full] - v[:, full & ~(1 << j)]
                mean_total = float(total.mean()) if len(v) else math.nan
                rows.append({"step": f"{step.after} - {step.before}", "reform": step.reform,
                             "mechanism": m.name, "title": m.title, "title_zh": m.title_zh,
                             "measure": name,
                             **_named("shapley", phi[:, j]),
                             "share_of_total": float(phi[:, j].mean()) / mean_total
                             if len(v) and mean_total else math.nan,
                             **_named("alone", alone), **_named("last", last)})
    return pd.DataFrame(effects), pd.DataFrame(rows)


def _named(prefix: str, values: np.ndarray) -> dict[str, float]:
    mean, low, high, n = _interval(np.asarray(values, float))
    return {prefix: mean, f"{prefix}_low": low, f"{prefix}_high": high, "seeds": n}


@dataclass
class Decomposition:
    """What `decompose` made: the step totals, the mechanisms' shares, the runs, the folder."""

    effects: pd.DataFrame
    mechanisms: pd.DataFrame
    runs: pd.DataFrame
    folder: Path
    notes: list[str]


def decompose(steps: list[str] | None = None, *, seeds: int = 5, days: int | None = None,
              scale: float | None = None, seed: int = 0, out: str | Path | None = None,
              workers: int | None = None, scheduler: str | None = None, serial: bool = False,
              progress: bool = True, overrides: dict[str, Any] | None = None) -> Decomposition:
    """Run (or resume) the decomposition of each step's effect into its mechanisms; write
    `effects.csv`, `mechanisms.csv` and the runs (a sweep folder, `runs/`) into `out`
    (default `results/decompose`)."""
    from sim.experiments.sweep import run_sweep

    chosen = ladder(steps)
    folder = Path(out) if out is not None else Path("results") / "decompose"
    spec = sweep_spec(chosen, seeds, days, scale, seed, overrides)
    result = run_sweep(spec, folder / "runs", workers=workers, scheduler=scheduler,
                       serial=serial, progress=progress, allow_import=True)
    require_complete(result, "govsim decompose")
    effects, mechanisms = tables(result.runs, chosen)
    effects.to_csv(folder / "effects.csv", index=False)
    mechanisms.to_csv(folder / "mechanisms.csv", index=False)
    return Decomposition(effects, mechanisms, result.runs, folder, list(result.notes))
