"""The sweep spec: which scenarios, which parameters to vary and how, how many replications.

A spec is a YAML file read into `SweepSpec`. Every mistake becomes an `InputError` naming the
spec file and the field (`parameters.whistle.report_window_minutes`), and every varied path is
checked against the scenario schema before anything runs (see `sim.experiments.plan`).
"""

from __future__ import annotations

import importlib
import inspect
import math
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.errors import InputError
from sim.inputs import parse_yaml, read_text
from sim.naming import unsafe
from sim.scenario.loader import _expected, _field_path
from sim.scenario.schema import Scenario

METHODS = ("grid", "lhs", "sobol", "morris", "oat")
#: Design points and runs one sweep may hold (counted before anything is sampled or allocated).
MAX_POINTS = 100_000
MAX_RUNS = 100_000
#: Fewest base samples of a Sobol' design and trajectories of a Morris design whose indices
#: mean something (fewer are refused, with the reason).
MIN_SOBOL_SAMPLES = 4
MIN_TRAJECTORIES = 2
#: A sweep's name and its scenarios' labels name folders and columns: one plain name each.
MAX_NAME = 100
_MEASURES = re.compile(r"([A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*|[^:]+\.py):[A-Za-z_][\w]*")


def check_name(name: str) -> str:
    """A name that stays inside the folder it names something in and prints as itself: not
    empty, no `/` or `\\`, not `.` or `..` or hidden, at most `MAX_NAME` characters and
    `MAX_NAME_BYTES` bytes, no control, bidirectional or look-alike characters."""
    if not name or len(name) > MAX_NAME or name.startswith(".") or "/" in name \
            or "\\" in name or any(ord(c) < 32 for c in name):
        raise ValueError(f"a plain name of 1-{MAX_NAME} characters, without '/', '\\' or a "
                         f"leading '.' (it names a folder under results/sweeps/)")
    why = unsafe(name)
    if why is not None:
        raise ValueError(f"a plain name: {why}")
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ScenarioRef(_Strict):
    """One scenario of a sweep: a file or preset, an optional label and its own overrides."""

    file: str = Field(description="Scenario file (relative to the spec) or preset name.")
    label: str | None = Field(None, description="Name in the tables (default: the scenario's "
                              "`name`).")

    @field_validator("label")
    @classmethod
    def _plain_label(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted overrides for this "
                                "scenario only (applied after the spec's `set`).")


class Parameter(_Strict):
    """A varied parameter: a list of `values` (grid) or a range `low`..`high`."""

    values: list[Any] | None = Field(None, min_length=1, description="Values to try (grid).")
    low: float | None = Field(None, description="Lower bound of the range.")
    high: float | None = Field(None, description="Upper bound of the range.")
    levels: int | None = Field(None, ge=2, le=MAX_POINTS, description="Grid only: evenly "
                               "spaced values from "
                               "`low` to `high`.")
    integer: bool | None = Field(None, description="Round sampled values to whole numbers "
                                 "(default: when the scenario field is an integer).")

    @model_validator(mode="after")
    def _one_kind(self) -> Parameter:
        has_range = self.low is not None or self.high is not None
        if self.values is not None and has_range:
            raise ValueError("either values or low/high, not both")
        if self.values is None and not has_range:
            raise ValueError("values (a list) or low and high")
        if has_range:
            if self.low is None or self.high is None:
                raise ValueError("both low and high")
            if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low >= self.high:
                raise ValueError(f"finite bounds with low < high (got {self.low}, {self.high})")
        elif self.levels is not None:
            raise ValueError("levels only with low/high")
        return self


class Design(_Strict):
    """How design points are chosen from the parameters."""

    method: Literal["grid", "lhs", "sobol", "morris", "oat"] = Field(
        "grid", description="`grid`: every combination; `lhs`: Latin hypercube; `sobol`: "
        "Saltelli's samples for Sobol' indices; `morris`: Morris trajectories; `oat`: one at a "
        "time, the scenarios as they are and each parameter alone at its low and its high end "
        "(1 + 2 x parameters points: can one assumption alone move a result?).")
    samples: int | None = Field(None, gt=0, le=MAX_POINTS, description="lhs: design points; "
                                "sobol: base "
                                "sample N (a power of 2; N·(D+2) points, N·(2D+2) with "
                                "second order); morris: trajectories (N·(D+1) points).")
    levels: int = Field(4, ge=2, le=1000, description="morris: levels of the grid of each "
                        "parameter.")
    second_order: bool = Field(False, description="sobol: also second-order indices.")

    @model_validator(mode="after")
    def _samples(self) -> Design:
        if self.method not in ("grid", "oat") and self.samples is None:
            raise ValueError(f"samples (a whole number > 0) for method {self.method}")
        if self.method in ("grid", "oat") and self.samples is not None:
            raise ValueError(f"no samples for method {self.method} (its points are fixed)")
        if self.method == "sobol" and self.samples is not None \
                and self.samples & (self.samples - 1):
            raise ValueError(f"samples that are a power of 2 for method sobol (got "
                             f"{self.samples}; Sobol' sequences balance only then)")
        if self.method == "sobol" and self.samples is not None \
                and self.samples < MIN_SOBOL_SAMPLES:
            raise ValueError(f"at least {MIN_SOBOL_SAMPLES} base samples for method sobol (got "
                             f"{self.samples}: the indices are differences between samples, "
                             "noise with so few; a few hundred make them stable)")
        if self.method == "morris" and self.samples is not None \
                and self.samples < MIN_TRAJECTORIES:
            raise ValueError(f"at least {MIN_TRAJECTORIES} trajectories for method morris (got "
                             f"{self.samples}: the spread sigma of one parameter's effects needs "
                             "two; ten or more rank parameters reliably)")
        if self.second_order and self.method != "sobol":
            raise ValueError("second_order only with method sobol")
        return self


