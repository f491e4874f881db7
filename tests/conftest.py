"""Shared helpers: small, fast runs on a synthetic city where mechanisms are easy to reason about."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim.scenario.loader import deep_merge, load_scenario

SMALL_CITY = {"source": "synthetic",
              "synthetic": {"n_districts": 2, "streets_per_district": 4, "population": 200_000}}


def small_run(preset: str = "fragmented", days: int = 60, seed: int = 1, scale: float = 1.0,
              **sections: Any) -> sim.Result:
    """A preset on a 2-district, 8-street synthetic city of 200,000, with sections overridden."""
    base = load_scenario(preset).model_dump()
    data = deep_merge(base, {"city": SMALL_CITY, "days": days, "seed": seed, "scale": scale})
    data = deep_merge(data, sections)
    return sim.run(data)


@pytest.fixture(scope="session")
def run_small():
    return small_run
