"""Extending the model: the mechanism contract, plug-ins in plain Python, `model_class`.

A mechanism added the way docs/extending.md says touches its own module only: the toy plug-in
below lives in a module written into a temporary folder, and a scenario names it."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim import mechanisms
from sim.errors import InputError
from sim.flow import ENGINE_PARTS, World
from sim.scenario.schema import Scenario

from .conftest import SMALL_CITY, small_run, steady

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------- the contract
def test_every_mechanism_module_declares_itself():
    """Each module of sim/mechanisms declares its name, section and stations; the stations
    exist; the world's fields are the engine's parts and the compiled mechanisms, by name."""
    package = Path(mechanisms.__file__).parent
    modules = [m.name for m in pkgutil.iter_modules([str(package)])]
    declared = {m.name: m for m in mechanisms.builtin()}
    assert len(declared) == len(modules)
    from sim import flow

    for m in declared.values():
        head = m.section.split(".")[0]
        assert head in Scenario.model_fields, m.name
        if head == "plugins":
            assert m.section == f"plugins.{m.name}" and m.daily is not None and m.settings
        for station in m.stations:
            assert station in (*mechanisms.FLOW_STATIONS, *mechanisms.DAY_POINTS), station
            if station in mechanisms.FLOW_STATIONS:
                assert callable(getattr(flow, station)), station
    assert World._fields == (*ENGINE_PARTS, *sorted(m.name for m in mechanisms.compiled()))
    assert set(mechanisms.rules(Scenario())) == {m.name for m in mechanisms.compiled()}


def test_the_model_names_no_mechanism_in_its_rules():
    """The model builds the world's rules from the list, not from imports of its own."""
    tree = ast.parse((ROOT / "sim" / "model.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "sim.mechanisms" for alias in node.names}
    compiled = {m.name for m in mechanisms.compiled()}
    assert not (imported & (compiled - {"whistle"})), imported  # whistle: its counters' names


# ------------------------------------------------------------------------ a toy plug-in
TOY = '''
"""A toy: the street office settles every new case of one category on the spot."""
from pydantic import Field

from sim.mechanisms import Mechanism
from sim.plugins import DailyMechanism
from sim.scenario.schema import Section


class Settings(Section):
    category: str = Field(description="The category settled on the spot.")
    seen: list = Field(default_factory=list, description="(for the test) days seen")


class Toy(DailyMechanism):
    def before_day(self, day):
        k = day.categories.index(self.settings.category)
        rows = day.entering[day.column("category") == k]
        day.settle_on_spot(rows, day.column("street", rows))
        self.settings.seen.append(day.index)

    def after_day(self, day):
        day.charge([0], [1.0])


MECHANISM = Mechanism("toy", section="plugins.toy", stations=("before_day", "on_spot"),
                      settings=Settings, daily=Toy)
'''


@pytest.fixture
def toy_module(tmp_path, monkeypatch):
    (tmp_path / "govsim_toy.py").write_text(textwrap.dedent(TOY), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "govsim_toy"
    sys.modules.pop("govsim_toy", None)


def test_a_toy_mechanism_in_its_own_module_acts_on_the_day(toy_module):
    """Named in a scenario, the toy's cases go straight to their street, are handled there,
    called back and recorded like any other; the rest of the city runs as before."""
    category = "environment"
    plain = small_run("fragmented", days=30)
    toy = small_run("fragmented", days=30,
                    plugins={"toy": {"module": toy_module, "category": category}})
    p, q = plain.problems, toy.problems
    mine = q[(q["category"] == category) & q["entered_h"].notna()]
    assert len(mine) > 50
    assert (mine["handoffs"] == 0).all() and (mine["bounces"] == 0).all()
    assert set(mine["outcome"]) <= {"resolved", "closed_unresolved", "open"}
    streets = set(_units_of(toy, "street"))
    assert mine["owner_unit"].isin(streets).all()
    assert (mine["outcome"] == "resolved").mean() > 0.5
    before = p[(p["category"] == category) & p["entered_h"].notna()]
    assert mine["latency_report_h"].median() < 0.5 * before["latency_report_h"].median()
    others = p[p["category"] != category]
    assert len(others) > 0 and plain.measures["occurred"] == toy.measures["occurred"]


def test_a_run_with_a_plug_in_reads_back_where_the_plug_in_is_gone(toy_module, tmp_path,
                                                                   monkeypatch):
    result = small_run("fragmented", days=5,
                       plugins={"toy": {"module": toy_module, "category": "environment"}})
    result.save(tmp_path / "run")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if "toy" not in p and
                                      not Path(p, f"{toy_module}.py").exists()])
    sys.modules.pop(toy_module, None)
    back = sim.Result.load(tmp_path / "run")
    assert back.scenario.plugins["toy"]["module"] == toy_module
    assert back.measures["occurred"] == result.measures["occurred"]


def test_a_plug_ins_settings_are_checked_by_its_own_model(toy_module):
    data = {**steady(), "city": SMALL_CITY}
    with pytest.raises(InputError) as err:
        sim.run({**data, "plugins": {"toy": {"module": toy_module}}}, days=2)
    assert err.value.field == "plugins.toy.category"
    with pytest.raises(InputError) as err:
        sim.run({**data, "plugins": {"no_such_thing": {}}}, days=2)
    assert err.value.field == "plugins.no_such_thing" and "grid_cadre" in err.value.expected
    with pytest.raises(InputError) as err:
        sim.run({**data, "plugins": {"toy": {"module": "no_such_module_here"}}}, days=2)
    assert err.value.field == "plugins.toy.module"
    with pytest.raises(InputError) as err:
        sim.run({**data, "plugins": {"grid_cadre": {"share": 2}}}, days=2)
    assert err.value.field == "plugins.grid_cadre.share"


# ------------------------------------------------------------------------- grid cadres
def test_grid_cadres_settle_simple_visible_cases_at_the_lead_department():
    """With every eligible case settled on the spot, those cases skip the channels: no street
    hand-offs, no relay, no bounces, and they are resolved sooner from report; cases needing
    several departments are untouched."""
    base = small_run("fragmented", days=45)
    grid = small_run("fragmented", days=45, plugins={"grid_cadre": {"share": 1.0}})
    none = small_run("fragmented", days=45, plugins={"grid_cadre": {"share": 0.0}})
    pd.testing.assert_frame_equal(none.problems, base.problems)  # share 0: no change
    q = grid.problems
    entered = q[q["entered_h"].notna()]
    simple = entered[entered["n_depts"] == 1]
    visible = simple[simple["category"].isin(_visible())]
    assert (visible["handoffs"] == 0).all() and (visible["bounces"] == 0).all()
    assert visible["owner_unit"].isin(_units_of(grid, "department")).all()
    b = base.problems
    old = b[b["entered_h"].notna() & (b["n_depts"] == 1) & b["category"].isin(_visible())]
    assert visible["latency_report_h"].median() < old["latency_report_h"].median()
    assert grid.measures["bounced_share"] < base.measures["bounced_share"]


def _units_of(result, kind: str) -> list[int]:
    units = result.units_daily
    return sorted(set(units.loc[units["unit_type"] == kind, "unit"]))


def _visible() -> list[str]:
    from sim.scenario.categories import load_categories

    table = load_categories(None)
    return [k for k, v in zip(table.keys, table.street_visible, strict=True) if v]


def test_a_timeline_changes_a_plug_ins_settings():
    seen = []

    class Spy(sim.DailyMechanism):
        def configure(self, settings):
            seen.append(settings)
            super().configure(settings)

    data = {**steady(), "city": SMALL_CITY, "days": 20,
            "plugins": {"grid_cadre": {"share": 0.0}},
            "timeline": [{"date": "2019-01-11", "set": {"plugins.grid_cadre.share": 1.0}}]}
    result = sim.run(data, mechanisms=[Spy()])
    q = result.problems
    late = q[(q["occurred_h"] > 11 * 24) & q["entered_h"].notna() & (q["n_depts"] == 1)
             & q["category"].isin(_visible())]
    early = q[(q["occurred_h"] < 9 * 24) & q["entered_h"].notna() & (q["n_depts"] == 1)
              & q["category"].isin(_visible())]
    departments = _units_of(result, "department")
    assert len(late) > 20 and late["owner_unit"].isin(departments).all()
    assert len(early) > 20 and not early["owner_unit"].isin(departments).all()
    assert seen == []  # a plug-in the scenario does not name hears of no settings
    joined = sim.run({**data, "plugins": {}, "timeline": [
        {"date": "2019-01-11", "set": {"plugins.grid_cadre": {"share": 1.0}}}]})
    q = joined.problems
    late = q[(q["occurred_h"] > 11 * 24) & q["entered_h"].notna() & (q["n_depts"] == 1)
             & q["category"].isin(_visible())]
    assert len(late) > 20 and late["owner_unit"].isin(departments).all()  # joins that day


# ------------------------------------------------------------------- Python in the day
def test_a_model_subclass_acts_before_and_after_each_day():
    calls = []

    class Mine(sim.GovernanceModel):
        def before_day(self, day):
            calls.append(("before", day.index, len(day.entering)))
            if day.index == 3:
                day.offices[0].effort = 1.5
            super().before_day(day)

        def after_day(self, day):
            calls.append(("after", day.index, len(day.closed)))
            super().after_day(day)

    data = {**steady(), "city": SMALL_CITY, "days": 6}
    result = sim.run(data, model_class=Mine)
    assert [c[:2] for c in calls[::2]] == [("before", d) for d in range(6)]
    assert [c[:2] for c in calls[1::2]] == [("after", d) for d in range(6)]
    assert sum(c[2] for c in calls[::2]) > 0
    plain = sim.run(data)
    assert plain.measures["occurred"] == result.measures["occurred"]
    with pytest.raises(InputError):
        sim.run(data, model_class=dict)


def test_a_plain_function_acts_before_each_day():
    days = []

    def extra_meeting(day):
        days.append(day.index)
        day.charge([0], [4.0])  # four staff hours at street office 0 each morning

    data = {**steady(), "city": SMALL_CITY, "days": 5}
    with_meeting = sim.run(data, mechanisms=[extra_meeting])
    plain = sim.run(data)
    assert days == list(range(5))
    busy = [r.units_daily.query("unit == 0")["busy_hours"].sum() for r in (plain, with_meeting)]
    assert busy[1] == pytest.approx(busy[0] + 5 * 4.0, rel=0.05)
    with pytest.raises(InputError):
        sim.run(data, mechanisms=[42])


def test_settling_refuses_what_it_cannot_do():
    class Bad(sim.DailyMechanism):
        def before_day(self, day):
            rows = day.entering[:1]
            day.settle_on_spot(rows, [0])
            with pytest.raises(ValueError, match="once"):
                day.settle_on_spot(rows, [0])
            with pytest.raises(ValueError, match="entering"):
                day.settle_on_spot(np.array([10**9]), [0])
            with pytest.raises(ValueError, match="units"):
                day.settle_on_spot(day.entering[1:2], [10**6])

    sim.run({**steady(), "city": SMALL_CITY, "days": 3}, mechanisms=[Bad()])


def test_same_seed_same_numbers_with_a_plug_in():
    a = small_run("hotline", days=20, plugins={"grid_cadre": {"share": 0.5}})
    b = small_run("hotline", days=20, plugins={"grid_cadre": {"share": 0.5}})
    pd.testing.assert_frame_equal(a.problems, b.problems)


# --------------------------------------------------------------- structs and the cache
def test_kernels_load_from_the_disk_cache_in_a_new_process():
    """The structs made by one factory (`sim.engine.compile.passed_by_reference`) are found
    by numba's disk cache: a second process compiles nothing."""
    script = textwrap.dedent("""
        import gc, sim
        from numba.core.registry import CPUDispatcher
        sim.run("hotline", days=2, scale=0.005, seed=0, overrides={"warmup_days": 0})
        missed = sorted(o.py_func.__qualname__ for o in gc.get_objects()
                        if isinstance(o, CPUDispatcher) and o.py_func.__module__.startswith("sim")
                        and o.stats.cache_misses)
        print("missed:", missed)
    """)
    for _ in range(2):  # the first may compile (a fresh cache); the second must not
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True, cwd=ROOT).stdout
    assert "missed: []" in out, out


