"""Each mechanism of MODEL.md moves the measures the way MODEL.md says, in a small city."""

from __future__ import annotations

import math

import numpy as np
import pytest

from .conftest import small_run

OFF = {"enabled": False}


def multi_dept_street_cases(result):
    p = result.problems
    return p[(p["n_depts"] >= 2) & (p["outcome"] == "resolved") & (p["channel"] == "street_line")]


def test_whistle_turns_relay_into_joint_work_and_removes_bounces():
    # Fragmented city; only the whistle changes. All reports go to the street office.
    base = {"reporting": {"to_street_share": 1.0}}
    old = small_run("fragmented", days=90, **base)
    new = small_run("fragmented", days=90, whistle={"enabled": True}, **base)
    o, n = multi_dept_street_cases(old), multi_dept_street_cases(new)
    assert n["whistled"].mean() > 0.6
    assert n.loc[n["whistled"], "bounces"].sum() == 0
    assert old.measures["bounced_share"] > 0.05
    assert new.measures["bounced_share"] < 0.2 * old.measures["bounced_share"]
    assert n["latency_occurrence_h"].median() < 0.5 * o["latency_occurrence_h"].median()


def test_report_window_and_late_reports():
    strict = small_run("whistle", days=45, whistle={"compliance": 1.0})
    lax = small_run("whistle", days=45, whistle={"compliance": 0.5})
    assert strict.meta["whistle_reports"] > 100
    assert strict.meta["whistle_late_reports"] == 0
    share = lax.meta["whistle_late_reports"] / lax.meta["whistle_reports"]
    assert share == pytest.approx(0.5, abs=0.06)


def test_relay_delay_drives_fragmented_latency():
    fast = small_run("fragmented", days=60, fragmented={"relay_delay_hours": 4})
    slow = small_run("fragmented", days=60, fragmented={"relay_delay_hours": 96})
    assert slow.measures["latency_report_h_mean"] > fast.measures["latency_report_h_mean"] + 48


def test_direct_dispatch_removes_the_district_relay():
    direct = small_run("hotline", days=60)
    relayed = small_run("hotline", days=60, hotline={"direct_dispatch": False})
    assert direct.measures["latency_report_h_median"] < relayed.measures["latency_report_h_median"]
    centre = "district_centre_staff_hours"
    assert direct.measures[centre] < 0.5 * relayed.measures[centre]


def test_induced_reporting_raises_reported_volume_and_street_workload():
    easy = small_run("hotline", days=60, hotline={"induced_reporting": 2.0})
    plain = small_run("hotline", days=60, hotline={"induced_reporting": 1.0})
    assert easy.measures["reported"] > 1.5 * plain.measures["reported"]
    assert easy.measures["street_staff_hours"] > plain.measures["street_staff_hours"]
    assert easy.measures["hotline_contacts"] > plain.measures["hotline_contacts"]


def test_patrols_find_visible_problems_before_complaints():
    with_patrol = small_run("whistle", days=60)
    without = small_run("whistle", days=60, patrols=OFF)
    assert with_patrol.measures["found_proactively"] > 0
    assert without.measures["found_proactively"] == 0
    assert with_patrol.measures["never_reported"] < without.measures["never_reported"]


def test_devolved_powers_let_streets_resolve_more_themselves():
    held = small_run("hotline", days=60)
    devolved = small_run("hotline", days=60, devolution={"devolved_powers": True})
    assert devolved.measures["whistled_share"] < held.measures["whistled_share"]


def test_restructured_sections_cut_internal_handoffs():
    old = small_run("whistle", days=45, whistle={"restructured_sections": False})
    new = small_run("whistle", days=45)
    assert new.measures["handoffs_per_case"] < old.measures["handoffs_per_case"]


def test_joint_whistle_across_borders_speeds_border_problems():
    apart = small_run("whistle", days=90, whistle={"joint_across_borders": False})
    joint = small_run("whistle", days=90)
    lat = [r.problems.loc[r.problems["cross_border"], "latency_occurrence_h"].median()
           for r in (apart, joint)]
    assert lat[1] < lat[0] - 24


def test_ranking_pressure_adds_effort_and_overtime():
    ranked = small_run("hotline", days=120)
    unranked = small_run("hotline", days=120, ranking=OFF)
    assert len(ranked.rankings) > 0
    assert set(ranked.rankings["class"].astype(str)) >= {"先进", "整改", "治理"}
    assert ranked.rankings["effort_next_month"].max() > 1.0
    assert ranked.measures["street_overtime_hours"] > 0
    assert unranked.measures["street_overtime_hours"] == 0
    assert len(unranked.rankings) == 0


