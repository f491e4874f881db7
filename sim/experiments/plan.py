"""The plan of a sweep: every run, resolved and checked before the first one starts.

Each scenario is loaded once with the spec's overrides; every varied parameter and every design
point is validated against the scenario schema, so a typo in a dotted path or a value out of
bounds is an `InputError` naming the spec file and field, not a failed run hours later. Each run
gets an id that is a stable hash of its resolved scenario, its seed and the extra-measures
function, so a resumed sweep recognises the runs it already has.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from sim.city.city import City
from sim.errors import InputError, among
from sim.experiments.design import DesignMatrix, check_size, make_design, replication_seed
from sim.experiments.spec import LoadedSpec, ScenarioRef
from sim.scenario.loader import (
    PRESETS,
    check_city,
    load_scenario,
    resolve_path,
    set_dotted,
    validate,
)
from sim.scenario.schema import Scenario

#: Columns of the plan table before the varied parameters.
PLAN_COLUMNS = ("run", "run_id", "scenario", "regime", "point", "replication", "seed", "days",
                "scale")


@dataclass
class ScenarioEntry:
    """One scenario of the sweep with the spec's overrides applied (JSON-ready, seed 0)."""

    label: str
    file: str
    regime: str
    base: dict[str, Any]
    city: City | None = field(default=None, repr=False)  # what its scenario was checked against


def canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def resolve(base: dict[str, Any], params: dict[str, Any], seed: int) -> Scenario:
    """The scenario of one run: a scenario's base data with a design point's values and a seed.

    Workers call this too, so the scenario a run uses is built the same way everywhere.
    """
    data = copy.deepcopy(base)
    for dotted, value in params.items():
        set_dotted(data, dotted, value)
    data["seed"] = seed
    return validate(data)


def _scenario_path(loaded: LoadedSpec, i: int, name: str) -> Path:
    path = Path(name)
    candidate = resolve_path(path if path.is_absolute() else loaded.folder / path)
    if not candidate.is_file():
        candidate = resolve_path(name)
    if not candidate.is_file():
        raise loaded.error(f"scenarios[{i}]", f"an existing scenario file (relative to the spec) "
                           f"or a preset name, one of {list(PRESETS)}", name)
    return candidate


def _blame(err: InputError, keys: list[str]) -> str:
    """The override key an error from validating overridden data comes from."""
    field = err.field or ""
    for key in keys:
        if field == key or field.startswith((key + ".", key + "[")) \
                or key.startswith(field + "."):
            return key
    return field or (keys[0] if keys else "")


def _apply(loaded: LoadedSpec, data: dict[str, Any], overrides: dict[str, Any], where: str,
           label: str) -> Scenario:
    overrides = dict(overrides)
    path = overrides.get("city.path")
    if isinstance(path, str) and not Path(path).is_absolute():  # relative to the spec, like YAML
        overrides["city.path"] = str(loaded.folder / path)
    try:
        for dotted, value in overrides.items():
            set_dotted(data, dotted, value)
        return validate(data)
    except InputError as err:
        key = _blame(err, list(overrides))
        raise loaded.error(f"{where}.{key}", f"{err.expected} (in scenario {label})",
                           err.got) from None


def _check_city(loaded: LoadedSpec, scenario: Scenario, i: int) -> City:
    """The city is built (a network file read) once before any run and the scenario checked
    against it, as `govsim run` does."""
    from sim.model import make_city

    try:
        city = make_city(scenario.city)
        check_city(scenario, city)
    except InputError as err:
        raise loaded.error(f"scenarios[{i}] ({err.field or 'city'})", err.expected,
                           err.got) from None
    return city


def load_entries(loaded: LoadedSpec) -> list[ScenarioEntry]:
    """Every scenario of the spec, loaded, overridden and validated."""
    spec = loaded.spec
    entries: list[ScenarioEntry] = []
    seen: dict[str, int] = {}
    for i, ref in enumerate(spec.scenarios):
        ref = ref if isinstance(ref, ScenarioRef) else ScenarioRef(file=ref)
        path = _scenario_path(loaded, i, ref.file)
        scenario = load_scenario(path)  # the file's own errors name the file itself
        data = scenario.model_dump()
        label = ref.label or scenario.name
        scenario = _apply(loaded, data, spec.set, "set", label)
        if ref.set:
            scenario = _apply(loaded, scenario.model_dump(), ref.set, f"scenarios[{i}].set",
                              label)
        city = _check_city(loaded, scenario, i)
        if ref.label is None:
            label = scenario.name
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                label = f"{label}-{seen[label]}"
        elif ref.label in {e.label for e in entries}:
            raise loaded.error(f"scenarios[{i}].label", "a label no other scenario has",
                               ref.label)
        base = scenario.model_dump(mode="json")
        base["seed"] = 0
        entries.append(ScenarioEntry(label, str(path), scenario.regime, base, city))
    return entries


