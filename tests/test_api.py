"""The Python API as a researcher uses it: `sim.compare`, variant names, units, reprs, daily."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.results import DAILY_COLUMNS, OUTCOME_COLUMNS, SUMMARY_COLUMNS, TEXT_COLUMNS, measure_unit

SMALL = {"days": 10, "scale": 0.02}


@pytest.fixture(scope="module")
def comparison() -> sim.Comparison:
    return sim.compare(["fragmented", "hotline", ("hotline", {"ranking.enabled": False}),
                        "hotline"], **SMALL)


def test_variants_are_named_after_their_overrides() -> None:
    r = sim.run("hotline", seed=1, **SMALL, overrides={"ranking.enabled": False})
    assert r.name == r.scenario.name == r.summary["scenario"].iloc[0] \
        == "hotline[ranking.enabled=False]"
    assert sim.run("hotline", **SMALL, overrides={"seed": 2}).name == "hotline"  # a replication
    assert sim.run("hotline", **SMALL, overrides={"ranking.enabled": False},
                   name="no ranking").name == "no ranking"


def test_compare_is_tidy_named_and_paired(comparison: sim.Comparison) -> None:
    c = comparison
    assert c.names == ["fragmented", "hotline", "hotline[ranking.enabled=False]", "hotline-2"]
    t = c.table
    assert list(t.columns) == ["scenario", "regime", "measure", "unit", "value"]
    assert len(t) == 4 * len(OUTCOME_COLUMNS) and (t["unit"] != "").all()
    wide = c.wide
    assert wide.index.names == ["measure", "unit"] and list(wide.columns) == c.names
    assert wide.loc[("half_resolved_h", "hours")].notna().any()
    # one seed for all: the same scenario twice gives the same numbers, and run() agrees
    pd.testing.assert_series_equal(wide["hotline"], wide["hotline-2"], check_names=False)
    alone = sim.run("hotline", seed=c.seed, **SMALL).measures
    assert wide.loc[("resolved_share", "fraction"), "hotline"] == alone["resolved_share"]
    assert list(c.summary.index) == c.names and c["hotline"].name == "hotline"
    v = c.versus("fragmented")
    assert set(v["scenario"]) == set(c.names[1:])
    row = v[(v["scenario"] == "hotline") & (v["measure"] == "resolved_share")].iloc[0]
    assert row["difference"] == pytest.approx(row["value"] - row["baseline_value"])


def test_compare_refuses_bad_input() -> None:
    with pytest.raises(sim.InputError):
        sim.compare([], **SMALL)
    with pytest.raises(sim.InputError):
        sim.compare([("hotline", "ranking.enabled=False")], **SMALL)
    with pytest.raises(sim.InputError):
        sim.compare(["hotline"], **SMALL, overrides={"no_such.field": 1})


def test_every_measure_names_its_unit() -> None:
    missing = [c for c in SUMMARY_COLUMNS
               if not measure_unit(c) and c not in ("scenario", "regime", "seed", *TEXT_COLUMNS)]
    assert missing == []
    timed = [c for c in OUTCOME_COLUMNS if measure_unit(c) == "hours"]
    assert timed and all(c.endswith(("_h", "_hours")) or "_h_" in c for c in timed)


def test_short_repr_and_html(comparison: sim.Comparison) -> None:
    r = comparison["hotline"]
    text = repr(r)
    assert "\n" not in text and len(text) < 250 and text.startswith("<Result hotline")
    html = r._repr_html_()
    assert "<table" in html and "half_resolved_h" in html and "hours" in html.lower()
    assert "\n" not in repr(comparison) and "4 runs" in repr(comparison)
    assert "hotline[ranking.enabled=False]" in comparison._repr_html_()


def test_daily_is_richer_and_adds_up(comparison: sim.Comparison) -> None:
    r = comparison["hotline"]
    d = r.daily
    assert list(d.columns) == list(DAILY_COLUMNS)
    assert {"day", "occurred", "entered", "prevented", "mean_trust"} <= set(d.columns)
    assert len(d) == r.scenario.days and list(d["day"]) == list(range(r.scenario.days))
    assert pd.api.types.is_datetime64_any_dtype(d["date"])
    assert d["date"].iloc[0] == pd.Timestamp(r.scenario.start_date)
    m = r.measures
    assert d["resolved"].sum() * r.weight == pytest.approx(m["resolved"])
    assert d["closed_unresolved"].sum() * r.weight == pytest.approx(m["closed_unresolved"])
    assert d["cumulative_resolved_share"].iloc[-1] == pytest.approx(m["resolved_share"])
    assert (d["closed"] == d["resolved"] + d["closed_unresolved"]).all()
    assert ((d["resolution_rate"].dropna() >= 0) & (d["resolution_rate"].dropna() <= 1)).all()
    assert np.isfinite(d["backlog"]).all()


def test_comparison_saves_like_govsim_compare(comparison: sim.Comparison, tmp_path) -> None:
    out = comparison.save(tmp_path / "c")
    raw = pd.read_csv(out / "comparison.csv", index_col="measure")
    assert list(raw.columns) == comparison.names
    assert (out / "hotline-2" / "summary.parquet").exists()
    assert len(pd.read_csv(out / "comparison_tidy.csv")) == len(comparison.table)
