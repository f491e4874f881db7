"""The case lifecycle: every problem as one row of a struct of arrays, from occurrence to record.

A problem has an id (`pid`, in order of occurrence) and, while its case is in the system, a row
of the table (a slot). The day's problems are written by `sim.problems` (what the problem is,
whether and when it enters); the flow (`sim.flow`) and the mechanisms then move each entered
case from station to station (`AT_STREET`, `AT_DEPT`, ...) until it is recorded with one of
`OUTCOMES`. Columns are named as the result's problem table names them (docs/performance.md has
the table). A problem that never enters is recorded when it occurs; one still in the system at
the end of the run keeps the outcome `open`.

A recorded case is final: nothing happens to it any more. A streamed run (`sim.ledger`) reads
each day's final cases into its results and gives their rows back (`retire`); the rows of the
cases still in the system are moved together when the table runs out of room (`compact`), so
the table holds the cases in flight, not the run's history. A run that keeps every row (the
reference build, the interactive page) never retires one, and then a problem's row is its id.

Random draws of a case are keyed by its id, a purpose (`DRAW_*`, one list so that no two
purposes collide) and the case's own count of draws, so they do not depend on the order in
which other cases' events run, nor on its row (`sim.engine.draws`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.engine import draws
from sim.engine.compile import kernel, passed_by_reference
from sim.engine.desks import serve, serve_now

# Outcomes: each problem ends in exactly one (the accounting invariant).
(RESOLVED, CLOSED_UNRESOLVED, OPEN, PREVENTED, NEVER_REPORTED) = np.arange(5, dtype=np.int64)
OUTCOMES = ("resolved", "closed_unresolved", "open", "prevented", "never_reported")

# How a problem entered the system.
(NO_CHANNEL, STREET_LINE, DEPT_LINE, HOTLINE, PATROL, INSPECTION) = np.arange(6, dtype=np.int64)
CHANNELS = ("none", "street_line", "dept_line", "hotline", "patrol", "inspection")

# Stations: what happens to a case when its event comes (the clock's event kinds).
STATIONS = ("enter", "at_street", "street_handle", "at_centre", "at_dept", "other_side",
            "reopen", "on_spot")
(ENTER,  # it enters through its channel
 AT_STREET,  # it reaches its street office
 STREET_HANDLE,  # it is through the office's internal sections
 AT_CENTRE,  # it reaches its district command centre
 AT_DEPT,  # it reaches the department it needs next
 OTHER_SIDE,  # the street across the border takes its share
 REOPEN,  # the callback found it unsolved: its owner handles it again
 ON_SPOT,  # a plug-in settles it where it arose: its owner unit works it at once
 ) = np.arange(len(STATIONS), dtype=np.int64)

# Constants handed to kernels are numpy integers: numba compiles a kernel once per *value* of
# a plain Python int passed to it (as a literal type), once per type for a numpy one.

# Purposes of draws made when a problem occurs (count 0) ...
(DRAW_UNREASONABLE, DRAW_ROOT_CAUSE, DRAW_PREVENTED, DRAW_EMERGENCY, DRAW_MULTI_DEPT,
 DRAW_CROSS_BORDER, DRAW_POWER, DRAW_REPORTED, DRAW_REPORT_DELAY, DRAW_STREET_LINE,
 DRAW_PATROL, DRAW_INSPECTION, DRAW_DEPT_COUNT, DRAW_OTHER_DEPT, DRAW_NEIGHBOUR,
 ) = np.arange(15, dtype=np.int64)
# ... and while it is handled (the case's count of draws).
(DRAW_INTAKE, DRAW_DISPATCH, DRAW_UNCLEAR, DRAW_DEPT_LINE, DRAW_HANDOFFS, DRAW_HANDOFF_DELAY,
 DRAW_WORK, DRAW_TRIAGE, DRAW_RELAY, DRAW_BOUNCE, DRAW_PAPER_CLOSE, DRAW_BOUNCE_DELAY,
 DRAW_ON_TIME, DRAW_LATE_BY, DRAW_JOINT_WORK, DRAW_BORDER_WORK, DRAW_BORDER_WAIT,
 DRAW_RESOLVED, DRAW_SATISFIED, DRAW_REOPEN, DRAW_TERRITORIAL) = np.arange(32, 53,
                                                                          dtype=np.int64)
# ... and draws keyed by something other than a case (the key's "case" is then named).
DRAW_HOT_SPOTS = np.int64(100)  # a theme project's number of streets, by month and project

#: A case closed on paper (pushed back too often), or handled to its end.
ON_PAPER, HANDLED = np.True_, np.False_

MAX_DEPTS = 3  # departments one problem can need at most (lead + 2)


@dataclass(slots=True, eq=False, repr=False)
class Cases:
    """The struct of arrays (one row per case in the table). Mutable, so that `grow` can
    replace one column at a time and let the old one go at once: a table that keeps every
    row of a 1:1 history holds some 70 million, and two copies of it would double its memory."""

    key: np.uint64  # the run's random key
    pid: np.ndarray  # int64: the problem's id (its draws' key); -1: a row given back
    # what the problem is (set when it occurs)
    category: np.ndarray  # int8
    community: np.ndarray  # int32
    street: np.ndarray  # int32: the street office of the problem's community
    occurred_h: np.ndarray  # float64
    unreasonable: np.ndarray  # bool: out of scope or unreasonable, never resolvable
    root_cause: np.ndarray  # bool: from a persistent source (the target of 未诉先办)
    emergency: np.ndarray  # bool
    time_limit_h: np.ndarray  # float32
    power: np.ndarray  # bool: the street may resolve it with its own powers
    n_depts: np.ndarray  # int8: departments whose authority it needs
    depts: np.ndarray  # int32 (rows, MAX_DEPTS): their units, lead first
    cross_border: np.ndarray  # bool
    neighbour: np.ndarray  # int32: the street across the border, or -1
    # how it entered
    entered_h: np.ndarray  # float64 (NaN: never)
    channel: np.ndarray  # int8, index into CHANNELS
    # what happened
    first_unit_h: np.ndarray  # float64: when a handling unit first had it
    closed_h: np.ndarray  # float64: when its last handling ended
    outcome: np.ndarray  # int8, index into OUTCOMES
    owner_unit: np.ndarray  # int32: the unit scored for it (-1: none yet)
    handoffs: np.ndarray  # int16
    bounces: np.ndarray  # int16
    whistled: np.ndarray  # bool
    late_reports: np.ndarray  # int16: departments late on site over its whistles
    report_delay_h: np.ndarray  # float32: whistle, call to the last department on site
    next_dept: np.ndarray  # int8: which of its departments it needs next
    backstop: np.ndarray  # bool: sent to the district as unclear, not yet decided
    responded: np.ndarray  # int8: reached a unit within the response limit (-1: no ticket)
    callback_resolved: np.ndarray  # int8: resolved at its last callback (-1: none)
    satisfied: np.ndarray  # int8: the resident's verdict (-1: none)
    callback_h: np.ndarray  # float64
    reopens: np.ndarray  # int16
    draws: np.ndarray  # int32: draws made for it while handled
    recorded: np.ndarray  # int64: rows recorded since the model last read them
    counters: np.ndarray  # int64: see the positions below


#: The fields of `Cases`, in order (as the kernels' struct has them).
FIELDS = tuple(f.name for f in fields(Cases))
#: Positions in `Cases.counters`: rows in use (given back ones included), rows in `recorded`,
#: problems so far (the next id), rows given back and not yet reused.
ROWS, RECORDED, PIDS, RETIRED = 0, 1, 2, 3


_table_ref = passed_by_reference("CaseTable", FIELDS, __name__,
                                 "`Cases` passed by reference: what the kernels take.")


def ref(cases: Cases):
    """The case table as kernels take it: one struct (`CaseTableRef`), by reference, over the
    same arrays."""
    return _table_ref(tuple(getattr(cases, name) for name in FIELDS))

_FILL = {"outcome": OPEN, "owner_unit": -1, "neighbour": -1, "responded": -1,
         "callback_resolved": -1, "satisfied": -1}
_NAN = ("entered_h", "first_unit_h", "closed_h", "report_delay_h", "callback_h")
_DTYPES = {"pid": np.int64, "category": np.int8, "community": np.int32, "street": np.int32,
           "occurred_h": np.float64, "unreasonable": np.bool_, "root_cause": np.bool_,
           "emergency": np.bool_, "time_limit_h": np.float32, "power": np.bool_,
           "n_depts": np.int8, "depts": np.int32, "cross_border": np.bool_,
           "neighbour": np.int32, "entered_h": np.float64, "channel": np.int8,
           "first_unit_h": np.float64, "closed_h": np.float64, "outcome": np.int8,
           "owner_unit": np.int32, "handoffs": np.int16, "bounces": np.int16,
           "whistled": np.bool_, "late_reports": np.int16, "report_delay_h": np.float32,
           "next_dept": np.int8, "backstop": np.bool_, "responded": np.int8,
           "callback_resolved": np.int8, "satisfied": np.int8, "callback_h": np.float64,
           "reopens": np.int16, "draws": np.int32}
#: Columns a new row starts at zero (the problem maker writes the others, or they start as
#: `_NAN` and `_FILL` say).
_ZERO = ("handoffs", "bounces", "whistled", "late_reports", "next_dept", "backstop", "reopens",
         "draws")
#: Columns of a problem's row, as the model hands them to the result tables.
COLUMNS = tuple(name for name in _DTYPES if name not in ("pid", "depts", "next_dept",
                                                           "backstop", "draws", "street",
                                                           "neighbour", "power"))


def _column(name: str, rows: int) -> np.ndarray:
    """A column of `rows` zeros (memory the system gives on first touch); `start_rows` writes
    each new row's defaults."""
    shape = (rows, MAX_DEPTS) if name == "depts" else rows
    return np.zeros(shape, _DTYPES[name])