class SweepSpec(_Strict):
    """A whole sweep. The first scenario is the baseline of paired comparisons."""

    name: str | None = Field(None, description="Name of the sweep (default: the file's stem).")
    description: str = ""
    scenarios: list[str | ScenarioRef] = Field(min_length=1, description="Scenarios (regimes) "
                                               "to run at every design point; first = baseline.")
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted overrides applied to "
                                "every scenario (days, scale, city...).")
    parameters: dict[str, Parameter] = Field(default_factory=dict, description="Varied "
                                             "parameters by dotted scenario path.")
    design: Design = Field(default_factory=Design)
    replications: int = Field(1, ge=1, le=MAX_RUNS, description="Runs per scenario and design "
                              "point; "
                              "replication r has the same seed everywhere (common random "
                              "numbers).")
    seed: int = Field(0, ge=0, description="Root seed: every run's seed derives from it.")
    outcomes: list[str] | None = Field(None, min_length=1, description="Measures to summarise "
                                       "and analyse (default: every numeric measure).")
    keep_tables: bool = Field(False, description="Also save every run's full tables.")
    measures: str | None = Field(None, description="`module:function` (an installed module; "
                                 "the current folder is not searched) or "
                                 "`path/to/file.py:function` (relative to the spec), a function "
                                 "computing extra outcomes from a run's `Result` (found the same "
                                 "way on the workers); imported only when the sweep is run with "
                                 "--allow-import.")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

    @field_validator("measures")
    @classmethod
    def _measures_syntax(cls, value: str | None) -> str | None:
        if value is not None and not _MEASURES.fullmatch(value):
            raise ValueError("module:function (dotted Python names) or "
                             "path/to/file.py:function")
        return value

    @field_validator("design", mode="before")
    @classmethod
    def _design_shorthand(cls, value: Any) -> Any:
        return {"method": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        if self.design.method != "grid" and not self.parameters:
            raise ValueError(f"parameters to vary for method {self.design.method}")
        return self


class LoadedSpec:
    """A validated spec with its file, so later errors can name it."""

    def __init__(self, spec: SweepSpec, file: str, text: str):
        self.spec = spec
        self.file = file
        self.text = text  # kept in the results folder as written

    @property
    def name(self) -> str:
        return self.spec.name or Path(self.file).stem

    @property
    def folder(self) -> Path:
        return Path(self.file).parent

    @property
    def measures_ref(self) -> str | None:
        """The spec's `measures` as the workers find it: a file named relative to the spec is
        given by its absolute path."""
        ref = self.spec.measures
        if ref is None:
            return None
        target, _, name = ref.rpartition(":")
        if target.endswith(".py") and not Path(target).is_absolute():
            return f"{(self.folder / target).resolve()}:{name}"
        return ref

    def error(self, field: str | None, expected: str, got: object = None) -> InputError:
        return InputError(self.file, field, expected, got)


def _pydantic_error(file: str, err: ValidationError) -> InputError:
    errors = err.errors()
    # a scenario given as a mapping: its ScenarioRef error, not "not a string"
    first = next((e for e in errors if "ScenarioRef" in e["loc"]), errors[0])
    field = _field_path(tuple(p for p in first["loc"] if p not in ("str", "ScenarioRef")))
    if first["type"] == "extra_forbidden":
        return InputError(file, field, "a known field of a sweep spec (see docs/sweeps.md)")
    got = first.get("input") if first["type"] != "missing" else None
    if isinstance(got, dict | list):
        got = None
    expected = _expected(first)
    if first["type"] == "value_error":
        expected = first["msg"].removeprefix("Value error, ")
    return InputError(file, field or None, expected, got)


def parse_spec(data: Any, file: str = "<spec>", text: str = "") -> LoadedSpec:
    """Validate raw spec data (a mapping, e.g. from YAML)."""
    if not isinstance(data, dict):
        raise InputError(file, None, "a mapping of sweep fields (scenarios, parameters, ...)",
                         type(data).__name__)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as err:
        raise _pydantic_error(file, err) from None
    loaded = LoadedSpec(spec, file, text or yaml.safe_dump(data, sort_keys=False))
    for where, overrides in [("set", spec.set)] + [
            (f"scenarios[{i}].set", ref.set) for i, ref in enumerate(spec.scenarios)
            if isinstance(ref, ScenarioRef)]:
        if "seed" in overrides:
            raise loaded.error(f"{where}.seed", "no seed here: run seeds derive from the "
                               "spec's root `seed`")
    if spec.design.second_order and len(spec.parameters) < 2:
        raise loaded.error("design.second_order", "at least two parameters for second-order "
                           "indices (they are of pairs of parameters)", len(spec.parameters))
    if "seed" in spec.parameters:
        raise loaded.error("parameters.seed", "a scenario field other than seed (replications "
                           "vary the seed; set `replications`)")
    try:
        check_name(loaded.name)
    except ValueError as err:
        raise loaded.error("name", f"{err} (the default is the spec file's stem)",
                           loaded.name) from None
    return loaded


def load_spec(path: str | Path) -> LoadedSpec:
    """Read and validate a sweep spec file (scenario references are checked by the plan); a
    bare name (`example`) means a shipped spec (`scenarios/sweeps/`) unless such a file
    exists here."""
    from sim.presets import shipped_file

    path = Path(path)
    if not path.exists():
        path = shipped_file(path, "sweep") or path
    file = str(path)
    text = read_text(path, "sweep spec file (YAML)")
    data = parse_yaml(text, file)
    return parse_spec(data, file, text)


def measures_function(ref: str, loaded: LoadedSpec | None = None) -> Callable[..., Any]:
    """The function a spec's `measures` names: `module:function` from the installed packages
    (the current folder is never searched, whether or not Python put it on its path), or
    `path/to/file.py:function` from that file (relative to the spec). It must be a Python
    function that takes a run's `Result`; an InputError otherwise."""
    file = loaded.file if loaded else None
    target, _, name = ref.rpartition(":")
    if not target or not name:
        raise InputError(file, "measures", "module:function or path/to/file.py:function", ref)
    try:
        if target.endswith(".py"):
            path = Path(target)
            if not path.is_absolute() and loaded is not None:
                path = loaded.folder / path
            module = _module_from_file(path)
        else:
            module = _installed_module(target)
        fn = getattr(module, name)
    except (ImportError, AttributeError, OSError, SyntaxError) as err:
        raise InputError(file, "measures", "an importable module:function (installed, or a "
                         "path/to/file.py:function)", f"{ref} ({err})") from None
    if not inspect.isfunction(fn) or not _takes_one(fn):
        raise InputError(file, "measures", "a Python function of a run's Result (def "
                         "name(result) -> dict of numbers)", ref)
    return fn


def _takes_one(fn: Callable[..., Any]) -> bool:
    try:
        inspect.signature(fn).bind(object())
    except (TypeError, ValueError):
        return False
    return True


def _installed_module(name: str) -> types.ModuleType:
    """`import name` with the current folder left out of the search (`python -m` puts it
    first on the path; a module there would shadow an installed one by accident)."""
    import sys

    here = Path.cwd().resolve()

    def elsewhere(entry: str) -> bool:
        try:
            return bool(entry) and Path(entry).resolve() != here
        except (OSError, RuntimeError):
            return True

    saved = list(sys.path)
    sys.path[:] = [entry for entry in saved if elsewhere(entry)]
    try:
        importlib.invalidate_caches()
        return importlib.import_module(name)
    finally:
        sys.path[:] = saved


_FROM_FILES: dict[str, types.ModuleType] = {}


def _module_from_file(path: Path) -> types.ModuleType:
    """The module of a Python file, loaded once per process."""
    import hashlib
    import importlib.util
    import sys

    path = path.resolve()
    key = str(path)
    if key not in _FROM_FILES:
        if not path.is_file():
            raise ImportError(f"no Python file {path}")
        name = "govsim_measures_" + hashlib.sha256(key.encode()).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        _FROM_FILES[key] = module
    return _FROM_FILES[key]


# ------------------------------------------------------------------------- schema field types
def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional so `int | None` reads as int."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def field_type(path: str) -> Any:
    """The Python type of the scenario field at a dotted path (None if the path is unknown)."""
    tp: Any = Scenario
    for part in path.split("."):
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(part)
            if field is None:
                return None
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
    return _unwrap(tp)


def is_integer_field(path: str) -> bool:
    tp = field_type(path)
    return tp is int
