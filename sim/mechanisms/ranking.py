"""Scoring (30 % response + 35 % resolution + 35 % satisfaction) and the monthly ranking of units
into 先进、进步、整改、治理, whose pressure moves effort (overtime) and diligence."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.agents import Office
    from sim.model import GovernanceModel
    from sim.problems import Case

ADVANCED, PROGRESS, RECTIFY, GOVERN = 1, 2, 3, 4  # indices into agents.RANK_CLASSES


class Ranking:
    def __init__(self, model: GovernanceModel, n_months: int):
        self.model = model
        self.configure()
        # per month and unit: callbacks, responded, resolved, satisfied
        self._tally = np.zeros((n_months + 1, model.n_units, 4))
        #: callbacks noted since the tally was last read, as (month, unit, responded, resolved,
        #: satisfied): appending a tuple is far cheaper than four numpy scalar updates, and the
        #: sums of 0/1 are exact in any order, so the tally is the same
        self._noted: list[tuple[int, int, bool, bool, bool]] = []
        self._months = model.day_month.tolist()
        self._n_days, self._n_months = len(self._months), len(self._tally)
        #: (month, unit, n, response, resolution, satisfaction, score, class)
        self.rows: list[tuple] = []

    def configure(self) -> None:
        """Read the scenario as it stands (at the start and at each timeline change)."""
        spec = self.model.spec
        self.config = spec.ranking
        self.enabled = self.config.enabled
        self.exclude_unreasonable = self.config.exclude_unreasonable
        self.base_resolve = spec.staffing.resolve_prob

    def note_callback(self, case: Case, responded: bool, resolved: bool, satisfied: bool) -> None:
        if self.exclude_unreasonable and case.unreasonable:
            return
        d = int(case.cb_time // 24.0)  # the month of the callback (`model.month_of`)
        if d >= self._n_days or self._months[d] >= self._n_months:
            return
        month = self._months[d]
        self._noted.append((month, case.owner, responded, resolved, satisfied))

    @property
    def tally(self) -> np.ndarray:
        """Per month and unit: callbacks, responded, resolved, satisfied."""
        if self._noted:
            month, unit, *flags = zip(*self._noted, strict=True)
            self._noted = []
            cells = (np.asarray(month), np.asarray(unit))
            np.add.at(self._tally[:, :, 0], cells, 1.0)
            for j, values in enumerate(flags, start=1):
                np.add.at(self._tally[:, :, j], cells, np.asarray(values, dtype=float))
        return self._tally

    def resolve_prob(self, effort: float) -> float:
        """Diligence: extra effort closes part of the gap to always resolving."""
        cfg = self.config
        if effort <= 1.0 or cfg.effort_max <= 1.0:
            return self.base_resolve
        push = min(1.0, cfg.diligence_gain * (effort - 1.0) / (cfg.effort_max - 1.0))
        return 1.0 - (1.0 - self.base_resolve) * (1.0 - push)

    def month_end(self, month: int, groups: list[list[Office]]) -> None:
        """Score last month's callbacks, rank each group of units, and set next month's effort."""
        tally = self.tally  # folds the month's callbacks in, ranked or not (bounded memory)
        if not self.enabled or month < 0 or month >= len(tally):
            return
        w = self.config.weights
        for group in groups:
            units = [u for u in group if tally[month, u.unit, 0] > 0]
            if not units:
                continue
            t = tally[month, [u.unit for u in units]]
            rates = t[:, 1:] / t[:, :1]
            score = rates @ np.asarray(w)
            order = np.argsort(-score, kind="stable")
            n = len(units)
            n_adv = int(round(self.config.advanced_share * n))
            n_gov = int(round(self.config.governance_share * n))
            for rank, i in enumerate(order.tolist()):
                unit = units[i]
                if rank < n_adv:
                    cls = ADVANCED
                elif rank >= n - n_gov:
                    cls = GOVERN
                elif not math.isnan(unit.last_score) and score[i] > unit.last_score:
                    cls = PROGRESS
                else:
                    cls = RECTIFY
                unit.rank_class = cls
                unit.last_score = float(score[i])
                unit.set_effort(self._next_effort(unit.effort, cls))
                self.rows.append((month, unit.unit, int(t[i, 0]), *map(float, rates[i]),
                                  float(score[i]), cls, unit.effort))

    def _next_effort(self, effort: float, cls: int) -> float:
        cfg = self.config
        if cls == GOVERN:
            effort += 2.0 * cfg.effort_step
        elif cls == RECTIFY:
            effort += cfg.effort_step
        else:
            effort -= cfg.effort_decay
        return min(cfg.effort_max, max(1.0, effort))