def start_rows(cases: Cases, rows: slice) -> None:
    """New rows get their defaults: not yet entered, open, no owner, no callback, nothing
    counted yet (a row may have held a case before: `compact`)."""
    for name in _ZERO:
        getattr(cases, name)[rows] = 0
    for name in _NAN:
        getattr(cases, name)[rows] = np.nan
    for name, value in _FILL.items():
        getattr(cases, name)[rows] = value


def new_cases(key: np.uint64, capacity: int = 1024) -> Cases:
    return Cases(np.uint64(key), **{name: _column(name, capacity) for name in _DTYPES},
                 recorded=np.zeros(capacity, np.int64), counters=np.zeros(4, np.int64))


def has_room(cases: Cases, more: int) -> bool:
    """Whether `more` new rows fit."""
    return int(cases.counters[ROWS]) + more <= len(cases.outcome)


def grow(cases: Cases, more: int) -> None:
    """Make room for `more` new rows, and for as many ids in `recorded` as there can be
    cases in flight, in place. Columns grow one at a time and each old column is let go as
    soon as it is copied, so the table never holds two copies of itself; the kernels' view
    of it (`ref`) must be dropped before and made anew after."""
    rows = int(cases.counters[ROWS])
    capacity = max(rows + more, len(cases.outcome) * 2)
    for name in _DTYPES:
        new = _column(name, capacity)
        new[:rows] = getattr(cases, name)[:rows]
        setattr(cases, name, new)
    recorded = np.zeros(capacity, np.int64)
    n = int(cases.counters[RECORDED])
    recorded[:n] = cases.recorded[:n]
    cases.recorded = recorded


