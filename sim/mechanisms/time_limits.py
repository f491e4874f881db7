"""Time limits (接诉即办): emergencies 2 hours, utilities 24 hours, general 7 days, complex 15 days
(2021 draft local standard for 12345). Before the hotline the same classes stand for what a
resident expects; a problem needing several departments gets the complex limit at least."""

from __future__ import annotations

import numpy as np

from sim.mechanisms import Mechanism
from sim.scenario.categories import TIME_LIMIT_CLASSES, CategoryTable
from sim.scenario.schema import Scenario, TimeLimits


def limit_hours(spec: Scenario, table: CategoryTable, category: np.ndarray,
                emergency: np.ndarray, multi_dept: np.ndarray) -> np.ndarray:
    """The time limit of each problem, in hours."""
    limits = spec.hotline.time_limits if spec.hotline.enabled else TimeLimits()
    by_class = np.array([limits.emergency_hours, limits.utility_hours, limits.general_hours,
                         limits.complex_hours])
    cls = np.where(emergency, TIME_LIMIT_CLASSES.index("emergency"), table.time_limit[category])
    hours = by_class[cls]
    return np.where(multi_dept & ~emergency, np.maximum(hours, limits.complex_hours), hours)


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "time_limits", section="hotline",
    stations=("problems",),
    doc="Each case's time limit by class (2 h, 24 h, 7 days, 15 days).")
