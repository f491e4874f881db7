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

Below 1:1 (a sample of streets, `sim.sampling`), a unit shared with streets not simulated (a
department, a district's command centre, the hotline) is simulated whole: all its people, and
besides the sampled streets' cases the work of the others (`background`: so many times the
sampled streets' residents as live in the rest of its catchment). That work arrives as the
sampled cases do: a Poisson stream at the rate the unit's own cases arrived over the last
weeks, shaped by the hour of the week as cases reach units of its kind, each visit the work of
one of its recent cases. It is queued as they are and counted nowhere else, so a sampled case
waits as it would at the whole unit. Background arrivals are made when the unit is next
visited (its queue is seen only then), and a day's rest at the day's end.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.engine import draws
from sim.engine.compile import kernel, passed_by_reference
from sim.engine.workload import book_hours, book_visit

#: Hours of a week: the background's rates are by hour of the week (from day 0 of the run).
WEEK = 168
#: Recent visits of a unit whose work its background visits take.
RECENT = 32
#: Background draws are keyed by this plus the unit (no case id comes near), and a purpose.
BACKGROUND_KEY = np.uint64(1 << 62)
DRAW_BACKGROUND_GAP, DRAW_BACKGROUND_WORK = np.int64(200), np.int64(201)


class Desks(NamedTuple):
    first: np.ndarray  # int64 per unit: where its servers start in `free`
    servers: np.ndarray  # int64 per unit
    free: np.ndarray  # float64: each server's next free time, a min-heap per unit
    speed: np.ndarray  # float64 per unit: work done per working hour per server (1; ~0: nobody)
    opens: np.ndarray  # float64 per unit: start of the working day, hours after midnight
    hours: np.ndarray  # float64 per unit: working hours today (>= 24: round the clock)
    # the background (see the module)
    background: np.ndarray  # float64 per unit: its work per sampled case (0: none)
    rate: np.ndarray  # float64 (unit, WEEK): background arrivals per hour, this week's hours
    next_at: np.ndarray  # float64 per unit: its next arrival (NaN: to be drawn from `since`)
    since: np.ndarray  # float64 per unit: background made up to here
    drawn: np.ndarray  # int64 per unit: background draws made (their keyed count)
    recent: np.ndarray  # float64 (unit, RECENT): recent visits' work (negative: urgent)
    visits: np.ndarray  # int64 per unit: visits noted in `recent`
    arrived: np.ndarray  # float64 (unit, WEEK): visits by hour of the week (a profile)
    key: np.ndarray  # uint64 (1,): the run's random key
    present: np.ndarray  # float64 (1,): the clock's time (its `now`): background made up to it
    made: np.ndarray  # int64 per unit: background visits made
    owed: np.ndarray  # float64 per unit: background visits owed (see `top_up`)


#: The desks as kernels take it: one struct (`DesksRef`), by reference, over the same
#: arrays.
ref = passed_by_reference("Desks", Desks._fields, __name__,
                          "A `Desks` passed by reference.")


def servers_for(staff: float) -> tuple[int, float]:
    """Whole people and their speed for an expected head count of `staff` (see the module)."""
    if staff <= 0.0:  # no one: work queued here is never done (the unit is absent)
        return 1, 1e-9
    return max(1, math.floor(staff + 0.5)), 1.0


def people(staff: np.ndarray) -> np.ndarray:
    """The whole people of each unit (0 where it has nobody)."""
    return np.where(staff > 0, np.maximum(1, np.floor(staff + 0.5)), 0.0)


def new_desks(staff: np.ndarray, opens: np.ndarray, hours: np.ndarray,
              key: np.uint64 = np.uint64(0)) -> Desks:
    units = len(staff)
    staff = np.asarray(staff, float)
    present = staff > 0.0  # `servers_for`, for every unit at once
    servers = np.where(present, np.maximum(1, np.floor(staff + 0.5)), 1).astype(np.int64)
    speed = np.where(present, 1.0, 1e-9)
    first = np.concatenate([[0], np.cumsum(servers)[:-1]]).astype(np.int64)
    return Desks(first, servers, np.zeros(int(servers.sum())), speed,
                 np.asarray(opens, float).copy(), np.minimum(np.asarray(hours, float), 24.0),
                 np.zeros(units), np.zeros((units, WEEK)), np.full(units, np.nan),
                 np.zeros(units), np.zeros(units, np.int64), np.zeros((units, RECENT)),
                 np.zeros(units, np.int64), np.zeros((units, WEEK)),
                 np.array([key], np.uint64), np.full(1, np.inf), np.zeros(units, np.int64),
                 np.zeros(units))


def restaffed(desks: Desks, staff: np.ndarray, now: float) -> Desks:
    """The desks with new headcounts from `now` (a timeline change, staff growth). Work already
    queued keeps its finish times; new servers start free at `now`; when a unit shrinks, the
    servers free latest leave once their queued work is done. The background goes on."""
    fresh = new_desks(staff, desks.opens, desks.hours)._replace(
        **{name: getattr(desks, name) for name in Desks._fields[6:]})
    _carry_over(desks.first, desks.servers, desks.free, fresh.first, fresh.servers, fresh.free,
                now)
    return fresh


@kernel
def _carry_over(first, servers, free, new_first, new_servers, new_free, now):
    """Each unit's servers into its new head count (see `restaffed`)."""
    for u in range(len(servers)):
        old = np.sort(free[first[u]:first[u] + servers[u]])
        n = new_servers[u]
        times = np.full(n, now)
        keep = min(n, len(old))
        times[:keep] = old[:keep]
        new_free[new_first[u]:new_first[u] + n] = np.sort(times)  # sorted: a min-heap


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
def _queue(desks, unit, now, work):
    """`work` staff hours queued at `unit` from `now`: (start, finish)."""
    start = max(desks.free[desks.first[unit]], now)
    finish = after(desks, unit, start, work / desks.speed[unit])
    _replace_earliest(desks, unit, finish)
    return start, finish


@kernel
def _push_back(desks, unit, now, hours):
    """`hours` of work taken from `unit` at once: its earliest-free server is pushed back."""
    base = max(desks.free[desks.first[unit]], now)
    _replace_earliest(desks, unit, after(desks, unit, base, hours / desks.speed[unit]))


@kernel
def serve(desks, workload, unit, now, work):
    """Queue a case that arrives `now` needing `work` staff hours; return its finish time."""
    catch_up(desks, unit, now)
    start, finish = _queue(desks, unit, now, work)
    book_visit(workload, unit, now, start, finish, work)
    _note(desks, unit, now, work)
    return finish


@kernel
def serve_now(desks, workload, unit, now, duration):
    """Urgent work (an emergency, a whistle) done at once, on call, for `duration` hours.

    The staff hours are taken from the unit by pushing back its earliest-free server, so
    queued cases feel the load; the urgent case itself does not wait.
    """
    catch_up(desks, unit, now)
    _push_back(desks, unit, now, duration)
    book_visit(workload, unit, now, now, now + duration, duration)
    _note(desks, unit, now, -duration)
    return now + duration


@kernel
def charge(desks, workload, unit, now, hours):
    """Staff hours spent on work that is not a case (source-governance projects)."""
    if hours <= 0.0:
        return
    catch_up(desks, unit, now)
    _push_back(desks, unit, now, hours)
    book_hours(workload, unit, now, hours)


# ---------------------------------------------------------------------------- background
@kernel
def _note(desks, unit, now, work):
    """A sampled visit of a unit with a background: its work (negative: urgent) among the
    recent ones, its hour of the week in the profile."""
    if desks.background[unit] <= 0.0:
        return
    n = desks.visits[unit]
    desks.recent[unit, n % RECENT] = work
    desks.visits[unit] = n + 1
    desks.arrived[unit, int(math.floor(now)) % WEEK] += 1.0  # noqa: RUF046 - numba: the type


@kernel
def _gap(desks, unit, t):
    """The next background arrival after `t`, at the unit's rate by hour of the week (inf:
    none within two weeks)."""
    n = desks.drawn[unit]
    desks.drawn[unit] = n + 1
    left = draws.exponential(desks.key[0], BACKGROUND_KEY + np.uint64(unit),
                             DRAW_BACKGROUND_GAP, n, 1.0)
    for _ in range(2 * WEEK + 1):
        hour = math.floor(t)
        rate = desks.rate[unit, int(hour) % WEEK]
        span = hour + 1.0 - t
        if rate > 0.0 and rate * span >= left:
            return t + left / rate
        left -= rate * span
        t = hour + 1.0
    return np.inf


@kernel
def catch_up(desks, unit, now):
    """The unit's background work that arrived by `now`, queued (or taken at once) in turn;
    never beyond the clock's time (work on call booked ahead does not bring the background
    of hours to come before the cases arriving meanwhile)."""
    if desks.background[unit] <= 0.0:
        return
    now = min(now, desks.present[0])
    t = desks.next_at[unit]
    if math.isnan(t):
        t = _gap(desks, unit, desks.since[unit])
    while t <= now and desks.visits[unit] > 0:
        _background_visit(desks, unit, t)
        t = _gap(desks, unit, t)
    desks.next_at[unit] = t
    desks.since[unit] = max(desks.since[unit], min(t, now))


@kernel
def _background_visit(desks, unit, t):
    """One background visit at `t`: the work of one of the unit's recent visits, alike."""
    seen = min(desks.visits[unit], RECENT)
    n = desks.drawn[unit]
    desks.drawn[unit] = n + 1
    pick = int(draws.uniform(desks.key[0], BACKGROUND_KEY + np.uint64(unit),
                             DRAW_BACKGROUND_WORK, n) * seen)
    work = desks.recent[unit, min(pick, seen - 1)]
    if work >= 0.0:
        _queue(desks, unit, t, work)
    else:
        _push_back(desks, unit, t, -work)
    desks.made[unit] += 1


@kernel
def top_up(desks, units, owed, start, end):
    """The background visits each of `units` is owed for [start, end): the day's sampled
    visits times its background, less those made in the day at the rate of the days before
    (a surge is followed within the day it starts, not a week later). They are made at the
    day's end, at times drawn uniformly over it, in order; what is owed carries over (less
    than one visit, or more made than owed)."""
    for i in range(len(units)):
        unit = units[i]
        desks.owed[unit] += owed[i]
        k = int(math.floor(desks.owed[unit]))  # noqa: RUF046 - numba: the type, fixed
        if k <= 0 or desks.visits[unit] == 0:
            continue
        desks.owed[unit] -= k
        times = np.empty(k)
        for j in range(k):
            n = desks.drawn[unit]
            desks.drawn[unit] = n + 1
            times[j] = start + (end - start) * draws.uniform(
                desks.key[0], BACKGROUND_KEY + np.uint64(unit), DRAW_BACKGROUND_GAP, n)
        times.sort()
        for j in range(k):
            _background_visit(desks, unit, times[j])


@kernel
def catch_up_all(desks, units, now):
    """`catch_up` of every one of `units` (a day's end: before their rates change)."""
    for i in range(len(units)):
        catch_up(desks, units[i], now)


@kernel
def charge_all(desks, workload, units, now, hours):
    """`charge` for many units at once, one call from Python."""
    for i in range(len(units)):
        charge(desks, workload, units[i], now, hours[i])


def backlog_hours(desks: Desks, unit: int, now: float) -> float:
    """Queued work ahead of a newcomer, in hours until the earliest server is free."""
    return max(0.0, float(desks.free[desks.first[unit]]) - now)
