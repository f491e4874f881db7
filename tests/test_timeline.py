"""The `timeline`: dated changes switch mechanisms on and set parameters during a run."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import sim
from sim.engine.desks import people
from sim.errors import InputError
from sim.model import make_city
from sim.scenario.loader import deep_merge, validate
from tests.conftest import SMALL_CITY, steady

START = dt.date(2019, 1, 1)


def _scenario(preset: str = "fragmented", days: int = 90, **extra) -> dict:
    data = deep_merge(steady(preset), {"city": SMALL_CITY, "days": days, "seed": 5,
                                       "scale": 1.0, "start_date": START})
    data.update(extra)
    return data


HOTLINE_ON = {"hotline.enabled": True, "ranking.enabled": True}


def test_change_on_day_zero_is_the_same_as_the_changed_scenario():
    """A change dated on (or before) the first day applies from the start: the run is
    identical, number for number, to the scenario with those fields set in the file."""
    on_file = _scenario("hotline")
    by_timeline = _scenario("whistle", timeline=[{"date": START, "reforms": ["hotline"]}],
                            name=on_file["name"], regime=on_file["regime"],
                            description=on_file["description"])
    a, b = sim.run(on_file, days=30), sim.run(by_timeline, days=30)
    pd.testing.assert_frame_equal(a.problems, b.problems)
    pd.testing.assert_frame_equal(a.units_daily, b.units_daily)


def test_hotline_switches_on_at_its_date():
    switch = START + dt.timedelta(days=45)
    data = _scenario("whistle", timeline=[{"date": switch, "set": HOTLINE_ON,
                                           "note": "12345 merges the lines"}])
    r = sim.run(data)
    p = r.problems
    tickets = p[p["channel"] == "hotline"]
    assert len(tickets) > 100
    assert tickets["entered_h"].min() >= 45 * 24.0  # nothing reaches 12345 before the date
    before = p[(p["entered_h"] < 45 * 24.0) & p["entered_h"].notna()]
    assert set(before["channel"].astype(str)) <= {"street_line", "dept_line", "patrol"}
    # induced reporting: more problems are reported per day after the change
    day = np.floor(p["entered_h"] / 24.0)
    per_day_before = ((day >= 15) & (day < 45)).sum() / 30
    per_day_after = ((day >= 60) & (day < 90)).sum() / 30
    assert per_day_after > 1.3 * per_day_before
    # the hotline desk is staffed from the date on, and only then
    ud = r.units_daily
    seats = ud[ud["unit_type"] == "hotline"].set_index("day")["staff"]
    assert (seats.loc[:44] == 0).all() and (seats.loc[45:] > 0).all()
    # ranking starts with the first full month under the hotline
    assert len(r.rankings) > 0 and r.rankings["month"].min() >= 1
    assert r.scenario.timeline[0].note == "12345 merges the lines"  # the run keeps its history


def test_enforcement_teams_appear_when_forces_sink_down():
    switch = START + dt.timedelta(days=30)
    data = _scenario("fragmented", timeline=[{"date": switch, "set": {
        "devolution.enforcement_team": True}}])
    ud = sim.run(data, days=60).units_daily
    teams = ud[ud["unit_type"] == "enforcement"]
    assert not teams.empty
    by_day = teams.groupby("day")[["staff", "arrivals"]].sum()
    assert (by_day.loc[:29].to_numpy() == 0).all()
    assert (by_day.loc[30:, "staff"] > 0).all() and by_day.loc[30:, "arrivals"].sum() > 0


def test_growth_rate_change_continues_from_the_current_level():
    """A new growth rate compounds from the day it starts: occurrence has no jump."""
    change = START + dt.timedelta(days=180)
    data = _scenario("fragmented", days=360, timeline=[
        {"date": change, "set": {"demand.growth_per_year": 1.0}}])
    data["demand"]["growth_per_year"] = 0.0
    data["demand"]["weekly_profile"] = [1.0] * 7
    data["demand"]["heating_season_multiplier"] = 1.0
    occurred = sim.run(data).daily.set_index("day")["occurred"]
    before = occurred.loc[150:179].mean()
    just_after = occurred.loc[180:209].mean()
    end = occurred.loc[330:359].mean()
    # at most a few per cent higher in the first month (doubling per year: +6 % after 30 days)
    assert just_after < before * 1.12
    # ... and about 2 ** (165 / 365) = 1.37 times higher five months on
    assert 1.25 < end / before < 1.5


def test_a_category_follows_its_share_of_growth():
    """A category's `growth` is the power of the city's growth level it follows: at 0 its
    occurrence stays flat while the rest grow; a dated change of the city's rate carries over."""
    change = START + dt.timedelta(days=180)
    data = _scenario("fragmented", days=360, timeline=[
        {"date": change, "set": {"demand.growth_per_year": 0.5}}])
    data["demand"]["growth_per_year"] = 1.0
    data["demand"]["weekly_profile"] = [1.0] * 7
    data["demand"]["heating_season_multiplier"] = 1.0
    data["demand"]["categories"] = {"heating": {"growth": 0.0}, "housing": {"growth": 0.5}}
    problems = sim.run(data).problems
    day = problems["occurred_h"] // 24
    first, last = problems[day < 60], problems[day >= 300]

    def ratio(category: str) -> float:
        return (last["category"] == category).sum() / (first["category"] == category).sum()

    # the city's level from day 30 to day 330: 2 ** (150 / 365) * 1.5 ** (150 / 365) = 1.57
    city = ratio("market")
    assert 1.4 < city < 1.75
    assert 0.8 < ratio("heating") < 1.25  # flat
    assert 0.8 * city ** 0.5 < ratio("housing") < 1.25 * city ** 0.5


