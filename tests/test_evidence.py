"""The evidence tables: a reform's effect taken apart into its mechanisms (Shapley values over
every subset, on common seeds), whose parts add up to the whole."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.evidence.decompose import Step, decompose, ladder, shapley, sweep_spec, tables
from sim.reforms import REFORMS
from tests.conftest import SMALL_CITY


def test_shapley_values_add_up_and_treat_players_fairly():
    """Efficiency (they sum to the whole), symmetry, a null player gets 0, and with no
    interaction each player gets its own effect."""
    rng = np.random.default_rng(1)
    for k in (1, 2, 3, 5):
        values = rng.normal(size=1 << k)
        assert shapley(values).sum() == pytest.approx(values[-1] - values[0])
    additive = np.array([sum(w for j, w in enumerate([1.0, 2.0, 4.0]) if m >> j & 1)
                         for m in range(8)])
    assert shapley(additive) == pytest.approx([1.0, 2.0, 4.0])
    # player 2 needs player 0 (ranking needs the hotline's callbacks): they share the joint gain
    needs = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 3.0, 0.0, 3.0])  # bits: 0, 1 (null), 2
    assert shapley(needs) == pytest.approx([2.0, 0.0, 1.0])


def _fake_runs(step: Step, seeds: int, value) -> pd.DataFrame:
    rows = []
    for r in range(seeds):
        for mask in range(1 << len(step.mechanisms)):
            rows.append({"scenario": step.label(mask), "replication": r, "status": "ok",
                         "resolved_within_7d_share": value(mask, r)})
    return pd.DataFrame(rows)


def test_tables_give_totals_shares_alone_and_last_with_t_intervals():
    step = ladder(["proactive"])[0]
    runs = _fake_runs(step, 4, lambda m, r: 0.5 + 0.01 * (m & 1) + 0.02 * (m >> 1 & 1)
                      + 0.03 * (m >> 2 & 1) + 0.001 * r * (m & 1))
    effects, mechanisms = tables(runs, [step], ["resolved_within_7d_share"])
    e = effects.iloc[0]
    assert e["step"] == "proactive - hotline" and e["seeds"] == 4
    totals = np.array([0.06 + 0.001 * r for r in range(4)])
    assert e["total"] == pytest.approx(totals.mean())
    half = 3.182446305284263 * totals.std(ddof=1) / 2  # t(0.975, 3 df) x sd / sqrt(4)
    assert (e["total_low"], e["total_high"]) == pytest.approx((totals.mean() - half,
                                                               totals.mean() + half))
    assert e["shapley_sum"] == pytest.approx(e["total"])
    m = mechanisms.set_index("mechanism")
    assert list(m.index) == [x.name for x in REFORMS["proactive"].mechanisms]
    assert m.loc["inspection", "shapley"] == pytest.approx(0.02)
    assert m.loc["themes", "alone"] == pytest.approx(0.01 + 0.0015)
    assert m.loc["street_governance", "last"] == pytest.approx(0.03)
    assert m["share_of_total"].sum() == pytest.approx(1.0)


def test_the_sweep_runs_every_subset_once_and_the_presets_at_the_ends():
    steps = ladder()
    spec = sweep_spec(steps, seeds=2, days=30)
    labels = [s["label"] for s in spec["scenarios"]]
    assert len(labels) == len(set(labels)) == sum(1 << len(s.mechanisms) for s in steps) - 2
    ends = {s["label"]: s for s in spec["scenarios"] if "set" not in s}
    assert set(ends) == {"fragmented", "whistle", "hotline", "proactive"}
    undo = next(s for s in spec["scenarios"]
                if s["label"] == "hotline-without-induced_reporting-ranking")
    assert undo["file"] == "hotline"
    assert undo["set"]["hotline.induced_reporting"] == 1.0  # its `off`
    assert undo["set"]["ranking.enabled"] is False  # the earlier preset's value
    assert "hotline.enabled" not in undo["set"]
    with pytest.raises(sim.InputError):
        ladder(["devolved_powers"])  # not a step of the presets' ladder


def test_decomposition_of_a_step_adds_up_to_the_presets_difference(tmp_path):
    """End to end on a small city: the step's total effect is the later preset minus the
    earlier one, run as they are with the same seeds, and the mechanisms' Shapley values sum
    to it seed by seed; resumed, nothing runs again."""
    small = {"city": SMALL_CITY, "timeline": []}
    d = decompose(["proactive"], seeds=2, days=40, out=tmp_path, serial=True, progress=False,
                  overrides=small)
    assert (tmp_path / "effects.csv").is_file() and (tmp_path / "mechanisms.csv").is_file()
    e = d.effects.set_index("measure")
    seeds = sorted(set(d.runs["seed"]))
    direct = {name: [sim.run(name, seed=s, days=40, overrides=small).measures
                     ["resolved_within_7d_share"] for s in seeds]
              for name in ("hotline", "proactive")}
    assert e.loc["resolved_within_7d_share", "total"] == pytest.approx(
        np.mean(direct["proactive"]) - np.mean(direct["hotline"]))
    assert e["shapley_sum"].to_numpy() == pytest.approx(e["total"].to_numpy(), nan_ok=True)
    assert e.loc["prevented_share", "after"] > 0 == e.loc["prevented_share", "before"]
    assert e.loc["case_staff", "total"] == 0  # 未诉先办 moves no staff
    again = decompose(["proactive"], seeds=2, days=40, out=tmp_path, serial=True,
                      progress=False, overrides=small)
    pd.testing.assert_frame_equal(again.effects, d.effects)
    assert not math.isnan(d.mechanisms["shapley"].iloc[0])
    assert len(list(itertools.chain(tmp_path.glob("runs/runs/*")))) == 2 * 8


# ---------------------------------------------------------------- counterfactual histories
def test_a_counterfactual_timeline_takes_a_reform_out_or_moves_it():
    """Removing a reform takes its mechanisms out of every change that brings them (a change
    left with only part of a reform names those parts); moving brings it in at the new date."""
    import datetime as dt

    from sim.evidence.counterfactual import Variant, timeline

    history = [{"date": "2019-01-01", "reforms": ["hotline"], "set": {"x": 1}},
               {"date": "2021-01-01", "reforms": ["proactive.themes", "proactive.inspection"]},
               {"date": "2021-09-24", "reforms": ["proactive.street_governance"]}]
    without = timeline(history, Variant("without hotline", removed=("hotline",)))
    assert without[0] == {"date": "2019-01-01", "reforms": [], "set": {"x": 1}}
    assert without[1:] == history[1:]
    only_themes = timeline(history, Variant("w", removed=("proactive.inspection",)))
    assert only_themes[1]["reforms"] == ["proactive.themes"]
    gone = timeline(history, Variant("w", removed=("proactive",)))
    assert [c["date"] for c in gone] == ["2019-01-01"]  # the others had nothing else
    moved = timeline(history, Variant("m", moved=(("hotline", dt.date(2020, 1, 1)),)))
    assert moved[0]["reforms"] == [] and moved[-1]["date"] == "2020-01-01"
    assert moved[-1]["reforms"] == ["hotline"]


def test_yearly_shares_from_counts_are_the_kaplan_meier_shares():
    """A history run keeps no problem table: `yearly` counts a year's problems resolved within
    a week of occurring. For a year whose problems are all followed a week, that is exactly
    the Kaplan-Meier share of the year's problems (censored only at the run's end)."""
    from sim.evidence.counterfactual import yearly
    from sim.resolution import curves_by

    result = sim.run("whistle", seed=3, days=60, overrides={
        "city": SMALL_CITY, "timeline": [], "warmup_days": 0, "as_of.date": "2019-12-01"})
    out = yearly(result)
    p = result.problems
    year = (pd.Timestamp("2019-12-01")
            + pd.to_timedelta(p["occurred_h"].to_numpy(float), unit="h")).year
    curves = curves_by(p, np.asarray(year), 24.0 * 60)
    assert out["resolved_within_7d_share_2019"] == pytest.approx(
        curves[2019].share_within(24.0 * 7), abs=1e-12)
    assert out["resolved_share_2019"] == pytest.approx(curves[2019].ever, abs=1e-12)
    assert 0 < out["resolved_within_7d_share_2020"] < 1  # 2020: those followed a week
    assert out["occurred_2019"] + out["occurred_2020"] == pytest.approx(
        result.measures["occurred"])


def test_a_history_without_a_reform_differs_only_from_its_date(tmp_path):
    """End to end on a small city: the history without 接诉即办 (from 2019) has the same
    2018 as the history (common seeds: the same problems), and in 2019 the 12345 contacts
    the merged line brings are gone."""
    from sim.evidence.counterfactual import counterfactual

    c = counterfactual(["hotline"], seeds=2, out=tmp_path, serial=True, progress=False,
                       overrides={"city": SMALL_CITY, "days": 540})
    t = c.table.set_index(["measure", "year"])
    assert set(c.table["variant"]) == {"without hotline"}
    assert t.loc[("occurred", 2018), "difference"] == 0
    assert t.loc[("requests", 2018), "difference"] == 0
    assert t.loc[("hotline_contacts", 2019), "difference"] < 0
    assert (tmp_path / "counterfactual.csv").is_file()


def test_an_evidence_table_is_not_made_from_part_of_its_runs():
    """A sweep with runs lost or failed gives no table but one clear error (the same command
    resumes), not a table of part of the runs or a traceback from a missing column."""
    from types import SimpleNamespace

    from sim.evidence.decompose import IncompleteEvidence, require_complete

    done = SimpleNamespace(counts={"ok": 4, "failed": 0, "pending": 0}, lost=[])
    require_complete(done, "govsim decompose")
    lost = SimpleNamespace(counts={"ok": 0, "failed": 0, "pending": 912},
                           lost=["e58128: BrokenProcessPool"])
    with pytest.raises(IncompleteEvidence, match="912 run.*BrokenProcessPool.*resumes"):
        require_complete(lost, "govsim robustness")
    failed = SimpleNamespace(counts={"ok": 3, "failed": 1, "pending": 0}, lost=[],
                             failures=pd.DataFrame({"error": ["ValueError: x"]}))
    with pytest.raises(IncompleteEvidence, match="1 failed.*ValueError"):
        require_complete(failed, "govsim counterfactual")
