"""One calibrated city under every preset: reforms as data, snapshots of the history, staff moved.

A referee's first questions about a regime comparison: is it the city the calibration fitted, do
the regimes differ in their reform and nothing else, and does a reform move staff or create them?
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim.calibration.fit import load_spec
from sim.city import beijing_city
from sim.model import GovernanceModel
from sim.presets import PRESETS
from sim.reforms import PRESET_STEPS, REFORMS, known_names, mechanisms, settings
from sim.scenario.categories import load_categories
from sim.scenario.loader import apply_change, deep_merge, load_scenario, timeline_order, validate
from sim.scenario.schema import Change, Scenario
from sim.scenario.snapshot import take
from sim.staffing import case_staff
from tests.conftest import SMALL_CITY

IDENTITY = ("name", "regime", "description")


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and key != "set":
            out.update(_flat(value, path + "."))
        else:
            out[path] = value
    return out


@pytest.fixture(scope="module")
def presets() -> dict[str, Scenario]:
    return {name: load_scenario(name) for name in PRESETS}


@pytest.fixture(scope="module")
def history() -> Scenario:
    return load_scenario("beijing-2018-2024")


def test_each_preset_is_its_parent_plus_its_reforms_switches(presets):
    """The whistle preset is the fragmented one plus the whistle's switches (sim/reforms.py),
    and nothing else; and so on up the ladder."""
    assert [name for name, _ in PRESET_STEPS] == list(PRESETS)
    for (parent, _), (child, reform) in itertools.pairwise(PRESET_STEPS):
        before = _flat(presets[parent].model_dump(mode="json"))
        after = _flat(presets[child].model_dump(mode="json"))
        changed = {k for k in after if after[k] != before[k]} - set(IDENTITY)
        on = REFORMS[reform].on
        assert changed <= set(on), f"{child} changes more than its reform: {changed - set(on)}"
        assert all(after[k] == v for k, v in on.items()), f"{child} lacks a switch of {reform}"


def test_every_preset_is_the_calibrated_city_as_of_its_date(presets, history):
    """No value the history fits (or holds) differs in a preset: each preset is the history's
    state on its start date, but for its reform switches and the levels growth had reached by
    its first warm-up day (carried as levels, not as other rates)."""
    spec, _ = load_spec("beijing")
    reform_fields = {k for r in REFORMS.values() for k in r.on}
    for name, preset in presets.items():
        state = history
        for _, change in timeline_order(history):
            if change.date <= preset.start_date and change.set:
                state = apply_change(state, Change(date=change.date, set=change.set))
        for p in spec.parameters:
            if p.at is not None and p.at > preset.start_date:
                continue  # not yet in force on that date, in the history too
            keys = p.path.split(".")
            value_h: Any = state.model_dump()
            value_p: Any = preset.model_dump()
            for key in keys:
                value_h, value_p = value_h.get(key), value_p.get(key)
            assert value_p == value_h, f"{name}: {p.label} is {value_p}, the history's {value_h}"
        # and every other field of the city, but for the reform's switches and the run's frame
        frame = {"start_date", "warmup_days", "days", "timeline", "based_on",
                 "demand.growth_level", "staffing.staff_level", "staffing.productivity_level",
                 "demand.shocks", "themes.city_theme", *IDENTITY}
        h, q = _flat(state.model_dump(mode="json")), _flat(preset.model_dump(mode="json"))
        differ = {k for k in q if q[k] != h.get(k)} - frame - reform_fields
        assert not differ, f"{name} differs from the calibrated city in {sorted(differ)}"
        assert preset.based_on == f"{history.name} as of {preset.start_date}"


def test_snapshot_levels_are_those_the_history_reaches():
    """A snapshot's levels of demand, head count and productivity are the levels the history's
    own run has reached on that day, through a change of growth rate on the way."""
    base = deep_merge(load_scenario("fragmented").model_dump(mode="json"), {
        "city": SMALL_CITY, "start_date": "2019-01-01", "warmup_days": 30, "days": 200,
        "based_on": "", "timeline": [{"date": "2019-03-01", "set": {
            "demand.growth_per_year": 0.1, "staffing.growth_per_year": -0.05,
            "staffing.productivity_growth_per_year": 0.3}}]})
    base["demand"]["growth_per_year"] = 0.5
    base["staffing"]["growth_per_year"] = 0.2
    base["staffing"]["productivity_growth_per_year"] = 0.1
    hist = validate(base)
    model = GovernanceModel(hist)
    date, warmup = dt.date(2019, 6, 1), 20
    day = (date - dt.timedelta(days=warmup) - dt.date(2018, 12, 2)).days
    while model.day < day:
        model.step()
    snap = validate(take(hist, date, warmup))
    assert snap.demand.growth_level == pytest.approx(model.demand.growth_level(day), rel=1e-12)
    assert snap.staffing.staff_level == pytest.approx(model._staff_growth_level(day), rel=1e-12)
    assert snap.staffing.productivity_level == pytest.approx(model._productivity_level(day),
                                                             rel=1e-12)
    assert snap.demand.growth_per_year == 0.1  # the rate in force continues
    assert snap.start_date == date and snap.warmup_days == warmup and snap.timeline == []


def test_snapshot_moves_shocks_keeps_later_inputs_and_drops_reforms(history):
    snap = take(history, dt.date(2020, 1, 1), 0)
    assert snap["demand"]["shocks"] == []  # the epidemic waves are still to come
    during = take(history, dt.date(2020, 2, 1), 0)  # the 2020 wave under way goes on
    assert [(s["start_day"], s["days"]) for s in during["demand"]["shocks"]] == [(0, 334)]
    assert snap["whistle"]["enabled"] is False and snap["hotline"]["enabled"] is False
    assert snap["hotline"]["operators"] == 639  # the roster in force on that day
    assert snap["timeline"] == [] and snap["themes"]["city_theme"] is None
    # a change in the warm-up (the 2019 roster, dated on the snapshot's first measured day)
    # is in force from its first day
    assert take(history, dt.date(2019, 1, 1), 60)["hotline"]["calls_per_shift"] == 90
    for date, warmup in ((dt.date(2017, 1, 1), 0), (dt.date(2017, 8, 1), 60),
                         (dt.date(2026, 1, 1), 0)):
        with pytest.raises(ValueError, match=r"within the history \(2017-07-01 to 2025-12-31"):
            take(history, date, warmup)


def test_as_of_is_checked(tmp_path):
    def load(text: str):
        path = tmp_path / "s.yaml"
        path.write_text(text)
        return load_scenario(path)

    for text, field in (("as_of: 3\n", "as_of"),
                        ("as_of: {history: nowhere.yaml, date: 2019-01-01}\n", "as_of.history"),
                        ("as_of: {history: beijing-2018-2024, date: 1999-01-01}\n", "as_of.date"),
                        (("as_of: {history: beijing-2018-2024, date: 2019-01-01}\n"
                          "start_date: 2019-02-01\n"), "start_date")):
        with pytest.raises(sim.InputError) as err:
            load(text)
        assert err.value.field == field and str(tmp_path / "s.yaml") in str(err.value)
    mine = load("extends: hotline\nas_of: {history: beijing-2018-2024, date: 2023-07-01}\n"
                "ranking: {enabled: false}\n")  # another period, a partial reform
    assert mine.start_date == dt.date(2023, 7, 1) and mine.ranking.enabled is False
    assert mine.hotline.operators == 1337 and mine.hotline.enabled


def test_history_timeline_names_reforms_from_the_registry(history):
    """The history's dated changes bring reforms by name, each setting what sim/reforms.py says."""
    named = [name for c in history.timeline for name in c.reforms]
    assert {"whistle", "hotline", "devolved_powers", "proactive.themes", "proactive.inspection",
            "proactive.street_governance", "regulation_2021"} == set(named)
    state = apply_change(load_scenario("fragmented"),
                         Change(date=dt.date(2019, 1, 1), reforms=["whistle", "hotline.ranking"]))
    assert state.whistle.enabled and state.patrols.enabled and state.ranking.enabled
    assert not state.hotline.enabled
    assert settings(["proactive"]) == REFORMS["proactive"].on
    assert len(known_names()) == len(REFORMS) + sum(len(r.mechanisms) for r in REFORMS.values())
    assert [m.name for _, m in mechanisms("hotline.one_line")] == ["one_line"]
    with pytest.raises(sim.InputError) as err:
        validate({"timeline": [{"date": "2019-01-01", "reforms": ["whistle.bogus"]}]})
    assert err.value.field == "timeline[0].reforms" and "reform" in err.value.expected


