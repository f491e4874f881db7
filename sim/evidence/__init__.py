"""Evidence a referee can check: each reform's effect taken apart into its mechanisms
(`decompose`), what each reform did for Beijing's history (`counterfactual`), and which assumed
values a conclusion rests on (`robustness`). Each writes tables that the docs quote.

The names below are imported on first use, so `govsim --help` loads none of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy

if TYPE_CHECKING:
    from sim.evidence.counterfactual import Counterfactuals, counterfactual
    from sim.evidence.decompose import Decomposition, decompose
    from sim.evidence.robustness import Robustness, robustness

__all__ = ["Counterfactuals", "Decomposition", "Robustness", "counterfactual", "decompose",
           "robustness"]
__getattr__, __dir__ = lazy(__name__, {
    "decompose": "sim.evidence.decompose", "Decomposition": "sim.evidence.decompose",
    "counterfactual": "sim.evidence.counterfactual",
    "Counterfactuals": "sim.evidence.counterfactual",
    "robustness": "sim.evidence.robustness", "Robustness": "sim.evidence.robustness"})
