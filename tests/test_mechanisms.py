"""Each mechanism of docs/model.md moves the measures the way docs/model.md says, in a small city."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.scenario.loader import load_scenario

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
    assert slow.measures["resolved_latency_report_h_mean"] > fast.measures["resolved_latency_report_h_mean"] + 48


def test_direct_dispatch_removes_the_district_relay():
    direct = small_run("hotline", days=60)
    relayed = small_run("hotline", days=60, hotline={"direct_dispatch": False})
    assert direct.measures["resolved_latency_report_h_median"] < relayed.measures["resolved_latency_report_h_median"]
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
    """"6+1+3" is a reform of the street office itself: fewer hand-offs between its sections,
    with or without the whistle."""
    old = small_run("whistle", days=45, whistle={"restructured_sections": False})
    new = small_run("whistle", days=45)
    assert new.measures["handoffs_per_case"] < old.measures["handoffs_per_case"]
    alone = small_run("fragmented", days=45, whistle={"restructured_sections": True})
    before = small_run("fragmented", days=45)
    assert alone.measures["handoffs_per_case"] < 0.5 * before.measures["handoffs_per_case"]


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


def test_ranking_courtesy_raises_satisfaction_though_unresolved():
    """Under ranking pressure, `ranking.courtesy_gain` makes more callers left unresolved
    satisfied (kept informed); without pressure (no ranking) it does nothing."""
    def unresolved_satisfied(r):
        p = r.problems
        tickets = p[(p["channel"] == "hotline") & (p["outcome"] == "closed_unresolved")]
        return tickets["satisfied"].astype(float).mean()

    plain = small_run("hotline", days=120, ranking={"courtesy_gain": 0.0})
    kind = small_run("hotline", days=120, ranking={"courtesy_gain": 1.0})
    assert plain.rankings["effort_next_month"].max() > 1.0  # there is pressure
    assert unresolved_satisfied(kind) > unresolved_satisfied(plain) + 0.02
    base = load_scenario("hotline").satisfaction.unresolved  # the calibrated city's value
    assert unresolved_satisfied(plain) == pytest.approx(base, abs=0.03)
    off = {"enabled": False}
    assert (small_run("hotline", days=60, ranking={**off, "courtesy_gain": 1.0}).measures
            ["satisfaction_rate"] == small_run("hotline", days=60, ranking=off).measures
            ["satisfaction_rate"])


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


def themes_for(n_streets=6, n_categories=4, **config):
    """A `Themes` over `n_streets` equal streets, sources all alike, configured as given."""
    from sim.mechanisms.sources import Sources
    from sim.mechanisms.themes import Themes
    from sim.scenario.schema import Scenario

    pop = np.full(n_streets, 50_000.0)
    t = Themes(pop, n_categories, sources=Sources(pop, n_categories, 0.0, 0),
               policy_units=np.arange(100, 100 + n_categories))
    spec = Scenario.model_validate({"themes": {"enabled": True, **config.pop("themes", {})},
                                    **config})
    t.configure(spec)
    return t


def complain(themes, counts):
    """Last month's record: counts[street][category] complaints."""
    for street, row in enumerate(counts):
        for cat, n in enumerate(row):
            themes.note_reports(np.full(n, street), np.full(n, cat))


