"""Synthetic cities of any size: for scaling studies and for tiny cities that theory can check.

All units are 街道 ("street" kind). Districts get unequal populations (lognormal weights) and an
area from a fixed density, and are packed as touching discs. A 1 x 1 x 1 city (one district, one
street, one community) is valid: it is the M/M/c test bed for the engine.
"""

from __future__ import annotations

import numpy as np

from sim.city.build import DistrictSpec, apportion, build_city
from sim.city.city import City
from sim.errors import InputError

#: Residents per km² used to give synthetic districts an area (only drawing and adjacency use it).
SYNTHETIC_DENSITY = 5000.0


def _positive_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(None, f"city.synthetic.{field}", "a positive integer", value)
    return int(value)


def synthetic_city(
    n_districts: int = 4,
    streets_per_district: int = 5,
    population: int = 500_000,
    seed: int = 0,
    communities_per_street: int | None = None,
) -> City:
    """A generated city of `n_districts` x `streets_per_district` streets and `population` people.

    Communities follow the usual ~3,000 residents each unless `communities_per_street` fixes them.
    """
    n_d = _positive_int(n_districts, "n_districts")
    n_s = _positive_int(streets_per_district, "streets_per_district")
    pop = _positive_int(population, "population")
    cps = None
    if communities_per_street is not None:
        cps = _positive_int(communities_per_street, "communities_per_street")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(None, "city.synthetic.seed", "a non-negative integer", seed)
    per_district_min = n_s * (cps or 1)
    if pop < n_d * per_district_min:
        raise InputError(
            None,
            "city.synthetic.population",
            f"at least one resident per community (>= {n_d * per_district_min})",
            pop,
        )
    rng = np.random.default_rng(int(seed))
    district_pop = apportion(pop, rng.lognormal(0.0, 0.3, size=n_d), minimum=per_district_min)
    width = max(2, len(str(n_d)))
    specs = [
        DistrictSpec(
            name=f"D{i + 1:0{width}d}",
            population=int(p),
            area_km2=max(float(p) / SYNTHETIC_DENSITY, 0.01),
            streets=n_s,
        )
        for i, p in enumerate(district_pop)
    ]
    return build_city("synthetic", specs, rng, communities_per_unit=cps)
