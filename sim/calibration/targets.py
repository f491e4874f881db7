"""Beijing's published figures, the simulated value each one is compared with, and how close
counts as a match.

The figures live in `sim/data/beijing_targets.csv` (measure, period, area, value, kind, source,
note). Each measure has one rule turning a run's results into the comparable number, and one
tolerance (`TOLERANCES`): within it a target passes. The rules are written down here so the
comparison is the same in the fit, the report and the charts.

Periods: a year (`2020`), a month (`2019-10`), a span of months (`2019-01..2021-11`) or a
heating season (`2020-21`: from the season's opening in 2020 to its close in 2021). An `area`
is a district of the model city (its English name); empty: the whole city.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

import numpy as np
import pandas as pd

from sim.engine.counting import CATEGORY_AROSE, CATEGORY_REQUESTS, HOTLINE_TICKETS
from sim.ledger import Aggregates
from sim.results import Result
from sim.scenario.loader import apply_change, timeline_order
from sim.scenario.schema import Scenario

#: The channels through which a resident reports (the 12345 line, the old lines).
REPORT_CHANNELS = ("hotline", "street_line", "dept_line")
#: The problem table's columns the rules read, when they read a problem table (a result
#: without counts: `Aggregates.of_table`); a fit's runs keep none (`sim.run(..., columns=())`)
#: and the rules read their counts.
RULE_COLUMNS = ("category", "district", "occurred_h", "entered_h", "channel", "closed_h",
                "outcome", "responded", "callback_resolved", "satisfied", "unreasonable",
                "weight")


@dataclass(frozen=True)
class Target:
    measure: str
    period: str
    value: float
    kind: str
    source: str
    note: str = ""
    area: str = ""

    @property
    def key(self) -> str:
        where = f" {self.area}" if self.area else ""
        return f"{self.measure} {self.period}{where}"


def published_targets() -> list[Target]:
    """Every published figure of `sim/data/beijing_targets.csv`."""
    with resources.files("sim.data").joinpath("beijing_targets.csv").open(encoding="utf-8") as f:
        table = pd.read_csv(f, dtype={"period": str, "area": str}, keep_default_na=False)
    return [Target(r.measure, r.period, float(r.value), r.kind, r.source, r.note, r.area)
            for r in table.itertuples(index=False)]


# -------------------------------------------------------------------------------- tolerances
class Tolerance(NamedTuple):
    size: float
    relative: bool  # relative to the published value; else in the measure's own units
    unit: str = "points"  # of an absolute tolerance: percentage points of a share, or minutes

    def error(self, simulated: float, published: float) -> float:
        """Signed error in the tolerance's terms (a share of the value, or absolute)."""
        diff = simulated - published
        return diff / abs(published) if self.relative else diff

    def describe(self) -> str:
        if self.relative:
            return f"±{100 * self.size:g} %"
        return f"±{self.size:g} {self.unit}" if self.unit != "points" else \
            f"±{100 * self.size:g} points"


RATE = Tolerance(0.03, relative=False)  # 3 percentage points
VOLUME = Tolerance(0.06, relative=True)  # 6 %
CHANGE = Tolerance(0.05, relative=False)  # 5 points of change

#: How close a simulated value must be to pass, per measure.
TOLERANCES: dict[str, Tolerance] = {
    "resolution_rate": RATE, "satisfaction_rate": RATE, "response_rate": RATE,
    "dispatched_share": RATE, "phone_share": RATE, "core_district_share": RATE,
    "hotline_contacts": VOLUME, "hotline_requests": VOLUME, "peak_day_contacts": VOLUME,
    "heating_tickets": VOLUME,
    "hotline_requests_change": CHANGE, "heating_change": CHANGE,
    "heating_first_day_change": CHANGE,
    "theme_problems": Tolerance(0.25, relative=True),
    "dispatch_minutes": Tolerance(0.5, relative=False, unit="minutes"),
}


def tolerance(target: Target) -> Tolerance:
    return TOLERANCES[target.measure]


def passes(target: Target, simulated: float) -> bool | None:
    """Within tolerance (a lower bound, kind `at least`: at or above it less the tolerance);
    None when the run gives no comparable value."""
    if not math.isfinite(simulated):
        return None
    tol = tolerance(target)
    err = tol.error(simulated, target.value)
    if target.kind == "at least":
        return err >= -tol.size
    return abs(err) <= tol.size


