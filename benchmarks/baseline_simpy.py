"""Our engine against the idiomatic SimPy way of writing the same routing, on the same workload.

The workload comes from the model itself: the hotline preset's problems on the default Beijing
city (demand, reporting, departments needed, powers), each given its route through the units as
the 接诉即办 regime sends it - 12345 intake; dispatch; the street if within its powers or
visible, else the lead department and, for the others needed, the district centre's triage and
the next department - with every work time and delay drawn in advance. The staff and shifts are
the model's own desks. Two engines then replay exactly that:

- ours: `sim.engine` compiled (the two-tier `clock`, the FCFS `desks` with working hours, the
  `workload`'s per-visit accounting), driven day by day as the model drives it (each day's
  requests put on the clock as the day starts, the structs taken as views);
- SimPy, idiomatically: one process per request, one `simpy.Resource` (capacity = servers) per
  unit, `yield env.timeout(...)` for delays and service, a source process for arrivals.

Both give the same finish times (checked), so the ratio of their requests per second is the
engine's own speed-up. For context it also times the full model (every mechanism, draws made in
the run, the tables) on the same preset, scale and days. Runs alternate (ours, SimPy, ...) and
medians are shown, so both see the same load. SimPy is a development dependency only.

    .venv/bin/python benchmarks/baseline_simpy.py [--scale 1.0] [--days 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from dataclasses import dataclass

import numba
import numpy as np
import simpy

import sim
from sim.api import as_scenario
from sim.cases import grow, has_room
from sim.cases import rows as case_rows
from sim.engine import clock as clk
from sim.engine import desks as dk
from sim.engine.workload import new_workload
from sim.engine.workload import ref as workload_ref
from sim.model import GovernanceModel

try:
    from sim.engine.compile import view
except ImportError:  # an engine from before views (to measure it with this same script)
    @numba.njit(cache=False)
    def view(struct):
        return struct


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
    entering = []
    for day in range(days):  # the day's problems as the model draws them, without running it
        occurring = model.demand.draw(day, np.random.default_rng([seed, day]))
        if not has_room(model.cases, len(occurring.category)):
            grow(model.cases, len(occurring.category))
        ids, _gone, _counts = model.maker.add(model.cases, day, model.origin, occurring, model.trust,
                                 model.propensity, model.themes)
        entering.append(ids)
    ids = np.concatenate(entering)
    c = model.cases
    ids = ids[np.argsort(c.entered_h[ids], kind="stable")]
    assert case_rows(c) == model.cases.counters[0]
    rng = np.random.default_rng(seed + 1)
    n = len(ids)
    gamma = iter((rng.standard_gamma(1.0, 8 * n + 8)).tolist())  # work, cv 1
    expo = iter(rng.exponential(1.0, 4 * n + 4).tolist())
    hl, st = spec.hotline, spec.staffing
    intake = (hl.intake_minutes + hl.consultations_per_request * hl.consultation_minutes) / 60.0
    dispatch, relay = hl.dispatch_minutes / 60.0, spec.fragmented.relay_delay_hours
    visible = model.table.street_visible
    work_of = model.table.work_hours
    routes = []
    for i in ids.tolist():
        cat, street = int(c.category[i]), int(c.street[i])
        work = float(work_of[cat])
        route = [(model.hotline_unit, 0.0, intake * next(gamma))]
        delay = dispatch * next(expo)
        depts = [int(d) for d in c.depts[i, :c.n_depts[i]]]
        if c.power[i] or visible[cat]:
            route.append((street, delay, work * next(gamma)))
        else:
            route.append((depts[0], delay, work * next(gamma)))
            centre = model.centre_base + int(model.city.street_district[street])
            for dept in depts[1:]:
                route.append((centre, 0.0, st.triage_hours * next(gamma)))
                route.append((dept, relay * next(expo), work * next(gamma)))
        routes.append(route)
    desks = [(float(model.staff[u]), float(model.desks.opens[u]), float(model.desks.hours[u]))
             for u in range(model.n_units)]
    assert all(desks[unit][0] > 0 for route in routes for unit, _, _ in route), \
        "a route visits an unstaffed unit"
    return Workload(c.entered_h[ids].tolist(), routes, desks, days)


@numba.njit(cache=False)
def _replay(clock, desks, workload, entered, first, count, unit, delay, work, done, days):
    """Each request's visits in turn, day by day: arrive, queue at the desk, go on (the
    structs taken as views, as `sim.flow` takes them: `sim.engine.compile`)."""
    clock, desks, workload = view(clock), view(desks), view(workload)
    n = len(entered)
    hop = np.zeros(n, np.int64)
    admitted = 0  # requests put on the clock: each day's as the day starts (`flow.admit`)
    day = 0
    counters = clock.counters
    while admitted < n or counters[clk.SOON] + counters[clk.LATER] + counters[clk.TODAY_END] \
            - counters[clk.TODAY_NEXT] > 0:
        day += 1
        until = 24.0 * day
        while admitted < n and entered[admitted] < until:  # `entered` is in time order
            clk.schedule(clock, entered[admitted], 0, admitted)
            admitted += 1
        clk.start_day(clock, until)
        while clk.next_time(clock) < until:
            _kind, i = clk.pop(clock)
            now = clock.now[0]
            k = first[i] + hop[i]
            finish = dk.serve(desks, workload, unit[k], now, work[k])
            hop[i] += 1
            if hop[i] < count[i]:
                clk.schedule(clock, finish + delay[k + 1], 0, i)
            else:
                done[i] = finish
        clock.now[0] = until


def run_ours(w: Workload, arrays: tuple) -> np.ndarray:
    """The routes on `sim.engine`, compiled: the clock, the desks, the workload's accounting."""
    staff = np.array([d[0] for d in w.desks])
    desks = dk.new_desks(staff, np.array([d[1] for d in w.desks]),
                         np.array([d[2] for d in w.desks]))
    clock = clk.new_clock(len(w.routes) + 16)
    done = np.full(len(w.routes), np.nan)
    c0 = time.process_time()
    _replay(clk.ref(clock), dk.ref(desks), workload_ref(new_workload(len(w.desks), w.days + 400)),
            *arrays, done, w.days)
    run_ours.cpu = time.process_time() - c0
    run_ours.events = int(clock.counters[clk.EVENTS_RUN])
    return done


