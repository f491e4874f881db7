"""Reading scenario files: YAML, `extends:` inheritance, dotted overrides, friendly errors.

Every failure becomes an `InputError` naming the file, the field path and what was expected, so
the CLI can print one line and exit 2 instead of a traceback.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.city.city import DEPARTMENT_TYPES
from sim.errors import InputError
from sim.presets import PRESETS, presets_dir, shipped_file  # noqa: F401 - re-exported
from sim.scenario.categories import CategoryTable, load_categories
from sim.scenario.schema import FROZEN_FIELDS, Change, Scenario


def resolve_path(name: str | Path) -> Path:
    """A scenario path; a bare preset name (`hotline`) means the shipped `hotline.yaml`
    (`sim/presets/`), unless a file of that name exists here."""
    path = Path(name)
    if not path.exists():
        file = shipped_file(name)
        if file is not None:
            return file
    return path


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    file = str(path)
    if not path.is_file():
        raise InputError(file, None, "an existing scenario file (YAML)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise InputError(file, where, "valid YAML", str(err).splitlines()[0]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(file, None, "a mapping of scenario fields", type(data).__name__)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise InputError(file, "extends", "the path of another scenario file", parent)
    parent_path = resolve_path(parent if Path(parent).is_absolute() else path.parent / parent)
    if not parent_path.exists():
        parent_path = resolve_path(parent)
    if not parent_path.is_file():
        raise InputError(file, "extends", "the path of an existing scenario file (relative to "
                         "this one) or a preset name", parent)
    if parent_path.resolve() in chain:
        raise InputError(file, "extends", "no cycle of extends", parent)
    base = _read_yaml(parent_path, (*chain, path.resolve()))
    return deep_merge(base, data)


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
        return f"a number {sign} {bound}"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}"
    msg = error["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
    return msg[0].lower() + msg[1:] if msg else kind


def validate(data: dict[str, Any], file: str | None = None) -> Scenario:
    """Validate raw scenario data; the first problem found is raised as an InputError."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        got = first.get("input") if first["type"] != "missing" else None
        if isinstance(got, dict):
            got = None
        raise InputError(file, _field_path(first["loc"]) or None, _expected(first), got) from None
    check_references(scenario, load_categories(None), file)
    check_timeline(scenario, file)
    return scenario


def timeline_order(scenario: Scenario) -> list[tuple[int, Change]]:
    """(index in the file, change) in the order changes take effect: by date, then as written."""
    return sorted(enumerate(scenario.timeline), key=lambda item: item[1].date)


def apply_change(scenario: Scenario, change: Change) -> Scenario:
    """The scenario as it stands after `change` (validated; the timeline itself is kept)."""
    data = scenario.model_dump(exclude={"timeline"})
    for dotted, value in change.set.items():
        top = dotted.split(".")[0]
        if top in FROZEN_FIELDS:
            raise InputError(None, dotted, "a field that may change during a run (not one of "
                             f"{', '.join(FROZEN_FIELDS)})")
        set_dotted(data, dotted, value)
    try:
        changed = Scenario.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        got = first.get("input") if first["type"] != "missing" else None
        raise InputError(None, _field_path(first["loc"]) or None, _expected(first),
                         None if isinstance(got, dict) else got) from None
    check_references(changed, load_categories(None), None)
    return changed.model_copy(update={"timeline": scenario.timeline})


def check_timeline(scenario: Scenario, file: str | None) -> None:
    """Every change, applied in turn, must leave a valid scenario."""
    state = scenario
    for i, change in timeline_order(scenario):
        if not change.set:
            raise InputError(file, f"timeline[{i}].set", "at least one field to change")
        try:
            state = apply_change(state, change)
        except InputError as err:
            raise InputError(file, f"timeline[{i}].set.{err.field}", err.expected,
                             err.got) from None


def check_references(scenario: Scenario, table: CategoryTable, file: str | None) -> None:
    """Names a scenario uses (categories, districts) must exist; shares must sum to 1."""
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
