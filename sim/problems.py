"""Problems (诉求): each day's problems written into the case table, their fates drawn in numpy.

What a problem is (category, place, urgency, the departments it needs, whether it crosses a
border, whether it is reasonable, whether it comes from its place's persistent source) and whether and when it enters
the system (a resident's report, a patrol, an inspection) are drawn here for the whole day at
once, with random numbers keyed by the problem (`sim.cases`, `DRAW_*`). Problems prevented by
source governance, or that nobody will report or find, are recorded at once; the others are
handed to the flow in order of entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.cases import (
    DRAW_CROSS_BORDER,
    DRAW_DEPT_COUNT,
    DRAW_EMERGENCY,
    DRAW_INSPECTION,
    DRAW_MULTI_DEPT,
    DRAW_NEIGHBOUR,
    DRAW_OTHER_DEPT,
    DRAW_PATROL,
    DRAW_POWER,
    DRAW_PREVENTED,
    DRAW_REPORT_DELAY,
    DRAW_REPORTED,
    DRAW_ROOT_CAUSE,
    DRAW_STREET_LINE,
    DRAW_UNREASONABLE,
    INSPECTION,
    MAX_DEPTS,
    NEVER_REPORTED,
    PATROL,
    PIDS,
    PREVENTED,
    ROWS,
    Cases,
    start_rows,
)
from sim.city.city import DEPARTMENT_TYPES, City
from sim.demand import DayOfProblems
from sim.engine.draws import below as draw_below
from sim.engine.draws import uniforms
from sim.mechanisms import devolution, inspection, patrols, reporting, time_limits
from sim.mechanisms.themes import Themes
from sim.sampling import StreetSample
from sim.scenario.categories import CategoryTable
from sim.scenario.schema import Scenario


@dataclass
class DayCounts:
    occurred: int = 0
    entered: int = 0
    prevented: int = 0


@dataclass
class _Draws:
    """The day's problems' keyed random numbers: `key` is the run's, `ids` the problems'.

    A draw is keyed by the problem and its purpose, so it is the same whoever else draws.
    """

    key: np.uint64
    ids: np.ndarray

    def u(self, purpose: int, rows: np.ndarray) -> np.ndarray:
        """The purpose's uniforms of the problems `rows` (a draw is made only where it
        decides something: keyed by the problem, it is the same whoever else draws)."""
        return uniforms(self.key, self.ids[rows], purpose, 0)

    def below(self, purpose: int, p: np.ndarray) -> np.ndarray:
        """Whether each problem's uniform of `purpose` is below its `p` (drawn only where
        0 < p < 1)."""
        return draw_below(self.key, self.ids, purpose, np.asarray(p, np.float64))


@dataclass
class _Nature:
    """What the day's problems are, one value per problem (`ProblemMaker._nature`)."""

    unreasonable: np.ndarray
    root: np.ndarray  # from the place's persistent source
    prevented: np.ndarray  # by source governance
    emergency: np.ndarray
    multi: np.ndarray  # needs several departments
    power: np.ndarray  # within the street's own powers
    limit: np.ndarray  # time limit, hours


