"""The governance model: Mesa owns the agents and the day; the compiled flow owns time inside it.

One `step()` is one day, in plain Python except for one call: the timeline's changes, the
month-end ranking and theme when a month turns, the projects' daily work, the day's problems
drawn in numpy, then `sim.flow.run_until` runs the day's events in compiled code, and the
verdicts of the cases closed that day move trust. Everything done once a day or once a month
is here or in a mechanism module, where a researcher changes it most often.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Callable

import mesa
import numpy as np

from sim import mechanisms, plugins
from sim.agents import (
    CitizenCohort,
    Department,
    DistrictCentre,
    EnforcementTeam,
    Hotline,
    Office,
    StreetOffice,
)
from sim.cases import (
    COLUMNS,
    ENTER,
    ON_SPOT,
    RETIRED,
    compact,
    grow,
    has_room,
    new_cases,
    problems,
    retire,
    take_recorded,
)
from sim.cases import ref as cases_ref
from sim.city import City
from sim.city.city import DEPARTMENT_TYPES
from sim.demand import Demand
from sim.engine.clock import EVENTS_RUN, NOW, new_clock, pending, renumber
from sim.engine.clock import ref as clock_ref
from sim.engine.clock import with_room as clock_with_room
from sim.engine.desks import (
    WEEK,
    catch_up_all,
    charge_all,
    new_desks,
    people,
    restaffed,
    top_up,
)
from sim.engine.desks import ref as desks_ref
from sim.engine.draws import run_key
from sim.engine.workload import ARRIVALS, new_workload
from sim.engine.workload import ref as workload_ref
from sim.flow import Tables, World, admit, office_rules, run_until, tables_ref
from sim.flow import ref as world_ref
from sim.ledger import Ledger, Streamed, frame_of
from sim.mechanisms import whistle
from sim.mechanisms.ranking import Ranking
from sim.mechanisms.reporting import Trust
from sim.mechanisms.sources import Sources
from sim.mechanisms.themes import CHARGE_HOUR, Themes
from sim.problems import DayCounts, ProblemMaker
from sim.record import RunRecord
from sim.scenario.categories import load_categories
from sim.scenario.loader import apply_change, check_city, timeline_order, timeline_states
from sim.scenario.schema import Change, CityConfig, Scenario
from sim.staffing import Layout, staff_levels
from sim.units import Units, layout, unit_types
from sim.units import ref as units_ref

#: Spawn key of each day's demand draw (apart from the sample's and the cases' keyed draws).
_DEMAND_STREAM = 3
#: Days of a shared unit's sampled visits its background rate follows, and how much of its
#: profile by hour of the week is kept from one day to the next (`GovernanceModel._background`).
_BACKGROUND_DAYS, _PROFILE_KEEP = 7, 1.0 - 1.0 / 28
#: Visits a unit's own profile must have seen to weigh as much as its kind's.
_PROFILE_PRIOR = float(WEEK)


def make_city(config: CityConfig) -> City:
    """The city a scenario names: Beijing, a synthetic city, or a network file (built once per
    process and shared read-only, `sim.city.shared`)."""
    from sim.city.shared import cached_city

    return cached_city(config)


def _scenario_of(given: Scenario | str | dict | None, file: str | None,
                 overrides: dict | None, **run: float | None) -> tuple[Scenario, str | None]:
    """The scenario a model is built with when it is named the way `sim.run` takes one (a
    preset name, a path, a dict; `seed`, `days`, `scale`, dotted `overrides`), as Mesa's
    `batch_run` builds models from keyword arguments."""
    from sim.api import as_scenario
    from sim.errors import InputError

    if given is None:
        raise InputError(None, "scenario", "a scenario: a Scenario, a preset name (`hotline`), "
                         "a path or a dict")
    extra = {**(overrides or {}), **{k: v for k, v in run.items() if v is not None}}
    spec, read_from = as_scenario(given, extra)
    return spec, read_from or file


class GovernanceModel(mesa.Model):
    """A city under one scenario. Build it, call `step()` once per day, then `finish()`.

    The scenario is a `Scenario`, or named as `sim.run` takes one, with keyword arguments (as
    Mesa's `batch_run` builds a model): `GovernanceModel(scenario="hotline", seed=1, days=30,
    scale=0.05)`; `rng` is taken as the seed. `running` turns false after the last day.

    `stream`: read each day's final cases into a `sim.ledger.Ledger` (and their rows into the
    problem file it asks for) and let their rows go, so the case table holds only the cases in
    flight; None: keep every case's row to the end (the interactive page, the reference build
    of `sim.results.collect`)."""

    def __init__(self, spec: Scenario | str | dict | None = None, city: City | None = None,
                 file: str | None = None, stream: Streamed | None = None,
                 mechanisms: list[plugins.DailyMechanism | Callable] | None = None, *,
                 scenario: Scenario | str | dict | None = None, seed: int | None = None,
                 days: int | None = None, scale: float | None = None,
                 overrides: dict | None = None, rng: int | None = None):
        if not isinstance(spec, Scenario) or any(
                v is not None for v in (scenario, seed, days, scale, overrides, rng)):
            spec, file = _scenario_of(spec if spec is not None else scenario, file, overrides,
                                      seed=seed if seed is not None else rng, days=days,
                                      scale=scale)
        super().__init__(rng=spec.seed)
        self.given = spec  # as given, timeline included; `spec` is the scenario as it stands
        self.file = file
        self.city = c = city if city is not None else make_city(spec.city)
        self.sample = check_city(spec, c, file)  # before anything is allocated
        self.total_days = spec.warmup_days + spec.days
        self.origin = spec.start_date - dt.timedelta(days=spec.warmup_days)
        self.spec = spec = self._timeline(spec)
        self.table = load_categories(spec)
        self.day = 0
        self.key = run_key(spec.seed)
        #: the plug-ins acting once a day (`sim.plugins`): the scenario's, then those given
        self.plugins = [*plugins.build(spec, file),
                        *(plugins.as_mechanism(m) for m in mechanisms or ())]
        #: whether Python acts in the day: a plug-in, or a subclass's own before/after_day
        self._python_day = bool(self.plugins) or any(
            getattr(type(self), hook) is not getattr(GovernanceModel, hook)
            for hook in ("before_day", "after_day"))
        self._build_units()
        self._build_state(stream)

    def _timeline(self, spec: Scenario) -> Scenario:
        """Sort the timeline's states (each validated once, `timeline_states`) by the day they
        take effect; those on or before day 0 apply now: the scenario as it stands at day 0."""
        #: the scenario as it stands from each day a change takes effect (with its changes)
        self.changes: dict[int, list[tuple[Change, Scenario | None]]] = defaultdict(list)
        self._diverged = False  # a change made during the run: later states are applied
        states = [state for _, state in timeline_states(spec, self.file)[1:]]
        for (_i, change), state in zip(timeline_order(spec), states, strict=True):
            day = (change.date - self.origin).days
            if day <= 0:
                spec = state
            elif day < self.total_days:
                self.changes[day].append((change, state))
        #: as it will stand at the end of the run (the tables read it)
        self.end_spec = ([spec, *(state for day in sorted(self.changes)
                                  for _, state in self.changes[day])])[-1]
        return spec

    def add_change(self, day: int, change: Change) -> None:
        """A change made during the run (the interactive page's switches), from the start of
        `day`: applied as a dated timeline entry would be, and every later change after it."""
        self.changes[day].append((change, None))

    def _configure_plugins(self, spec: Scenario) -> None:
        """A timeline change: each plug-in the scenario names hears its settings as they now
        stand; one it names for the first time joins from today."""
        built = dict(self.plugins)
        for name, section in spec.plugins.items():
            if name in built:
                built[name].configure(plugins.resolve(name, section, self.file)[1])
            else:
                self.plugins.append((name, plugins.make(name, section, self.file)))
                self._python_day = True

    def _build_units(self) -> None:
        """The units' layout, their engine state, the ranking, sources and themes."""
        c, spec = self.city, self.spec
        self.dept_base, self.centre_base, self.hotline_unit, self.n_units = layout(
            c.n_streets, c.n_departments, c.n_districts)
        self.unit_type = unit_types(c.n_streets, c.n_departments, c.n_districts)
        um = DEPARTMENT_TYPES.index("urban_management")
        is_um = np.zeros(self.n_units, bool)
        is_um[self.dept_base:self.centre_base] = (c.dept_type == um) & (c.dept_district >= 0)
        self.units = Units(c.n_streets, self.dept_base, self.centre_base, self.hotline_unit,
                           c.street_district.astype(np.int64), is_um, np.ones(self.n_units),
                           np.zeros(self.n_units, np.int64))
        self.day_month = self._month_index(self.total_days + 1)
        self.ranking = Ranking(self.n_units, self.day_month[:self.total_days])
        self.sources = Sources(c.street_population, len(self.table), spec.demand.source_cv,
                               spec.seed)
        lead = self.table.departments[:, 0]
        policy_units = np.array([self.dept_base + c.dept_unit(-1, int(t)) for t in lead],
                                np.int64)
        self.themes = Themes(c.street_population, len(self.table), self.sample.share, self.key,
                             self.sources, policy_units, list(self.table.keys))

    def _build_state(self, stream: Streamed | None) -> None:
        """Staff, the case table, the clock and desks, the agents, trust, the day's records."""
        c, spec = self.city, self.spec
        #: staff (whole people) of every unit today; unit present (staffed) at some time
        self.staff = np.zeros(self.n_units)
        self.present = np.zeros(self.n_units, bool)
        self.staff_log = np.zeros((self.n_units, self.total_days))
        self.hours_log = np.zeros((self.n_units, self.total_days))
        self.base_hours_log = np.zeros((self.n_units, self.total_days))
        self.base_hours = np.zeros(self.n_units)  # working hours at regular effort
        #: (day, level): staff growth compounds from there (a snapshot starts above 1)
        self.staff_growth = (0, spec.staffing.staff_level)
        self.productivity = (0, spec.staffing.productivity_level)  # likewise

        self.cases = new_cases(self.key, self._expected_problems(stream is not None))
        self.workload = new_workload(self.n_units, self.total_days)
        #: each unit's share of its catchment's residents that is simulated (1: a street or a
        #: team; below 1 a shared unit serves the rest's work as its background)
        self.unit_share = self._unit_shares()
        self.clock = new_clock()
        self.desks = new_desks(np.zeros(self.n_units), np.zeros(self.n_units),
                               np.full(self.n_units, 24.0), self.key)._replace(
            present=self.clock.now[NOW:NOW + 1])  # the clock's time (a view of it)
        self.desks.background[:] = self._backgrounds()
        self.shared_units = np.flatnonzero(self.desks.background > 0)
        self._made = np.zeros(len(self.shared_units), np.int64)  # background visits so far
        self.whistle_counts = np.zeros(2, np.int64)
        self._build_agents()

        simulated = self.sample.communities(c)
        self.trust_learning = Trust(spec.reporting.initial_trust, c.community_street,
                                    c.community_population, c.n_streets)
        self.trust = self.trust_learning.level  # one array, read and written by the cohorts
        # the scenario's propensity, times the district's factor (the city's data; 1 if none)
        self.propensity = (spec.reporting.propensity
                           * c.reporting_factor()[c.street_district[c.community_street]])
        self._simulated_communities = simulated
        self.demand: Demand | None = None
        self._configure(0.0)

        self.counts_today = DayCounts()
        #: ids of the problems recorded during the last day (occurred and gone, or closed)
        self.last_recorded = np.zeros(0, np.int64)
        population = c.community_population
        self.ledger = None if stream is None else self._ledger(stream)
        self.datacollector = mesa.DataCollector(model_reporters={
            "day": lambda m: m.day,
            "occurred": lambda m: m.counts_today.occurred,
            "entered": lambda m: m.counts_today.entered,
            "prevented": lambda m: m.counts_today.prevented,
            "mean_trust": lambda m: float(np.average(m.trust[simulated],
                                                     weights=population[simulated])),
        })

    # ------------------------------------------------------------------------------ build
    def _build_agents(self) -> None:
        c = self.city
        self.streets = [StreetOffice(self, i, c.street_names[i], int(c.street_district[i]))
                        for i in range(c.n_streets)]
        self.teams = [EnforcementTeam(self, c.n_streets + i,
                                      f"{c.street_names[i]} enforcement", i)
                      for i in range(c.n_streets)]
        self.departments = [Department(self, self.dept_base + j,
                                       c.dept_names[j] if c.dept_names else f"dept-{j}",
                                       int(c.dept_district[j]), int(c.dept_type[j]))
                            for j in range(c.n_departments)]
        self.district_centres = [DistrictCentre(self, self.centre_base + d, c.district_names[d],
                                                d) for d in range(c.n_districts)]
        self.hotline = Hotline(self, self.hotline_unit, "12345")
        self.offices: list[Office] = [*self.streets, *self.teams, *self.departments,
                                      *self.district_centres, self.hotline]
        self.unit_names = [o.name for o in self.offices]
        sampled = self.sample.streets
        self.cohorts = [CitizenCohort(self, i, int(c.community_street[i]),
                                      int(c.community_population[i]))
                        for i in np.flatnonzero(sampled[c.community_street]).tolist()]

    def _unit_shares(self) -> np.ndarray:
        """The share of each unit's catchment's residents that is simulated: a district's
        units their district's, the city's units and the hotline the city's; 1 for streets
        and their teams (a street is simulated whole, or not at all)."""
        c, sample = self.city, self.sample
        share = np.ones(self.n_units)
        district = c.dept_district
        share[self.dept_base:self.centre_base] = np.where(
            district >= 0, sample.district_share[np.maximum(district, 0)], sample.share)
        share[self.centre_base:self.hotline_unit] = sample.district_share
        share[self.hotline_unit] = sample.share
        return share

    def _backgrounds(self) -> np.ndarray:
        """Each shared unit's background (`sim.engine.desks`): the problems expected of the
        streets it serves that are not simulated, per one of those that are, in the categories
        that reach it (a department: those needing its type); from the demand as the run
        starts: residents, their district's factor, their streets' persistent sources. 0 for
        streets and teams, and for a unit none of whose streets is simulated."""
        c, spec, table = self.city, self.spec, self.table
        rates = ((c.street_population / 1e4 * spec.demand.rate_per_10k_per_day
                  * c.demand_factor()[c.street_district])[:, None] * table.share[None, :]
                 * self.sources.demand_factor(table.root_cause_share))  # (street, category)
        sampled = self.sample.streets

        def rest_per_sampled(streets: np.ndarray, categories: np.ndarray) -> float:
            mine = rates[:, categories].sum(axis=1)
            simulated = mine[streets & sampled].sum()
            return float(mine[streets & ~sampled].sum() / simulated) if simulated > 0 else 0.0

        every = np.ones(len(table), bool)
        background = np.zeros(self.n_units)
        for d in range(c.n_districts):
            background[self.centre_base + d] = rest_per_sampled(c.street_district == d, every)
        background[self.hotline_unit] = rest_per_sampled(np.ones(c.n_streets, bool), every)
        own = c.dept_unit  # (district, type) -> the district's department, -1: the city's
        for j, (d, t) in enumerate(zip(c.dept_district.tolist(), c.dept_type.tolist(),
                                       strict=True)):
            needing = (table.departments == t).any(axis=1)
            needing = needing if needing.any() else every  # reached only as an extra one
            served = [d] if d >= 0 else [k for k in range(c.n_districts) if own(k, t) < 0]
            background[self.dept_base + j] = rest_per_sampled(
                np.isin(c.street_district, served), needing)
        return background

    def _expected_problems(self, streamed: bool) -> int:
        """Rows to allocate at the start: about a year of the scenario's demand, or the run;
        streamed, about two weeks' (the table holds the cases in flight, and a few days' of
        final ones until `compact`)."""
        sampled = float(self.city.population) * self.sample.share
        per_day = sampled / 1e4 * self.spec.demand.rate_per_10k_per_day
        days = 14 if streamed else min(self.total_days, 400)
        return int(per_day * days * 1.05) + 1024

    def _ledger(self, stream: Streamed) -> Ledger:
        from sim.problem_file import ProblemWriter

        frame = frame_of(self)
        writer = None
        if stream.problems is not None:
            columns = tuple(stream.problems)
            writer = ProblemWriter(columns, Ledger.empty(self.cases, frame, columns), frame,
                                   stream.folder)
        return Ledger(frame, stream.waits, writer)

    def _staff_levels(self) -> np.ndarray:
        """Staff of every unit under the scenario as it stands (`sim.staffing`)."""
        return staff_levels(self.spec, self.city, self.table, self.sample,
                            Layout(self.dept_base, self.centre_base, self.hotline_unit,
                                   self.n_units), self.unit_share > 0)

    def _staff_growth_level(self, day: int) -> float:
        """Staff relative to the scenario's levels from `staffing.growth_per_year`, compounding
        from the level reached at the last change of the rate."""
        d0, level = self.staff_growth
        return level * (1.0 + self.spec.staffing.growth_per_year) ** ((day - d0) / 365.0)

    def _productivity_level(self, day: int) -> float:
        """Handling productivity relative to the start from
        `staffing.productivity_growth_per_year`, compounding like staff growth."""
        d0, level = self.productivity
        return level * (1.0 + self.spec.staffing.productivity_growth_per_year) ** (
            (day - d0) / 365.0)

    def _work_hours(self, day: int) -> np.ndarray:
        """Mean staff hours of one handling per category on `day` (productivity growth)."""
        return self.table.work_hours.astype(np.float64) / self._productivity_level(day)

    def _restaff(self, now: float) -> None:
        """Set every desk's staff and hours from the scenario as it stands (and staff growth;
        a hotline whose operators are given keeps its head count)."""
        st = self.spec.staffing
        growth = np.full(self.n_units, self._staff_growth_level(int(now // 24.0)))
        if self.spec.hotline.operators is not None:
            growth[self.hotline_unit] = 1.0
        staff = people(self._staff_levels() * growth)
        self.base_hours[:] = min(st.shift_hours, 24.0)
        self.base_hours[self.hotline_unit] = 24.0  # call-takers work round the clock
        self.desks.opens[:] = st.shift_start_hour
        self.desks.opens[self.hotline_unit] = 0.0
        self._apply_effort()
        if not np.array_equal(staff, self.staff):
            self.desks = restaffed(self.desks, staff, now)
            self.staff = staff
        self.present |= staff > 0

    def _apply_effort(self) -> None:
        """Working hours from effort (overtime), never beyond round the clock."""
        self.desks.hours[:] = np.minimum(24.0, self.base_hours * self.units.effort)

    def set_effort(self, unit: int, effort: float) -> None:
        """A unit's effort from now on (1 = regular hours; `Office.effort` sets it)."""
        self.units.effort[unit] = max(1.0, effort)
        self._apply_effort()

    def _configure(self, now: float) -> None:
        """Staff the units and (re)build every mechanism's rules from the scenario as it
        stands: at the start, and again at each timeline change. Cases already on their way
        finish under the rules they started with; state that outlives a change (rankings,
        effort, themes, trust) is kept."""
        spec = self.spec
        old = self.demand
        self.table = table = load_categories(spec)
        self._restaff(now)
        if old is not None and self._propensity_given != spec.reporting.propensity:
            # a new propensity for all; what a researcher changed per cohort keeps its ratio
            self.propensity *= spec.reporting.propensity / max(self._propensity_given, 1e-12)
        self._propensity_given = spec.reporting.propensity
        self.ranking.configure(spec)
        self.themes.configure(spec)
        self.tables = Tables(
            work_hours=self._work_hours(int(now // 24.0)),
            street_visible=table.street_visible.copy(),
            street_first=table.street_first.astype(np.float64),
            enforcement=table.enforcement.copy(),
            tally=self.ranking.tally, day_month=self.ranking.day_month,
            whistle_counts=self.whistle_counts)
        self.rules = dict(office=office_rules(spec), **mechanisms.rules(spec))
        if old is not None:
            self._configure_plugins(spec)
        self.maker = ProblemMaker(spec, table, self.city, self.sample, self.dept_base)
        day = int(now // 24.0)
        level = old.growth_level(day) if old is not None else spec.demand.growth_level
        self.demand = Demand(spec.demand, self.city, table, self._simulated_communities,
                             self.origin, self.file, day_offset=spec.warmup_days,
                             growth_from=(day, level),
                             source_factor=self.sources.demand_factor(table.root_cause_share))
        self._rebuild_world()

    def _rebuild_world(self) -> None:
        """The kernels' view of the state: the same arrays, passed by reference."""
        self.parts = World(clock_ref(self.clock), desks_ref(self.desks),
                           workload_ref(self.workload), units_ref(self.units),
                           cases_ref(self.cases), tables_ref(self.tables), **self.rules)
        self.world = world_ref(self.parts)

    def _month_index(self, n_days: int) -> np.ndarray:
        o = self.origin
        months = []
        for d in range(n_days):
            date = o + dt.timedelta(days=d)
            months.append((date.year - o.year) * 12 + date.month - o.month)
        return np.array(months, dtype=np.int64)

    # ------------------------------------------------------------------------- lookups
    @property
    def whistle_reports(self) -> int:
        return int(self.whistle_counts[whistle.REPORTS])

    @property
    def whistle_late_reports(self) -> int:
        return int(self.whistle_counts[whistle.LATE_REPORTS])

    @property
    def next_pid(self) -> int:
        """Problems that have occurred so far (ids are 0 .. next_pid - 1)."""
        return problems(self.cases)

    @property
    def events_run(self) -> int:
        """Events run so far (for benchmarks)."""
        return int(self.clock.counters[EVENTS_RUN])

    def unit_agent(self, unit: int) -> Office:
        return self.offices[unit]

    def problem_columns(self, names: tuple[str, ...] = ("pid", *COLUMNS),
                        rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Columns of the case table's rows (every one in use, or `rows`), as copies; `pid`
        is the problem's id. A model that keeps every row (no `stream`) has one per problem
        so far, in order of id."""
        n = int(self.cases.counters[0])
        rows = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows)
        return {name: getattr(self.cases, name)[rows] for name in names}

    def cases_in_flight(self) -> np.ndarray:
        """Rows of the cases an event is pending for: at a desk, between units, in a relay,
        awaiting a callback that reopens them. Those in their last handling are recorded
        already, with their future closing time, and are not listed."""
        return np.unique(pending(self.clock)[2])

    # ----------------------------------------------------------------------- the day
    def step(self) -> None:
        """One day. Python's cyclic garbage collector is paused for it (and resumed, if it
        was on): a day makes no reference cycles, and the collector's passes over everything
        alive cost several per cent of a full-scale run."""
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
        self._background(d)
        for change, state in self.changes.get(d, ()):
            self.staff_growth = (d, self._staff_growth_level(d))  # growth so far, old rate
            self.productivity = (d, self._productivity_level(d))
            self._diverged |= state is None  # from a change made during the run, apply each
            self.spec = apply_change(self.spec, change) if self._diverged else state
            self._configure(24.0 * d)
        if d > 0 and self.day_month[d] != self.day_month[d - 1]:
            if self.spec.staffing.growth_per_year:
                self._restaff(24.0 * d)  # staff grow month by month
                self._rebuild_world()
            if self.spec.staffing.productivity_growth_per_year:
                self.tables.work_hours[:] = self._work_hours(d)  # the kernels read this array
            month = int(self.day_month[d])
            groups = [np.arange(self.city.n_streets),
                      np.arange(self.dept_base, self.centre_base)]
            self.ranking.month_end(month - 1, groups, self.units.effort, self.units.rank_class)
            self._apply_effort()
            self.themes.month_start(month, d)
        self.sources.recover(self.spec.demand.source_recovery_per_year)
        streets, hours = self.themes.daily(d)
        if len(streets):
            charge_all(self.parts.desks, self.parts.workload, streets, 24.0 * d + CHARGE_HOUR,
                       hours)
        self.hours_log[:, d] = self.desks.hours
        self.staff_log[:, d] = self.staff
        self.base_hours_log[:, d] = self.base_hours

        occurring = self.demand.draw(d, np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(self.spec.seed, spawn_key=(_DEMAND_STREAM, d)))))
        n = len(occurring.category)
        self._make_room(n)
        entering, gone, self.counts_today = self.maker.add(
            self.cases, d, self.origin + dt.timedelta(days=d), occurring, self.trust,
            self.propensity, self.themes)
        today = self._plugin_day(d, entering) if self._python_day else None
        if today is not None:
            self.before_day(today)
            entering = self._admit_settled(today)
        admit(self.world, entering, ENTER)
        run_until(self.world, 24.0 * (d + 1))

        closed = take_recorded(self.cases)
        self.last_recorded = np.concatenate([gone, closed])
        self.trust_learning.hear(self.cases.closed_h[closed], self.cases.community[closed],
                                 self.cases.satisfied[closed] > 0)
        self.trust_learning.update(d, self.spec)
        if today is not None:
            today.closed = self.last_recorded
            self.after_day(today)
            self._book(today, 24.0 * (d + 1) + plugins.CHARGE_HOUR)
        if self.ledger is not None:  # final: into the results, and their rows let go
            self.ledger.read(self.cases, self.last_recorded)
            retire(self.cases, self.last_recorded)
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.total_days:
            self.running = False  # the last day is run: stop now, not a step later

    # ------------------------------------------------------------------ Python's day
    def before_day(self, day: plugins.Day) -> None:
        """Plain Python before the compiled day: the day's new cases are made, none is
        handled. Calls each plug-in's `before_day`; a subclass may act here too (call super)."""
        for _, plugin in self.plugins:
            plugin.before_day(day)

    def after_day(self, day: plugins.Day) -> None:
        """Plain Python after the compiled day (`day.closed`: the cases recorded today). Calls
        each plug-in's `after_day`; a subclass may act here too (call super)."""
        for _, plugin in self.plugins:
            plugin.after_day(day)

    def _plugin_day(self, d: int, entering: np.ndarray) -> plugins.Day:
        return plugins.Day(index=d, date=self.origin + dt.timedelta(days=d), spec=self.spec,
                           city=self.city, categories=self.table, cases=self.cases,
                           offices=self.offices, cohorts=self.cohorts, entering=entering)

    def _admit_settled(self, day: plugins.Day) -> np.ndarray:
        """Book the work plug-ins charged this morning, admit the cases they settle on the
        spot, and return the rest of the entering cases (in their order)."""
        self._book(day, 24.0 * day.index + plugins.CHARGE_HOUR)
        if not day.settled:
            return day.entering
        settled = np.concatenate(day.settled)
        admit(self.world, settled, ON_SPOT)
        return day.entering[~np.isin(day.entering, settled)]

    def _book(self, day: plugins.Day, at: float) -> None:
        """The extra work plug-ins charged, at the units that have staff (a street outside
        the sample has none)."""
        for units, hours in day.charges:
            staffed = self.staff[units] > 0
            charge_all(self.parts.desks, self.parts.workload, units[staffed], at,
                       np.ascontiguousarray(hours[staffed]))
        day.charges.clear()

    def _background(self, d: int) -> None:
        """The shared units' background for day `d` (`sim.engine.desks`): what arrived by its
        start made first, at the old rates; then each unit's rate from its sampled visits of
        the last weeks, shaped by the hour-of-week profile of visits to its kind of unit."""
        units = self.shared_units
        if not len(units):
            return
        desks = self.desks
        catch_up_all(self.parts.desks, units, 24.0 * d)
        if d > 0:  # yesterday's background made up to its sampled visits
            owed = (desks.background[units] * self.workload.table[d - 1, units, ARRIVALS]
                    - (desks.made[units] - self._made))
            top_up(self.parts.desks, units, owed, 24.0 * (d - 1), 24.0 * d)
        self._made = desks.made[units].copy()
        days = min(d, _BACKGROUND_DAYS)
        per_day = (self.workload.table[d - days:d, units, ARRIVALS].sum(axis=0) / days
                   if days else np.zeros(len(units)))
        desks.arrived[units] *= _PROFILE_KEEP
        kinds = self.unit_type[units]
        for kind in np.unique(kinds).tolist():
            mine = units[kinds == kind]
            seen = desks.arrived[mine]
            kind_seen = seen.sum(axis=0)
            kind_profile = (kind_seen / kind_seen.sum() if kind_seen.sum() > 0
                            else np.full(WEEK, 1.0 / WEEK))
            # each unit's own profile, leaning on its kind's while it has seen few visits
            profile = ((seen + _PROFILE_PRIOR * kind_profile)
                       / (seen.sum(axis=1) + _PROFILE_PRIOR)[:, None])
            # the day's expected visits, less any made beyond what was owed (made up today)
            today = np.maximum(0.0, desks.background[mine] * per_day[kinds == kind]
                               + np.minimum(desks.owed[mine], 0.0))
            desks.rate[mine] = (7.0 * today)[:, None] * profile
        desks.next_at[units] = np.nan  # drawn afresh at the new rates (a Poisson stream
        desks.since[units] = np.maximum(desks.since[units], 24.0 * d)  # has no memory)

    def _make_room(self, n: int) -> None:
        """Room for `n` new cases on the clock and in the case table: when the table is full,
        the rows given back first (the cases in flight moved together, their events told),
        then more rows if the cases would still fill more than half of it."""
        cases = self.cases
        grown = False
        if not has_room(cases, n):
            if cases.counters[RETIRED]:
                renumber(self.clock, compact(cases))
            half = len(cases.outcome) // 2 if self.ledger is not None else 0
            grown = not has_room(cases, n + half)
        roomier = clock_with_room(self.clock, n)
        if roomier is not self.clock or grown:
            self.parts = self.world = None  # the kernels let go of the old arrays first
            self.clock = roomier
            if grown:
                grow(cases, n)
            self._rebuild_world()

    def record(self) -> RunRecord:
        """The finished run as its tables read it (`sim.record`). A run that kept every row
        hands over its case table: the kernels' view of it is let go here."""
        cases = None
        if self.ledger is None:
            self.parts = self.world = None  # the tables take the case arrays over in place
            cases = self.cases
        return RunRecord(
            given=self.given, spec=self.spec, end_spec=self.end_spec, city=self.city,
            sample=self.sample, origin=self.origin, total_days=self.total_days,
            categories=self.table, dept_base=self.dept_base, unit_names=self.unit_names,
            unit_type=self.unit_type, unit_share=self.unit_share, present=self.present,
            staff_log=self.staff_log, hours_log=self.hours_log,
            base_hours_log=self.base_hours_log, workload=self.workload,
            daily=self.datacollector.get_model_vars_dataframe().reset_index(drop=True),
            rankings=self.ranking.rows, projects=self.themes.projects,
            whistle_reports=self.whistle_reports,
            whistle_late_reports=self.whistle_late_reports, ledger=self.ledger, cases=cases)

    def finish(self) -> None:
        """End of the run: every case still in the system keeps the outcome `open`; those not
        yet entered (reported after the end) have no time of entry. All are final now."""
        _, kinds, ids = pending(self.clock)
        not_yet = ids[(kinds == ENTER) | (kinds == ON_SPOT)]
        self.cases.entered_h[not_yet] = np.nan
        self.horizon = 24.0 * self.total_days
        if self.ledger is not None:
            cases = self.cases
            live = np.flatnonzero(cases.pid[:int(cases.counters[0])] >= 0)
            self.ledger.read(cases, live)
            retire(cases, live)
