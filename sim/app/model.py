"""The model behind the interactive page: `GovernanceModel` with flat keyword parameters and a
running record of what a viewer needs each day.

Mesa's SolaraViz rebuilds a model from keyword arguments (`type(model)(**params)`) on Reset, so
`CityModel` takes a preset and a handful of plain values and builds the `Scenario` itself. After
each day it reads only the problems recorded that day and the cases in flight, so watching costs the
same on day 300 as on day 3, and publishes an immutable `View` that the page draws from.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sim.cases import CLOSED_UNRESOLVED, RESOLVED
from sim.city.city import City
from sim.engine.workload import BUSY, per_unit
from sim.errors import InputError
from sim.model import GovernanceModel, make_city
from sim.scenario.loader import load_scenario, resolve_path, validate
from sim.scenario.schema import Change, CityConfig, Scenario

#: Mechanisms a viewer can switch: parameter name -> (scenario field, label).
MECHANISMS: dict[str, tuple[str, str]] = {
    "whistle": ("whistle.enabled", "Whistle: departments report on site"),
    "enforcement_teams": ("devolution.enforcement_team", "Enforcement teams at streets"),
    "patrols": ("patrols.enabled", "Street/lane-chief patrols"),
    "hotline": ("hotline.enabled", "12345 hotline, direct dispatch"),
    "ranking": ("ranking.enabled", "Monthly scoring and ranking"),
    "devolved_powers": ("devolution.devolved_powers", "431 devolved powers"),
    "themes": ("themes.enabled", "Monthly themes: policy and hot-spot projects"),
    "inspection": ("inspection.enabled", "Proactive inspection"),
    "street_governance": ("street_governance.enabled", "Streets' own proactive governance"),
}
#: A mechanism's setting at the start of a run: as the preset has it, or forced on or off.
SWITCH_CHOICES = ("preset", "on", "off")
#: Cities a viewer can pick: Beijing's 343 streets, or a small generated city of 20.
CITY_CHOICES = ("beijing", "synthetic", "scenario")
_CITIES: dict[str, dict[str, Any]] = {
    "beijing": {"source": "beijing"},
    "synthetic": {"source": "synthetic",
                  "synthetic": {"n_districts": 4, "streets_per_district": 5,
                                "population": 1_000_000}},
}
#: Days over which the live rates and the city-wide latency are pooled (a week smooths the
#: weekly cycle); the map's latency pools a month, since a street sees few cases a day.
RATE_WINDOW = 7
MAP_WINDOW = 30
#: The all-problem wait: the share of problems resolved within this many days of occurring
#: (the summary's `resolved_within_7d_share`), over the problems of RATE_WINDOW days.
WITHIN_DAYS = 7
#: What the map can colour streets by, with the colour bar's label.
MAP_MEASURES: dict[str, str] = {
    "backlog": "open cases per 10,000 residents",
    "latency": f"median days to resolution, resolved only ({MAP_WINDOW} days)",
}
#: Colour-scale floors, so that a quiet first week is not painted as a crisis.
_MAP_FLOOR = {"backlog": 5.0, "latency": 2.0}


def map_scale(values: np.ndarray, measure: str, previous: float = 0.0) -> float:
    """Top of the map's colour scale: the 98th percentile of streets, never below a floor and
    never lower than earlier in the run, so that a colour keeps its meaning while a run plays."""
    finite = values[np.isfinite(values)]
    top = float(np.percentile(finite, 98)) if finite.size else 0.0
    return max(top, _MAP_FLOOR[measure], previous)


def app_scenario(preset: str | Path = "hotline", *, city: str = "beijing", scale: float = 1.0,
                 days: int = 365, seed: int = 0, rate_per_10k_per_day: float | None = None,
                 surge: bool = False, surge_start_day: int = 60, surge_days: int = 14,
                 surge_multiplier: float = 3.0,
                 switches: dict[str, str] | None = None) -> tuple[Scenario, str | None]:
    """The scenario the page's controls describe, validated: a preset (or scenario file) with
    the city, scale, demand, surge and mechanism switches applied on top. The page plays from
    the first day, queues filling as you watch (no warm-up); a demand control is the rate at
    the start, the scenario's growth going on from it."""
    base = load_scenario(preset)
    file = str(resolve_path(preset))
    data = base.model_dump()
    if city not in CITY_CHOICES:
        raise InputError(None, "city", "one of " + ", ".join(CITY_CHOICES), city)
    if city != "scenario":
        layout_seed = data["city"]["layout_seed"]
        data["city"] = {**_CITIES[city], "layout_seed": layout_seed}
    data.update(scale=scale, days=days, seed=seed, warmup_days=0)
    if rate_per_10k_per_day is not None:
        data["demand"]["rate_per_10k_per_day"] = rate_per_10k_per_day
        data["demand"]["growth_level"] = 1.0
    if surge:
        data["demand"]["shocks"] = [*data["demand"]["shocks"],
                                    {"start_day": surge_start_day, "days": surge_days,
                                     "multiplier": surge_multiplier}]
    for name, choice in (switches or {}).items():
        if name not in MECHANISMS:
            raise InputError(file, name, "a mechanism, one of " + ", ".join(MECHANISMS))
        if choice not in SWITCH_CHOICES:
            raise InputError(file, name, "one of " + ", ".join(SWITCH_CHOICES), choice)
        if choice != "preset":
            section, key = MECHANISMS[name][0].split(".")
            data[section][key] = choice == "on"
    return validate(data, file), file


