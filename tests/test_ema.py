"""govsim driven by EMA Workbench's own `perform_experiments` (the optional `ema` extra, in dev),
with uncertainties and levers on scenario fields, and PRIM scenario discovery on the result."""

from __future__ import annotations

import numpy as np
import pytest

ema = pytest.importorskip("ema_workbench")

from sim.experiments import evaluate, model_function

FIXED = {"seed": 0, "days": 10, "scale": 0.02}
# half_resolved_h is NaN ("not reached") whenever under half are resolved in the run; a share
# within 7 days is always defined in a 10-day run
OUTCOMES = ["resolved_share", "resolved_within_7d_share", "department_utilisation"]


@pytest.fixture(scope="module")
def experiments():
    model = ema.Model("govsim", function=model_function("hotline", outcomes=OUTCOMES, **FIXED))
    # the calibrated city's base rate; by 2019 its growth had raised demand about 1.6-fold
    model.uncertainties = [ema.RealParameter("demand__rate_per_10k_per_day", 1.0, 4.0),
                           ema.RealParameter("staffing__dept_staff_per_10k", 2.5, 5.0)]
    model.levers = [ema.BooleanParameter("ranking__enabled"),
                    ema.RealParameter("staffing__street_staff_per_10k", 0.8, 2.0)]
    model.outcomes = [ema.ScalarOutcome(name) for name in OUTCOMES]
    with ema.SequentialEvaluator(model) as evaluator:
        return evaluator.perform_experiments(scenarios=4, policies=2)


def test_perform_experiments_runs_govsim(experiments) -> None:
    x, y = experiments
    assert len(x) == 8 and set(y) == set(OUTCOMES)
    assert {"demand__rate_per_10k_per_day", "staffing__dept_staff_per_10k", "ranking__enabled",
            "staffing__street_staff_per_10k", "scenario", "policy"} <= set(x.columns)
    for name in OUTCOMES:
        assert y[name].shape == (8,) and np.isfinite(y[name]).all()
    assert 0 < y["resolved_share"].min() <= y["resolved_share"].max() < 1
    # each experiment is the run evaluate() makes with the same inputs (reproducible)
    row = x.iloc[5]
    again = evaluate("hotline", outcomes=OUTCOMES, **FIXED,
                     **{k: row[k].item() if hasattr(row[k], "item") else row[k]
                        for k in ("demand__rate_per_10k_per_day", "staffing__dept_staff_per_10k",
                                  "ranking__enabled", "staffing__street_staff_per_10k")})
    assert again == {name: pytest.approx(y[name][5]) for name in OUTCOMES}
    # the inputs reach the model: more demand per department staff, busier departments
    load = x["demand__rate_per_10k_per_day"] / x["staffing__dept_staff_per_10k"]
    assert np.corrcoef(load, y["department_utilisation"])[0, 1] > 0.5


def test_prim_finds_a_box(experiments) -> None:
    from ema_workbench.analysis import prim

    x, y = experiments
    inputs = x[["demand__rate_per_10k_per_day", "staffing__dept_staff_per_10k"]]
    bad = y["resolved_share"] < np.median(y["resolved_share"])
    box = prim.Prim(inputs, bad, mass_min=0.1).find_box()
    assert box is not None and len(box.peeling_trajectory) >= 1
    assert set(box.box_lim.columns) <= set(inputs.columns)
