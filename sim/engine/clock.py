"""SimPy owns continuous time inside a day; an `Action` is the cheapest event SimPy can run.

The idiomatic SimPy style (a generator process per request, a `Resource` per unit) costs tens of
microseconds per step. Our events are plain callbacks `fn(case)` scheduled on the same SimPy
`Environment`, so the kernel, its ordering and its tie-breaking are SimPy's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import Event

HOURS_PER_DAY = 24.0


class Action(Event):
    """An already-triggered event whose single callback runs `fn(case)` when SimPy reaches it."""

    __slots__ = ("fn", "case")

    def __init__(self, env: simpy.Environment, fn: Callable[[Any], None], case: Any):
        self.env = env
        self.callbacks = [self._fire]
        self._ok = True
        self._value = None
        self.fn = fn
        self.case = case

    def _fire(self, _event: Event) -> None:
        self.fn(self.case)


class Clock:
    """The run's SimPy environment, measured in hours since day 0, 00:00."""

    def __init__(self) -> None:
        self.env = simpy.Environment()

    @property
    def now(self) -> float:
        return self.env.now

    def at(self, time: float, fn: Callable[[Any], None], case: Any) -> None:
        """Run `fn(case)` at absolute `time` (never earlier than now)."""
        env = self.env
        delay = time - env._now
        env.schedule(Action(env, fn, case), 1, delay if delay > 0.0 else 0.0)

    def run_until(self, time: float) -> None:
        self.env.run(until=time)
