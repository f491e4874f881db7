"""The engine: reproducibility, the accounting invariant, the clock's order, the desks against
queueing theory, the keyed random numbers, and the kernel cache."""

from __future__ import annotations

import ast
import heapq
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.engine import clock as clk
from sim.engine import compile as compiled
from sim.engine import desks as dk
from sim.engine import draws
from sim.engine.workload import new_workload
from sim.engine.workload import ref as workload_ref
from sim.results import AccountingError, check_accounting

from .conftest import small_run

PACKAGE = Path(sim.__file__).parent


def test_same_seed_same_numbers():
    a = small_run("hotline", days=20, seed=7)
    b = small_run("hotline", days=20, seed=7)
    pd.testing.assert_frame_equal(a.problems, b.problems)
    pd.testing.assert_frame_equal(a.units_daily, b.units_daily)
    pd.testing.assert_frame_equal(a.summary, b.summary)


def test_different_seeds_differ():
    a = small_run("hotline", days=20, seed=1)
    b = small_run("hotline", days=20, seed=2)
    assert len(a.problems) != len(b.problems) or not a.problems.equals(b.problems)


def test_seeds_of_any_size_are_accepted():
    big = small_run("fragmented", days=3, seed=2**70 + 3)
    assert len(big.problems) > 0


@pytest.mark.parametrize("preset", sim.PRESETS)
def test_every_problem_counted_exactly_once(preset):
    r = small_run(preset, days=45)
    p = r.problems
    assert p["pid"].is_unique
    assert np.array_equal(np.sort(p["pid"].to_numpy()), np.arange(len(p)))
    counts = p["outcome"].value_counts()
    assert counts.sum() == len(p)
    m = r.measures
    parts = ["resolved", "closed_unresolved", "still_open", "prevented", "never_reported"]
    assert sum(m[k] for k in parts) == pytest.approx(m["occurred"])
    # resolved problems have a closing time, open ones do not
    assert p.loc[p["outcome"] == "resolved", "closed_h"].notna().all()
    assert p.loc[p["outcome"] == "open", "closed_h"].isna().all()
    assert (p["latency_occurrence_h"].dropna() >= 0).all()


def test_accounting_check_catches_a_lost_problem_or_one_without_an_outcome():
    """A problem's id is its row, so none can be counted twice; one can be lost (fewer rows
    than problems) or left without one of the five outcomes."""
    assert check_accounting(np.array([0, 1, 4], np.int8), 3)["by_outcome"]["never_reported"] == 1
    with pytest.raises(AccountingError):
        check_accounting(np.array([0, 1], np.int8), 3)
    with pytest.raises(AccountingError):  # an outcome that is none of the five
        check_accounting(np.array([0, 9], np.int8), 2)
    with pytest.raises(AccountingError):
        check_accounting(np.array([0, -1], np.int8), 2)


def test_common_random_numbers_across_regimes():
    """Draws are keyed by the problem, not by the order of events: at one seed two regimes
    meet the same problems, with the same attributes, although everything after differs."""
    frag = small_run("fragmented", days=20, seed=3).problems
    hot = small_run("hotline", days=20, seed=3).problems
    same = ["occurred_h", "category", "community", "unreasonable", "root_cause", "emergency",
            "cross_border", "n_depts"]
    pd.testing.assert_frame_equal(frag[same], hot[same])
    assert not frag["closed_h"].equals(hot["closed_h"])


# ------------------------------------------------------------------------------ the clock
def _reference_order(script: list[tuple[str, float]]) -> list[tuple[float, int]]:
    """The same script of schedules, runs and day ends through one `heapq` by (time, seq)."""
    heap: list[tuple[float, int, int]] = []
    now, until, seq, out = 0.0, 0.0, 0, []
    for op, t in script:
        if op == "schedule":
            heapq.heappush(heap, (max(t, now), seq, seq))
            seq += 1
        elif op == "day":
            until = t
        elif op == "end":
            now = t
        elif op == "run" and heap and heap[0][0] < until:  # the last branch: nothing follows
            now, _, ident = heapq.heappop(heap)
            out.append((now, ident))
    return out


