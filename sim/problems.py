"""Problems (诉求): their attributes, drawn for a whole day at once, and the in-flight `Case`.

Only problems that enter the system (reported, or found by a patrol or an inspection) become
`Case` objects; the rest are written to the ledger as one block when they occur. A `Case` lives
only while the problem is being handled, so memory follows the backlog, not the city.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.city.city import DEPARTMENT_TYPES
from sim.engine.ledger import (
    DEPT_LINE,
    HOTLINE,
    INSPECTION,
    NEVER_REPORTED,
    NO_CHANNEL,
    PATROL,
    PREVENTED,
    STREET_LINE,
)
from sim.scenario.categories import TIME_LIMIT_CLASSES

if TYPE_CHECKING:
    from sim.demand import DayOfProblems
    from sim.model import GovernanceModel

NAN = float("nan")


class Case:
    """A problem being handled: where it is, what it needs, and what has happened to it."""

    __slots__ = (
        "pid", "cat", "comm", "street", "district", "occurred", "entered", "channel", "first",
        "depts", "next_dept", "handoffs", "bounces", "whistled", "late", "neighbour",
        "unreasonable", "root", "emergency", "limit", "owner", "reopens", "power", "enforce",
        "ticket", "backstop", "cb_time", "cb_resolved", "satisfied", "work", "report_delay",
    )

    def __init__(self, pid: int, cat: int, comm: int, street: int, district: int,
                 occurred: float, entered: float, channel: int, depts: tuple[int, ...],
                 neighbour: int, unreasonable: bool, root: bool, emergency: bool, limit: float,
                 power: bool, enforce: bool, work: float):
        self.pid = pid
        self.cat = cat
        self.comm = comm
        self.street = street
        self.district = district
        self.occurred = occurred
        self.entered = entered
        self.channel = channel
        self.first = NAN  # when a handling unit first had it
        self.depts = depts  # department units needed, lead first
        self.next_dept = 0
        self.handoffs = 0
        self.bounces = 0
        self.whistled = False
        self.late = 0
        self.report_delay = NAN  # whistle: hours from the call to the last department on site
        self.neighbour = neighbour  # street across the border, or -1
        self.unreasonable = unreasonable
        self.root = root
        self.emergency = emergency
        self.limit = limit  # hours
        self.owner = -1  # unit scored for this case
        self.reopens = 0
        self.power = power  # the street may resolve it with its own powers
        self.enforce = enforce  # an enforcement-team case
        self.ticket = False
        self.backstop = False
        self.cb_time = NAN
        self.cb_resolved = -1
        self.satisfied = -1
        self.work = work  # mean staff hours of one handling


def new_problems(model: GovernanceModel, day: int, occ: DayOfProblems) -> list[Case]:
    """Draw the day's problems' attributes and fates; return those that enter, by entry time.

    Problems prevented by source governance and problems nobody will report or find are
    written to the ledger at once.
    """
    spec, table, city, rng = model.spec, model.table, model.city, model.rng
    n = len(occ.category)
    pid0 = model.next_pid
    model.next_pid += n
    if n == 0:
        return []
    pid = np.arange(pid0, pid0 + n, dtype=np.int64)
    cat, comm = occ.category, occ.community
    street = city.community_street[comm]
    u = rng.random((n, 9))
    unreasonable = u[:, 0] < table.unreasonable_share[cat]
    root = u[:, 1] < table.root_cause_share[cat]
    prevented = root & (u[:, 2] < model.themes.removed[street, cat])
    emergency = u[:, 3] < table.emergency_share[cat]
    limit_class = np.where(emergency, TIME_LIMIT_CLASSES.index("emergency"), table.time_limit[cat])
    multi = u[:, 4] < table.multi_dept_prob[cat]
    if spec.hotline.enabled:
        limits = spec.hotline.time_limits
    else:
        limits = type(spec.hotline.time_limits)()
    limit_hours = np.array([limits.emergency_hours, limits.utility_hours, limits.general_hours,
                            limits.complex_hours])[limit_class]
    if multi.any():  # the longest possible limit for problems needing several departments
        limit_hours = np.where(multi & ~emergency, np.maximum(limit_hours, limits.complex_hours),
                               limit_hours)
    cross = u[:, 5] < table.cross_border_share[cat]
    powers = table.street_power[cat] + (table.devolvable[cat] if spec.devolution.devolved_powers
                                         else 0.0)
    power = u[:, 6] < powers

    # who finds it first: a resident's report, a patrol, an inspection
    trust = model.trust[comm]
    propensity = spec.reporting.propensity * (spec.hotline.induced_reporting
                                              if spec.hotline.enabled else 1.0)
    p_report = np.clip(propensity * (2.0 * trust) ** spec.reporting.trust_sensitivity, 0.0, 1.0)
    reported = u[:, 7] < p_report
    t_report = occ.occurred_h + rng.exponential(spec.reporting.mean_delay_hours, n)
    entered = np.where(reported, t_report, np.inf)
    channel = np.where(reported, NO_CHANNEL, NO_CHANNEL).astype(np.int8)
    if spec.hotline.enabled:
        channel[reported] = HOTLINE
    else:
        to_street = u[:, 8] < spec.reporting.to_street_share
        channel[reported] = np.where(to_street[reported], STREET_LINE, DEPT_LINE)
    patrol_rate = model.patrol_rate_per_hour(cat)
    if patrol_rate is not None:
        t_patrol = occ.occurred_h + rng.exponential(1.0, n) / np.maximum(patrol_rate, 1e-300)
        found = (patrol_rate > 0) & (t_patrol < entered)
        entered = np.where(found, t_patrol, entered)
        channel[found] = PATROL
    inspect_rate = model.inspection.rate_per_hour(street, cat, day)
    if inspect_rate is not None:
        t_insp = occ.occurred_h + rng.exponential(1.0, n) / np.maximum(inspect_rate, 1e-300)
        found = (inspect_rate > 0) & (t_insp < entered)
        entered = np.where(found, t_insp, entered)
        channel[found] = INSPECTION

    enters = np.isfinite(entered) & ~prevented
    # the fate of the rest is known now
    gone = ~enters
    if gone.any():
        model.ledger.record_block({
            "pid": pid[gone], "category": cat[gone], "community": comm[gone],
            "occurred_h": occ.occurred_h[gone],
            "outcome": np.where(prevented[gone], PREVENTED, NEVER_REPORTED),
            "channel": np.full(gone.sum(), NO_CHANNEL), "handoffs": np.zeros(gone.sum()),
            "bounces": np.zeros(gone.sum()), "whistled": np.zeros(gone.sum()),
            "late_reports": np.zeros(gone.sum()), "n_depts": np.zeros(gone.sum()),
            "cross_border": cross[gone], "unreasonable": unreasonable[gone],
            "root_cause": root[gone], "emergency": emergency[gone],
            "time_limit_h": limit_hours[gone], "reopens": np.zeros(gone.sum()),
        })
    model.counts_today["occurred"] += n
    model.counts_today["prevented"] += int(prevented.sum())
    idx = np.flatnonzero(enters)
    idx = idx[np.argsort(entered[idx], kind="stable")]
    model.themes.note_reports(street[idx], cat[idx])
    model.counts_today["entered"] += len(idx)

    # departments needed, neighbours across the border: only for those that enter
    district = city.street_district[street]
    extra = rng.random((len(idx), 2))
    dept_table = table.departments
    n_types = dept_table.shape[1]
    n_cats = len(dept_table)
    # per category: its department types; per (district, category): the lead's unit, so the
    # common single-department case costs one lookup (the same units `dept_unit` gives)
    types_of = [[int(t) for t in dept_table[k] if t >= 0] for k in range(n_cats)]
    unit_of = [[model.dept_unit(d, t) for t in range(len(DEPARTMENT_TYPES))]
               for d in range(city.n_districts)]  # `dept_unit` as a table
    lead_of = [[(unit_of[d][types[0]],) if types else () for types in types_of]
               for d in range(city.n_districts)]
    enforce_of = [bool(table.enforcement[k]) and spec.devolution.enforcement_team
                  for k in range(n_cats)]
    work_of = [float(w) for w in table.work_hours]
    neighbours = city.street_neighbours
    # Python scalars once, not numpy scalars per case
    rows = zip(pid[idx].tolist(), cat[idx].tolist(), comm[idx].tolist(), street[idx].tolist(),
               district[idx].tolist(), occ.occurred_h[idx].tolist(), entered[idx].tolist(),
               channel[idx].tolist(), multi[idx].tolist(), cross[idx].tolist(),
               unreasonable[idx].tolist(), root[idx].tolist(), emergency[idx].tolist(),
               limit_hours[idx].tolist(), power[idx].tolist(), extra.tolist(), strict=True)
    cases = []
    append = cases.append
    for (p, k, c, s, d, t_occ, t_in, ch, is_multi, is_cross, unr, rt, emg, lim, pw,
         (e0, e1)) in rows:
        if is_multi:
            types = list(types_of[k])
            wanted = 2 if e0 < 0.7 or len(types) < 3 else 3
            if len(types) < wanted:
                types.append(model.random_other_dept(types[0], e1))
            units = unit_of[d]
            depts = tuple([units[t] for t in types[:wanted][:n_types]])
        else:
            depts = lead_of[d][k]
        neighbour = -1
        if is_cross:
            nbrs = neighbours[s]
            if len(nbrs):
                neighbour = int(nbrs[int(e1 * len(nbrs)) % len(nbrs)])
        append(Case(p, k, c, s, d, t_occ, t_in, ch, depts, neighbour, unr, rt, emg, lim, pw,
                    enforce_of[k], work_of[k]))
    return cases
