"""街乡吹哨、部门报到: the street whistles, every needed department reports on site within the
window and stays until the job is done (事不完、人不撤) — joint, parallel work, no bouncing."""

from __future__ import annotations

from typing import NamedTuple

from sim.cases import (
    DRAW_JOINT_WORK,
    DRAW_LATE_BY,
    DRAW_ON_TIME,
    DRAW_TRIAGE,
    chance,
    delay,
    handle,
    work,
)
from sim.engine.compile import kernel
from sim.engine.desks import serve_now
from sim.mechanisms import Mechanism
from sim.scenario.schema import Scenario
from sim.units import team_of

#: Positions in the counters `call` adds to.
REPORTS, LATE_REPORTS = 0, 1


class WhistleRules(NamedTuple):
    enabled: bool
    window_hours: float  # departments must report on site within this window
    compliance: float  # share of departments on site in time
    late_hours: float  # mean lateness beyond the window of the others
    joint_factor: float  # joint work time relative to the slowest department's own
    triage_hours: float  # the street's work to screen the case and call the whistle
    teams_answer: bool  # 城管 forces sunk down: the street's team answers for 城管


def rules(spec: Scenario) -> WhistleRules:
    wh = spec.whistle
    return WhistleRules(
        enabled=wh.enabled, window_hours=wh.report_window_minutes / 60.0,
        compliance=wh.compliance, late_hours=wh.late_mean_minutes / 60.0,
        joint_factor=wh.joint_work_factor, triage_hours=spec.staffing.triage_hours,
        teams_answer=spec.devolution.enforcement_team)


@kernel
def call(rules, desks, workload, units, cases, counters, c, street, now, mean, shape):
    """The street whistles for case `c`: each department it needs reports on site (on time
    with chance `compliance`, else late), all work jointly until done. Returns (start, finish)
    of the joint work; `counters` adds the reports and the late ones."""
    called = handle(desks, workload, cases, c, street, now,
                    work(cases, c, DRAW_TRIAGE, rules.triage_hours, shape))
    n = cases.n_depts[c]
    arrive0 = arrive1 = arrive2 = called
    start = called
    longest = 0.0
    late = 0
    for j in range(n):
        if chance(cases, c, DRAW_ON_TIME) < rules.compliance:
            arrive = called + chance(cases, c, DRAW_LATE_BY) * rules.window_hours
        else:
            arrive = called + rules.window_hours + delay(cases, c, DRAW_LATE_BY,
                                                         rules.late_hours)
            late += 1
        if j == 0:
            arrive0 = arrive
        elif j == 1:
            arrive1 = arrive
        else:
            arrive2 = arrive
        start = max(start, arrive)
        longest = max(longest, work(cases, c, DRAW_JOINT_WORK, mean, shape))
    cases.late_reports[c] += late
    counters[REPORTS] += n
    counters[LATE_REPORTS] += late
    wait = start - called  # the longest over the case's whistles (a reopened ticket whistles
    if not cases.report_delay_h[c] >= wait:  # again; late_reports adds up over them)
        cases.report_delay_h[c] = wait
    duration = rules.joint_factor * longest
    finish = start + duration
    for j in range(n):
        arrive = arrive0 if j == 0 else (arrive1 if j == 1 else arrive2)
        dept = cases.depts[c, j]
        # on site from arrival until the job is done; where 城管 forces have sunk down to the
        # street, its enforcement team answers instead of the district's department
        unit = team_of(units, street) if (rules.teams_answer
                                          and units.dept_is_urban_management[dept]) else dept
        serve_now(desks, workload, unit, arrive, finish - arrive)
    serve_now(desks, workload, street, start, duration)
    cases.whistled[c] = True
    if cases.first_unit_h[c] != cases.first_unit_h[c]:  # NaN: first contact
        cases.first_unit_h[c] = called
    return start, finish


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "whistle", section="whistle",
    stations=("street_handle",),
    doc="The street whistles; the departments it needs report on site and work jointly.",
    rules=rules)