def test_case_staff_are_equal_under_every_preset(presets):
    """Reforms move staff, never create them: enforcement teams are 城管 staff transferred from
    their district, so the city's case staff (streets, teams, departments, centres) are the same
    under every preset, unit by unit in total; only the hotline's seats come with a reform."""
    city = beijing_city()
    totals = {}
    for name, preset in presets.items():
        model = GovernanceModel(preset.model_copy(update={"timeline": []}), city=city)
        levels = model._staff_levels()
        totals[name] = levels[:model.hotline_unit].sum()
        assert totals[name] == pytest.approx(case_staff(preset, city, load_categories(preset)))
        teams = levels[city.n_streets:model.dept_base]
        um = [model.dept_base + j for j in range(city.n_departments)
              if city.dept_type[j] == 0 and city.dept_district[j] >= 0]
        if preset.devolution.enforcement_team:
            moved = teams.sum()
            assert moved > 0
            base = GovernanceModel(presets["fragmented"].model_copy(update={"timeline": []}),
                                   city=city)._staff_levels()
            assert base[um].sum() - levels[um].sum() == pytest.approx(moved)
            assert levels[um].sum() == pytest.approx(
                (1 - preset.devolution.transfer_share) * base[um].sum())
        else:
            assert teams.sum() == 0
    assert np.ptp(list(totals.values())) == pytest.approx(0.0, abs=1e-6)


def test_every_parameter_is_sourced_fitted_or_assumed():
    """sim/data/parameters.csv names every field of the schema once, in one class; the fitted
    ones are those the calibration fits; a reform's switches are switches; docs/model.md shows
    the table as it is."""
    from sim.scenario import parameters

    assert parameters.problems() == []
    classes = {r.path: r.klass for r in parameters.table()}
    spec, _ = load_spec("beijing")
    for p in spec.parameters:
        path = p.path if not p.path.startswith("demand.categories.") else \
            "demand.categories." + p.path.split(".")[-1]
        # a value a dated change sets is fitted; the field's value before it may be assumed
        assert classes[path] in (("fitted", "assumed") if p.at else ("fitted",)), p.label
    for reform in REFORMS.values():
        for path in reform.on:
            assert classes[path] in ("switch", "assumed"), path  # the relay's 4 h is assumed
    assert all(low < high for low, high in parameters.ranges().values())
    model = (Path(__file__).resolve().parents[1] / "docs" / "model.md").read_text()
    assert parameters.with_section(model) == model, "run python -m sim.scenario.docs"