def rows(cases: Cases) -> int:
    """Rows in use (given back ones included, until `compact`)."""
    return int(cases.counters[ROWS])


def problems(cases: Cases) -> int:
    """Problems that have occurred so far (their ids are 0 .. problems - 1)."""
    return int(cases.counters[PIDS])


def retire(cases: Cases, slots: np.ndarray) -> None:
    """Give back the rows of final cases (read into the results): `compact` reuses them."""
    if (cases.pid[slots] < 0).any():  # a bug, never input (a row twice in `slots` shows in
        raise RuntimeError("a case table row was given back twice")  # the ledger's tally)
    cases.pid[slots] = -1
    cases.counters[RETIRED] += len(slots)


def compact(cases: Cases) -> np.ndarray:
    """Move the rows of the cases still in the table to its front, in order, in place; return
    each old row's new row (-1: given back), for the clock's events (`renumber`)."""
    n = rows(cases)
    live = np.flatnonzero(cases.pid[:n] >= 0)
    for name in _DTYPES:
        column = getattr(cases, name)
        column[:len(live)] = column[live]
    new = np.full(n, -1, np.int64)
    new[live] = np.arange(len(live))
    cases.counters[ROWS] = len(live)
    cases.counters[RETIRED] = 0
    return new


def columns(cases: Cases, names: tuple[str, ...] = COLUMNS, start: int = 0,
            stop: int | None = None) -> dict[str, np.ndarray]:
    """The rows [start, stop) of the named columns (views, not copies)."""
    stop = rows(cases) if stop is None else stop
    return {name: getattr(cases, name)[start:stop] for name in names}


