"""The end of a case: resolved or not, the resident's verdict, and 12345's callback (回访).

Every ticket is called back at closure; an unresolved callback may reopen the same ticket
(一张单子管到底). Without the hotline, residents still judge the outcome (it moves their trust),
but nobody calls them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.cases import (
    CLOSED_UNRESOLVED,
    DRAW_REOPEN,
    DRAW_RESOLVED,
    DRAW_SATISFIED,
    HOTLINE,
    REOPEN,
    RESOLVED,
    chance,
)
from sim.engine.clock import schedule
from sim.engine.compile import kernel
from sim.mechanisms import Mechanism
from sim.scenario.schema import Scenario

#: What `conclude` returns for a ticket reopened rather than closed.
REOPENED = np.int64(-1)


class CallbackRules(NamedTuple):
    satisfied_unresolved: float  # chance a resident is satisfied, though unresolved (regular
    # effort; the ranking's courtesy may raise it, `ranking.unresolved_satisfaction`)
    satisfied_on_time: float  # ... when resolved within the time limit
    satisfied_late: float  # ... when resolved after it
    delay_hours: float  # from closure to the callback
    reopen_prob: float  # chance an unresolved callback reopens the ticket
    max_reopens: int
    response_limit_hours: float  # a unit 'responds' when it has the case within this time


def rules(spec: Scenario) -> CallbackRules:
    sat, hl = spec.satisfaction, spec.hotline
    return CallbackRules(
        satisfied_unresolved=sat.unresolved, satisfied_on_time=sat.resolved_on_time,
        satisfied_late=sat.resolved_late, delay_hours=hl.callback_delay_hours,
        reopen_prob=hl.reopen_prob, max_reopens=hl.max_reopens,
        response_limit_hours=hl.response_limit_hours)


@kernel
def conclude(rules, clock, cases, c, finish, resolve_chance, unresolved_satisfied, on_paper):
    """The case's last handling ends at `finish`; it is resolved with `resolve_chance` (never
    when closed on paper or unreasonable), the resident gives a verdict (satisfied though
    unresolved with `unresolved_satisfied`), and a ticket is called back. Returns the outcome, or REOPENED when the callback reopens the ticket (a
    `REOPEN` event at the callback)."""
    if on_paper or cases.unreasonable[c]:
        resolved = False
    else:
        resolved = chance(cases, c, DRAW_RESOLVED) < resolve_chance
    if not resolved:
        p = unresolved_satisfied
    elif finish - cases.entered_h[c] <= cases.time_limit_h[c]:
        p = rules.satisfied_on_time
    else:
        p = rules.satisfied_late
    cases.satisfied[c] = chance(cases, c, DRAW_SATISFIED) < p
    if cases.channel[c] == HOTLINE:
        cases.callback_h[c] = finish + rules.delay_hours
        cases.callback_resolved[c] = resolved
        if (not resolved and cases.reopens[c] < rules.max_reopens and not cases.unreasonable[c]
                and chance(cases, c, DRAW_REOPEN) < rules.reopen_prob):
            cases.reopens[c] += 1
            schedule(clock, cases.callback_h[c], REOPEN, c)
            return REOPENED
    return RESOLVED if resolved else CLOSED_UNRESOLVED


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "callbacks", section="satisfaction",
    stations=("conclude",),
    doc="The end of a case: resolved or not, the verdict, the callback that may reopen it.",
    rules=rules)
