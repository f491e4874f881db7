"""条块分割: the district relay (区级中转), sequential hand-offs and buck-passing (推诿扯皮)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.agents import Department, DistrictCentre, StreetOffice
    from sim.model import GovernanceModel
    from sim.problems import Case


class Relay:
    """Cases beyond a street's powers travel street -> district -> department, one at a time."""

    def __init__(self, model: GovernanceModel):
        self.model = model
        self.config = model.spec.fragmented
        self.street_visible = model.table.street_visible.tolist()  # plain bools: read per case

    # the street reports upward
    def beyond_powers(self, street: StreetOffice, case: Case, now: float) -> None:
        model = self.model
        finish = street.desk.serve(now, model.draws.work(model.spec.staffing.triage_hours))
        case.handoffs += 1
        model.clock.at(finish, model.district_centres[case.district].receive, case)

    # the district relays, after a delay
    def forward(self, centre: DistrictCentre, case: Case, finish: float) -> None:
        model = self.model
        arrive = finish + model.draws.exponential(self.config.relay_delay_hours)
        if case.backstop:  # a hotline request of unclear jurisdiction: the district decides
            case.backstop = False
            if case.power or self.street_visible[case.cat]:
                model.clock.at(arrive, model.streets[case.street].receive, case)
                return
        dept = model.departments[case.depts[case.next_dept] - model.dept_base]
        model.clock.at(arrive, dept.receive, case)

    def pushes_back(self, dept: Department, case: Case) -> bool:
        p = self.config.bounce_prob
        if p <= 0.0 or case.whistled:
            return False
        ranking = self.model.ranking
        if case.ticket and ranking.enabled:
            p *= ranking.config.supervision_bounce_factor
            if dept.supervised:
                p *= ranking.config.supervision_bounce_factor
        return self.model.draws.uniform() < p

    def bounce(self, dept: Department, case: Case, now: float) -> None:
        """The department pushes the case back; it may be closed on paper, unresolved."""
        model = self.model
        finish = dept.desk.serve(now, model.draws.work(model.spec.staffing.triage_hours))
        case.bounces += 1
        if case.bounces > self.config.max_bounces or \
                model.draws.uniform() < self.config.paper_close_prob:
            model.conclude(case, finish, dept, closed_on_paper=True)
            return
        back = finish + model.draws.exponential(self.config.bounce_delay_hours)
        model.clock.at(back, model.district_centres[case.district].receive, case)

    def hand_on(self, dept: Department, case: Case, finish: float) -> None:
        """One department is done; the next needed one gets the case through the district."""
        case.handoffs += 1
        self.model.clock.at(finish, self.model.district_centres[case.district].receive, case)
