"""Our engine against the idiomatic SimPy way of writing the same routing, on the same workload.

The workload comes from the model itself: the hotline preset's problems on the default Beijing
city (demand, reporting, departments needed, powers), each given its route through the units as
the 接诉即办 regime sends it - 12345 intake; dispatch; the street if within its powers or
visible, else the lead department and, for the others needed, the district centre's triage and
the next department - with every work time and delay drawn in advance. The staff, shifts and
speeds are the model's own desks. Two engines then replay exactly that:

- ours: `sim.engine` (`Clock` of plain callbacks, `Desk` FCFS servers with working hours, the
  `Ledger`'s per-visit accounting), as the model uses it;
- SimPy, idiomatically: one process per request, one `simpy.Resource` (capacity = servers) per
  unit, `yield env.timeout(...)` for delays and service, a source process for arrivals.

Both give the same finish times (checked), so the ratio of their problems per second is the
engine's own speed-up. For context it also times the full model (every mechanism, draws made in
the run, the tables) on the same preset, scale and days. Runs alternate (ours, SimPy, ...) and
medians are shown, so both see the same load.

    .venv/bin/python benchmarks/baseline_simpy.py [--scale 0.1] [--days 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass

import numpy as np
import simpy

import sim
from sim.api import as_scenario
from sim.engine.clock import Clock
from sim.engine.desk import Desk
from sim.engine.ledger import Ledger
from sim.model import GovernanceModel
from sim.problems import new_problems


@dataclass
class Workload:
    """Entry times, routes (unit, delay before arriving, staff hours) and the units' desks."""

    entered: list[float]
    routes: list[list[tuple[int, float, float]]]
    desks: list[tuple[float, float, float]]  # per unit: staff, opens, hours a day
    days: int

    @property
    def visits(self) -> int:
        return sum(len(r) for r in self.routes)


def make_workload(preset: str, scale: float, days: int, seed: int) -> Workload:
    """The preset's problems that enter, each with its route drawn as the hotline regime
    routes it (a simplified, deterministic-once-drawn version of `sim.mechanisms`)."""
    spec, _ = as_scenario(preset, {"scale": scale, "days": days, "seed": seed})
    model = GovernanceModel(spec)
    cases = []
    for day in range(days):
        cases += new_problems(model, day, model.demand.draw(day, model.rng))
    cases.sort(key=lambda c: c.entered)
    rng = np.random.default_rng(seed + 1)
    n = len(cases)
    gamma = iter((rng.standard_gamma(1.0, 8 * n + 8)).tolist())  # work, cv 1
    expo = iter(rng.exponential(1.0, 4 * n + 4).tolist())
    hl, st = spec.hotline, spec.staffing
    intake = (hl.intake_minutes + hl.consultations_per_request * hl.consultation_minutes) / 60.0
    dispatch, relay = hl.dispatch_minutes / 60.0, spec.fragmented.relay_delay_hours
    visible = model.table.street_visible
    routes = []
    for case in cases:
        route = [(model.hotline_unit, 0.0, intake * next(gamma))]
        delay = dispatch * next(expo)
        if case.power or visible[case.cat]:
            route.append((case.street, delay, case.work * next(gamma)))
        else:
            route.append((case.depts[0], delay, case.work * next(gamma)))
            centre = model.centre_base + case.district
            for dept in case.depts[1:]:
                route.append((centre, 0.0, st.triage_hours * next(gamma)))
                route.append((dept, relay * next(expo), case.work * next(gamma)))
        routes.append(route)
    desks = [(u.desk.staff, u.desk.opens, u.desk.hours) for u in model.units]
    assert all(desks[unit][0] > 0 for route in routes for unit, _, _ in route), \
        "a route visits an unstaffed unit"
    return Workload([c.entered for c in cases], routes, desks, days)


class _Request:
    __slots__ = ("hop", "i", "route")

    def __init__(self, i: int, route: list[tuple[int, float, float]]):
        self.i, self.route, self.hop = i, route, 0