def test_supervision_suppresses_buck_passing():
    ranked = small_run("hotline", days=60, whistle=OFF)
    unranked = small_run("hotline", days=60, whistle=OFF, ranking=OFF)
    assert ranked.measures["bounced_share"] < 0.5 * unranked.measures["bounced_share"]


def test_unreasonable_requests_cost_effort_but_are_never_resolved():
    r = small_run("hotline", days=45)
    p = r.problems
    unreasonable = p[p["unreasonable"] & p["entered_h"].notna()]
    assert len(unreasonable) > 50
    assert (unreasonable["outcome"] != "resolved").all()
    more = small_run("hotline", days=45, demand={"categories": {
        k: {"unreasonable_share": 0.9} for k in ("market", "housing", "health")}})
    assert more.measures["resolution_rate"] < r.measures["resolution_rate"]


def test_callbacks_reopen_unresolved_tickets():
    reopen = small_run("hotline", days=60, hotline={"reopen_prob": 1.0})
    never = small_run("hotline", days=60, hotline={"reopen_prob": 0.0})
    assert reopen.problems["reopens"].max() >= 1
    assert never.problems["reopens"].max() == 0
    assert reopen.measures["resolution_rate"] > never.measures["resolution_rate"]
    assert never.measures["response_rate"] > 0.9


def test_source_governance_lowers_theme_occurrence_after_its_lag():
    """After its lag a project removes `effectiveness` of its category's root-cause problems in
    its streets, and nothing else. Checked within one run against the exact share: comparing
    with a second run without themes would rest on a 0.15 x 0.9 drop in two noisy counts."""
    lag, effectiveness = 30, 0.9
    r = small_run("proactive", days=150, themes={"lag_days": lag, "effectiveness": effectiveness,
                                                 "hot_spot_streets": 8, "repeat_themes": False})
    p = r.problems
    prevented = p[p["outcome"] == "prevented"]
    assert len(prevented) > 0
    # nothing is prevented before the first theme (chosen at the first month end) plus its lag
    first_possible = 31 + lag
    assert prevented["occurred_day"].min() >= first_possible
    first = r.meta["themes"][0]  # chosen at the end of January, in effect by day 61
    ours = p[(p["category"] == first["category"]) & p["street"].isin(first["streets"])
             & (p["occurred_day"] >= 70)]
    root = ours[ours["root_cause"]]
    share = (root["outcome"] == "prevented").mean()
    assert len(root) > 100
    assert abs(share - effectiveness) < 4 * math.sqrt(effectiveness * (1 - effectiveness)
                                                      / len(root)), (share, len(root))
    assert not (ours.loc[~ours["root_cause"], "outcome"] == "prevented").any()
    elsewhere = p[(p["category"] != first["category"]) & (p["occurred_day"] < 61 + 28)]
    assert not (elsewhere["outcome"] == "prevented").any()  # later themes: not yet in effect


def test_inspection_finds_heating_problems_in_season():
    r = small_run("proactive", days=60, themes=OFF)
    p = r.problems
    found = p[p["channel"] == "inspection"]
    assert len(found) > 0
    assert set(found["category"].astype(str)) == {"heating"}
    off = small_run("proactive", days=60, themes=OFF, inspection=OFF)
    assert (off.problems["channel"] == "inspection").sum() == 0


def test_shock_window_multiplies_occurrence():
    r = small_run("fragmented", days=40, demand={"shocks": [
        {"start_day": 20, "days": 10, "multiplier": 3.0}]})
    per_day = r.problems.groupby("occurred_day").size()
    before, during = per_day.loc[5:19].mean(), per_day.loc[20:29].mean()
    assert during == pytest.approx(3 * before, rel=0.15)


def test_heating_season_drives_heating_complaints():
    winter = small_run("fragmented", days=30, start_date="2019-01-01")
    summer = small_run("fragmented", days=30, start_date="2019-07-01")
    share = lambda r: (r.problems["category"] == "heating").mean()
    assert share(winter) > 3 * share(summer)