class ProblemMaker:
    """Writes a day's problems into the case table under the scenario as it stands (rebuilt at
    each timeline change)."""

    def __init__(self, spec: Scenario, table: CategoryTable, city: City, sample: StreetSample,
                 dept_base: int):
        self.spec, self.table, self.city = spec, table, city
        n_types = len(DEPARTMENT_TYPES)
        # (district, type) -> department unit; the city level where the district has none
        unit_of = np.empty((city.n_districts, n_types), np.int32)
        for d in range(city.n_districts):
            for t in range(n_types):
                j = city.dept_unit(d, t)
                unit_of[d, t] = dept_base + (j if j >= 0 else city.dept_unit(-1, t))
        self.unit_of = unit_of
        self.n_types = (table.departments >= 0).sum(axis=1)
        self.powers = devolution.street_powers(spec, table)
        self.patrol_rate = patrols.discovery_rate(spec, table)
        # neighbours as flat arrays; a neighbour outside the sample is stood in for by the
        # problem's own street (sim.sampling)
        counts = np.array([len(n) for n in city.street_neighbours], np.int64)
        self.nbr_first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.nbr_count = counts
        flat = (np.concatenate(city.street_neighbours).astype(np.int64) if counts.sum()
                else np.zeros(0, np.int64))
        self.nbr_flat = flat
        self.nbr_sampled = sample.streets[flat] if len(flat) else np.zeros(0, bool)

    def add(self, cases: Cases, day: int, date: dt.date, occ: DayOfProblems,
            trust: np.ndarray, propensity: np.ndarray,
            themes: Themes) -> tuple[np.ndarray, np.ndarray, DayCounts]:
        """Write the day's problems as new rows; return the rows of those that enter, those
        recorded already (prevented, or never reported) and the day's counts. Their ids (the
        draws' key) follow the last problem's. `cases` must have room (`sim.cases.grow`)."""
        n = len(occ.category)
        first = int(cases.counters[ROWS])
        counts = DayCounts(occurred=n)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), counts
        first_id = int(cases.counters[PIDS])
        ids = np.arange(first_id, first_id + n, dtype=np.int64)
        key = cases.key
        draws = _Draws(key, ids)

        # the steps below draw in this order (keyed by problem and purpose, but kept as it is)
        cat, comm = occ.category, occ.community
        street = self.city.community_street[comm]
        nature = self._nature(draws, cat, street, themes)
        # departments needed: the category's lead; with several, two or three of its types,
        # or the lead and another at random where the category lists one
        depts, n_depts = self._departments(ids, key, cat, self.city.street_district[street],
                                           nature.multi)
        neighbour, cross = self._neighbours(ids, key, cat, street)
        entered, channel = self._entry(draws, day, date, occ, street, trust, propensity, themes)
        enters = np.isfinite(entered) & ~nature.prevented

        rows = slice(first, first + n)
        start_rows(cases, rows)
        cases.pid[rows] = ids
        cases.category[rows] = cat
        cases.community[rows] = comm
        cases.street[rows] = street
        cases.occurred_h[rows] = occ.occurred_h
        cases.unreasonable[rows] = nature.unreasonable
        cases.root_cause[rows] = nature.root
        cases.emergency[rows] = nature.emergency
        cases.time_limit_h[rows] = nature.limit
        cases.power[rows] = nature.power
        cases.n_depts[rows] = n_depts
        cases.depts[rows] = depts
        cases.cross_border[rows] = cross
        cases.neighbour[rows] = neighbour
        cases.entered_h[rows] = np.where(enters, entered, np.nan)
        cases.channel[rows] = channel
        gone = ~enters  # their fate is known now; the others stay `open` until recorded
        cases.outcome[rows][gone] = np.where(nature.prevented[gone], PREVENTED, NEVER_REPORTED)
        cases.counters[ROWS] = first + n
        cases.counters[PIDS] = first_id + n

        counts.prevented = int(nature.prevented.sum())
        idx = np.flatnonzero(enters)  # the clock sorts them by time of entry (sim.engine.clock)
        counts.entered = len(idx)
        themes.note_reports(street[idx], cat[idx])
        slots = np.arange(first, first + n, dtype=np.int64)
        return slots[idx], slots[gone], counts

    def _nature(self, draws: _Draws, cat: np.ndarray, street: np.ndarray,
                themes: Themes) -> _Nature:
        """What each problem is: unreasonable or not, from its place's persistent source (and
        then prevented where governance removed part of it), an emergency, needing several
        departments, within the street's own powers; and its time limit."""
        spec, table = self.spec, self.table
        n = len(cat)
        unreasonable = draws.below(DRAW_UNREASONABLE, table.unreasonable_share[cat])
        # from the place's persistent source, and prevented where governance removed part of
        # it: the thinning of the day's draw at the governed rate (sim.mechanisms.sources)
        sources = themes.sources
        root = draws.below(DRAW_ROOT_CAUSE,
                           sources.root_chance(table.root_cause_share, street, cat))
        prevented = np.zeros(n, bool)
        rooted = np.flatnonzero(root)
        prevented[rooted] = draws.u(DRAW_PREVENTED, rooted) < sources.removed(street[rooted],
                                                                               cat[rooted])
        emergency = draws.below(DRAW_EMERGENCY, table.emergency_share[cat])
        multi = draws.below(DRAW_MULTI_DEPT, table.multi_dept_prob[cat])
        power = draws.below(DRAW_POWER, self.powers[cat])
        limit = time_limits.limit_hours(spec, table, cat, emergency, multi)
        return _Nature(unreasonable, root, prevented, emergency, multi, power, limit)

    def _entry(self, draws: _Draws, day: int, date: dt.date, occ: DayOfProblems,
               street: np.ndarray, trust: np.ndarray, propensity: np.ndarray,
               themes: Themes) -> tuple[np.ndarray, np.ndarray]:
        """Who finds each problem first: a resident's report, a patrol, an inspection. Returns
        when it enters (inf: never) and by which channel."""
        spec, table, city = self.spec, self.table, self.city
        cat, comm = occ.category, occ.community
        u = draws.u
        p_report = reporting.report_chance(spec, trust[comm], propensity[comm])
        reported = draws.below(DRAW_REPORTED, p_report)
        told = np.flatnonzero(reported)
        entered = np.full(len(cat), np.inf)
        entered[told] = occ.occurred_h[told] - spec.reporting.mean_delay_hours * np.log1p(
            -u(DRAW_REPORT_DELAY, told))
        channel = reporting.channels(spec, reported, None if spec.hotline.enabled
                                     else u(DRAW_STREET_LINE, told))
        if self.patrol_rate is not None:
            self._search(self.patrol_rate[cat], u, DRAW_PATROL, occ.occurred_h, entered,
                         channel, PATROL)
        rate_grid = inspection.discovery_rate(spec, table, date, city.n_streets,
                                              themes.themed_streets(day))
        if rate_grid is not None:
            self._search(rate_grid[street, cat], u, DRAW_INSPECTION, occ.occurred_h, entered,
                         channel, INSPECTION)
        return entered, channel

    @staticmethod
    def _search(rate: np.ndarray, u, purpose: int, occurred: np.ndarray, entered: np.ndarray,
                channel: np.ndarray, found_by: int) -> None:
        """A search at `rate` per hour (0: none) finds problems before they enter otherwise:
        their entry and channel are its (in place)."""
        rows = np.flatnonzero(rate > 0)
        found_at = _found_at(occurred[rows], rate[rows], u(purpose, rows))
        found = found_at < entered[rows]
        entered[rows[found]] = found_at[found]
        channel[rows[found]] = found_by

    def _departments(self, ids: np.ndarray, key: np.uint64, cat: np.ndarray,
                     district: np.ndarray, multi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        types = self.table.departments[cat].astype(np.int64)  # (n, MAX_DEPTS), -1 padded
        listed = self.n_types[cat]
        wanted = np.where(multi, 2, 1)
        three = np.flatnonzero(multi & (listed >= 3))  # two or three of its types
        wanted[three] = np.where(uniforms(key, ids[three], DRAW_DEPT_COUNT, 0) < 0.7, 2, 3)
        # a second department the category does not list: any other type, at random
        need_extra = np.flatnonzero((wanted == 2) & (listed < 2))
        others = len(DEPARTMENT_TYPES) - 1
        lead = types[need_extra, 0]
        t = (uniforms(key, ids[need_extra], DRAW_OTHER_DEPT, 0) * others).astype(np.int64) \
            % others
        types[need_extra, 1] = np.where(t >= lead, t + 1, t)
        n_depts = np.minimum(wanted, MAX_DEPTS)
        units = self.unit_of[district[:, None], np.maximum(types, 0)]
        depts = np.where(np.arange(MAX_DEPTS) < n_depts[:, None], units, -1).astype(np.int32)
        return depts, n_depts.astype(np.int8)

    def _neighbours(self, ids: np.ndarray, key: np.uint64, cat: np.ndarray,
                    street: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        count = self.nbr_count[street]
        share = self.table.cross_border_share[cat]
        cross = (share >= 1.0) & (count > 0)
        rows = np.flatnonzero((share > 0.0) & (share < 1.0) & (count > 0))
        cross[rows] = uniforms(key, ids[rows], DRAW_CROSS_BORDER, 0) < share[rows]
        neighbour = np.full(len(ids), -1, np.int64)
        if cross.any():
            pick = (uniforms(key, ids[cross], DRAW_NEIGHBOUR, 0) * count[cross]).astype(np.int64)
            at = self.nbr_first[street[cross]] + np.minimum(pick, count[cross] - 1)
            neighbour[cross] = np.where(self.nbr_sampled[at], self.nbr_flat[at], street[cross])
        return neighbour, cross


def _found_at(occurred: np.ndarray, rate_per_hour: np.ndarray, u: np.ndarray) -> np.ndarray:
    """When a search at `rate_per_hour` finds each problem (inf where the rate is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return occurred - np.log1p(-u) / np.where(rate_per_hour > 0, rate_per_hour, 0.0)
