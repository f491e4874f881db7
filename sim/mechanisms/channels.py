"""How a case enters: the many fragmented channels, or the single 12345 line with direct dispatch.

Induced reporting (an easy line raises the chance of reporting) acts where problems are drawn,
in `sim.mechanisms.reporting`; here is where a reported case goes and what the hotline costs.
"""

from __future__ import annotations

from typing import NamedTuple

from sim.cases import (
    AT_CENTRE,
    AT_DEPT,
    AT_STREET,
    DRAW_DEPT_LINE,
    DRAW_DISPATCH,
    DRAW_INTAKE,
    DRAW_TERRITORIAL,
    DRAW_UNCLEAR,
    chance,
    delay,
    work,
)
from sim.engine.clock import schedule
from sim.engine.compile import kernel
from sim.mechanisms import Mechanism
from sim.scenario.schema import Scenario


class ChannelRules(NamedTuple):
    direct: bool  # 直派街乡镇: clear cases go straight to the street
    unclear_share: float  # requests of unclear jurisdiction, sent to the district
    dispatch_hours: float  # mean delay from intake to the unit
    intake_hours: float  # seat time per request, the consultations around it included
    dept_line_hours: float  # a department's own line: mean delay before the unit has it


def seat_hours(spec: Scenario) -> float:
    """Mean seat time of one request with the consultations around it: from the calls a
    call-taker answers in a shift, every contact alike (`hotline.calls_per_shift`), or from
    the minutes per request and per consultation."""
    hl = spec.hotline
    if hl.calls_per_shift is not None:
        per_contact = hl.operator_shift_hours / hl.calls_per_shift
        return (1.0 + hl.consultations_per_request) * per_contact
    return (hl.intake_minutes + hl.consultations_per_request * hl.consultation_minutes) / 60.0


def rules(spec: Scenario) -> ChannelRules:
    hl = spec.hotline
    return ChannelRules(
        direct=hl.direct_dispatch, unclear_share=hl.unclear_share,
        dispatch_hours=hl.dispatch_minutes / 60.0, intake_hours=seat_hours(spec),
        dept_line_hours=spec.reporting.dept_line_delay_hours)


def hotline_seats(spec: Scenario, population: float) -> float:
    """Seats staffed at any time, round the clock, for the whole city: the roster's
    operators x shift / 24 (`hotline.operators`), or `seats_per_10k` of the residents."""
    hl = spec.hotline
    if hl.operators is not None:
        return hl.operators * hl.operator_shift_hours / 24.0
    return population / 1e4 * hl.seats_per_10k


@kernel
def intake_hours(rules, cases, c, shape):
    """Seat time the hotline spends taking this request."""
    return work(cases, c, DRAW_INTAKE, rules.intake_hours, shape)


@kernel
def to_street(cases, c, street_first):
    """Whether a request goes to the street: within the street's powers, or by the category's
    chance `street_first` (1 for what the street can see; else the share whose jurisdiction is
    clearly territorial, 属地, `sim.scenario.categories.CategoryTable.street_first`)."""
    if cases.power[c]:
        return True
    p = street_first[cases.category[c]]
    return p >= 1.0 or (p > 0.0 and chance(cases, c, DRAW_TERRITORIAL) < p)


@kernel
def dispatch(rules, clock, cases, street_first, c, taken):
    """12345 sends the ticket once taken: straight to the street where jurisdiction is clearly
    the street's (直派街乡镇: within its powers, visible to it, or tied to a place in its
    territory; `to_street`), to the department for the rest, to the district when unclear."""
    arrive = taken + delay(cases, c, DRAW_DISPATCH, rules.dispatch_hours)
    if not rules.direct or chance(cases, c, DRAW_UNCLEAR) < rules.unclear_share:
        cases.backstop[c] = True
        schedule(clock, arrive, AT_CENTRE, c)
    elif to_street(cases, c, street_first):
        schedule(clock, arrive, AT_STREET, c)
    else:
        schedule(clock, arrive, AT_DEPT, c)


@kernel
def department_line(rules, clock, cases, c, now):
    """A report to a department's own line, slower to reach the unit than the street's."""
    schedule(clock, now + delay(cases, c, DRAW_DEPT_LINE, rules.dept_line_hours), AT_DEPT, c)


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "channels", section="hotline",
    stations=("enter", "hotline_receive"),
    doc="How a case enters: the fragmented channels, or 12345 with direct dispatch.",
    rules=rules)
