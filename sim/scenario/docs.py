"""Markdown reference of every scenario field, generated so that it cannot drift from the code.

Types, defaults, allowed ranges and descriptions come from the pydantic models of
`sim.scenario.schema`; the category-table columns from `sim/data/categories.csv` and
`sim/data/categories_sources.md`; what each preset switches on from loading `scenarios/*.yaml`
with `load_scenario` and comparing each with the one before.

    python -m sim.scenario.docs            # (re)write docs/scenarios.md
    python -m sim.scenario.docs --check    # exit 1 if docs/scenarios.md is not what render() gives
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import types
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sim.city.city import DEPARTMENT_TYPES
from sim.scenario.categories import CategoryTable, load_categories
from sim.scenario.loader import PRESETS, load_scenario, presets_dir
from sim.scenario.schema import CategoryOverride, Scenario

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"
#: docs/model.md holds a generated section: every parameter, classified (sim.scenario.parameters)
MODEL_PATH = DOC_PATH.with_name("model.md")

_NONE = type(None)
_UNIONS = (Union, types.UnionType)
_PRIMITIVES = {bool: "boolean", int: "integer", float: "number", str: "string",
               dt.date: "date (YYYY-MM-DD)"}
_TABLE_HEAD = ("| field | type | default | allowed | description |\n"
               "|---|---|---|---|---|")


# ------------------------------------------------------------------------------ type reading
def _strip(tp: Any) -> tuple[Any, list[Any]]:
    """The bare type under any `Annotated[...]` layers, and the constraints those layers carry."""
    meta: list[Any] = []
    while get_origin(tp) is Annotated:
        tp, *extra = get_args(tp)
        for item in extra:
            meta.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return tp, meta


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _non_null(args: tuple[Any, ...]) -> list[Any]:
    return [a for a in args if a is not _NONE]


def _fixed_tuple(origin: Any, args: tuple[Any, ...]) -> bool:
    return origin is tuple and not (len(args) == 2 and args[1] is Ellipsis)


def type_name(tp: Any) -> str:
    """A readable name of a type as it is written in YAML (`list of number`, `number or null`)."""
    tp, _ = _strip(tp)
    origin, args = get_origin(tp), get_args(tp)
    if tp is _NONE:
        return "null"
    if origin in _UNIONS:
        name = " or ".join(type_name(a) for a in _non_null(args))
        if _NONE not in args:
            return name
        return f"{name}, or null" if " " in name else f"{name} or null"
    if origin is Literal:
        kinds = {type(a) for a in args}
        return _PRIMITIVES.get(kinds.pop(), "value") if len(kinds) == 1 else "value"
    if origin is list or (origin is tuple and not _fixed_tuple(origin, args)):
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"mapping {type_name(args[0])} → {type_name(args[1])}"
    if _fixed_tuple(origin, args):
        names = [type_name(a) for a in args]
        if len(set(names)) == 1:
            return f"list of {len(names)} {names[0]}"
        return "list [" + ", ".join(names) + "]"
    if _is_model(tp):
        return f"section `{tp.__name__}`"
    return _PRIMITIVES.get(tp, getattr(tp, "__name__", str(tp)))


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bounds(meta: list[Any]) -> str:
    lower = upper = None
    for item in meta:
        for attr, sign in (("ge", "≤"), ("gt", "<")):
            if getattr(item, attr, None) is not None:
                lower = (sign, _num(getattr(item, attr)))
        for attr, sign in (("le", "≤"), ("lt", "<")):
            if getattr(item, attr, None) is not None:
                upper = (sign, _num(getattr(item, attr)))
    if lower and upper:
        return f"{lower[1]} {lower[0]} x {upper[0]} {upper[1]}"
    if lower:
        return f"{'≥' if lower[0] == '≤' else '>'} {lower[1]}"
    if upper:
        return f"{upper[0]} {upper[1]}"
    return ""


def _length(meta: list[Any], unit: str = "items") -> str:
    low = high = None
    for item in meta:
        low = getattr(item, "min_length", None) if getattr(item, "min_length", None) is not None \
            else low
        high = getattr(item, "max_length", None) if getattr(item, "max_length", None) is not None \
            else high
    if low is not None and low == high:
        return f"exactly {low} {unit}"
    if low is not None and high is not None:
        return f"{low}–{high} {unit}"
    if low is not None:
        return f"at least {low} {unit}"
    if high is not None:
        return f"at most {high} {unit}"
    return ""


def allowed(tp: Any, meta: list[Any] | tuple[Any, ...] = ()) -> str:
    """The values a type with its constraints accepts, e.g. `0 ≤ x ≤ 1`, `each ≥ 0`."""
    tp, inner = _strip(tp)
    meta = [*meta, *inner]
    origin, args = get_origin(tp), get_args(tp)
    parts = [p for p in (_bounds(meta), _length(meta, "characters" if tp is str else "items"))
             if p]
    if origin in _UNIONS:
        inner_parts = [allowed(a) for a in _non_null(args)]
        parts += [p for p in inner_parts if p]
    elif origin is Literal:
        parts.append("one of " + ", ".join(f"`{_yaml(a)}`" for a in args))
    elif origin is list or (origin is tuple and not _fixed_tuple(origin, args)):
        item = allowed(args[0])
        if item:
            parts.append(f"each {item}")
    elif origin is dict:
        item = allowed(args[1])
        if item:
            parts.append(f"each value {item}")
    elif _fixed_tuple(origin, args):
        items = [allowed(a) for a in args]
        if len(set(items)) == 1 and items[0]:
            parts.append(f"each {items[0]}")
        elif any(items):
            parts += [f"item {i + 1}: {p}" for i, p in enumerate(items) if p]
    return "; ".join(parts)


# --------------------------------------------------------------------------- value rendering
def _yaml(value: Any) -> str:
    """A value as it would be written in a scenario file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return _num(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, BaseModel):
        return _yaml(value.model_dump())
    return str(value)