def test_sources_are_uneven_persistent_and_keep_category_volumes():
    """Each (street, category) source is drawn once per run from the seed: gamma of the given
    coefficient of variation, of mean 1 over residents (categories keep their shares), and the
    strongest tenth of streets produce about a third of the root-cause problems at cv 1."""
    from sim.mechanisms.sources import draw_intensity

    pop = np.random.default_rng(3).uniform(1e4, 1e5, 4000)
    m = draw_intensity(pop, 12, 1.0, seed=7)
    assert np.array_equal(m, draw_intensity(pop, 12, 1.0, seed=7))
    assert not np.array_equal(m, draw_intensity(pop, 12, 1.0, seed=8))
    assert np.allclose((pop / pop.sum()) @ m, 1.0)
    assert m.std() / m.mean() == pytest.approx(1.0, abs=0.08)
    top = np.sort(m[:, 0])[::-1]
    assert top[:400].sum() / top.sum() == pytest.approx(0.33, abs=0.04)
    assert np.allclose(draw_intensity(pop, 12, 0.0, seed=7), 1.0)

    # in a run, a category's problems keep coming from the same streets
    r = small_run("fragmented", days=120, demand={"source_cv": 2.0}, city={
        "source": "synthetic", "synthetic": {"n_districts": 2, "streets_per_district": 10,
                                             "population": 400_000}})
    p = r.problems
    p = p[p["category"] == "traffic"]
    early = p[p["occurred_day"] < 60].groupby("street", observed=True).size()
    late = p[p["occurred_day"] >= 60].groupby("street", observed=True).size()
    both = early.to_frame("early").join(late.to_frame("late"), how="outer").fillna(0)
    assert both["early"].corr(both["late"]) > 0.8
    root = p[p["root_cause"]].groupby("street", observed=True).size().sort_values()[::-1]
    assert root.iloc[:2].sum() > 0.25 * root.sum()  # 2 of 20 streets: a quarter or more


def test_theme_is_the_top_category_and_comes_back_while_on_top():
    t = themes_for(themes={"repeat_after_months": 2, "problems_per_month": 1,
                           "hot_spot_streets": 2})
    for month in range(1, 7):
        complain(t, [[30, 10, 5, 1]] * 6)  # category 0 on top every month, 1 next
        t.month_start(month, 30 * month)
    assert t.chosen == [0, 1, 0, 1, 0, 1]
    once = themes_for(themes={"repeat_themes": False})
    for month in range(1, 7):
        complain(once, [[30, 10, 5, 1]] * 6)
        once.month_start(month, 30 * month)
    assert once.chosen == [0, 1, 2, 3]  # each once: themes run out


def test_themes_do_not_run_out_after_a_year():
    """In a run longer than a year a theme is picked every month, and a category that tops
    the record again comes back after `repeat_after_months`."""
    r = small_run("proactive", days=430, street_governance=OFF, inspection=OFF)
    picked = {}
    for t in r.meta["themes"]:
        if t["kind"] == "policy":
            picked.setdefault(t["category"], []).append(t["month"])
    months = sorted(m for ms in picked.values() for m in ms)
    assert len(months) == len(set(months)) == 14  # February 2019 .. March 2020, every month
    again = [ms for ms in picked.values() if len(ms) > 1]
    assert again, picked  # the top category of early 2019 is chosen again in 2020
    assert all(int(ms[1][:4]) * 12 + int(ms[1][5:]) - int(ms[0][:4]) * 12 - int(ms[0][5:]) >= 12
               for ms in again)


def test_theme_projects_go_to_hot_spots_and_policy_to_the_whole_city():
    """A theme's hot-spot projects take the streets densest in its complaints; its policy acts
    on every street; both after the lag, each charging its hours to its own units meanwhile."""
    t = themes_for(themes={"problems_per_month": 2, "hot_spot_streets": 1, "lag_days": 10,
                           "effectiveness": 0.5, "policy_effectiveness": 0.2,
                           "cost_staff_hours": 100.0, "policy_cost_staff_hours": 50.0})
    complain(t, [[1, 0, 0, 0], [9, 0, 0, 0], [0, 5, 0, 0], [4, 0, 0, 0], [0, 0, 0, 0],
                 [2, 0, 0, 0]])
    t.month_start(1, 31)
    kinds = [(p.kind, p.category, p.streets.tolist()) for p in t.projects]
    assert kinds == [("policy", 0, list(range(6))), ("hot_spot", 0, [1]), ("hot_spot", 0, [3])]
    units, hours = t.daily(31)
    assert sorted(units.tolist()) == [1, 3, 100]  # two streets; the category's lead department
    assert hours.sum() == pytest.approx(2 * 100 / 10 + 50 / 10)
    assert np.all(t.sources.left == 1.0)  # nothing before the lag
    units, _ = t.daily(41)
    assert len(units) == 0
    left = t.sources.left[:, 0]
    assert left[[1, 3]] == pytest.approx([0.4, 0.4])  # 0.5 of the source there, then 0.2
    assert left[[0, 2, 4, 5]] == pytest.approx([0.8] * 4)
    assert np.all(t.sources.left[:, 1:] == 1.0)
    assert [c for c, _ in t.themed_streets(41)] == [0, 0]  # inspection: hot spots only


