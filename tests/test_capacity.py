"""Capacity as Beijing grew it: handling productivity, and a hotline bounded by its operators and
the calls each answers in a shift; and demand shocks that overlap."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import GovernanceModel
from sim.scenario.categories import load_categories
from sim.scenario.loader import deep_merge, load_scenario
from sim.scenario.schema import Scenario

from .conftest import SMALL_CITY, small_run, steady

#: A small city kept busy at fixed demand: enforcement teams near capacity (utilisation about
#: 0.9), street offices and departments about half busy (demand, head count and productivity at
#: their base levels, not those the calibrated city had reached by 2019).
BUSY = {"demand": {"rate_per_10k_per_day": 5.0, "growth_level": 1.0},
        "staffing": {"staff_level": 1.0, "productivity_level": 1.0}}


def hotline_rows(result):
    units = result.units_daily
    return units[units["unit_type"] == "hotline"]


def test_productivity_growth_lowers_latency_and_backlog_under_fixed_demand():
    flat = small_run("hotline", days=240, **BUSY)
    faster = small_run("hotline", days=240,
                       **deep_merge(BUSY, {"staffing": {"productivity_growth_per_year": 1.0}}))
    # the same problems (common random numbers), fewer staff hours for each handling
    assert faster.measures["occurred"] == flat.measures["occurred"]
    for kind in ("street", "department"):
        assert faster.measures[f"{kind}_staff_hours"] < 0.9 * flat.measures[f"{kind}_staff_hours"]
    assert (faster.measures["resolved_latency_report_h_mean"]  # about 15 % shorter
            < 0.9 * flat.measures["resolved_latency_report_h_mean"])
    def late(r):
        return r.units_daily.query("day >= 180 and unit_type != 'hotline'")

    assert late(faster)["backlog"].sum() < late(flat)["backlog"].sum()
    # head count is untouched: productivity is not staff
    assert late(faster)["staff"].sum() == late(flat)["staff"].sum()


def test_zero_productivity_growth_is_the_default():
    """Off unless a scenario says so; the presets carry the calibrated city's growth."""
    spec = Scenario()
    assert spec.staffing.productivity_growth_per_year == 0.0
    assert spec.hotline.operators is None and spec.hotline.calls_per_shift is None
    history = load_scenario("beijing-2018-2024")
    assert load_scenario("proactive").staffing.productivity_growth_per_year == \
        history.staffing.productivity_growth_per_year > 0


@pytest.mark.parametrize("operators", [6, 12])
def test_operators_and_calls_per_shift_bound_the_hotline(operators):
    calls = 90
    consult = 1.44
    # no emergencies: those are taken at once, on call, and their seat time is taken from the
    # calls queued behind them, so within a saturated run they finish beyond the bound
    calm = {k: {"emergency_share": 0.0} for k in load_categories(load_scenario("hotline")).keys}
    result = small_run("hotline", days=20,
                       demand={"rate_per_10k_per_day": 30.0, "categories": calm},
                       staffing={"work_cv": 0.0},
                       hotline={"operators": operators, "calls_per_shift": calls,
                                "consultations_per_request": consult})
    line = hotline_rows(result)
    assert (line["staff"] == operators * 8 / 24).all()  # seats on duty, round the clock
    answered = line["completions"].to_numpy() * (1 + consult)  # contacts answered a day
    bound = operators * calls
    # never more than the operators' shifts allow, up to a request finishing after midnight
    days = np.arange(1, len(answered) + 1)
    assert (np.cumsum(answered) <= bound * days + (1 + consult) * operators).all()
    assert answered.max() <= bound + (1 + consult) * operators
    # and the line is saturated: it answers about that many from the fourth day
    assert answered[3:].mean() == pytest.approx(bound, rel=0.03)
    assert line["backlog"].iloc[-1] > 0
    # seat hours (booked on the day a request starts): the seats on duty round the clock
    one_request = (1 + consult) * 8 / calls
    assert (line["busy_hours"] <= line["available_hours"] + line["staff"] * one_request).all()


def test_given_operators_do_not_grow_with_staff():
    result = small_run("hotline", days=120, staffing={"growth_per_year": 1.0},
                       hotline={"operators": 30})
    line = hotline_rows(result)
    assert line["staff"].nunique() == 1 and line["staff"].iloc[0] == 10
    others = result.units_daily.query("unit_type != 'hotline'").groupby("day")["staff"].sum()
    assert others.iloc[-1] > 1.1 * others.iloc[0]


def test_calls_per_shift_sets_the_seat_time_of_every_contact():
    from sim.mechanisms.channels import seat_hours
    spec = Scenario()
    assert seat_hours(spec) == pytest.approx((6.0 + 1.44 * 4.0) / 60.0)
    spec.hotline.calls_per_shift = 96.0
    assert seat_hours(spec) == pytest.approx(2.44 * 5.0 / 60.0)
    # the calibrated city: 90 calls an 8-hour shift (Bernama, 2024)
    assert seat_hours(load_scenario("hotline")) == pytest.approx(2.44 * 8.0 / 90.0)


def test_overlapping_shocks_multiply():
    data = deep_merge(steady("hotline"), {"city": SMALL_CITY, "days": 30})
    data["demand"]["shocks"] = [
        {"start_day": 5, "days": 10, "multiplier": 4.0, "categories": ["epidemic"]},
        {"start_day": 10, "days": 10, "multiplier": 2.5, "categories": ["epidemic", "health"]},
    ]
    model = GovernanceModel(Scenario.model_validate(data))
    demand, table = model.demand, model.table
    epi, health, market = (table.index(k) for k in ("epidemic", "health", "market"))

    def ratio(day, k):
        return demand.rates(day)[:, k].sum() / (demand.base[:, k] * demand.factors(day)[k]).sum()

    assert ratio(2, epi) == pytest.approx(1.0)
    assert ratio(7, epi) == pytest.approx(4.0)
    assert ratio(12, epi) == pytest.approx(10.0)  # both windows: 4 x 2.5
    assert ratio(12, health) == pytest.approx(2.5)
    assert ratio(17, epi) == pytest.approx(2.5)
    assert np.isclose(ratio(12, market), 1.0)