def test_one_struct_factory():
    """No module writes out a numba structref of its own."""
    for path in (ROOT / "sim").rglob("*.py"):
        if path.name == "compile.py":
            continue
        assert "structref.register" not in path.read_text(encoding="utf-8"), path


def test_plugins_module_loads_nothing_compiled():
    importlib.import_module("sim.plugins")  # imported by mechanisms; must not import sim.flow
    source = (ROOT / "sim" / "plugins.py").read_text(encoding="utf-8")
    assert "sim.flow" not in source


# ---------------------------------------------------------------------------- Mesa's way
def test_mesa_batch_run_builds_the_model_from_keywords():
    """Mesa's `batch_run` makes a model from keyword arguments and steps it while it runs."""
    import multiprocessing

    import mesa

    method = multiprocessing.get_start_method(allow_none=True)
    try:
        rows = mesa.batch_run(sim.GovernanceModel, {
            "scenario": ["fragmented", "hotline"], "days": 4, "scale": 0.005,
            "overrides": [{"warmup_days": 0}]}, rng=[3], number_processes=1,
            display_progress=False)
    finally:  # batch_run forces "spawn" on the whole process
        multiprocessing.set_start_method(method, force=True)
    assert len(rows) == 2 and {r["Step"] for r in rows} == {4}
    assert all(r["occurred"] > 0 for r in rows)
    model = sim.GovernanceModel(scenario="hotline", seed=2, days=2, scale=0.005,
                                overrides={"warmup_days": 0})
    assert model.spec.seed == 2 and model.total_days == 2
    model.step()
    assert model.running
    model.step()
    assert not model.running  # after the last day, not a step later
