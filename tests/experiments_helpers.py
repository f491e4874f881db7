"""Helpers of tests/test_experiments.py that worker processes must be able to import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import SMALL_CITY

#: Demand rate at which `fail_when_busy` raises: a run that fails for a known input.
FAILING_RATE = 9.0


def fail_when_busy(result: Any) -> dict[str, float]:
    """An extra measure that raises for one parameter value (to test failed runs)."""
    rate = result.scenario.demand.rate_per_10k_per_day
    if rate >= FAILING_RATE:
        raise RuntimeError(f"demand {rate} is too high for this test")
    return {"problems_per_street": len(result.problems) / 8.0}


def write_spec(folder: Path, name: str = "spec.yaml", **fields: Any) -> Path:
    """A tiny sweep on the 8-street synthetic city; `fields` replace the defaults."""
    spec: dict[str, Any] = {
        "scenarios": ["fragmented", "hotline"],
        "set": {"days": 8, "scale": 0.2, "city": SMALL_CITY, "warmup_days": 0},
        "parameters": {"demand.rate_per_10k_per_day": {"values": [4.0, 6.0]}},
        "replications": 2,
        "seed": 7,
    }
    spec.update(fields)
    path = folder / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path
