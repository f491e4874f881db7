"""What each reform did for Beijing: the calibrated 2018-2025 history with one reform removed, or
moved to another date, against the history as it happened, year by year.

The history's timeline brings each reform by name (`reforms:` in
`scenarios/beijing-2018-2024.yaml`, defined in `sim.reforms`), so removing a reform takes its
mechanisms out of every change that brings them, and moving it brings them at another date;
every other input (demand, the call centre's roster, the epidemic waves, the fitted values) stays.
Each variant runs on the same seeds as the history (common random numbers), through the durable
sweep machinery; `yearly` reads each run's published measures by year, and the table gives each
variant's difference from the history with an interval over seeds (seed noise at the fitted
values: parameter uncertainty is not in it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.evidence.decompose import _interval, require_complete
from sim.reforms import REFORMS, mechanisms

HISTORY = "beijing-2018-2024"
#: The variants `govsim counterfactual` runs unless told otherwise: each reform removed.
DEFAULT_REMOVED = ("whistle", "hotline", "devolved_powers", "proactive")
YEARLY_FUNCTION = "sim.evidence.counterfactual:yearly"
#: The measures `yearly` gives, each `<measure>_<year>`.
YEARLY = ("resolved_within_7d_share", "resolved_share", "prevented", "occurred", "requests",
          "hotline_contacts", "resolution_rate", "satisfaction_rate", "ticket_resolution_rate",
          "ticket_satisfaction_rate", "street_staff_hours", "enforcement_staff_hours",
          "department_staff_hours", "district_centre_staff_hours", "hotline_staff_hours")


@dataclass(frozen=True)
class Variant:
    """The history with reforms removed and others moved: `name` labels it."""

    name: str
    removed: tuple[str, ...] = ()
    moved: tuple[tuple[str, dt.date], ...] = ()


def _names(names: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(r.name, m.name) for name in names for r, m in mechanisms(name)}


def timeline(history: list[dict[str, Any]], variant: Variant) -> list[dict[str, Any]]:
    """The history's timeline (changes as data) with the variant's reforms taken out of the
    changes that bring them, and its moved reforms brought in at their new dates."""
    gone = _names(variant.removed) | _names(tuple(name for name, _ in variant.moved))
    out = []
    for change in history:
        kept = []
        for name in change.get("reforms", []):
            pairs = [(r.name, m.name) for r, m in mechanisms(name)]
            left = [pair for pair in pairs if pair not in gone]
            # a reform that keeps all its mechanisms keeps its name; else those left, each
            kept += [name] if len(left) == len(pairs) else [f"{r}.{m}" for r, m in left]
        if kept or change.get("set"):
            out.append({**change, "reforms": kept})
    for name, date in variant.moved:
        out.append({"date": date.isoformat(), "note": f"{name} (moved)", "reforms": [name]})
    return out


def variants(removed: list[str] | None = None,
             moved: list[tuple[str, dt.date]] | None = None) -> list[Variant]:
    """The variants to run: each named reform removed alone, each (reform, date) moved alone."""
    out = [Variant("as it happened")]
    for name in (DEFAULT_REMOVED if removed is None and not moved else removed or []):
        _check(name, "removed")
        out.append(Variant(f"without {name}", removed=(name,)))
    for name, date in moved or []:
        _check(name, "moved")
        out.append(Variant(f"{name} from {date}", moved=((name, date),)))
    return out


def _check(name: str, what: str) -> None:
    try:
        mechanisms(name)
    except KeyError:
        raise InputError(None, what, f"a reform ({', '.join(REFORMS)}) or reform.mechanism",
                         name) from None


def sweep_spec(chosen: list[Variant], seeds: int = 5, scale: float | None = None,
               seed: int = 0, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    from sim.scenario.loader import load_scenario

    base = [c.model_dump(mode="json") for c in load_scenario(HISTORY).timeline]
    scenarios = []
    for v in chosen:
        ref: dict[str, Any] = {"file": HISTORY, "label": _label(v.name)}
        if v.removed or v.moved:
            ref["set"] = {"timeline": timeline(base, v), "name": f"{HISTORY} {v.name}"}
        scenarios.append(ref)
    common = dict(overrides or {})
    if scale is not None:
        common["scale"] = scale
    return {"name": "counterfactual", "description": "the calibrated history with reforms "
            "removed or moved (sim.evidence.counterfactual)", "scenarios": scenarios,
            "set": common, "replications": seeds, "seed": seed, "measures": YEARLY_FUNCTION}


def _label(name: str) -> str:
    return name.replace(" ", "-")


def yearly(result: Any) -> dict[str, float]:
    """A history run's published measures by calendar year: the share of the year's problems
    resolved within 7 days of occurring (of those that arose at least 7 days before the run's
    end: each followed for the whole week) and the share resolved by the run's end, problems
    occurred and prevented, residents' requests, 12345 contacts, the rates of closed cases and
    of 12345 tickets (by month of closing), staff hours by unit type (real-city units). All from
    the run's counts: a history run keeps no problem table."""
    from sim.engine.counting import OCCURRED, PREVENTED_DAY, RESOLVED_OF_DAY, WEEK_OF_DAY

    scenario = result.scenario
    out: dict[str, float] = {}
    month = result.monthly()
    years = month.index.year
    for year in sorted(set(years)):
        rows = month[years == year]
        closed = rows["closed"].to_numpy(float)
        out[f"occurred_{year}"] = float(rows["occurred"].sum())
        out[f"prevented_{year}"] = float(rows["prevented"].sum())
        out[f"requests_{year}"] = float(rows["reported"].sum())
        out[f"hotline_contacts_{year}"] = float(rows["hotline_contacts"].sum())
        for name in ("resolution_rate", "satisfaction_rate"):
            values = rows[name].to_numpy(float)
            ok = np.isfinite(values)
            out[f"{name}_{year}"] = float(np.average(values[ok], weights=closed[ok])) \
                if closed[ok].sum() > 0 else float("nan")
        for name in ("ticket_resolution_rate", "ticket_satisfaction_rate"):
            values = rows[name].to_numpy(float)
            out[f"{name}_{year}"] = float(np.nanmean(values)) if np.isfinite(values).any() \
                else float("nan")
    origin = pd.Timestamp(scenario.start_date)
    counts = result.aggregates
    day = np.arange(counts.by_day.shape[0])
    year = (origin + pd.to_timedelta(day, unit="D")).year.to_numpy()
    arose = counts.day_counts(OCCURRED) - counts.day_counts(PREVENTED_DAY)
    within_week, resolved = counts.day_counts(WEEK_OF_DAY), counts.day_counts(RESOLVED_OF_DAY)
    followed = day + 7 <= scenario.days
    for y in sorted(set(year)):
        this = year == y
        week = this & followed
        if arose[week].sum():
            out[f"resolved_within_7d_share_{y}"] = float(
                within_week[week].sum() / arose[week].sum())
        if arose[this].sum():
            out[f"resolved_share_{y}"] = float(resolved[this].sum() / arose[this].sum())
    ud = result.units_daily
    if len(ud):
        when = (origin + pd.to_timedelta(ud["day"].to_numpy(), unit="D")).year
        hours = (ud.assign(year=when).groupby(["year", "unit_type"], observed=True)
                 ["busy_hours"].sum() * result.weight)
        for (y, unit), value in hours.items():
            out[f"{unit}_staff_hours_{y}"] = float(value)
    return out


