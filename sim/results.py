"""A run's results as tidy tables: one row per problem, one row per unit per day, rankings, the
city's day-by-day series, and a one-row summary of the measures of docs/model.md.

Counts in `summary` are in real-city units (divided by `scale`); the problem table holds the
simulated problems themselves, each standing for 1/scale real ones (`weight`). Times are in hours
everywhere, and every column holding one says so (`_h`); shares are fractions (`_share`, `_rate`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import yaml

from sim.cases import (
    CHANNELS,
    CLOSED_UNRESOLVED,
    DEPT_LINE,
    HOTLINE,
    INSPECTION,
    NEVER_REPORTED,
    OPEN,
    OUTCOMES,
    PATROL,
    PREVENTED,
    RESOLVED,
    release,
)
from sim.cases import columns as case_columns
from sim.engine.counting import (
    FOUND,
    OCCURRED,
    REQUESTS,
    RESOLVED_DAY,
    SATISFIED,
    UNRESOLVED_DAY,
    VERDICTS,
)
from sim.engine.workload import ARRIVALS, BUSY, COMPLETIONS, SOJOURN, in_system_hours, per_unit
from sim.ledger import (
    FLAGS,
    LABELLED,
    PROBLEM_COLUMNS,
    REQUEST_CHANNELS,
    Aggregates,
    Tally,
    frame_of,
    medians_by_day,
    month_lookup,
    problem_frame,
    problem_rows,
    quantiles,
    sources,
)
from sim.outputs import staged_folder
from sim.record import RunRecord
from sim.resolution import WITHIN_DAYS, headline, resolution_curve
from sim.scenario.schema import Scenario
from sim.units import RANK_CLASSES, UNIT_TYPES

if TYPE_CHECKING:
    from sim.model import GovernanceModel

TABLES = ("problems", "units_daily", "rankings", "daily", "summary")

#: Summary columns that describe the run's inputs rather than its outcomes.
SUMMARY_INPUTS = ("scenario", "regime", "seed", "days", "scale")
_QUANTILES = ("mean", "median", "p90", "p99")
_PER_UNIT_TYPE = ("staff_hours", "utilisation", "overtime_hours", "mean_backlog",
                  "overloaded_units", "end_utilisation", "end_backlog", "backlog_growth_per_day")

#: The measures of `summary`, in order, known without running anything (sweeps check the
#: outcomes a spec names against these). `summarise` builds exactly these columns.
OUTCOME_COLUMNS: tuple[str, ...] = (
    "occurred", "reported", "found_proactively", "prevented", "never_reported", "resolved",
    "closed_unresolved", "still_open",
    # waits over ALL problems (sim.resolution): from occurrence, then from report
    *(f"resolved_within_{d}d_share" for d in WITHIN_DAYS), "half_resolved_h",
    *(f"reported_resolved_within_{d}d_share" for d in WITHIN_DAYS), "reported_half_resolved_h",
    # waits over resolved problems only
    *(f"resolved_latency_occurrence_h_{q}" for q in _QUANTILES),
    *(f"resolved_latency_report_h_{q}" for q in _QUANTILES),
    "resolved_share",  # resolved / occurred: of ALL problems, not only the closed cases
    "response_rate", "resolution_rate", "satisfaction_rate", "score",
    "handoffs_per_case", "bounces_per_case", "bounced_share", "whistled_share", "overdue_share",
    "first_to_street_share",  # tickets whose first handling unit is a street office (or team)
    "hotline_contacts",
    *(f"{u}_{m}" for u in UNIT_TYPES for m in _PER_UNIT_TYPE),
    "overloaded_units",  # units with utilisation above 1 or a growing backlog at the end
    "accounting_ok",  # every problem counted once, in one outcome (checked by `collect`)
)
#: Text columns of `summary` (not measures a sweep can average).
TEXT_COLUMNS = ("overload",)  # which units are overloaded and how much; "" when none
SUMMARY_COLUMNS: tuple[str, ...] = (*SUMMARY_INPUTS, *OUTCOME_COLUMNS, *TEXT_COLUMNS)

#: Units of the summary's measures, by how a column's name ends (first match wins). Times are in
#: hours everywhere and say so (`_h`, `_hours`); shares and rates are fractions of 1; counts are
#: real-city ones (simulated x `Result.weight`).
_UNIT_BY_SUFFIX = (
    ("_backlog_growth_per_day", "cases per day"), ("_per_day", "per day"),
    ("_h", "hours"), ("_hours", "hours"), ("_h_mean", "hours"), ("_h_median", "hours"),
    ("_h_p90", "hours"), ("_h_p99", "hours"),
    ("_share", "fraction"), ("_rate", "fraction"), ("_utilisation", "fraction"),
    ("score", "fraction"), ("_per_case", "per case"), ("_overloaded_units", "units"),
    ("overloaded_units", "units"), ("_backlog", "cases"), ("hotline_contacts", "contacts"),
    ("accounting_ok", "true/false"), ("days", "days"), ("scale", "fraction"),
)
_COUNTS = ("occurred", "reported", "found_proactively", "prevented", "never_reported",
           "resolved", "closed_unresolved", "still_open")


def measure_unit(column: str) -> str:
    """The unit of a summary column: "hours", "fraction", "problems" (real city), "cases",
    "units", ... ("" for text and labels such as `scenario`, `regime`, `seed`)."""
    if column in _COUNTS:
        return "problems"
    for suffix, unit in _UNIT_BY_SUFFIX:
        if column.endswith(suffix):
            return unit
    return ""


class AccountingError(RuntimeError):
    """A problem was lost or counted twice: a bug in the engine, never a user error."""


class Result:
    """Everything one run produced. `save(folder)` writes it; `Result.load(folder)` reads it.

    `problems` is read when first asked for: a streamed run keeps it on disk
    (`sim.problem_file`), a saved one in its folder. `aggregates` (`sim.ledger.Aggregates`)
    are the run's counts, which `monthly()`, `by_district()` and the calibration's rules read
    instead of the problem table; a result without them (loaded, or built by hand) counts
    its problem table.

    `repr(result)` is one line (scenario, size, three headline measures); in a notebook the
    result shows as a small HTML table of its key measures and the tables it holds.
    """

    def __init__(self, scenario: Scenario, problems: object, units_daily: pd.DataFrame,
                 rankings: pd.DataFrame, daily: pd.DataFrame, summary: pd.DataFrame,
                 meta: dict | None = None, aggregates: Aggregates | None = None):
        self.scenario = scenario
        self._problems = problems  # a DataFrame, something that `read()`s one, or None
        self.units_daily, self.rankings, self.daily = units_daily, rankings, daily
        self.summary = summary  # one row
        self.meta = {} if meta is None else meta
        self.aggregates = aggregates

    @property
    def problems(self) -> pd.DataFrame:
        """One row per simulated problem (read from disk when first asked for)."""
        if self._problems is None:
            raise ValueError("this run did not keep its problem table (sim.run(..., "
                             "problems=False) or a lean run): run it with problems=True")
        if not isinstance(self._problems, pd.DataFrame):
            self._problems = self._problems.read()
        return self._problems

    @problems.setter
    def problems(self, table: pd.DataFrame) -> None:
        self._problems = table

    @property
    def kept_problems(self) -> bool:
        """Whether the run kept its problem table."""
        return self._problems is not None

    def rows(self, name: str) -> int:
        """Rows of table `name` (the problem table's without reading it)."""
        table = self._problems if name == "problems" else getattr(self, name)
        return 0 if table is None else len(table)

    def __getstate__(self) -> dict:
        """Pickled (to another process) with the problem table in it, as a table."""
        state = dict(self.__dict__)
        if self._problems is not None:
            state["_problems"] = self.problems
        return state

    @property
    def measures(self) -> pd.Series:
        return self.summary.iloc[0]

    @property
    def weight(self) -> float:
        """Real problems each simulated one stands for: 1 / the share of residents simulated
        (close to 1 / scale; see sim.sampling). Multiply city-wide counts by it; a sampled
        street's own figures are real as they are."""
        share = self.meta.get("simulated_share")
        return 1.0 / float(share) if share else 1.0 / self.scenario.scale

    @property
    def overload(self) -> pd.DataFrame:
        """Each unit at the end of the run: utilisation, backlog growth, `overloaded` (see
        `overload_table`); `summary["overload"]` says the same in one line."""
        return overload_table(self.units_daily)

    def monthly(self) -> pd.DataFrame:
        """Month-by-month measures (see `monthly`)."""
        if self.aggregates is not None:
            return self.aggregates.monthly(self.scenario)
        return monthly(self.problems, self.scenario)

    def by_district(self) -> pd.DataFrame:
        """Problems and requests per district, real-city units (see `district_table`)."""
        sums = (self.aggregates.district_sums() if self.aggregates is not None
                else district_sums(self.problems))
        return district_rows(sums, self.weight, self.meta.get("district_population"),
                             self.meta.get("district_simulated_share"))

    @property
    def name(self) -> str:
        """The scenario's name (with a variant's overrides, e.g. `hotline[ranking.enabled=False]`)."""
        return str(self.summary["scenario"].iloc[0]) if len(self.summary) else self.scenario.name

    def __repr__(self) -> str:
        s = self.scenario
        head = f"<Result {self.name} ({s.regime}): seed {s.seed}, {s.days} days, scale {s.scale:g}"
        if self.summary.empty:
            return head + ">"
        m = self.measures
        return (f"{head}; {_fmt(m.get('resolved_share'), 'fraction')} of problems resolved, "
                f"half resolved by {_fmt(m.get('half_resolved_h'), 'hours')}, "
                f"satisfaction {_fmt(m.get('satisfaction_rate'), 'fraction')}>")

    def _repr_html_(self) -> str:
        from html import escape

        s = self.scenario
        rows = "".join(
            f"<tr><td style='text-align:left'>{escape(label)}</td>"
            f"<td style='text-align:left'><code>{column}</code></td>"
            f"<td>{escape(_fmt(self.measures.get(column), measure_unit(column)))}</td></tr>"
            for label, column in KEY_MEASURES) if not self.summary.empty else ""
        tables = ", ".join(f"<code>{name}</code> {self.rows(name):,} rows"
                           for name in TABLES)
        return (f"<div><b>Result</b> <code>{escape(self.name)}</code> ({escape(s.regime)}) — "
                f"seed {s.seed}, {s.days} days, scale {s.scale:g}"
                "<table><thead><tr><th style='text-align:left'>measure</th>"
                "<th style='text-align:left'>column</th><th>value</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>"
                f"<small>tables: {tables}. Times in hours; counts in real-city problems."
                "</small></div>")

    def save(self, folder: str | Path, csv: bool = False) -> Path:
        """Write every table as Parquet (and, with `csv`, as CSV) plus the scenario, all or
        nothing. A problem table on disk is copied a block at a time, never read whole."""
        folder = Path(folder)
        with staged_folder(folder) as tmp:  # the old result stays until the new one is in
            for name in TABLES:
                table = self._problems if name == "problems" else getattr(self, name)
                if table is None:
                    table = pd.DataFrame(columns=list(PROBLEM_COLUMNS))
                if isinstance(table, pd.DataFrame):
                    table.to_parquet(tmp / f"{name}.parquet", index=False)
                    if csv:
                        table.to_csv(tmp / f"{name}.csv", index=False)
                else:
                    table.write_parquet(tmp / f"{name}.parquet")
                    if csv:
                        table.write_csv(tmp / f"{name}.csv")
            (tmp / "scenario.yaml").write_text(
                yaml.safe_dump(self.scenario.model_dump(mode="json"), allow_unicode=True,
                               sort_keys=False), encoding="utf-8")
            (tmp / "meta.json").write_text(json.dumps(self.meta, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Result:
        """A run written by `save`; every file is checked as input (`sim.saved`), so a damaged
        or foreign folder is an InputError naming the file and field. Its problem table is read
        when first asked for."""
        from sim.problem_file import SavedTable
        from sim.saved import read_saved

        folder = Path(folder)
        tables, scenario, meta = read_saved(folder)
        return cls(scenario=scenario, meta=meta,
                   problems=SavedTable(folder / "problems.parquet"), **tables)


#: What `Result`'s notebook display and `Comparison`'s show first: (label, summary column).
KEY_MEASURES = (
    ("problems that occurred", "occurred"),
    ("resolved, of all problems", "resolved_share"),
    ("resolved within 1 day", "resolved_within_1d_share"),
    ("resolved within 7 days", "resolved_within_7d_share"),
    ("half of all problems resolved by", "half_resolved_h"),
    ("resolution rate (of closed cases)", "resolution_rate"),
    ("satisfaction", "satisfaction_rate"),
    ("units overloaded at the end", "overloaded_units"),
)


def _fmt(value: object, unit: str) -> str:
    """A measure for people: fractions as %, hours as hours (and days), counts with commas."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—" if value is None else str(value)
    if np.isnan(number):
        return "not reached" if unit == "hours" else "—"
    if unit == "fraction":
        return f"{100 * number:.1f} %"
    if unit == "hours":
        return f"{number:,.1f} h ({number / 24:.2f} days)"
    if unit in ("problems", "cases", "contacts"):
        return f"{number:,.0f}"
    return f"{number:,.4g}"


def table_seed(seed: int) -> int | str:
    """The seed as a table holds it: a number when it fits in 64 bits (Parquet's integers),
    else its decimal digits (a seed may be of any size: the engine takes it through
    numpy's SeedSequence; scenario.yaml and meta.json keep it as a number)."""
    return seed if seed < 2**63 else str(seed)


def monthly(problems: pd.DataFrame, scenario: Scenario,
            rows: np.ndarray | None = None) -> pd.DataFrame:
    """Month-by-month measures, in real-city units, one row per calendar month.

    Volumes count problems by the month they occurred (`occurred`, `prevented`) or were reported
    (`reported`, `hotline_contacts`: 12345 tickets x (1 + consultations per request)). Rates count
    cases by the month they closed: `resolution_rate` and `satisfaction_rate` over every closed
    case; `ticket_*` over 12345 tickets only, as the callback records them - the basis of
    Beijing's published monthly figures; `scored_*` over tickets less unreasonable requests (the
    assessment basis once they are left out of it); `response_rate` over tickets (NaN before
    the hotline). `dept_line_contacts` counts reports through departments' own lines (the old,
    pre-merger 12345 among them) x (1 + consultations per request).

    `rows`: a mask of the problems to count (a district's, say); None: all. The columns are
    read as arrays, never copied as a table (a 1:1 history has some 70 million rows).
    """
    k = float(problems["weight"].iloc[0]) if len(problems) else 1.0 / scenario.scale
    index, day_month = month_lookup(scenario)
    months = _Months(problems, rows, day_month, len(index), scenario.days)
    out = pd.DataFrame(index=index)
    outcome, channel = months.col("outcome"), months.col("channel")
    per_request = 1.0 + scenario.hotline.consultations_per_request
    _monthly_volumes(out, months, outcome, channel, k, per_request)
    _monthly_rates(out, months, outcome, channel, k)
    return out


class _Months:
    """Counting the problem table's rows (those of a mask `rows`; None: all) by calendar month:
    `day_month` gives each day's month as a position among `n` months."""

    def __init__(self, problems: pd.DataFrame, rows: np.ndarray | None, day_month: np.ndarray,
                 n: int, days: int):
        self.problems, self.rows, self.n = problems, rows, n
        self.n_days = days + 1
        self.day_month = np.append(day_month, -1).astype(np.int16)  # the last: unknown or outside

    def month_of(self, hours: np.ndarray) -> np.ndarray:
        """Each time's month as a position in `index` (-1: unknown or outside the run), in
        small integers: at 1:1 every temporary here is tens of millions of rows."""
        day = hours / 24.0
        np.floor(day, out=day)
        day[~((day >= 0) & (day < self.n_days))] = self.n_days  # NaN (never) too
        return self.day_month[day.astype(np.int32)]

    def count(self, pos: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Rows (or their `weights`) per month; rows of no month (-1) left out."""
        ok = pos >= 0
        return np.bincount(pos[ok], None if weights is None else weights[ok], minlength=self.n)

    def mean(self, pos: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """Share of the flags set (-1: none, left out) per month; NaN for a month without."""
        ok = flags >= 0
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.count(pos[ok], flags[ok].astype(float)) / self.count(pos[ok])

    def col(self, name: str) -> np.ndarray:
        """A column as an array of the counted rows: codes for labels, 1 / 0 / -1 for flags."""
        if name in LABELS:
            values = codes(self.problems, name)
        else:
            column = self.problems[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                column = column.cat.codes
            elif isinstance(column.dtype, pd.BooleanDtype):  # 1 / 0, and -1 for none
                column = column.astype("Int8").fillna(-1)
            values = column.to_numpy()
        return values if self.rows is None else values[self.rows]


def _monthly_volumes(out: pd.DataFrame, m: _Months, outcome: np.ndarray, channel: np.ndarray,
                     k: float, per_request: float) -> None:
    """`monthly`'s volumes (into `out`): problems by the month they occurred or were reported,
    contacts as `per_request` per request. Each month column is let go once counted."""
    occurred_m = m.month_of(m.col("occurred_h"))
    out["occurred"] = m.count(occurred_m) * k
    out["prevented"] = m.count(occurred_m[outcome == PREVENTED]) * k
    del occurred_m
    entered_m = m.month_of(m.col("entered_h"))
    reported = np.isin(channel, REQUEST_CHANNELS)  # NaN entries have no month: not counted
    out["reported"] = m.count(entered_m[reported]) * k
    out["hotline_contacts"] = m.count(entered_m[channel == HOTLINE]) * k * per_request
    out["dept_line_contacts"] = m.count(entered_m[channel == DEPT_LINE]) * k * per_request


def _monthly_rates(out: pd.DataFrame, m: _Months, outcome: np.ndarray, channel: np.ndarray,
                   k: float) -> None:
    """`monthly`'s rates (into `out`): closed cases by the month they closed, over every closed
    case, over 12345 tickets, and over tickets less unreasonable requests."""
    closed = (outcome == RESOLVED) | (outcome == CLOSED_UNRESOLVED)
    by_close = m.month_of(m.col("closed_h")[closed])
    satisfied = m.col("satisfied")
    out["closed"] = m.count(by_close) * k
    out["resolution_rate"] = m.mean(by_close, (outcome[closed] == RESOLVED).astype(np.int8))
    out["satisfaction_rate"] = m.mean(by_close, satisfied[closed])
    tickets = closed & (channel == HOTLINE)
    by_cb = m.month_of(m.col("closed_h")[tickets])
    callback_resolved = m.col("callback_resolved")
    for name, flags in (("ticket_resolution_rate", callback_resolved),
                        ("ticket_satisfaction_rate", satisfied),
                        ("response_rate", m.col("responded"))):
        out[name] = m.mean(by_cb, flags[tickets])
    reasonable = ~m.col("unreasonable")[tickets]
    for name, flags in (("scored_resolution_rate", callback_resolved),
                        ("scored_satisfaction_rate", satisfied)):
        out[name] = m.mean(by_cb[reasonable], flags[tickets][reasonable])


#: The labels of the problem table's coded columns, in the engine's order (their codes).
LABELS = {"outcome": OUTCOMES, "channel": CHANNELS}


def codes(problems: pd.DataFrame, name: str) -> np.ndarray:
    """The `outcome` or `channel` column as the engine's codes (positions in `LABELS[name]`,
    -1 for none), whatever the order or type of the table's column: the tables count codes,
    not a string per problem, and a reordered or plain-text column must count the same."""
    column = problems[name]
    if not (isinstance(column.dtype, pd.CategoricalDtype)
            and list(column.cat.categories) == list(LABELS[name])):
        column = pd.Series(pd.Categorical(column, categories=LABELS[name]))
    return column.cat.codes.to_numpy()


def first_to_street_share(p: pd.DataFrame, dept_base: int) -> float:
    """Of the residents' requests that reached a handling unit, the share whose first unit (the
    one it was sent or dispatched to, scored for it: `owner_unit`) is a street office or its
    enforcement team. A hotline request of unclear jurisdiction counts by the unit the district
    centre passes it to; a request the street reports up counts as the street's."""
    ch = codes(p, "channel")
    owner = p["owner_unit"].to_numpy()
    sel = np.isin(ch, REQUEST_CHANNELS) & (owner >= 0)
    return float((owner[sel] < dept_base).mean()) if sel.any() else float("nan")


def district_sums(p: pd.DataFrame) -> pd.DataFrame:
    """Per district: problems, residents' requests (entered), problems found by patrols or
    inspections, resolved (simulated problems)."""
    ch = codes(p, "channel")
    entered = p["entered_h"].notna().to_numpy()
    out = codes(p, "outcome")
    frame = pd.DataFrame({
        "district": p["district"],
        "occurred": 1.0,
        "requests": (np.isin(ch, REQUEST_CHANNELS) & entered).astype(float),
        "found_proactively": np.isin(ch, [PATROL, INSPECTION]).astype(float),
        "resolved": (out == RESOLVED).astype(float),
    })
    return frame.groupby("district", observed=False).sum()


def district_table(p: pd.DataFrame, weight: float,
                   population: dict[str, int] | None = None,
                   simulated_share: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per district: problems occurred, residents' requests (tickets through the
    street's or a department's line or 12345), problems found by patrols or inspections,
    resolved, each district's share of the city's requests, requests per problem, and (given
    the districts' populations) per 10,000 residents. Counts in real-city units: each
    district's simulated counts over the share of its residents simulated
    (`simulated_share`; without it, times the run's `weight`), so that a district sampled
    a little above or below the run's scale is not over- or under-counted."""
    return district_rows(district_sums(p), weight, population, simulated_share)


def district_rows(t: pd.DataFrame, weight: float, population: dict[str, int] | None = None,
                  simulated_share: dict[str, float] | None = None) -> pd.DataFrame:
    """`district_table` from the districts' sums (`district_sums`, or a run's counts)."""
    if simulated_share:
        share = pd.Series(simulated_share, dtype=float).reindex(t.index)
        t = t.div(share.where(share > 0), axis=0)
    else:
        t = t * weight
    total = t["requests"].sum()
    t["request_share"] = t["requests"] / total if total else np.nan
    t["requests_per_problem"] = t["requests"] / t["occurred"].where(t["occurred"] > 0)
    if population:
        pop = pd.Series(population, dtype=float).reindex(t.index)
        t["population"] = pop
        t["requests_per_10k"] = t["requests"] / (pop / 1e4)
    return t.reset_index()


def check_accounting(outcome: np.ndarray, occurred: int) -> dict[str, object]:
    """Each problem that occurred is counted exactly once, in exactly one outcome (`outcome`:
    the case table's rows, one per problem; `occurred`: the problems drawn, as the problem
    maker tallied them day by day); returns what was checked (kept in the result's
    `meta["accounting"]`), raises `AccountingError` if not."""
    if len(outcome) != occurred:
        raise AccountingError(f"{occurred} problems occurred but {len(outcome)} records were "
                              "written")
    bad = (outcome < 0) | (outcome >= len(OUTCOMES))
    if bad.any():
        raise AccountingError(f"{int(bad.sum())} problems have no outcome")
    return _accounting(occurred, np.bincount(outcome.astype(np.int64), minlength=len(OUTCOMES)))


def check_tally(tally: Tally, occurred: int) -> dict[str, object]:
    """`check_accounting` of a streamed run: every problem read into its ledger once (as many
    as occurred, their ids 0 .. occurred - 1 each once: their sum tells a loss or a
    repeat), each in one outcome."""
    if tally.problems != occurred or tally.id_sum != occurred * (occurred - 1) // 2:
        raise AccountingError(f"{occurred} problems occurred but {tally.problems} records were "
                              "read (or some twice)")
    if tally.bad:
        raise AccountingError(f"{tally.bad} problems have no outcome")
    return _accounting(occurred, tally.by_outcome)


def _accounting(occurred: int, counts: np.ndarray) -> dict[str, object]:
    return {"ok": True, "check": "each problem that occurred is counted once, in one outcome "
            "(warm-up included, simulated problems)", "occurred": int(occurred),
            "by_outcome": {name: int(n) for name, n in zip(OUTCOMES, counts, strict=True)}}


def collect(model: GovernanceModel | RunRecord,
            columns: tuple[str, ...] | None = None) -> Result:
    """Turn a finished model (after `finish`), or its record (`model.record()`, `sim.record`:
    all the tables read of it), into its tables, checking the accounting invariant first.

    A streamed model (`GovernanceModel(stream=...)`) has read its final cases into its ledger
    as it ran: the tables are made from its counts and exact times, and the problem table is
    its file on disk (if it kept one). A model that kept every row makes them here from its
    case table (the reference build): the problem table takes over the model's case arrays
    (trimmed of the warm-up and brought to the measured start in place, not copied), so
    `collect` is the last thing done with it.

    `columns`: a lean result for runs read by a few rules (a calibration's evaluations): the
    problem table holds only these columns (of `PROBLEM_COLUMNS`; a streamed run's are those
    it was asked to keep), and the unit, ranking, daily and summary tables are left empty.
    """
    run = model if isinstance(model, RunRecord) else model.record()
    if run.ledger is not None:
        return _collect_streamed(run, columns)
    problems, accounting = _problem_table(
        run, PROBLEM_COLUMNS if columns is None else tuple(columns))
    if columns is not None:
        return Result(run.given, problems, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                      pd.DataFrame(), _meta(run, accounting))
    units_daily = _units_daily(run)
    daily = daily_table(_daily_counts(run), problems, units_daily, run.spec)
    summary = summarise(run, problems, units_daily)
    return Result(run.given, problems, units_daily, _rankings(run), daily, summary,
                  _meta(run, accounting))


def _collect_streamed(run: RunRecord, columns: tuple[str, ...] | None) -> Result:
    ledger = run.ledger
    accounting = check_tally(ledger.tally, run.occurred)
    aggregates = Aggregates(ledger.counts, ledger.frame.weight, ledger.frame.labels)
    problems = None if ledger.writer is None else ledger.writer.close(ledger.frame.labels)
    meta = _meta(run, accounting)
    if columns is not None or ledger.waits is None:
        return Result(run.given, problems, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                      pd.DataFrame(), meta, aggregates)
    n = run.spec.days
    timed, medians = ledger.waits.measures(n)
    units_daily = _units_daily(run)
    daily = daily_rows(_daily_counts(run), units_daily, run.spec,
                       counted_daily(aggregates, medians, n),
                       aggregates.weight if aggregates.totals["problems"]
                       else 1.0 / run.spec.scale)
    summary = _summary(run, {**_counted_measures(aggregates, run.spec), **timed},
                       units_daily)
    return Result(run.given, problems, units_daily, _rankings(run), daily, summary, meta,
                  aggregates)


def _rankings(run: RunRecord) -> pd.DataFrame:
    rankings = pd.DataFrame(run.rankings, columns=[
        "month", "unit", "callbacks", "response_rate", "resolution_rate", "satisfaction_rate",
        "score", "class", "effort_next_month"])
    rankings["class"] = pd.Categorical.from_codes(rankings["class"].astype(int), RANK_CLASSES)
    rankings["unit_name"] = [run.unit_names[u] for u in rankings["unit"]]
    return rankings


def _daily_counts(run: RunRecord) -> pd.DataFrame:
    """The model's own day-by-day series (occurred, entered, prevented, trust), measured days."""
    warmup = run.spec.warmup_days
    daily = run.daily
    daily = daily[daily["day"] >= warmup].copy()
    daily["day"] -= warmup
    return daily


def _problem_table(run: RunRecord, wanted: tuple[str, ...],
                   ) -> tuple[pd.DataFrame, dict[str, object]]:
    """The problem table's `wanted` columns, made from the model's case arrays in place (see
    `collect`), and the accounting check."""
    if unknown := set(wanted) - set(PROBLEM_COLUMNS):
        raise ValueError(f"not columns of the problem table: {sorted(unknown)}")
    keep = sources(wanted)
    a = case_columns(run.cases, keep)  # views of the model's arrays (the kernels let go of
    release(run.cases, keep)  # them): the columns the tables do not read are let go now
    # the problem maker's own tally, day by day, against the rows the case table holds
    accounting = check_accounting(a["outcome"], run.occurred)
    frame = frame_of(run, run.spec)
    problems = problem_frame(problem_rows(a, frame, wanted), frame.labels)
    del a
    # the model lets go of the case arrays the table made columns from (it holds converted
    # copies of them, or for categories views its codes keep alive)
    release(run.cases, tuple(name for name in wanted if name not in _CONVERTED))
    return problems, accounting


#: Problem columns made from case columns by a conversion (not the case column itself).
_CONVERTED = ("pid", "district", "occurred_day", "latency_occurrence_h", "latency_report_h",
              "report_delay_h", "time_limit_h", "overdue", "weight", *LABELLED, *FLAGS)


def _meta(run: RunRecord, accounting: dict[str, object]) -> dict[str, object]:
    """What the result records of the run besides its tables."""
    spec, city = run.spec, run.city
    return {"accounting": accounting, "seed": spec.seed, "scale": spec.scale, "days": spec.days,
            "city": city.name, "population": city.population, "streets": city.n_streets,
            "district_population": dict(zip(city.district_names,
                                            city.district_population.tolist(), strict=True)),
            "district_simulated_share": dict(zip(city.district_names,
                                                 run.sample.district_share.tolist(),
                                                 strict=True)),
            "simulated_share": run.sample.share,
            "simulated_streets": int(run.sample.streets.sum()),
            "whistle_reports": run.whistle_reports,
            "whistle_late_reports": run.whistle_late_reports,
            "themes": [{"month": str((pd.Timestamp(run.origin) + pd.DateOffset(months=t.month))
                                     .to_period("M")),
                        "category": run.categories.keys[t.category], "kind": t.kind,
                        "streets": ([] if t.kind == "policy"
                                    else [city.street_names[s] for s in t.streets])}
                       for t in run.projects if t.kind != "street"],
            "street_projects": sum(t.kind == "street" for t in run.projects)}


#: Columns of `Result.daily` (see `daily_table`).
DAILY_COLUMNS = ("day", "date", "occurred", "entered", "prevented", "mean_trust", "reported",
                 "found_proactively", "resolved", "closed_unresolved", "closed", "backlog",
                 "resolution_rate", "satisfaction_rate", "resolved_latency_occurrence_h_median",
                 "cumulative_resolved_share", "weight")


def daily_table(daily: pd.DataFrame, problems: pd.DataFrame, units_daily: pd.DataFrame,
                scenario: Scenario) -> pd.DataFrame:
    """The city day by day, one row per measured day.

    Counts are of *simulated* problems, as in the problem table (multiply by `weight`, the real
    problems each stands for, for real-city counts). `occurred`, `entered` and `prevented` are
    the model's own counts by day of occurrence: `entered` is those of the day's problems that
    are (then or later) reported or found, `prevented` those removed at the source. By day of
    entry into the system: `reported` (by residents: street line, department line, 12345) and
    `found_proactively` (patrols, inspections). By day of closure: `resolved`, `closed_unresolved`
    and `closed` count cases closed that day. `backlog` is the cases open at the units at the end
    of the day, summed over units (as `units_daily.backlog`; warm-up cases included).
    `resolution_rate` and `satisfaction_rate` are over the cases closed that day (NaN on a day
    without closures); `resolved_latency_occurrence_h_median` is the median time from
    occurrence, in hours, of the problems resolved that day; `cumulative_resolved_share` is the
    share of the problems that occurred up to that day that were resolved by its end.
    `mean_trust` is the residents' mean trust in government at the end of the day; `date` the
    calendar day (the scenario's `start_date` is day 0).
    """
    n = len(daily)
    # on the categoricals' codes (the engine's own): no string per problem at 1:1
    channel = codes(problems, "channel")
    entered = problems["entered_h"].to_numpy(float)
    proactive = np.isin(channel, [PATROL, INSPECTION])
    outcome = codes(problems, "outcome")
    closed_h = problems["closed_h"].to_numpy(float)

    def per_day(hours: np.ndarray) -> np.ndarray:
        hours = hours[np.isfinite(hours)]
        d = np.floor(hours / 24.0).astype(np.int64)
        d = d[(d >= 0) & (d < n)]
        return np.bincount(d, minlength=n)

    columns = {
        "reported": per_day(np.where((channel > 0) & ~proactive, entered, np.nan)),
        "found_proactively": per_day(np.where(proactive, entered, np.nan)),
        "resolved": per_day(np.where(outcome == RESOLVED, closed_h, np.nan)),
        "closed_unresolved": per_day(np.where(outcome == CLOSED_UNRESOLVED, closed_h, np.nan)),
        "occurred": per_day(problems["occurred_h"].to_numpy(float))}
    # over the cases closed each day, in arrays (no table of them: a 1:1 history closes some
    # 60 million): the day's means, and the median latency of the day's resolved problems
    closed_rows = np.isin(outcome, [RESOLVED, CLOSED_UNRESOLVED]) & np.isfinite(closed_h)
    close_day = np.floor(closed_h[closed_rows] / 24.0).astype(np.int64)

    def day_mean(values: np.ndarray) -> np.ndarray:
        ok = np.isfinite(values) & (close_day < n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (np.bincount(close_day[ok], values[ok], minlength=n)
                    / np.bincount(close_day[ok], minlength=n))

    columns["resolution_rate"] = day_mean((outcome[closed_rows] == RESOLVED).astype(float))
    columns["satisfaction_rate"] = day_mean(
        problems["satisfied"].to_numpy(dtype=float, na_value=np.nan)[closed_rows])
    resolved_rows = closed_rows & (outcome == RESOLVED)
    columns["resolved_latency_occurrence_h_median"] = medians_by_day(
        problems["latency_occurrence_h"].to_numpy(float)[resolved_rows],
        close_day[resolved_rows[closed_rows]], n)
    weight = float(problems["weight"].iloc[0]) if len(problems) else 1.0 / scenario.scale
    return daily_rows(daily, units_daily, scenario, columns, weight)


def counted_daily(aggregates: Aggregates, medians: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """The columns `daily_rows` takes, from a streamed run's counts (and its exact daily
    medians): those `daily_table` counts in the problem table."""
    def per_day(measure: int) -> np.ndarray:
        return aggregates.day_counts(measure)[:n]

    resolved, unresolved = per_day(RESOLVED_DAY), per_day(UNRESOLVED_DAY)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"reported": per_day(REQUESTS), "found_proactively": per_day(FOUND),
                "resolved": resolved, "closed_unresolved": unresolved,
                "occurred": per_day(OCCURRED),
                "resolution_rate": resolved / (resolved + unresolved),
                "satisfaction_rate": per_day(SATISFIED) / per_day(VERDICTS),
                "resolved_latency_occurrence_h_median": medians}


def daily_rows(daily: pd.DataFrame, units_daily: pd.DataFrame, scenario: Scenario,
               columns: dict[str, np.ndarray], weight: float) -> pd.DataFrame:
    """`daily_table` from the model's own series (`daily`), the units' backlog and the
    problems' `columns` by day 0 .. n - 1 (`counted_daily`, or `daily_table`'s own)."""
    out = daily.reset_index(drop=True)
    days = out["day"].to_numpy()
    origin = pd.Timestamp(scenario.start_date)
    out.insert(1, "date", origin + pd.to_timedelta(days, unit="D"))
    for name in ("reported", "found_proactively", "resolved", "closed_unresolved"):
        out[name] = columns[name][days]
    out["closed"] = out["resolved"] + out["closed_unresolved"]
    backlog = units_daily.groupby("day")["backlog"].sum() if len(units_daily) else pd.Series()
    out["backlog"] = backlog.reindex(days, fill_value=0).to_numpy()
    for name in ("resolution_rate", "satisfaction_rate", "resolved_latency_occurrence_h_median"):
        out[name] = columns[name][days]
    cum_occurred = np.cumsum(columns["occurred"][days])
    out["cumulative_resolved_share"] = np.cumsum(out["resolved"].to_numpy()) / np.where(
        cum_occurred > 0, cum_occurred, np.nan)
    out["weight"] = weight
    return out[list(DAILY_COLUMNS)]


def _units_daily(run: RunRecord) -> pd.DataFrame:
    spec, work = run.spec, run.workload
    w, n = spec.warmup_days, run.total_days
    units = np.flatnonzero(run.present)
    days = np.arange(w, n)
    arrivals = per_unit(work, ARRIVALS)[units][:, :n]
    completions = per_unit(work, COMPLETIONS)[units][:, :n]
    backlog = np.cumsum(arrivals, axis=1) - np.cumsum(completions, axis=1)
    staff = run.staff_log[units][:, :n] * run.unit_share[units][:, None]  # its sample's
    base_hours = run.base_hours_log[units][:, :n]
    hours = run.hours_log[units][:, :n]
    available = staff * hours
    busy = per_unit(work, BUSY)[units][:, :n]
    sl = slice(w, n)
    frame = pd.DataFrame({
        "unit": np.repeat(units, len(days)),
        "unit_type": pd.Categorical.from_codes(np.repeat(run.unit_type[units], len(days)),
                                               UNIT_TYPES),
        "name": pd.Categorical.from_codes(np.repeat(np.arange(len(units)), len(days)),
                                          [run.unit_names[u] for u in units]),
        "day": np.tile(days - w, len(units)),
        "arrivals": arrivals[:, sl].ravel(),
        "completions": completions[:, sl].ravel(),
        "backlog": backlog[:, sl].ravel(),
        "mean_in_system": in_system_hours(work)[units][:, sl].ravel() / 24.0,  # cases (L)
        "sojourn_hours": per_unit(work, SOJOURN)[units][:, sl].ravel(),
        "staff": staff[:, sl].ravel(),
        "available_hours": available[:, sl].ravel(),
        "busy_hours": busy[:, sl].ravel(),
        "overtime_hours": (staff * np.maximum(0.0, hours - base_hours))[:, sl]
        .ravel(),
    }, copy=False)
    frame["utilisation"] = frame["busy_hours"] / frame["available_hours"].where(
        frame["available_hours"] > 0)
    return frame


#: What counts as overload at the end of a run (see `overload_table`).
OVERLOAD_WINDOW_DAYS = (7, 30)  # the window: the last half of the run, within these bounds
GROWTH_SHARE = 0.10  # a backlog growing by more than this share of the unit's arrivals ...
GROWTH_SIGMAS = 3.0  # ... and by more than this many times the noise of a steady queue


def overload_window(days: int) -> int:
    """Days at the end of a run over which overload is judged: the last half of the run, at
    least 7 days (or the whole run, if shorter) and at most 30."""
    low, high = OVERLOAD_WINDOW_DAYS
    return max(1, min(days, max(low, min(high, days // 2))))


def overload_table(units_daily: pd.DataFrame) -> pd.DataFrame:
    """Each unit at the end of the run: over the last `overload_window` days its utilisation
    (busy / available hours), arrivals, completions and backlog growth. A unit is `overloaded`
    when that utilisation is above 1 or its backlog is `growing`: arrivals exceed completions
    by more than 10 % of arrivals and by more than 3 times sqrt(arrivals), the noise of a
    steady queue (so a calm unit is not flagged by chance). Figures are the unit's own cases
    (in a sampled city, the simulated streets' units as they are)."""
    cols = ["unit", "unit_type", "name", "window_days", "arrivals", "completions",
            "backlog_end", "growth_per_day", "utilisation", "busy_over", "growing", "overloaded"]
    if units_daily.empty:
        return pd.DataFrame(columns=cols)
    days = int(units_daily["day"].max()) + 1
    window = overload_window(days)
    tail = units_daily[units_daily["day"] >= days - window]
    g = tail.groupby("unit", sort=True, observed=True)
    out = g.agg(unit_type=("unit_type", "first"), name=("name", "first"),
                arrivals=("arrivals", "sum"), completions=("completions", "sum"),
                backlog_end=("backlog", "last"), busy=("busy_hours", "sum"),
                available=("available_hours", "sum")).reset_index()
    net = (out["arrivals"] - out["completions"]).astype(float)
    out["window_days"] = window
    out["growth_per_day"] = net / window
    out["utilisation"] = out["busy"] / out["available"].where(out["available"] > 0)
    out["busy_over"] = out["utilisation"].fillna(0.0) > 1.0
    noise = GROWTH_SIGMAS * np.sqrt(out["arrivals"].astype(float))
    out["growing"] = (net > GROWTH_SHARE * out["arrivals"]) & (net > noise) & (net > 0)
    out["overloaded"] = out["busy_over"] | out["growing"]
    return out[cols]


def describe_overload(over: pd.DataFrame, weight: float = 1.0) -> str:
    """One line naming the overloaded unit types, how many of their units and how much, from
    `overload_table` ("" if none); backlogs in real-city cases (x `weight`), e.g.
    `street 8 of 8 units: utilisation above 100 % at 3 (up to 104 %), backlog growing at 8
    (2,577 open at the end, +73/day)`; unit types are separated by "; "."""
    parts = []
    for unit_type in UNIT_TYPES:
        units = over[over["unit_type"] == unit_type]
        flagged = units[units["overloaded"]]
        if flagged.empty:
            continue
        text = f"{unit_type} {len(flagged)} of {len(units)} unit{'s' if len(units) > 1 else ''}:"
        details = []
        busy = flagged[flagged["busy_over"]]
        if len(busy):
            details.append(f"utilisation above 100 % at {len(busy)} (up to "
                           f"{100 * busy['utilisation'].max():.0f} %)")
        growing = flagged[flagged["growing"]]
        if len(growing):
            details.append(f"backlog growing at {len(growing)} "
                           f"({weight * growing['backlog_end'].sum():,.0f} open at the end, "
                           f"+{weight * growing['growth_per_day'].sum():,.0f}/day)")
        parts.append(f"{text} {', '.join(details)}")
    return "; ".join(parts)


def summarise(run: RunRecord, p: pd.DataFrame, ud: pd.DataFrame) -> pd.DataFrame:
    """The measures of docs/run.md in one row (counts and staff hours in real-city units).

    Headline waits count every problem (`sim.resolution`): `resolved_within_{1,7,30}d_share` and
    `half_resolved_h` from occurrence over all problems that arose, `reported_*` from report over
    all problems reported or found. `resolved_latency_*` are over resolved problems only.
    """
    return _summary(run, _table_measures(run, p), ud)


def _table_measures(run: RunRecord, p: pd.DataFrame) -> dict[str, object]:
    """The summary's measures of the problems, from the table of all of them."""
    spec = run.spec
    k = run.sample.weight
    out = codes(p, "outcome")
    entered = p["entered_h"].notna().to_numpy()
    closed = np.isin(out, [RESOLVED, CLOSED_UNRESOLVED])
    ch = codes(p, "channel")
    resolved = out == RESOLVED
    row: dict[str, object] = {
        "occurred": len(p) * k,
        "reported": int(((ch != 0) & entered & (ch != PATROL) & (ch != INSPECTION)).sum()) * k,
        "found_proactively": int(np.isin(ch, [PATROL, INSPECTION]).sum()) * k,
        "prevented": int((out == PREVENTED).sum()) * k,
        "never_reported": int((out == NEVER_REPORTED).sum()) * k,
        "resolved": int(resolved.sum()) * k,
        "closed_unresolved": int((out == CLOSED_UNRESOLVED).sum()) * k,
        "still_open": int((out == OPEN).sum()) * k,
    }
    horizon_h = 24.0 * spec.days
    row.update(headline(resolution_curve(p, horizon_h, "occurrence")))
    row.update(headline(resolution_curve(p, horizon_h, "report"), prefix="reported_"))
    row.update(quantiles(p["latency_occurrence_h"].to_numpy()[resolved],
                          "resolved_latency_occurrence_h"))
    row.update(quantiles(p["latency_report_h"].to_numpy()[resolved], "resolved_latency_report_h"))
    limit = spec.hotline.response_limit_hours
    reached = entered & p["first_unit_h"].notna().to_numpy()
    resp = (p["first_unit_h"] - p["entered_h"]).to_numpy()[reached] <= limit
    sat = p["satisfied"].to_numpy(dtype=float, na_value=np.nan)[closed]
    row["response_rate"] = float(resp.mean()) if len(resp) else float("nan")
    row["resolution_rate"] = float(resolved.sum() / closed.sum()) if closed.any() else float("nan")
    row["satisfaction_rate"] = float(np.nanmean(sat)) if len(sat) else float("nan")
    row["resolved_share"] = float(resolved.sum() / len(p)) if len(p) else float("nan")
    w = spec.ranking.weights
    row["score"] = (w[0] * row["response_rate"] + w[1] * row["resolution_rate"]
                    + w[2] * row["satisfaction_rate"])
    def mean_over_handled(column: str, test=None) -> float:
        values = p[column].to_numpy()[entered]
        if test is not None:
            values = test(values)
        return float(values.mean()) if len(values) else 0.0

    row["handoffs_per_case"] = mean_over_handled("handoffs")
    row["bounces_per_case"] = mean_over_handled("bounces")
    row["bounced_share"] = mean_over_handled("bounces", lambda b: b > 0)
    row["whistled_share"] = mean_over_handled("whistled")
    row["overdue_share"] = mean_over_handled("overdue")
    row["first_to_street_share"] = first_to_street_share(p, run.dept_base)
    row["hotline_contacts"] = (int((ch == HOTLINE).sum()) * k
                               * (1 + spec.hotline.consultations_per_request))
    return row


def _counted_measures(aggregates: Aggregates, spec: Scenario) -> dict[str, object]:
    """The summary's measures of the problems, from a streamed run's counts (its times give
    the rest: `sim.ledger.Waits.measures`): each the same number `_table_measures` gives."""
    t = aggregates.totals
    k = aggregates.weight
    n = t["problems"]
    resolved, unresolved = t["resolved"], t["closed_unresolved"]
    closed = resolved + unresolved
    row: dict[str, object] = {
        "occurred": n * k, "reported": t["requests_entered"] * k, "found_proactively":
        t["found"] * k, "prevented": t["prevented"] * k, "never_reported":
        t["never_reported"] * k, "resolved": resolved * k, "closed_unresolved": unresolved * k,
        "still_open": t["open"] * k}
    satisfied = int(aggregates.day_counts(SATISFIED).sum())
    verdicts = int(aggregates.day_counts(VERDICTS).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        row["response_rate"] = (float(np.float64(t["responded"]) / t["reached"]) if t["reached"]
                                else float("nan"))
        row["resolution_rate"] = (float(np.int64(resolved) / np.int64(closed)) if closed
                                  else float("nan"))
        row["satisfaction_rate"] = (float(np.float64(satisfied) / verdicts) if closed
                                    else float("nan"))
    row["resolved_share"] = float(np.int64(resolved) / np.int64(n)) if n else float("nan")
    w = spec.ranking.weights
    row["score"] = (w[0] * row["response_rate"] + w[1] * row["resolution_rate"]
                    + w[2] * row["satisfaction_rate"])
    entered = t["entered"]
    for name, total in (("handoffs_per_case", "handoffs"), ("bounces_per_case", "bounces"),
                        ("bounced_share", "bounced"), ("whistled_share", "whistled"),
                        ("overdue_share", "overdue")):
        row[name] = float(np.float64(t[total]) / entered) if entered else 0.0
    row["first_to_street_share"] = (float(np.float64(t["to_street"]) / t["requests_owned"])
                                    if t["requests_owned"] else float("nan"))
    row["hotline_contacts"] = (t["hotline"] * k * (1 + spec.hotline.consultations_per_request))
    return row


def _summary(run: RunRecord, measures: dict[str, object],
             ud: pd.DataFrame) -> pd.DataFrame:
    """The summary row: the run's inputs, the problems' `measures`, the units' measures."""
    spec = run.spec
    k = run.sample.weight
    row: dict[str, object] = {
        "scenario": spec.name, "regime": spec.regime, "seed": table_seed(spec.seed),
        "days": spec.days, "scale": spec.scale, **measures}
    over = overload_table(ud)
    for unit_type in UNIT_TYPES:  # every column in every run; NaN where the unit type is absent
        sel = ud[ud["unit_type"] == unit_type]
        if sel.empty:
            for measure in _PER_UNIT_TYPE:
                row[f"{unit_type}_{measure}"] = float("nan")
            continue
        row[f"{unit_type}_staff_hours"] = float(sel["busy_hours"].sum()) * k
        row[f"{unit_type}_utilisation"] = float(sel["busy_hours"].sum()
                                                / max(sel["available_hours"].sum(), 1e-12))
        row[f"{unit_type}_overtime_hours"] = float(sel["overtime_hours"].sum()) * k
        row[f"{unit_type}_mean_backlog"] = float(sel.groupby("unit")["backlog"].mean().sum()) * k
        end = over[over["unit_type"] == unit_type]
        row[f"{unit_type}_overloaded_units"] = int(end["overloaded"].sum())
        row[f"{unit_type}_end_utilisation"] = float(end["utilisation"].max())
        row[f"{unit_type}_end_backlog"] = float(end["backlog_end"].sum()) * k
        growing = end[end["growing"]]
        row[f"{unit_type}_backlog_growth_per_day"] = float(growing["growth_per_day"].sum()) * k
    row["overloaded_units"] = int(over["overloaded"].sum())
    row["accounting_ok"] = True  # `collect` raised AccountingError before this otherwise
    row["overload"] = describe_overload(over, k)
    if set(row) != set(SUMMARY_COLUMNS):  # a bug: SUMMARY_COLUMNS must name what is built here
        raise RuntimeError(f"summary columns differ from SUMMARY_COLUMNS: "
                           f"{sorted(set(row) ^ set(SUMMARY_COLUMNS))}")
    return pd.DataFrame([row], columns=list(SUMMARY_COLUMNS))
