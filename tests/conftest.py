"""Shared helpers: small, fast runs on a synthetic city where mechanisms are easy to reason about."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest

import sim
from sim.scenario.loader import deep_merge, load_scenario

#: Notes of writes in progress (`sim.outputs.journal_dir`) go to a folder of the test session's,
#: not the user's home; child processes inherit it.
os.environ.setdefault("GOVSIM_STATE_DIR", tempfile.mkdtemp(prefix="govsim-state-"))

SMALL_CITY = {"source": "synthetic",
              "synthetic": {"n_districts": 2, "streets_per_district": 4, "population": 200_000}}


#: A preset held steady, so that a small test reasons about one mechanism at a time: the
#: calibrated city's values and levels as they are, but no growth, no warm-up and none of the
#: history's dated inputs; and not Beijing's call centre roster (`hotline.operators`, real
#: people for the whole of Beijing), so that the small city staffs its line per resident.
STEADY = {"timeline": [], "warmup_days": 0, "demand": {"growth_per_year": 0.0},
          "staffing": {"growth_per_year": 0.0, "productivity_growth_per_year": 0.0},
          "hotline": {"operators": None}}


def steady(preset: str = "fragmented") -> dict[str, Any]:
    """A preset's fields, held steady (`STEADY`)."""
    return deep_merge(load_scenario(preset).model_dump(), STEADY)


def small_run(preset: str = "fragmented", days: int = 60, seed: int = 1, scale: float = 1.0,
              **sections: Any) -> sim.Result:
    """A preset, held steady, on a 2-district, 8-street synthetic city of 200,000, with sections
    overridden."""
    data = deep_merge(steady(preset), {"city": SMALL_CITY, "days": days, "seed": seed,
                                       "scale": scale})
    data = deep_merge(data, sections)
    return sim.run(data)


@pytest.fixture(scope="session")
def run_small():
    return small_run
