"""Beijing's published figures, and the simulated value each one is compared with.

The figures live in `sim/data/beijing_targets.csv` (measure, period, value, kind, source, note).
Each measure has one rule turning a run's results into the comparable number; the rules are
written down here so the comparison is the same in the fit, the report and the charts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from sim.results import Result
from sim.scenario.loader import apply_change, timeline_order
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class Target:
    measure: str
    period: str
    value: float
    kind: str
    source: str
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.measure} {self.period}"


def published_targets() -> list[Target]:
    """Every published figure of `sim/data/beijing_targets.csv`."""
    with resources.files("sim.data").joinpath("beijing_targets.csv").open(encoding="utf-8") as f:
        table = pd.read_csv(f, dtype={"period": str}, keep_default_na=False)
    return [Target(r.measure, r.period, float(r.value), r.kind, r.source, r.note)
            for r in table.itertuples(index=False)]


def state_at(scenario: Scenario, date: dt.date) -> Scenario:
    """The scenario as it stands on `date`: every timeline change up to then applied."""
    for _i, change in timeline_order(scenario):
        if change.date <= date:
            scenario = apply_change(scenario, change)
    return scenario


def _months(period: str) -> tuple[pd.Period, pd.Period]:
    if len(period) == 4:  # a year
        return pd.Period(f"{period}-01", "M"), pd.Period(f"{period}-12", "M")
    month = pd.Period(period, "M")
    return month, month


def _rate(monthly: pd.DataFrame, scenario: Scenario, target: Target) -> float:
    """Monthly resolution or satisfaction rate of 12345 tickets, by callback; once the
    assessment leaves unreasonable requests out, over the rest (the published basis)."""
    first, last = _months(target.period)
    kind = target.measure.removesuffix("_rate")
    rows = monthly.loc[(monthly.index >= first) & (monthly.index <= last)]
    if rows.empty:
        return float("nan")
    values = []
    for month, row in rows.iterrows():
        state = state_at(scenario, month.end_time.date())
        basis = "scored" if state.ranking.exclude_unreasonable else "ticket"
        values.append(row[f"{basis}_{kind}_rate"])
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def _response(monthly: pd.DataFrame, target: Target) -> float:
    first, last = _months(target.period)
    rows = monthly.loc[(monthly.index >= first) & (monthly.index <= last), "response_rate"]
    return float(rows.mean()) if rows.notna().any() else float("nan")


def _contacts(monthly: pd.DataFrame, target: Target) -> float:
    """Contacts with 12345 in the year; before the merger, 12345 was one of the departments'
    own lines, so the year counts contacts through those lines."""
    first, last = _months(target.period)
    rows = monthly.loc[(monthly.index >= first) & (monthly.index <= last)]
    if len(rows) < 12:
        return float("nan")  # the run does not cover the whole year
    hotline = float(rows["hotline_contacts"].sum())
    return hotline if hotline > 0 else float(rows["dept_line_contacts"].sum())


def _dispatched_share(scenario: Scenario, target: Target) -> float:
    state = state_at(scenario, dt.date(int(target.period[:4]), 12, 31))
    return 1.0 / (1.0 + state.hotline.consultations_per_request)


def heating_seasons(result: Result) -> tuple[str, str] | None:
    """(season before, first season after) heating first became a monthly theme, e.g.
    ("2020-21", "2021-22"); None if heating never became a theme in the run."""
    months = [t["month"] for t in result.meta.get("themes", []) if t["category"] == "heating"]
    if not months:
        return None
    month = pd.Period(min(months), "M")
    start_md = result.scenario.demand.heating_season[0]
    first_year = month.year if month.strftime("%m-%d") < start_md else month.year + 1
    return f"{first_year - 1}-{str(first_year)[2:]}", f"{first_year}-{str(first_year + 1)[2:]}"


def heating_tickets(result: Result, season: str) -> float:
    """Heating requests reported in one heating season ("2020-21"), real-city units."""
    start_md, end_md = result.scenario.demand.heating_season
    year = int(season[:4])
    start = pd.Timestamp(f"{year}-{start_md}")
    end = pd.Timestamp(f"{year + 1}-{end_md}") + pd.Timedelta(days=1)
    p = result.problems
    origin = pd.Timestamp(result.scenario.start_date)
    entered = origin + pd.to_timedelta(p["entered_h"], unit="h")
    sel = ((p["category"] == "heating") & p["channel"].isin(["hotline", "street_line",
                                                               "dept_line"])
           & (entered >= start) & (entered < end))
    if entered.max() < end:
        return float("nan")  # the season is not complete in the run
    return float(sel.sum()) * result.weight


def _heating_change(result: Result) -> float:
    seasons = heating_seasons(result)
    if seasons is None:
        return float("nan")
    before, after = (heating_tickets(result, s) for s in seasons)
    return after / before - 1.0 if before > 0 else float("nan")


def simulated(result: Result, target: Target, monthly: pd.DataFrame | None = None) -> float:
    """The run's value comparable with `target` (NaN when the run does not cover it)."""
    monthly = result.monthly() if monthly is None else monthly
    scenario = result.scenario
    if target.measure in ("resolution_rate", "satisfaction_rate"):
        return _rate(monthly, scenario, target)
    if target.measure == "response_rate":
        return _response(monthly, target)
    if target.measure == "hotline_contacts":
        return _contacts(monthly, target)
    if target.measure == "dispatched_share":
        return _dispatched_share(scenario, target)
    if target.measure == "heating_change":
        return _heating_change(result)
    raise KeyError(f"no rule for the published measure {target.measure!r}")


#: How each measure is compared, for the report (one line each).
RULES = {
    "resolution_rate": "12345 tickets closed in the period, resolved at callback (unreasonable "
                       "requests left out once the assessment leaves them out)",
    "satisfaction_rate": "12345 tickets closed in the period, satisfied at callback (same basis)",
    "response_rate": "12345 tickets reaching a handling unit within the response limit",
    "hotline_contacts": "requests x (1 + consultations per request) reported to 12345 in the "
                        "year; before the merger, to the departments' own lines",
    "dispatched_share": "1 / (1 + consultations per request): an input set from the figure",
    "heating_change": "heating requests in the first heating season after heating became a "
                      "monthly theme, relative to the season before",
}