@lru_cache(maxsize=4)
def _city(key: str) -> City:
    return make_city(CityConfig.model_validate(json.loads(key)))


def shared_city(config: CityConfig) -> City:
    """The city a configuration names, built once per process: a `City` is read-only, and
    Beijing takes a noticeable fraction of a second to build, on every Reset."""
    return _city(json.dumps(config.model_dump(mode="json"), sort_keys=True))


@dataclass(frozen=True)
class View:
    """What the page shows after a day, copied out of the model so that drawing never reads
    arrays the next day is writing. Counts are in real-city units (divided by `scale`)."""

    version: int  # days simulated; changes whenever anything below changes
    day: int  # the last simulated day (-1 before the first)
    date: dt.date | None
    days: int
    name: str
    series: dict[str, np.ndarray]  # one value per simulated day
    street_backlog: np.ndarray  # open cases per 10,000 residents, by where the problem is
    street_latency: np.ndarray  # median days to resolution over MAP_WINDOW days; NaN: none
    figures: dict[str, float]
    mechanisms: dict[str, bool]
    surges: list[tuple[int, int]] = field(default_factory=list)  # (first day, days)
    events: list[tuple[int, str]] = field(default_factory=list)  # (day, what changed)
    map_top: dict[str, float] = field(default_factory=dict)  # colour-scale tops, by measure
    running: bool = True


SERIES = ("occurred", "entered", "open", "resolved_7d", "latency_median", "latency_p90",
          "response_rate",
          "resolution_rate", "satisfaction_rate", "trust", "street_utilisation")


