"""Tests of `sim.resolution`: the share of all problems resolved within t, on hand-built problem
tables whose answer is known, and its columns in a run's summary."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.resolution import headline, resolution_curve
from tests.conftest import small_run

NAN = float("nan")
DAY = 24.0


def table(rows: list[tuple[float, float, float, str]]) -> pd.DataFrame:
    """Problems as (occurred_h, entered_h, closed_h, outcome)."""
    occurred, entered, closed, outcome = zip(*rows, strict=True)
    return pd.DataFrame({"occurred_h": occurred, "entered_h": entered, "closed_h": closed,
                         "outcome": pd.Categorical(outcome)})


#: Ten days watched from the start for everyone: no censoring, so shares are plain fractions.
EVERYONE_WATCHED = table([
    (0.0, 2.0, 12.0, "resolved"),  # 12 h from occurrence, 10 h from report
    (0.0, 4.0, 36.0, "resolved"),  # 36 h, 32 h
    (0.0, 1.0, 100.0, "resolved"),  # 100 h, 99 h
    (0.0, 5.0, 50.0, "closed_unresolved"),  # closed on paper: never resolved
    (0.0, NAN, NAN, "never_reported"),
    (0.0, 3.0, NAN, "open"),
    (0.0, NAN, NAN, "prevented"),  # troubled nobody: not counted
])


def test_every_problem_counts_and_the_unresolved_stay_unresolved() -> None:
    curve = resolution_curve(EVERYONE_WATCHED, horizon_h=10 * DAY)
    assert curve.problems == 6  # the prevented problem is left out
    assert curve.share_within(DAY) == pytest.approx(1 / 6)
    assert curve.share_within(2 * DAY) == pytest.approx(2 / 6)
    assert curve.share_within(7 * DAY) == pytest.approx(3 / 6)
    assert curve.half_h == pytest.approx(100.0)  # the third of six resolved
    assert curve.ever == pytest.approx(0.5)
    assert math.isnan(curve.share_within(30 * DAY))  # a 10-day run cannot say
    row = headline(curve)
    assert row == pytest.approx({"resolved_within_1d_share": 1 / 6,
                                 "resolved_within_7d_share": 0.5,
                                 "resolved_within_30d_share": NAN,
                                 "half_resolved_h": 100.0}, nan_ok=True)


def test_from_report_counts_the_problems_that_entered() -> None:
    curve = resolution_curve(EVERYONE_WATCHED, horizon_h=10 * DAY, basis="report")
    assert curve.problems == 5  # never reported and prevented problems never entered
    assert curve.share_within(DAY) == pytest.approx(1 / 5)
    assert curve.share_within(33.0) == pytest.approx(2 / 5)
    assert curve.half_h == pytest.approx(99.0)  # the third of five: 60 % >= half
    assert math.isnan(curve.time_to_share(0.8))  # never reached


def test_half_is_not_reached_when_fewer_than_half_are_resolved() -> None:
    few = table([(0.0, 1.0, 5.0, "resolved"), (0.0, NAN, NAN, "never_reported"),
                 (0.0, NAN, NAN, "never_reported")])
    curve = resolution_curve(few, horizon_h=5 * DAY)
    assert curve.share_within(DAY) == pytest.approx(1 / 3)
    assert math.isnan(curve.half_h)


def test_problems_watched_briefly_are_censored_not_counted_as_failures() -> None:
    # two problems from day 0, one resolved after 2 days; two from day 9 of a 10-day run, one
    # resolved after 12 h, the other open at the end (watched 24 h). Kaplan-Meier: at 12 h,
    # 1 of 4 at risk resolves (S = 3/4); at 48 h, 1 of the 2 still watched (S = 3/8).
    rows = table([(0.0, 0.0, 48.0, "resolved"), (0.0, 0.0, NAN, "open"),
                  (9 * DAY, 9 * DAY, 9 * DAY + 12.0, "resolved"),
                  (9 * DAY, 9 * DAY, NAN, "open")])
    curve = resolution_curve(rows, horizon_h=10 * DAY)
    assert curve.share_within(DAY) == pytest.approx(1 / 4)
    assert curve.share_within(3 * DAY) == pytest.approx(1 - 3 / 8)
    assert curve.half_h == pytest.approx(48.0)
    # the naive share of all four resolved within 3 days would be 2/4: the open problem of day
    # 9 has not had 3 days yet, so it does not count against the regime
    assert curve.share_within(3 * DAY) != pytest.approx(0.5)


def test_no_problems_and_no_resolutions() -> None:
    empty = table([(0.0, NAN, NAN, "prevented")])
    assert math.isnan(resolution_curve(empty, horizon_h=DAY).share_within(1.0))
    none = table([(0.0, 1.0, NAN, "open")])
    curve = resolution_curve(none, horizon_h=3 * DAY)
    assert curve.share_within(DAY) == 0.0 and math.isnan(curve.half_h) and curve.ever == 0.0


def test_bad_basis_is_an_input_error() -> None:
    from sim.errors import InputError

    with pytest.raises(InputError):
        resolution_curve(EVERYONE_WATCHED, horizon_h=DAY, basis="callback")


def test_summary_columns_agree_with_the_problem_table() -> None:
    r = small_run("hotline", days=40, seed=3, scale=0.5)
    m = r.measures
    p = r.problems
    curve = resolution_curve(p, 24.0 * r.scenario.days)
    for d in (1, 7, 30):
        assert m[f"resolved_within_{d}d_share"] == pytest.approx(curve.share_within(24.0 * d))
    # the 1-day share checked by hand on the problems watched a full day (a cohort estimate)
    arose = p[p["outcome"].astype(str) != "prevented"]
    watched = arose[arose["occurred_h"] <= 24.0 * (r.scenario.days - 1)]
    quick = (watched["latency_occurrence_h"] <= 24.0).mean()
    assert m["resolved_within_1d_share"] == pytest.approx(quick, abs=0.02)
    # all-problem shares are below the resolved-only ones: the unresolved count
    resolved_only = (p["latency_occurrence_h"].dropna() <= 7 * 24).mean()
    assert m["resolved_within_7d_share"] < resolved_only
    assert m["resolved_latency_occurrence_h_median"] == pytest.approx(
        np.median(p["latency_occurrence_h"].dropna()))


def _reference_curve(p: pd.DataFrame, horizon_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier from occurrence, written out plainly (np.unique over the events)."""
    keep = p["outcome"].astype(str) != "prevented"
    start = p.loc[keep, "occurred_h"].to_numpy(float)
    resolved = (p.loc[keep, "outcome"].astype(str) == "resolved").to_numpy()
    time = np.where(resolved, p.loc[keep, "closed_h"].to_numpy(float) - start, horizon_h - start)
    hours, deaths = np.unique(time[resolved], return_counts=True)
    at_risk = len(time) - np.searchsorted(np.sort(time), hours, side="left")
    return hours, 1.0 - np.cumprod(1.0 - deaths / at_risk)


