"""Reading scenario files: YAML, `extends:` inheritance, dotted overrides, friendly errors.

Every failure becomes an `InputError` naming the file, the field path and what was expected, so
the CLI can print one line and exit 2 instead of a traceback.
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.city.city import DEPARTMENT_TYPES, City
from sim.errors import InputError, shorten
from sim.inputs import load_yaml
from sim.presets import PRESETS, presets_dir, shipped_file  # noqa: F401 - re-exported
from sim.sampling import StreetSample, sample_streets
from sim.scenario.categories import CategoryTable, load_categories
from sim.scenario.schema import FROZEN_FIELDS, FROZEN_PATHS, Change, Scenario


def resolve_path(name: str | Path) -> Path:
    """A scenario path; a bare preset name (`hotline`) means the shipped `hotline.yaml`
    (`scenarios/`), unless a file of that name exists here."""
    path = Path(name)
    if not path.exists():
        file = shipped_file(name)
        if file is not None:
            return file
    return path


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    file = str(path)
    data = load_yaml(path, "scenario file (YAML)")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(file, None, "a mapping of scenario fields", type(data).__name__)
    _anchor_as_of(data, path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise InputError(file, "extends", "the path of another scenario file", parent)
    parent_path = _referenced(parent, path)
    if not parent_path.is_file():
        raise InputError(file, "extends", "the path of an existing scenario file (relative to "
                         "this one) or a preset name", parent)
    if parent_path.resolve() in chain:
        raise InputError(file, "extends", "no cycle of extends", parent)
    base = _read_yaml(parent_path, (*chain, path.resolve()))
    return deep_merge(base, data)


def _referenced(name: str, path: Path) -> Path:
    """A scenario file named inside `path`: relative to it, else a preset name."""
    found = resolve_path(name if Path(name).is_absolute() else path.parent / name)
    return found if found.exists() else resolve_path(name)


def _anchor_as_of(data: dict[str, Any], path: Path) -> None:
    """An `as_of` history named relative to the file that names it is found from there, however
    deep in an `extends` chain that file is (the snapshot is taken once the chain is merged)."""
    as_of = data.get("as_of")
    if not isinstance(as_of, dict) or not isinstance(as_of.get("history"), str):
        return  # anything else is refused, naming the field, when the snapshot is taken
    found = _referenced(as_of["history"], path)
    if not found.is_file():
        raise InputError(str(path), "as_of.history", "the path of an existing scenario file "
                         "(relative to this one) or a preset name", as_of["history"])
    data["as_of"] = {**as_of, "history": str(found)}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`; nested mappings merge, everything else replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `a.b.c = value` inside nested dicts, creating levels as needed."""
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise InputError(None, dotted, "a path through mappings")
    node[keys[-1]] = value


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _expected(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return "a known field (this key is not part of the scenario schema; see docs/scenarios.md)"
    if kind == "missing":
        return "this field to be given"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
                "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values())) if ctx else "?"
        kind = "a date" if isinstance(bound, dt.date) else "a number"
        return f"{kind} {sign} {bound}"
    if kind == "int_parsing_size":
        return "a whole number of a sensible size (see docs/scenarios.md for its range)"
    if kind == "finite_number":
        return "a finite number (not .inf or .nan)"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}"
    msg = error["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
    return msg[0].lower() + msg[1:] if msg else kind


def invalid(err: ValidationError, file: str | None, prefix: str = "") -> InputError:
    """The first problem pydantic found, as the InputError that names it: the field (below
    `prefix`, a dotted path), what was expected, and the value given (not a whole mapping)."""
    first = err.errors()[0]
    got = first.get("input") if first["type"] != "missing" else None
    field = ".".join(p for p in (prefix, _field_path(first["loc"])) if p)
    return InputError(file, field or None, _expected(first),
                      None if isinstance(got, dict) else got)


def validate(data: dict[str, Any], file: str | None = None) -> Scenario:
    """Validate raw scenario data; the first problem found is raised as an InputError. Data
    naming `as_of` is first made a snapshot of its history (`sim.scenario.snapshot`)."""
    if "as_of" in data:
        from sim.scenario.snapshot import resolve_as_of

        data = resolve_as_of(data, file)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise invalid(err, file) from None
    check_references(scenario, load_categories(None), file)
    check_timeline(scenario, file)
    return scenario


def timeline_order(scenario: Scenario) -> list[tuple[int, Change]]:
    """(index in the file, change) in the order changes take effect: by date, then as written."""
    return sorted(enumerate(scenario.timeline), key=lambda item: item[1].date)


def apply_change(scenario: Scenario, change: Change) -> Scenario:
    """The scenario as it stands after `change`: the fields its reforms set (`sim.reforms`),
    then its own `set` (validated; the timeline itself is kept)."""
    from sim.reforms import settings

    data = scenario.model_dump(exclude={"timeline"})
    for dotted, value in change.set.items():
        if dotted.split(".")[0] in FROZEN_FIELDS or dotted in FROZEN_PATHS:
            raise InputError(None, dotted, "a field that may change during a run (not one of "
                             f"{', '.join((*FROZEN_FIELDS, *FROZEN_PATHS))})")
    for dotted, value in (*settings(change.reforms).items(), *change.set.items()):
        set_dotted(data, dotted, value)
    try:
        changed = Scenario.model_validate(data)
    except ValidationError as err:
        raise invalid(err, None) from None
    check_references(changed, load_categories(None), None)
    return changed.model_copy(update={"timeline": scenario.timeline})


def timeline_states(scenario: Scenario, file: str | None = None) -> list[tuple[str, Scenario]]:
    """The scenario as it stands after each change of its timeline, in turn (each must leave a
    valid scenario), with the field prefix that names the change: first the scenario itself.
    Worked out once per scenario in a process (validating, checking and running it all ask):
    the states are shared, to be read, not changed."""
    if not scenario.timeline:
        return [("", scenario)]
    frame = [f for f in FROZEN_FIELDS if f != "timeline"]  # a change cannot touch these
    try:
        later = _later_states(scenario.model_dump_json(exclude=set(frame)))
    except InputError as err:  # a failure is not kept: it names this file
        raise InputError(file, err.field, err.expected, err.got) from None
    same = {f: getattr(scenario, f) for f in frame}
    return [("", scenario), *((prefix, state.model_copy(update=same)) for prefix, state in later)]


@lru_cache(maxsize=16)
def _later_states(changeable_json: str) -> tuple[tuple[str, Scenario], ...]:
    """The states after each change of a scenario's fields a timeline may change, each with the
    field prefix that names its change (an error names no file: the caller adds it)."""
    state = Scenario.model_validate_json(changeable_json)
    states = []
    for i, change in timeline_order(state):
        if not change.set and not change.reforms:
            raise InputError(None, f"timeline[{i}].set", "at least one field to change (or "
                             "reforms that come into force)")
        try:
            state = apply_change(state, change)
        except InputError as err:
            raise InputError(None, f"timeline[{i}].set.{err.field}", err.expected,
                             err.got) from None
        states.append((f"timeline[{i}].set.", state))
    return tuple(states)


def check_timeline(scenario: Scenario, file: str | None) -> None:
    """Every change, applied in turn, must leave a valid scenario."""
    timeline_states(scenario, file)


#: Problems one run may simulate at most (estimated from its demand before anything is
#: allocated). A run needs about 0.26 GB of memory per million problems at its peak (the case
#: table, then the result's tables as they are written): Beijing's whole 2018-2024 history at
#: 1:1 is 48.7 million problems (estimated 50.1 million) and peaks at 12.9 GB.
MAX_PROBLEMS = 100_000_000


def expected_problems(scenario: Scenario, population: float, city: City | None = None) -> float:
    """About how many problems a run simulates: its demand over warm-up and run, with growth and
    shocks (every shock any state of the timeline names, at the highest rate it sets)."""
    states = [state for _, state in timeline_states(scenario)]
    rate = max(s.demand.rate_per_10k_per_day for s in states)
    growth = max(s.demand.growth_per_year for s in states)
    total = scenario.warmup_days + scenario.days
    level = (1.0 + growth) ** (np.arange(total) / 365.0)
    multiplier = np.ones(total)
    table = load_categories(scenario)
    shocks = {shock.model_dump_json(): shock for s in states for shock in s.demand.shocks}
    for shock in shocks.values():  # a shock on some categories or districts adds its share
        share = 1.0
        if shock.categories:
            share = float(sum(table.share[table.index(k)] for k in shock.categories))
        if shock.districts and city is not None and city.population > 0:
            share *= float(sum(city.district_population[city.district_names.index(d)]
                               for d in shock.districts) / city.population)
        start = scenario.warmup_days + shock.start_day
        multiplier[start:start + shock.days] *= 1.0 + (shock.multiplier - 1.0) * share
    per_day = rate * population * scenario.scale / 1e4
    return float(per_day * (level * multiplier).sum())


def check_city(scenario: Scenario, city: City, file: str | None = None) -> StreetSample:
    """What only the city can tell: the districts shocks name exist (at every state of the
    timeline), at least one street is simulated, and the run is not larger than
    `MAX_PROBLEMS`. `govsim check`, `run` and the model itself call this, so a file that passes
    `check` is not refused by `run`. Returns the run's sample of streets (`sim.sampling`)."""
    for prefix, state in timeline_states(scenario, file):
        for i, shock in enumerate(state.demand.shocks):
            for name in shock.districts or []:
                if name not in city.district_names:
                    raise InputError(file, f"{prefix}demand.shocks[{i}].districts",
                                     f"district names of the city {city.name}, one of "
                                     f"{shorten(city.district_names)}", name)
    sample = sample_streets(city, scenario.scale, scenario.seed, file)
    problems = expected_problems(scenario, float(city.population), city)
    if problems > MAX_PROBLEMS:
        raise InputError(file, None, f"a run of at most {MAX_PROBLEMS:,} simulated problems "
                         f"(lower scale, days or demand)",
                         f"about {problems:,.0f} in {city.name}")
    return sample


def check_references(scenario: Scenario, table: CategoryTable, file: str | None) -> None:
    """Names a scenario uses (categories, districts, plug-ins) must exist; shares must sum to
    1; each plug-in's settings must pass its own model."""
    from sim import plugins

    plugins.check(scenario, file)
    if scenario.city.source == "file" and not scenario.city.path:
        raise InputError(file, "city.path", "the path of a network file when city.source is "
                         "'file'")
    known = set(table.keys)
    demand = scenario.demand
    if demand.shares is not None:
        for key in demand.shares:
            if key not in known:
                raise InputError(file, f"demand.shares.{key}", f"a category, one of {sorted(known)}")
        missing = known - set(demand.shares)
        if missing:
            raise InputError(file, "demand.shares", f"a share for every category (missing "
                             f"{sorted(missing)})")
        total = sum(demand.shares.values())
        if abs(total - 1.0) > 1e-6:
            raise InputError(file, "demand.shares", "shares that sum to 1", round(total, 6))
    for key, override in demand.categories.items():
        if key not in known:
            raise InputError(file, f"demand.categories.{key}",
                             f"a category, one of {sorted(known)}")
        for j, dept in enumerate(override.departments or []):
            if dept not in DEPARTMENT_TYPES:
                raise InputError(file, f"demand.categories.{key}.departments[{j}]",
                                 f"a department type, one of {list(DEPARTMENT_TYPES)}", dept)
    for i, shock in enumerate(demand.shocks):
        for key in shock.categories or []:
            if key not in known:
                raise InputError(file, f"demand.shocks[{i}].categories",
                                 f"a category, one of {sorted(known)}", key)


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, merge and validate a scenario file; `overrides` maps dotted paths to values."""
    path = resolve_path(path)
    data = _read_yaml(path)
    for dotted, value in (overrides or {}).items():
        set_dotted(data, dotted, value)
    city = data.get("city")
    if isinstance(city, dict) and city.get("path") and city.get("source") == "file":
        city_path = Path(data["city"]["path"])
        if not city_path.is_absolute():
            data["city"]["path"] = str(path.parent / city_path)
    scenario = validate(data, str(path))
    return scenario
