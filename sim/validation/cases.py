"""The textbook cases: ordinary scenarios that reduce the engine to a queue theory can solve.

Every case is a plain scenario dict run with `sim.run` (no test-only code path): one district,
one street (two for the border case), one category with all the demand, Poisson arrivals with
flat daily and weekly profiles, exponential work (`staffing.work_cv: 1`), desks open round the
clock, every policy mechanism off. Each case runs `replications` times with independent seeds;
the replication means give a Student-t confidence interval that the theoretical value must fall
in. Estimates come from the per-unit ledger (`units_daily`), which counts every visit that
arrived in the measured window, including those still in service at the horizon, so long
sojourns are not censored.

Time scale: a case fixes the measured days and the customers per replication; the mean work is
then chosen so the load comes out right (the engine is scale-free in time).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

import sim
from sim.engine.desks import servers_for
from sim.results import Result
from sim.scenario.categories import load_categories
from sim.validation import theory
from sim.validation.sizes import FULL, QUICK, Size  # noqa: F401 - re-exported (sim.validation)

#: The category given all the demand (not seasonal, so no heating-season factor).
CATEGORY = "market"
#: The two department types of the tandem, in the order a case visits them.
LEAD, SECOND = "market_regulation", "housing"
STREET = "D01-S01"  # the one street of a 1 x 1 synthetic city
DISTRICT = "D01"

SERVERS = (1, 2, 5, 20)
LOADS = (0.5, 0.8, 0.95)
#: Customers per replication relative to the size's reference, by load: heavy traffic needs
#: longer runs (its relaxation time grows like 1 / (1 - sqrt(rho))^2), light traffic far fewer.
LOAD_WEIGHT = {0.5: 0.5, 0.8: 1.0, 0.95: 2.5}
#: Expected waiting customers per replication below which a mean wait is not checked.
MIN_WAITING = 200




@dataclass(frozen=True)
class Row:
    """One check: a measure of a case, its theoretical value, the estimate and its interval.

    `low`/`high` is the check's own `confidence` interval and `p` the two-sided p-value of
    "the engine's mean is the theoretical value". Hard bounds (no sampling error) have no
    interval and no p; `holds` says whether the bound is respected. `status` is set by `judge`.
    """

    case: str
    measure: str
    unit: str
    theory: float
    simulated: float
    low: float
    high: float
    n: int  # replications (or trials, for a share)
    p: float = math.nan
    holds: bool | None = None  # hard bounds only
    note: str = ""
    status: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("FAIL", "XPASS")


def rejected(rows: Sequence[Row], confidence: float) -> list[bool]:
    """Which checks disagree with theory, with a family-wise error rate of 1 - confidence.

    Holm's step-down procedure over the statistical checks: when the engine is right, the
    chance that *any* of them is flagged is at most 1 - confidence, however many there are
    (each check's own 99 % interval would flag one check in a hundred by chance alone).
    Hard bounds are flagged whenever they do not hold.
    """
    alpha = 1.0 - confidence
    out = [r.holds is False for r in rows]
    stat = sorted((r.p, i) for i, r in enumerate(rows) if r.holds is None)
    m = len(stat)
    for k, (p, i) in enumerate(stat):
        if not p <= alpha / (m - k):  # NaN p (no spread at all) is not evidence
            break
        out[i] = True
    return out


def judge(rows: Sequence[Row], confidence: float,
          known_issues: dict[str, str] | None = None) -> list[Row]:
    """Rows with their status: `pass`, `FAIL`, and for cases with a known engine issue
    `xfail` (fails as expected) or, when none of the case's checks fails, `XPASS` (the issue
    no longer shows: remove the mark)."""
    known = known_issues or {}
    bad = rejected(rows, confidence)
    failing_cases = {r.case for r, b in zip(rows, bad, strict=True) if b}
    out = []
    for r, b in zip(rows, bad, strict=True):
        if r.case not in known:
            status = "FAIL" if b else "pass"
        elif r.case not in failing_cases:
            status = "XPASS"
        else:
            status = "xfail" if b else "pass"
        out.append(replace(r, status=status))
    return out


@dataclass(frozen=True)
class Case:
    """A textbook case: its scenario, what one replication measures, and the rows it checks."""

    name: str  # shown in the table; also seeds the replications, so keep it stable
    title: str
    scenario: Callable[[Size], dict[str, Any]]
    measure: Callable[[Result], dict[str, float]]
    rows: Callable[[Size, list[dict[str, float]], float], list[Row]]
    known_issue: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


# ------------------------------------------------------------------------------ scenarios
def textbook(*, arrivals_per_day: float, work_hours: float, size: Size, name: str,
             street_staff: float = 1.0, work_cv: float = 1.0, streets: int = 1,
             population: int = 10_000, category: dict[str, Any] | None = None,
             **sections: Any) -> dict[str, Any]:
    """A scenario reduced to a queue: Poisson arrivals, flat profiles, no mechanisms.

    With the default 10,000 residents and `scale: 1` the street has exactly `street_staff`
    staff (a desk of that many unit-speed servers when it is a whole number) and
    `arrivals_per_day` problems a day.
    """
    keys = load_categories().keys
    cat = {"street_power": 1.0, "devolvable": 0.0, "work_hours": work_hours,
           "multi_dept_prob": 0.0, "cross_border_share": 0.0, "unreasonable_share": 0.0,
           "root_cause_share": 0.0, "emergency_share": 0.0, **(category or {})}
    data: dict[str, Any] = {
        "name": name,
        "description": "engine validation: a textbook queue (sim.validation)",
        "regime": "custom",
        "days": size.days,
        "warmup_days": size.warmup_days,
        "scale": 1.0,
        "city": {"source": "synthetic", "synthetic": {
            "n_districts": 1, "streets_per_district": streets, "population": population}},
        "demand": {
            "rate_per_10k_per_day": arrivals_per_day * 1e4 / population,
            "shares": {k: float(k == CATEGORY) for k in keys},
            "categories": {CATEGORY: cat},
            "hourly_profile": [1.0] * 24,
            "weekly_profile": [1.0] * 7,
            "heating_season_multiplier": 1.0,
            "growth_per_year": 0.0,
            "shocks": [],
        },
        # everyone reports at once to the street (a Poisson process delayed by iid delays is
        # still Poisson; the warm-up drops the start)
        "reporting": {"propensity": 1.0, "trust_sensitivity": 0.0, "to_street_share": 1.0,
                      "mean_delay_hours": 1.0},
        "staffing": {"street_staff_per_10k": street_staff, "shift_hours": 24.0,
                     "shift_start_hour": 0.0, "resolve_prob": 1.0, "work_cv": work_cv,
                     "triage_hours": 0.0, "dept_grassroots_share": 1.0},
        "fragmented": {"internal_handoffs": 0.0, "bounce_prob": 0.0, "paper_close_prob": 0.0,
                       "relay_delay_hours": 0.0, "border_wait_hours": 0.0},
        "whistle": {"enabled": False},
        "devolution": {"enforcement_team": False, "devolved_powers": False},
        "patrols": {"enabled": False},
        "hotline": {"enabled": False},
        "ranking": {"enabled": False},
        "themes": {"enabled": False},
        "inspection": {"enabled": False},
    }
    for section, values in sections.items():
        data[section] = {**data.get(section, {}), **values}
    return data


def _rates(size: Size, load: float, servers: int) -> tuple[float, float, float]:
    """(customers per day, arrivals per hour, mean work in hours) for a load on `servers`."""
    per_day = size.customers * LOAD_WEIGHT.get(load, 1.0) / size.days
    lam = per_day / 24.0
    return per_day, lam, load * servers / lam


def _unit_sums(result: Result, name: str) -> dict[str, float]:
    """A unit's ledger over the measured window: arrivals, sojourn and busy hours, mean L."""
    ud = result.units_daily
    u = ud[ud["name"] == name]
    if u.empty:
        raise RuntimeError(f"validation: no unit {name!r} in the run")  # a bug, not user input
    arrivals = float(u["arrivals"].sum())
    sojourn = float(u["sojourn_hours"].sum())
    busy = float(u["busy_hours"].sum())
    return {"arrivals": arrivals, "w": sojourn / arrivals, "wq": (sojourn - busy) / arrivals,
            "l": float(u["mean_in_system"].mean())}


