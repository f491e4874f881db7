"""govsim: an agent-based simulator of Beijing's grassroots-governance reforms.

    >>> import sim
    >>> result = sim.run("hotline", seed=1, days=30, scale=0.02)   # doctest: +SKIP
    >>> result.summary                                              # doctest: +SKIP
"""

from sim.api import run
from sim.errors import InputError
from sim.model import GovernanceModel
from sim.results import Result
from sim.scenario.loader import PRESETS, load_scenario
from sim.scenario.schema import Scenario

__all__ = ["PRESETS", "GovernanceModel", "InputError", "Result", "Scenario", "load_scenario",
           "run"]
