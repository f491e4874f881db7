"""Finding problems before anyone complains: street/lane-chief patrols (街巷长) see visible
problems; proactive inspection checks theme hot spots and heating before and in the season."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from sim.demand import in_season
from sim.scenario.categories import SEASONS

if TYPE_CHECKING:
    from sim.model import GovernanceModel


class Patrols:
    def __init__(self, model: GovernanceModel):
        cfg = model.spec.patrols
        table = model.table
        self.enabled = cfg.enabled
        density = cfg.chiefs_per_10k / cfg.reference_chiefs_per_10k
        per_hour = cfg.discovery_rate_per_day * density / 24.0
        self.rate = np.where(table.street_visible, per_hour, 0.0)

    def rate_per_hour(self, cats: np.ndarray) -> np.ndarray | None:
        return self.rate[cats] if self.enabled else None


class Inspection:
    def __init__(self, model: GovernanceModel):
        self.model = model
        self.config = model.spec.inspection
        self.heating = np.flatnonzero(model.table.season == SEASONS.index("heating"))

    def rate_per_hour(self, streets: np.ndarray, cats: np.ndarray, day: int) -> np.ndarray | None:
        cfg = self.config
        if not cfg.enabled:
            return None
        model = self.model
        grid = np.zeros((model.city.n_streets, len(model.table)))
        for cat, hot in model.themes.themed_streets(day):
            grid[hot, cat] = 1.0
        if cfg.pre_season_heating:
            date = model.origin + dt.timedelta(days=day)
            season = model.spec.demand.heating_season
            early = (season[0][:3] + "01", season[1])  # from the first of the opening month
            if in_season(date, early):
                grid[:, self.heating] = 1.0
        return grid[streets, cats] * (cfg.discovery_rate_per_day / 24.0)
