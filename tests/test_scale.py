"""The honest scale: a run below 1:1 is a sample of streets, each simulated as it really is.

`scale: s` simulates about that share of the residents, street by street, at full intensity
(`sim.sampling`). Checked here: the sample is what it says; a sampled street's office, team and
demand are those of the whole city, and no unit becomes a slow server; shared units are whole,
serving the other streets' work as their background (`sim.engine.desks`), and report their
sample's share of it; and on a city of four million the rates and latency at a quarter of
the streets agree with the whole city, and so does the comparison of two regimes.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import sim
from sim.city import synthetic_city
from sim.errors import InputError
from sim.model import GovernanceModel
from sim.sampling import sample_streets
from sim.scenario.loader import deep_merge, load_scenario, validate
from tests.conftest import small_run

FOUR_MILLION = {"city": {"synthetic": {"n_districts": 4, "streets_per_district": 10,
                                       "population": 4_000_000}}}


def test_the_sample_holds_the_share_asked_for():
    city = sim.model.make_city(validate({}).city)  # Beijing
    population = city.street_population.astype(float)
    for scale in (0.01, 0.1, 0.5):
        for seed in range(3):
            s = sample_streets(city, scale, seed)
            assert s.share == pytest.approx(population[s.streets].sum() / population.sum())
            # within half of the largest street of the target
            assert abs(s.share - scale) <= 0.5 * population.max() / population.sum() + 1e-12
            # each district's share is its own sampled residents over its residents
            d = city.street_district
            for k in range(city.n_districts):
                want = population[s.streets & (d == k)].sum() / population[d == k].sum()
                assert s.district_share[k] == pytest.approx(want)
    a, b = sample_streets(city, 0.1, 0), sample_streets(city, 0.1, 1)
    assert not np.array_equal(a.streets, b.streets)  # each seed its own sample ...
    assert np.array_equal(a.streets, sample_streets(city, 0.1, 0).streets)  # ... reproducibly
    whole = sample_streets(city, 1.0, 0)
    assert whole.whole_city and whole.share == 1.0 and whole.weight == 1.0


def test_a_scale_too_small_for_one_street_is_refused():
    city = synthetic_city(1, 2, 20_000)
    with pytest.raises(InputError) as err:
        sample_streets(city, 0.01, 0, "x.yaml")
    assert err.value.field == "scale" and "at least one street" in err.value.expected


def _model(scale: float, preset: str = "hotline", seed: int = 0) -> GovernanceModel:
    data = deep_merge(load_scenario(preset).model_dump(),
                      {"scale": scale, "seed": seed, **FOUR_MILLION})
    return GovernanceModel(validate(data))


def test_a_sampled_street_is_the_whole_city_street():
    whole, part = _model(1.0), _model(0.25)
    sampled = np.flatnonzero(part.sample.streets)
    assert 0 < len(sampled) < part.city.n_streets
    for s in sampled:  # the same office and team, the same servers at the same pace
        for unit in (s, part.city.n_streets + s):
            assert part.offices[unit].desk.servers == whole.offices[unit].desk.servers
            assert part.offices[unit].staff == whole.offices[unit].staff
    for office in part.streets:
        if not office.simulated:
            assert office.staff == 0
    # every unit that exists works at the normal pace: no unit is one slow server
    present = part.staff > 0
    assert np.all(part.desks.speed[present] == 1.0)
    # a shared unit is simulated whole (the same people), serving the rest of its streets'
    # work as its background: about their residents per sampled one; none at full scale
    for dept in part.departments:
        if dept.district >= 0 and part.sample.district_share[dept.district] > 0:
            share = part.sample.district_share[dept.district]
            assert dept.staff == whole.offices[dept.unit].staff, dept.name
            assert part.desks.background[dept.unit] == pytest.approx((1 - share) / share,
                                                                     rel=0.5), dept.name
    assert not whole.desks.background.any() and not len(whole.shared_units)
    # demand of a sampled community is its full rate: the same expected problems a day
    assert part.demand.base.sum() == pytest.approx(
        whole.demand.base[part.sample.communities(part.city)].sum())


def test_counts_are_reported_in_real_city_units():
    a = small_run("fragmented", days=120, scale=1.0, **FOUR_MILLION)
    b = small_run("fragmented", days=120, scale=0.25, **FOUR_MILLION)
    share = b.meta["simulated_share"]
    assert 0.2 < share < 0.3
    assert b.measures["occurred"] == pytest.approx(a.measures["occurred"], rel=0.02)
    assert len(b.problems) == pytest.approx(share * len(a.problems), rel=0.02)
    assert np.allclose(b.problems["weight"], 1 / share)


SCALE_MEASURES = ("resolved_latency_occurrence_h_mean", "resolved_latency_report_h_mean",
                  "resolution_rate", "satisfaction_rate", "response_rate", "overdue_share")


def _means(preset: str, scale: float, seeds: range) -> dict[str, float]:
    runs = [small_run(preset, days=60, scale=scale, seed=s, **FOUR_MILLION) for s in seeds]
    return {n: float(np.mean([r.measures[n] for r in runs])) for n in SCALE_MEASURES}


def test_rates_latency_and_conclusions_do_not_change_with_scale():
    """`benchmarks/scale_consistency.py` in small: the four presets on a city of four million
    at a quarter of its streets (two seeds each, 60 days). Every rate within 2 points and each
    mean latency within 10 % of the whole city; and every difference between presets in
    latency that is clear at 1:1 (over 10 % of the slower) has the same sign at a quarter (the
    old scale, one slow server per street, reversed such comparisons at small scales)."""
    presets, seeds = ("fragmented", "whistle", "hotline", "proactive"), range(2)
    means = {(p, s): _means(p, s, seeds) for p in presets for s in (1.0, 0.25)}
    for preset in presets:
        whole, part = means[(preset, 1.0)], means[(preset, 0.25)]
        for name in SCALE_MEASURES[2:]:
            assert abs(part[name] - whole[name]) < 0.02, (preset, name, part, whole)
        for name in SCALE_MEASURES[:2]:
            assert part[name] == pytest.approx(whole[name], rel=0.10), (preset, name)
    latency = SCALE_MEASURES[0]
    for a, b in itertools.combinations(presets, 2):
        gaps = {s: means[(a, s)][latency] - means[(b, s)][latency] for s in (1.0, 0.25)}
        if abs(gaps[1.0]) > 0.1 * max(means[(a, 1.0)][latency], means[(b, 1.0)][latency]):
            assert np.sign(gaps[0.25]) == np.sign(gaps[1.0]), (a, b, gaps)
