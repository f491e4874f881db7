"""A desk: a team of staff serving cases first come, first served, within its working hours.

A case's finish time is fixed the moment it arrives (FCFS, non-preemptive): it starts when the
earliest of the desk's servers is free and then needs its work in *working* hours. So a visit
costs one heap operation on a heap of `servers` entries, whatever the size of the city.
"""

from __future__ import annotations

import heapq
import math
from heapq import heapreplace
from math import ceil, floor

from sim.engine.ledger import Ledger


class Desk:
    """`staff` people (may be fractional at small scale) working `hours` a day from `opens`.

    Fractional staff are modelled as ceil(staff) servers each working at speed staff/servers,
    which conserves staff hours exactly. `hours >= 24` means round-the-clock.
    """

    __slots__ = ("unit", "staff", "servers", "speed", "opens", "base_hours", "hours", "free",
                 "ledger", "_visit")

    def __init__(self, unit: int, staff: float, opens: float, hours: float, ledger: Ledger):
        self.unit = unit
        self.staff = staff
        self.servers = max(1, math.ceil(staff - 1e-9))
        self.speed = staff / self.servers if staff > 0 else 1e-9
        self.opens = opens
        self.base_hours = min(hours, 24.0)
        self.hours = self.base_hours
        self.free = [0.0] * self.servers  # a heap of the times each server is next free
        self.ledger = ledger
        self._visit = ledger.add_visit  # one C call per visit, no Python frame

    def set_staff(self, staff: float, now: float) -> None:
        """A new headcount from `now` (a timeline change). Work already queued keeps its finish
        times; new servers start free at `now`; when staff shrink, the servers with the longest
        queues leave once their queued work is done."""
        servers = max(1, math.ceil(staff - 1e-9))
        free = sorted(self.free)
        if servers > len(free):
            free += [now] * (servers - len(free))
        free = free[:servers]
        heapq.heapify(free)
        self.free = free
        self.staff = staff
        self.servers = servers
        self.speed = staff / servers if staff > 0 else 1e-9

    def set_effort(self, effort: float) -> None:
        """Overtime: effort 1.2 works 20 % longer days (capped at round the clock)."""
        self.hours = min(24.0, self.base_hours * effort)

    def after(self, start: float, work: float) -> float:
        """The time at which `work` working hours begun at `start` are done."""
        hours = self.hours
        if hours >= 24.0:
            return start + work
        opens = self.opens
        day = floor((start - opens) / 24.0)
        into = start - (24.0 * day + opens)
        if into >= hours:  # outside the shift: wait for the next one
            day += 1
            into = 0.0
        left = hours - into
        if work <= left:
            return 24.0 * day + opens + into + work
        work -= left
        more = ceil(work / hours)
        return 24.0 * (day + more) + opens + work - (more - 1) * hours

    def serve(self, now: float, work: float) -> float:
        """Queue a case that arrives `now` needing `work` staff hours; return its finish time."""
        free = self.free
        first = free[0]
        start = now if now > first else first
        finish = (start + work / self.speed if self.hours >= 24.0  # `after`, without the call
                  else self.after(start, work / self.speed))
        heapreplace(free, finish)
        self._visit([self.unit, now, start, finish, work])
        return finish

    def serve_now(self, now: float, duration: float) -> float:
        """Urgent work (an emergency, a whistle) done at once, on call, for `duration` hours.

        The staff hours are taken from the desk by pushing back its earliest-free server, so
        queued cases feel the load; the urgent case itself does not wait.
        """
        free = self.free
        first = free[0]
        base = now if now > first else first
        heapreplace(free, self.after(base, duration / self.speed))
        finish = now + duration
        self._visit([self.unit, now, now, finish, duration])
        return finish

    def charge(self, now: float, hours: float) -> None:
        """Staff hours spent on work that is not a case (source-governance projects)."""
        if hours <= 0:
            return
        free = self.free
        first = free[0]
        base = now if now > first else first
        heapq.heapreplace(free, self.after(base, hours / self.speed))
        self.ledger.charge(self.unit, now, hours)

    def backlog_work_hours(self, now: float) -> float:
        """Queued work ahead of a newcomer, in hours until the earliest server is free."""
        return max(0.0, self.free[0] - now)