class CityModel(GovernanceModel):
    """`GovernanceModel` built from flat keyword arguments, keeping a daily `view`.

    `preset` is a preset name or a scenario file; the mechanism arguments take `"preset"`,
    `"on"` or `"off"`; `rate_per_10k_per_day=None` keeps the scenario's rate. `switch()` turns a
    mechanism on or off from the next day while the model runs.
    """

    def __init__(self, preset: str = "hotline", city: str = "beijing", scale: float = 1.0,
                 days: int = 365, seed: int = 0, rate_per_10k_per_day: float | None = None,
                 surge: bool = False, surge_start_day: int = 60, surge_days: int = 14,
                 surge_multiplier: float = 3.0, whistle: str = "preset",
                 enforcement_teams: str = "preset", patrols: str = "preset",
                 hotline: str = "preset", ranking: str = "preset",
                 devolved_powers: str = "preset", themes: str = "preset",
                 inspection: str = "preset", street_governance: str = "preset"):
        switches = {"whistle": whistle, "enforcement_teams": enforcement_teams,
                    "patrols": patrols, "hotline": hotline, "ranking": ranking,
                    "devolved_powers": devolved_powers, "themes": themes,
                    "inspection": inspection, "street_governance": street_governance}
        spec, file = app_scenario(preset, city=city, scale=scale, days=int(days), seed=int(seed),
                                  rate_per_10k_per_day=rate_per_10k_per_day, surge=surge,
                                  surge_start_day=int(surge_start_day),
                                  surge_days=int(surge_days), surge_multiplier=surge_multiplier,
                                  switches=switches)
        super().__init__(spec, city=shared_city(spec.city), file=file)
        self._lock = threading.Lock()
        self._pending: list[tuple[str, bool]] = []
        self.events: list[tuple[int, str]] = []
        self.watch = Watch(self)
        self.view = self.watch.view()

    def switch(self, mechanism: str, on: bool) -> None:
        """Turn `mechanism` on or off from the start of the next day (through the model's own
        timeline, so the change is exactly what a dated `timeline` entry would do)."""
        if mechanism not in MECHANISMS:
            raise InputError(None, "mechanism", "one of " + ", ".join(MECHANISMS), mechanism)
        with self._lock:
            self._pending.append((mechanism, bool(on)))

    def pending(self) -> list[tuple[str, bool]]:
        """Switches asked for but not yet in force."""
        with self._lock:
            return list(self._pending)

    def step(self) -> None:
        d = self.day
        if d >= self.total_days:
            self.running = False
            self.view = self.watch.view()
            return
        with self._lock:
            asked, self._pending = self._pending, []
        if asked:
            date = self.origin + dt.timedelta(days=d)
            for mechanism, on in asked:
                dotted, label = MECHANISMS[mechanism]
                note = f"{label}: {'on' if on else 'off'}"
                self.add_change(d, Change(date=date, note=note, set={dotted: on}))
                self.events.append((d - self.spec.warmup_days, note))
        super().step()
        self.watch.after_day(d)
        if self.day >= self.total_days:
            self.running = False
        self.view = self.watch.view()


_COLUMNS = ("pid", "community", "occurred_h", "entered_h", "first_unit_h", "closed_h",
            "outcome", "satisfied")


