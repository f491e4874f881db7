"""What each unit did, day by day: visits, staff hours and time in system, summed as they happen.

One table `[day, unit, measure]` (the last day row collects anything past the end): a visit is
booked when its finish is fixed (on arrival, see `desks`), under the days it touches: its
arrival, its start (staff hours) and its finish; its time in the unit is split over the days it
spans (whole days in between go to a difference column, summed once when read). Days come
first so that the rows of the days under way stay in the processor's cache.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.engine.compile import kernel, passed_by_reference

#: The measures, in the table's last axis.
ARRIVALS, COMPLETIONS, BUSY, SOJOURN, IN_SYSTEM, SPAN = range(6)
MEASURES = ("arrivals", "completions", "busy_hours", "sojourn_hours", "in_system", "span_days")


class Workload(NamedTuple):
    table: np.ndarray  # (days + 2, units, measures), float64


#: The workload as kernels take it: one struct (`WorkloadRef`), by reference, over the same
#: arrays.
ref = passed_by_reference("Workload", Workload._fields, __name__,
                          "A `Workload` passed by reference.")


def new_workload(units: int, days: int) -> Workload:
    return Workload(np.zeros((days + 2, units, len(MEASURES))))


def per_unit(workload: Workload, measure: int) -> np.ndarray:
    """One measure as (units, days + 1): visits arrived, completed, staff hours by the day
    work started, and the time in the unit of the visits that arrived that day."""
    return workload.table[:-1, :, measure].T


def in_system_hours(workload: Workload) -> np.ndarray:
    """Hours in the unit of all visits, per unit and day (the time-averaged backlog x 24)."""
    spans = np.cumsum(workload.table[:, :, SPAN], axis=0)[:-1]
    return (workload.table[:-1, :, IN_SYSTEM] + spans).T


@kernel
def _day(table, t):
    last = table.shape[0] - 2
    d = int(math.floor(t / 24.0))  # noqa: RUF046 - numba kernel: the type is fixed here
    return min(d, last)  # (not t // 24.0, which numba computes with fmod)


@kernel
def book_visit(workload, unit, arrive, start, finish, work):
    """One visit of a case to `unit`: `work` staff hours begun at `start`, done at `finish`."""
    table = workload.table
    d0 = _day(table, arrive)
    d1 = _day(table, finish)
    table[d0, unit, ARRIVALS] += 1.0
    table[d0, unit, SOJOURN] += finish - arrive
    table[d1, unit, COMPLETIONS] += 1.0
    table[_day(table, start), unit, BUSY] += work
    if d0 == d1:
        table[d0, unit, IN_SYSTEM] += finish - arrive
        return
    table[d0, unit, IN_SYSTEM] += 24.0 * (d0 + 1) - arrive
    if d1 < table.shape[0] - 2:
        table[d1, unit, IN_SYSTEM] += finish - 24.0 * d1
    if d1 - d0 > 1:
        table[d0 + 1, unit, SPAN] += 24.0
        table[d1, unit, SPAN] -= 24.0


@kernel
def book_hours(workload, unit, now, hours):
    """Staff hours spent on something that is not a case (counted as busy, not as a visit)."""
    workload.table[_day(workload.table, now), unit, BUSY] += hours
