"""Forces sink down (力量下沉): enforcement teams at streets, and powers devolved to streets.

From 2018 each street has an enforcement team of 城管 staff transferred from its district's
urban-management department (`sim.staffing`: moved, not created); it handles the street's
enforcement cases and answers the street's whistles for 城管. From 2020-07-01, 431 enforcement powers were devolved: each
category's `devolvable` share of cases becomes the street's to resolve (drawn when a problem
occurs, `street_powers`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.engine.compile import kernel
from sim.mechanisms import Mechanism
from sim.scenario.categories import CategoryTable
from sim.scenario.schema import Scenario
from sim.units import team_of


class DevolutionRules(NamedTuple):
    teams: bool  # streets have enforcement teams


def rules(spec: Scenario) -> DevolutionRules:
    return DevolutionRules(teams=spec.devolution.enforcement_team)


def street_powers(spec: Scenario, table: CategoryTable) -> np.ndarray:
    """Per category, the share of its cases the street may resolve with its own powers."""
    extra = table.devolvable if spec.devolution.devolved_powers else 0.0
    return table.street_power + extra


@kernel
def handler_for(rules, enforcement, units, cases, c, street):
    """Who at the street handles a case within its powers: the enforcement team for an
    enforcement case (`enforcement` per category) once there is one, else the street office."""
    if rules.teams and enforcement[cases.category[c]]:
        return team_of(units, street)
    return street


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "devolution", section="devolution",
    stations=("street_handle", "staffing", "problems"),
    doc="Forces sink down: enforcement teams at streets, powers devolved to streets.",
    rules=rules)