def _code(value: Any) -> str:
    return f"`{_yaml(value)}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|") if text else "—"


def _default_cell(field: FieldInfo) -> str:
    if field.default_factory is not None:
        if getattr(field, "default_factory_takes_data", False):
            return "computed"
        value = field.default_factory()
    else:
        value = field.default
    if value is PydanticUndefined:
        return "**required**"
    if isinstance(value, BaseModel):
        return "see below"
    return _code(value)


def _doc(model: type[BaseModel]) -> str:
    """The model's own docstring (not inherited), joined into one paragraph."""
    text = model.__dict__.get("__doc__") or ""
    return " ".join(text.split())


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition(": ")
    return (head if sep and len(head) < 60 else text).split(". ")[0].rstrip(".")


# ---------------------------------------------------------------------------- field walking
def _csv_rows() -> list[dict[str, str]]:
    text = resources.files("sim.data").joinpath("categories.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _csv_columns() -> list[str]:
    text = resources.files("sim.data").joinpath("categories.csv").read_text(encoding="utf-8")
    return next(csv.reader(text.splitlines()))


def _description(model: type[BaseModel], name: str, field: FieldInfo) -> str:
    if field.description:
        return field.description
    if model is CategoryOverride and name in _csv_columns():
        return f"Replaces the `{name}` column of the category table for this category."
    return ""


def _nested_model(tp: Any) -> tuple[type[BaseModel], str] | None:
    """The model inside a field's type, with the path suffix to reach one of its items."""
    tp, _ = _strip(tp)
    origin, args = get_origin(tp), get_args(tp)
    if origin in _UNIONS:
        inner = _non_null(args)
        return _nested_model(inner[0]) if len(inner) == 1 else None
    if _is_model(tp):
        return tp, ""
    if origin is list and _is_model(_strip(args[0])[0]):
        return _strip(args[0])[0], "[]"
    if origin is dict and _is_model(_strip(args[1])[0]):
        return _strip(args[1])[0], ".<key>"
    return None


def field_rows(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, ...]]:
    """(path, type, default, allowed, description) of every field, nested models recursively."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        desc = _description(model, name, field)
        nested = _nested_model(field.annotation)
        if nested is not None:
            sub, suffix = nested
            sub_doc = _doc(sub)
            if sub_doc:
                what = "Each item" if suffix == "[]" else "Each value" if suffix else "Section"
                desc = f"{desc} *{what} (`{sub.__name__}`): {sub_doc}*".strip()
        yield (path, type_name(field.annotation), _default_cell(field),
               allowed(field.annotation, field.metadata), desc)
        if nested is not None:
            yield from field_rows(nested[0], f"{path}{nested[1]}.")


def _table(rows: list[tuple[str, ...]]) -> str:
    lines = [_TABLE_HEAD]
    for path, tname, default, allow, desc in rows:
        lines.append(f"| `{path}` | {_cell(tname)} | {_cell(default)} | {_cell(allow)} | "
                     f"{_cell(desc)} |")
    return "\n".join(lines)


def _sections() -> tuple[list[tuple[str, ...]],
                         list[tuple[str, type[BaseModel], FieldInfo, str]]]:
    """Top-level scalar rows, and the top-level fields that are sections or lists of sections
    (with the path suffix of their items: `""` or `"[]"`), in schema order."""
    scalars: list[tuple[str, ...]] = []
    sections: list[tuple[str, type[BaseModel], FieldInfo, str]] = []
    for name, field in Scenario.model_fields.items():
        nested = _nested_model(field.annotation)
        if nested is not None:
            sections.append((name, nested[0], field, nested[1]))
        else:
            scalars.append((name, type_name(field.annotation), _default_cell(field),
                            allowed(field.annotation, field.metadata),
                            _description(Scenario, name, field)))
    return scalars, sections


# ----------------------------------------------------------------------------- the document
_INTRO = """\
A scenario is one YAML file holding every parameter of a run. Each field below can be set in
it; a field not given takes its default. Keys are checked against the schema: an unknown key, a
value of the wrong type or out of its allowed range is an error naming the file, the field path
and what was expected (`sim.errors.InputError`; the command line prints it and exits 2).

