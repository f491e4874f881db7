"""Where the run writes down what happened: compact per-problem records and unit workload.

Per problem, one row of fixed-width columns (`array.array`, 1–8 bytes per field) written once,
when the problem's fate is known; per unit and day, numpy accumulators. Nothing here grows with
anything but the number of problems and of unit-days.
"""

from __future__ import annotations

import math
from array import array

import numpy as np

# Outcomes: each problem ends in exactly one (the accounting invariant).
RESOLVED, CLOSED_UNRESOLVED, OPEN, PREVENTED, NEVER_REPORTED = range(5)
OUTCOMES = ("resolved", "closed_unresolved", "open", "prevented", "never_reported")

# How a problem entered the system.
NO_CHANNEL, STREET_LINE, DEPT_LINE, HOTLINE, PATROL, INSPECTION = range(6)
CHANNELS = ("none", "street_line", "dept_line", "hotline", "patrol", "inspection")

# Per-problem columns and their array typecodes.
PROBLEM_COLUMNS: dict[str, str] = {
    "pid": "q",
    "category": "b",
    "community": "l",
    "occurred_h": "d",
    "entered_h": "d",
    "channel": "b",
    "first_unit_h": "d",
    "closed_h": "d",
    "outcome": "b",
    "owner_unit": "l",
    "handoffs": "h",
    "bounces": "b",
    "whistled": "b",
    "late_reports": "b",
    "report_delay_h": "f",
    "n_depts": "b",
    "cross_border": "b",
    "unreasonable": "b",
    "root_cause": "b",
    "emergency": "b",
    "time_limit_h": "f",
    "responded": "b",
    "callback_resolved": "b",
    "satisfied": "b",
    "callback_h": "d",
    "reopens": "b",
}


