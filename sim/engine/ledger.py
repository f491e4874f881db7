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
    """Accumulates the run's records; `days` is the number of simulated days."""

    def __init__(self, n_units: int, days: int):
        self.days = days
        self.columns = {name: array(code) for name, code in PROBLEM_COLUMNS.items()}
        shape = (n_units, days + 1)  # the last column collects anything past the end
        self.arrivals = np.zeros(shape)
        self.completions = np.zeros(shape)
        self.busy_hours = np.zeros(shape)
        self.in_system_hours = np.zeros(shape)
        self.sojourn_hours = np.zeros(shape)  # total time in system of visits that *arrived*
        self._col_list = list(self.columns.values())

    def _day(self, t: float) -> int:
        d = int(t // 24.0)
        return d if d < self.days else self.days

    def visit(self, unit: int, arrive: float, start: float, finish: float, work: float) -> None:
        """One case's visit to a unit: counts, staff hours and time in system by day."""
        d0 = self._day(arrive)
        self.arrivals[unit, d0] += 1.0
        self.completions[unit, self._day(finish)] += 1.0
        self.busy_hours[unit, self._day(start)] += work
        self.sojourn_hours[unit, d0] += finish - arrive
        row = self.in_system_hours
        d1 = self._day(finish)
        if d0 == d1:
            row[unit, d0] += finish - arrive
            return
        row[unit, d0] += 24.0 * (d0 + 1) - arrive
        if d1 - d0 > 1:
            row[unit, d0 + 1 : d1] += 24.0
        if d1 < self.days:
            row[unit, d1] += finish - 24.0 * d1

    def charge(self, unit: int, now: float, hours: float) -> None:
        self.busy_hours[unit, self._day(now)] += hours

    def record(self, values: tuple) -> None:
        """Append one problem's row, in `PROBLEM_COLUMNS` order."""
        for col, value in zip(self._col_list, values, strict=True):
            col.append(value)

    def record_block(self, block: dict[str, np.ndarray]) -> None:
        """Append many rows at once (problems whose fate is known on arrival)."""
        n = len(block["pid"])
        for name, code in PROBLEM_COLUMNS.items():
            values = block.get(name)
            if values is None:
                values = np.full(n, -1 if code in "bhlq" else math.nan)
            self.columns[name].frombytes(np.ascontiguousarray(values, dtype=code_dtype(code))
                                         .tobytes())

    def problem_arrays(self) -> dict[str, np.ndarray]:
        """All records as numpy arrays, sorted by problem id."""
        cols = {name: np.frombuffer(col, dtype=code_dtype(PROBLEM_COLUMNS[name])).copy()
                for name, col in self.columns.items()}
        order = np.argsort(cols["pid"], kind="stable")
        return {name: values[order] for name, values in cols.items()}


def code_dtype(code: str) -> np.dtype:
    return np.dtype({"q": np.int64, "l": np.int64, "h": np.int16, "b": np.int8, "d": np.float64,
                     "f": np.float32}[code])
