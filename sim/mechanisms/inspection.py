"""Proactive inspection (未诉先办): units check the theme categories at the hot spots of projects
under way or done, and heating from the first of the month the season opens, finding problems
before anyone complains."""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.demand import in_season
from sim.mechanisms import Mechanism
from sim.scenario.categories import SEASONS, CategoryTable
from sim.scenario.schema import Scenario


def discovery_rate(spec: Scenario, table: CategoryTable, date: dt.date, n_streets: int,
                   themed: list[tuple[int, np.ndarray]]) -> np.ndarray | None:
    """Per (street, category), the hourly rate at which inspection finds a problem on `date`
    (None: no inspection). `themed` lists the (category, streets) of theme projects begun."""
    cfg = spec.inspection
    if not cfg.enabled:
        return None
    grid = np.zeros((n_streets, len(table)))
    for category, streets in themed:
        grid[streets, category] = 1.0
    if cfg.pre_season_heating:
        season = spec.demand.heating_season
        early = (season[0][:3] + "01", season[1])  # from the first of the opening month
        if in_season(date, early):
            grid[:, table.season == SEASONS.index("heating")] = 1.0
    return grid * (cfg.discovery_rate_per_day / 24.0)


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "inspection", section="inspection",
    stations=("problems",),
    doc="Proactive inspection of theme categories at hot spots, and of heating.")
