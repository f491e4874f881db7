"""Random numbers keyed by what they are for, not by when they are drawn.

A draw is a hash of its key: the run's key (from the seed), the case, the purpose and a count.
So the same problem meets the same chances in two runs however the other events of the day
interleave: adding a mechanism, a unit or a day of warm-up does not reshuffle every later
number, and two regimes run at one seed share their random numbers problem by problem (common
random numbers, which makes their difference far less noisy than two independent runs).

The hash is SplitMix64's finaliser (Steele, Lea and Flood 2014) applied twice; it passes the
uniformity and independence checks in tests/test_engine.py. Variates are made by inversion
where possible, and gamma work by Marsaglia and Tsang's method (2000).
"""

from __future__ import annotations

import math

import numpy as np

from sim.engine.compile import kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_PURPOSE = np.uint64(0xD1B54A32D192ED03)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53
#: Purposes are below this; the extra uniforms of a gamma variate for purpose p are drawn for
#: purposes SUBSTREAM * (p + 1) + i, which no other draw uses.
SUBSTREAM = 1 << 13


def run_key(seed: int) -> np.uint64:
    """The key of a run from its seed (any size, through numpy's SeedSequence)."""
    return np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]


@kernel
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@kernel
def uniform(key, case, purpose, n):
    """A uniform on [0, 1) for (`case`, `purpose`, `n`) in the run of `key`."""
    h = _mix(key + np.uint64(case) * _GOLDEN)
    h = _mix(h ^ (np.uint64(purpose) * _PURPOSE + np.uint64(n) * _GOLDEN))
    return float(h >> _S11) * _TO_UNIT


@kernel
def exponential(key, case, purpose, n, mean):
    if mean <= 0.0:
        return 0.0
    return -mean * math.log(1.0 - uniform(key, case, purpose, n))


@kernel
def _normal(key, case, purpose, n):
    """A standard normal (Box-Muller, one of the pair)."""
    u1 = 1.0 - uniform(key, case, purpose, n)
    u2 = uniform(key, case, purpose + 1, n)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@kernel
def gamma(key, case, purpose, n, shape):
    """A gamma variate of mean 1 and shape `shape` (> 0): Marsaglia and Tsang, with the
    boost u^(1/shape) for shape < 1."""
    base = SUBSTREAM * (purpose + 1)
    boost = 1.0
    a = shape
    if a < 1.0:
        boost = uniform(key, case, base + 3, n) ** (1.0 / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    for attempt in range(1000):
        sub = base + 4 * attempt + 4
        x = _normal(key, case, sub, n)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform(key, case, sub + 2, n)
        if math.log(u + 1e-300) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v * boost / shape
    return boost * d / shape  # not reached in practice (acceptance is over 95 %)


@kernel
def work(key, case, purpose, n, mean, shape):
    """Staff hours of one handling of mean `mean`: deterministic when `shape` is 0 (work cv
    0), exponential when it is 1, gamma of that shape otherwise (shape = 1 / cv**2)."""
    if shape == 0.0 or mean <= 0.0:
        return mean
    if shape == 1.0:
        return exponential(key, case, purpose, n, mean)
    return mean * gamma(key, case, purpose, n, shape)


@kernel
def poisson(key, case, purpose, n, mean):
    """A Poisson count with a small mean (hand-offs inside an office), by inversion."""
    if mean <= 0.0:
        return 0
    u = uniform(key, case, purpose, n)
    k = 0
    p = math.exp(-mean)
    cum = p
    while u > cum and k < 50:
        k += 1
        p *= mean / k
        cum += p
    return k


@kernel
def uniforms(key, cases, purpose, n):
    """`uniform` for many cases at once (the day's problems are drawn in numpy)."""
    out = np.empty(len(cases))
    for i in range(len(cases)):
        out[i] = uniform(key, cases[i], purpose, n)
    return out


@kernel
def below(key, cases, purpose, p):
    """Whether each case's uniform of `purpose` (count 0) is below its `p`: drawn only where
    0 < p < 1 (p >= 1: always; p <= 0: never), in one pass (the day's problems are drawn so)."""
    out = np.empty(len(cases), np.bool_)
    for i in range(len(cases)):
        if p[i] >= 1.0:
            out[i] = True
        elif p[i] > 0.0:
            out[i] = uniform(key, cases[i], purpose, 0) < p[i]
        else:
            out[i] = False
    return out