def scaled_error(target: Target, simulated: float) -> float:
    """Error in units of the tolerance (|e| <= 1 passes; a lower bound met counts 0)."""
    tol = tolerance(target)
    err = tol.error(simulated, target.value) / tol.size
    if target.kind == "at least":
        return min(err, 0.0)
    return err


# ----------------------------------------------------------------------------------- periods
def state_at(scenario: Scenario, date: dt.date) -> Scenario:
    """The scenario as it stands on `date`: every timeline change up to then applied."""
    for _i, change in timeline_order(scenario):
        if change.date <= date:
            scenario = apply_change(scenario, change)
    return scenario


def span(period: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of a year, a month or a span of months (`2019-01..2021-11`)."""
    first, _, last = period.partition("..")
    last = last or first
    if len(first) == 4:
        start = pd.Timestamp(f"{first}-01-01")
    else:
        start = pd.Period(first, "M").start_time
    end = (pd.Timestamp(f"{int(last) + 1}-01-01") if len(last) == 4
           else (pd.Period(last, "M") + 1).start_time)
    return start, end


def _months(period: str) -> pd.PeriodIndex:
    start, end = span(period)
    return pd.period_range(start, end - pd.Timedelta(days=1), freq="M")


def _run_end(result: Result) -> pd.Timestamp:
    spec = result.scenario
    return pd.Timestamp(spec.start_date) + pd.Timedelta(days=spec.days)


def _covered(result: Result, start: pd.Timestamp, end: pd.Timestamp) -> bool:
    """The run's measured days (after any warm-up) include [start, end)."""
    spec = result.scenario
    return pd.Timestamp(spec.start_date) <= start and end <= _run_end(result)


def _season(result: Result, season: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of a heating season (`2020-21`)."""
    start_md, end_md = result.scenario.demand.heating_season
    year = int(season[:4])
    return (pd.Timestamp(f"{year}-{start_md}"),
            pd.Timestamp(f"{year + 1}-{end_md}") + pd.Timedelta(days=1))


def _previous_season(season: str) -> str:
    year = int(season[:4]) - 1
    return f"{year}-{str(year + 1)[2:]}"


# ------------------------------------------------------------------------------------- rules
class Run:
    """One run's tables as the rules read them: its counts (`Result.aggregates`, or those of
    its problem table), by day from the run's start, each area's monthly table made once."""

    def __init__(self, result: Result, monthly: pd.DataFrame | None = None):
        self.result = result
        self.scenario = result.scenario
        self.k = result.weight
        self.origin = pd.Timestamp(self.scenario.start_date)
        self.counts = (result.aggregates if result.aggregates is not None
                       else Aggregates.of_table(result.problems, self.scenario.days, self.k))
        self._monthly: dict[str, pd.DataFrame] = {}
        if monthly is not None:
            self._monthly[""] = monthly

    def day(self, when: pd.Timestamp) -> int:
        """Days from the run's start to `when` (a midnight)."""
        return (when - self.origin).days

    def area(self, area: str) -> int | None | bool:
        """The area's district (None: the whole city; False: not a district of the city)."""
        if not area:
            return None
        district = self.counts.district(area)
        return False if district is None else district

    def monthly(self, area: str = "") -> pd.DataFrame | None:
        if area not in self._monthly:
            district = self.area(area)
            if district is False:
                return None
            self._monthly[area] = self.counts.monthly(self.scenario, district)
        return self._monthly[area]

    def _days(self, counts: np.ndarray, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        return counts[max(0, self.day(start)):max(0, self.day(end))]

    def tickets(self, start: pd.Timestamp, end: pd.Timestamp, area: str = "",
                ) -> np.ndarray | None:
        """12345 tickets entered each day of [start, end) (None: no such area)."""
        district = self.area(area)
        if district is False:
            return None
        return self._days(self.counts.day_counts(HOTLINE_TICKETS, district), start, end)

    def heating(self, start: pd.Timestamp, end: pd.Timestamp, when: str = "entered_h") -> float:
        """Heating problems reported (`entered_h`) or occurring (`occurred_h`, less those
        prevented at their source) in [start, end), real-city units."""
        if "heating" not in self.counts.labels["category"]:
            return 0.0
        heating = self.counts.labels["category"].index("heating")
        measure = CATEGORY_REQUESTS if when == "entered_h" else CATEGORY_AROSE
        days = self._days(self.counts.category_counts(measure, heating), start, end)
        return float(days.sum()) * self.k


def _rate(run: Run, target: Target) -> float:
    """Mean monthly resolution, satisfaction or response rate of 12345 tickets, by callback;
    once the assessment leaves unreasonable requests out, over the rest (the published basis)."""
    monthly = run.monthly(target.area)
    if monthly is None:
        return float("nan")
    months = _months(target.period)
    rows = monthly.reindex(months)
    if target.measure == "response_rate":
        values = rows["response_rate"].to_numpy(float)
    else:
        kind = target.measure.removesuffix("_rate")
        values = []
        for month, row in rows.iterrows():
            state = state_at(run.scenario, month.end_time.date())
            basis = "scored" if state.ranking.exclude_unreasonable else "ticket"
            values.append(row[f"{basis}_{kind}_rate"])
        values = np.asarray(values, float)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def _contacts(run: Run, target: Target) -> float:
    """Contacts with 12345 in the period; before the merger, 12345 was one of the departments'
    own lines, so a period before it counts contacts through those lines."""
    start, end = span(target.period)
    monthly = run.monthly(target.area)
    if monthly is None or not _covered(run.result, start, end):
        return float("nan")
    rows = monthly.reindex(_months(target.period))
    hotline = float(rows["hotline_contacts"].sum())
    return hotline if hotline > 0 else float(rows["dept_line_contacts"].sum())


def _requests(run: Run, target: Target, shift_years: int = 0) -> float:
    """12345 tickets (requests dispatched) that entered in the period."""
    start, end = span(target.period)
    start, end = start - pd.DateOffset(years=shift_years), end - pd.DateOffset(years=shift_years)
    if not _covered(run.result, start, end):
        return float("nan")
    days = run.tickets(start, end, target.area)
    return float("nan") if days is None else float(days.sum()) * run.k


def _requests_change(run: Run, target: Target) -> float:
    now, before = _requests(run, target), _requests(run, target, shift_years=1)
    return now / before - 1.0 if before > 0 else float("nan")


def _peak_day(run: Run, target: Target) -> float:
    start, end = span(target.period)
    if not _covered(run.result, start, end):
        return float("nan")
    days = run.tickets(start, end, target.area)
    if days is None or not days.sum():
        return float("nan")
    per_request = 1.0 + run.scenario.hotline.consultations_per_request
    return float(days.max()) * run.k * per_request


def _core_share(run: Run, target: Target) -> float:
    """Share of the period's 12345 tickets filed in the six urban-core districts."""
    start, end = span(target.period)
    if not _covered(run.result, start, end):
        return float("nan")
    tickets = int(run.tickets(start, end).sum())
    if not tickets:
        return float("nan")
    core = sum(int(run.tickets(start, end, area).sum()) for area in CORE_DISTRICTS
               if run.area(area) is not False)
    return float(np.float64(core) / tickets)


def _input(run: Run, target: Target) -> float:
    """A figure the scenario takes as an input, read from it as it stands at the period's end."""
    _, end = span(target.period)
    state = state_at(run.scenario, (end - pd.Timedelta(days=1)).date())
    if target.measure == "dispatched_share":
        return 1.0 / (1.0 + state.hotline.consultations_per_request)
    return float(state.hotline.dispatch_minutes)


def heating_tickets(result: Result | Run, season: str) -> float:
    """Heating requests reported in one heating season (`2020-21`), real-city units; NaN when
    the run does not cover the season."""
    run = result if isinstance(result, Run) else Run(result)
    start, end = _season(run.result, season)
    if not _covered(run.result, start, end):
        return float("nan")
    return run.heating(start, end)


def heating_change(result: Result | Run, season: str, when: str = "entered_h") -> float:
    """Heating requests reported (or, `occurred_h`, heating problems occurring) in `season`
    against the season before, as a change."""
    run = result if isinstance(result, Run) else Run(result)
    seasons = (_season(run.result, _previous_season(season)), _season(run.result, season))
    if not all(_covered(run.result, *s) for s in seasons):
        return float("nan")
    before, after = (run.heating(*s, when=when) for s in seasons)
    return after / before - 1.0 if before > 0 else float("nan")


def _first_day_change(run: Run, target: Target) -> float:
    (s0, _), (s1, _) = (_season(run.result, _previous_season(target.period)),
                        _season(run.result, target.period))
    day = pd.Timedelta(days=1)
    if not (_covered(run.result, s0, s0 + day) and _covered(run.result, s1, s1 + day)):
        return float("nan")
    before, after = run.heating(s0, s0 + day), run.heating(s1, s1 + day)
    return after / before - 1.0 if before > 0 else float("nan")


def _theme_problems(run: Run, target: Target) -> float:
    """每月一题's problems taken up in the period: its hot-spot projects (a theme a month,
    `themes.problems_per_month` problems each)."""
    start, end = span(target.period)
    if not _covered(run.result, start, end):
        return float("nan")
    return float(sum(1 for t in run.result.meta.get("themes", [])
                     if t.get("kind") == "hot_spot"
                     and start <= pd.Timestamp(f"{t['month']}-01") < end))


#: The six districts of Beijing's urban core (城六区).
CORE_DISTRICTS = ("Dongcheng", "Xicheng", "Chaoyang", "Haidian", "Fengtai", "Shijingshan")

_RULES = {
    "resolution_rate": _rate, "satisfaction_rate": _rate, "response_rate": _rate,
    "hotline_contacts": _contacts, "hotline_requests": _requests,
    "hotline_requests_change": _requests_change, "peak_day_contacts": _peak_day,
    "core_district_share": _core_share, "dispatched_share": _input, "dispatch_minutes": _input,
    "heating_change": lambda run, t: heating_change(run, t.period),
    "heating_tickets": lambda run, t: heating_tickets(run, t.period),
    "heating_first_day_change": _first_day_change, "theme_problems": _theme_problems,
    "phone_share": lambda run, t: float("nan"),
}


def simulated(result: Result | Run, target: Target, monthly: pd.DataFrame | None = None,
              ) -> float:
    """The run's value comparable with `target` (NaN when the run does not cover it, or the
    model has nothing comparable)."""
    run = result if isinstance(result, Run) else Run(result, monthly)
    try:
        rule = _RULES[target.measure]
    except KeyError:
        raise KeyError(f"no rule for the published measure {target.measure!r}") from None
    return rule(run, target)


def simulated_all(result: Result | Run, targets: list[Target]) -> list[float]:
    """Every target's simulated value, each area's tables made once."""
    run = result if isinstance(result, Run) else Run(result)
    return [simulated(run, t) for t in targets]


#: Values the model takes as inputs (compared to show they are set from the figure, not tests).
INPUTS = ("dispatched_share", "dispatch_minutes")

#: How each measure is compared, for the report (one line each).
RULES = {
    "resolution_rate": "mean monthly share of 12345 tickets closed in the month, resolved at "
                       "callback (unreasonable requests left out once the assessment leaves "
                       "them out)",
    "satisfaction_rate": "mean monthly share of 12345 tickets closed in the month, satisfied at "
                         "callback (same basis)",
    "response_rate": "12345 tickets reaching a handling unit within the response limit",
    "hotline_contacts": "requests x (1 + consultations per request) reported to 12345 in the "
                        "period; before the merger, to the departments' own lines",
    "hotline_requests": "12345 tickets (requests dispatched) entered in the period",
    "hotline_requests_change": "12345 tickets entered in the period against the same months a "
                               "year earlier",
    "peak_day_contacts": "the most contacts (tickets x (1 + consultations)) on one day of the "
                         "period",
    "core_district_share": "share of the period's 12345 tickets filed in the six urban-core "
                           "districts",
    "dispatched_share": "1 / (1 + consultations per request): an input set from the figure",
    "dispatch_minutes": "the scenario's mean dispatch delay: an input set from the figure",
    "heating_change": "heating requests reported in the heating season against the season "
                      "before",
    "heating_tickets": "heating requests reported in the heating season",
    "heating_first_day_change": "heating requests reported on the season's first day against "
                                "the first day of the season before",
    "theme_problems": "每月一题 hot-spot projects (problems) begun in the period",
    "phone_share": "not modelled: the model has one 12345 channel, not phone and online",
}