class Ledger:
    """Accumulates the run's records; `days` is the number of simulated days.

    Visits and closed problems are appended to flat buffers (cheap in the hot loop) and folded
    into the numpy tables once a day by `flush()`, so memory stays bounded by one day's events.
    """

    def __init__(self, n_units: int, days: int):
        self.days = days
        self.columns = {name: array(code) for name, code in PROBLEM_COLUMNS.items()}
        shape = (n_units, days + 1)  # the last column collects anything past the end
        self.arrivals = np.zeros(shape)
        self.completions = np.zeros(shape)
        self.busy_hours = np.zeros(shape)
        self._in_system = np.zeros(shape)  # visits' hours on their first and last days
        #: whole days in between, as a difference array along days (summed once, on reading)
        self._span_days = np.zeros((n_units, days + 2))
        self.sojourn_hours = np.zeros(shape)  # total time in system of visits that *arrived*
        self._visits = array("d")  # unit, arrive, start, finish, work; flattened
        #: `add_visit([unit, arrive, start, finish, work])` is `visit` as one C call (`fromlist`
        #: of a list is several times faster than `extend` of a tuple); the buffers are emptied
        #: in place by `flush`, so these bound methods stay valid
        self.add_visit = self._visits.fromlist
        #: closed problems' rows, flattened as float64 (every column's values are exact in it):
        #: one C call per row now, one numpy cast per column at `flush`
        self._rows = array("d")
        self.add_row = self._rows.fromlist  # `record` as one C call, given a list

    def visit(self, unit: int, arrive: float, start: float, finish: float, work: float) -> None:
        """One case's visit to a unit: counted, with its staff hours and time in system."""
        self._visits.fromlist([unit, arrive, start, finish, work])

    def charge(self, unit: int, now: float, hours: float) -> None:
        """Staff hours spent on something that is not a case (counted as busy, not a visit)."""
        self.busy_hours[unit, self._day(now)] += hours

    def _day(self, t: float) -> int:
        d = int(t // 24.0)
        return d if d < self.days else self.days

    def record(self, values: tuple) -> None:
        """One problem's row, in `PROBLEM_COLUMNS` order."""
        self._rows.fromlist(list(values))

    def flush(self) -> None:
        """Fold the buffered visits and rows into the tables."""
        if self._rows:
            rows = np.array(self._rows, dtype=np.float64).reshape(-1, len(PROBLEM_COLUMNS))
            del self._rows[:]
            for j, (name, code) in enumerate(PROBLEM_COLUMNS.items()):
                self.columns[name].frombytes(rows[:, j].astype(code_dtype(code)).tobytes())
        if not self._visits:
            return
        v = np.array(self._visits, dtype=np.float64).reshape(-1, 5)  # a copy: then empty it
        del self._visits[:]
        unit = v[:, 0].astype(np.int64)
        arrive, start, finish, work = v[:, 1], v[:, 2], v[:, 3], v[:, 4]
        last = self.days
        d0 = np.minimum((arrive // 24.0).astype(np.int64), last)
        d1 = np.minimum((finish // 24.0).astype(np.int64), last)
        ds = np.minimum((start // 24.0).astype(np.int64), last)
        np.add.at(self.arrivals, (unit, d0), 1.0)
        np.add.at(self.completions, (unit, d1), 1.0)
        np.add.at(self.busy_hours, (unit, ds), work)
        np.add.at(self.sojourn_hours, (unit, d0), finish - arrive)
        # time in system, split over the days each visit spans
        same = d0 == d1
        np.add.at(self._in_system, (unit[same], d0[same]), (finish - arrive)[same])
        span = ~same
        if span.any():
            u, a, f, s0, s1 = unit[span], arrive[span], finish[span], d0[span], d1[span]
            np.add.at(self._in_system, (u, s0), 24.0 * (s0 + 1) - a)
            inside = s1 < last
            np.add.at(self._in_system, (u[inside], s1[inside]),
                      f[inside] - 24.0 * s1[inside])
            full = s1 - s0 > 1  # whole days in between: +24 each
            if full.any():
                np.add.at(self._span_days, (u[full], s0[full] + 1), 24.0)
                np.add.at(self._span_days, (u[full], s1[full]), -24.0)

    @property
    def in_system_hours(self) -> np.ndarray:
        """Hours in system of all visits, per unit and day (time-averaged backlog x 24)."""
        return self._in_system + np.cumsum(self._span_days, axis=1)[:, : self.days + 1]

    def record_block(self, block: dict[str, np.ndarray]) -> None:
        """Append many rows at once (problems whose fate is known on arrival)."""
        n = len(block["pid"])
        for name, code in PROBLEM_COLUMNS.items():
            values = block.get(name)
            if values is None:
                values = np.full(n, -1 if code in "bhlq" else math.nan)
            self.columns[name].frombytes(np.ascontiguousarray(values, dtype=code_dtype(code))
                                         .tobytes())

    def rows_since(self, start: int, names: tuple[str, ...]) -> tuple[dict[str, np.ndarray], int]:
        """The rows folded in from row `start` on (in recording order, not sorted), as copies,
        and the row count to pass next time: a watcher reads each row once. The model folds
        the day's rows in at the day's end (`flush`)."""
        end = len(self.columns["pid"])
        # slicing an array.array copies it: no buffer of the ledger stays exported
        return ({name: np.frombuffer(self.columns[name][start:end],
                                     dtype=code_dtype(PROBLEM_COLUMNS[name])) for name in names},
                end)

    def problem_arrays(self) -> dict[str, np.ndarray]:
        """All records as numpy arrays, sorted by problem id."""
        self.flush()
        cols = {name: np.frombuffer(col, dtype=code_dtype(PROBLEM_COLUMNS[name])).copy()
                for name, col in self.columns.items()}
        order = np.argsort(cols["pid"], kind="stable")
        return {name: values[order] for name, values in cols.items()}


def code_dtype(code: str) -> np.dtype:
    return np.dtype({"q": np.int64, "l": np.int64, "h": np.int16, "b": np.int8, "d": np.float64,
                     "f": np.float32}[code])
