"""Street/lane-chief patrols (街巷长, 网格员): they discover visible problems before anyone reports
them, at a rate that grows with the density of chiefs."""

from __future__ import annotations

import numpy as np

from sim.mechanisms import Mechanism
from sim.scenario.categories import CategoryTable
from sim.scenario.schema import Scenario


def discovery_rate(spec: Scenario, table: CategoryTable) -> np.ndarray | None:
    """Per category, the hourly rate at which patrols find a problem (None: no patrols)."""
    cfg = spec.patrols
    if not cfg.enabled:
        return None
    density = cfg.chiefs_per_10k / cfg.reference_chiefs_per_10k
    return np.where(table.street_visible, cfg.discovery_rate_per_day * density / 24.0, 0.0)


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "patrols", section="patrols",
    stations=("problems",),
    doc="Street and lane chiefs discover visible problems before anyone reports them.")