# ----------------------------------------------------------------------------- intervals
def mean_row(case: str, measure: str, unit: str, theory_value: float, values: Sequence[float],
             confidence: float, note: str = "") -> Row:
    """Theory against the mean of replication estimates: Student-t interval and t-test."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * se
    if se > 0:
        p = float(2.0 * stats.t.sf(abs(mean - theory_value) / se, n - 1))
    else:
        p = 1.0 if mean == theory_value else 0.0
    return Row(case, measure, unit, theory_value, mean, mean - half, mean + half, n, p,
               note=note)


def share_row(case: str, measure: str, theory_value: float, k: int, n: int,
              confidence: float, note: str = "") -> Row:
    """Theory against a pooled share of independent trials: Clopper-Pearson interval and the
    exact binomial test."""
    test = stats.binomtest(k, n, theory_value)
    ci = test.proportion_ci(confidence_level=confidence, method="exact")
    return Row(case, measure, "share", theory_value, k / n, float(ci.low), float(ci.high), n,
               float(test.pvalue), note=note)


def bound_row(case: str, measure: str, unit: str, bound: float, value: float, holds: bool,
              n: int, note: str = "") -> Row:
    """A hard bound (no sampling error): `value` must respect `bound`."""
    return Row(case, measure, unit, bound, value, math.nan, math.nan, n, holds=holds,
               note=note)


# --------------------------------------------------------------------------------- cases
def mmc_case(servers: int, load: float) -> Case:
    """M/M/c at the street: the street resolves alone, `servers` staff, exponential work."""
    name = f"M/M/{servers} rho={load:g}"

    def scenario(size: Size) -> dict[str, Any]:
        per_day, _, work = _rates(size, load, servers)
        return textbook(arrivals_per_day=per_day, work_hours=work, size=size,
                        name=f"mm{servers}-{load:g}", street_staff=float(servers))

    def measure(result: Result) -> dict[str, float]:
        return _unit_sums(result, STREET)

    def rows(size: Size, reps: list[dict[str, float]], confidence: float) -> list[Row]:
        _, lam, work = _rates(size, load, servers)
        q = theory.mmc(lam, 1.0 / work, servers)
        note = f"1/mu = {work:.3g} h, Erlang C P(wait) = {q.p_wait:.3g}"
        out = []
        # Wq is checked only where enough customers wait: with a handful of waits per
        # replication (M/M/20 at load 0.5: P(wait) = 0.4 %) the estimate rests on a few rare
        # congestion episodes, too skewed for a t interval; W and L still cover the case.
        if q.p_wait * size.customers * LOAD_WEIGHT.get(load, 1.0) >= MIN_WAITING:
            out.append(mean_row(name, "mean wait in queue Wq", "h", q.wq,
                                [r["wq"] for r in reps], confidence, note))
        out.append(mean_row(name, "mean time in system W", "h", q.w, [r["w"] for r in reps],
                            confidence, note))
        out.append(mean_row(name, "mean number in system L", "", q.in_system,
                            [r["l"] for r in reps], confidence, note))
        return out

    return Case(name, f"M/M/{servers}, load {load:g}", scenario, measure,
                rows, tags=("mmc",))


def mg1_case(cv: float, load: float) -> Case:
    """M/G/1 at the street with gamma work of coefficient of variation `cv` (0: M/D/1)."""
    kind = "D" if cv == 0 else "G"
    name = f"M/{kind}/1 cv={cv:g} rho={load:g}"

    def scenario(size: Size) -> dict[str, Any]:
        per_day, _, work = _rates(size, load, 1)
        return textbook(arrivals_per_day=per_day, work_hours=work, size=size,
                        name=f"m{kind.lower()}1-{cv:g}-{load:g}", work_cv=cv)

    def measure(result: Result) -> dict[str, float]:
        return _unit_sums(result, STREET)

    def rows(size: Size, reps: list[dict[str, float]], confidence: float) -> list[Row]:
        _, lam, work = _rates(size, load, 1)
        q = theory.mg1(lam, work, cv)
        note = f"Pollaczek-Khinchine, 1/mu = {work:.3g} h, work cv {cv:g}"
        return [
            mean_row(name, "mean wait in queue Wq", "h", q.wq, [r["wq"] for r in reps],
                     confidence, note),
            mean_row(name, "mean time in system W", "h", q.w, [r["w"] for r in reps],
                     confidence, note),
        ]

    return Case(name, f"M/{kind}/1 (work cv {cv:g}), "
                f"load {load:g}", scenario, measure, rows, tags=("mg1",))


def tandem_case(servers: int, load: float) -> Case:
    """Jackson tandem: a two-department problem handled by one department, then the other.

    The fragmented path with its delays set to zero: the street and the district centre (no
    triage time, so no queue) pass it at once to the lead department, which hands it on to
    the second one when done. Both departments get `servers` staff.
    """
    name = f"tandem M/M/{servers} x2 rho={load:g}"
    lead, second = f"{DISTRICT}:{LEAD}", f"{DISTRICT}:{SECOND}"

    def scenario(size: Size) -> dict[str, Any]:
        per_day, _, work = _rates(size, load, servers)
        # department staff = district residents/1e4 x dept_staff_per_10k x the type's share
        # of the work (1/2 each here, as every case needs both)
        return textbook(arrivals_per_day=per_day, work_hours=work, size=size,
                        name=f"tandem{servers}-{load:g}", street_staff=1.0,
                        category={"street_power": 0.0, "departments": [LEAD, SECOND],
                                  "multi_dept_prob": 1.0},
                        staffing={"dept_staff_per_10k": 2.0 * servers})

    def measure(result: Result) -> dict[str, float]:
        a, b = _unit_sums(result, lead), _unit_sums(result, second)
        out = {f"1_{k}": v for k, v in a.items()} | {f"2_{k}": v for k, v in b.items()}
        out["total_w"] = a["w"] + b["w"]
        return out

    def rows(size: Size, reps: list[dict[str, float]], confidence: float) -> list[Row]:
        _, lam, work = _rates(size, load, servers)
        s1, s2 = theory.tandem(lam, [(1.0 / work, servers), (1.0 / work, servers)])
        note = f"Burke/Jackson: each stage M/M/{servers}, 1/mu = {work:.3g} h"
        out = []
        for i, (stage, label) in enumerate(((s1, "lead dept"), (s2, "second dept")), 1):
            out.append(mean_row(name, f"{label}: mean wait Wq", "h", stage.wq,
                                [r[f"{i}_wq"] for r in reps], confidence, note))
            out.append(mean_row(name, f"{label}: mean sojourn W", "h", stage.w,
                                [r[f"{i}_w"] for r in reps], confidence, note))
        out.append(mean_row(name, "both stages: mean sojourn", "h", s1.w + s2.w,
                            [r["total_w"] for r in reps], confidence, note))
        return out

    return Case(name, f"dept -> dept tandem, "
                f"M/M/{servers} stages, load {load:g}", scenario, measure, rows,
                tags=("tandem",))


def street_dept_case(street_servers: int, dept_servers: int, load: float,
                     centre_servers: int | None = None) -> Case:
    """Jackson tandem street -> district centre -> department: the fragmented relay itself.

    The street has no powers over the case: it triages it (exponential, `triage_hours`) and
    reports it up; the district centre triages it too (same law, on its own desk) and relays
    it with `relay_delay_hours: 0` to the one department, whose work is exponential. Every
    stage is FCFS with exponential work, so by Burke each is an M/M/c queue at the arrival
    rate. The street and the department run at `load`; the district centre (by default twice
    the street's staff) at half of it, as triage there takes as long as at the street.
    """
    centre = centre_servers or 2 * street_servers
    name = f"tandem street M/M/{street_servers} -> dept M/M/{dept_servers} rho={load:g}"
    dept = f"{DISTRICT}:{LEAD}"

    def times(size: Size) -> tuple[float, float, float, float]:
        """(customers per day, per hour, mean triage hours, mean department work hours)."""
        per_day, lam, triage = _rates(size, load, street_servers)
        return per_day, lam, triage, load * dept_servers / lam

    def scenario(size: Size) -> dict[str, Any]:
        per_day, _, triage, work = times(size)
        # one department type carries all the work, so it gets all of dept_staff_per_10k
        return textbook(arrivals_per_day=per_day, work_hours=work, size=size,
                        name=f"street-dept-{street_servers}-{dept_servers}-{load:g}",
                        street_staff=float(street_servers),
                        category={"street_power": 0.0, "departments": [LEAD]},
                        staffing={"triage_hours": triage, "dept_staff_per_10k": dept_servers,
                                  "district_centre_staff_per_10k": centre},
                        fragmented={"relay_delay_hours": 0.0})

    def measure(result: Result) -> dict[str, float]:
        out: dict[str, float] = {}
        for i, unit in enumerate((STREET, DISTRICT, dept), 1):
            out |= {f"{i}_{k}": v for k, v in _unit_sums(result, unit).items()}
        out["total_w"] = out["1_w"] + out["2_w"] + out["3_w"]
        return out

    def rows(size: Size, reps: list[dict[str, float]], confidence: float) -> list[Row]:
        _, lam, triage, work = times(size)
        stages = theory.tandem(lam, [(1.0 / triage, street_servers), (1.0 / triage, centre),
                                     (1.0 / work, dept_servers)])
        labels = (f"street (triage, M/M/{street_servers})",
                  f"district centre (triage, M/M/{centre})", f"dept (M/M/{dept_servers})")
        note = (f"Burke/Jackson: triage 1/mu = {triage:.3g} h, department 1/mu = {work:.3g} h, "
                "relay delay 0")
        out = []
        for i, (stage, label) in enumerate(zip(stages, labels, strict=True), 1):
            if stage.p_wait * size.customers * LOAD_WEIGHT.get(load, 1.0) >= MIN_WAITING:
                out.append(mean_row(name, f"{label}: mean wait Wq", "h", stage.wq,
                                    [r[f"{i}_wq"] for r in reps], confidence, note))
            out.append(mean_row(name, f"{label}: mean sojourn W", "h", stage.w,
                                [r[f"{i}_w"] for r in reps], confidence, note))
        out.append(mean_row(name, "all stages: mean sojourn", "h", sum(s.w for s in stages),
                            [r["total_w"] for r in reps], confidence, note))
        return out

    return Case(name, f"street -> district centre -> dept tandem (exponential triage), "
                f"load {load:g}", scenario, measure, rows, tags=("tandem",))


def border_case(load: float) -> Case:
    """Two streets sharing border problems: each is handled by its street, then by the other.

    With `border_wait_hours: 0` and exponential work this is a Kelly network: both streets are
    M/M/1 queues fed by all the problems of the city (product form, FCFS, one work law).
    Street staff are set so the larger street has exactly one person; the smaller, under one
    person, has one full-speed server too (`sim.engine.desks.servers_for`), so both streets run
    at `load`.
    """
    name = f"border 2 streets rho={load:g}"
    population = 20_000

    def streets() -> tuple[list[str], np.ndarray]:
        from sim.city import synthetic_city

        city = synthetic_city(1, 2, population)
        return list(city.street_names), city.street_population.astype(float)

    def setup(size: Size) -> tuple[float, float, float, list[str], np.ndarray]:
        """(customers per day, per hour, mean work, street names, street populations)."""
        names, pop = streets()
        per_day = size.customers / size.days
        lam = per_day / 24.0
        work = load / lam  # every problem visits both streets, each one unit-speed server
        return per_day, lam, work, names, pop

    def scenario(size: Size) -> dict[str, Any]:
        per_day, _, work, _, pop = setup(size)
        return textbook(arrivals_per_day=per_day, work_hours=work, size=size,
                        name=f"border-{load:g}", streets=2, population=population,
                        street_staff=1e4 / pop.max(),
                        category={"cross_border_share": 1.0})

    def measure(result: Result) -> dict[str, float]:
        names, _ = streets()
        out = {}
        for i, n in enumerate(names):
            out |= {f"{i}_{k}": v for k, v in _unit_sums(result, n).items()}
        return out

    def rows(size: Size, reps: list[dict[str, float]], confidence: float) -> list[Row]:
        _, lam, work, names, pop = setup(size)
        out = []
        for i, n in enumerate(names):
            servers, speed = servers_for(pop[i] / pop.max())  # staff: 1e4 / pop.max() per 10k
            q = theory.mmc(lam, speed / work, servers)
            note = f"Kelly network: street {n} is M/M/1 at load {q.rho:.2f}"
            out.append(mean_row(name, f"street {n}: mean sojourn W", "h", q.w,
                                [r[f"{i}_w"] for r in reps], confidence, note))
        return out

    return Case(name, f"two streets, every problem crosses the border, "
                f"load {load:g}", scenario, measure, rows, tags=("border",))


def whistle_case(window_minutes: float = 30.0, compliance: float = 0.9,
                 late_mean_minutes: float = 90.0) -> Case:
    """The 30-minute report rule: department arrival delays after a whistle.

    Half of the problems need two departments. A compliant department arrives uniformly within
    the window, so a case whose k departments all comply has a report delay distributed as the
    latest of k uniforms; a late one arrives after the window plus an exponential lateness.
    """
    name = f"whistle window={window_minutes:g}min"
    window = window_minutes / 60.0

    def scenario(size: Size) -> dict[str, Any]:
        per_day = size.customers / size.days
        # the street screens each case (0.25 h) and joins the joint work on call (0.8 h):
        # 2.5 staff per arrival an hour keep it near load 0.5 (the delays do not depend on it)
        return textbook(arrivals_per_day=per_day, work_hours=1.0, size=size,
                        name="whistle-report", street_staff=2.5 * per_day / 24.0,
                        category={"street_power": 0.0, "departments": [LEAD, SECOND],
                                  "multi_dept_prob": 0.5},
                        staffing={"triage_hours": 0.25},
                        whistle={"enabled": True, "report_window_minutes": window_minutes,
                                 "compliance": compliance,
                                 "late_mean_minutes": late_mean_minutes})

    def measure(result: Result) -> dict[str, float]:
        return whistle_measures(result, window)

    def rows(size: Size, reps: list[dict[str, float]], confidence: float) -> list[Row]:
        late = int(sum(r["late"] for r in reps))
        reports = int(sum(r["reports"] for r in reps))
        n = len(reps)
        return [
            share_row(name, "late share of department reports", 1.0 - compliance, late,
                      reports, confidence, f"compliance {compliance:g}; Clopper-Pearson"),
            mean_row(name, "report delay, 1 dept on time", "h", window / 2.0,
                     [r["on_time_1"] for r in reps], confidence, "uniform on the window"),
            mean_row(name, "report delay, 2 depts on time", "h",
                     theory.mean_max_uniform(window, 2), [r["on_time_2"] for r in reps],
                     confidence, "latest of two uniforms"),
            mean_row(name, "lateness past the window, 1 dept late", "h",
                     late_mean_minutes / 60.0, [r["lateness_1"] for r in reps], confidence,
                     "exponential lateness"),
            bound_row(name, "longest delay with no late report <= window", "h", window,
                      max(r["max_on_time"] for r in reps),
                      all(r["max_on_time"] <= window + 1e-9 for r in reps), n),
            bound_row(name, "shortest delay with a late report > window", "h", window,
                      min(r["min_late"] for r in reps),
                      all(r["min_late"] > window for r in reps), n),
        ]

    return Case(name, f"whistle report rule, window "
                f"{window_minutes:g} min", scenario, measure, rows, tags=("whistle",))


def whistle_measures(result: Result, window: float) -> dict[str, float]:
    """Report delays of whistled cases, split by on-time/late and by departments needed.

    `report_delay_h` is float32 in the ledger, so comparisons with the window allow 1e-6 h.
    """
    p = result.problems
    w = p[p["whistled"]]
    delay = w["report_delay_h"].to_numpy(float)
    late = w["late_reports"].to_numpy()
    depts = w["n_depts"].to_numpy()
    on_time = late == 0
    first_late = late > 0
    lateness_1 = delay[(depts == 1) & first_late] - window
    eps = 1e-6  # float32 storage of report_delay_h
    return {
        "late": float(late.sum()), "reports": float(depts.sum()),
        "on_time_1": float(delay[on_time & (depts == 1)].mean()),
        "on_time_2": float(delay[on_time & (depts == 2)].mean()),
        "lateness_1": float(lateness_1.mean()),
        "max_on_time": float(delay[on_time].max()) - eps,
        "min_late": float(delay[first_late].min()) + eps,
    }


def all_cases(quick: bool = False) -> list[Case]:
    """Every case `govsim validate-engine` runs, in table order."""
    cases = [mmc_case(c, rho) for c in SERVERS for rho in LOADS]
    cases += [mg1_case(0.0, 0.8), mg1_case(2.0, 0.8)]
    if quick:
        cases += [street_dept_case(1, 2, 0.8), tandem_case(2, 0.8)]
    else:
        cases += [street_dept_case(1, 2, 0.8), street_dept_case(3, 1, 0.9),
                  tandem_case(1, 0.9), tandem_case(3, 0.8)]
    cases += [border_case(0.7), whistle_case()]
    return cases


# ------------------------------------------------------------------------------- running
def replication_seeds(seed: int, case: str, replications: int) -> list[int]:
    """Independent seeds per case and replication, stable under adding or reordering cases."""
    ss = np.random.SeedSequence([seed, zlib.crc32(case.encode())])
    return [int(s) for s in ss.generate_state(replications, dtype=np.uint32)]


def run_replication(case: Case, size: Size, seed: int) -> dict[str, float]:
    """One run of a case with one seed: the case's measures."""
    data = case.scenario(size)
    data["seed"] = seed
    return case.measure(sim.run(data))


def _task(args: tuple[str, bool, Size, int]) -> dict[str, float]:
    name, quick, size, seed = args
    case = next(c for c in all_cases(quick) if c.name == name)
    return run_replication(case, size, seed)


def run_case(case: Case, size: Size, seed: int = 0, confidence: float = 0.99,
             replications: int | None = None) -> list[Row]:
    """All replications of one case, in this process, and its rows."""
    reps = replications or size.replications
    results = [run_replication(case, size, s) for s in replication_seeds(seed, case.name, reps)]
    return case.rows(size, results, confidence)


def run_all(cases: Sequence[Case], size: Size, *, seed: int = 0, confidence: float = 0.99,
            replications: int | None = None, jobs: int = 1, quick: bool = False,
            progress: Callable[[Case, int, int], None] | None = None) -> list[Row]:
    """Every case's replications (in `jobs` processes), then their rows, in case order.

    The numbers do not depend on `jobs`: each replication has its own seed.
    """
    reps = replications or size.replications
    tasks = [(case, s) for case in cases for s in replication_seeds(seed, case.name, reps)]
    results: list[dict[str, float]] = []
    if jobs > 1:  # workers rebuild the cases by name (closures do not pickle)
        known = {c.name for c in all_cases(quick)}
        if any(c.name not in known for c in cases):
            raise ValueError("jobs > 1 runs only the cases of all_cases(quick)")
        # spawn, not fork: forking a process that has started threads (pyarrow, tqdm) can
        # deadlock the children
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            args = [(case.name, quick, size, s) for case, s in tasks]
            for i, out in enumerate(pool.map(_task, args), 1):
                results.append(out)
                if progress is not None:
                    progress(tasks[i - 1][0], i, len(tasks))
    else:
        for i, (case, s) in enumerate(tasks, 1):
            results.append(run_replication(case, size, s))
            if progress is not None:
                progress(case, i, len(tasks))
    rows: list[Row] = []
    for k, case in enumerate(cases):
        rows += case.rows(size, results[k * reps:(k + 1) * reps], confidence)
    return judge(rows, confidence, {c.name: c.known_issue for c in cases if c.known_issue})


def table(rows: Sequence[Row]) -> pd.DataFrame:
    """The rows as a tidy table (one row per check)."""
    return pd.DataFrame([{
        "case": r.case, "measure": r.measure, "unit": r.unit, "theory": r.theory,
        "simulated": r.simulated, "ci_low": r.low, "ci_high": r.high, "n": r.n, "p": r.p,
        "status": r.status, "note": r.note} for r in rows])
