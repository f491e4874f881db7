"""The run's ledger: each problem's part in the result tables, entered as soon as its case is final.

A case is final once it is recorded (`sim.cases.record`; a problem that never enters, when it
occurs; one still in the system, at the end of the run). Its closing time may lie after the day
it is recorded, or after the run's end, but what the tables make of it is known then: a closing
or callback after the end is "not yet" (`open`, no callback), a warm-up problem is not measured.
So a streamed run reads each day's final cases once (`Ledger.read`) and lets their rows go
(`sim.cases.retire`): memory follows the cases in flight, not the length of the run.

What the tables need is kept in two forms:

- counts (`Counts`): by day, district and measure (occurred, prevented, requests entered,
  cases closed, verdicts, callbacks ...), by day and category, and in total. Every count, rate
  and share of `summary`, `daily`, `monthly()`, `by_district()` and the calibration's rules is a
  ratio of such integer counts, so each is exactly what the table of all problems gives;
- exact times (`Waits`), where counts cannot do: the Kaplan-Meier curves over all problems, the
  resolved problems' latency (mean, quantiles) and the daily median latency. About 20 bytes per
  problem (8 a time, 4 an id for the means' order); a lean run (a calibration's) keeps none.

The per-problem table itself is optional (`sim.problem_file`). `problem_rows` turns case rows
into problem rows for all of them, a day's final cases or the whole table of a run that kept
every row (the reference build, `sim.results.collect`), so both read the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.cases import (
    CHANNELS,
    OPEN,
    OUTCOMES,
    PREVENTED,
    RESOLVED,
    Cases,
)
from sim.engine.counting import (
    D_FOUND,
    D_OCCURRED,
    D_REQUESTS,
    D_RESOLVED,
    DAY_MEASURES,
    DEPT_LINE_TICKETS,
    HOTLINE_TICKETS,
    OCCURRED,
    PREVENTED_DAY,
    REQUESTS,
    RESOLVED_DAY,
    SATISFIED,
    SCORED_CALLBACKS,
    SCORED_RESOLVED,
    SCORED_SATISFIED,
    SCORED_VERDICTS,
    TICKET_CALLBACKS,
    TICKET_RESOLVED,
    TICKET_RESPONDED,
    TICKET_RESPONSES,
    TICKET_SATISFIED,
    TICKET_VERDICTS,
    TOTALS,
    UNRESOLVED_DAY,
    VERDICTS,
    count_problems,
    group_by_day,
    sum_handled,
)
from sim.resolution import headline_of

#: Columns of `Result.problems`, in order.
PROBLEM_COLUMNS = (
    "pid", "category", "district", "street", "community", "occurred_h", "occurred_day",
    "entered_h", "channel", "first_unit_h", "closed_h", "outcome", "latency_occurrence_h",
    "latency_report_h", "owner_unit", "handoffs", "bounces", "whistled", "late_reports",
    "report_delay_h", "n_depts", "cross_border", "unreasonable", "root_cause", "emergency",
    "time_limit_h", "overdue", "responded", "callback_h", "callback_resolved", "satisfied",
    "reopens", "weight")
#: Problem columns held as codes of these labels (categoricals in the table), and as flags
#: (-1 none, 0, 1; nullable booleans in the table).
LABELLED = ("category", "district", "street", "channel", "outcome")
FLAGS = ("responded", "callback_resolved", "satisfied")
#: Channels of a resident's request (a ticket), as against a problem found by a patrol or an
#: inspection.
REQUEST_CHANNELS = tuple(CHANNELS.index(k) for k in ("street_line", "dept_line", "hotline"))
#: Times kept from the run's start (the model's) shifted to the measured start.
_TIMES = ("occurred_h", "entered_h", "first_unit_h", "closed_h", "callback_h")
#: The case columns a problem column is made from, where they are not the same name.
_MADE_FROM = {"pid": ("pid",), "district": ("street",), "occurred_day": ("occurred_h",),
              "latency_occurrence_h": ("closed_h", "occurred_h"),
              "latency_report_h": ("closed_h", "entered_h"),
              "overdue": ("closed_h", "entered_h", "time_limit_h"), "weight": ()}
#: Read in every case: the warm-up cut, and what happened after the horizon undone.
_ALWAYS = ("occurred_h", "outcome", "closed_h", "callback_h", "callback_resolved", "satisfied")
#: The problem columns the counts read, and the waits besides.
COUNTED = ("district", "category", "occurred_h", "entered_h", "channel", "closed_h",
           "outcome", "responded", "callback_resolved", "satisfied", "unreasonable")
HANDLED = ("entered_h", "channel", "first_unit_h", "owner_unit", "handoffs", "bounces",
           "whistled", "overdue")
SUMMED = HANDLED[2:]
TIMED = ("pid", "latency_occurrence_h", "latency_report_h")


def sources(wanted: tuple[str, ...]) -> tuple[str, ...]:
    """The case columns the problem columns `wanted` are made from."""
    names = list(_ALWAYS)
    for name in wanted:
        names.extend(_MADE_FROM.get(name, (name,)))
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Frame:
    """What turns a case's row into a problem's row: the measured period, the weight, and
    the labels of the coded columns."""

    warmup_h: float  # hours of warm-up before the measured start
    end_h: float  # the run's end, hours from its start (warm-up included)
    weight: float  # real problems each simulated one stands for
    street_district: np.ndarray  # each street's district, in the smallest integers
    dept_base: int  # units below it are streets and their teams
    response_limit_h: float  # the summary's response rate: a unit reached within it
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def days(self) -> int:
        """Measured days."""
        return round((self.end_h - self.warmup_h) / 24.0)

    @property
    def horizon_h(self) -> float:
        """The run's end, hours from the measured start."""
        return self.end_h - self.warmup_h


