"""How a case moves between units: what each unit does when a case reaches it, and the day's loop.

This is the compiled half of the model. `run_until` reads like SimPy's `run(until=)`: pop the
next event, see which station the case has reached, let that unit act. Each unit's behaviour is
a small function named for it (`street_receive`, `dept_handle`, ...), and each mechanism of
docs/model.md is called where it acts, with the rules it was built with; no function here asks which
regime it is in. Everything the kernels touch is one `World`: the engine's clock, desks and
workload, the units, the cases and each mechanism's rules (rebuilt by the model whenever the
scenario changes).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim import mechanisms
from sim.cases import (
    AT_CENTRE,
    AT_DEPT,
    AT_STREET,
    DEPT_LINE,
    DRAW_HANDOFF_DELAY,
    DRAW_HANDOFFS,
    DRAW_WORK,
    ENTER,
    HANDLED,
    HOTLINE,
    ON_PAPER,
    ON_SPOT,
    OTHER_SIDE,
    REOPEN,
    STREET_HANDLE,
    count,
    delay,
    handle,
    record,
    take,
    work,
)
from sim.engine.clock import NOW, next_time, pop, schedule, start_day
from sim.engine.compile import kernel, passed_by_reference, view
from sim.mechanisms import borders, callbacks, channels, devolution, ranking, relay, whistle
from sim.scenario.schema import Scenario
from sim.units import is_street


class OfficeRules(NamedTuple):
    """How offices work: the street office's internal sections, and the spread of work."""

    handoffs: float  # mean internal hand-offs between a street office's sections
    handoff_hours: float  # mean delay of each
    work_shape: float  # gamma shape of work (1 / cv**2; 0: deterministic)


def office_rules(spec: Scenario) -> OfficeRules:
    """The street office's sections: the 20+ upward-facing ones, or "6+1+3" once restructured
    (a reform of the office itself, whether or not it whistles)."""
    frag, wh = spec.fragmented, spec.whistle
    handoffs = wh.restructured_handoffs if wh.restructured_sections else frag.internal_handoffs
    cv = spec.staffing.work_cv
    return OfficeRules(handoffs=handoffs, handoff_hours=frag.internal_handoff_hours,
                       work_shape=0.0 if cv <= 0 else 1.0 / (cv * cv))


class Tables(NamedTuple):
    """The arrays the flow reads besides the cases and units: per category, and the tallies."""

    work_hours: np.ndarray  # float64 per category: mean staff hours of one handling
    street_visible: np.ndarray  # bool per category: the street can see it
    street_first: np.ndarray  # float per category: 12345 sends it to the street (直派)
    enforcement: np.ndarray  # bool per category: an enforcement case
    tally: np.ndarray  # the ranking's tally of callbacks (month, unit, 4)
    day_month: np.ndarray  # int64 per day: its month
    whistle_counts: np.ndarray  # int64: reports, late reports (whistle.REPORTS, LATE_REPORTS)


#: The tables as kernels take them: one struct (`TablesRef`), by reference.
tables_ref = passed_by_reference("Tables", Tables._fields, __name__,
                                 "`Tables` passed by reference.")

#: The world's parts besides the mechanisms' rules.
ENGINE_PARTS = ("clock", "desks", "workload", "units", "cases", "tables", "office")
#: Everything the day's kernels touch (rebuilt by the model whenever a part changes): the
#: engine's clock (`sim.engine.clock.ClockRef`), desks, workload, the units, the cases, the
#: tables, the offices' rules, then each compiled mechanism's rules by its name, as its
#: `rules()` builds them (`sim.mechanisms.compiled()`). Rules hold numbers only, so that
#: handing a mechanism its rules costs nothing.
World = NamedTuple("World", [(name, object) for name in (
    *ENGINE_PARTS, *(m.name for m in mechanisms.compiled()))])

#: The world as `run_until` and `admit` take it (and view): one struct, by reference.
ref = passed_by_reference("World", World._fields, __name__, "`World` passed by reference.")


