"""The mechanisms of the reforms, one module each, named as in docs/model.md.

Every module here declares itself in one record, `MECHANISM = Mechanism(...)`: its name, the
scenario section it reads, the stations it acts at, and how it is built. That record is the one
list of mechanisms: the compiled world's fields and the model's rules are derived from it
(`compiled()`), and a plug-in written in plain Python is found by it (`plugin()`), so adding a
mechanism touches only its own module (and, for a built-in one, its schema section).

Two kinds:

- *compiled*: `rules(spec)` turns its scenario section into a tuple of numbers that the day's
  kernels (`sim.flow`) receive as `world.<name>`; the mechanism's own kernels act at the named
  stations. A switched-off compiled mechanism is the same rules behaving as the old model did,
  so the engine never asks which regime it is in.
- *daily* (a plug-in): `daily(settings)` makes an object whose `before_day(day)` and
  `after_day(day)` act in plain Python on the day's cases, the offices and the cohorts
  (`sim.plugins`); its settings are the scenario's `plugins.<name>` section, validated by its
  own `settings` model. docs/extending.md walks through one (`grid_cadre`).

The other modules (reporting, patrols, inspection, time limits, sources, themes) act where
problems are drawn or once a day or month; their records say where.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

#: Stations of the compiled flow (`sim.flow`'s unit functions) a mechanism may act at.
FLOW_STATIONS = ("enter", "hotline_receive", "street_receive", "street_handle", "settle",
                 "other_side", "centre_receive", "dept_receive", "dept_handle", "reopen",
                 "conclude", "on_spot")
#: Points of the model's day (`sim.model.GovernanceModel.step`) a mechanism may act at:
#: where the day's problems are drawn and reported, at the start of the day and of a month,
#: before the compiled day (the day's new cases made) and after it (its cases closed).
DAY_POINTS = ("problems", "day_start", "month_start", "month_end", "before_day", "after_day",
              "staffing")
#: The package whose modules are the built-in mechanisms.
PACKAGE = __name__


@dataclass(frozen=True)
class Mechanism:
    """What a mechanism module declares about itself (`MECHANISM = Mechanism(...)`)."""

    name: str  # as in docs/model.md; a compiled one's field of the world
    section: str  # the scenario section it reads (`whistle`; a plug-in: `plugins.<name>`)
    stations: tuple[str, ...]  # where it acts: FLOW_STATIONS and DAY_POINTS
    doc: str = ""  # one line: what it does
    rules: Callable[[Any], tuple] | None = None  # compiled: the scenario -> its kernels' rules
    settings: type | None = None  # a plug-in: the pydantic model of its section
    daily: Callable[[Any], Any] | None = None  # a plug-in: its settings -> the acting object

    @property
    def compiled(self) -> bool:
        return self.rules is not None


def _declaration(module: ModuleType) -> Mechanism | None:
    found = getattr(module, "MECHANISM", None)
    return found if isinstance(found, Mechanism) else None


@cache
def builtin() -> tuple[Mechanism, ...]:
    """Every mechanism module of this package, by name."""
    package = importlib.import_module(PACKAGE)
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        declared = _declaration(importlib.import_module(f"{PACKAGE}.{info.name}"))
        if declared is not None:
            found.append(declared)
    return tuple(sorted(found, key=lambda m: m.name))


def compiled() -> tuple[Mechanism, ...]:
    """The compiled mechanisms, by name: the world's fields after the engine's parts."""
    return tuple(m for m in builtin() if m.compiled)


def rules(spec: Any) -> dict[str, tuple]:
    """Each compiled mechanism's rules under the scenario as it stands."""
    return {m.name: m.rules(spec) for m in compiled()}


def plugin(name: str, module: str | None = None) -> Mechanism:
    """The plug-in `name`: a built-in one of this package, one a package registers under the
    entry-point group `govsim.mechanisms`, or the one `module` (an import path) declares.
    Raises LookupError naming what was looked for."""
    if module is not None:
        try:
            declared = _declaration(importlib.import_module(module))
        except ImportError as err:
            raise LookupError(f"an importable module (could not import {module}: {err})") from None
        if declared is None or declared.daily is None:
            raise LookupError(f"a module declaring a plug-in (`MECHANISM = Mechanism(..., "
                              f"daily=...)`); {module} declares none")
        if declared.name != name:
            raise LookupError(f"the plug-in's own name, {declared.name!r}")
        return declared
    for declared in (*builtin(), *_entry_points()):
        if declared.name == name and declared.daily is not None:
            return declared
    raise LookupError(f"a plug-in's name, one of {sorted(plugin_names())} (or `module:` "
                      "naming the module that declares it)")


def plugin_names() -> list[str]:
    return [m.name for m in (*builtin(), *_entry_points()) if m.daily is not None]


@cache
def _entry_points() -> tuple[Mechanism, ...]:
    from importlib.metadata import entry_points

    found = []
    for point in entry_points(group="govsim.mechanisms"):
        try:
            declared = point.load()
        except (ImportError, AttributeError):  # a broken package must not stop govsim
            continue
        if isinstance(declared, ModuleType):
            declared = _declaration(declared)
        if isinstance(declared, Mechanism):
            found.append(declared)
    return tuple(found)
