"""Measures the evidence tables add to a run's summary: what a referee asks of an effect besides the
waits — how many problems were prevented or reported, and how many staff did the work.

`extra(result)` is a sweep's `measures` function (`sim.evidence.measures:extra`): the
decomposition and the robustness analysis run through the durable sweep machinery and record
these beside the summary's own measures.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Unit types whose staff are case staff (a reform moves them, never creates them); the hotline's
#: seats are counted apart (`sim.staffing`).
CASE_UNITS = ("street", "enforcement", "department", "district_centre")


def extra(result: Any) -> dict[str, float]:
    """`prevented_share` and `reported_share` (of the problems that occurred), `dealt_share`
    (resolved or prevented, of the problems that occurred: a problem prevented counts as dealt
    with), `case_staff` and `hotline_seats` (real people on duty, mean over the measured days)."""
    m = result.measures
    occurred = float(m["occurred"])
    out = {
        "prevented_share": float(m["prevented"]) / occurred if occurred else float("nan"),
        "reported_share": float(m["reported"]) / occurred if occurred else float("nan"),
        "dealt_share": (float(m["resolved"]) + float(m["prevented"])) / occurred if occurred
        else float("nan"),
    }
    ud = result.units_daily
    days = max(1, int(ud["day"].max()) + 1) if len(ud) else 1
    weight = result.weight
    for name, types in (("case_staff", CASE_UNITS), ("hotline_seats", ("hotline",))):
        rows = ud[np.isin(ud["unit_type"].astype(str), types)] if len(ud) else ud
        out[name] = float(rows["staff"].sum()) / days * weight if len(rows) else 0.0
    return out


extra.reads_problems = False  # the run's counts and unit tables only

#: The measures a decomposition and a robustness analysis report by default, headline first:
#: (summary or `extra` column, short label).
HEADLINE = "resolved_within_7d_share"
DEFAULT_MEASURES: tuple[tuple[str, str], ...] = (
    ("resolved_within_7d_share", "share of all problems resolved within 7 days"),
    ("resolved_within_1d_share", "share resolved within 1 day"),
    ("resolved_share", "share of all problems resolved in the year"),
    ("dealt_share", "share resolved or prevented"),
    ("prevented_share", "share prevented"),
    ("reported_share", "share reported"),
    ("resolution_rate", "resolution rate (closed cases)"),
    ("satisfaction_rate", "satisfaction rate"),
    ("street_staff_hours", "street offices' staff hours"),
    ("enforcement_staff_hours", "enforcement teams' staff hours"),
    ("department_staff_hours", "departments' staff hours"),
    ("hotline_staff_hours", "12345's seat hours"),
    ("overtime_hours", "overtime hours, all units"),
    ("case_staff", "case staff on duty"),
    ("hotline_seats", "12345 seats on duty"),
    ("overloaded_units", "units overloaded at the end"),
)


def outcome(runs: Any, name: str) -> np.ndarray:
    """A measure's column of a runs table, with the derived ones (`overtime_hours`) made; the
    staff and overtime hours of a unit type a run does not have (no enforcement teams before
    forces sink down, no 12345 before the merger) are 0, not unknown."""
    if name == "overtime_hours":
        cols = [c for c in runs.columns if c.endswith("_overtime_hours")]
        return runs[cols].fillna(0.0).to_numpy(float).sum(axis=1)
    values = runs[name].to_numpy(dtype=float, na_value=np.nan)
    if name.endswith(("_staff_hours", "_overtime_hours")):
        values = np.nan_to_num(values, nan=0.0)
    return values