# ------------------------------------------------------------------------------- units
# Every unit's function takes the world (`w`, a `View`: see `sim.engine.compile`), the case and
# the time, and reads the parts of the world it needs. Views and their borrowed arrays are
# passed and read without reference counts (which cost about a quarter of the day before).

@kernel
def _mean_work(tables, cases, c):
    return tables.work_hours[cases.category[c]]


@kernel
def enter(w, c, now):
    """A reported or discovered case reaches its first desk."""
    channel = w.cases.channel[c]
    if channel == HOTLINE:
        hotline_receive(w, c, now)
    elif channel == DEPT_LINE:
        channels.department_line(w.channels, w.clock, w.cases, c, now)
    else:  # the street's own line, a patrol or an inspection
        street_receive(w, c, now)


@kernel
def hotline_receive(w, c, now):
    """12345 takes the request (and the consultations around it), then dispatches it."""
    cases = w.cases
    hours = channels.intake_hours(w.channels, cases, c, w.office.work_shape)
    taken = handle(w.desks, w.workload, cases, c, w.units.hotline, now, hours)
    channels.dispatch(w.channels, w.clock, cases, w.tables.street_first, c, taken)


@kernel
def street_receive(w, c, now):
    """The street office has the case: it passes through internal sections first."""
    cases = w.cases
    take(cases, c, now, cases.street[c])
    hops = count(cases, c, DRAW_HANDOFFS, w.office.handoffs)
    if hops == 0:
        street_handle(w, c, now)
        return
    cases.handoffs[c] += hops
    wait = 0.0
    for _ in range(hops):
        wait += delay(cases, c, DRAW_HANDOFF_DELAY, w.office.handoff_hours)
    schedule(w.clock, now + wait, STREET_HANDLE, c)


@kernel
def street_handle(w, c, now):
    """Within its powers the street (or its enforcement team) resolves the case itself;
    beyond them it whistles, or reports up to the district."""
    cases, tables = w.cases, w.tables
    street = cases.street[c]
    shape = w.office.work_shape
    mean = _mean_work(tables, cases, c)
    if cases.power[c]:
        unit = devolution.handler_for(w.devolution, tables.enforcement, w.units, cases, c,
                                      street)
        finish = handle(w.desks, w.workload, cases, c, unit, now,
                        work(cases, c, DRAW_WORK, mean, shape))
        settle(w, c, now, finish, street)
    elif w.whistle.enabled:
        start, finish = whistle.call(w.whistle, w.desks, w.workload, w.units, cases,
                                     tables.whistle_counts, c, street, now, mean, shape)
        settle(w, c, start, finish, street)
    else:
        relay.report_up(w.relay, w.clock, w.desks, w.workload, w.units, cases, c, street, now,
                        shape)


@kernel
def settle(w, c, start, finish, street):
    """The street's side is done at `finish`: a case across a border also needs the other."""
    cases = w.cases
    done = borders.settle(w.borders, w.clock, w.desks, w.workload, cases, c, start, finish,
                          _mean_work(w.tables, cases, c), w.office.work_shape)
    if not math.isnan(done):  # both sides done
        conclude(w, c, done, street, HANDLED)


@kernel
def other_side(w, c, now):
    cases = w.cases
    finish = borders.other_side(w.desks, w.workload, cases, c, now,
                                _mean_work(w.tables, cases, c), w.office.work_shape)
    conclude(w, c, finish, cases.street[c], HANDLED)


@kernel
def centre_receive(w, c, now):
    """The district command centre relays the case (区级中转)."""
    relay.forward(w.relay, w.clock, w.desks, w.workload, w.units, w.cases,
                  w.tables.street_first, c, now, w.office.work_shape)