yearly.reads_problems = False  # the run's counts and unit tables only


def table(runs: pd.DataFrame, chosen: list[Variant]) -> pd.DataFrame:
    """Per variant, measure and year: the history's mean, the variant's, and the difference
    (variant minus history, paired by seed) with its interval."""
    ok = runs[runs["status"] == "ok"]
    base_label = _label(chosen[0].name)
    base = ok[ok["scenario"] == base_label].set_index("replication")
    rows = []
    columns = [c for c in ok.columns if "_" in c and c.rsplit("_", 1)[-1].isdigit()]
    for v in chosen[1:]:
        other = ok[ok["scenario"] == _label(v.name)].set_index("replication")
        both = base.index.intersection(other.index)
        for column in columns:
            measure, year = column.rsplit("_", 1)
            if measure not in YEARLY:
                continue
            a = base.loc[both, column].to_numpy(dtype=float, na_value=np.nan)
            b = other.loc[both, column].to_numpy(dtype=float, na_value=np.nan)
            if measure.endswith("_staff_hours"):
                a, b = np.nan_to_num(a), np.nan_to_num(b)
            mean, low, high, n = _interval(b - a)
            rows.append({"variant": v.name, "measure": measure, "year": int(year),
                         "as_it_happened": float(np.nanmean(a)) if n else np.nan,
                         "variant_value": float(np.nanmean(b)) if n else np.nan,
                         "difference": mean, "difference_low": low, "difference_high": high,
                         "seeds": n})
    out = pd.DataFrame(rows)
    return out.sort_values(["variant", "measure", "year"], kind="stable").reset_index(drop=True)


@dataclass
class Counterfactuals:
    table: pd.DataFrame
    runs: pd.DataFrame
    folder: Path
    notes: list[str]


def counterfactual(removed: list[str] | None = None,
                   moved: list[tuple[str, dt.date]] | None = None, *, seeds: int = 5,
                   scale: float | None = None, seed: int = 0, out: str | Path | None = None,
                   workers: int | None = None, scheduler: str | None = None,
                   serial: bool = False, progress: bool = True,
                   overrides: dict[str, Any] | None = None) -> Counterfactuals:
    """Run (or resume) the history and its variants and write `counterfactual.csv` into `out`
    (default `results/counterfactual`)."""
    from sim.experiments.sweep import run_sweep

    chosen = variants(removed, moved)
    folder = Path(out) if out is not None else Path("results") / "counterfactual"
    result = run_sweep(sweep_spec(chosen, seeds, scale, seed, overrides), folder / "runs",
                       workers=workers, scheduler=scheduler, serial=serial, progress=progress,
                       allow_import=True)
    require_complete(result, "govsim counterfactual")
    frame = table(result.runs, chosen)
    frame.to_csv(folder / "counterfactual.csv", index=False)
    return Counterfactuals(frame, result.runs, folder, list(result.notes))
