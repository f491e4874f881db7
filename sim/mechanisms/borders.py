"""Problems that cross a street or district border need both sides (联合哨 joins them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.agents import Office
    from sim.model import GovernanceModel
    from sim.problems import Case


class Borders:
    def __init__(self, model: GovernanceModel):
        self.model = model
        self.joint = model.spec.whistle.enabled and model.spec.whistle.joint_across_borders
        self.wait_hours = model.spec.fragmented.border_wait_hours

    def settle(self, case: Case, start: float, finish: float, unit: Office) -> None:
        """Conclude the case once both sides are done: jointly (联合哨, the other street works
        on call alongside), or the other street takes its share when it gets round to it after
        the first side finishes - queued then, not before."""
        model = self.model
        if case.neighbour < 0:
            model.conclude(case, finish, unit)
            return
        if self.joint:
            other = model.streets[case.neighbour]
            done = other.desk.serve_now(start, model.draws.work(case.work))
            model.conclude(case, max(finish, done), unit)
            return
        ready = finish + model.draws.exponential(self.wait_hours)
        model.clock.at(ready, self.other_side, case)

    def other_side(self, case: Case) -> None:
        model = self.model
        other = model.streets[case.neighbour]
        finish = other.desk.serve(model.clock.now, model.draws.work(case.work))
        model.conclude(case, finish, model.streets[case.street])