def test_clock_runs_events_in_time_then_scheduling_order():
    """A random script full of exact ties, times in the past and events at a day's end: the
    two-tier calendar gives exactly the order of one heap ordered by (time, seq)."""
    rng = random.Random(11)
    clock = clk.new_clock(4096)
    r = clk.ref(clock)
    script, got = [], []
    seq = 0
    for day in range(1, 30):
        until = 24.0 * day
        script.append(("day", until))
        clk.start_day(r, until)
        for _ in range(rng.randrange(5, 60)):
            if rng.random() < 0.55:
                now = clock.now[clk.NOW]
                t = rng.choice([now, now - rng.random(), until, round(now + rng.random() * 30, 1),
                                now + rng.expovariate(0.05)])
                script.append(("schedule", t))
                clk.schedule(r, t, 0, seq)
                seq += 1
            else:
                script.append(("run", 0.0))
                if clk.next_time(r) < until:
                    _kind, case = clk.pop(r)
                    got.append((float(clock.now[clk.NOW]), int(case)))
        while clk.next_time(r) < until:  # the rest of the day, as run_until does
            script.append(("run", 0.0))
            _kind, case = clk.pop(r)
            got.append((float(clock.now[clk.NOW]), int(case)))
        clock.now[clk.NOW] = until
        script.append(("end", until))
    assert got == _reference_order(script)
    assert len(got) > 300
    t, _k, cases = clk.pending(clock)
    assert len(cases) == clk.size(clock) == seq - len(got)
    assert (t >= 24.0 * 29).all()  # what is pending is due after the last day


def test_clock_makes_room_without_losing_events():
    clock = clk.new_clock(8)
    r = clk.ref(clock)
    for i in range(8):
        clk.schedule(r, 100.0 - i, 0, i)
    bigger = clk.with_room(clock, 100)
    assert len(bigger.soon_time) >= 108 and clk.size(bigger) == 8
    r = clk.ref(bigger)
    clk.start_day(r, 200.0)
    order = [int(clk.pop(r)[1]) for _ in range(8)]
    assert order == list(range(7, -1, -1))


# ------------------------------------------------------------------------------ the desks
def _desks(staff: float, opens: float = 0.0, hours: float = 24.0, units: int = 1):
    d = dk.new_desks(np.full(units, staff), np.full(units, opens), np.full(units, hours))
    return d, dk.ref(d), workload_ref(new_workload(units, 400))


def test_case_table_grows_in_place_keeping_every_row():
    """`grow` replaces the columns one at a time (the old one let go at once): the rows in
    use keep their values, new rows have room, the object is the same."""
    from sim.cases import FIELDS, columns, grow, has_room, new_cases, start_rows

    cases = new_cases(np.uint64(7), capacity=4)
    start_rows(cases, slice(0, 3))
    cases.occurred_h[:3] = [1.0, 2.0, 3.0]
    cases.depts[:3] = [[5, -1, -1], [6, 7, -1], [8, 9, 10]]
    cases.outcome[:3] = [0, 2, 4]
    cases.counters[0] = 3
    before = {k: v.copy() for k, v in columns(cases, (*FIELDS[1:-2],)).items()}
    assert not has_room(cases, 2)
    same = cases
    grow(cases, 2)
    assert cases is same and has_room(cases, 2) and len(cases.recorded) >= 5
    for name, values in before.items():
        np.testing.assert_array_equal(getattr(cases, name)[:3], values, err_msg=name)


def test_desk_working_hours():
    d, r, _w = _desks(1.0, opens=8.0, hours=8.0)
    assert dk.after(r, 0, 9.0, 2.0) == pytest.approx(11.0)  # inside the shift
    assert dk.after(r, 0, 15.0, 2.0) == pytest.approx(24 + 9.0)  # carries over to the next day
    assert dk.after(r, 0, 20.0, 1.0) == pytest.approx(24 + 9.0)  # after hours: waits
    assert dk.after(r, 0, 8.0, 16.0) == pytest.approx(24 + 16.0)  # exactly two shifts
    assert dk.after(r, 0, 9.0, 16.0) == pytest.approx(48 + 9.0)  # 7 h + 8 h + 1 h
    d.hours[0] = 12.0  # effort 1.5: 12-hour days
    assert dk.after(r, 0, 9.0, 12.0) == pytest.approx(24 + 9.0)


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C)."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


