"""Buffered random draws from the run's one numpy Generator.

Asking numpy for one number costs about as much as a whole simulated step, so draws come in
blocks. The order of draws is fixed by the order of events, hence a seed reproduces a run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import chain

import numpy as np

BLOCK = 1 << 15


def _stream(block: Callable[[], list[float]]) -> Callable[[], float]:
    """`next()` of an endless stream of numbers made `BLOCK` at a time, each block drawn when
    the one before runs out (as a Python loop would), but with the loop in C."""
    return chain.from_iterable(iter(block, None)).__next__


class Draws:
    """`uniform()`, `exponential(mean)`, `work(mean)` and `poisson_small(mean)` for the hot loop.

    Each is one C-level `next()` on a pre-drawn block; the draws come in exactly the order, and
    from the same numpy calls, as one-at-a-time buffering would make them.
    """

    __slots__ = ("rng", "shape", "uniform", "_gamma")

    def __init__(self, rng: np.random.Generator, work_cv: float = 1.0):
        self.rng = rng
        self.shape = shape = 0.0 if work_cv <= 0 else 1.0 / (work_cv * work_cv)
        #: a uniform on [0, 1)
        self.uniform = _stream(lambda: rng.random(BLOCK).tolist())
        self._gamma = _stream(lambda: (rng.standard_gamma(shape, BLOCK) / shape).tolist())

    def exponential(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.uniform()) if mean > 0 else 0.0

    def work(self, mean: float) -> float:
        """Staff hours of one handling: gamma with the scenario's coefficient of variation."""
        if self.shape == 0.0:
            return mean
        return mean * self._gamma()

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
