"""未诉先办 每月一题: each month the city picks a theme from last month's complaints and runs
source-governance projects on its hot spots; after a lag they remove part of the root cause.

Plain Python, once a month and once a day: the model tells it the complaints (`note_reports`),
asks it at each month's start to pick (`month_start`), and each day which streets its projects
charge (`daily`); problems then read `removed` when they occur.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.cases import DRAW_HOT_SPOTS
from sim.engine.draws import uniform
from sim.scenario.schema import Scenario, ThemesConfig

#: Hours after midnight at which a project's day of work is charged to a street.
CHARGE_HOUR = 9.0


@dataclass
class Project:
    month: int
    category: int
    streets: np.ndarray
    starts_day: int
    effective_day: int


class Themes:
    """The theme record, the projects, and what they removed, for streets of given sizes.

    `hot_spot_share` is the share of the city's streets that are simulated (1 at full scale):
    a project takes that share of `hot_spot_streets`, so a sample of streets sees as many
    projects per street as the whole city does.
    """

    def __init__(self, street_population: np.ndarray, n_categories: int,
                 hot_spot_share: float = 1.0, key: np.uint64 = np.uint64(0)):
        n_streets = len(street_population)
        self.population = street_population.astype(float)
        self.hot_spot_share = hot_spot_share
        self.key = key
        #: share of each (street, category)'s root-cause problems that governance removed
        self.removed = np.zeros((n_streets, n_categories))
        self.reports = np.zeros((n_streets, n_categories))  # this month's complaints
        self.chosen: list[int] = []
        self.projects: list[Project] = []
        self.active: list[Project] = []  # within their lag: paying the cost
        self.config = ThemesConfig()

    def configure(self, spec: Scenario) -> None:
        """Read the scenario as it stands; projects already started run their course."""
        self.config = spec.themes

    def note_reports(self, streets: np.ndarray, categories: np.ndarray) -> None:
        if self.config.enabled:
            np.add.at(self.reports, (streets, categories), 1.0)

    def _streets_per_project(self, month: int, project: int) -> int:
        k = self.config.hot_spot_streets * self.hot_spot_share
        whole = int(k)
        if k > whole:  # a fractional street: one more with that chance (keyed, reproducible)
            whole += uniform(self.key, month, DRAW_HOT_SPOTS, project) < k - whole
        return whole

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
            used = 0
            for p in range(cfg.problems_per_month):
                k = self._streets_per_project(month, p)
                streets = hot[used:used + k]
                used += k
                if len(streets) == 0:
                    continue
                project = Project(month, cat, streets, day, day + cfg.lag_days)
                self.projects.append(project)
                self.active.append(project)
        self.reports[:] = 0.0

    def daily(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Projects take effect after their lag, and cost staff hours while under way: the
        streets to charge today and the hours of each (a street may appear more than once)."""
        cfg = self.config
        still, streets, hours = [], [], []
        for project in self.active:
            if day >= project.effective_day:
                cells = (project.streets, project.category)
                self.removed[cells] = 1.0 - (1.0 - self.removed[cells]) * (1.0 - cfg.effectiveness)
                continue
            streets.append(project.streets)
            hours.append(np.full(len(project.streets), cfg.cost_staff_hours
                                 / max(1, cfg.lag_days)))
            still.append(project)
        self.active = still
        if not streets:
            return np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(streets).astype(np.int64), np.concatenate(hours)

    def themed_streets(self, day: int) -> list[tuple[int, np.ndarray]]:
        """(category, streets) of projects under way or done, for inspection targeting."""
        return [(p.category, p.streets) for p in self.projects if p.starts_day <= day]
