"""The event clock: continuous time inside a day, as a heap of plain callbacks.

This is SimPy's kernel (`Environment.step`: pop `(time, priority, id, event)` from a heap, run
the event) with everything a callback does not need taken out. Every event of the model is an
action `fn(case)` of one priority, so an entry is `(time, id, fn, case)`: ordered by time, ties
by scheduling order - exactly SimPy's order for events of equal priority, hence the same results
for the same seed. It costs about a third of a SimPy event, with no `Event` object per step.
The idiomatic SimPy version of the same routing is measured against it in
`benchmarks/baseline_simpy.py` (see docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from itertools import count
from typing import Any, NamedTuple

HOURS_PER_DAY = 24.0


class Action(NamedTuple):
    """A pending event as `Clock.env._queue` lists it (kept for readers of the old SimPy queue)."""

    fn: Callable[[Any], None]
    case: Any


class _QueueView:
    """`clock.env._queue` as SimPy laid it out, `(time, priority, id, Action)`: read-only, for
    code written against the SimPy clock. New code uses `Clock.pending()`."""

    def __init__(self, clock: Clock):
        self._clock = clock

    @property
    def _queue(self) -> list[tuple[float, int, int, Action]]:
        return [(t, 1, eid, Action(fn, case)) for t, eid, fn, case in self._clock._queue]

    @property
    def now(self) -> float:
        return self._clock.now


class Clock:
    """The run's clock, measured in hours since day 0, 00:00. `now` is a plain attribute."""

    __slots__ = ("_eid", "_queue", "_until", "events", "now")

    def __init__(self) -> None:
        self.now = 0.0
        self._queue: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self._eid = count()
        self.events = 0  # events run so far (for benchmarks)
        self._until = 0.0

    def at(self, time: float, fn: Callable[[Any], None], case: Any) -> None:
        """Run `fn(case)` at absolute `time` (never earlier than now)."""
        now = self.now
        delay = time - now
        # now + (time - now), as SimPy computes it: bit-identical times, hence identical runs
        heappush(self._queue, (now + delay if delay > 0.0 else now, next(self._eid), fn, case))

    def reserve(self, time: float) -> tuple[float, int]:
        """The place `at(time, ...)` would give an event now: its time and its id. With
        `run_inline` it lets a stream of events (the day's entering cases) skip the heap."""
        now = self.now
        delay = time - now
        return (now + delay if delay > 0.0 else now, next(self._eid))

    def run_inline(self, place: tuple[float, int], fn: Callable[[Any], None], case: Any) -> bool:
        """Schedule `fn(case)` at a reserved place - unless it is the very next event to run,
        in which case the clock moves to it and returns True for the caller to run it now. The
        order of events is the same either way."""
        queue = self._queue
        t = place[0]
        if t < self._until and (not queue or place < queue[0][:2]):
            self.now = t
            self.events += 1
            return True
        heappush(queue, (t, place[1], fn, case))
        return False

    def run_until(self, until: float) -> None:
        """Run every event before `until` (those at `until` wait for the next call, as with
        SimPy's `run(until=)`), then set the clock to `until`."""
        queue = self._queue
        pop = heappop
        n = 0
        self._until = until
        try:
            while queue and queue[0][0] < until:
                entry = pop(queue)
                self.now = entry[0]
                entry[2](entry[3])
                n += 1
        finally:
            self.events += n
        self.now = until

    def pending(self) -> Iterator[tuple[float, Callable[[Any], None], Any]]:
        """The events not yet run, as `(time, fn, case)`, in no particular order."""
        return ((t, fn, case) for t, _eid, fn, case in self._queue)

    def clear(self) -> None:
        self._queue.clear()

    @property
    def env(self) -> _QueueView:
        """Deprecated: the pending events in SimPy's layout; use `pending()`."""
        return _QueueView(self)