def frame_of(model, spec=None) -> Frame:
    """The frame of a model's run: its city, and its scenario `spec` (default: as it will
    stand at the end, every change of its timeline applied, as the tables read it)."""
    from sim.scenario.categories import load_categories

    spec = model.end_spec if spec is None else spec
    city = model.city
    districts = city.street_district
    small = districts.astype(np.min_scalar_type(max(1, len(city.district_names) - 1)))
    return Frame(
        warmup_h=24.0 * spec.warmup_days, end_h=24.0 * model.total_days,
        weight=model.sample.weight, street_district=small, dept_base=model.dept_base,
        response_limit_h=spec.hotline.response_limit_hours,
        labels={"category": tuple(load_categories(spec).keys),
                "district": tuple(city.district_names), "street": tuple(city.street_names),
                "channel": CHANNELS, "outcome": OUTCOMES})


def _measured(a: dict[str, np.ndarray], shift: float) -> dict[str, np.ndarray]:
    """`a` without the warm-up's problems (in a table in order of occurrence, they come first:
    then the columns stay views)."""
    occurred = a["occurred_h"]
    keep = occurred >= shift
    if keep.all():
        return a
    first = int(np.argmin(keep))
    if keep[first:].all():
        return {k: v[first:] for k, v in a.items()}
    return {k: v[keep] for k, v in a.items()}


def final_cases(a: dict[str, np.ndarray], frame: Frame) -> dict[str, np.ndarray]:
    """The case columns `a` of final cases (changed in place) as the problem table reads them:
    warm-up problems left out, what is after the run's end undone, times from the measured
    start."""
    shift, horizon = frame.warmup_h, frame.end_h
    a = _measured(a, shift)
    late = a["closed_h"] > horizon  # what is after the horizon has not happened yet
    a["outcome"][late] = OPEN
    a["closed_h"][late] = np.nan
    late = a["callback_h"] > horizon
    a["callback_resolved"][late] = -1
    a["callback_h"][late] = np.nan
    del late
    a["satisfied"][a["outcome"] == OPEN] = -1
    if shift:
        for col in _TIMES:
            if col in a:
                a[col] -= shift
    return a


def problem_columns(a: dict[str, np.ndarray], frame: Frame,
                    wanted: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The problem table's `wanted` columns, plain (labelled columns as codes, flags as
    -1/0/1), from final case columns (`final_cases`; `sources(wanted)` of them)."""
    outcome, closed_h = a["outcome"], a["closed_h"]
    resolved = outcome == RESOLVED
    horizon = frame.end_h - frame.warmup_h
    build = {  # columns made here; the rest are the cases' own (bool flags among them)
        "district": lambda: frame.street_district[a["street"]],
        "occurred_day": lambda: np.floor(a["occurred_h"] / 24.0).astype(np.int32),
        "latency_occurrence_h": lambda: np.where(resolved, closed_h - a["occurred_h"],
                                                 np.nan),
        "latency_report_h": lambda: np.where(resolved, closed_h - a["entered_h"], np.nan),
        "report_delay_h": lambda: a["report_delay_h"].astype(float),
        "time_limit_h": lambda: a["time_limit_h"].astype(float),
        "overdue": lambda: (closed_h - a["entered_h"] > a["time_limit_h"])
        | ((outcome == OPEN) & (horizon - a["entered_h"] > a["time_limit_h"])),
        "weight": lambda: np.full(len(outcome), frame.weight),
    }
    return {name: build[name]() if name in build else a[name] for name in wanted}


def problem_rows(a: dict[str, np.ndarray], frame: Frame,
                 wanted: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The problem table's `wanted` columns (`problem_columns`) from the case columns `a`
    (`sources(wanted)`; changed in place) of final cases."""
    return problem_columns(final_cases(a, frame), frame, wanted)


