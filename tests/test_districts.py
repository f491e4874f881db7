"""Districts that differ: a district's reporting propensity and demand rate (city data) move
its tickets; direct dispatch by territorial jurisdiction (直派街乡镇) moves tickets and work to
street offices."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.city import DistrictSpec, beijing_city, build_city, load_city, save_city, synthetic_city
from sim.scenario.categories import load_categories
from sim.scenario.loader import load_scenario

from .conftest import small_run


def two_districts(reporting: float = 1.0, demand: float = 1.0):
    return build_city("Pair", [
        DistrictSpec("Keen", population=100_000, area_km2=50, streets=4,
                     reporting_propensity=reporting, demand_rate=demand),
        DistrictSpec("Plain", population=100_000, area_km2=50, streets=4),
    ], np.random.default_rng(0))


def run_on(city, preset="fragmented", days=60, **sections):
    data = load_scenario(preset).model_dump()
    data.update(days=days, seed=1, scale=1.0, **sections)
    return sim.run(data, city=city)


def test_higher_reporting_propensity_files_more_tickets_per_problem():
    # the fragmented baseline's low propensity keeps the chance of reporting well below 1
    result = run_on(two_districts(reporting=1.5))
    d = result.by_district().set_index("district")
    assert d.loc["Keen", "requests_per_problem"] > 1.3 * d.loc["Plain", "requests_per_problem"]
    # the same occurrence per resident: only reporting differs
    assert d.loc["Keen", "occurred"] == pytest.approx(d.loc["Plain", "occurred"], rel=0.05)
    assert d["request_share"].sum() == pytest.approx(1.0)


def test_demand_rate_multiplies_occurrence():
    # the same city with and without the factor (the streets' persistent sources are the same)
    high = run_on(two_districts(demand=2.0), days=60).by_district().set_index("district")
    base = run_on(two_districts(), days=60).by_district().set_index("district")
    assert high.loc["Keen", "occurred"] == pytest.approx(2.0 * base.loc["Keen", "occurred"],
                                                         rel=0.08)
    assert high.loc["Plain", "occurred"] == pytest.approx(base.loc["Plain", "occurred"],
                                                          rel=0.08)


def test_factors_survive_a_file_and_default_to_one(tmp_path):
    city = two_districts(reporting=1.5, demand=0.8)
    for suffix in (".json", ".graphml"):
        save_city(city, tmp_path / f"pair{suffix}")
        back = load_city(tmp_path / f"pair{suffix}")
        assert back.reporting_factor().tolist() == [1.5, 1.0]
        assert back.demand_factor().tolist() == [0.8, 1.0]
    plain = synthetic_city(n_districts=2, streets_per_district=2, population=100_000, seed=0)
    assert plain.reporting_factor().tolist() == [1.0, 1.0]


def test_bad_factor_is_refused():
    with pytest.raises(sim.InputError, match="reporting_propensity"):
        two_districts(reporting=0.0)


def test_beijing_core_districts_report_more_per_resident():
    city = beijing_city(0)
    core = {"Dongcheng", "Xicheng", "Chaoyang", "Fengtai", "Shijingshan", "Haidian"}
    is_core = np.array([n in core for n in city.district_names])
    pop = city.district_population.astype(float)
    for factor in (city.reporting_factor(), city.demand_factor()):
        assert factor[is_core].min() > factor[~is_core].max()
        assert np.average(factor, weights=pop) == pytest.approx(1.0, abs=0.01)


def test_territorial_dispatch_sends_tickets_and_work_to_streets():
    # 直派街乡镇 by territorial jurisdiction (the default) against dispatch by the street's
    # powers and what it can see only (every category's `territorial` share 0)
    keys = load_categories().keys
    narrow = {"demand": {"categories": {k: {"territorial": 0.0} for k in keys}}}
    wide = small_run("hotline", days=60)
    held = small_run("hotline", days=60, **narrow)
    w, h = wide.measures, held.measures
    assert w["first_to_street_share"] > h["first_to_street_share"] + 0.1
    assert w["street_staff_hours"] > 1.1 * h["street_staff_hours"]
    assert w["whistled_share"] > h["whistled_share"]