def test_effort_survives_a_change():
    """State that outlives a change is kept: ranking pressure keeps its effort levels."""
    data = _scenario("hotline", days=120, timeline=[
        {"date": START + dt.timedelta(days=75), "set": {"satisfaction.resolved_late": 0.5}}])
    r = sim.run(data)
    efforts = r.rankings.groupby("month")["effort_next_month"].mean()
    assert efforts.loc[2] > 1.0  # pressure has built up by March and was not reset in mid-March


def test_timeline_run_is_reproducible():
    data = _scenario("fragmented", days=60, timeline=[
        {"date": START + dt.timedelta(days=20), "set": {"whistle.enabled": True}},
        {"date": START + dt.timedelta(days=40), "set": HOTLINE_ON}])
    a, b = sim.run(data), sim.run(data)
    pd.testing.assert_frame_equal(a.problems, b.problems)


def test_changes_apply_in_date_order_and_build_on_each_other():
    # written out of order: the later one sets a field the earlier one switched on
    data = _scenario("fragmented", timeline=[
        {"date": "2019-03-01", "set": {"whistle.report_window_minutes": 60}},
        {"date": "2019-02-01", "set": {"whistle.enabled": True}}])
    r = sim.run(data)
    delays = r.problems.dropna(subset=["report_delay_h"])
    feb = delays[(delays["entered_h"] > 40 * 24) & (delays["entered_h"] < 55 * 24)]
    late_in_march = delays[delays["entered_h"] > 65 * 24]
    on_time = late_in_march[late_in_march["late_reports"] == 0]
    assert len(feb) and len(late_in_march)
    assert feb.loc[feb["late_reports"] == 0, "report_delay_h"].max() <= 0.5
    assert on_time["report_delay_h"].max() > 0.5  # the wider window is in force


@pytest.mark.parametrize(("change", "field", "expected"), [
    ({"hotline.enabled": "soon"}, "timeline[0].set.hotline.enabled", "valid boolean"),
    ({"hotline.seats": 3}, "timeline[0].set.hotline.seats", "known field"),
    ({"scale": 0.5}, "timeline[0].set.scale", "may change during a run"),
    ({"city.source": "synthetic"}, "timeline[0].set.city.source", "may change during a run"),
    ({"ranking.weights": [0.5, 0.5, 0.5]}, "timeline[0].set.ranking.weights", "sum to 1"),
    ({}, "timeline[0].set", "at least one field"),
])
def test_bad_changes_name_the_entry_and_field(change, field, expected):
    with pytest.raises(InputError) as err:
        validate({"timeline": [{"date": "2019-05-01", "set": change}]}, "my.yaml")
    assert err.value.file == "my.yaml"
    assert err.value.field == field
    assert expected in err.value.expected


def test_a_change_is_checked_against_the_state_before_it():
    # the second change is fine alone but breaks the shares the first one set
    bad = {"timeline": [
        {"date": "2019-02-01", "set": {"ranking.advanced_share": 0.6}},
        {"date": "2019-03-01", "set": {"ranking.governance_share": 0.5}}]}
    with pytest.raises(InputError) as err:
        validate(bad, "my.yaml")
    assert err.value.field.startswith("timeline[1].set")


def test_missing_date_is_an_input_error():
    with pytest.raises(InputError) as err:
        validate({"timeline": [{"set": {"whistle.enabled": True}}]}, "my.yaml")
    assert err.value.field == "timeline[0].date"


def test_staff_grow_month_by_month_and_a_new_rate_continues():
    data = _scenario("fragmented", days=365, timeline=[
        {"date": START + dt.timedelta(days=181), "set": {"staffing.growth_per_year": 0.0}}])
    data["staffing"]["growth_per_year"] = 0.5
    ud = sim.run(data).units_daily
    streets = ud[ud["unit_type"] == "street"].groupby("day")["staff"].sum()
    assert streets.loc[0:30].nunique() == 1  # constant within the first month
    # +50 % a year for half a year: x 1.5 ** (181 / 365) = 1.22, then held there; each office
    # has that many of its expected head count, in whole people
    city = make_city(validate(data).city)
    expected = (city.street_population / 1e4 * data["staffing"]["street_staff_per_10k"]
                * data["staffing"]["staff_level"])  # the level the calibrated city had reached
    assert streets.loc[0] == people(expected).sum()
    assert streets.loc[181] == people(expected * 1.5 ** (181 / 365)).sum()
    assert streets.loc[181] > 1.1 * streets.loc[0]
    assert streets.loc[364] == pytest.approx(streets.loc[181])
