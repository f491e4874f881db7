"""Experiments at scale: sweeps of parameters and regimes, replications, sensitivity indices.

    govsim sweep example          # run (or resume) a sweep spec
    govsim sweep --summary results/sweeps/example       # its summary, differences, indices

From Python: `run_sweep(spec, out)` runs or resumes a sweep, `load_sweep(folder)` reads one back,
and `evaluate` / `model_function` make one run a plain function of named parameters for external
experiment frameworks. The modules follow the flow of a sweep, and each imports only those
before it: `spec` (the YAML spec) -> `design` (design points and seeds) -> `plan` (every run,
validated; outcome names from `sim.results.OUTCOME_COLUMNS`, nothing simulated) -> `execute`
(serial, local pool, Dask) -> `store` (checksummed records, resumption) -> `analysis` (summary
tables and indices). `sweep` ties them together; `function` and `cli` sit on top.
"""

from typing import TYPE_CHECKING

from sim._lazy import lazy

if TYPE_CHECKING:
    from sim.experiments.function import evaluate, model_function
    from sim.experiments.spec import load_spec
    from sim.experiments.sweep import IncompleteSweepWarning, SweepResult, load_sweep, run_sweep

__all__ = ["IncompleteSweepWarning", "SweepResult", "evaluate", "load_spec", "load_sweep",
           "model_function", "run_sweep"]
__getattr__, __dir__ = lazy(__name__, {
    "evaluate": "sim.experiments.function", "model_function": "sim.experiments.function",
    "load_spec": "sim.experiments.spec",
    **dict.fromkeys(("IncompleteSweepWarning", "SweepResult", "load_sweep", "run_sweep"),
                    "sim.experiments.sweep")})
