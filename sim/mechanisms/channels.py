"""How a case enters: the many fragmented channels, or the single 12345 line with direct dispatch.

Induced reporting (an easy line raises the chance of reporting) acts where problems are drawn,
in `sim.problems.new_problems`; here is where a reported case is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.engine.ledger import DEPT_LINE, HOTLINE

if TYPE_CHECKING:
    from sim.model import GovernanceModel
    from sim.problems import Case


class Channels:
    def __init__(self, model: GovernanceModel):
        self.model = model
        hl = model.spec.hotline
        self.hotline = hl.enabled
        self.direct = hl.direct_dispatch
        self.unclear_share = hl.unclear_share
        self.dispatch_hours = hl.dispatch_minutes / 60.0
        self.intake_hours = (hl.intake_minutes
                             + hl.consultations_per_request * hl.consultation_minutes) / 60.0
        self.dept_line_hours = model.spec.reporting.dept_line_delay_hours
        self.street_visible = model.table.street_visible.tolist()  # plain bools: read per case

    def enter(self, case: Case) -> None:
        """A reported or discovered case reaches its first desk."""
        model = self.model
        if case.channel == HOTLINE:
            model.hotline.receive(case)
        elif case.channel == DEPT_LINE:  # a department's own line, slower to reach the unit
            dept = model.departments[case.depts[0] - model.dept_base]
            arrive = model.clock.now + model.draws.exponential(self.dept_line_hours)
            model.clock.at(arrive, dept.receive, case)
        else:  # the street's own line, a patrol or an inspection
            model.streets[case.street].receive(case)

    def dispatch(self, case: Case, taken: float) -> None:
        """12345 sends the ticket: straight to the street where jurisdiction is clear (直派),
        to the department for department matters, to the district when unclear."""
        model = self.model
        case.ticket = True
        arrive = taken + model.draws.exponential(self.dispatch_hours)
        if not self.direct or model.draws.uniform() < self.unclear_share:
            case.backstop = True
            model.clock.at(arrive, model.district_centres[case.district].receive, case)
        elif case.power or self.street_visible[case.cat]:
            model.clock.at(arrive, model.streets[case.street].receive, case)
        else:
            dept = model.departments[case.depts[0] - model.dept_base]
            model.clock.at(arrive, dept.receive, case)
