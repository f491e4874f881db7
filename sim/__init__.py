"""govsim: an agent-based simulator of Beijing's grassroots-governance reforms.

    >>> import sim
    >>> result = sim.run("hotline", seed=1, days=30, scale=0.02)   # doctest: +SKIP
    >>> result.summary                                              # doctest: +SKIP
    >>> sim.compare(["fragmented", "hotline"], days=30, scale=0.02).table  # doctest: +SKIP

The names below are imported on first use (PEP 562), so `import sim.cli` and `govsim --help`
do not load the engine, numba and Mesa.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy
from sim.errors import InputError
from sim.presets import PRESETS

if TYPE_CHECKING:
    from sim.api import compare, run
    from sim.comparison import Comparison
    from sim.mechanisms import Mechanism
    from sim.model import GovernanceModel
    from sim.plugins import DailyMechanism, Day
    from sim.results import Result
    from sim.scenario.loader import load_scenario
    from sim.scenario.schema import Scenario

__all__ = ["PRESETS", "Comparison", "DailyMechanism", "Day", "GovernanceModel", "InputError",
           "Mechanism", "Result", "Scenario", "compare", "load_scenario", "run"]
__getattr__, __dir__ = lazy(__name__, {
    "run": "sim.api", "compare": "sim.api", "Comparison": "sim.comparison",
    "GovernanceModel": "sim.model", "Result": "sim.results", "Mechanism": "sim.mechanisms",
    "DailyMechanism": "sim.plugins", "Day": "sim.plugins",
    "load_scenario": "sim.scenario.loader", "Scenario": "sim.scenario.schema"})