def flat(w: Workload) -> tuple:
    first = np.cumsum([0] + [len(r) for r in w.routes[:-1]]).astype(np.int64)
    count = np.array([len(r) for r in w.routes], np.int64)
    visits = [v for r in w.routes for v in r]
    return (np.array(w.entered), first, count, np.array([v[0] for v in visits], np.int64),
            np.array([v[1] for v in visits]), np.array([v[2] for v in visits]))


def run_simpy(w: Workload) -> np.ndarray:
    """The same routes, idiomatic SimPy: a process per request, a Resource per unit."""
    env = simpy.Environment()
    servers = [dk.servers_for(staff) for staff, _, _ in w.desks]
    resources = [simpy.Resource(env, capacity=c) for c, _ in servers]
    speed = [v for _, v in servers]

    def shift(unit: int, start: float, work: float) -> float:
        """`sim.engine.desks.after` in plain Python: work hours begun at `start` end when?"""
        _staff, opens, hours = w.desks[unit]
        if hours >= 24.0:
            return start + work
        day = math.floor((start - opens) / 24.0)
        into = start - (24.0 * day + opens)
        if into >= hours:
            day, into = day + 1, 0.0
        if work <= hours - into:
            return 24.0 * day + opens + into + work
        work -= hours - into
        more = math.ceil(work / hours)
        return 24.0 * (day + more) + opens + work - (more - 1) * hours

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
                yield env.timeout(shift(unit, start, work / speed[unit]) - start)
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
    cpu = time.process_time() - c0
    if getattr(r, "aggregates", None) is None:  # an engine from before streamed results
        return cpu, len(r.problems), int(r.problems["entered_h"].notna().sum())
    t = r.aggregates.totals  # the run's counts (the problem table is not read)
    return cpu, t["problems"], t["entered"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="hotline")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="alternating pairs; medians shown")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    w = make_workload(args.preset, args.scale, args.days, args.seed)
    n = len(w.routes)
    print(f"workload: {args.preset}, scale {args.scale:g}, {args.days} days: {n:,} requests, "
          f"{w.visits:,} visits to {len({u for r in w.routes for u, _, _ in r})} units")
    arrays = flat(w)
    run_ours(w, arrays)  # compile the replay (not timed)
    ours_t, simpy_t, ratios = [], [], []
    for _ in range(args.repeat):
        a = run_ours(w, arrays)
        ours_t.append(run_ours.cpu)
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
    print(f"{'ours (sim.engine, compiled)':<34}{to:>8.3f}{n / to:>12,.0f}"
          f"{run_ours.events:>12,}{run_ours.events / to:>11,.0f}")
    print(f"{'SimPy (process + Resource)':<34}{ts:>8.2f}{n / ts:>12,.0f}"
          f"{run_simpy.events:>12,}{run_simpy.events / ts:>11,.0f}")
    ratio = statistics.median(ratios)
    print(f"\nengine speed-up on the same workload: {ratio:.1f}x "
          f"(pairs: {', '.join(f'{r:.1f}' for r in ratios)})  "
          f"[{'PASS' if ratio >= 200 else 'FAIL'}: target >= 200x (issue 25; 40x issue 12)]")
    cpu, problems, cases = full_model(args.preset, args.scale, args.days, args.seed)
    print(f"full model ({args.preset}, every mechanism, tables): {cpu:.2f} s, "
          f"{cases / cpu:,.0f} entering cases/s ({problems / cpu:,.0f} problems/s) = "
          f"{(cases / cpu) / (n / ts):.1f}x SimPy's routing-only replay")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
