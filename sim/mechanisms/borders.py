"""Problems that cross a street or district border need both sides (联合哨 joins them)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.cases import DRAW_BORDER_WAIT, DRAW_BORDER_WORK, OTHER_SIDE, delay, work
from sim.engine.clock import schedule
from sim.engine.compile import kernel
from sim.engine.desks import serve, serve_now
from sim.mechanisms import Mechanism
from sim.scenario.schema import Scenario


class BorderRules(NamedTuple):
    joint: bool  # 联合哨: the other street works on call alongside
    wait_hours: float  # otherwise: mean wait before the other side gets round to it


def rules(spec: Scenario) -> BorderRules:
    return BorderRules(joint=spec.whistle.enabled and spec.whistle.joint_across_borders,
                       wait_hours=spec.fragmented.border_wait_hours)


@kernel
def settle(rules, clock, desks, workload, cases, c, start, finish, mean, shape):
    """When both sides are done with a case whose own side works from `start` to `finish`:
    at once jointly (联合哨: the other street works on call alongside), or NaN when the other
    street takes its share only after the first side finishes (an `OTHER_SIDE` event)."""
    other = cases.neighbour[c]
    if other < 0:
        return finish
    if rules.joint:
        done = serve_now(desks, workload, other, start,
                         work(cases, c, DRAW_BORDER_WORK, mean, shape))
        return max(finish, done)
    schedule(clock, finish + delay(cases, c, DRAW_BORDER_WAIT, rules.wait_hours), OTHER_SIDE, c)
    return np.nan


@kernel
def other_side(desks, workload, cases, c, now, mean, shape):
    """The street across the border does its share, queued now; returns when it is done."""
    return serve(desks, workload, cases.neighbour[c], now,
                 work(cases, c, DRAW_BORDER_WORK, mean, shape))


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "borders", section="fragmented",
    stations=("settle", "other_side"),
    doc="A case across a street or district border waits for the other side; the joint whistle "
        "joins them.",
    rules=rules)