def test_removed_sources_come_back_at_their_recovery_rate():
    """What governance removed returns at `source_recovery_per_year`, so repeated themes meet
    new causes rather than draining a category for good; at 0 a removal is permanent."""
    t = themes_for(themes={"problems_per_month": 1, "hot_spot_streets": 1, "lag_days": 0,
                           "effectiveness": 0.8, "policy_effectiveness": 0.0})
    complain(t, [[0, 0, 0, 0], [5, 0, 0, 0]] + [[0, 0, 0, 0]] * 4)
    t.month_start(1, 31)
    t.daily(31)
    assert t.sources.left[1, 0] == pytest.approx(0.2)
    for _ in range(365):
        t.sources.recover(0.5)
    assert 1 - t.sources.left[1, 0] == pytest.approx(0.8 * math.exp(-0.5))
    assert np.all(t.sources.left[[0, 2, 3, 4, 5]] == 1.0)
    before = t.sources.left.copy()
    t.sources.recover(0.0)
    assert np.array_equal(t.sources.left, before)


def test_streets_own_governance_takes_their_excess_category():
    """主动治理: each street works on the category where its complaints most exceed the city's
    rate for its residents, every `every_months` months, at its own cost."""
    t = themes_for(themes={"enabled": False},
                   street_governance={"enabled": True, "every_months": 2, "lag_days": 5,
                                      "effectiveness": 0.3, "cost_staff_hours": 50.0})
    complain(t, [[10, 1, 0, 0], [10, 1, 0, 0], [10, 8, 0, 0], [10, 1, 0, 6], [0, 0, 0, 0],
                 [10, 1, 0, 0]])
    t.month_start(1, 31)
    assert t.projects == []  # not due yet: the record keeps growing
    t.month_start(2, 59)
    mine = {int(p.streets[0]): p.category for p in t.projects}
    assert mine[2] == 1 and mine[3] == 3  # their own excess, not the city's top category
    assert 4 not in mine  # no complaints, nothing to work on
    units, hours = t.daily(59)
    assert set(units.tolist()) == set(mine) and hours == pytest.approx(10.0)
    t.daily(64)
    assert t.sources.left[2, 1] == pytest.approx(0.7) and t.sources.left[2, 0] == 1.0


def test_source_governance_lowers_theme_occurrence_after_its_lag():
    """After its lag a project removes `effectiveness` of its category's source in its streets,
    and nothing else: the category's problems there occur less often, against the same run
    without themes (common random numbers: the same problems, problem by problem)."""
    lag, effectiveness = 30, 0.9
    themes = {"lag_days": lag, "effectiveness": effectiveness, "hot_spot_streets": 8,
              "policy_effectiveness": 0.0}
    r = small_run("proactive", days=150, themes=themes, street_governance=OFF,
                  demand={"source_recovery_per_year": 0.0})
    p = r.problems
    prevented = p[p["outcome"] == "prevented"]
    assert len(prevented) > 0
    # nothing is prevented before the first theme (chosen at the first month end) plus its lag
    first_possible = 31 + lag
    assert prevented["occurred_day"].min() >= first_possible
    first = r.meta["themes"][0]  # chosen at the end of January, in effect by day 61
    assert first["kind"] == "hot_spot"

    def ours(q):
        return q[(q["category"] == first["category"]) & q["street"].isin(first["streets"])
                 & (q["occurred_day"] >= 70)]

    root = ours(p)[ours(p)["root_cause"]]
    share = (root["outcome"] == "prevented").mean()
    assert len(root) > 100
    assert abs(share - effectiveness) < 4 * math.sqrt(effectiveness * (1 - effectiveness)
                                                      / len(root)), (share, len(root))
    assert not (ours(p).loc[~ours(p)["root_cause"], "outcome"] == "prevented").any()
    elsewhere = p[(p["category"] != first["category"]) & (p["occurred_day"] < 61 + 28)]
    assert not (elsewhere["outcome"] == "prevented").any()  # later themes: not yet in effect
    # what actually occurs there falls by the source's share of the category's demand
    without = small_run("proactive", days=150, themes=OFF, inspection=OFF,
                        street_governance=OFF, demand={"source_recovery_per_year": 0.0}).problems
    occurred = (ours(p)["outcome"] != "prevented").sum()
    assert len(ours(without)) == len(ours(p))  # the same problems would have occurred
    assert occurred < len(ours(without)) - 0.8 * len(root)