def test_the_curve_is_kaplan_meier_with_ties_and_censoring() -> None:
    """On random problems with many tied times (whole hours) and censoring, the curve is
    exactly the textbook estimate."""
    rng = np.random.default_rng(5)
    n = 5000
    occurred = rng.integers(0, 200, n).astype(float)
    closed = occurred + rng.integers(0, 60, n)
    outcome = rng.choice(["resolved", "closed_unresolved", "open", "prevented",
                          "never_reported"], n, p=[0.6, 0.1, 0.1, 0.1, 0.1])
    closed[outcome != "resolved"] = np.nan
    p = pd.DataFrame({"occurred_h": occurred, "entered_h": occurred, "closed_h": closed,
                      "outcome": pd.Categorical(outcome)})
    curve = resolution_curve(p, horizon_h=220.0)
    hours, share = _reference_curve(p, 220.0)
    np.testing.assert_array_equal(curve.hours, hours)
    np.testing.assert_array_equal(curve.share, share)
    assert curve.follow_up_h == 220.0 - occurred[outcome != "prevented"].min()


def test_daily_medians_are_pandas_groupby_medians() -> None:
    """The daily table's median latency per closing day (one sort, no table of the closed
    cases) is exactly pandas' groupby median: odd and even counts, ties, empty days."""
    from sim.ledger import medians_by_day

    rng = np.random.default_rng(9)
    day = rng.integers(0, 30, 2000)
    day = day[day != 7]  # a day without any
    values = rng.integers(0, 50, len(day)) / 4.0
    got = medians_by_day(values, day, 31)
    expected = pd.Series(values).groupby(day).median().reindex(range(31)).to_numpy()
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(got[7]) and np.isnan(got[30])
