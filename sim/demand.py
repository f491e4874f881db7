"""Problems occurring: Poisson per community and category, with daily, weekly and annual cycles,
growth and shock windows. One day of occurrences is drawn at once, as arrays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.city.city import City
from sim.errors import InputError
from sim.scenario.categories import SEASONS, CategoryTable
from sim.scenario.schema import DemandConfig


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


def in_season(date: dt.date, season: tuple[str, str]) -> bool:
    """Whether `date` falls in a (MM-DD, MM-DD) window that may wrap over the new year."""
    start, end = _month_day(season[0]), _month_day(season[1])
    md = (date.month, date.day)
    return start <= md or md < end if start > end else start <= md < end


@dataclass
class DayOfProblems:
    """The problems occurring on one day, sorted by time of occurrence."""

    community: np.ndarray  # int64
    category: np.ndarray  # int64
    occurred_h: np.ndarray  # float64, absolute hours


class Demand:
    """Occurrence rates per community and category, and the daily draw of problems."""

    def __init__(self, config: DemandConfig, city: City, table: CategoryTable, scale: float,
                 start_date: dt.date, file: str | None = None, day_offset: int = 0,
                 growth_from: tuple[int, float] = (0, 1.0)):
        self.config = config
        #: growth compounds from (day, level): a new growth rate continues from today's level
        self.growth_day, self.growth_base = growth_from
        self.table = table
        self.day_offset = day_offset  # shocks count days from the scenario's start_date
        self.start_date = start_date
        # base rate per community and category, problems per day (simulated units)
        per_community = city.community_population / 1e4 * config.rate_per_10k_per_day * scale
        self.base = np.outer(per_community, table.share)  # (communities, categories)
        hourly = np.asarray(config.hourly_profile, dtype=float)
        if hourly.sum() <= 0:
            raise InputError(file, "demand.hourly_profile", "at least one positive value")
        self.hour_p = hourly / hourly.sum()
        weekly = np.asarray(config.weekly_profile, dtype=float)
        if weekly.sum() <= 0:
            raise InputError(file, "demand.weekly_profile", "at least one positive value")
        self.weekly = weekly / weekly.mean()
        # the heating factor keeps each category's annual volume at its table share
        year = [start_date.replace(month=1, day=1) + dt.timedelta(days=i) for i in range(365)]
        frac = float(np.mean([in_season(d, config.heating_season) for d in year]))
        m = config.heating_season_multiplier
        norm = m * frac + (1.0 - frac)
        self.heating_in, self.heating_out = m / norm, 1.0 / norm
        self.heating_cats = table.season == SEASONS.index("heating")
        self.community_district = city.street_district[city.community_street]
        self.shock_masks = []
        for i, shock in enumerate(config.shocks):
            cats = np.ones(len(table), bool)
            if shock.categories:
                cats = np.isin(np.arange(len(table)), [table.index(k) for k in shock.categories])
            comms = np.ones(city.n_communities, bool)
            if shock.districts:
                unknown = [d for d in shock.districts if d not in city.district_names]
                if unknown:
                    raise InputError(file, f"demand.shocks[{i}].districts",
                                     f"district names of the city, one of {city.district_names}",
                                     unknown[0])
                ids = [city.district_names.index(d) for d in shock.districts]
                comms = np.isin(self.community_district, ids)
            self.shock_masks.append((shock, comms, cats))

    def factors(self, day: int) -> np.ndarray:
        """Multiplier per category for `day` (season, week, growth), before shocks."""
        date = self.start_date + dt.timedelta(days=day)
        f = np.full(len(self.table), self.weekly[date.weekday()])
        f *= self.growth_level(day)
        heating = self.heating_in if in_season(date, self.config.heating_season) else \
            self.heating_out
        f[self.heating_cats] *= heating
        return f

    def growth_level(self, day: int) -> float:
        """Occurrence relative to day 0 from growth alone."""
        return self.growth_base * (1.0 + self.config.growth_per_year) ** (
            (day - self.growth_day) / 365.0)

    def rates(self, day: int) -> np.ndarray:
        """Expected problems per community and category on `day`."""
        lam = self.base * self.factors(day)
        for shock, comms, cats in self.shock_masks:
            first = shock.start_day + self.day_offset
            if first <= day < first + shock.days:
                lam[np.ix_(comms, cats)] *= shock.multiplier
        return lam

    def draw(self, day: int, rng: np.random.Generator) -> DayOfProblems:
        counts = rng.poisson(self.rates(day))
        flat = np.flatnonzero(counts)
        reps = counts.ravel()[flat]
        cell = np.repeat(flat, reps)
        n_cat = counts.shape[1]
        community, category = np.divmod(cell, n_cat)
        hours = rng.choice(24, size=len(cell), p=self.hour_p) + rng.random(len(cell))
        occurred = 24.0 * day + hours
        order = np.argsort(occurred, kind="stable")
        return DayOfProblems(community[order], category[order], occurred[order])