class Watch:
    """Running daily figures of one model, updated in time proportional to one day's records
    and the cases in flight (never to everything simulated so far)."""

    def __init__(self, model: CityModel):
        self.model = model
        n = model.total_days + 2
        #: closed cases by the day they close (recorded when their last handling starts)
        self.closed = np.zeros(n)
        self.resolved = np.zeros(n)
        self.satisfied = np.zeros(n)
        self.responded = np.zeros(n)
        #: problems that arose (not prevented) by day of occurrence, and those of them resolved
        #: within WITHIN_DAYS of occurring (known once their last handling starts)
        self.arose = np.zeros(n)
        self.quick = np.zeros(n)
        #: resolved cases by closing day: (street, hours from occurrence to resolution)
        self.latency: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        #: recorded cases still open: by closing day, (pid, street)
        self.closing: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.series = {name: np.full(model.total_days, np.nan) for name in SERIES}
        self.street_open = np.zeros(model.city.n_streets)
        self.map_top = {measure: 0.0 for measure in MAP_MEASURES}
        self.last_day = -1

    def after_day(self, d: int) -> None:
        """Fold in day `d`, just simulated."""
        self._fold_records(d)
        self._count_open(d)
        self._update_series(d)
        self.last_day = d

    def _fold_records(self, d: int) -> None:
        """Fold in the cases recorded on day `d` (their last handling started): closed cases and
        their rates by closing day, quick resolutions by day of occurrence, latencies; those
        that close after `d` are kept as open until then."""
        m = self.model
        last = m.total_days + 1
        street_of = m.city.community_street
        rows = m.problem_columns(_COLUMNS, m.last_recorded)
        out = rows["outcome"]
        done = (out == RESOLVED) | (out == CLOSED_UNRESOLVED)
        close_day = np.minimum(np.floor(rows["closed_h"][done] / 24.0).astype(np.int64), last)
        res = out[done] == RESOLVED
        self.closed += np.bincount(close_day, minlength=last + 1)
        self.resolved += np.bincount(close_day, weights=res, minlength=last + 1)
        self.satisfied += np.bincount(close_day, weights=rows["satisfied"][done] > 0,
                                      minlength=last + 1)
        limit = m.spec.hotline.response_limit_hours
        quick = (rows["first_unit_h"][done] - rows["entered_h"][done]) <= limit
        self.responded += np.bincount(close_day, weights=quick, minlength=last + 1)
        streets = street_of[rows["community"][done]]
        latency = (rows["closed_h"] - rows["occurred_h"])[done]
        fast = res & (latency <= 24.0 * WITHIN_DAYS)
        occ_day = np.floor(rows["occurred_h"][done][fast] / 24.0).astype(np.int64)
        self.quick += np.bincount(occ_day, minlength=last + 1)[:last + 1]
        for day in np.unique(close_day):
            sel = close_day == day
            self._add(self.latency, int(day), streets[sel & res], latency[sel & res])
            if day > d:
                self._add(self.closing, int(day), rows["pid"][done][sel], streets[sel])
        for day in [day for day in self.closing if day <= d]:
            del self.closing[day]
        for day in [day for day in self.latency if day <= d - MAP_WINDOW]:
            del self.latency[day]

    def _count_open(self, d: int) -> None:
        """Open cases by street at midnight after day `d`: cases recorded with a later closing,
        and cases between units."""
        m = self.model
        street_of = m.city.community_street
        now = 24.0 * (d + 1)
        pids = [p for p, _ in self.closing.values()]
        recorded = np.concatenate(pids) if pids else np.zeros(0, np.int64)
        open_streets = [s for _, s in self.closing.values()]
        flight = m.cases_in_flight()
        seen = m.problem_columns(("entered_h", "community"), flight)
        pid = flight[seen["entered_h"] <= now]
        comm = seen["community"][seen["entered_h"] <= now]
        if len(pid):
            keep = ~np.isin(pid, recorded)
            open_streets.append(street_of[comm[keep]])
        n_s = m.city.n_streets
        self.street_open = (np.bincount(np.concatenate(open_streets), minlength=n_s)[:n_s]
                            if open_streets else np.zeros(n_s))

    def _update_series(self, d: int) -> None:
        """Day `d`'s values of the city-wide series: counts of the day, rates over the last
        RATE_WINDOW days, the 7-day resolved share of the week ending WITHIN_DAYS days ago."""
        m = self.model
        k = m.sample.weight
        i = d
        s = self.series
        counts = m.counts_today
        s["occurred"][i] = counts.occurred * k
        s["entered"][i] = counts.entered * k
        s["open"][i] = self.street_open.sum() * k
        self.arose[d] = counts.occurred - counts.prevented
        # the problems of the week ending WITHIN_DAYS days ago: each watched for WITHIN_DAYS,
        # so the share resolved in that time is known (no problem is censored before it)
        cohort = d - WITHIN_DAYS
        if cohort >= 0:
            week = slice(max(0, cohort - RATE_WINDOW + 1), cohort + 1)
            arose = self.arose[week].sum()
            if arose:
                s["resolved_7d"][cohort] = self.quick[week].sum() / arose
        lo = max(0, d - RATE_WINDOW + 1)
        window = slice(lo, d + 1)
        n_closed = self.closed[window].sum()
        if n_closed:
            s["response_rate"][i] = self.responded[window].sum() / n_closed
            s["resolution_rate"][i] = self.resolved[window].sum() / n_closed
            s["satisfaction_rate"][i] = self.satisfied[window].sum() / n_closed
        recent = [self.latency[day][1] for day in range(lo, d + 1) if day in self.latency]
        hours = np.concatenate(recent) if recent else np.zeros(0)
        if hours.size:
            s["latency_median"][i], s["latency_p90"][i] = np.percentile(hours, [50, 90]) / 24.0
        s["trust"][i] = float(np.average(m.trust, weights=m.city.community_population))
        offices = np.arange(m.city.n_streets)
        available = (m.staff_log[offices, lo:d + 1] * m.hours_log[offices, lo:d + 1]).sum()
        if available > 0:
            busy = per_unit(m.workload, BUSY)[offices, lo:d + 1]
            s["street_utilisation"][i] = busy.sum() / available

    @staticmethod
    def _add(store: dict[int, tuple[np.ndarray, np.ndarray]], day: int, a: np.ndarray,
             b: np.ndarray) -> None:
        if day in store:
            old_a, old_b = store[day]
            store[day] = (np.concatenate([old_a, a]), np.concatenate([old_b, b]))
        else:
            store[day] = (a.copy(), b.copy())

    def street_latency(self) -> np.ndarray:
        """Median days from occurrence to resolution per street, over the last MAP_WINDOW
        days' resolutions (NaN where a street had none)."""
        d = self.last_day
        n_s = self.model.city.n_streets
        parts = [self.latency[day] for day in range(d - MAP_WINDOW + 1, d + 1)
                 if day in self.latency]
        out = np.full(n_s, np.nan)
        if not parts:
            return out
        street = np.concatenate([p[0] for p in parts])
        hours = np.concatenate([p[1] for p in parts])
        order = np.lexsort((hours, street))
        street, hours = street[order], hours[order]
        cut = np.flatnonzero(np.diff(street)) + 1
        for s_idx, h in zip(np.split(street, cut), np.split(hours, cut), strict=True):
            if len(h):
                out[s_idx[0]] = np.median(h) / 24.0
        return out

    def view(self) -> View:
        m = self.model
        spec = m.spec
        w = spec.warmup_days
        d = self.last_day
        k = m.sample.weight
        shown = slice(w, d + 1) if d >= w else slice(0, 0)
        series = {name: values[shown].copy() for name, values in self.series.items()}
        per10k = m.city.street_population / 1e4
        s = self.series
        today = {name: float(s[name][d]) if d >= 0 else float("nan") for name in SERIES}
        figures = {
            "occurred": today["occurred"],
            "entered": today["entered"],
            "open": today["open"],
            "resolved_7d": (float(s["resolved_7d"][d - WITHIN_DAYS]) if d >= WITHIN_DAYS
                            else float("nan")),
            "resolved_today": float(self.resolved[d]) * k if d >= 0 else float("nan"),
            "latency_median": today["latency_median"],
            "latency_p90": today["latency_p90"],
            "response_rate": today["response_rate"],
            "resolution_rate": today["resolution_rate"],
            "satisfaction_rate": today["satisfaction_rate"],
            "trust": today["trust"],
            "street_utilisation": today["street_utilisation"],
        }
        mechanisms = {}
        for name, (dotted, _label) in MECHANISMS.items():
            section, key = dotted.split(".")
            mechanisms[name] = bool(getattr(getattr(spec, section), key))
        surges = [(sh.start_day, sh.days) for sh in spec.demand.shocks if sh.multiplier > 1.0]
        date = m.origin + dt.timedelta(days=d) if d >= 0 else None
        # a street outside the sample has no figures (NaN: drawn as not simulated)
        backlog = np.where(m.sample.streets, self.street_open / np.maximum(per10k, 1e-9), np.nan)
        latency = self.street_latency()
        for measure, values in (("backlog", backlog), ("latency", latency)):
            self.map_top[measure] = map_scale(values, measure, self.map_top[measure])
        return View(
            version=d + 1, day=d - w, date=date, days=spec.days, name=spec.name, series=series,
            street_backlog=backlog, street_latency=latency, figures=figures,
            mechanisms=mechanisms, surges=surges, events=list(m.events),
            map_top=dict(self.map_top), running=m.day < m.total_days)