def run_ours(w: Workload) -> np.ndarray:
    """The routes on `sim.engine`: callbacks on the Clock, Desks, the Ledger's accounting."""
    clock = Clock()
    ledger = Ledger(len(w.desks), w.days + 400)
    desks = [Desk(u, staff, opens, hours, ledger) for u, (staff, opens, hours)
             in enumerate(w.desks)]
    done = np.full(len(w.routes), np.nan)
    requests = [_Request(i, route) for i, route in enumerate(w.routes)]

    def arrive(req: _Request) -> None:
        unit, _, work = req.route[req.hop]
        finish = desks[unit].serve(clock.now, work)
        req.hop += 1
        if req.hop < len(req.route):
            clock.at(finish + req.route[req.hop][1], arrive, req)
        else:
            done[req.i] = finish

    feed = iter(requests)

    def enter(req: _Request) -> None:  # one pending entry at a time, as the model's Feed
        nxt = next(feed, None)
        if nxt is not None:
            clock.at(w.entered[nxt.i], enter, nxt)
        arrive(req)

    first = next(feed)
    clock.at(w.entered[first.i], enter, first)
    day = 0
    while clock._queue:  # day by day, as the model runs, with the ledger flushed daily
        day += 1
        clock.run_until(24.0 * day)
        ledger.flush()
    run_ours.events = clock.events
    return done


def run_simpy(w: Workload) -> np.ndarray:
    """The same routes, idiomatic SimPy: a process per request, a Resource per unit."""
    env = simpy.Environment()
    resources, speed, shift = [], [], []
    for u, (staff, opens, hours) in enumerate(w.desks):
        desk = Desk(u, staff, opens, hours, Ledger(1, 1))  # only for its server count and shift
        resources.append(simpy.Resource(env, capacity=desk.servers))
        speed.append(desk.speed)
        shift.append(desk.after)
    done = np.full(len(w.routes), np.nan)
    visits: list[tuple[int, float, float, float, float]] = []

    def request(i: int, route: list[tuple[int, float, float]]):
        for unit, delay, work in route:
            if delay > 0.0:
                yield env.timeout(delay)
            arrived = env.now
            with resources[unit].request() as req:
                yield req
                start = env.now
                yield env.timeout(shift[unit](start, work / speed[unit]) - start)
            visits.append((unit, arrived, start, env.now, work))
        done[i] = env.now

    def source():
        for i, (t, route) in enumerate(zip(w.entered, w.routes, strict=True)):
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(request(i, route))

    env.process(source())
    env.run()
    run_simpy.events = next(env._eid)
    return done


def full_model(preset: str, scale: float, days: int, seed: int) -> tuple[float, int, int]:
    c0 = time.process_time()
    r = sim.run(preset, seed=seed, days=days, scale=scale)
    return time.process_time() - c0, len(r.problems), int(r.problems["entered_h"].notna().sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="hotline")
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="alternating pairs; medians shown")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    w = make_workload(args.preset, args.scale, args.days, args.seed)
    n = len(w.routes)
    print(f"workload: {args.preset}, scale {args.scale:g}, {args.days} days: {n:,} requests, "
          f"{w.visits:,} visits to {len({u for r in w.routes for u, _, _ in r})} units")
    ours_t, simpy_t, ratios = [], [], []
    for _ in range(args.repeat):
        c0 = time.process_time()
        a = run_ours(w)
        ours_t.append(time.process_time() - c0)
        c0 = time.process_time()
        b = run_simpy(w)
        simpy_t.append(time.process_time() - c0)
        ratios.append(simpy_t[-1] / ours_t[-1])
    diff = np.abs(a - b)
    print(f"same finish times: max difference {np.nanmax(diff):.2e} h, "
          f"{np.mean(diff < 1e-6):.4%} of requests within 1e-6 h, "
          f"mean {np.mean(a):.4f} vs {np.mean(b):.4f} h")
    to, ts = statistics.median(ours_t), statistics.median(simpy_t)
    print(f"\n{'engine':<34}{'CPU s':>8}{'requests/s':>12}{'events':>12}{'events/s':>11}")
    print(f"{'ours (sim.engine callbacks)':<34}{to:>8.2f}{n / to:>12,.0f}"
          f"{run_ours.events:>12,}{run_ours.events / to:>11,.0f}")
    print(f"{'SimPy (process + Resource)':<34}{ts:>8.2f}{n / ts:>12,.0f}"
          f"{run_simpy.events:>12,}{run_simpy.events / ts:>11,.0f}")
    ratio = statistics.median(ratios)
    print(f"\nengine speed-up on the same workload: {ratio:.1f}x "
          f"(pairs: {', '.join(f'{r:.1f}' for r in ratios)})  "
          f"[{'PASS' if ratio >= 5 else 'FAIL'}: target >= 5x]")
    cpu, problems, cases = full_model(args.preset, args.scale, args.days, args.seed)
    print(f"full model ({args.preset}, every mechanism, tables): {cpu:.2f} s, "
          f"{cases / cpu:,.0f} entering cases/s ({problems / cpu:,.0f} problems/s) = "
          f"{(cases / cpu) / (n / ts):.1f}x SimPy's routing-only replay")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