def _check_parameters(loaded: LoadedSpec, entries: list[ScenarioEntry],
                      design: DesignMatrix) -> None:
    """Each varied path, at every value it takes (grid) or both ends of its range, is valid in
    every scenario: errors name the parameter, not a design point."""
    for j, name in enumerate(design.names):
        p = loaded.spec.parameters[name]
        if p.values is not None or design.method == "grid":
            probes = list(dict.fromkeys(map(canonical, ({"v": pt[name]} for pt in design.points))))
            values = [json.loads(v)["v"] for v in probes]
        elif design.integer[j]:
            assert design.problem is not None
            lo, hi = design.problem["bounds"][j]
            values = [int(lo + 0.5), int(hi - 0.5)]
        else:
            values = [p.low, p.high]
        for entry in entries:
            for value in values:
                data = copy.deepcopy(entry.base)
                try:
                    set_dotted(data, name, value)
                    validate(data)
                except InputError as err:
                    detail = "" if err.field in (None, name) else f" ({err.field})"
                    raise loaded.error(f"parameters.{name}", f"{err.expected}{detail} in "
                                       f"scenario {entry.label}", value) from None


@dataclass
class Plan:
    """Every run of a sweep in a fixed order: replication, then design point, then scenario."""

    loaded: LoadedSpec
    design: DesignMatrix
    entries: list[ScenarioEntry]
    point_keys: list[list[str]]  # [scenario][point]: hash of the resolved scenario (seed 0)
    seeds: list[int]
    table: pd.DataFrame
    fingerprint: str

    @property
    def labels(self) -> list[str]:
        return [e.label for e in self.entries]

    def __len__(self) -> int:
        return len(self.table)

    def tasks(self, skip: set[str], tables: str | None = None) -> Iterator[dict[str, Any]]:
        """One task per distinct run id not in `skip`, in plan order (what a worker needs)."""
        emitted: set[str] = set()
        measures = self.loaded.measures_ref
        index = {e.label: k for k, e in enumerate(self.entries)}
        for row in self.table.itertuples(index=False):
            run_id = row.run_id
            if run_id in skip or run_id in emitted:
                continue
            emitted.add(run_id)
            entry = self.entries[index[row.scenario]]
            yield {"run_id": run_id, "base": entry.base, "params": self.design.points[row.point],
                   "seed": int(row.seed), "measures": measures, "tables": tables}

    def scenario(self, run: int) -> Scenario:
        """The full scenario of run number `run` (to rerun it and keep all its tables)."""
        row = self.table.iloc[run]
        entry = self.entries[self.labels.index(row["scenario"])]
        return resolve(entry.base, self.design.points[int(row["point"])], int(row["seed"]))


def known_outcomes() -> tuple[str, ...]:
    """The measures every run reports: the summary's outcome columns (nothing is simulated)."""
    from sim.results import OUTCOME_COLUMNS

    return OUTCOME_COLUMNS


def _check_outcomes(loaded: LoadedSpec) -> None:
    wanted = loaded.spec.outcomes
    if not wanted or loaded.spec.measures:  # extra measures are known only once runs return
        return
    known = known_outcomes()
    unknown = [o for o in wanted if o not in known]
    if unknown:
        raise loaded.error("outcomes", "names of measures, " + among(known, unknown),
                           unknown[0] if len(unknown) == 1 else unknown)


def run_id(point_key: str, seed: int, measures: str | None) -> str:
    text = f"{point_key}|{seed}|{measures or ''}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def make_plan(loaded: LoadedSpec) -> Plan:
    """Resolve and validate everything a sweep will run; nothing is run or written."""
    spec = loaded.spec
    check_size(loaded)  # before any scenario is loaded or any point sampled
    entries = load_entries(loaded)
    _check_outcomes(loaded)
    design = make_design(loaded)
    _check_parameters(loaded, entries, design)
    point_keys: list[list[str]] = []
    meta: list[list[tuple[int, float]]] = []
    for entry in entries:
        keys, info = [], []
        for p, point in enumerate(design.points):
            try:
                scenario = resolve(entry.base, point, 0)
                if entry.city is not None and point:
                    check_city(scenario, entry.city)
            except InputError as err:
                shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
                raise loaded.error(f"parameters ({err.field})", f"{err.expected} at design "
                                   f"point {p} ({shown}) of scenario {entry.label}",
                                   err.got) from None
            keys.append(hashlib.sha256(canonical(scenario.model_dump(mode="json"))
                                       .encode()).hexdigest())
            info.append((scenario.days, scenario.scale))
        point_keys.append(keys)
        meta.append(info)
    seeds = [replication_seed(spec.seed, r) for r in range(spec.replications)]
    rows = []
    for r, seed in enumerate(seeds):
        for p, point in enumerate(design.points):
            for s, entry in enumerate(entries):
                days, scale = meta[s][p]
                row = {"run": len(rows), "run_id": run_id(point_keys[s][p], seed, spec.measures),
                       "scenario": entry.label, "regime": entry.regime, "point": p,
                       "replication": r, "seed": seed, "days": days, "scale": scale}
                row.update(point)
                rows.append(row)
    table = pd.DataFrame(rows, columns=list(dict.fromkeys([*PLAN_COLUMNS, *design.names])))
    for name in design.names:  # Parquet needs one type per column; points.json keeps the values
        try:
            pa.array(table[name])
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            table[name] = [canonical({"v": v})[5:-1] for v in table[name]]
    digest = hashlib.sha256()
    for row in table[["run_id", "scenario", "point", "replication"]].itertuples(index=False):
        digest.update(f"{row.run_id} {row.scenario} {row.point} {row.replication}\n".encode())
    digest.update(f"keep_tables={spec.keep_tables}".encode())
    return Plan(loaded, design, entries, point_keys, seeds, table, digest.hexdigest())
