"""街乡吹哨、部门报到: the street whistles, every needed department reports on site within the
window and stays until the job is done (事不完、人不撤) — joint, parallel work, no bouncing."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.agents import StreetOffice
    from sim.model import GovernanceModel
    from sim.problems import Case


class Whistle:
    def __init__(self, model: GovernanceModel):
        self.model = model
        self.config = model.spec.whistle

    def beyond_powers(self, street: StreetOffice, case: Case, now: float) -> None:
        model, cfg, draws = self.model, self.config, self.model.draws
        # the street screens the case and organises the whistle (queued street work)
        called = street.serve(case, now, draws.work(model.spec.staffing.triage_hours))
        window = cfg.report_window_minutes / 60.0
        compliance = cfg.compliance
        uniform, work, mean = draws.uniform, draws.work, case.work
        arrivals = []
        works = []
        late = 0  # late departments on this whistle (a reopened ticket whistles again)
        for _unit in case.depts:
            if uniform() < compliance:
                delay = uniform() * window
            else:
                delay = window + draws.exponential(cfg.late_mean_minutes / 60.0)
                late += 1
            arrivals.append(called + delay)
            works.append(work(mean))
        case.late += late
        model.whistle_reports += len(arrivals)
        model.whistle_late_reports += late
        start = max(arrivals)
        delay = start - called  # the longest over the case's whistles (a reopened ticket
        if not case.report_delay >= delay:  # whistles again; late_reports adds up over them)
            case.report_delay = delay
        duration = cfg.joint_work_factor * max(works)
        finish = start + duration
        for unit, arrive in zip(case.depts, arrivals, strict=True):
            # on site from arrival until the job is done; where 城管 forces have sunk down to
            # the street, its enforcement team answers instead of the district's department
            if street.enforcement is not None and model.is_urban_management(unit):
                desk = street.enforcement
            else:
                desk = model.departments[unit - model.dept_base].desk
            desk.serve_now(arrive, finish - arrive)
        street.desk.serve_now(start, duration)
        case.whistled = True
        case.first = case.first if case.first == case.first else called
        model.borders.settle(case, start, finish, street)
