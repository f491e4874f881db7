"""The pre-registered hold-out: frozen, never fitted, and without effect on the fit's loss."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.calibration import fit as fitting
from sim.calibration import holdout, targets
from sim.calibration.fit import _Problem, load_spec
from sim.errors import InputError
from sim.scenario.loader import load_scenario

#: The hold-out as registered on 2026-12-08. A change to the file changes this hash: the hold-out
#: is re-registered only before a new fit, never to move a figure that failed into the fit.
REGISTERED = "6f99b5021ee567a99b4806a43f6da709eb88535d7b0f1daad25ef0c7b9132935"
SPEC = Path(__file__).resolve().parents[1] / "scenarios" / "calibration" / "beijing.yaml"


def test_the_hold_out_file_is_the_registered_one():
    data = resources.files("sim.data").joinpath(holdout.FILE).read_bytes()
    assert hashlib.sha256(data).hexdigest() == REGISTERED
    figures = holdout.held_out()
    assert len(figures) == 18 and sum(h.independent for h in figures) == 8
    assert all(h.why for h in figures)


def test_the_shipped_spec_keeps_the_hold_out_out_of_the_fit():
    spec, _ = load_spec(SPEC)
    assert spec.holdout
    fitted = {(c.measure, c.period, c.area) for c in spec.targets if c.fit}
    assert not fitted & {h.key for h in holdout.held_out()}


def _spec_with(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    data["scenario"] = str((SPEC.parent / data["scenario"]).resolve())
    change(data)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_spec_that_fits_a_held_out_figure_is_refused(tmp_path: Path):
    def fit_2025(data):
        for t in data["targets"]:
            if t["measure"] == "hotline_contacts" and str(t["period"]) == "2025":
                t["fit"] = True

    with pytest.raises(InputError) as err:
        load_spec(_spec_with(tmp_path, fit_2025))
    assert err.value.field.endswith(".fit") and "hold-out" in err.value.expected

    def drop_2018(data):
        data["targets"] = [t for t in data["targets"] if not (
            t["measure"] == "hotline_contacts" and str(t["period"]) == "2018")]

    with pytest.raises(InputError) as err:
        load_spec(_spec_with(tmp_path, drop_2018))
    assert err.value.field == "targets" and "hotline_contacts 2018" in str(err.value.got)


def test_changing_a_held_out_figure_leaves_the_loss_unchanged(monkeypatch):
    """The fit's loss is made of the fitted targets only: a held-out figure published
    differently (here each ten times larger) gives the same residuals for the same runs."""
    spec, scenario_path = load_spec(SPEC)
    base = load_scenario(scenario_path)
    problem = _Problem(spec, base)
    rng = np.random.default_rng(0)
    simulated = pd.Series([t.value * (1 + 0.05 * rng.standard_normal())
                           for t in problem.targets])
    before = problem.residuals(simulated)

    held = {h.key for h in holdout.held_out()}
    published = targets.published_targets()
    changed = [targets.Target(t.measure, t.period, t.value * 10, t.kind, t.source, t.note,
                              t.area) if (t.measure, t.period, t.area) in held else t
               for t in published]
    monkeypatch.setattr(fitting, "published_targets", lambda: changed)
    again = _Problem(spec, base)
    assert [t.key for t in again.targets] == [t.key for t in problem.targets]
    np.testing.assert_array_equal(again.residuals(simulated), before)
    assert float(np.sum(before ** 2)) > 0
