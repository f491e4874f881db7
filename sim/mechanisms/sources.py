"""Root causes as persistent sources (docs/model.md: "a persistent source in one place that keeps
producing the same category — the target of 未诉先办").

Each (street, category) has a source intensity: a gamma multiplier of mean 1 over the city's
residents and coefficient of variation `demand.source_cv`, drawn once per run from the seed, so
a few streets produce much of a category's root-cause problems and keep producing them. A
category's demand in a street is its table rate times

    (1 - s) + s x intensity x left

where s is the category's `root_cause_share` (the share of its demand from sources, city-wide)
and `left` the share of the source that governance has not removed (1 at the start; 每月一题
projects and policy, and streets' 主动治理, multiply it down where they act, `sim.mechanisms.themes`;
what they removed comes back at `demand.source_recovery_per_year`, new causes replacing old).

The place is the street, not the community: Beijing targets, ranks and scores streets and
townships (the monthly ranking, the named 治理类街乡镇, 每月一题's hot spots); a street's office is
who carries a project's hours; and at scale below 1 whole streets are sampled, so a source is
simulated whole or not at all. Within a street a source is spread over its communities by
residents (a simplification: a real source is often one compound).

The demand draw (`sim.demand`) uses the intensity before governance; a problem then comes from
the source with chance s x intensity / ((1 - s) + s x intensity) (the `root_cause` column), and
such a problem is prevented with chance 1 - `left`. That is the Poisson thinning of the draw at
the governed rate, the same distribution as drawing at it: prevented problems never enter and
cost nothing. Their rows are kept (outcome `prevented`: problems the source would have
produced) so that two regimes at one seed keep the same problems, problem by problem (common
random numbers, docs/performance.md); the problems that actually occurred are `occurred`
less `prevented`.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms import Mechanism

#: Spawn key of the source draw (apart from the sample's, the demand's and the cases' keyed draws).
_SOURCE_STREAM = 5


def draw_intensity(street_population: np.ndarray, n_categories: int, cv: float,
                   seed: int) -> np.ndarray:
    """Per (street, category), the source intensity: gamma, coefficient of variation `cv`,
    mean 1 over the city's residents in every category (so each keeps its table share)."""
    n = len(street_population)
    if cv <= 0 or n == 0:
        return np.ones((n, n_categories))
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        seed, spawn_key=(_SOURCE_STREAM,))))
    shape = 1.0 / cv**2
    m = rng.gamma(shape, 1.0 / shape, size=(n, n_categories))
    w = street_population.astype(float)
    w = w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)
    return m / np.maximum(w @ m, 1e-300)


class Sources:
    """The intensity of every (street, category) source, drawn once, and what governance left
    of it."""

    def __init__(self, street_population: np.ndarray, n_categories: int, cv: float, seed: int):
        self.intensity = draw_intensity(street_population, n_categories, cv, seed)
        #: share of each source not removed by governance (1: untouched)
        self.left = np.ones_like(self.intensity)

    def demand_factor(self, root_share: np.ndarray) -> np.ndarray:
        """Per (street, category), the factor on the table rate before governance."""
        return (1.0 - root_share) + root_share * self.intensity

    def root_chance(self, root_share: np.ndarray, streets: np.ndarray,
                    categories: np.ndarray) -> np.ndarray:
        """Chance that each problem drawn at the ungoverned rate comes from its source."""
        s = root_share[categories]
        m = s * self.intensity[streets, categories]
        return np.divide(m, (1.0 - s) + m, out=np.zeros_like(m), where=(1.0 - s) + m > 0)

    def removed(self, streets: np.ndarray, categories: np.ndarray) -> np.ndarray:
        """Share of each problem's source removed by governance."""
        return 1.0 - self.left[streets, categories]

    def reduce(self, streets: np.ndarray | slice, category: int, effectiveness: float) -> None:
        """Governance removes `effectiveness` of what is left of the sources in `streets`."""
        self.left[streets, category] *= 1.0 - effectiveness

    def recover(self, per_year: float, days: float = 1.0) -> None:
        """Sources come back: what governance removed returns at `per_year` (a continuous
        rate), new causes replacing those removed (0: removal is for good)."""
        if per_year > 0:
            self.left[:] = 1.0 - (1.0 - self.left) * np.exp(-per_year * days / 365.0)

    def rate_left(self, root_share: np.ndarray) -> np.ndarray:
        """Per (street, category), the factor on the table rate as governed now."""
        return (1.0 - root_share) + root_share * self.intensity * self.left


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "sources", section="demand",
    stations=("problems", "day_start"),
    doc="Root causes as persistent sources that keep producing problems.")
