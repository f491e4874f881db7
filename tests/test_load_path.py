"""One load path: a command reads, validates and builds its scenario and city once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import sim
from sim import cli
from sim.city import shared
from sim.scenario import loader


@pytest.fixture
def counted(monkeypatch):
    """Counts of city builds and of timeline changes applied, from a cold process cache."""
    counts = {"city": 0, "change": 0}
    build, apply = shared.build, loader.apply_change

    def counting_build(config):
        counts["city"] += 1
        return build(config)

    def counting_apply(scenario, change):
        counts["change"] += 1
        return apply(scenario, change)

    monkeypatch.setattr(shared, "build", counting_build)
    monkeypatch.setattr(loader, "apply_change", counting_apply)
    monkeypatch.setattr(shared, "_CITIES", shared.OrderedDict())
    loader._later_states.cache_clear()
    return counts


def test_govsim_run_builds_the_city_once(counted, tmp_path: Path):
    assert cli.main(["run", "hotline", "--days", "3", "--scale", "0.01", "--set",
                     "warmup_days=0", "--out", str(tmp_path / "r")]) == 0
    assert counted["city"] == 1


def test_govsim_compare_builds_the_city_once_for_all_runs(counted, tmp_path: Path):
    assert cli.main(["compare", "fragmented", "hotline", "--days", "3", "--scale", "0.01",
                     "--set", "warmup_days=0", "--seeds", "2", "--workers", "1",
                     "--out", str(tmp_path / "c")]) == 0
    assert counted["city"] == 1


def test_the_history_applies_each_timeline_change_once(counted):
    spec = sim.load_scenario("beijing-2018-2024")
    sim.run(spec, days=3, scale=0.005)
    assert counted["change"] == len(spec.timeline)


def test_the_cli_and_the_api_compare_give_the_same_numbers(tmp_path: Path):
    """`govsim compare` is `sim.compare` with its runs saved: the same table."""
    assert cli.main(["compare", "fragmented", "whistle", "--days", "4", "--scale", "0.01",
                     "--set", "warmup_days=0", "--seeds", "2", "--out", str(tmp_path / "c")]) == 0
    saved = pd.read_csv(tmp_path / "c" / "comparison.csv", index_col="measure")
    c = sim.compare(["fragmented", "whistle"], days=4, scale=0.01, seeds=2,
                    overrides={"warmup_days": 0})
    for name in ("fragmented", "whistle"):
        for measure in ("occurred", "resolved", "reported_resolved_within_1d_share"):
            assert float(saved.loc[measure, name]) == pytest.approx(
                float(c.means.loc[measure, name]), rel=1e-9)
            assert float(saved.loc[measure, name]) > 0
    assert len(c.runs["whistle"]) == 2


def test_a_shared_city_is_read_only():
    city = shared.cached_city(sim.load_scenario("hotline").city)
    with pytest.raises(ValueError):
        city.street_population[0] = 1


def test_the_tables_read_the_run_through_its_record():
    """sim.results reads a finished run through `RunRecord` only (`model.record()`), never the
    model object's attributes."""
    import ast

    from sim.record import RunRecord

    tree = ast.parse((Path(__file__).resolve().parents[1] / "sim" / "results.py").read_text(
        encoding="utf-8"))
    on_model = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name) and node.value.id == "model"}
    assert on_model == {"record"}
    on_run = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
              and isinstance(node.value, ast.Name) and node.value.id == "run"}
    fields = set(RunRecord.__dataclass_fields__) | {"occurred"}
    assert on_run <= fields, on_run - fields
