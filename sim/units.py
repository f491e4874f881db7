"""The units a case can visit, as one index space the kernels read.

Units are numbered by type: street offices `[0, S)`, their enforcement teams `[S, 2S)` (team of
street s is S + s), department units from `dept_base` (in the city's department order), the
district command centres from `centre_base` (centre of district d is centre_base + d) and the
12345 hotline last. Per-unit state the kernels read and Python changes between days (effort,
ranking class) lives here too, so an office agent and the engine see the same numbers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.engine.compile import kernel, passed_by_reference

#: Unit types, in the order of the index space.
UNIT_TYPES = ("street", "enforcement", "department", "district_centre", "hotline")
RANK_CLASSES = ("unranked", "先进", "进步", "整改", "治理")
#: Ranking classes whose units are supervised (整改, 治理).
SUPERVISED_FROM = 3


class Units(NamedTuple):
    n_streets: int
    dept_base: int
    centre_base: int
    hotline: int
    street_district: np.ndarray  # int64 per street
    dept_is_urban_management: np.ndarray  # bool per unit: a district's 城管 department
    effort: np.ndarray  # float64 per unit: 1 = regular hours, > 1 overtime under ranking
    rank_class: np.ndarray  # int64 per unit, index into RANK_CLASSES


#: The units as kernels take it: one struct (`UnitsRef`), by reference, over the same
#: arrays.
ref = passed_by_reference("Units", Units._fields, __name__,
                          "`Units` passed by reference.")


def layout(n_streets: int, n_departments: int, n_districts: int) -> tuple[int, int, int, int]:
    """(dept_base, centre_base, hotline, n_units) of a city of these sizes."""
    dept_base = 2 * n_streets
    centre_base = dept_base + n_departments
    hotline = centre_base + n_districts
    return dept_base, centre_base, hotline, hotline + 1


def unit_types(n_streets: int, n_departments: int, n_districts: int) -> np.ndarray:
    """Index into UNIT_TYPES of every unit."""
    dept_base, centre_base, hotline, n = layout(n_streets, n_departments, n_districts)
    kinds = np.zeros(n, np.int8)
    kinds[n_streets:dept_base] = UNIT_TYPES.index("enforcement")
    kinds[dept_base:centre_base] = UNIT_TYPES.index("department")
    kinds[centre_base:hotline] = UNIT_TYPES.index("district_centre")
    kinds[hotline] = UNIT_TYPES.index("hotline")
    return kinds


@kernel
def team_of(units, street):
    """The enforcement team of a street office."""
    return units.n_streets + street


@kernel
def centre_of(units, street):
    """The district command centre over a street."""
    return units.centre_base + units.street_district[street]


@kernel
def is_street(units, unit):
    return unit < units.n_streets


@kernel
def supervised(units, unit):
    """Units ranked 整改 or 治理 are supervised, which suppresses buck-passing."""
    return units.rank_class[unit] >= SUPERVISED_FROM
