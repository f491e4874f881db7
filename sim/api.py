"""`run()`: one scenario, one seed, one result — the plain function every interface calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from sim.city.city import City
from sim.model import GovernanceModel
from sim.results import Result, collect
from sim.scenario.loader import load_scenario, resolve_path, set_dotted, validate
from sim.scenario.schema import Scenario


def as_scenario(scenario: Scenario | str | Path | dict[str, Any],
                overrides: dict[str, Any] | None = None) -> tuple[Scenario, str | None]:
    """A validated scenario from a Scenario, a file path, a preset name or a plain dict."""
    if isinstance(scenario, Scenario) and not overrides:
        return scenario, None
    if isinstance(scenario, Scenario | dict):
        data = scenario.model_dump() if isinstance(scenario, Scenario) else dict(scenario)
        for dotted, value in (overrides or {}).items():
            set_dotted(data, dotted, value)
        return validate(data), None
    return load_scenario(scenario, overrides), str(resolve_path(scenario))


def run(scenario: Scenario | str | Path | dict[str, Any], *, seed: int | None = None,
        days: int | None = None, scale: float | None = None, city: City | None = None,
        overrides: dict[str, Any] | None = None, progress: bool | str = False,
        on_day: Callable[[GovernanceModel], None] | None = None) -> Result:
    """Run one scenario and return its tables.

    `scenario` is a `Scenario`, a YAML path or a preset name (`"hotline"`); `seed`, `days` and
    `scale` override the file; `overrides` sets any field by dotted path
    (`{"whistle.report_window_minutes": 60}`). The same scenario and seed give the same numbers.
    """
    extra = dict(overrides or {})
    for key, value in (("seed", seed), ("days", days), ("scale", scale)):
        if value is not None:
            extra[key] = value
    spec, file = as_scenario(scenario, extra)
    model = GovernanceModel(spec, city=city, file=file)
    label = progress if isinstance(progress, str) else spec.name
    with tqdm(total=model.total_days, desc=label, unit="day", disable=not progress,
              delay=1.0, leave=False) as bar:
        while model.day < model.total_days:
            model.step()
            bar.update(1)
            if on_day is not None:
                on_day(model)
    model.finish()
    return collect(model)