@kernel
def dept_receive(w, c, now):
    """The department the case needs next has it; it may push it back (推诿扯皮)."""
    cases = w.cases
    dept = cases.depts[c, cases.next_dept[c]]
    take(cases, c, now, dept)
    if relay.pushes_back(w.relay, w.units, cases, c, dept):
        on_paper, finish = relay.bounce(w.relay, w.clock, w.desks, w.workload, cases, c, dept,
                                        now, w.office.work_shape)
        if on_paper:
            conclude(w, c, finish, dept, ON_PAPER)
        return
    dept_handle(w, c, now)


@kernel
def dept_handle(w, c, now):
    """The department works the case, then hands it on to the next it needs, if any."""
    cases = w.cases
    dept = cases.depts[c, cases.next_dept[c]]
    finish = handle(w.desks, w.workload, cases, c, dept, now,
                    work(cases, c, DRAW_WORK, _mean_work(w.tables, cases, c),
                         w.office.work_shape))
    cases.next_dept[c] += 1
    if cases.next_dept[c] < cases.n_depts[c]:
        relay.hand_on(w.clock, cases, c, finish)
    else:
        conclude(w, c, finish, dept, HANDLED)


@kernel
def reopen(w, c, now):
    """A called-back resident says it is not solved: the owner handles the same ticket again."""
    cases = w.cases
    cases.next_dept[c] = 0
    if is_street(w.units, cases.owner_unit[c]):
        street_handle(w, c, now)
    else:
        dept_handle(w, c, now)


@kernel
def conclude(w, c, finish, unit, on_paper):
    """The case's last handling by `unit` ends at `finish`: resolved or not, called back and
    tallied for the ranking, then recorded, unless the callback reopens it."""
    cases, tables = w.cases, w.tables
    effort = w.units.effort[unit]
    chance = ranking.resolve_chance(w.ranking, effort)
    courtesy = ranking.unresolved_satisfaction(w.ranking, effort)
    outcome = callbacks.conclude(w.callbacks, w.clock, cases, c, finish, chance, courtesy,
                                 on_paper)
    ranking.note(w.ranking, tables.tally, tables.day_month, cases, c)
    if outcome != callbacks.REOPENED:
        record(cases, c, finish, outcome, w.callbacks.response_limit_hours)


@kernel
def on_spot(w, c, now):
    """A plug-in settles the case where it arose (`sim.plugins.Day.settle_on_spot`): the unit
    it named (the case's owner) works it at once, as any handling, and concludes it."""
    cases = w.cases
    unit = cases.owner_unit[c]
    take(cases, c, now, unit)
    finish = handle(w.desks, w.workload, cases, c, unit, now,
                    work(cases, c, DRAW_WORK, _mean_work(w.tables, cases, c),
                         w.office.work_shape))
    conclude(w, c, finish, unit, HANDLED)


# ------------------------------------------------------------------------------ the day
@kernel
def admit(world, ids, kind):
    """The day's entering cases, each an event of `kind` (`ENTER`; `ON_SPOT` for those a
    plug-in settles where they arose) at its time of entry."""
    w = view(world)
    clock, cases = w.clock, w.cases
    for i in range(len(ids)):
        c = ids[i]
        schedule(clock, cases.entered_h[c], kind, c)


@kernel
def run_until(world, until):
    """Run every event before `until` (those at `until` wait for the next call, as with
    SimPy's `run(until=)`), then set the clock to `until`."""
    w = view(world)
    clock = w.clock
    start_day(clock, until)
    while next_time(clock) < until:
        kind, c = pop(clock)
        now = clock.now[NOW]
        if kind == ENTER:
            enter(w, c, now)
        elif kind == AT_STREET:
            street_receive(w, c, now)
        elif kind == STREET_HANDLE:
            street_handle(w, c, now)
        elif kind == AT_CENTRE:
            centre_receive(w, c, now)
        elif kind == AT_DEPT:
            dept_receive(w, c, now)
        elif kind == OTHER_SIDE:
            other_side(w, c, now)
        elif kind == REOPEN:
            reopen(w, c, now)
        elif kind == ON_SPOT:
            on_spot(w, c, now)
    clock.now[NOW] = until
