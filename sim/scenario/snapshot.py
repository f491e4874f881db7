"""A history's city as it stood on a date: what `as_of: {history: FILE, date: DATE}` means.

The presets are the calibrated Beijing at one reference period, each with one reform set, so that
a comparison of regimes is a comparison within the city the calibration fitted, not between
cities of different assumed values. A snapshot of the history (`scenarios/beijing-2018-2024.yaml`)
on a date keeps everything the history holds (its fitted values among them) and brings it to that
date:

- growth: the levels demand, head count and productivity had reached by the start of the
  snapshot's run (its first warm-up day), from the growth rates in force on the way there, go
  into `demand.growth_level`, `staffing.staff_level` and `staffing.productivity_level`; the
  rates then in force continue;
- the history's timeline: what its changes *set* up to the date is in force (the call centre's
  roster of that year; a change during the warm-up applies from its first day); what they set
  later is not carried, nor are the *reforms* they bring: the scenario chooses its own (a preset
  names its reform's switches) and has no timeline but its own;
- a shock under way on the date goes on (from the start date); shocks over before it or still
  to come are events of the history, not states of its city, and are not carried; nor is a city
  theme set by a dated change (`EVENTS`).

The scenario file's own fields go on top; `start_date` is the snapshot's date.
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import lru_cache
from typing import Any

from sim.errors import InputError
from sim.scenario.schema import Change, Scenario

#: Snapshots of snapshots go this deep at most (a cycle of files is an error).
_MAX_DEPTH = 4
#: Fields a dated change sets as an event (done once when set), not as a state of the city.
EVENTS = ("themes.city_theme",)


def resolve_as_of(data: dict[str, Any], file: str | None, depth: int = 0) -> dict[str, Any]:
    """`data` (a scenario's raw fields, naming `as_of`) made a snapshot of its history: the
    history's city on the date, with `data`'s own fields on top."""
    from sim.scenario.loader import deep_merge, resolve_path

    data = dict(data)
    spec = data.pop("as_of")
    if not isinstance(spec, dict) or set(spec) != {"history", "date"}:
        raise InputError(file, "as_of", "a mapping with `history` (a scenario file) and `date`",
                         spec)
    history, date = spec["history"], spec["date"]
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            raise InputError(file, "as_of.date", "a date (YYYY-MM-DD)", date) from None
    if not isinstance(date, dt.date):
        raise InputError(file, "as_of.date", "a date (YYYY-MM-DD)", date)
    if not isinstance(history, str):
        raise InputError(file, "as_of.history", "the path of a scenario file", history)
    if depth >= _MAX_DEPTH:
        raise InputError(file, "as_of.history", f"a history that is not itself a snapshot more "
                         f"than {_MAX_DEPTH} deep (a cycle?)", history)
    path = resolve_path(history)  # a file's own `as_of` is anchored to it when read
    if not path.is_file():
        raise InputError(file, "as_of.history", "the path of an existing scenario file "
                         "(relative to this one) or a preset name", history)
    given = data.get("start_date", date)
    if str(given) != str(date):
        raise InputError(file, "start_date", f"the date of `as_of` ({date}) or nothing (to take "
                         "the city as of another date, set as_of.date)", str(given))
    warmup = data.get("warmup_days", 0)
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0:
        raise InputError(file, "warmup_days", "a whole number of days >= 0", warmup)
    own = data.pop("timeline", None) or []  # the file's own changes; the history's are in
    stat = path.stat()
    try:
        name, snapshot = _snapshot(str(path), stat.st_mtime_ns, stat.st_size, str(date), warmup)
    except ValueError as err:
        raise InputError(file, "as_of.date", str(err), str(date)) from None
    snapshot = copy.deepcopy(snapshot)
    snapshot["based_on"] = f"{name} as of {date}"
    merged = deep_merge(snapshot, data)
    merged["timeline"] = own
    return merged


@lru_cache(maxsize=16)
def _snapshot(path: str, _mtime: int, _size: int, date: str,
              warmup: int) -> tuple[str, dict[str, Any]]:
    """(the history's name, its snapshot): read and taken once per process for each file
    (a changed file is read again), since every preset of a comparison is one."""
    from sim.scenario.loader import load_scenario

    scenario = load_scenario(path)
    return scenario.name, take(scenario, dt.date.fromisoformat(date), warmup)


def take(history: Scenario, date: dt.date, warmup_days: int = 0) -> dict[str, Any]:
    """The raw fields of `history`'s city as it stood on `date`, for a run starting then after
    `warmup_days` of warm-up (see the module)."""
    from sim.scenario.loader import apply_change, timeline_order

    first = history.start_date - dt.timedelta(days=history.warmup_days)
    last = history.start_date + dt.timedelta(days=history.days - 1)
    origin = date - dt.timedelta(days=warmup_days)
    if origin < first or date > last:
        raise ValueError(f"a date within the history ({first} to {last}) whose run, warm-up "
                         f"included (from {origin}), starts within it too")
    state = history
    levels = [history.demand.growth_level, history.staffing.staff_level,
              history.staffing.productivity_level]
    grown_to = first  # the day the levels are at
    for _, change in timeline_order(history):
        if change.date > date:
            break
        if change.date <= origin:  # the levels grow at the rates in force before the change
            levels = _grown(state, levels, (change.date - grown_to).days)
            grown_to = change.date
        kept = {k: v for k, v in change.set.items() if k not in EVENTS}
        if kept:  # its inputs; a change during the warm-up applies from its first day
            state = apply_change(state, Change(date=change.date, note=change.note, set=kept))
    levels = _grown(state, levels, (origin - grown_to).days)

    data = state.model_dump(mode="json", exclude={"timeline"})
    data["start_date"] = date.isoformat()
    data["warmup_days"] = warmup_days
    data["demand"]["growth_level"], data["staffing"]["staff_level"], \
        data["staffing"]["productivity_level"] = (float(x) for x in levels)
    data["themes"]["city_theme"] = None  # an event of the history, not a state (EVENTS)
    shift = (history.start_date - date).days
    shocks = []  # a shock under way on the date goes on; those over, or to come, are events
    for shock in data["demand"]["shocks"]:
        start, end = shock["start_day"] + shift, shock["start_day"] + shift + shock["days"]
        if start <= 0 < end:
            shocks.append({**shock, "start_day": 0, "days": end})
    data["demand"]["shocks"] = shocks
    data["timeline"] = []
    return data


def _grown(state: Scenario, levels: list[float], days: int) -> list[float]:
    """Demand, head-count and productivity levels after `days` at `state`'s growth rates."""
    rates = (state.demand.growth_per_year, state.staffing.growth_per_year,
             state.staffing.productivity_growth_per_year)
    return [level * (1.0 + rate) ** (days / 365.0) for level, rate in zip(levels, rates,
                                                                           strict=True)]