def test_policy_lowers_the_theme_category_everywhere():
    r = small_run("proactive", days=120, themes={"problems_per_month": 0, "lag_days": 20,
                                                 "policy_effectiveness": 0.6},
                  street_governance=OFF, demand={"source_recovery_per_year": 0.0})
    first = r.meta["themes"][0]
    assert first["kind"] == "policy" and first["streets"] == []
    p = r.problems
    after = p[(p["category"] == first["category"]) & (p["occurred_day"] >= 31 + 20)
              & (p["occurred_day"] < 59 + 20) & p["root_cause"]]
    assert after["street"].nunique() == 8  # every street
    share = (after["outcome"] == "prevented").mean()
    assert share == pytest.approx(0.6, abs=4 * math.sqrt(0.24 / len(after)))


def test_streets_own_governance_prevents_and_costs_street_hours():
    base = small_run("hotline", days=150)
    own = small_run("hotline", days=150, street_governance={"enabled": True, "lag_days": 20,
                                                           "every_months": 1})
    assert base.measures["prevented"] == 0
    assert own.meta["street_projects"] >= 8
    assert own.measures["prevented"] > 0
    assert own.measures["street_staff_hours"] > base.measures["street_staff_hours"]


def test_proactive_preset_prevents_a_measurable_share_without_devolved_powers():
    hot = small_run("hotline", days=240)
    pro = small_run("proactive", days=240)
    assert not pro.scenario.devolution.devolved_powers
    share = pro.measures["prevented"] / pro.measures["occurred"]
    assert share > 0.01, share
    assert hot.measures["prevented"] == 0
    assert pro.measures["found_proactively"] > hot.measures["found_proactively"]


def test_inspection_finds_heating_problems_in_season():
    r = small_run("proactive", days=60, themes=OFF)
    p = r.problems
    found = p[p["channel"] == "inspection"]
    assert len(found) > 0
    assert set(found["category"].astype(str)) == {"heating"}
    off = small_run("proactive", days=60, themes=OFF, inspection=OFF)
    assert (off.problems["channel"] == "inspection").sum() == 0


def test_satisfaction_though_unresolved_moves_satisfaction_not_resolution():
    """`satisfaction.unresolved` tells being answered from being resolved: raising it raises
    satisfaction by the unresolved share times the change and leaves resolution exactly as it
    was when nothing feeds back on the cases (trust held still, no ranking)."""
    still = {"reporting": {"trust_sensitivity": 0.0}, "ranking": OFF}
    low = small_run("hotline", days=60, satisfaction={"unresolved": 0.15}, **still)
    high = small_run("hotline", days=60, satisfaction={"unresolved": 0.65}, **still)
    lo, hi = low.measures, high.measures
    assert hi["resolution_rate"] == lo["resolution_rate"]
    assert hi["resolved"] == lo["resolved"]
    gain = hi["satisfaction_rate"] - lo["satisfaction_rate"]
    assert gain == pytest.approx(0.5 * (1 - lo["resolution_rate"]), abs=0.02)
    assert gain > 0.05
    # with trust and ranking feeding back, resolution still barely moves
    lo, hi = (small_run("hotline", days=60, satisfaction={"unresolved": u}).measures
              for u in (0.15, 0.65))
    assert abs(hi["resolution_rate"] - lo["resolution_rate"]) < 0.01
    assert hi["satisfaction_rate"] - lo["satisfaction_rate"] > 0.05


