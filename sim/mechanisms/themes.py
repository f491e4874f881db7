"""Source governance (未诉先办): 每月一题 and streets' own 主动治理, acting on the persistent sources
of root causes (`sim.mechanisms.sources`).

每月一题: at each month's start the city picks the category with the most complaints last month
(one chosen in the last `repeat_after_months` months waits; a category still on top comes back
after that); a category the city sets itself (`themes.city_theme`, by a dated change) is taken
up once at the next month's start instead. A theme brings city-wide policy (a rule changed for the whole category:
`policy_effectiveness` of its source removed in every street, its hours charged to the
category's city-level lead department) and hot-spot projects (the streets densest in the
category's complaints: `effectiveness` of the source removed there, hours charged to the
streets). 主动治理 (2021 regulation, `street_governance`): every few months each street works on
the category in which its complaints most exceed the city's rate for its residents.

Each takes effect after its lag and costs staff hours while under way. Plain Python, once a
month and once a day: the model tells it the complaints (`note_reports`), asks it at each
month's start to pick (`month_start`), and each day which units its work charges (`daily`);
problems then read `sources` when they occur.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.cases import DRAW_HOT_SPOTS
from sim.engine.draws import uniform
from sim.mechanisms import Mechanism
from sim.mechanisms.sources import Sources
from sim.scenario.schema import Scenario, StreetGovernanceConfig, ThemesConfig

#: Hours after midnight at which a project's day of work is charged to a street.
CHARGE_HOUR = 9.0


@dataclass
class Project:
    month: int
    category: int
    streets: np.ndarray  # where it acts (all streets for a policy)
    starts_day: int
    effective_day: int
    effectiveness: float
    kind: str = "hot_spot"  # "hot_spot" (每月一题), "policy" (每月一题), "street" (主动治理)
    units: np.ndarray | None = None  # who carries the hours (default: `streets`)
    hours_per_day: float = 0.0  # per unit


class Themes:
    """The complaint record, the theme and street projects, and the sources they act on.

    `hot_spot_share` is the share of the city's streets that are simulated (1 at full scale):
    a project takes that share of `hot_spot_streets`, so a sample of streets sees as many
    projects per street as the whole city does. A policy's unit is simulated whole (a shared
    unit: `sim.engine.desks`), so it bears the policy's whole cost.
    `policy_units` gives, per category, the unit charged with its policy work.
    """

    def __init__(self, street_population: np.ndarray, n_categories: int,
                 hot_spot_share: float = 1.0, key: np.uint64 | int = 0,
                 sources: Sources | None = None, policy_units: np.ndarray | None = None,
                 category_keys: list[str] | None = None):
        n_streets = len(street_population)
        self.population = street_population.astype(float)
        self.hot_spot_share = hot_spot_share
        self.key = np.uint64(key)
        self.sources = sources if sources is not None else Sources(
            street_population, n_categories, 0.0, 0)
        self.policy_units = policy_units
        self.reports = np.zeros((n_streets, n_categories))  # this month's complaints
        #: each street's complaints since its last 主动治理 project
        self.street_reports = np.zeros((n_streets, n_categories))
        self.chosen: list[int] = []
        self.chosen_month: dict[int, int] = {}  # category -> month last chosen
        self.projects: list[Project] = []
        self.active: list[Project] = []  # within their lag: paying the cost
        self.hot_spots: list[Project] = []  # 每月一题's hot-spot projects (inspection targets)
        self.config = ThemesConfig()
        self.street_config = StreetGovernanceConfig()
        self.category_keys = category_keys or []
        self.city_theme: int | None = None  # a theme the city set itself, due next month

    @property
    def removed(self) -> np.ndarray:
        """Share of each (street, category) source removed so far."""
        return 1.0 - self.sources.left

    def configure(self, spec: Scenario) -> None:
        """Read the scenario as it stands; projects already started run their course. A
        `city_theme` newly set is due at the next month's start."""
        wanted = spec.themes.city_theme
        if wanted is not None and wanted != self.config.city_theme:
            self.city_theme = self.category_keys.index(wanted)
        self.config = spec.themes
        self.street_config = spec.street_governance

    def note_reports(self, streets: np.ndarray, categories: np.ndarray) -> None:
        if not (self.config.enabled or self.street_config.enabled):
            return
        n_streets, n_categories = self.reports.shape
        heard = np.bincount(streets * n_categories + categories,
                            minlength=n_streets * n_categories).reshape(n_streets, n_categories)
        if self.config.enabled:
            self.reports += heard
        if self.street_config.enabled:
            self.street_reports += heard

    def _streets_per_project(self, month: int, project: int) -> int:
        k = self.config.hot_spot_streets * self.hot_spot_share
        whole = int(k)
        if k > whole:  # a fractional street: one more with that chance (keyed, reproducible)
            whole += uniform(self.key, month, DRAW_HOT_SPOTS, project) < k - whole
        return whole

    def _start(self, project: Project, cost: float, lag: int) -> None:
        project.hours_per_day = cost / max(1, lag)
        self.projects.append(project)
        self.active.append(project)

    def choose(self, month: int) -> int | None:
        """The theme of `month`: last month's most complained-of category among those free."""
        cfg = self.config
        per_cat = self.reports.sum(axis=0)
        for cat, last in self.chosen_month.items():
            if not cfg.repeat_themes or month - last < cfg.repeat_after_months:
                per_cat[cat] = -1.0
        if per_cat.max() <= 0:
            return None
        return int(np.argmax(per_cat))

    def month_start(self, month: int, day: int) -> None:
        """Pick the theme from last month's record and start its policy and projects; streets
        due for 主动治理 start theirs."""
        cfg = self.config
        if self.city_theme is not None and month > 0:
            self._theme(month, day, self.city_theme)
            self.city_theme = None
        elif cfg.enabled and month > 0:
            cat = self.choose(month)
            if cat is not None:
                self._theme(month, day, cat)
        self.reports[:] = 0.0
        sg = self.street_config
        if sg.enabled and month > 0 and month % sg.every_months == 0:
            self._street_projects(month, day)

    def _theme(self, month: int, day: int, cat: int) -> None:
        cfg = self.config
        self.chosen.append(cat)
        self.chosen_month[cat] = month
        if cfg.policy_effectiveness > 0:
            unit = (np.array([self.policy_units[cat]], np.int64) if self.policy_units is not None
                    else np.zeros(0, np.int64))
            self._start(Project(month, cat, np.arange(len(self.population)), day,
                                day + cfg.lag_days, cfg.policy_effectiveness, "policy", unit),
                        cfg.policy_cost_staff_hours, cfg.lag_days)  # a unit simulated whole
        density = self.reports[:, cat] / np.maximum(self.population, 1.0)
        hot = np.argsort(-density, kind="stable")
        hot = hot[density[hot] > 0]
        used = 0
        for p in range(cfg.problems_per_month):
            k = self._streets_per_project(month, p)
            streets = hot[used:used + k]
            used += k
            if len(streets) == 0:
                continue
            project = Project(month, cat, streets, day, day + cfg.lag_days, cfg.effectiveness)
            self._start(project, cfg.cost_staff_hours, cfg.lag_days)
            self.hot_spots.append(project)

    def _street_projects(self, month: int, day: int) -> None:
        """Each street with complaints works on the category furthest above the city's rate."""
        sg = self.street_config
        r = self.street_reports
        total = r.sum(axis=0)
        heard = r.sum(axis=1) > 0
        pop = self.population
        expected = np.outer(pop, total / max(float(pop[heard].sum()), 1.0))
        excess = np.where(heard[:, None], r - expected, -np.inf)
        best = np.argmax(excess, axis=1)
        for street in np.flatnonzero(heard & (excess.max(axis=1) > 0)).tolist():
            self._start(Project(month, int(best[street]), np.array([street], np.int64), day,
                                day + sg.lag_days, sg.effectiveness, "street"),
                        sg.cost_staff_hours, sg.lag_days)
        self.street_reports[:] = 0.0

    def daily(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Projects take effect after their lag, and cost staff hours while under way: the
        units to charge today and the hours of each (a unit may appear more than once)."""
        still, units, hours = [], [], []
        for project in self.active:
            if day >= project.effective_day:
                self.sources.reduce(project.streets, project.category, project.effectiveness)
                continue
            who = project.streets if project.units is None else project.units
            units.append(who)
            hours.append(np.full(len(who), project.hours_per_day))
            still.append(project)
        self.active = still
        if not units:
            return np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(units).astype(np.int64), np.concatenate(hours)

    def themed_streets(self, day: int) -> list[tuple[int, np.ndarray]]:
        """(category, streets) of 每月一题 hot-spot projects under way or done, for inspection
        targeting."""
        return [(p.category, p.streets) for p in self.hot_spots if p.starts_day <= day]


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "themes", section="themes",
    stations=("month_start", "day_start", "problems"),
    doc="Source governance: 每月一题 themes and streets' own projects.")
