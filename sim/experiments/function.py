"""One run as a plain function of named parameters returning named outcomes.

External experiment frameworks (EMA Workbench, SALib scripts, optimisers) want a model that is
just `f(**inputs) -> {outcome: number}`. `evaluate` is that function; `model_function` fixes the
scenario and any settings and returns a picklable callable, so the framework's own
multiprocessing or cluster evaluators can call it:

    >>> from sim.experiments import model_function
    >>> f = model_function("hotline", days=30, scale=0.02)            # doctest: +SKIP
    >>> f(demand__rate_per_10k_per_day=6.0, seed=3)["resolution_rate"]  # doctest: +SKIP

Parameter names are dotted scenario paths; because a Python keyword cannot contain a dot, `__`
stands for `.` (`whistle__report_window_minutes=60`). Dotted names work too through a dict:
`f(**{"whistle.report_window_minutes": 60})`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sim.errors import InputError, among
from sim.scenario.schema import Scenario


def _dotted(name: str) -> str:
    return name.replace("__", ".")


def evaluate(scenario: Scenario | str | Path | dict[str, Any] = "hotline", /, *,
             outcomes: list[str] | tuple[str, ...] | None = None,
             **parameters: Any) -> dict[str, float]:
    """Run `scenario` with `parameters` (dotted paths, or `__` for `.`; `seed`, `days`, `scale`
    included) and return its measures as plain numbers: every numeric summary column, or only
    `outcomes`. The same inputs always give the same outputs."""
    from sim import api
    from sim.experiments.execute import INPUT_COLUMNS, outcomes_of

    overrides = {_dotted(k): v for k, v in parameters.items()}
    result = api.run(scenario, overrides=overrides, problems=False)  # the summary's measures
    values = outcomes_of(result, None)
    numeric = {k: float(v) for k, v in values.items()
               if isinstance(v, int | float) and not isinstance(v, bool)
               and k not in INPUT_COLUMNS}
    if outcomes is None:
        return numeric
    unknown = [o for o in outcomes if o not in numeric]
    if unknown:
        raise InputError(None, "outcomes", "names of numeric measures, "
                         + among(sorted(numeric), unknown), unknown)
    return {o: numeric[o] for o in outcomes}


def model_function(scenario: Scenario | str | Path | dict[str, Any] = "hotline", /, *,
                   outcomes: list[str] | tuple[str, ...] | None = None,
                   **fixed: Any) -> functools.partial[dict[str, float]]:
    """`evaluate` with the scenario, outcomes and some parameters fixed (a picklable partial).

    Later keyword arguments override `fixed` ones, so a framework can vary any of them.
    """
    if isinstance(scenario, str | Path):
        from sim.scenario.loader import load_scenario

        load_scenario(scenario)  # a typo fails here, not in every experiment
    return functools.partial(evaluate, scenario, outcomes=outcomes, **fixed)
