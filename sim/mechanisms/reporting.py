"""Reporting and trust: whether a resident reports a problem, through which channel, and how
the outcomes a community hears of move its trust, and so its future reporting (docs/model.md's
feedback loop).

Both act once a day in numpy: `report_chance` when the day's problems are drawn, `Trust.update`
after the day has run, on the verdicts of the cases closed that day.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import numpy as np

from sim.cases import DEPT_LINE, HOTLINE, NO_CHANNEL, STREET_LINE
from sim.mechanisms import Mechanism
from sim.scenario.schema import Scenario


def report_chance(spec: Scenario, trust: np.ndarray, propensity: np.ndarray) -> np.ndarray:
    """Chance that a resident of each problem's community reports it: the community's
    propensity (at trust 0.5), raised by an easy single line, moved by trust."""
    r = spec.reporting
    easy = spec.hotline.induced_reporting if spec.hotline.enabled else 1.0
    return np.clip(propensity * easy * (2.0 * trust) ** r.trust_sensitivity, 0.0, 1.0)


def channels(spec: Scenario, reported: np.ndarray, to_street: np.ndarray | None) -> np.ndarray:
    """The channel of each problem: 12345 once it exists, else the street's own line or a
    department's (`to_street`: a uniform per reported problem; None with the hotline);
    NO_CHANNEL where unreported."""
    channel = np.full(len(reported), NO_CHANNEL, np.int8)
    if spec.hotline.enabled:
        channel[reported] = HOTLINE
    else:
        street = to_street < spec.reporting.to_street_share
        channel[reported] = np.where(street, STREET_LINE, DEPT_LINE)
    return channel


class Trust:
    """Each community cohort's trust in government response (0..1).

    A closed case's verdict is heard on the day the case closes. At the end of each day a
    cohort's trust moves toward the satisfied share of the verdicts it heard, with weight
    1 - exp(-rate x verdicts per 10,000 residents): experience in real-city units. With
    `trust_scope: street` every cohort of a street hears the whole street's verdicts (word of
    mouth); with `community`, only its own.
    """

    def __init__(self, initial: float, community_street: np.ndarray,
                 community_population: np.ndarray, n_streets: int):
        self.level = np.full(len(community_street), initial)
        self.community_street = community_street
        self.community_population = community_population.astype(float)
        self.street_population = np.bincount(community_street, self.community_population,
                                             n_streets)
        #: verdicts by the day they are heard: day -> list of (communities, satisfied) arrays
        self.heard: dict[int, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)

    def hear(self, closed_h: np.ndarray, communities: np.ndarray, satisfied: np.ndarray) -> None:
        """Verdicts of cases closing at `closed_h` (hours), heard on their closing days."""
        days = (closed_h // 24.0).astype(np.int64)
        order = np.argsort(days, kind="stable")  # grouped by day, each in the order given
        days = days[order]
        cuts = [0, *(np.flatnonzero(days[1:] != days[:-1]) + 1).tolist(), len(days)]
        for start, end in pairwise(cuts):
            if end > start:
                rows = order[start:end]
                self.heard[int(days[start])].append((communities[rows],
                                                     satisfied[rows].astype(float)))

    def update(self, day: int, spec: Scenario) -> None:
        """Move trust by the verdicts heard on `day`."""
        seen = self.heard.pop(day, None)
        if not seen:
            return
        r = spec.reporting
        comm = np.concatenate([c for c, _ in seen])
        sat = np.concatenate([s for _, s in seen])
        if r.trust_scope == "street":
            group, population = self.community_street[comm], self.street_population
        else:
            group, population = comm, self.community_population
        n = np.bincount(group, minlength=len(population)).astype(float)
        happy = np.bincount(group, weights=sat, minlength=len(population))
        heard = n > 0
        share = np.divide(happy, n, out=np.zeros_like(n), where=heard)
        weight = np.zeros_like(n)
        weight[heard] = 1.0 - np.exp(-r.trust_learning_rate * n[heard]
                                     / (population[heard] / 1e4))
        if r.trust_scope == "street":  # every community takes its street's weight and share
            weight, share = weight[self.community_street], share[self.community_street]
        self.level += weight * (share - self.level)


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "reporting", section="reporting",
    stations=("problems", "after_day"),
    doc="Whether and how residents report, and how outcomes move their trust.")