- **Inheritance.** `extends: other.yaml` (relative to the file, or a bare preset name such as
  `hotline`) reads the other file first and merges this one on top of it: sections merge field
  by field, so a child that changes one field of a section keeps the parent's other fields;
  lists and plain values are replaced whole. Chains may be any length; cycles are errors.
- **Overrides.** `load_scenario(path, overrides)` takes dotted paths on top of the file, e.g.
  `{"whistle.report_window_minutes": 60}`.
- **Presets.** `scenarios/fragmented.yaml`, `whistle.yaml`, `hotline.yaml` and `proactive.yaml`
  describe the four regimes of docs/model.md, each extending the one before (see
  [Presets](#presets)); `load_scenario("hotline")` finds a preset by its bare name.
- **Checks across fields.** Besides the per-field ranges below: `demand.shares`, when given,
  must name every category of the [category table](#category-table) and sum to 1; the keys of
  `demand.categories` and the entries of `demand.shocks[].categories` must be categories;
  `demand.categories.<key>.departments` must be [department types](#department-types);
  `ranking.weights` must sum to 1 and `ranking.advanced_share + ranking.governance_share` be at
  most 1; `city.path` is required when `city.source` is `file`.
- **Timeline.** `timeline` lists dated changes, each a `set` of dotted paths and values, e.g.
  `{date: 2019-01-01, set: {hotline.enabled: true, ranking.enabled: true}}`. Changes apply in
  date order, each on top of the ones before, and every intermediate scenario must be valid (an
  error names `timeline[i].set.<path>`). Fields that define the run itself (`name`, `days`,
  `scale`, `seed`, `city`, ...) cannot change. See `scenarios/beijing-2018-2024.yaml`.

In the tables, `x` stands for the value, `<key>` for a key of a mapping (a category for
`demand.categories`) and `[]` for any item of a list."""


def _limits() -> str:
    """What every scenario file is held to besides its fields' ranges (from the code's limits)."""
    from sim import inputs, naming
    from sim.city import io as city_io
    from sim.scenario import loader, schema

    return f"""\
## Limits

Checked before anything runs, with the same one-line error and exit status 2:

- **Numbers.** Every number must be finite (`.inf` and `.nan` are refused) and within the range
  listed for its field below. Seeds (`seed`, `city.layout_seed`) are whole numbers >= 0 of any
  size: the engine takes them through numpy's `SeedSequence`, and tables hold a seed of 2**63
  or more as its decimal digits.
- **Files.** A scenario file (and a sweep or calibration spec) holds at most
  {inputs.MAX_FILE_BYTES:,} bytes of UTF-8 YAML; a key given twice in one mapping, more than
  {inputs.MAX_ALIASES} aliases (`*name`), more than {inputs.MAX_NODES:,} values once aliases are
  expanded, or more than {inputs.MAX_DEPTH} levels of nesting are refused, with the line.
- **Size of a run.** A run may simulate at most {loader.MAX_PROBLEMS:,} problems, estimated
  from its demand (rate, growth and shocks at every state of its timeline) and the city's
  residents at its `scale`; a synthetic city has at most {schema.MAX_STREETS:,} streets.
- **Against the city.** `demand.shocks[].districts` must name districts of the city and the
  `scale` must keep at least one street; `govsim check` reads the city to check this, as `run`
  does, so a file that passes `check` is not refused by `run`.
- **Names.** A scenario's `name` (and a sweep's name and labels) holds at most
  {schema.MAX_NAME} characters and {naming.MAX_NAME_BYTES} bytes of UTF-8 (file systems count
  bytes); control characters, bidirectional overrides (U+202E reverses the text after it),
  zero-width and other invisible characters, and letters that pass for others (a Cyrillic `о`
  in a Latin word, fullwidth `Ａ`) are refused. Words in one script each are fine (`北京 hotline`).
  A character that a terminal would not show as itself is printed escaped (`\\u202e`) in
  messages. Folder names made from names are cut to {naming.MAX_SLUG_BYTES} bytes, with a hash.
- **City files.** A network file (`city.source: file`) is read under the guards of
  [city.md](city.md#the-file-format): at most {city_io.MAX_NETWORK_BYTES:,} bytes, at most
  {city_io.MAX_NETWORK_VALUES:,} JSON values (counted before parsing, so that checking a file
  needs little memory) or {city_io.MAX_GRAPHML_ELEMENTS:,} GraphML elements, at most
  {inputs.MAX_DEPTH} levels of nesting (an outline too), populations of at most
  {schema.MAX_POPULATION:,}, coordinates within {city_io.MAX_COORDINATE:,.0f} km, district
  factors in (0, 100], outline rings of at most {city_io.MAX_RING_POINTS:,} points that do not
  cross themselves.
- **Saved results.** `sim.Result.load` and `govsim brief --from` check every file of a saved
  run: each Parquet table must have the columns its readers use, of the right kind, and fit in
  the memory free; the summary (and each saved seed's) one row; `scenario.yaml` is read under
  the guards above and validated as a scenario; `meta.json` is a JSON object of bounded size
  and nesting. A damaged file is named, with its column.
- **`--out`.** The current folder (`--out .`) or one holding it is refused (a result replaces
  the folder it is written to), as are paths under a file, under `/proc`, `/sys` or `/dev`,
  parts longer than the file system allows (in bytes), and a folder holding other files."""


def _field_docs() -> list[str]:
    scalars, sections = _sections()
    out = ["## Contents", ""]
    out.append("- [Top-level fields](#top-level-fields)")
    for name, model, _, _ in sections:
        summary = _first_sentence(_doc(model))
        out.append(f"- [`{name}`](#{name})" + (f" — {summary}" if summary else ""))
    out += ["- [Category table](#category-table)", "- [Department types](#department-types)",
            "- [Presets](#presets)", ""]
    out += ["## Top-level fields", "", _doc(Scenario), "", _table(scalars), ""]
    for name, model, field, suffix in sections:
        out += [f"## `{name}`", ""]
        intro = " ".join(p for p in (_doc(model), field.description or "") if p)
        what = "Each item is a section" if suffix else "Section"
        out += [f"*{what} `{model.__name__}`.* {intro}".rstrip(), ""]
        out += [_table(list(field_rows(model, f"{name}{suffix}."))), ""]
    return out + _plugin_docs()


def _plugin_docs() -> list[str]:
    """A section for each plug-in shipped with govsim (`plugins.<name>`)."""
    from sim.mechanisms import builtin

    out = []
    for m in builtin():
        if m.settings is None:
            continue
        intro = (f"*Plug-in `{m.settings.__name__}` (docs/extending.md), off unless a "
                 f"scenario names it.* {m.doc}")
        out += [f"## `plugins.{m.name}`", "", intro, "",
                _table(list(field_rows(m.settings, f"plugins.{m.name}."))), ""]
    return out


def _column_values(rows: list[dict[str, str]], column: str) -> str:
    values = [r[column] for r in rows]
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        if len(set(values)) == len(values) and not any(";" in v for v in values):
            return "text, one per category"
        distinct = list(dict.fromkeys(v for value in values for v in value.split(";")))
        names = ", ".join(f"`{v}`" for v in distinct)
        if any(";" in v for v in values):
            return f"`;`-separated list of: {names}"
        return f"one of {names}"
    if set(values) <= {"0", "1"}:  # flags are written as integers
        return "`0` or `1` (a flag)"
    if min(numbers) == max(numbers):
        return f"{_num(min(numbers))} for every category"
    return f"{_num(min(numbers))} – {_num(max(numbers))}"


def _category_docs() -> list[str]:
    rows = _csv_rows()
    columns = _csv_columns()
    overridable = set(CategoryOverride.model_fields)
    table: CategoryTable = load_categories(None)
    out = ["## Category table", "",
           ("The problem categories and their parameters are data, not schema: "
            "`sim/data/categories.csv`, one row per category. A scenario changes them with "
            "`demand.shares` and `demand.categories.<key>.<column>`."), "",
           "### Columns", "",
           "| column | values in the table | set from a scenario by |", "|---|---|---|"]
    for column in columns:
        if column in overridable:
            how = f"`demand.categories.<key>.{column}`"
        elif column == "volume":  # normalised into each category's share of demand
            how = "`demand.shares`, `demand.categories.<key>.share`"
        else:
            how = "—"
        out.append(f"| `{column}` | {_cell(_column_values(rows, column))} | {how} |")
    out += ["", "### Categories", "",
            "| key | name | 名称 | default share | lead department |", "|---|---|---|---|---|"]
    for i, key in enumerate(table.keys):
        lead = DEPARTMENT_TYPES[table.departments[i, 0]]
        out.append(f"| `{key}` | {table.name_en[i]} | {table.name_zh[i]} | "
                   f"{table.share[i]:.1%} | `{lead}` |")
    sources = resources.files("sim.data").joinpath("categories_sources.md")
    text = sources.read_text(encoding="utf-8").strip().splitlines()
    if text and text[0].startswith("# "):
        text = [f"### {text[0][2:]}", *text[1:]]
    out += ["", "*From `sim/data/categories_sources.md`:*", "", *text, "",
            "## Department types", "",
            "Names accepted in `demand.categories.<key>.departments` (from "
            "`sim.city.DEPARTMENT_TYPES`): " + ", ".join(f"`{d}`" for d in DEPARTMENT_TYPES)
            + ".", ""]
    return out


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def _preset_docs() -> list[str]:
    out = ["## Presets", "",
           ("The four regimes of docs/model.md, in one city: `fragmented` is the calibrated "
            "history (`beijing-2018-2024.yaml`) as of 2019-01-01 (`as_of`: its fitted values, "
            "the levels its growth had reached, the inputs then in force; docs/evidence.md), "
            "and each later preset extends the one before with its reform's switches "
            "(`sim/reforms.py`) and nothing else. Generated by loading each preset and listing "
            "the fields that differ from the preset before it (for `fragmented`, from the "
            "schema defaults); `name` and `description` are left out of the lists."), ""]
    previous_name = "schema default"
    previous = _flatten(Scenario().model_dump(mode="json"))
    loaded: dict[str, dict[str, Any]] = {}
    for preset in PRESETS:
        file = presets_dir() / f"{preset}.yaml"
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        scenario = load_scenario(preset)
        flat = _flatten(scenario.model_dump(mode="json"))
        loaded[preset] = flat
        changed = [k for k in flat if k not in {"name", "description"}
                   and flat[k] != previous.get(k)]
        switched = [k for k in changed if flat[k] is True and previous.get(k) is False]
        out += [f"### `{preset}`", "",
                f"File `scenarios/{preset}.yaml`"
                + (f", extends `{raw['extends']}`." if raw.get("extends") else "."), "",
                " ".join(scenario.description.split()), ""]
        out.append("Switches on: " + (", ".join(f"`{k}`" for k in switched) or "nothing") + ".")
        out.append("")
        if changed:
            out += [f"| field | {previous_name} | {preset} |", "|---|---|---|"]
            out += [f"| `{k}` | {_cell(_code(previous.get(k)))} | {_cell(_code(flat[k]))} |"
                    for k in changed]
        else:
            out.append(f"No field differs from the {previous_name}.")
        out.append("")
        previous_name, previous = preset, flat
    switches = [k for k in loaded[PRESETS[0]]
                if isinstance(loaded[PRESETS[0]][k], bool)
                and (k.endswith(".enabled") or len({loaded[p][k] for p in PRESETS}) > 1)]
    out += ["### Mechanism switches by preset", "",
            "| switch | " + " | ".join(PRESETS) + " |", "|---|" + "---|" * len(PRESETS)]
    for key in switches:
        out.append(f"| `{key}` | " + " | ".join("on" if loaded[p][key] else "—"
                                               for p in PRESETS) + " |")
    out.append("")
    return out


def render() -> str:
    """The whole of `docs/scenarios.md`."""
    out = [("<!-- Generated by `python -m sim.scenario.docs` from sim/scenario/schema.py, "
            "sim/data/categories*.* and scenarios/*.yaml. Do not edit by hand. -->"), "",
           "# Scenario reference", "", _INTRO, "", _limits(), ""]
    out += _field_docs()
    out += _category_docs()
    out += _preset_docs()
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.scenario.docs",
                                     description="Write docs/scenarios.md from the scenario "
                                     "schema, the category table and the presets.")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the file differs from what would be written")
    parser.add_argument("--output", type=Path, default=DOC_PATH,
                        help=f"file to write or check (default: {DOC_PATH})")
    args = parser.parse_args(argv)
    from sim.scenario.parameters import with_section

    model = MODEL_PATH.read_text(encoding="utf-8")
    outputs = {args.output: render(), MODEL_PATH: with_section(model)}
    if args.check:
        stale = [path for path, text in outputs.items()
                 if (path.read_text(encoding="utf-8") if path.is_file() else None) != text]
        for path in stale:
            print(f"{path} is out of date: run `python -m sim.scenario.docs`", file=sys.stderr)
        if not stale:
            print(f"{', '.join(map(str, outputs))} are up to date")
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
