"""Mechanisms in plain Python: a daily plug-in acts once a day on the day's cases, the offices
and the cohorts, before the compiled day and after it.

A plug-in is a module declaring `MECHANISM = Mechanism(name, section="plugins.<name>",
stations=("before_day",), settings=<its pydantic section>, daily=<its class>)` (see
`sim.mechanisms`), and a class with `before_day(day)` and/or `after_day(day)`, as
`DailyMechanism`. A scenario switches it on by naming it under `plugins:` with its settings:

    plugins:
      grid_cadre: {share: 0.3}                       # a built-in plug-in (sim.mechanisms)
      my_rule: {module: my_reforms.my_rule, rate: 2}  # your own module, importable

or a script hands instances to `sim.run(..., mechanisms=[...])` (Covasim's interventions are the
model). In the day, `before_day` comes after the day's new problems are drawn and reported (their
rows are `day.entering`) and before any is handled; `after_day` after the compiled day, with the
cases recorded that day (`day.closed`). A plug-in acts through `Day`'s methods, which keep the
case lifecycle whole (a settled case is still worked, called back, scored and recorded), never
through the model object. A run without plug-ins calls nothing here.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.errors import InputError

if TYPE_CHECKING:
    from sim.agents import CitizenCohort, Office
    from sim.cases import Cases
    from sim.city import City
    from sim.mechanisms import Mechanism
    from sim.scenario.categories import CategoryTable
    from sim.scenario.schema import Scenario

#: Spawn key of a plug-in's daily draws (apart from the model's own streams).
_PLUGIN_STREAM = 11
#: Hour of the day at which `Day.charge` books extra work (the offices' morning).
CHARGE_HOUR = 9.0


class DailyMechanism:
    """Base of a plug-in's class: made from its settings, told of each change of them (a
    timeline may set `plugins.<name>.<field>`), called before and after each day."""

    def __init__(self, settings: Any = None):
        self.settings = settings

    def configure(self, settings: Any) -> None:
        """The scenario changed: these are the settings from now on."""
        self.settings = settings

    def before_day(self, day: Day) -> None:
        """The day's new cases are made (`day.entering`); none is handled yet."""

    def after_day(self, day: Day) -> None:
        """The day's events are run; `day.closed` holds the cases recorded today."""


class EachDay(DailyMechanism):
    """A plain function as a plug-in: `fn(day)` called before each day (Covasim's
    function interventions): `sim.run(..., mechanisms=[my_rule])`."""

    def __init__(self, fn: Callable[[Day], None]):
        super().__init__(None)
        self.fn = fn

    def before_day(self, day: Day) -> None:
        self.fn(day)


def as_mechanism(given: DailyMechanism | Callable[[Day], None]) -> tuple[str, DailyMechanism]:
    """(its name, the plug-in) of what `sim.run(mechanisms=[...])` was handed."""
    if isinstance(given, DailyMechanism):
        return type(given).__name__, given
    if callable(given):
        return getattr(given, "__name__", "function"), EachDay(given)
    raise InputError(None, "mechanisms", "plug-in objects (sim.DailyMechanism) or functions "
                     "of the day", type(given).__name__)


