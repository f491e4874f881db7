"""Who is on duty: every unit's staff, in real people, from the scenario as it stands.

Street offices and district centres are staffed per resident; a district's departments share its
case staff by the work their categories bring; city-level departments share theirs likewise.
When forces sink down (`devolution.enforcement_team`), each district's urban-management (城管)
department gives `devolution.transfer_share` of its case staff to the enforcement teams of its
streets, split by residents: staff are moved, never created, so the case staff of the city are the
same under every reform (the 12345 call centre's seats are the one unit a reform adds, from their
own sourced roster; `hotline.operators`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.city.city import DEPARTMENT_TYPES, City
from sim.mechanisms import channels
from sim.sampling import StreetSample
from sim.scenario.categories import CategoryTable
from sim.scenario.schema import Scenario

URBAN_MANAGEMENT = DEPARTMENT_TYPES.index("urban_management")


class Layout(NamedTuple):
    """Where each kind of unit starts in the one index space of units (`sim.units.layout`)."""

    dept_base: int
    centre_base: int
    hotline: int
    n_units: int


def load_shares(table: CategoryTable, floor: float) -> np.ndarray:
    """Share of department work per department type: the lead department carries every case of
    its categories, the others only the multi-department ones (each type at least `floor` of an
    even split, `staffing.min_department_type_share`, so no unit is without staff)."""
    load = np.zeros(len(DEPARTMENT_TYPES))
    for k in range(len(table)):
        for j, t in enumerate(table.departments[k]):
            if t >= 0:
                load[t] += table.share[k] * table.work_hours[k] * (
                    1.0 if j == 0 else table.multi_dept_prob[k])
    share = load / load.sum()
    return np.maximum(share, floor / len(share))


def department_staff(spec: Scenario, city: City, table: CategoryTable) -> np.ndarray:
    """Case staff of each department unit of the whole city before any transfer, real people."""
    st = spec.staffing
    share = load_shares(table, st.min_department_type_share)
    staff = np.empty(city.n_departments)
    for j in range(city.n_departments):
        d, t = int(city.dept_district[j]), int(city.dept_type[j])
        if d >= 0:
            staff[j] = city.district_population[d] / 1e4 * st.dept_staff_per_10k * share[t]
        else:
            staff[j] = st.city_dept_staff * share[t]
    return staff * st.dept_grassroots_share


def transfers(spec: Scenario, city: City, dept_staff: np.ndarray) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """(each street's enforcement team, what each department unit gives to them), real people:
    `transfer_share` of each district's 城管 case staff, split over its streets by residents;
    zero before forces sink down."""
    team = np.zeros(city.n_streets)
    given = np.zeros(city.n_departments)
    if not spec.devolution.enforcement_team:
        return team, given
    for d in range(city.n_districts):
        j = city.dept_unit(d, URBAN_MANAGEMENT)
        streets = np.flatnonzero(city.street_district == d)
        if j < 0 or int(city.dept_district[j]) != d or not len(streets):
            continue  # no district 城管 unit here: nothing to move
        given[j] = spec.devolution.transfer_share * dept_staff[j]
        population = city.street_population[streets].astype(float)
        team[streets] = given[j] * population / max(population.sum(), 1.0)
    return team, given


def staff_levels(spec: Scenario, city: City, table: CategoryTable, sample: StreetSample,
                 layout: Layout, simulated: np.ndarray) -> np.ndarray:
    """Staff of every unit under the scenario as it stands, real people: a sampled street's
    whole office and team, a shared unit whole where `simulated` (any street of its catchment is
    sampled: it serves the others' work too, `sim.engine.desks`' background), else nobody."""
    st = spec.staffing
    sampled = sample.streets.astype(float)
    staff = np.zeros(layout.n_units)
    staff[:city.n_streets] = city.street_population / 1e4 * st.street_staff_per_10k * sampled
    dept = department_staff(spec, city, table)
    team, given = transfers(spec, city, dept)
    staff[city.n_streets:layout.dept_base] = team * sampled
    staff[layout.dept_base:layout.centre_base] = dept - given
    staff[layout.centre_base:layout.hotline] = (
        city.district_population / 1e4 * st.district_centre_staff_per_10k)
    if spec.hotline.enabled:
        staff[layout.hotline] = channels.hotline_seats(spec, city.population)
    return staff * simulated


def case_staff(spec: Scenario, city: City, table: CategoryTable) -> float:
    """The case staff of the whole city (streets, enforcement teams, departments, district
    centres; not the 12345 seats), real people before rounding to whole people: the same under
    every reform, since a reform moves staff and creates none."""
    st = spec.staffing
    dept = department_staff(spec, city, table)
    return float(city.population / 1e4 * st.street_staff_per_10k + dept.sum()
                 + city.district_population.sum() / 1e4 * st.district_centre_staff_per_10k)
