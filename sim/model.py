"""The governance model: Mesa owns the agents and the day; SimPy owns time inside the day.

One `step()` is one day: month-end ranking and the monthly theme when a month turns, the day's
problems drawn, SimPy run through the day's events, then trust updated and the day recorded.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
from collections import defaultdict
from pathlib import Path

import mesa
import numpy as np

from sim.agents import (
    UNIT_TYPES,
    CitizenCohort,
    Department,
    DistrictCentre,
    Hotline,
    Office,
    StreetOffice,
)
from sim.city import City, beijing_city, load_city, synthetic_city
from sim.city.city import DEPARTMENT_TYPES
from sim.demand import Demand
from sim.engine.clock import Clock
from sim.engine.desk import Desk
from sim.engine.draws import Draws
from sim.engine.ledger import OPEN, Ledger
from sim.mechanisms.borders import Borders
from sim.mechanisms.callbacks import Callbacks
from sim.mechanisms.channels import Channels
from sim.mechanisms.proactive import Inspection, Patrols
from sim.mechanisms.ranking import Ranking
from sim.mechanisms.relay import Relay
from sim.mechanisms.themes import Themes
from sim.mechanisms.whistle import Whistle
from sim.problems import Case, new_problems
from sim.scenario.categories import load_categories
from sim.scenario.loader import apply_change, timeline_order
from sim.scenario.schema import Change, CityConfig, Scenario


def make_city(config: CityConfig) -> City:
    """The city a scenario names: Beijing, a synthetic city, or a network file."""
    if config.source == "beijing":
        return beijing_city(config.layout_seed)
    if config.source == "synthetic":
        return synthetic_city(**config.synthetic.model_dump(), seed=config.layout_seed)
    return load_city(Path(config.path or ""))


class Feed:
    """Hands one day's entering cases to the channels in order of entry, one event at a time,
    so the event heap holds one entry per day instead of the whole day's demand.

    A case handed on is dropped from the feed's list, so a closed case is freed at once rather
    than when the day's last report arrives (days later), which keeps memory and the garbage
    collector's work to the cases actually in flight.

    Each case's event is placed (`Clock.reserve`) just before the previous case is handed on,
    as if scheduled then; when nothing else is due before it, it runs at once without touching
    the heap (`Clock.run_inline`), which saves a heap push and pop for most cases."""

    __slots__ = ("model", "cases", "i")

    def __init__(self, model: GovernanceModel, cases: list[Case]):
        self.model = model
        self.cases = cases
        self.i = 0

    def start(self) -> None:
        if self.cases:
            self.model.clock.at(self.cases[0].entered, self.fire, self)

    def fire(self, _self: Feed) -> None:
        model, cases = self.model, self.cases
        clock = model.clock
        n = len(cases)
        while True:
            case = cases[self.i]
            cases[self.i] = None  # handed on: the feed no longer keeps it alive
            self.i += 1
            if self.i >= n:
                model.channels.enter(case)
                return
            place = clock.reserve(cases[self.i].entered)
            model.channels.enter(case)
            if not clock.run_inline(place, self.fire, self):
                return


class GovernanceModel(mesa.Model):
    """A city under one scenario. Build it, call `step()` once per day, then `finish()`."""

    def __init__(self, spec: Scenario, city: City | None = None, file: str | None = None):
        super().__init__(rng=spec.seed)
        self.given = spec  # as given, timeline included; `spec` is the scenario as it stands
        self.file = file
        self.city = city if city is not None else make_city(spec.city)
        self.total_days = spec.warmup_days + spec.days
        self.origin = spec.start_date - dt.timedelta(days=spec.warmup_days)
        #: timeline changes by the day they take effect; those on or before day 0 apply now
        self.changes: dict[int, list[Change]] = defaultdict(list)
        for _i, change in timeline_order(spec):
            day = (change.date - self.origin).days
            if day <= 0:
                spec = apply_change(spec, change)
            elif day < self.total_days:
                self.changes[day].append(change)
        self.spec = spec
        self.table = load_categories(spec)
        self.day = 0
        self.next_pid = 0
        self.clock = Clock()
        self.draws = Draws(self.rng, spec.staffing.work_cv)

        c = self.city
        n_s, n_d, n_dist = c.n_streets, c.n_departments, c.n_districts
        self.dept_base = 2 * n_s
        self.centre_base = 2 * n_s + n_d
        self.hotline_unit = self.centre_base + n_dist
        self.n_units = self.hotline_unit + 1
        self.unit_type = np.zeros(self.n_units, np.int8)
        self.unit_type[n_s:2 * n_s] = UNIT_TYPES.index("enforcement")
        self.unit_type[self.dept_base:self.centre_base] = UNIT_TYPES.index("department")
        self.unit_type[self.centre_base:self.hotline_unit] = UNIT_TYPES.index("district_centre")
        self.unit_type[self.hotline_unit] = UNIT_TYPES.index("hotline")
        self.ledger = Ledger(self.n_units, self.total_days)
        #: unit present (staffed) at some time in the run; staff and working hours day by day
        self.present = np.zeros(self.n_units, bool)
        self.staff_log = np.zeros((self.n_units, self.total_days))
        self.hours_log = np.zeros((self.n_units, self.total_days))
        self.base_hours_log = np.zeros((self.n_units, self.total_days))
        self._build_units()
        self.cohorts = [CitizenCohort(self, i, int(c.community_street[i]),
                                      int(c.community_population[i]))
                        for i in range(c.n_communities)]
        self.trust = np.full(c.n_communities, spec.reporting.initial_trust)
        #: residents per street, as the sum of its communities (the basis of street trust)
        self.street_residents = np.bincount(c.community_street, c.community_population,
                                            c.n_streets).astype(float)
        self.whistle_reports = 0
        self.whistle_late_reports = 0
        self.day_month = self._month_index(self.total_days + 400)
        self.ranking = Ranking(self, int(self.day_month[self.total_days - 1]) + 1)
        self.themes = Themes(self)
        self.demand: Demand | None = None
        self.staff_growth = (0, 1.0)  # (day, level): staff growth compounds from there
        self._configure(0.0)

        #: per day, (community, satisfied share of the residents a closed case stands for)
        self.experiences: dict[int, list[tuple[int, float]]] = defaultdict(list)
        self.counts_today = self._zero_counts()
        self.datacollector = mesa.DataCollector(model_reporters={
            "day": lambda m: m.day,
            "occurred": lambda m: m.counts_today["occurred"],
            "entered": lambda m: m.counts_today["entered"],
            "prevented": lambda m: m.counts_today["prevented"],
            "mean_trust": lambda m: float(np.average(m.trust, weights=m.city.community_population)),
        })

    # ------------------------------------------------------------------------------ build
    def _build_units(self) -> None:
        """Every unit a run may need, each with a desk; `_configure` sets their staff."""
        spec, c, ledger = self.spec, self.city, self.ledger
        st = spec.staffing
        opens, hours = st.shift_start_hour, st.shift_hours
        self.streets: list[StreetOffice] = []
        self.teams: list[Office] = []  # enforcement teams: staffed once forces sink down
        for i in range(c.n_streets):
            desk = Desk(i, 0.0, opens, hours, ledger)
            team = Desk(c.n_streets + i, 0.0, opens, hours, ledger)
            self.teams.append(Office(self, c.n_streets + i, f"{c.street_names[i]} enforcement",
                                     team))
            self.streets.append(StreetOffice(self, i, c.street_names[i], desk, i, None))
        self.departments: list[Department] = []
        for j in range(c.n_departments):
            unit = self.dept_base + j
            name = c.dept_names[j] if c.dept_names else f"dept-{j}"
            self.departments.append(Department(
                self, unit, name, Desk(unit, 0.0, opens, hours, ledger), int(c.dept_district[j]),
                int(c.dept_type[j])))
        self.district_centres: list[DistrictCentre] = []
        for d in range(c.n_districts):
            unit = self.centre_base + d
            self.district_centres.append(DistrictCentre(
                self, unit, c.district_names[d], Desk(unit, 0.0, opens, hours, ledger), d))
        self.hotline = Hotline(self, self.hotline_unit, "12345",
                               Desk(self.hotline_unit, 0.0, 0.0, 24.0, ledger))
        self.units: list[Office] = [*self.streets, *self.teams, *self.departments,
                                    *self.district_centres, self.hotline]
        self.units_by_id = {u.unit: u for u in self.units}
        self._unit_ids = np.array([u.unit for u in self.units])

    def _staff_levels(self) -> np.ndarray:
        """Staff of every unit under the scenario as it stands (0: the unit does not exist)."""
        spec, c = self.spec, self.city
        st = spec.staffing
        s = spec.scale
        staff_of = np.zeros(self.n_units)
        per10k = c.street_population / 1e4
        staff_of[:c.n_streets] = per10k * st.street_staff_per_10k * s
        transferred = np.zeros(c.n_districts)
        if spec.devolution.enforcement_team:
            team = per10k * spec.devolution.enforcement_staff_per_10k * s
            staff_of[c.n_streets:2 * c.n_streets] = team
            np.add.at(transferred, c.street_district, team)

        # department staff: split by the load each department type carries
        # the lead department carries every case of a category, the others only the
        # multi-department ones
        load = np.zeros(len(DEPARTMENT_TYPES))
        tb = self.table
        for k in range(len(tb)):
            for j, t in enumerate(tb.departments[k]):
                if t >= 0:
                    load[t] += tb.share[k] * tb.work_hours[k] * (1.0 if j == 0
                                                                 else tb.multi_dept_prob[k])
        load_share = load / load.sum()
        load_share = np.maximum(load_share, 0.1 / len(load_share))  # no unit without staff
        um = DEPARTMENT_TYPES.index("urban_management")
        for j in range(c.n_departments):
            d, t = int(c.dept_district[j]), int(c.dept_type[j])
            if d >= 0:
                staff = c.district_population[d] / 1e4 * st.dept_staff_per_10k * load_share[t]
            else:
                staff = st.city_dept_staff * load_share[t]
            staff *= st.dept_grassroots_share * s
            if t == um and d >= 0:  # 城管 staff sunk down to street enforcement teams
                staff = max(0.2 * staff, staff - transferred[d])
            staff_of[self.dept_base + j] = staff
        staff_of[self.centre_base:self.hotline_unit] = (
            c.district_population / 1e4 * st.district_centre_staff_per_10k * s)
        if spec.hotline.enabled:
            staff_of[self.hotline_unit] = c.population / 1e4 * spec.hotline.seats_per_10k * s
        return staff_of

    def _staff_growth_level(self, day: int) -> float:
        """Staff relative to the scenario's levels from `staffing.growth_per_year`, compounding
        from the level reached at the last change of the rate."""
        d0, level = self.staff_growth
        return level * (1.0 + self.spec.staffing.growth_per_year) ** ((day - d0) / 365.0)

    def _restaff(self, now: float) -> None:
        """Set every desk's staff and hours from the scenario as it stands (and staff growth)."""
        st = self.spec.staffing
        levels = self._staff_levels() * self._staff_growth_level(int(now // 24.0))
        for unit, staff in zip(self.units, levels[[u.unit for u in self.units]], strict=True):
            desk = unit.desk
            if unit is not self.hotline:
                desk.opens, desk.base_hours = st.shift_start_hour, min(st.shift_hours, 24.0)
                desk.set_effort(unit.effort)
            if staff != desk.staff:
                desk.set_staff(staff, now)
            self.present[unit.unit] |= staff > 0

    def _configure(self, now: float) -> None:
        """Staff the units and (re)build the mechanisms from the scenario as it stands: at the
        start, and again at each timeline change. Cases already on their way finish under the
        rules they started with; state that outlives a change (rankings, themes, trust, effort)
        is kept."""
        spec = self.spec
        self.table = load_categories(spec)
        self._restaff(now)
        for street, team in zip(self.streets, self.teams, strict=True):
            street.enforcement = team.desk if spec.devolution.enforcement_team else None
        self._urban_management = um = DEPARTMENT_TYPES.index("urban_management")
        self._dept_is_um = [t == um for t in self.city.dept_type.tolist()]

        frag, wh = spec.fragmented, spec.whistle
        self.internal_handoffs = (wh.restructured_handoffs if wh.enabled
                                  and wh.restructured_sections else frag.internal_handoffs)
        self.internal_handoff_hours = frag.internal_handoff_hours
        self.channels = Channels(self)
        self.dispatch = self.channels
        self.relay = Relay(self)
        self.whistle = Whistle(self) if wh.enabled else None
        self.escalation = self.whistle or self.relay
        self.borders = Borders(self)
        self.callbacks = Callbacks(self)
        self.ranking.configure()
        self.themes.configure()
        self.patrols = Patrols(self)
        self.inspection = Inspection(self)
        day = int(now // 24.0)
        level = self.demand.growth_level(day) if self.demand is not None else 1.0
        self.demand = Demand(spec.demand, self.city, self.table, spec.scale, self.origin,
                             self.file, day_offset=spec.warmup_days, growth_from=(day, level))

    def _month_index(self, n_days: int) -> np.ndarray:
        o = self.origin
        months = []
        for d in range(n_days):
            date = o + dt.timedelta(days=d)
            months.append((date.year - o.year) * 12 + date.month - o.month)
        return np.array(months, dtype=np.int32)

    @staticmethod
    def _zero_counts() -> dict[str, int]:
        return {"occurred": 0, "entered": 0, "prevented": 0}

    # ------------------------------------------------------------------------- lookups
    def dept_unit(self, district: int, dept_type: int) -> int:
        j = self.city.dept_unit(district, dept_type)
        if j < 0:
            j = self.city.dept_unit(-1, dept_type)
        return self.dept_base + j

    def is_urban_management(self, unit: int) -> bool:
        return self._dept_is_um[unit - self.dept_base]

    def random_other_dept(self, lead: int, u: float) -> int:
        n = len(DEPARTMENT_TYPES)
        t = int(u * (n - 1)) % (n - 1)
        return t + 1 if t >= lead else t

    def unit_agent(self, unit: int) -> Office:
        if unit < self.city.n_streets:
            return self.streets[unit]
        if self.dept_base <= unit < self.centre_base:
            return self.departments[unit - self.dept_base]
        if self.centre_base <= unit < self.hotline_unit:
            return self.district_centres[unit - self.centre_base]
        return self.hotline

    def month_of(self, t: float) -> int:
        d = int(t // 24.0)
        return int(self.day_month[d]) if d < len(self.day_month) else 1 << 30

    def patrol_rate_per_hour(self, cats: np.ndarray) -> np.ndarray | None:
        return self.patrols.rate_per_hour(cats)

    # ----------------------------------------------------------------------- the day
    def step(self) -> None:
        """One day. Python's cyclic garbage collector is paused for it (and resumed, if it was
        on): a day makes no reference cycles, only cases and records that live for days or
        less, and at full scale the collector's passes over everything alive took a tenth of
        the run."""
        if not gc.isenabled():
            self._day()
            return
        gc.disable()
        try:
            self._day()
        finally:
            gc.enable()

    def _day(self) -> None:
        d = self.day
        if d >= self.total_days:
            self.running = False
            return
        for change in self.changes.get(d, ()):
            self.staff_growth = (d, self._staff_growth_level(d))  # growth so far, old rate
            self.spec = apply_change(self.spec, change)
            self._configure(24.0 * d)
        if d > 0 and self.day_month[d] != self.day_month[d - 1]:
            if self.spec.staffing.growth_per_year:
                self._restaff(24.0 * d)  # staff grow month by month
            month = int(self.day_month[d])
            self.ranking.month_end(month - 1, [self.streets, self.departments])
            self.themes.month_start(month, d)
        self.themes.daily(d)
        ids, desks = self._unit_ids, [unit.desk for unit in self.units]
        self.hours_log[ids, d] = [desk.hours for desk in desks]
        self.staff_log[ids, d] = [desk.staff for desk in desks]
        self.base_hours_log[ids, d] = [desk.base_hours for desk in desks]
        self.counts_today = self._zero_counts()
        cases = new_problems(self, d, self.demand.draw(d, self.rng))
        Feed(self, cases).start()
        self.clock.run_until(24.0 * (d + 1))
        self.ledger.flush()
        self._update_trust(d)
        self.datacollector.collect(self)
        self.day += 1

    def conclude(self, case: Case, finish: float, unit: Office, closed_on_paper: bool = False,
                 ) -> None:
        """The case's last handling ends at `finish`: resolved or not, called back, recorded."""
        self.callbacks.conclude(case, finish, unit, closed_on_paper)

    def experience(self, community: int, when: float, satisfied: int, chance: float) -> None:
        """A closed case's verdict, felt by the cohort's trust that day.

        At scale s the case stands for 1/s residents with the same outcome: one of them gave
        this verdict, and of the others a share `chance` (the chance of satisfaction for that
        outcome) is satisfied. Trust hears that mix, so the coin flip of one verdict does not
        sway 1/s residents (at scale 1.0 it is the verdict itself).
        """
        s = self.spec.scale
        self.experiences[int(when // 24.0)].append((community, s * satisfied + (1.0 - s) * chance))

    def record(self, case: Case, closed: float, outcome: int) -> None:
        """The case's row in the ledger (`Ledger.record`, called without the extra frame)."""
        responded = (-1 if not case.ticket
                     else int(case.first - case.entered <= self.callbacks.response_limit))
        self.ledger.add_row([
            case.pid, case.cat, case.comm, case.occurred, case.entered, case.channel, case.first,
            closed, outcome, case.owner, case.handoffs, case.bounces, case.whistled, case.late,
            case.report_delay, len(case.depts), case.neighbour >= 0, case.unreasonable,
            case.root, case.emergency, case.limit, responded,  # bools are stored as 0/1
            case.cb_resolved, case.satisfied, case.cb_time, case.reopens,
        ])

    def _update_trust(self, day: int) -> None:
        """Each cohort's trust moves toward the share of satisfied verdicts it heard of today.

        The day's weight is 1 - exp(-rate x verdicts per 10,000 residents), so it measures
        experience in real-city units. With `trust_scope: street` every cohort of a street hears
        the street's verdicts: from scale 0.03 up, enough of them for trust to move smoothly and
        reach the same level at every scale. A community alone, at small scale, has a verdict
        every few days that stands for hundreds of residents and jerks its trust
        (docs/performance.md, 'Scale').
        """
        seen = self.experiences.pop(day, None)
        if not seen:
            return
        r, c = self.spec.reporting, self.city
        comm = np.fromiter((k for k, _ in seen), np.int64, len(seen))
        sat = np.fromiter((s for _, s in seen), np.float64, len(seen))
        if r.trust_scope == "street":
            group, population, member_of = (c.community_street[comm], self.street_residents,
                                            c.community_street)
        else:
            group, population, member_of = comm, c.community_population, None
        n = np.bincount(group, minlength=len(population)).astype(float)
        happy = np.bincount(group, weights=sat, minlength=len(population))
        heard = n > 0
        share = np.divide(happy, n, out=np.zeros_like(n), where=heard)
        weight = np.zeros_like(n)
        weight[heard] = 1.0 - np.exp(-r.trust_learning_rate * n[heard]
                                     / (self.spec.scale * population[heard] / 1e4))
        if member_of is not None:  # every community takes its street's weight and share
            weight, share = weight[member_of], share[member_of]
        self.trust += weight * (share - self.trust)

    def cases_in_flight(self) -> list[Case]:
        """Cases the clock holds an event for: at a desk, between units, in a relay, awaiting
        a callback. Those in their last handling also have their row already, with its future
        closing time (`record`), so a watcher counting open cases must not count them twice."""
        return [item for _t, _fn, item in self.clock.pending() if isinstance(item, Case)]

    def finish(self) -> None:
        """End of the run: every case still in the system is recorded as open."""
        horizon = 24.0 * self.total_days
        for _time, _fn, item in list(self.clock.pending()):
            if isinstance(item, Feed):
                for case in item.cases[item.i:]:
                    case.entered = math.nan
                    self.record(case, math.nan, OPEN)
            elif isinstance(item, Case):
                self.record(item, math.nan, OPEN)
        self.clock.clear()
        self.horizon = horizon