def test_satisfaction_though_unresolved_can_change_on_a_timeline():
    """A dated change of `satisfaction.unresolved` moves the verdicts of cases closed after it,
    and only those."""
    still = {"reporting": {"trust_sensitivity": 0.0}, "ranking": OFF}
    change = [{"date": "2019-03-01", "set": {"satisfaction.unresolved": 0.9}}]
    base = small_run("hotline", days=90, **still)
    moved = small_run("hotline", days=90, timeline=change, **still)

    def rates(r, before):
        p = r.problems
        closed = p[p["outcome"].isin(["resolved", "closed_unresolved"])]
        day = closed["closed_h"] // 24
        sel = closed[(day < 59) if before else (day >= 60)]
        unresolved = sel[sel["outcome"] == "closed_unresolved"]
        return (sel["outcome"] == "resolved").mean(), unresolved["satisfied"].astype(float).mean()

    assert rates(moved, True) == rates(base, True)
    res_b, sat_b = rates(base, False)
    res_m, sat_m = rates(moved, False)
    assert res_m == res_b
    base_value = load_scenario("hotline").satisfaction.unresolved
    assert sat_b == pytest.approx(base_value, abs=0.05) and sat_m == pytest.approx(0.9, abs=0.05)


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
        assert r.measures["resolved_latency_occurrence_h_median"] < \
            frag.measures["resolved_latency_occurrence_h_median"], preset
        assert r.measures["resolution_rate"] > frag.measures["resolution_rate"], preset
    assert np.isfinite(frag.measures["resolved_latency_occurrence_h_p99"])


def test_a_city_theme_is_taken_up_once_whatever_the_record():
    """`themes.city_theme` starts the category's city-wide policy at the next month's start,
    even with 每月一题 off and nothing complained of; heating problems occurring then fall
    once the policy takes effect, and no other category moves."""
    from sim.scenario.schema import Scenario

    t = themes_for(themes={"enabled": False})
    t.category_keys = ["epidemic", "market", "heating", "utilities"]
    t.configure(Scenario.model_validate({"themes": {"enabled": False,
                                                    "city_theme": "heating"}}))
    t.month_start(1, 31)
    assert [(p.category, p.kind) for p in t.projects] == [(2, "policy")]
    t.month_start(2, 59)  # once only
    assert len(t.projects) == 1

    with pytest.raises(ValueError, match="one of the categories"):
        Scenario.model_validate({"themes": {"city_theme": "weather"}})

    change = [{"date": "2019-02-01", "set": {"themes.city_theme": "heating",
                                             "themes.policy_effectiveness": 0.6,
                                             "themes.lag_days": 10}}]
    base = small_run("fragmented", days=300, demand={"rate_per_10k_per_day": 10.0})
    acted = small_run("fragmented", days=300, timeline=change,
                      demand={"rate_per_10k_per_day": 10.0})

    def late(r, category):  # problems occurring from day 60 (not prevented at the source)
        p = r.problems
        return int(((p["category"] == category) & (p["occurred_h"] >= 60 * 24)
                    & (p["outcome"] != "prevented")).sum())

    # only root causes come from sources: heating's 40 % of them, 60 % removed -> about -24 %
    assert late(acted, "heating") / late(base, "heating") == pytest.approx(1 - 0.4 * 0.6,
                                                                          abs=0.06)
    assert late(acted, "market") == pytest.approx(late(base, "market"), rel=0.1)
