"""Textbook queueing results that the engine must reproduce when set up as a textbook queue.

M/M/c (Erlang C), M/G/1 (Pollaczek-Khinchine) and open Jackson tandems (Burke: the output of a
stationary M/M/c queue is Poisson, so each stage is an M/M/c queue of its own). All times are in
the units of `mu` (here hours); `lam` is arrivals per hour, `mu` services per hour per server.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Station:
    """Stationary means of one queueing station."""

    lam: float  # arrival rate
    mu: float  # service rate of one server (1 / mean service time)
    servers: int
    p_wait: float  # chance an arrival waits (Erlang C; rho for M/G/1)
    wq: float  # mean wait in queue
    w: float  # mean time in system (wait + service)

    @property
    def rho(self) -> float:
        """Utilisation of each server."""
        return self.lam / (self.servers * self.mu)

    @property
    def waiting(self) -> float:
        """Mean number waiting, Lq (Little's law on the queue)."""
        return self.lam * self.wq

    @property
    def in_system(self) -> float:
        """Mean number in system, L (Little's law)."""
        return self.lam * self.w


def _check(lam: float, mu: float, servers: int) -> None:
    if not (lam > 0 and mu > 0 and servers >= 1):
        raise ValueError(f"need lam > 0, mu > 0, servers >= 1 (got {lam}, {mu}, {servers})")
    if lam >= servers * mu:
        raise ValueError(f"unstable queue: load {lam / (servers * mu):.3f} >= 1")


def erlang_b(servers: int, offered: float) -> float:
    """Blocking probability of M/M/c/c by the stable recursion B_k = aB/(k + aB)."""
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    return b


def erlang_c(servers: int, offered: float) -> float:
    """Chance an arrival waits in M/M/c with offered load `offered` = lam/mu < servers."""
    rho = offered / servers
    b = erlang_b(servers, offered)
    return b / (1.0 - rho * (1.0 - b))


def mmc(lam: float, mu: float, servers: int) -> Station:
    """M/M/c: Poisson arrivals, exponential service, `servers` servers, FCFS."""
    _check(lam, mu, servers)
    p = erlang_c(servers, lam / mu)
    wq = p / (servers * mu - lam)
    return Station(lam, mu, servers, p, wq, wq + 1.0 / mu)


def mg1(lam: float, mean_service: float, cv: float) -> Station:
    """M/G/1 (Pollaczek-Khinchine): Wq = lam E[S^2] / (2 (1 - rho)), E[S^2] = m^2 (1 + cv^2)."""
    mu = 1.0 / mean_service
    _check(lam, mu, 1)
    rho = lam * mean_service
    wq = lam * mean_service**2 * (1.0 + cv * cv) / (2.0 * (1.0 - rho))
    return Station(lam, mu, 1, rho, wq, wq + mean_service)


def tandem(lam: float, stages: Sequence[tuple[float, int]]) -> list[Station]:
    """An open Jackson tandem: every customer visits each (mu, servers) stage in turn.

    By Burke's theorem each stage sees Poisson arrivals at rate `lam`, so its stationary means
    are those of an M/M/c queue, and the end-to-end mean is their sum.
    """
    return [mmc(lam, mu, servers) for mu, servers in stages]


def mean_max_uniform(window: float, k: int) -> float:
    """Mean of the latest of `k` arrivals each uniform on [0, window]: window k / (k + 1).

    The whistle's report delay of a case whose `k` departments all report on time.
    """
    return window * k / (k + 1.0)


def mm1_relaxation(rho: float, mu: float = 1.0) -> float:
    """Relaxation time of M/M/1, 1 / (mu (1 - sqrt(rho))^2): how long the empty start lingers."""
    return 1.0 / (mu * (1.0 - math.sqrt(rho)) ** 2)
