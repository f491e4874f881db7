"""Streamed results: a run that reads each final case into its ledger and lets its row go gives,
table by table, the numbers of a run that keeps every case to the end (the reference build of
`sim.results.collect`), to the last digit.

The runs here are small but go through everything streaming does: a warm-up cut, a timeline
change (the tables read the scenario as it stands at the end), rows given back and reused
(`compact`), the problem file in many blocks written out of order, saving and loading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim import problem_file
from sim.calibration.targets import Target, published_targets, simulated_all
from sim.ledger import Streamed
from sim.model import GovernanceModel
from sim.results import Result, collect, district_table, monthly
from sim.scenario.loader import deep_merge, load_scenario, validate
from tests.conftest import SMALL_CITY

TABLES = ("summary", "daily", "units_daily", "rankings", "problems")


def _scenario(preset: str = "hotline", days: int = 45, seed: int = 2):
    data = deep_merge(load_scenario(preset).model_dump(), {
        "city": SMALL_CITY, "days": days, "seed": seed, "start_date": "2020-01-01",
        "warmup_days": 10,
        "timeline": [{"date": "2020-01-20", "set": {"hotline.response_limit_hours": 6.0,
                                                    "hotline.consultations_per_request": 0.5}}]})
    return validate(data)


def _model(spec, stream: Streamed | None) -> GovernanceModel:
    model = GovernanceModel(spec, stream=stream)
    while model.day < model.total_days:
        model.step()
    model.finish()
    return model


@pytest.fixture(scope="module")
def pair():
    """The same run streamed (small blocks: the file in many, written out of order) and
    kept whole."""
    spec = _scenario()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(problem_file, "BLOCK", 256)
        patch.setattr(problem_file, "FLUSH_ROWS", 200)
        patch.setattr(problem_file, "HELD_ROWS", 1000)
        model = _model(spec, Streamed())
        streamed = collect(model)
    blocks = model.ledger.writer.blocks
    assert len(set(blocks)) > 10 and blocks != sorted(blocks)  # many blocks, out of order
    return streamed, collect(_model(spec, None)), model


def test_every_table_is_the_reference_ones(pair) -> None:
    streamed, reference, _ = pair
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(streamed, name), getattr(reference, name),
                                      check_exact=True, obj=name)
    assert streamed.meta == reference.meta
    pd.testing.assert_frame_equal(streamed.monthly(), monthly(reference.problems,
                                                              reference.scenario),
                                  check_exact=True)
    districts = reference.problems["district"]
    for name in districts.cat.categories:
        rows = (districts == name).to_numpy()
        pd.testing.assert_frame_equal(
            streamed.aggregates.monthly(streamed.scenario, streamed.aggregates.district(name)),
            monthly(reference.problems, reference.scenario, rows), check_exact=True)
    pd.testing.assert_frame_equal(streamed.by_district(), district_table(
        reference.problems, reference.weight, reference.meta["district_population"],
        reference.meta["district_simulated_share"]), check_exact=True)
    targets = _targets(str(districts.cat.categories[0]))
    values = np.array(simulated_all(streamed, targets))
    assert np.isfinite(values).sum() >= 12
    np.testing.assert_array_equal(values, simulated_all(reference, targets))


def _targets(district: str) -> list[Target]:
    """A target of every rule a short run covers, for the city and one district."""
    rules = ("resolution_rate", "satisfaction_rate", "response_rate", "hotline_contacts",
             "hotline_requests", "peak_day_contacts", "core_district_share")
    return [Target(rule, "2020-01", 1.0, "", "", area=area) for rule in rules
            for area in ("", district)]


def test_rows_of_final_cases_are_let_go_and_reused(pair) -> None:
    _, _, model = pair
    cases = model.cases
    assert len(cases.outcome) < model.next_pid // 2  # rows reused: the cases in flight held
    assert (cases.pid[:int(cases.counters[0])] < 0).all()  # every one read and let go
    assert model.ledger.tally.problems == model.next_pid


def test_saved_and_loaded_as_the_reference(pair, tmp_path) -> None:
    streamed, reference, _ = pair
    streamed.save(tmp_path / "a", csv=True)
    reference.save(tmp_path / "b", csv=True)
    for name in TABLES:
        assert (tmp_path / "a" / f"{name}.csv").read_bytes() == \
            (tmp_path / "b" / f"{name}.csv").read_bytes(), name
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "b" / f"{name}.parquet"))
    loaded = Result.load(tmp_path / "a")
    assert loaded.aggregates is None  # a saved run's rules count its problem table
    pd.testing.assert_frame_equal(loaded.problems, reference.problems)
    pd.testing.assert_frame_equal(loaded.monthly(), streamed.monthly())
    targets = _targets(str(reference.problems["district"].iloc[0]))
    np.testing.assert_array_equal(simulated_all(loaded, targets),
                                  simulated_all(streamed, targets))


def test_a_lean_run_counts_what_the_rules_read() -> None:
    """A fit's evaluation keeps no problem table and no exact times, only counts: the rules
    read the same values; asking for the problem table says what to do."""
    spec = _scenario(days=40, seed=5)
    full = sim.run(spec)
    lean = sim.run(spec, columns=())
    assert lean.summary.empty and not lean.kept_problems and lean.rows("problems") == 0
    targets = [*published_targets(), *_targets(str(full.problems["district"].iloc[0]))]
    np.testing.assert_array_equal(simulated_all(lean, targets), simulated_all(full, targets))
    with pytest.raises(ValueError, match="problems=True"):
        lean.problems  # noqa: B018
    without = sim.run(spec, problems=False)
    pd.testing.assert_frame_equal(without.summary, full.summary, check_exact=True)
    pd.testing.assert_frame_equal(without.daily, full.daily, check_exact=True)
