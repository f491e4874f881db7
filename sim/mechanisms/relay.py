"""条块分割: the district relay (区级中转), sequential hand-offs and buck-passing (推诿扯皮).

Cases beyond a street's powers travel street -> district -> department, one department at a
time; at each department the case may be pushed back (less so under supervision) and, bounced
too often or by chance, closed on paper unresolved.
"""

from __future__ import annotations

from typing import NamedTuple

from sim.cases import (
    AT_CENTRE,
    AT_DEPT,
    AT_STREET,
    DRAW_BOUNCE,
    DRAW_BOUNCE_DELAY,
    DRAW_PAPER_CLOSE,
    DRAW_RELAY,
    DRAW_TRIAGE,
    HOTLINE,
    chance,
    delay,
    work,
)
from sim.engine.clock import schedule
from sim.engine.compile import kernel
from sim.engine.desks import serve
from sim.mechanisms import Mechanism
from sim.mechanisms.channels import to_street
from sim.scenario.schema import Scenario
from sim.units import centre_of, supervised


class RelayRules(NamedTuple):
    relay_hours: float  # mean delay of the district relay
    bounce_prob: float  # chance a department pushes a relayed case back or on
    bounce_hours: float  # mean delay a bounce adds
    max_bounces: int  # bounced more often than this, the case is closed on paper
    paper_close_prob: float  # chance, at each bounce, of a closure on paper
    supervision_factor: float  # buck-passing left under supervision (tickets when ranked)
    ranked: bool  # units are scored and ranked (tickets are then watched)
    triage_hours: float  # staff hours to screen a case that is passed on


def rules(spec: Scenario) -> RelayRules:
    frag = spec.fragmented
    return RelayRules(
        relay_hours=frag.relay_delay_hours, bounce_prob=frag.bounce_prob,
        bounce_hours=frag.bounce_delay_hours, max_bounces=frag.max_bounces,
        paper_close_prob=frag.paper_close_prob,
        supervision_factor=spec.ranking.supervision_bounce_factor, ranked=spec.ranking.enabled,
        triage_hours=spec.staffing.triage_hours)


@kernel
def report_up(rules, clock, desks, workload, units, cases, c, street, now, shape):
    """The street screens a case beyond its powers and reports it to the district."""
    finish = serve(desks, workload, street, now, work(cases, c, DRAW_TRIAGE, rules.triage_hours,
                                                      shape))
    cases.handoffs[c] += 1
    schedule(clock, finish, AT_CENTRE, c)


@kernel
def forward(rules, clock, desks, workload, units, cases, street_first, c, now, shape):
    """The district centre screens the case and relays it, after a delay, to the department
    it needs next; a hotline request of unclear jurisdiction goes where direct dispatch would
    have sent it (`channels.to_street`, `street_first` per category)."""
    centre = centre_of(units, cases.street[c])
    finish = serve(desks, workload, centre, now, work(cases, c, DRAW_TRIAGE, rules.triage_hours,
                                                      shape))
    arrive = finish + delay(cases, c, DRAW_RELAY, rules.relay_hours)
    if cases.backstop[c]:
        cases.backstop[c] = False
        if to_street(cases, c, street_first):
            schedule(clock, arrive, AT_STREET, c)
            return
    schedule(clock, arrive, AT_DEPT, c)


@kernel
def pushes_back(rules, units, cases, c, dept):
    """Whether the department pushes the case back or on (never a whistled case)."""
    p = rules.bounce_prob
    if p <= 0.0 or cases.whistled[c]:
        return False
    if cases.channel[c] == HOTLINE and rules.ranked:
        p *= rules.supervision_factor
        if supervised(units, dept):
            p *= rules.supervision_factor
    return chance(cases, c, DRAW_BOUNCE) < p


@kernel
def bounce(rules, clock, desks, workload, cases, c, dept, now, shape):
    """The department pushes the case back to the district. Returns (closed on paper, when):
    a case bounced too often, or by chance, is closed on paper unresolved."""
    finish = serve(desks, workload, dept, now, work(cases, c, DRAW_TRIAGE, rules.triage_hours,
                                                    shape))
    cases.bounces[c] += 1
    if (cases.bounces[c] > rules.max_bounces
            or chance(cases, c, DRAW_PAPER_CLOSE) < rules.paper_close_prob):
        return True, finish
    schedule(clock, finish + delay(cases, c, DRAW_BOUNCE_DELAY, rules.bounce_hours), AT_CENTRE,
             c)
    return False, finish


@kernel
def hand_on(clock, cases, c, finish):
    """One department is done; the next one it needs gets the case through the district."""
    cases.handoffs[c] += 1
    schedule(clock, finish, AT_CENTRE, c)


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "relay", section="fragmented",
    stations=("street_handle", "centre_receive", "dept_receive", "dept_handle"),
    doc="The district relay, sequential hand-offs and buck-passing of the old model.",
    rules=rules)
