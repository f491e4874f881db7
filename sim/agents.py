"""The agents of MODEL.md as Mesa agents, each with the behaviour that is its own.

Residents are cohorts (one agent per community), not people: their trust is one number per
community, kept in a model array so a whole day's reporting is decided in one vectorised draw.
Offices receive cases (`receive`) at the moment SimPy reaches them and decide what to do; the
regime-specific choices (whistle or relay, dispatch, scoring) are delegated to the mechanism
objects on the model (`sim/mechanisms/`), so no agent tests which regime it is in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.engine.desk import Desk

if TYPE_CHECKING:
    from sim.model import GovernanceModel
    from sim.problems import Case

# Unit types, in the order of the unit index space (see GovernanceModel.unit_type).
UNIT_TYPES = ("street", "enforcement", "department", "district_centre", "hotline")
RANK_CLASSES = ("unranked", "先进", "进步", "整改", "治理")


class CitizenCohort(mesa.Agent):
    """The residents of one community (社区/村): they meet problems, report, wait and judge."""

    model: GovernanceModel

    def __init__(self, model: GovernanceModel, community: int, street: int, residents: int):
        super().__init__(model)
        self.community = community
        self.street = street
        self.residents = residents  # real residents this cohort stands for

    @property
    def trust(self) -> float:
        """Trust in government response (0..1); moves the chance of reporting a problem."""
        return float(self.model.trust[self.community])


class Office(mesa.Agent):
    """A unit with staff (a desk), effort under ranking pressure, and a monthly class."""

    model: GovernanceModel

    def __init__(self, model: GovernanceModel, unit: int, name: str, desk: Desk):
        super().__init__(model)
        self.unit = unit
        self.name = name
        self.desk = desk
        self.effort = 1.0  # 1 = regular hours; >1 = overtime under ranking pressure
        self.rank_class = 0
        self.last_score = float("nan")

    def set_effort(self, effort: float) -> None:
        self.effort = effort
        self.desk.set_effort(effort)

    @property
    def supervised(self) -> bool:
        """Units ranked 整改 or 治理 are supervised, which suppresses buck-passing."""
        return self.rank_class >= 3

    def resolve_prob(self) -> float:
        """Chance that handling a resolvable case resolves it: diligence grows with effort."""
        return self.model.ranking.resolve_prob(self.effort)

    def serve(self, case: Case, now: float, work: float, desk: Desk | None = None) -> float:
        """Queue the case at this unit's desk (emergencies are handled at once, on call)."""
        desk = desk or self.desk
        if case.emergency:
            return desk.serve_now(now, work)
        return desk.serve(now, work)

    def handle(self, case: Case) -> None:
        raise NotImplementedError

    def reopen(self, case: Case) -> None:
        """A called-back resident says it is not solved: the same ticket is handled again."""
        case.next_dept = 0
        self.handle(case)

    def take(self, case: Case, now: float) -> None:
        """Note the first unit to hold the case; the one dispatched to is scored for it."""
        if case.first != case.first:  # NaN: first contact
            case.first = now
        if case.owner < 0:
            case.owner = self.unit


class StreetOffice(Office):
    """街道办事处 / 乡镇政府 (the block): sees its territory, holds few powers, may whistle."""

    def __init__(self, model: GovernanceModel, unit: int, name: str, desk: Desk,
                 street: int, enforcement: Desk | None):
        super().__init__(model, unit, name, desk)
        self.street = street
        self.enforcement = enforcement  # the enforcement team once forces sink down

    def receive(self, case: Case) -> None:
        """A case arrives: it passes through internal sections, then is handled or passed on."""
        model = self.model
        now = model.clock.now
        self.take(case, now)
        hops = model.draws.poisson_small(model.internal_handoffs)
        if hops:
            case.handoffs += hops
            delay = sum(model.draws.exponential(model.internal_handoff_hours) for _ in range(hops))
            model.clock.at(now + delay, self.handle, case)
        else:
            self.handle(case)

    def handle(self, case: Case) -> None:
        model = self.model
        now = model.clock.now
        if case.power:
            desk = self.enforcement if case.enforce and self.enforcement is not None else self.desk
            finish = self.serve(case, now, model.draws.work(case.work), desk)
            model.borders.settle(case, now, finish, self)
        else:
            model.escalation.beyond_powers(self, case, now)


class Department(Office):
    """职能部门 (a strip): holds authority, sees only what reaches it, may pass the buck."""

    def __init__(self, model: GovernanceModel, unit: int, name: str, desk: Desk,
                 district: int, dept_type: int):
        super().__init__(model, unit, name, desk)
        self.district = district
        self.dept_type = dept_type

    def receive(self, case: Case) -> None:
        model = self.model
        now = model.clock.now
        self.take(case, now)
        if model.relay.pushes_back(self, case):
            model.relay.bounce(self, case, now)
            return
        self.handle(case)

    def handle(self, case: Case) -> None:
        model = self.model
        now = model.clock.now
        finish = self.serve(case, now, model.draws.work(case.work))
        case.next_dept += 1
        if case.next_dept < len(case.depts):  # sequential: hand on to the next department
            model.relay.hand_on(self, case, finish)
        else:
            model.conclude(case, finish, self)


class DistrictCentre(Office):
    """区级指挥中心: relays cases between streets and departments, with delay; the backstop."""

    def __init__(self, model: GovernanceModel, unit: int, name: str, desk: Desk, district: int):
        super().__init__(model, unit, name, desk)
        self.district = district

    def receive(self, case: Case) -> None:
        model = self.model
        now = model.clock.now
        finish = self.desk.serve(now, model.draws.work(model.spec.staffing.triage_hours))
        model.relay.forward(self, case, finish)


class Hotline(Office):
    """12345: call-takers take the request (and the consultations around it), then dispatch."""

    def receive(self, case: Case) -> None:
        model = self.model
        now = model.clock.now
        finish = self.serve(case, now, model.draws.work(model.dispatch.intake_hours))
        model.dispatch.dispatch(case, finish)
