"""Scoring (30 % response + 35 % resolution + 35 % satisfaction) and the monthly ranking of units
into 先进、进步、整改、治理, whose pressure moves effort (overtime) and diligence.

Callbacks are tallied per month and unit as they happen (`note`, compiled); at a month's end
the model calls `Ranking.month_end`, which scores and ranks last month's units and sets the
effort each carries into the next month (the `Units.effort` the desks and `resolve_chance`
read).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.cases import HOTLINE
from sim.engine.compile import kernel
from sim.mechanisms import Mechanism
from sim.scenario.schema import Scenario

ADVANCED, PROGRESS, RECTIFY, GOVERN = 1, 2, 3, 4  # indices into units.RANK_CLASSES
#: Columns of the tally.
CALLBACKS, RESPONDED, RESOLVED, SATISFIED = range(4)


class RankingRules(NamedTuple):
    base_resolve: float  # chance a handling resolves a resolvable case at regular effort
    effort_max: float
    diligence_gain: float  # how much extra effort closes the gap to always resolving
    base_unresolved: float  # chance a caller left unresolved is satisfied, at regular effort
    courtesy_gain: float  # how much extra effort closes the gap to always satisfying them
    exclude_unreasonable: bool  # unreasonable requests are left out of the score
    response_limit_hours: float


def rules(spec: Scenario) -> RankingRules:
    cfg = spec.ranking
    return RankingRules(
        base_resolve=spec.staffing.resolve_prob, effort_max=cfg.effort_max,
        diligence_gain=cfg.diligence_gain, base_unresolved=spec.satisfaction.unresolved,
        courtesy_gain=cfg.courtesy_gain, exclude_unreasonable=cfg.exclude_unreasonable,
        response_limit_hours=spec.hotline.response_limit_hours)


@kernel
def resolve_chance(rules, effort):
    """Diligence: extra effort closes part of the gap to always resolving."""
    if effort <= 1.0 or rules.effort_max <= 1.0:
        return rules.base_resolve
    push = min(1.0, rules.diligence_gain * (effort - 1.0) / (rules.effort_max - 1.0))
    return 1.0 - (1.0 - rules.base_resolve) * (1.0 - push)


@kernel
def unresolved_satisfaction(rules, effort):
    """Courtesy: extra effort also closes part of the gap to satisfying callers whose
    problem was not resolved (they are kept informed, the reason is explained)."""
    if effort <= 1.0 or rules.effort_max <= 1.0:
        return rules.base_unresolved
    push = min(1.0, rules.courtesy_gain * (effort - 1.0) / (rules.effort_max - 1.0))
    return 1.0 - (1.0 - rules.base_unresolved) * (1.0 - push)


@kernel
def note(rules, tally, day_month, cases, c):
    """A ticket's callback, tallied (`tally`: month, unit, CALLBACKS..SATISFIED) for the month
    of the callback (`day_month` per day) and the unit that owns it."""
    if cases.channel[c] != HOTLINE or (rules.exclude_unreasonable and cases.unreasonable[c]):
        return
    d = int(math.floor(cases.callback_h[c] / 24.0))  # noqa: RUF046 - numba: the type, fixed
    if d >= len(day_month):
        return
    month = day_month[d]
    if month >= tally.shape[0]:
        return
    unit = cases.owner_unit[c]
    tally[month, unit, CALLBACKS] += 1.0
    if cases.first_unit_h[c] - cases.entered_h[c] <= rules.response_limit_hours:
        tally[month, unit, RESPONDED] += 1.0
    if cases.callback_resolved[c] > 0:
        tally[month, unit, RESOLVED] += 1.0
    if cases.satisfied[c] > 0:
        tally[month, unit, SATISFIED] += 1.0


class Ranking:
    """The monthly ranking: the tally, the table of ranks, and the pressure on effort."""

    def __init__(self, n_units: int, day_month: np.ndarray):
        n_months = int(day_month.max()) + 1 if len(day_month) else 1
        self.tally = np.zeros((n_months + 1, n_units, 4))
        self.day_month = day_month.astype(np.int64)
        #: each unit's score last month (NaN: not ranked), for the 进步 class
        self.last_score = np.full(n_units, np.nan)
        #: (month, unit, n, response, resolution, satisfaction, score, class, effort next)
        self.rows: list[tuple] = []

    def configure(self, spec: Scenario) -> RankingRules:
        """Read the scenario as it stands (at the start and at each timeline change)."""
        self.config = spec.ranking
        return rules(spec)

    def month_end(self, month: int, groups: list[np.ndarray], effort: np.ndarray,
                  rank_class: np.ndarray) -> None:
        """Score last month's callbacks, rank each group of units (an array of unit ids) among
        themselves, and set next month's `effort` and `rank_class` of each ranked unit."""
        cfg = self.config
        if not cfg.enabled or month < 0 or month >= len(self.tally):
            return
        tally = self.tally[month]
        w = np.asarray(cfg.weights)
        for group in groups:
            units = group[tally[group, CALLBACKS] > 0]
            if not len(units):
                continue
            t = tally[units]
            rates = t[:, 1:] / t[:, :1]
            score = rates @ w
            order = np.argsort(-score, kind="stable")
            n = len(units)
            n_adv = round(cfg.advanced_share * n)
            n_gov = round(cfg.governance_share * n)
            for rank, i in enumerate(order.tolist()):
                unit = int(units[i])
                if rank < n_adv:
                    cls = ADVANCED
                elif rank >= n - n_gov:
                    cls = GOVERN
                elif not math.isnan(self.last_score[unit]) and score[i] > self.last_score[unit]:
                    cls = PROGRESS
                else:
                    cls = RECTIFY
                rank_class[unit] = cls
                self.last_score[unit] = float(score[i])
                effort[unit] = self._next_effort(float(effort[unit]), cls)
                self.rows.append((month, unit, int(t[i, 0]), *map(float, rates[i]),
                                  float(score[i]), cls, float(effort[unit])))

    def _next_effort(self, effort: float, cls: int) -> float:
        cfg = self.config
        if cls == GOVERN:
            effort += 2.0 * cfg.effort_step
        elif cls == RECTIFY:
            effort += cfg.effort_step
        else:
            effort -= cfg.effort_decay
        return min(cfg.effort_max, max(1.0, effort))


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "ranking", section="ranking",
    stations=("conclude", "month_end"),
    doc="Monthly scoring and ranking of units, whose pressure moves effort and diligence.",
    rules=rules)