@pytest.mark.parametrize(("servers", "rho"), [(1, 0.8), (5, 0.9)])
def test_desk_agrees_with_erlang_c(servers, rho):
    # Round-the-clock desk, Poisson arrivals, exponential work: an M/M/c queue. 200,000
    # customers keep the standard error of the mean wait near 2 % at these loads; 8 % tolerance.
    rng = np.random.default_rng(3)
    mu = 1.0
    lam = rho * servers * mu
    n = 200_000
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    work = rng.exponential(1 / mu, n)
    _, r, w = _desks(float(servers))
    finish = np.array([dk.serve(r, w, 0, arrivals[i], work[i]) for i in range(n)])
    waits = finish - work - arrivals
    simulated = waits[n // 10:].mean()
    assert simulated == pytest.approx(erlang_c_wait(lam, mu, servers), rel=0.08)


def test_staff_become_whole_people():
    assert dk.servers_for(7.7) == (8, 1.0)  # whole people at the normal pace
    assert dk.servers_for(7.3) == (7, 1.0)
    assert dk.servers_for(0.3) == (1, 1.0)  # a unit that exists has someone there
    servers, speed = dk.servers_for(0.0)
    assert servers == 1 and speed < 1e-6  # nobody: work queued here is never done
    assert list(dk.people(np.array([0.0, 0.3, 1.5, 7.7]))) == [0.0, 1.0, 2.0, 8.0]


def test_restaffing_keeps_queued_work():
    d, r, w = _desks(2.0)
    finishes = [dk.serve(r, w, 0, 0.0, 5.0) for _ in range(3)]  # two now, one queued
    assert finishes == [5.0, 5.0, 10.0]
    bigger = dk.restaffed(d, np.array([4.0]), now=1.0)
    assert sorted(bigger.free[:4]) == [1.0, 1.0, 5.0, 10.0]  # new servers free from now
    smaller = dk.restaffed(d, np.array([1.0]), now=1.0)
    assert list(smaller.free[:1]) == [5.0]  # the one left is the earliest free


def test_little_law_per_unit_type():
    # Time-averaged number in system L = arrival rate x mean time in system W, per unit type,
    # over a window long against typical sojourns (edge effects are then a few per cent).
    r = small_run("hotline", days=90)
    ud = r.units_daily
    window = ud[(ud["day"] >= 20) & (ud["day"] < 80)]
    hours = 60 * 24.0
    checked = 0
    for unit_type, g in window.groupby("unit_type", observed=True):
        if g["arrivals"].sum() < 500:
            continue
        time_avg_in_system = g["mean_in_system"].sum() / 60
        lam = g["arrivals"].sum() / hours
        w = g["sojourn_hours"].sum() / g["arrivals"].sum()
        assert time_avg_in_system == pytest.approx(lam * w, rel=0.1), unit_type
        checked += 1
    assert checked >= 3


# ------------------------------------------------------------------------------ the draws
def test_keyed_uniforms_are_uniform_and_independent():
    key = draws.run_key(5)
    ids = np.arange(200_000, dtype=np.int64)
    u = draws.uniforms(key, ids, 3, 0)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # neighbouring cases, purposes and counts, and another seed, are uncorrelated
    for other in (draws.uniforms(key, ids + 1, 3, 0), draws.uniforms(key, ids, 4, 0),
                  draws.uniforms(key, ids, 3, 1), draws.uniforms(draws.run_key(6), ids, 3, 0)):
        assert abs(np.corrcoef(u, other)[0, 1]) < 0.01
        assert stats.kstest(other, "uniform").pvalue > 1e-3
    assert np.array_equal(u, draws.uniforms(key, ids, 3, 0))  # a key, not a stream


@pytest.mark.parametrize("cv", [0.0, 0.5, 1.0, 2.0])
def test_work_has_the_mean_and_spread_asked_for(cv):
    key = draws.run_key(1)
    shape = 0.0 if cv == 0 else 1.0 / cv**2
    x = np.array([draws.work(key, c, 7, 0, 3.0, shape) for c in range(40_000)])
    assert x.mean() == pytest.approx(3.0, rel=0.03)
    assert x.std() / x.mean() == pytest.approx(cv, abs=0.05)
    if cv == 2.0:  # gamma of shape 0.25
        assert stats.kstest(x / 3.0, stats.gamma(shape, scale=1 / shape).cdf).pvalue > 1e-3


def test_poisson_counts():
    key = draws.run_key(2)
    k = np.array([draws.poisson(key, c, 9, 0, 2.0) for c in range(40_000)])
    assert k.mean() == pytest.approx(2.0, rel=0.03) and k.var() == pytest.approx(2.0, rel=0.05)


# ------------------------------------------------------------------------- the kernel cache
def test_every_kernel_module_is_in_the_cache_fingerprint():
    """A kernel's cache is keyed by all kernel sources (numba checks only a function's own
    file): every module that compiles a kernel must be among them."""
    covered = {p.resolve() for p in compiled.kernel_files()}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        decorated = any(isinstance(d, ast.Name) and d.id == "kernel"
                        for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                        for d in node.decorator_list)
        if decorated:
            assert path.resolve() in covered, path


def test_kernel_cache_folder_follows_the_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVSIM_CACHE_DIR", str(tmp_path))
    assert compiled.cache_root() == tmp_path
    first = compiled.fingerprint()
    compiled.fingerprint.cache_clear()
    source = tmp_path / "engine"
    source.mkdir()
    monkeypatch.setattr(compiled, "_PACKAGE", tmp_path)
    monkeypatch.setattr(compiled, "KERNEL_SOURCES", ("engine",))
    (source / "a.py").write_text("x = 1\n")
    one = compiled.fingerprint()
    compiled.fingerprint.cache_clear()
    (source / "a.py").write_text("x = 2\n")
    two = compiled.fingerprint()
    compiled.fingerprint.cache_clear()
    assert len({first, one, two}) == 3
