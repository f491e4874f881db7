"""未诉先办 每月一题: each month the city picks a theme from last month's complaints and runs
source-governance projects on its hot spots; after a lag they remove part of the root cause."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import GovernanceModel


@dataclass
class Project:
    month: int
    category: int
    streets: np.ndarray
    starts_day: int
    effective_day: int


class Themes:
    def __init__(self, model: GovernanceModel):
        self.model = model
        self.configure()
        n_streets, n_cats = model.city.n_streets, len(model.table)
        #: share of each (street, category)'s root-cause problems that governance removed
        self.removed = np.zeros((n_streets, n_cats))
        self.reports = np.zeros((n_streets, n_cats))  # this month's complaints
        self.chosen: list[int] = []
        self.projects: list[Project] = []
        self.active: list[Project] = []  # within their lag: paying the cost
        self.population = model.city.street_population.astype(float)

    def configure(self) -> None:
        """Read the scenario as it stands; projects already started run their course."""
        self.config = self.model.spec.themes

    def note_reports(self, streets: np.ndarray, cats: np.ndarray) -> None:
        if self.config.enabled:
            np.add.at(self.reports, (streets, cats), 1.0)

    def month_start(self, month: int, day: int) -> None:
        """Pick the theme from last month's record and start its projects."""
        cfg = self.config
        if not cfg.enabled or month == 0:
            self.reports[:] = 0.0
            return
        per_cat = self.reports.sum(axis=0)
        if not cfg.repeat_themes:
            per_cat[self.chosen] = -1.0
        if per_cat.max() > 0 and cfg.problems_per_month > 0:
            cat = int(np.argmax(per_cat))
            self.chosen.append(cat)
            density = self.reports[:, cat] / np.maximum(self.population, 1.0)
            density = np.where(self.removed[:, cat] > 0, -1.0, density)  # not twice
            hot = np.argsort(-density, kind="stable")
            hot = hot[density[hot] > 0]
            k = cfg.hot_spot_streets
            for p in range(cfg.problems_per_month):
                streets = hot[p * k:(p + 1) * k]
                if len(streets) == 0:
                    break
                project = Project(month, cat, streets, day, day + cfg.lag_days)
                self.projects.append(project)
                self.active.append(project)
        self.reports[:] = 0.0

    def daily(self, day: int) -> None:
        """Projects cost staff hours while under way and take effect after their lag."""
        if not self.active:
            return
        cfg = self.config
        model = self.model
        still = []
        for project in self.active:
            if day >= project.effective_day:
                cells = (project.streets, project.category)
                self.removed[cells] = 1.0 - (1.0 - self.removed[cells]) * (1.0 - cfg.effectiveness)
                continue
            per_day = cfg.cost_staff_hours * model.spec.scale / max(1, cfg.lag_days)
            for s in project.streets.tolist():
                model.streets[s].desk.charge(24.0 * day + 9.0, per_day)
            still.append(project)
        self.active = still

    def themed_streets(self, day: int) -> list[tuple[int, np.ndarray]]:
        """(category, streets) of projects under way or done, for inspection targeting."""
        return [(p.category, p.streets) for p in self.projects if p.starts_day <= day]
