"""Buffered random draws from the run's one numpy Generator.

Asking numpy for one number costs about as much as a whole simulated step, so draws come in
blocks. The order of draws is fixed by the order of events, hence a seed reproduces a run.
"""

from __future__ import annotations

import math

import numpy as np

BLOCK = 1 << 15


class Draws:
    __slots__ = ("rng", "_u", "_i", "_w", "_j", "shape")

    def __init__(self, rng: np.random.Generator, work_cv: float = 1.0):
        self.rng = rng
        self.shape = 0.0 if work_cv <= 0 else 1.0 / (work_cv * work_cv)
        self._u: list[float] = []
        self._i = 0
        self._w: list[float] = []
        self._j = 0

    def uniform(self) -> float:
        i = self._i
        if i >= len(self._u):
            self._u = self.rng.random(BLOCK).tolist()
            i = 0
        self._i = i + 1
        return self._u[i]

    def exponential(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.uniform()) if mean > 0 else 0.0

    def work(self, mean: float) -> float:
        """Staff hours of one handling: gamma with the scenario's coefficient of variation."""
        if self.shape == 0.0:
            return mean
        j = self._j
        if j >= len(self._w):
            self._w = (self.rng.standard_gamma(self.shape, BLOCK) / self.shape).tolist()
            j = 0
        self._j = j + 1
        return mean * self._w[j]

    def poisson_small(self, mean: float) -> int:
        """A Poisson count with a small mean (hand-offs), by inversion."""
        if mean <= 0:
            return 0
        u = self.uniform()
        k = 0
        p = math.exp(-mean)
        cum = p
        while u > cum and k < 50:
            k += 1
            p *= mean / k
            cum += p
        return k
