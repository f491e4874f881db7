"""`RunRecord`: what a finished run hands to its tables — the one interface between the model
and the results (`sim.results.collect`), so that the tables read a short, named list of the
run's records and never the model object itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.cases import Cases
    from sim.city import City
    from sim.engine.workload import Workload
    from sim.ledger import Ledger
    from sim.mechanisms.themes import Project
    from sim.sampling import StreetSample
    from sim.scenario.categories import CategoryTable
    from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class RunRecord:
    """A finished run, as its tables read it."""

    given: Scenario  # as given, timeline included
    spec: Scenario  # as it stood at the end of the run
    end_spec: Scenario  # every change of its timeline applied (the ledger's frame)
    city: City
    sample: StreetSample  # the streets simulated, and the weight of each simulated problem
    origin: dt.date  # the date of day 0 (the first day of the warm-up)
    total_days: int  # warm-up and run
    categories: CategoryTable  # as it stood at the end
    dept_base: int  # units: streets, teams, then departments from here (`sim.units.layout`)
    unit_names: list[str]
    unit_type: np.ndarray  # per unit, index into `sim.units.UNIT_TYPES`
    unit_share: np.ndarray  # per unit, the share of its catchment simulated
    present: np.ndarray  # per unit: staffed at some time
    staff_log: np.ndarray  # (unit, day): whole people on duty
    hours_log: np.ndarray  # (unit, day): working hours (overtime included)
    base_hours_log: np.ndarray  # (unit, day): regular hours
    workload: Workload  # the engine's per unit, per day counts (`sim.engine.workload`)
    daily: pd.DataFrame  # the model's day-by-day series (its DataCollector's model variables)
    rankings: list[tuple[Any, ...]]  # the monthly rankings' rows (`sim.mechanisms.ranking`)
    projects: list[Project]  # themes and streets' projects (`sim.mechanisms.themes`)
    whistle_reports: int
    whistle_late_reports: int
    ledger: Ledger | None  # a streamed run's counts and problem file
    cases: Cases | None  # a run that kept every row: its case table (the reference build)

    @property
    def occurred(self) -> int:
        """Problems that occurred, warm-up included, as the problem maker counted them."""
        return int(self.daily["occurred"].sum())
