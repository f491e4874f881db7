"""The engine: reproducibility, the accounting invariant, the staff desk against queueing theory."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.engine.desk import Desk
from sim.engine.ledger import Ledger
from sim.results import AccountingError, check_accounting

from .conftest import small_run


def test_same_seed_same_numbers():
    a = small_run("hotline", days=20, seed=7)
    b = small_run("hotline", days=20, seed=7)
    pd.testing.assert_frame_equal(a.problems, b.problems)
    pd.testing.assert_frame_equal(a.units_daily, b.units_daily)
    pd.testing.assert_frame_equal(a.summary, b.summary)


def test_different_seeds_differ():
    a = small_run("hotline", days=20, seed=1)
    b = small_run("hotline", days=20, seed=2)
    assert len(a.problems) != len(b.problems) or not a.problems.equals(b.problems)


@pytest.mark.parametrize("preset", sim.PRESETS)
def test_every_problem_counted_exactly_once(preset):
    r = small_run(preset, days=45)
    p = r.problems
    assert p["pid"].is_unique
    assert np.array_equal(np.sort(p["pid"].to_numpy()), np.arange(len(p)))
    counts = p["outcome"].value_counts()
    assert counts.sum() == len(p)
    m = r.measures
    parts = ["resolved", "closed_unresolved", "still_open", "prevented", "never_reported"]
    assert sum(m[k] for k in parts) == pytest.approx(m["occurred"])
    # resolved problems have a closing time, open ones do not
    assert p.loc[p["outcome"] == "resolved", "closed_h"].notna().all()
    assert p.loc[p["outcome"] == "open", "closed_h"].isna().all()
    assert (p["latency_occurrence_h"].dropna() >= 0).all()


def test_accounting_check_catches_a_lost_or_doubled_problem():
    arrays = {"pid": np.array([0, 1, 1]), "outcome": np.array([0, 0, 0])}
    with pytest.raises(AccountingError):
        check_accounting(arrays, 3)
    with pytest.raises(AccountingError):
        check_accounting({"pid": np.array([0, 1]), "outcome": np.array([0, 1])}, 3)


def test_desk_working_hours():
    desk = Desk(0, staff=1, opens=8.0, hours=8.0, ledger=Ledger(1, 10))
    assert desk.after(9.0, 2.0) == pytest.approx(11.0)  # inside the shift
    assert desk.after(15.0, 2.0) == pytest.approx(24 + 9.0)  # carries over to the next day
    assert desk.after(20.0, 1.0) == pytest.approx(24 + 9.0)  # after hours: waits
    assert desk.after(8.0, 16.0) == pytest.approx(24 + 16.0)  # exactly two shifts
    assert desk.after(9.0, 16.0) == pytest.approx(48 + 9.0)  # 7 h + 8 h + 1 h
    desk.set_effort(1.5)  # 12-hour days
    assert desk.after(9.0, 12.0) == pytest.approx(24 + 9.0)


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C)."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


@pytest.mark.parametrize(("servers", "rho"), [(1, 0.8), (5, 0.9)])
def test_desk_agrees_with_erlang_c(servers, rho):
    # Round-the-clock desk, Poisson arrivals, exponential work: an M/M/c queue. 200,000
    # customers keep the standard error of the mean wait near 2 % at these loads; 8 % tolerance.
    rng = np.random.default_rng(3)
    mu = 1.0
    lam = rho * servers * mu
    n = 200_000
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    work = rng.exponential(1 / mu, n)
    desk = Desk(0, staff=servers, opens=0.0, hours=24.0, ledger=Ledger(1, 1))
    waits = np.empty(n)
    for i in range(n):
        start = max(arrivals[i], desk.free[0])
        desk.serve(arrivals[i], work[i])
        waits[i] = start - arrivals[i]
    simulated = waits[n // 10:].mean()
    assert simulated == pytest.approx(erlang_c_wait(lam, mu, servers), rel=0.08)


def test_fractional_staff_conserve_hours():
    desk = Desk(0, staff=0.5, opens=0.0, hours=24.0, ledger=Ledger(1, 1))
    assert desk.servers == 1
    assert desk.serve(0.0, 1.0) == pytest.approx(2.0)  # half a person takes twice as long


def test_little_law_per_unit_type():
    # Time-averaged number in system L = arrival rate x mean time in system W, per unit type,
    # over a window long against typical sojourns (edge effects are then a few per cent).
    r = small_run("hotline", days=90)
    ud = r.units_daily
    window = ud[(ud["day"] >= 20) & (ud["day"] < 80)]
    hours = 60 * 24.0
    checked = 0
    for unit_type, g in window.groupby("unit_type", observed=True):
        if g["arrivals"].sum() < 500:
            continue
        time_avg_in_system = g["mean_in_system"].sum() / 60
        lam = g["arrivals"].sum() / hours
        w = g["sojourn_hours"].sum() / g["arrivals"].sum()
        assert time_avg_in_system == pytest.approx(lam * w, rel=0.1), unit_type
        checked += 1
    assert checked >= 3


def test_scale_reports_real_city_units():
    # 120 days of ~1,000 problems a day at full scale: the 0.25 sample's count has a relative
    # standard error of about 2 %, so 6 % is three standard errors.
    a = small_run("fragmented", days=120, scale=1.0)
    b = small_run("fragmented", days=120, scale=0.25)
    assert b.measures["occurred"] == pytest.approx(a.measures["occurred"], rel=0.06)
    assert len(b.problems) == pytest.approx(0.25 * len(a.problems), rel=0.06)
