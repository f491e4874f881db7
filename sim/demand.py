"""Problems occurring: Poisson per community and category, with daily, weekly and annual cycles,
growth and shock windows. One day of occurrences is drawn at once, as arrays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.city.city import City
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


def sorted_uniforms(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` uniforms on [0, 1) in increasing order, without sorting: the normalised partial
    sums of n + 1 exponentials are the order statistics of n uniforms."""
    gaps = np.cumsum(rng.standard_exponential(n + 1))
    return gaps[:-1] / gaps[-1]


@dataclass
class DayOfProblems:
    """The problems occurring on one day, sorted by time of occurrence."""

    community: np.ndarray  # int64
    category: np.ndarray  # int64
    occurred_h: np.ndarray  # float64, absolute hours


class Demand:
    """Occurrence rates per community and category, and the daily draw of problems.

    `source_factor` (street, category) is the uneven intensity of the persistent sources
    before governance (`sim.mechanisms.sources`); governance thins the draw
    (`sim.problems`)."""

    def __init__(self, config: DemandConfig, city: City, table: CategoryTable,
                 simulated: np.ndarray, start_date: dt.date, file: str | None = None,
                 day_offset: int = 0, growth_from: tuple[int, float] = (0, 1.0),
                 source_factor: np.ndarray | None = None):
        self.config = config
        #: growth compounds from (day, level): a new growth rate continues from today's level
        self.growth_day, self.growth_base = growth_from
        self.table = table
        self.day_offset = day_offset  # shocks count days from the scenario's start_date
        self.start_date = start_date
        #: the communities simulated (those of the sampled streets, all at full scale): each
        #: at its full real rate, the others not at all
        self.communities = np.flatnonzero(simulated)
        # the city-wide rate, times the district's factor (the city's data; 1 if none)
        district = city.street_district[city.community_street[self.communities]]
        per_community = (city.community_population[self.communities] / 1e4
                         * config.rate_per_10k_per_day * city.demand_factor()[district])
        self.base = np.outer(per_community, table.share)  # (simulated communities, categories)
        if source_factor is not None:  # (street, category): persistent sources, ungoverned
            self.base *= source_factor[city.community_street[self.communities]]
        hourly = np.asarray(config.hourly_profile, dtype=float)  # some positive: schema.py
        self.hour_p = hourly / hourly.sum()
        self._hour_cdf = np.cumsum(self.hour_p)
        self._hour_start = self._hour_cdf - self.hour_p
        weekly = np.asarray(config.weekly_profile, dtype=float)
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
            comms = np.ones(len(self.communities), bool)
            if shock.districts:  # names checked by sim.scenario.loader.check_city
                ids = [city.district_names.index(d) for d in shock.districts]
                comms = np.isin(self.community_district[self.communities], ids)
            self.shock_masks.append((shock, comms, cats))

    def factors(self, day: int) -> np.ndarray:
        """Multiplier per category for `day` (season, week, growth), before shocks. A category
        follows the city's growth level to the power of its `growth` column: growth of what
        residents bring to the hotline need not be growth of every kind of problem."""
        date = self.start_date + dt.timedelta(days=day)
        f = np.full(len(self.table), self.weekly[date.weekday()])
        f *= self.growth_level(day) ** self.table.growth
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
        """The problems occurring on `day`; `rng` should be the day's own generator, so a day's
        demand does not depend on what happened before it.

        Independent Poisson counts per community and category are drawn as one Poisson total
        per category spread over the communities in proportion to their rates (the same
        distribution: a Poisson process split by marks), which costs the day's problems, not
        the city's cells."""
        rates = self.rates(day).T  # (categories, communities)
        cumulative = np.cumsum(rates, axis=1)
        totals = cumulative[:, -1] if rates.shape[1] else np.zeros(len(rates))
        counts = rng.poisson(totals)
        n = int(counts.sum())
        category = np.repeat(np.arange(len(totals)), counts)
        row = np.empty(n, np.int64)
        end = 0
        for k in np.flatnonzero(counts).tolist():
            start, end = end, end + int(counts[k])
            row[start:end] = np.searchsorted(cumulative[k], sorted_uniforms(rng, end - start)
                                             * totals[k], side="right")
        row = np.minimum(row, rates.shape[1] - 1)  # a uniform at the very top
        # times of day in order (the inverse of the hourly profile's distribution, applied to
        # sorted uniforms), given to the problems in random order
        u = sorted_uniforms(rng, n)
        hour = np.minimum(np.searchsorted(self._hour_cdf, u, side="right"), 23)
        into = (u - self._hour_start[hour]) / self.hour_p[hour]
        occurred = 24.0 * day + hour + np.clip(into, 0.0, np.nextafter(1.0, 0.0))
        order = rng.permutation(n)
        return DayOfProblems(self.communities[row[order]], category[order], occurred)