def release(cases: Cases, keep: tuple[str, ...]) -> None:
    """Let go of every column but `keep` (and the counters): a finished run's table, handed
    over to its results, need not hold what they do not read."""
    for name in (*_DTYPES, "recorded"):
        if name not in keep:
            setattr(cases, name, np.zeros(0, getattr(cases, name).dtype))


def take_recorded(cases: Cases) -> np.ndarray:
    """Rows of the cases recorded since the last call (in recording order), and forget them."""
    n = int(cases.counters[RECORDED])
    ids = cases.recorded[:n].copy()
    cases.counters[RECORDED] = 0
    return ids


# --------------------------------------------------------------------------- kernels
@kernel
def next_draw(cases, c):
    """The count of case `c`'s next draw, counted: each draw of a case has its own number."""
    n = cases.draws[c]
    cases.draws[c] = n + 1
    return n


@kernel
def chance(cases, c, purpose):
    """A uniform on [0, 1) for case `c`, the next of its draws."""
    return draws.uniform(cases.key, cases.pid[c], purpose, next_draw(cases, c))


@kernel
def delay(cases, c, purpose, mean):
    """An exponential delay of mean `mean` hours for case `c`."""
    return draws.exponential(cases.key, cases.pid[c], purpose, next_draw(cases, c), mean)


@kernel
def work(cases, c, purpose, mean, shape):
    """Staff hours of one handling of case `c` (see `draws.work`)."""
    return draws.work(cases.key, cases.pid[c], purpose, next_draw(cases, c), mean, shape)


@kernel
def count(cases, c, purpose, mean):
    """A small Poisson count for case `c`."""
    return draws.poisson(cases.key, cases.pid[c], purpose, next_draw(cases, c), mean)


@kernel
def take(cases, c, now, unit):
    """A handling unit has the case: note the first such time; the first unit owns it (the
    unit dispatched to is scored for it)."""
    if np.isnan(cases.first_unit_h[c]):
        cases.first_unit_h[c] = now
    if cases.owner_unit[c] < 0:
        cases.owner_unit[c] = unit


@kernel
def handle(desks, workload, cases, c, unit, now, hours):
    """`unit` works `hours` on the case: queued, or at once, on call, if it is an emergency."""
    if cases.emergency[c]:
        return serve_now(desks, workload, unit, now, hours)
    return serve(desks, workload, unit, now, hours)


@kernel
def record(cases, c, closed, outcome, response_limit):
    """The case is done: its last handling ends at `closed` with `outcome`."""
    cases.closed_h[c] = closed
    cases.outcome[c] = outcome
    if cases.channel[c] == HOTLINE:
        cases.responded[c] = cases.first_unit_h[c] - cases.entered_h[c] <= response_limit
    n = cases.counters[RECORDED]
    cases.recorded[n] = c
    cases.counters[RECORDED] = n + 1
