"""Desks: each unit's staff as servers that serve cases first come, first served, in working hours.

A unit's servers are a small min-heap of the times each is next free, kept in one flat array
(`free[first[u] : first[u] + servers[u]]`). A case's finish time is fixed the moment it arrives
(FCFS, non-preemptive): it starts when the earliest server is free and then needs its work in
*working* hours. So a visit costs one heap operation on a heap of `servers[u]` entries, whatever
the size of the city.

Staff are whole people (`servers_for`): a unit's expected head count (staff per 10,000
residents x residents, which is fractional) becomes that many people rounded, at least one,
each working at the normal pace; so a case's service time is the same whatever the size of the
unit, and a unit never becomes one slow server. A unit of nobody never finishes anything.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba.experimental import structref

from sim.engine.compile import ByReference, borrowed, by_reference, holding, kernel
from sim.engine.workload import book_hours, book_visit


class Desks(NamedTuple):
    first: np.ndarray  # int64 per unit: where its servers start in `free`
    servers: np.ndarray  # int64 per unit
    free: np.ndarray  # float64: each server's next free time, a min-heap per unit
    speed: np.ndarray  # float64 per unit: work done per working hour per server (1; ~0: nobody)
    opens: np.ndarray  # float64 per unit: start of the working day, hours after midnight
    hours: np.ndarray  # float64 per unit: working hours today (>= 24: round the clock)


@structref.register
class _DesksStruct(ByReference):
    pass


class DesksRef(structref.StructRefProxy):
    """A `Desks` passed by reference."""


by_reference(DesksRef, _DesksStruct, Desks._fields)


@kernel
def _new_ref(*fields):
    return DesksRef(*borrowed(fields))


def ref(value: Desks) -> DesksRef:
    """The desks as kernels take it: one struct, by reference, over the same arrays."""
    return holding(_new_ref(*value), value)


def servers_for(staff: float) -> tuple[int, float]:
    """Whole people and their speed for an expected head count of `staff` (see the module)."""
    if staff <= 0.0:  # no one: work queued here is never done (the unit is absent)
        return 1, 1e-9
    return max(1, math.floor(staff + 0.5)), 1.0


def people(staff: np.ndarray) -> np.ndarray:
    """The whole people of each unit (0 where it has nobody)."""
    return np.where(staff > 0, np.maximum(1, np.floor(staff + 0.5)), 0.0)


def new_desks(staff: np.ndarray, opens: np.ndarray, hours: np.ndarray) -> Desks:
    units = len(staff)
    servers = np.zeros(units, np.int64)
    speed = np.zeros(units)
    for u in range(units):
        servers[u], speed[u] = servers_for(float(staff[u]))
    first = np.concatenate([[0], np.cumsum(servers)[:-1]]).astype(np.int64)
    return Desks(first, servers, np.zeros(int(servers.sum())), speed,
                 np.asarray(opens, float).copy(), np.minimum(np.asarray(hours, float), 24.0))


def restaffed(desks: Desks, staff: np.ndarray, now: float) -> Desks:
    """The desks with new headcounts from `now` (a timeline change, staff growth). Work already
    queued keeps its finish times; new servers start free at `now`; when a unit shrinks, the
    servers free latest leave once their queued work is done."""
    fresh = new_desks(staff, desks.opens, desks.hours)
    for u in range(len(staff)):
        lo = int(desks.first[u])
        old = np.sort(desks.free[lo:lo + int(desks.servers[u])])
        n = int(fresh.servers[u])
        times = np.full(n, now)
        keep = min(n, len(old))
        times[:keep] = old[:keep]
        start = int(fresh.first[u])
        fresh.free[start:start + n] = np.sort(times)  # a sorted array is a min-heap
    return fresh


@kernel
def after(desks, unit, start, work):
    """The time at which `work` working hours begun at `start` are done."""
    hours = desks.hours[unit]
    if hours >= 24.0:
        return start + work
    opens = desks.opens[unit]
    day = math.floor((start - opens) / 24.0)
    into = start - (24.0 * day + opens)
    if into >= hours:  # outside the shift: wait for the next one
        day += 1
        into = 0.0
    left = hours - into
    if work <= left:
        return 24.0 * day + opens + into + work
    work -= left
    more = math.ceil(work / hours)
    return 24.0 * (day + more) + opens + work - (more - 1) * hours


@kernel
def _replace_earliest(desks, unit, finish):
    """The earliest-free server of `unit` is next free at `finish` (heap root replaced)."""
    free = desks.free
    lo = desks.first[unit]
    n = desks.servers[unit]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        child = left
        if left + 1 < n and free[lo + left + 1] < free[lo + left]:
            child = left + 1
        if free[lo + child] >= finish:
            break
        free[lo + i] = free[lo + child]
        i = child
    free[lo + i] = finish


@kernel
def serve(desks, workload, unit, now, work):
    """Queue a case that arrives `now` needing `work` staff hours; return its finish time."""
    earliest = desks.free[desks.first[unit]]
    start = max(earliest, now)
    finish = after(desks, unit, start, work / desks.speed[unit])
    _replace_earliest(desks, unit, finish)
    book_visit(workload, unit, now, start, finish, work)
    return finish


@kernel
def serve_now(desks, workload, unit, now, duration):
    """Urgent work (an emergency, a whistle) done at once, on call, for `duration` hours.

    The staff hours are taken from the unit by pushing back its earliest-free server, so
    queued cases feel the load; the urgent case itself does not wait.
    """
    earliest = desks.free[desks.first[unit]]
    base = max(earliest, now)
    _replace_earliest(desks, unit, after(desks, unit, base, duration / desks.speed[unit]))
    book_visit(workload, unit, now, now, now + duration, duration)
    return now + duration


@kernel
def charge(desks, workload, unit, now, hours):
    """Staff hours spent on work that is not a case (source-governance projects)."""
    if hours <= 0.0:
        return
    earliest = desks.free[desks.first[unit]]
    base = max(earliest, now)
    _replace_earliest(desks, unit, after(desks, unit, base, hours / desks.speed[unit]))
    book_hours(workload, unit, now, hours)


@kernel
def charge_all(desks, workload, units, now, hours):
    """`charge` for many units at once, one call from Python."""
    for i in range(len(units)):
        charge(desks, workload, units[i], now, hours[i])


def backlog_hours(desks: Desks, unit: int, now: float) -> float:
    """Queued work ahead of a newcomer, in hours until the earliest server is free."""
    return max(0.0, float(desks.free[desks.first[unit]]) - now)
