"""The honest scale: a run below 1:1 simulates a sample of streets, each as it really is.

`scale: s` picks streets, district by district, until they hold about the share s of the
city's residents. Each sampled street is simulated at full intensity: all its residents, all
its problems, its whole office and enforcement team, so its queues are the real city's. Units
shared by many streets (a district's departments and command centre, the city-level
departments, the 12345 hotline) are simulated whole, serving besides the sampled streets'
cases the work of the others as their background (`sim.engine.desks`), so a sampled case
waits at them as it would at the whole unit; their reported staff is the share of their
catchment sampled (`StreetSample.district_share`, `share`). A problem across the border from a
street that is not sampled needs the other side all the same; its own street stands in for
the neighbour (border work runs about as much one way as the other).

What this keeps exact, and what it approximates, is written down in docs/performance.md
("Scale"). Each seed draws its own sample, so replications average over samples; presets
compared at one seed share it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.city.city import City
from sim.errors import InputError

#: The spawn key that keeps the sample's random numbers apart from the run's others.
_SAMPLE_STREAM = 7


@dataclass(frozen=True)
class StreetSample:
    streets: np.ndarray  # bool per street: simulated
    district_share: np.ndarray  # per district: sampled residents / residents
    share: float  # sampled residents / the city's residents (the effective scale)

    @property
    def whole_city(self) -> bool:
        return bool(self.streets.all())

    @property
    def weight(self) -> float:
        """Real problems each simulated one stands for."""
        return 1.0 / self.share

    def communities(self, city: City) -> np.ndarray:
        """bool per community: in a sampled street."""
        return self.streets[city.community_street]


def sample_streets(city: City, scale: float, seed: int, file: str | None = None) -> StreetSample:
    """Streets holding about `scale` of the residents: in each district, in random order,
    each street taken while it brings the district closer to its target; what a district
    misses or overshoots carries to the next (districts in random order too)."""
    population = city.street_population.astype(float)
    if scale >= 1.0:
        chosen = np.ones(city.n_streets, bool)
    else:
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
            seed, spawn_key=(_SAMPLE_STREAM,))))
        chosen = np.zeros(city.n_streets, bool)
        carry = 0.0
        for d in rng.permutation(city.n_districts).tolist():
            streets = np.flatnonzero(city.street_district == d)
            target = scale * population[streets].sum() + carry
            taken = 0.0
            for s in rng.permutation(streets).tolist():
                if abs(target - taken - population[s]) < abs(target - taken):
                    chosen[s] = True
                    taken += population[s]
            carry = target - taken
        if not chosen.any():
            raise InputError(file, "scale", f"a scale at which at least one street is simulated "
                             f"(the smallest street holds "
                             f"{population.min() / population.sum():.2g} of the residents)",
                             scale)
    district_pop = np.bincount(city.street_district, population, city.n_districts)
    sampled_pop = np.bincount(city.street_district, population * chosen, city.n_districts)
    share = np.divide(sampled_pop, district_pop, out=np.zeros(city.n_districts),
                      where=district_pop > 0)
    return StreetSample(chosen, share, float(sampled_pop.sum() / district_pop.sum()))
