"""Time to resolution over *all* problems, not only the resolved ones.

A median over resolved problems says nothing of the problems never resolved: under a regime that
resolves a quarter of its problems quickly, it looks fast. The measures here count every problem
in the denominator and a problem never resolved as never resolved:

- basis `occurrence`: every problem that arose (occurred and was not prevented: a prevented
  problem troubled nobody, so it has no wait), timed from occurrence (the resident's wait);
- basis `report`: every problem reported by a resident or found by a patrol or an inspection,
  timed from its entry into the system (what the hotline sees).

The run ends before every problem's fate is known: a problem that occurred on the last day was
watched for hours, not days. So the curve is a Kaplan-Meier estimate of the share resolved
within `t`, each problem not resolved by the end of the run censored at the time it was watched
(`horizon_h - start`). Problems closed unresolved, never reported or still open all count as
"not resolved by then"; the curve is known up to the longest follow-up (the run's length) and
assumes demand and service steady over the run (hence the brief's warm-up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine.counting import survival, survival_at

BASES = ("occurrence", "report")
#: The headline horizons, in days: within a day, a week, a month.
WITHIN_DAYS = (1, 7, 30)


@dataclass(frozen=True)
class ResolutionCurve:
    """The share of all problems (of `basis`) resolved within t hours, as a step function."""

    basis: str
    hours: np.ndarray  # distinct resolution times, ascending
    share: np.ndarray  # share resolved within each of those times
    follow_up_h: float  # the longest any problem was watched: beyond it the curve is unknown
    problems: int  # problems counted (the denominator at t = 0)

    def at(self, hours: float | np.ndarray) -> np.ndarray:
        """Share resolved within `hours` (NaN beyond the follow-up or without problems)."""
        t = np.asarray(hours, dtype=float)
        i = np.searchsorted(self.hours, t, side="right")
        values = np.concatenate([[0.0], self.share])[i]
        return np.where((t > self.follow_up_h) | (self.problems == 0), np.nan, values)

    def share_within(self, hours: float) -> float:
        return float(self.at(hours))

    def time_to_share(self, level: float) -> float:
        """Hours by which `level` of the problems are resolved; NaN if not reached in the run."""
        reached = np.flatnonzero(self.share >= level - 1e-12)
        return float(self.hours[reached[0]]) if reached.size else float("nan")

    @property
    def half_h(self) -> float:
        """Hours by which half of all problems are resolved (NaN: not reached in the run)."""
        return self.time_to_share(0.5)

    @property
    def ever(self) -> float:
        """Share resolved by the end of the follow-up (the curve's last value)."""
        return float(self.share[-1]) if self.share.size else (0.0 if self.problems else np.nan)


def resolution_curve(problems: pd.DataFrame, horizon_h: float,
                     basis: str = "occurrence") -> ResolutionCurve:
    """The Kaplan-Meier curve of time to resolution of `problems` (a result's problem table, its
    times in hours from the start of the measured period), the run ending at `horizon_h`."""
    if basis not in BASES:
        from sim.errors import InputError

        raise InputError(None, "basis", "one of " + ", ".join(BASES), basis)
    outcome = problems["outcome"]
    start = problems["occurred_h" if basis == "occurrence" else "entered_h"].to_numpy(float)
    resolved = rows_in(outcome, ("resolved",))
    # each problem watched to its resolution, else to the end of the run (censored); made in
    # place, since a 1:1 history has some 70 million rows and each temporary is 0.5 GB
    time = np.where(resolved, problems["closed_h"].to_numpy(float), horizon_h)
    time -= start
    keep = ~rows_in(outcome, ("prevented",)) if basis == "occurrence" else np.isfinite(start)
    time, resolved = time[keep], resolved[keep]
    follow_up = (float(horizon_h - np.min(start, where=keep, initial=np.inf)) if len(time)
                 else 0.0)
    events, censored = time[resolved], time[~resolved]
    del time
    return kaplan_meier(basis, events, censored, follow_up)


def kaplan_meier(basis: str, events: np.ndarray, censored: np.ndarray,
                 follow_up: float) -> ResolutionCurve:
    """The curve of problems resolved after `events` hours and of problems watched for
    `censored` hours and not resolved (both sorted in place)."""
    n = len(events) + len(censored)
    if events.size == 0:
        return ResolutionCurve(basis, np.zeros(0), np.zeros(0), follow_up, n)
    events.sort()
    censored.sort()
    hours, share = survival(events, censored)
    return ResolutionCurve(basis, hours, share, follow_up, n)


def headline_of(events: np.ndarray, censored: np.ndarray, follow_up: float,
                prefix: str = "") -> dict[str, float]:
    """`headline(kaplan_meier(...))` without keeping the curve's steps (tens of millions in a
    long run): the same numbers (`events`, `censored` sorted in place)."""
    n = len(events) + len(censored)
    at = 24.0 * np.asarray(WITHIN_DAYS, float)
    events.sort()
    censored.sort()
    within, half = survival_at(events, censored, at, 0.5 - 1e-12)
    if n == 0:
        within[:] = np.nan
    within[at > follow_up] = np.nan
    row = {f"{prefix}resolved_within_{d}d_share": float(v)
           for d, v in zip(WITHIN_DAYS, within, strict=True)}
    row[f"{prefix}half_resolved_h"] = float(half)
    return row


def rows_in(column: pd.Series, values: tuple[str, ...]) -> np.ndarray:
    """Which rows hold one of `values` (on a categorical's codes: no string per row)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = list(column.cat.categories)
        codes = [categories.index(v) for v in values if v in categories]
        return np.isin(column.cat.codes.to_numpy(), codes)
    return column.isin(values).to_numpy(bool)


def headline(curve: ResolutionCurve, prefix: str = "") -> dict[str, float]:
    """The summary's columns of a curve: `<prefix>resolved_within_<d>d_share` for each of
    WITHIN_DAYS and `<prefix>half_resolved_h`."""
    row = {f"{prefix}resolved_within_{d}d_share": curve.share_within(24.0 * d)
           for d in WITHIN_DAYS}
    row[f"{prefix}half_resolved_h"] = curve.half_h
    return row


def curves_by(problems: pd.DataFrame, groups: pd.Series | np.ndarray, horizon_h: float,
              basis: str = "occurrence") -> dict[object, ResolutionCurve]:
    """`resolution_curve` of each group of `problems` (a street, a day of occurrence, ...):
    `groups` holds each row's group. Every group's curve is over all its problems, the run
    ending at `horizon_h` for all of them, so a group's problems are censored as the whole
    run's are."""
    keys = (groups if isinstance(groups, pd.Series)  # a categorical stays one: fast to group
            else pd.Series(np.asarray(groups), index=problems.index))
    needed = problems[["outcome", "occurred_h", "entered_h", "closed_h"]]  # the columns used
    return {key: resolution_curve(part, horizon_h, basis)
            for key, part in needed.groupby(keys, sort=True, observed=True)}