def test_trust_feeds_back_on_reporting():
    good = small_run("fragmented", days=90, satisfaction={"resolved_on_time": 1.0,
                                                          "resolved_late": 1.0,
                                                          "unresolved": 1.0})
    bad = small_run("fragmented", days=90, satisfaction={"resolved_on_time": 0.0,
                                                         "resolved_late": 0.0,
                                                         "unresolved": 0.0})
    assert good.daily["mean_trust"].iloc[-1] > 0.55
    assert bad.daily["mean_trust"].iloc[-1] < 0.45
    late = lambda r: r.problems[r.problems["occurred_day"] >= 60]
    rate = lambda r: late(r)["entered_h"].notna().mean()
    assert rate(good) > rate(bad)


@pytest.mark.parametrize("scope", ["street", "community"])
def test_trust_learns_from_the_day_verdicts_in_real_city_units(scope):
    """One day's update by hand: the verdicts heard (a street's, or a community's own) move
    trust toward their satisfied share by 1 - exp(-rate x verdicts per 10,000 residents); a
    cohort that heard nothing keeps its trust. Verdicts are heard on the day a case closes."""
    from sim.mechanisms.reporting import Trust
    from sim.scenario.loader import deep_merge, load_scenario, validate
    from tests.conftest import SMALL_CITY

    rate = 0.05
    spec = validate(deep_merge(load_scenario("fragmented").model_dump(), {
        "city": SMALL_CITY, "reporting": {"trust_learning_rate": rate, "trust_scope": scope}}))
    from sim.model import make_city
    city = make_city(spec.city)
    trust = Trust(0.5, city.community_street, city.community_population, city.n_streets)
    start = trust.level.copy()
    street = city.community_street
    a, b = np.flatnonzero(street == 0)[:2]  # two communities of street 0
    quiet = np.flatnonzero(street == 1)  # a street that hears nothing today
    trust.hear(np.array([24.0 * 7 + 1, 24.0 * 7 + 5, 24.0 * 7 + 23]), np.array([a, a, b]),
               np.array([True, True, False]))
    trust.hear(np.array([24.0 * 8 + 1]), np.array([a]), np.array([False]))  # tomorrow's
    trust.update(7, spec)

    def moved(heard, happy, residents):
        weight = 1 - np.exp(-rate * heard / (residents / 1e4))
        return start[a] + weight * (happy / heard - start[a])

    if scope == "street":  # every community of street 0 hears all three verdicts
        want = moved(3, 2, city.community_population[street == 0].sum())
        assert np.allclose(trust.level[street == 0], want)
        assert 0.5 < want < 2 / 3
    else:
        assert trust.level[a] == pytest.approx(moved(2, 2, city.community_population[a]))
        assert trust.level[b] == pytest.approx(moved(1, 0, city.community_population[b]))
        others = np.setdiff1d(np.flatnonzero(street == 0), [a, b])
        assert np.array_equal(trust.level[others], start[others])
    assert np.array_equal(trust.level[quiet], start[quiet])
    assert 8 in trust.heard and 7 not in trust.heard


def test_cohorts_are_agents_over_the_engine_arrays():
    """A cohort's trust and propensity are the arrays the day's draw reads: changing them
    through the agent changes the next day's reporting."""
    from sim.agents import CitizenCohort
    from sim.model import GovernanceModel
    from sim.scenario.loader import deep_merge, load_scenario, validate
    from tests.conftest import SMALL_CITY

    spec = validate(deep_merge(load_scenario("fragmented").model_dump(),
                               {"city": SMALL_CITY, "days": 20}))
    low, high = GovernanceModel(spec), GovernanceModel(spec)
    cohorts = list(high.agents_by_type[CitizenCohort])
    assert len(cohorts) == high.city.n_communities
    for cohort in cohorts:
        cohort.propensity = 1.0
        cohort.trust = 0.5
    assert high.propensity.min() == 1.0 and cohorts[0].trust == 0.5
    for m in (low, high):
        for _ in range(10):
            m.step()
    entered = [m.problem_columns(("entered_h",))["entered_h"] for m in (low, high)]
    share = [float(np.isfinite(e).mean()) for e in entered]
    assert share[1] > share[0] + 0.3


def test_regimes_in_order_resolve_faster_than_fragmented():
    frag = small_run("fragmented", days=90)
    for preset in ("whistle", "hotline", "proactive"):
        r = small_run(preset, days=90)
        assert r.measures["latency_occurrence_h_median"] < \
            frag.measures["latency_occurrence_h_median"], preset
        assert r.measures["resolution_rate"] > frag.measures["resolution_rate"], preset
    assert np.isfinite(frag.measures["latency_occurrence_h_p99"])
