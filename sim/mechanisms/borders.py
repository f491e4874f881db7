"""Problems that cross a street or district border need both sides (联合哨 joins them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import GovernanceModel
    from sim.problems import Case


class Borders:
    def __init__(self, model: GovernanceModel):
        self.model = model
        self.joint = model.spec.whistle.enabled and model.spec.whistle.joint_across_borders
        self.wait_hours = model.spec.fragmented.border_wait_hours

    def settle(self, case: Case, start: float, finish: float) -> float:
        """When a border case is done on both sides: jointly, or after waiting for the other."""
        if case.neighbour < 0:
            return finish
        model = self.model
        other = model.streets[case.neighbour]
        work = model.draws.work(case.work)
        if self.joint:
            return max(finish, other.desk.serve_now(start, work))
        ready = finish + model.draws.exponential(self.wait_hours)
        return other.desk.serve(ready, work)
