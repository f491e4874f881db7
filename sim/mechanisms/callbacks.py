"""The end of a case: resolved or not, the resident's verdict, and 12345's callback (回访).

Every ticket is called back at closure; an unresolved callback may reopen the same ticket
(一张单子管到底). Without the hotline, residents still judge the outcome (it moves their trust),
but nobody calls them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.engine.ledger import CLOSED_UNRESOLVED, RESOLVED

if TYPE_CHECKING:
    from sim.agents import Office
    from sim.model import GovernanceModel
    from sim.problems import Case


class Callbacks:
    def __init__(self, model: GovernanceModel):
        self.model = model
        self.sat = sat = model.spec.satisfaction
        # the hot path reads plain floats, not the scenario's pydantic sections
        self.p_unresolved = sat.unresolved
        self.p_on_time = sat.resolved_on_time
        self.p_late = sat.resolved_late
        self.uniform = model.draws.uniform
        hl = model.spec.hotline
        self.delay = hl.callback_delay_hours
        self.reopen_prob = hl.reopen_prob
        self.max_reopens = hl.max_reopens
        self.response_limit = hl.response_limit_hours

    def satisfied(self, resolved: bool, latency: float, limit: float) -> bool:
        sat = self.sat
        if not resolved:
            p = sat.unresolved
        elif latency <= limit:
            p = sat.resolved_on_time
        else:
            p = sat.resolved_late
        return self.model.draws.uniform() < p

    def conclude(self, case: Case, finish: float, unit: Office, closed_on_paper: bool) -> None:
        model = self.model
        uniform = self.uniform
        if closed_on_paper or case.unreasonable:
            resolved = False
        else:  # diligence: the unit's `resolve_prob()`, read directly at regular effort
            resolved = uniform() < (model.ranking.base_resolve if unit.effort <= 1.0
                                    else unit.resolve_prob())
        # the resident's verdict (`satisfied`, inlined: this runs once per closed case)
        if not resolved:
            p = self.p_unresolved
        elif finish - case.entered <= case.limit:
            p = self.p_on_time
        else:
            p = self.p_late
        case.satisfied = satisfied = int(uniform() < p)
        if case.ticket:
            case.cb_time = finish + self.delay
            case.cb_resolved = int(resolved)
            responded = (case.first - case.entered) <= self.response_limit
            model.ranking.note_callback(case, responded, resolved, bool(satisfied))
            if (not resolved and case.reopens < self.max_reopens and not case.unreasonable
                    and uniform() < self.reopen_prob):
                case.reopens += 1
                owner = model.unit_agent(case.owner)
                model.clock.at(case.cb_time, owner.reopen, case)
                return
        model.experience(case.comm, finish, satisfied, p)
        model.record(case, finish, RESOLVED if resolved else CLOSED_UNRESOLVED)