def problem_frame(rows: dict[str, np.ndarray], labels: dict[str, tuple[str, ...]],
                  ) -> pd.DataFrame:
    """The problem table of plain `rows` (in their order): labelled columns as categoricals,
    flags as nullable booleans."""
    def column(name: str, values: np.ndarray) -> object:
        if name in LABELLED:
            return pd.Categorical.from_codes(values, labels[name])
        if name in FLAGS:
            return pd.arrays.BooleanArray(values > 0, values < 0)
        return values

    return pd.DataFrame({name: column(name, values) for name, values in rows.items()},
                        copy=False)  # columns stay separate arrays: no consolidating copy


def plain_rows(problems: pd.DataFrame, labels: dict[str, tuple[str, ...]],
               names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The columns `names` of a problem table as plain rows (`problem_rows`' form), whatever
    the order or type of its labelled columns (a table read from a file, say)."""
    out = {}
    for name in names:
        column = problems[name]
        if name in LABELLED:
            if not (isinstance(column.dtype, pd.CategoricalDtype)
                    and list(column.cat.categories) == list(labels[name])):
                column = pd.Series(pd.Categorical(column, categories=labels[name]))
            out[name] = column.cat.codes.to_numpy()
        elif name in FLAGS:  # a nullable boolean (or 0/1 with gaps): 1, 0, -1 for none
            values = column.to_numpy(dtype=float, na_value=np.nan)
            out[name] = np.where(np.isnan(values), -1, values > 0).astype(np.int8)
        else:
            out[name] = column.to_numpy()
    return out


# ------------------------------------------------------------------------------- counts
class Counts:
    """Integer counts of final problems (`sim.engine.counting`): by day (0 .. the measured
    days), district and measure; by day and category; by district; and in total."""

    def __init__(self, days: int, districts: int, categories: int,
                 response_limit_h: float = 0.0, dept_base: int = 0):
        self.days, self.districts, self.categories = days + 1, districts, categories
        self.response_limit_h, self.dept_base = response_limit_h, dept_base
        self.by_day = np.zeros((self.days, districts, DAY_MEASURES), np.int64)
        self.by_category = np.zeros((self.days, categories, 2), np.int64)
        self.by_district = np.zeros((districts, 4), np.int64)
        self.totals = np.zeros(len(TOTALS) + len(OUTCOMES), np.int64)

    def add(self, p: dict[str, np.ndarray], summed: bool = True) -> None:
        """Count plain problem rows (`problem_rows`, the columns `COUNTED`, and `SUMMED` for
        the summary's totals)."""
        count_problems((self.by_day, self.by_category, self.by_district, self.totals),
                       tuple(p[name] for name in COUNTED))
        if summed:
            sum_handled(self.totals, tuple(p[name] for name in HANDLED),
                        self.response_limit_h, self.dept_base)

    @property
    def named_totals(self) -> dict[str, int]:
        return dict(zip((*TOTALS, *OUTCOMES), self.totals.tolist(), strict=True))


# -------------------------------------------------------------------------------- waits
class Waits:
    """The exact times the summary and the daily table need beyond counts: the resolved
    problems' latency from occurrence and from entry (the survival curves' events too), their
    ids (the latency means are taken in id order, as the table of all problems orders them)
    and closing days; and how long the problems not resolved were watched."""

    def __init__(self, horizon_h: float, days: int):
        self.horizon_h, self.days = horizon_h, days
        day_type = np.int16 if days + 1 < 2**15 else np.int32
        self.parts = {name: Growing(dtype) for name, dtype in (
            ("latency_occurrence", float), ("latency_report", float), ("pid", np.int32),
            ("close_day", day_type), ("occurrence_censored", float),
            ("report_censored", float))}
        self.first = {"occurrence": np.inf, "report": np.inf}

    def add(self, p: dict[str, np.ndarray]) -> None:
        outcome = p["outcome"]
        resolved = outcome == RESOLVED
        for basis, start, keep in (("occurrence", p["occurred_h"], outcome != PREVENTED),
                                   ("report", p["entered_h"], np.isfinite(p["entered_h"]))):
            # not resolved: watched to the end of the run, as `resolution_curve` times them
            # (a resolved problem's time is its latency: the event)
            censored = keep & ~resolved
            self.parts[f"{basis}_censored"].append(self.horizon_h - start[censored])
            if keep.any():
                self.first[basis] = min(self.first[basis], float(start[keep].min()))
        pid = p["pid"][resolved]
        if len(pid) and pid.max() >= 2**31:  # a run is refused far below (docs/scenarios.md)
            raise RuntimeError("more than 2**31 problems")
        self.parts["pid"].append(pid)
        self.parts["latency_occurrence"].append(p["latency_occurrence_h"][resolved])
        self.parts["latency_report"].append(p["latency_report_h"][resolved])
        self.parts["close_day"].append(np.floor(p["closed_h"][resolved] / 24.0))

    def _take(self, name: str) -> np.ndarray:
        return self.parts.pop(name).take()

    def measures(self, days: int) -> tuple[dict[str, float], np.ndarray]:
        """The summary's measures of the times (the headline shares, the latency quantiles
        and means), and the median latency of each day's resolved problems (days 0 ..
        days - 1); one large array at a time, each let go once read (at the end of a long
        run these are tens of millions each)."""
        occurrence = self._take("latency_occurrence")
        medians = medians_by_day(occurrence, self._take("close_day"), days)
        order = np.argsort(self._take("pid"), kind="stable").astype(np.int32)  # the table's
        mean = float(occurrence[order].mean())  # order, by id: a sum's last digit depends
        report = self._take("latency_report")  # on the order of its terms
        report_mean = float(report[order].mean())
        del order
        row = quantiles(occurrence, "resolved_latency_occurrence_h", mean)
        row.update(self._headline("occurrence", occurrence))
        del occurrence
        row.update(quantiles(report, "resolved_latency_report_h", report_mean))
        row.update(self._headline("report", report, prefix="reported_"))
        return row, medians

    def _headline(self, basis: str, events: np.ndarray, prefix: str = "") -> dict[str, float]:
        """The headline shares of the Kaplan-Meier curve of `basis` (`sim.resolution`;
        `events` sorted in place)."""
        censored = self._take(f"{basis}_censored")
        follow_up = (float(self.horizon_h - self.first[basis])
                     if len(events) + len(censored) else 0.0)
        return headline_of(events, censored, follow_up, prefix)


class Growing:
    """An array added to day by day, in one block whose room doubles as it fills (room not
    yet written is never given by the system): no pile of small parts to join at the end,
    whose memory the allocator would keep."""

    def __init__(self, dtype: type):
        self.data = np.empty(1 << 16, dtype)
        self.n = 0

    def append(self, values: np.ndarray) -> None:
        need = self.n + len(values)
        if need > len(self.data):
            grown = np.empty(max(need, 2 * len(self.data)), self.data.dtype)
            grown[:self.n] = self.data[:self.n]
            self.data = grown
        self.data[self.n:need] = values
        self.n = need

    def take(self) -> np.ndarray:
        """The values (a view: the block is the caller's now)."""
        values, self.data = self.data[:self.n], None
        return values


def quantiles(values: np.ndarray, prefix: str, mean: float | None = None) -> dict[str, float]:
    """Mean (`mean`: taken already, in another order), median, 90th and 99th percentiles of
    `values` (which, given `mean`, are reordered in place)."""
    if len(values) == 0:
        return {f"{prefix}_{k}": float("nan") for k in ("mean", "median", "p90", "p99")}
    if mean is None:
        mean = float(values.mean())
    q = np.percentile(values, [50, 90, 99], overwrite_input=True)
    return {f"{prefix}_mean": mean, f"{prefix}_median": float(q[0]),
            f"{prefix}_p90": float(q[1]), f"{prefix}_p99": float(q[2])}


def medians_by_day(values: np.ndarray, day: np.ndarray, n: int) -> np.ndarray:
    """The median of `values` on each day 0 .. n-1 (NaN on a day without), as pandas' groupby
    median gives it (the middle value, or the mean of the middle two): the values grouped by
    day in one pass, then each day's middle ones picked out."""
    grouped, ends = group_by_day(values, day, n)
    out = np.full(n, np.nan)
    starts = ends - np.diff(ends, prepend=0)
    for d in np.flatnonzero(ends > starts).tolist():
        c = int(ends[d] - starts[d])
        lo, hi = (c - 1) // 2, c // 2
        part = np.partition(grouped[starts[d]:ends[d]], (lo, hi))
        out[d] = (part[lo] + part[hi]) / 2
    return out


# ------------------------------------------------------------------------------- ledger
@dataclass
class Tally:
    """The accounting invariant's side of the ledger: every problem read once, in one outcome
    (as recorded, warm-up included)."""

    problems: int = 0
    id_sum: int = 0
    by_outcome: np.ndarray = field(default_factory=lambda: np.zeros(len(OUTCOMES), np.int64))
    bad: int = 0

    def add(self, pid: np.ndarray, outcome: np.ndarray) -> None:
        self.problems += len(pid)
        self.id_sum += int(pid.sum(dtype=np.int64))
        bad = (outcome < 0) | (outcome >= len(OUTCOMES))
        self.bad += int(bad.sum())
        self.by_outcome += np.bincount(outcome[~bad].astype(np.int64), minlength=len(OUTCOMES))


@dataclass(frozen=True)
class Streamed:
    """How a streamed run keeps its results: the problem table's `problems` columns on disk
    (None: no problem table), in `folder` (None: a temporary one); `waits`: the exact times
    the summary and the daily table need (False: a lean run, counts only)."""

    problems: tuple[str, ...] | None = PROBLEM_COLUMNS
    waits: bool = True
    folder: object = None


class Ledger:
    """Reads final cases into counts, exact times (`waits`) and, given a `writer`
    (`sim.problem_file.ProblemWriter`), the problem table's rows."""

    def __init__(self, frame: Frame, waits: bool = True, writer=None):
        self.frame = frame
        self.counts = Counts(frame.days, len(frame.labels["district"]),
                             len(frame.labels["category"]), frame.response_limit_h,
                             frame.dept_base)
        self.waits = Waits(frame.horizon_h, frame.days) if waits else None
        self.writer = writer
        self.tally = Tally()
        self.wanted = self.needs(waits)
        kept = () if writer is None else writer.sources
        self.sources = tuple(dict.fromkeys(("pid", *sources(self.wanted), *kept)))

    @staticmethod
    def needs(waits: bool) -> tuple[str, ...]:
        """The problem columns a ledger reads."""
        return tuple(dict.fromkeys((*COUNTED, *((*SUMMED, *TIMED) if waits else ()))))

    @staticmethod
    def empty(cases: Cases, frame: Frame, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Final case columns (`final_cases`) for the problem columns `names`, of no case."""
        return final_cases({name: getattr(cases, name)[:0]
                            for name in ("pid", *sources(names))}, frame)

    def read(self, cases: Cases, slots: np.ndarray) -> None:
        """The final cases in rows `slots` (in any order) into the ledger."""
        if not len(slots):
            return
        a = {name: getattr(cases, name)[slots] for name in self.sources}
        self.tally.add(a["pid"], a["outcome"])
        a = final_cases(a, self.frame)
        self.add(problem_columns(a, self.frame, self.wanted))
        if self.writer is not None:
            self.writer.add(a)

    def add(self, rows: dict[str, np.ndarray]) -> None:
        """Plain problem rows (`problem_rows`) into the counts and waits."""
        self.counts.add(rows, summed=self.waits is not None)
        if self.waits is not None:
            self.waits.add(rows)


# ----------------------------------------------------------------------- tables of counts
def month_lookup(scenario) -> tuple[pd.PeriodIndex, np.ndarray]:
    """The calendar months of the measured period, and the month (a position in them; -1:
    outside) of each day 0 .. the measured days (the day after the end included)."""
    origin = pd.Timestamp(scenario.start_date)
    months = pd.period_range(origin, periods=max(1, (scenario.days + 30) // 28), freq="M")
    months = months[months.start_time < origin + pd.Timedelta(days=scenario.days)]
    index = pd.PeriodIndex(months, name="month")
    first = index[0].ordinal if len(index) else 0
    days = np.arange(scenario.days + 1)  # one lookup per day, not one Period per problem
    day_month = (origin + pd.to_timedelta(days, unit="D")).to_period("M").asi8 - first
    day_month[(day_month < 0) | (day_month >= len(index))] = -1
    return index, day_month


class Aggregates:
    """The counts of a finished run, as the tables read them: by day and district
    (`day_counts`), by day and category, by district, in total."""

    def __init__(self, counts: Counts, weight: float, labels: dict[str, tuple[str, ...]]):
        self.by_day, self.by_category = counts.by_day, counts.by_category
        self.by_district, self.totals = counts.by_district, counts.named_totals
        self.weight, self.labels = weight, labels

    @classmethod
    def of_table(cls, problems: pd.DataFrame, days: int, weight: float) -> Aggregates:
        """The counts of a problem table (a saved run's, say): those its run would have
        counted as it went."""
        labels = {"channel": CHANNELS, "outcome": OUTCOMES}
        for name in ("category", "district"):
            column = problems[name]
            labels[name] = tuple(column.cat.categories if isinstance(
                column.dtype, pd.CategoricalDtype) else sorted(column.unique()))
        counts = Counts(days, len(labels["district"]), len(labels["category"]))
        counts.add(plain_rows(problems, labels, COUNTED), summed=False)
        return cls(counts, weight, labels)

    def district(self, name: str) -> int | None:
        """The position of district `name` (None: not a district of the run's city)."""
        return self.districts.index(name) if name in self.districts else None

    @property
    def districts(self) -> tuple[str, ...]:
        return self.labels["district"]

    def day_counts(self, measure: int, district: int | None = None) -> np.ndarray:
        """Problems of `measure` by day (0 .. the measured days), of one district or all."""
        cube = self.by_day[:, :, measure]
        return cube.sum(axis=1) if district is None else cube[:, district].copy()

    def category_counts(self, measure: int, category: int) -> np.ndarray:
        return self.by_category[:, category, measure]

    def monthly(self, scenario, district: int | None = None) -> pd.DataFrame:
        """`sim.results.monthly` of the run's problems (of one district), from the counts."""
        k = self.weight if self.totals["problems"] else 1.0 / scenario.scale
        index, day_month = month_lookup(scenario)
        n = len(index)
        ok = day_month >= 0

        def count(measure: int) -> np.ndarray:
            return np.bincount(day_month[ok], self.day_counts(measure, district)[ok],
                               minlength=n)

        def rate(yes: int, known: int) -> np.ndarray:
            with np.errstate(invalid="ignore", divide="ignore"):
                return count(yes) / count(known)

        out = pd.DataFrame(index=index)
        out["occurred"] = count(OCCURRED) * k
        out["prevented"] = count(PREVENTED_DAY) * k
        out["reported"] = count(REQUESTS) * k
        per_request = 1.0 + scenario.hotline.consultations_per_request
        out["hotline_contacts"] = count(HOTLINE_TICKETS) * k * per_request
        out["dept_line_contacts"] = count(DEPT_LINE_TICKETS) * k * per_request
        resolved, unresolved = count(RESOLVED_DAY), count(UNRESOLVED_DAY)
        out["closed"] = (resolved + unresolved) * k
        with np.errstate(invalid="ignore", divide="ignore"):
            out["resolution_rate"] = resolved / (resolved + unresolved)
        out["satisfaction_rate"] = rate(SATISFIED, VERDICTS)
        out["ticket_resolution_rate"] = rate(TICKET_RESOLVED, TICKET_CALLBACKS)
        out["ticket_satisfaction_rate"] = rate(TICKET_SATISFIED, TICKET_VERDICTS)
        out["response_rate"] = rate(TICKET_RESPONDED, TICKET_RESPONSES)
        out["scored_resolution_rate"] = rate(SCORED_RESOLVED, SCORED_CALLBACKS)
        out["scored_satisfaction_rate"] = rate(SCORED_SATISFIED, SCORED_VERDICTS)
        return out

    def district_sums(self) -> pd.DataFrame:
        """Per district: problems, requests entered, found proactively, resolved (the sums
        `sim.results.district_table` starts from)."""
        names = self.districts
        index = pd.CategoricalIndex(pd.Categorical.from_codes(np.arange(len(names)), names),
                                    name="district")
        columns = {"occurred": D_OCCURRED, "requests": D_REQUESTS,
                   "found_proactively": D_FOUND, "resolved": D_RESOLVED}
        return pd.DataFrame({name: self.by_district[:, m].astype(float)
                             for name, m in columns.items()}, index=index)