@dataclass
class Day:
    """What a plug-in sees of one day, and the ways it may act on it.

    Rows index the case table (`sim.cases`): read a column with `column(name, rows)` (names as
    in `sim.cases.COLUMNS`: `category`, `street`, `community`, `channel`, `power`, `n_depts`,
    `depts`, `occurred_h`, `entered_h`, ...; times in hours from the run's day 0). Units are
    numbered as `sim.units.layout`: streets, their enforcement teams, departments, district
    centres, 12345; `offices[unit]` is the agent of each (`effort` can be set), `cohorts` the
    residents of the simulated communities (`trust` can be set)."""

    index: int  # day of the run (0 = the first day of the warm-up, if any)
    date: dt.date
    spec: Scenario  # the scenario as it stands today
    city: City
    categories: CategoryTable
    cases: Cases
    offices: list[Office]
    cohorts: list[CitizenCohort]
    entering: np.ndarray  # rows of the cases made today that will enter (now or later)
    closed: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    settled: list[np.ndarray] = field(default_factory=list)  # rows settled on the spot
    charges: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def start_h(self) -> float:
        """The day's first hour, in hours from the run's day 0."""
        return 24.0 * self.index

    def column(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """A copy of one column of the case table at `rows` (default: today's entering)."""
        rows = self.entering if rows is None else np.asarray(rows, np.int64)
        return getattr(self.cases, name)[rows].copy()

    def rng(self, name: str) -> np.random.Generator:
        """Random numbers of plug-in `name` for this day: the same for the same seed, whatever
        else the run does or which other plug-ins it has."""
        key = (_PLUGIN_STREAM, zlib.crc32(name.encode()), self.index)
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.spec.seed,
                                                                           spawn_key=key)))

    def settle_on_spot(self, rows: np.ndarray, units: np.ndarray) -> None:
        """These entering cases are settled where they arose: at its time of entry each goes
        straight to its unit (instead of its channel), which works it as any handling (its desk
        queue, its work drawn as usual) and concludes it (resolved or not, called back, scored,
        recorded). Only before the day; each case once."""
        rows = np.asarray(rows, np.int64)
        units = np.broadcast_to(np.asarray(units, np.int64), rows.shape)
        if not np.isin(rows, self.entering).all():
            raise ValueError("settle_on_spot: rows must be among today's entering cases")
        if any(np.isin(rows, done).any() for done in self.settled) or len(np.unique(rows)) < len(
                rows):
            raise ValueError("settle_on_spot: a case can be settled once")
        if len(units) and (units.min() < 0 or units.max() >= len(self.offices)):
            raise ValueError(f"settle_on_spot: units must be in 0..{len(self.offices) - 1}")
        self.cases.owner_unit[rows] = units
        self.settled.append(rows)

    def charge(self, units: np.ndarray, hours: np.ndarray) -> None:
        """Book extra work (staff hours) at these units' desks this morning (a meeting, a
        patrol, a project), queued like any other work; units without staff (outside the
        sample of streets) are skipped."""
        units = np.asarray(list(units) if isinstance(units, range) else units, np.int64)
        self.charges.append((units, np.broadcast_to(np.asarray(hours, float), units.shape)))


def resolve(name: str, section: dict[str, Any],
            file: str | None = None) -> tuple[Mechanism, Any]:
    """The plug-in a scenario's `plugins.<name>` section names, and its settings validated by
    the plug-in's own model (`module` set aside); a mistake names the field."""
    from pydantic import ValidationError

    from sim.mechanisms import plugin
    from sim.scenario.loader import invalid

    try:
        declared = plugin(name, section.get("module"))
    except LookupError as err:
        field_ = f"plugins.{name}" + (".module" if section.get("module") else "")
        raise InputError(file, field_, str(err), section.get("module") or name) from None
    given = {k: v for k, v in section.items() if k != "module"}
    if declared.settings is None:
        return declared, given
    try:
        return declared, declared.settings.model_validate(given)
    except ValidationError as err:
        raise invalid(err, file, f"plugins.{name}") from None


def make(name: str, section: dict[str, Any], file: str | None = None) -> DailyMechanism:
    """The plug-in `name`, made from its section's settings."""
    declared, settings = resolve(name, section, file)
    return declared.daily(settings)


def build(spec: Scenario, file: str | None = None) -> list[tuple[str, DailyMechanism]]:
    """The scenario's plug-ins, made from their settings, in the order the file names them."""
    return [(name, make(name, section, file)) for name, section in spec.plugins.items()]


#: Whether validating a scenario looks its plug-ins up (off while a saved run is read back:
#: its record stands even where the plug-in's module is not installed).
_LOOK_UP: contextvars.ContextVar[bool] = contextvars.ContextVar("plugins_look_up", default=True)


@contextlib.contextmanager
def as_recorded() -> Iterator[None]:
    """Validate scenarios without importing their plug-ins (a saved run's record)."""
    token = _LOOK_UP.set(False)
    try:
        yield
    finally:
        _LOOK_UP.reset(token)


def check(spec: Scenario, file: str | None = None) -> None:
    """Every plug-in the scenario names exists and its settings are valid."""
    for name, section in spec.plugins.items():
        if not isinstance(section, dict):
            raise InputError(file, f"plugins.{name}", "a mapping of the plug-in's settings",
                             section)
        if _LOOK_UP.get():
            resolve(name, section, file)
