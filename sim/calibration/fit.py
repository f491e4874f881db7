"""Fitting a scenario's free parameters to published figures, and reporting the fit.

A calibration spec (YAML, e.g. `scenarios/calibration/beijing.yaml`) names the scenario, the
free parameters with their bounds (a field of the scenario, or the value a timeline change sets
`at` a date), and the targets, each fitted or held out. The fit minimises the sum of squared
errors of the fitted targets, each in units of its tolerance (`sim.calibration.targets`), in
stages: an optional global search over the bounds (scipy's differential evolution, at a scale
and on seeds a machine affords), then the fit from the search's best point (scipy's bounded
least squares; Nelder–Mead to refine a point one evaluation at a time). Every evaluation runs
on the same seeds (common random numbers, so the objective is a deterministic function of the
parameters), spread over a local pool or a Dask cluster, and is kept as it finishes, so an
interrupted fit continues where it stopped. Each fitted parameter gets an interval from the
Jacobian at the fit (Gauss–Newton). The fitted values are written back into the scenario file,
comments kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

import sim
from sim.calibration.history import FitHistory, columns_for, residuals_of
from sim.calibration.targets import (
    Target,
    passes,
    published_targets,
    scaled_error,
    simulated_all,
    state_at,
    tolerance,
)
from sim.errors import InputError, among
from sim.inputs import load_yaml
from sim.provenance import code_version
from sim.scenario.categories import load_categories
from sim.scenario.loader import _expected, _field_path, load_scenario, set_dotted, validate

# ------------------------------------------------------------------------------------ the spec
#: Seeds one stage may name (each evaluation runs every one of them).
MAX_SEEDS = 1000
#: Evaluations one stage may be given.
MAX_BUDGET = 1_000_000

Seed = Annotated[int, Field(ge=0, description="A run seed (>= 0).")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Parameter(_Strict):
    """One free parameter: a scenario field, or the value a timeline change sets at a date."""

    path: str = Field(description="Dotted path of the field (`staffing.resolve_prob`).")
    at: dt.date | None = Field(None, description="Date of the timeline change whose value is "
                               "fitted (the change must exist); omitted: the scenario's field.")
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        if not self.low < self.high:
            raise ValueError("low < high")
        return self

    @property
    def label(self) -> str:
        return f"{self.path}@{self.at}" if self.at else self.path


class TargetChoice(_Strict):
    measure: str
    period: str
    area: str = Field("", description="A district (English name); empty: the whole city.")
    fit: bool = Field(True, description="False: held out of the fit, reported as a prediction.")
    weight: float = Field(1.0, gt=0, le=1e6)


def _distinct(seeds: list[int]) -> list[int]:
    if len(set(seeds)) != len(seeds):
        raise ValueError("each seed once (a seed given twice would count twice in the mean)")
    return seeds


class FitSettings(_Strict):
    """How a stage of the fit evaluates points (scale, seeds) and moves between them."""

    scale: float = Field(0.005, gt=0, le=1, description="Scale of each evaluation.")
    seeds: list[Seed] = Field([0], min_length=1, max_length=MAX_SEEDS, description="Seeds of "
                              "each evaluation (their mean: common random numbers across "
                              "points).")
    budget: int = Field(60, gt=0, le=MAX_BUDGET, description="Evaluations of the stage, in "
                        "all: those of an interrupted run of the same command count.")
    method: Literal["least-squares", "differential-evolution", "nelder-mead"] = Field(
        "least-squares", description="least-squares: scipy's bounded trust-region least "
        "squares from the search's best point (without a search, the scenario's values), "
        "each Jacobian's points run in parallel; "
        "differential-evolution: scipy's global method, a population spread over the bounds "
        "(Sobol points, the scenario's values among them), for a machine that affords it; "
        "nelder-mead: bounded simplex, one point at a time.")
    step: float = Field(0.05, gt=0, le=0.5, description="least-squares: the finite-difference "
                        "step of the Jacobian, as a share of each parameter's range (large "
                        "enough to rise above the roughness of a discrete simulation).")
    popsize: int = Field(3, ge=1, le=50, description="Differential evolution: population per "
                         "parameter (scipy's `popsize`); each generation is popsize x "
                         "parameters evaluations, run in parallel.")
    simplex: float = Field(0.25, gt=0, le=1, description="Size of the starting simplex, as a "
                           "share of each parameter's range: wide for a first fit, small to "
                           "refine a point that is already good.")

    @field_validator("seeds")
    @classmethod
    def _seeds_once(cls, seeds: list[int]) -> list[int]:
        return _distinct(seeds)


class CalibrationSpec(FitSettings):
    """The fit (its settings at the top level), an optional global search before it, the
    report, the free parameters and the targets."""

    scenario: str = Field(description="Scenario file, relative to the spec.")
    search: FitSettings | None = Field(None, description="A global search run first, at a "
                                       "scale and on seeds a machine affords: the fit starts "
                                       "from its best point.")
    report_scale: float = Field(0.01, gt=0, le=1, description="Scale of the report's runs.")
    report_seeds: list[Seed] = Field([0, 1, 2], min_length=1, max_length=MAX_SEEDS,
                                     description="Replications of the report (mean and 95 % "
                                     "interval over them).")
    parameters: list[Parameter] = Field(min_length=1, max_length=100)
    targets: list[TargetChoice] = Field(min_length=1, max_length=1000)
    holdout: bool = Field(False, description="True: the pre-registered hold-out applies "
                          "(sim/data/beijing_holdout.csv): each of its figures must be a target "
                          "with fit: false, and none is ever fitted.")

    @field_validator("report_seeds")
    @classmethod
    def _report_seeds_once(cls, seeds: list[int]) -> list[int]:
        return _distinct(seeds)


def load_spec(path: str | Path) -> tuple[CalibrationSpec, Path]:
    """Read and check a calibration spec (a path, or the name of a shipped one: `beijing`);
    the scenario path comes back resolved. Everything a fit or report will need is checked
    here, before any evaluation, and a mistake names the spec file and its field."""
    from sim.presets import shipped_file

    path = Path(path)
    if not path.exists():
        path = shipped_file(path, "calibration") or path
    data = load_yaml(path, "calibration spec (YAML)")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(str(path), None, "a mapping of calibration fields (scenario, "
                         "parameters, targets, ...)", type(data).__name__)
    try:
        spec = CalibrationSpec.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        got = first.get("input") if first["type"] != "missing" else None
        expected = first["msg"].removeprefix("Value error, ") \
            if first["type"] == "value_error" else _expected(first)
        raise InputError(str(path), _field_path(first["loc"]) or None, expected,
                         None if isinstance(got, dict | list) else got) from None
    scenario_path = (path.parent / spec.scenario).resolve()
    base = load_scenario(scenario_path)  # the scenario must be valid
    _check_targets(spec, str(path))
    _check_parameters(spec, base, str(path), scenario_path)
    check_settings(spec, str(path), fitting=False)
    _check_scales(spec, base, str(path))  # builds the city: last
    return spec, scenario_path


def _check_targets(spec: CalibrationSpec, file: str) -> None:
    known = {(t.measure, t.period, t.area) for t in published_targets()}
    seen: set[tuple[str, str, str]] = set()
    for i, choice in enumerate(spec.targets):
        key = (choice.measure, choice.period, choice.area)
        if key not in known:
            raise InputError(file, f"targets[{i}]", "a published figure of "
                             "sim/data/beijing_targets.csv (measure, period and area)",
                             " ".join(key).strip())
        if key in seen:
            raise InputError(file, f"targets[{i}]", "each target once (a second would weigh "
                             "it twice: give it a weight instead)", " ".join(key).strip())
        seen.add(key)
    if spec.holdout:
        from sim.calibration import holdout

        holdout.check(spec.targets, {(t.measure, t.period, t.area): t.value
                                     for t in published_targets()}, file)


def _check_parameters(spec: CalibrationSpec, base: sim.Scenario, file: str,
                      scenario_path: Path) -> None:
    """Each parameter once, a numeric field of the scenario (a category column of a category
    the scenario has), a timeline change that exists, and valid at both of its bounds."""
    from sim.experiments.spec import field_type

    dates = {c.date for c in base.timeline}
    seen: set[str] = set()
    categories = load_categories(base)
    for i, p in enumerate(spec.parameters):
        where = f"parameters[{i}]"
        if p.label in seen:
            raise InputError(file, f"{where}.path", "each parameter once", p.label)
        seen.add(p.label)
        keys = p.path.split(".")
        if len(keys) == 4 and keys[:2] == ["demand", "categories"] \
                and keys[2] not in categories.keys:
            raise InputError(file, f"{where}.path", "a category of the scenario's table, "
                             + among(list(categories.keys), keys[2]), keys[2])
        if field_type(p.path) not in (int, float):
            raise InputError(file, f"{where}.path", "the dotted path of a numeric field of the "
                             "scenario (see docs/scenarios.md)", p.path)
        if p.at is not None and p.at not in dates:
            raise InputError(file, f"{where}.at", "the date of a timeline change of "
                             f"{scenario_path.name}", str(p.at))
    try:  # every parameter at both bounds gives a valid scenario
        for bound in ("low", "high"):
            apply_values(base, spec.parameters, [getattr(p, bound) for p in spec.parameters])
    except InputError as err:
        raise InputError(file, f"parameters ({err.field})", err.expected, err.got) from None


def _check_scales(spec: CalibrationSpec, base: sim.Scenario, file: str) -> None:
    """Every scale the fit and its report run at simulates at least one street and stays
    within the size limit of a run."""
    from sim.model import make_city
    from sim.scenario.loader import check_city

    scales = [("scale", spec.scale), ("report_scale", spec.report_scale)]
    if spec.search is not None:
        scales.append(("search.scale", spec.search.scale))
    city = make_city(base.city)
    for field, scale in scales:
        try:
            check_city(base.model_copy(update={"scale": scale}), city)
        except InputError as err:
            raise InputError(file, field, err.expected, scale) from None


def minimum_budget(stage: FitSettings, n: int) -> tuple[int, str]:
    """The fewest evaluations that make one step of a stage's method, and why."""
    if stage.method == "differential-evolution":
        return population_size(stage, n), (f"one generation of differential evolution "
                                           f"(popsize {stage.popsize} x {n} parameter(s), at "
                                           f"least 5)")
    if stage.method == "nelder-mead":
        return n + 2, f"the starting simplex ({n + 1} points) and one step of Nelder-Mead"
    return n + 2, f"the start, its Jacobian ({n} point(s)) and one step of least squares"


def check_settings(spec: CalibrationSpec, file: str | None = None,
                   fitting: bool = True) -> None:
    """What a fit needs besides a valid spec: budgets that allow one step of each stage's
    method, and (`fitting`) a fitted target; checked before any evaluation."""
    if fitting and not any(c.fit for c in spec.targets):
        raise InputError(file, "targets", "at least one target with fit: true (the others are "
                         "only reported)")
    n = len(spec.parameters)
    for field, stage in (("search.budget", spec.search), ("budget", spec)):
        if stage is None:
            continue
        least, why = minimum_budget(stage, n)
        if stage.budget < least:
            raise InputError(file, field, f"at least {least} evaluations: {why}", stage.budget)


def chosen_targets(spec: CalibrationSpec) -> list[tuple[Target, TargetChoice]]:
    by_key = {(t.measure, t.period, t.area): t for t in published_targets()}
    return [(by_key[(c.measure, c.period, c.area)], c) for c in spec.targets]


# ------------------------------------------------------------------------------ evaluation
def apply_values(base: sim.Scenario, parameters: list[Parameter], values: list[float],
                 **fields: Any) -> sim.Scenario:
    """The scenario with each parameter set to its value (and top-level `fields` replaced)."""
    data = base.model_dump()
    for p, value in zip(parameters, values, strict=True):
        value = _typed(base, p, value)
        if p.at is None:
            set_dotted(data, p.path, value)
        else:
            for change in data["timeline"]:
                if change["date"] == p.at:
                    change["set"][p.path] = value
    data.update(fields)
    return validate(data)


def _value_at(base: sim.Scenario, path: str) -> Any:
    """The scenario's value at a dotted path; a category column the scenario does not override
    (`demand.categories.<key>.<column>`) is the category table's."""
    node: Any = base.model_dump()
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    keys = path.split(".")
    if node is None and len(keys) == 4 and keys[:2] == ["demand", "categories"]:
        table = load_categories(base)
        if keys[2] not in table.keys or not hasattr(table, keys[3]):
            raise InputError(None, path, "a category column of the scenario's table", path)
        node = float(getattr(table, keys[3])[table.index(keys[2])])
    return node


def _typed(base: sim.Scenario, p: Parameter, value: float) -> float | int:
    node = _value_at(base, p.path)
    return round(value) if isinstance(node, int) and not isinstance(node, bool) else value


def current_values(base: sim.Scenario, parameters: list[Parameter]) -> list[float]:
    """The values the scenario holds now (a timeline value it does not set: the field's value
    just before the change)."""
    out = []
    for p in parameters:
        change = next((c for c in base.timeline if c.date == p.at), None)
        if change is not None and p.path in change.set:
            out.append(float(change.set[p.path]))
            continue
        out.append(float(_value_at(base, p.path)))
    return out


def evaluate_task(task: dict[str, Any]) -> list[float]:
    """What a worker does with one evaluation: run the scenario on one seed and return each
    target's simulated value (module level, so a pool or a Dask cluster can run it)."""
    result = sim.run(validate(task["scenario"]), seed=task["seed"], scale=task["scale"],
                     columns=())  # the rules read the run's counts: no problem table
    return simulated_all(result, [Target(**t) for t in task["targets"]])


def evaluate_many(scenarios: list[sim.Scenario], targets: list[Target], seeds: list[int],
                  scale: float, backend: Any = None,
                  on_done: Callable[[int, pd.DataFrame], None] | None = None,
                  ) -> list[pd.DataFrame]:
    """Simulated value of each target for each scenario, one column per seed; every
    (scenario, seed) is one task for the `backend` (a `sim.experiments.execute.Backend`;
    None: in this process). `on_done(i, table)` is called as each scenario's last seed
    finishes, so its result can be kept at once."""
    from dataclasses import asdict

    from sim.experiments.execute import Backend

    backend = backend or Backend()
    tasks = [{"run_id": f"{i}-{seed}", "i": i, "seed": seed, "scale": scale,
              "scenario": s.model_dump(mode="json"),
              "targets": [asdict(t) for t in targets]}
             for i, s in enumerate(scenarios) for seed in seeds]
    out = [pd.DataFrame(index=[t.key for t in targets], columns=seeds, dtype=float)
           for _ in scenarios]
    missing = [len(seeds)] * len(scenarios)
    for task, values, error in backend.run(tasks, fn=evaluate_task):
        if error is not None:
            raise RuntimeError(f"a calibration run was lost (seed {task['seed']}): "
                               f"{error}") from error
        out[task["i"]][task["seed"]] = values
        missing[task["i"]] -= 1
        if on_done is not None and not missing[task["i"]]:
            on_done(task["i"], out[task["i"]])
    return out


def evaluate(scenario: sim.Scenario, targets: list[Target], seeds: list[int], scale: float,
             backend: Any = None) -> pd.DataFrame:
    """Simulated value of each target, one column per seed."""
    return evaluate_many([scenario], targets, seeds, scale, backend)[0]


def scaled_errors(values: pd.Series, targets: list[Target]) -> np.ndarray:
    """Each target's error in units of its tolerance (|e| <= 1: within it)."""
    return np.array([scaled_error(t, float(v)) for v, t in zip(values, targets, strict=True)])


#: Scaled error counted for a target the run gives no value for.
MISSING_ERROR = 10.0


# ------------------------------------------------------------------------------------ the fit
#: Names of the stages in a fit's history: the optional global search, then the fit.
SEARCH, FIT = "search", "fit"


def fit(spec: CalibrationSpec, scenario_path: Path, log: Callable[[str], None] = print,
        history_file: Path | FitHistory | None = None, backend: Any = None,
        search: bool = True) -> tuple[sim.Scenario, pd.DataFrame]:
    """Minimise the weighted squared errors of the fitted targets, each in units of its
    tolerance.

    With a `search` in the spec (and `search` true), a global search runs first at its own
    scale and seeds, and the fit starts from its best point; otherwise the fit starts from the
    search's best point so far, else the scenario's values. Returns the fitted scenario (the
    fit's best point) and the history of evaluations (parameters, loss, stage, ...: each
    stage's points in the order its method asked for them, then any other usable rows of the
    history). With a `history_file` (a path, or a `FitHistory` the caller holds open), each
    evaluation is kept as it finishes, and the same command run again replays each stage's
    method from the same start, answering the points the history holds without evaluating
    them: an interrupted fit ends exactly where an uninterrupted one does, and a larger
    budget continues a finished one. Evaluations run on `backend` (a local pool, a Dask
    cluster; None: in this process).
    """
    check_settings(spec)
    base = load_scenario(scenario_path)
    problem = _Problem(spec, base)
    store = history_file if isinstance(history_file, FitHistory) else \
        FitHistory(history_file, problem.columns, log)
    try:
        evals = _Evaluations(problem, store.open(problem.accepts), store, backend, log)
        stages = ([(SEARCH, spec.search)] if spec.search is not None and search else [])
        stages.append((FIT, spec))
        jacobian = None
        for name, stage in stages:
            x0 = evals.start(name)
            log(f"{name}: {stage.method}, scale {stage.scale:g}, seeds "
                f"{', '.join(map(str, stage.seeds))}, {stage.budget} evaluation(s) in all")
            jacobian = _run_stage(stage, x0, lambda xs, st=stage, nm=name: evals.request(
                nm, st, xs))
            evals.said(name)
    finally:
        if not isinstance(history_file, FitHistory):
            store.close()
    top = evals.best(FIT) or evals.best(SEARCH)
    if top is None:  # not after check_settings; said plainly all the same
        raise InputError(None, "budget", "enough evaluations for one step of the method",
                         spec.budget)
    table = pd.DataFrame(evals.table(), columns=problem.columns)
    if jacobian is not None:  # the last Jacobian: intervals at the fit, for free
        table.attrs["jacobian"] = pd.DataFrame(
            jacobian["jac"] / problem.span, index=[t.key for t in problem.targets],
            columns=problem.labels).assign(_residual=jacobian["at"])
    return apply_values(base, spec.parameters, [top[k] for k in problem.labels]), table


class _Problem:
    """What makes an evaluation's loss, and how a point (scaled to [0, 1]) maps to values."""

    def __init__(self, spec: CalibrationSpec, base: sim.Scenario):
        self.spec, self.base = spec, base
        fitted = [(t, c) for t, c in chosen_targets(spec) if c.fit]
        self.targets = [t for t, _ in fitted]
        self.weights = np.array([c.weight for _, c in fitted])
        self.lows = np.array([p.low for p in spec.parameters])
        self.span = np.array([p.high for p in spec.parameters]) - self.lows
        self.labels = [p.label for p in spec.parameters]
        self.columns = columns_for(self.labels)
        self.code = code_version(("sim.calibration.fit", "sim.calibration.targets"))
        self.objective = _objective(fitted, base, spec.parameters)
        # a stage's scale and seeds make its losses too
        self.settings = {SEARCH: spec.search or spec, FIT: spec}

    def residuals(self, simulated: pd.Series) -> np.ndarray:
        """The weighted scaled errors of the fitted targets (`self.targets`, in order) for
        their simulated values: the loss is their sum of squares. Only fitted targets enter."""
        err = np.nan_to_num(scaled_errors(simulated, self.targets), nan=MISSING_ERROR)
        return np.sqrt(self.weights) * err

    def accepts(self, row: dict[str, Any]) -> bool:
        """A row of the history made the way this fit makes its evaluations."""
        stage = self.settings.get(row["stage"])
        return stage is not None and row["scale"] == stage.scale \
            and row["seeds"] == _seeds(stage.seeds) and row["objective"] == self.objective \
            and row["code"] == self.code

    def values(self, x: np.ndarray) -> tuple[float, ...]:
        """The parameters' values at a scaled point: what the history records, exactly. Points
        within 1e-12 of each parameter's range are one point (a solver's round trips)."""
        return tuple(float(v) for v in self.lows + np.round(np.clip(x, 0.0, 1.0), 12)
                     * self.span)

    def scaled(self, values: list[float]) -> np.ndarray:
        return np.clip((np.array(values, float) - self.lows) / self.span, 0.0, 1.0)

    def key(self, row: dict[str, Any]) -> tuple[float, ...]:
        return tuple(float(row[k]) for k in self.labels)


class _Evaluations:
    """The points each stage's method asks for, in order (its path), answered from the
    history where it holds them and evaluated (and kept) where it does not. A stage's budget
    counts the distinct points on its path, so a replay stops where the first run stopped."""

    def __init__(self, problem: _Problem, rows: list[dict[str, Any]], store: FitHistory,
                 backend: Any, log: Callable[[str], None]):
        self.problem, self.store, self.backend, self.log = problem, store, backend, log
        self.rows = list(rows)
        self.known = {(r["stage"], problem.key(r)): r for r in rows}
        self.residuals: dict[tuple[str, tuple[float, ...]], np.ndarray] = {}
        self.path: dict[str, list[dict[str, Any]]] = {SEARCH: [], FIT: []}
        self.on_path: dict[str, set[tuple[float, ...]]] = {SEARCH: set(), FIT: set()}
        self.new = {SEARCH: 0, FIT: 0}
        self.started = time.perf_counter()

    def best(self, name: str) -> dict[str, Any] | None:
        """The stage's best row of all it has (ties: the smallest values, so any order of
        finishing gives the same)."""
        rows = [r for r in self.rows if r["stage"] == name]
        return min(rows, key=lambda r: (r["loss"], self.problem.key(r))) if rows else None

    def start(self, name: str) -> np.ndarray:
        """A stage's first point: the fit's is the search's best, else the scenario's values."""
        top = self.best(SEARCH) if name == FIT else None
        if top is not None:
            return self.problem.scaled([top[k] for k in self.problem.labels])
        return self.problem.scaled(current_values(self.problem.base, self.problem.spec.parameters))

    def request(self, name: str, stage: FitSettings, xs: list[np.ndarray]) -> list[np.ndarray]:
        """Each point's weighted residuals (its loss is their sum of squares)."""
        keys = [self.problem.values(x) for x in xs]
        fresh = [k for k in dict.fromkeys(keys) if k not in self.on_path[name]]
        if len(self.path[name]) + len(fresh) > stage.budget:
            raise _BudgetSpent
        missing = [k for k in fresh if (name, k) not in self.known]
        if missing:
            self._evaluate(name, stage, missing)
        for k in fresh:
            self.path[name].append(self.known[(name, k)])
            self.on_path[name].add(k)
        return [self._residuals(name, k) for k in keys]

    def _residuals(self, name: str, key: tuple[float, ...]) -> np.ndarray:
        if (name, key) not in self.residuals:
            self.residuals[(name, key)] = np.array(residuals_of(self.known[(name, key)]))
        return self.residuals[(name, key)]

    def _evaluate(self, name: str, stage: FitSettings, keys: list[tuple[float, ...]]) -> None:
        p = self.problem
        scenarios = [apply_values(p.base, p.spec.parameters, list(k)) for k in keys]

        def keep(i: int, table: pd.DataFrame) -> None:
            residuals = p.residuals(table.mean(axis=1))
            row: dict[str, Any] = dict(zip(p.labels, keys[i], strict=True))
            row.update(loss=float(np.sum(residuals ** 2)), stage=name, scale=stage.scale,
                       seeds=_seeds(stage.seeds), objective=p.objective, code=p.code,
                       residuals=" ".join(repr(float(r)) for r in residuals))
            self.store.append(row)
            self.rows.append(row)
            self.known[(name, keys[i])] = row
            self.new[name] += 1
            ours = [r["loss"] for r in self.rows if r["stage"] == name]
            self.log(f"[{name} {len(self.path[name]) + 1 + i}/{stage.budget}] loss "
                     f"{row['loss']:.3f} (best {min(ours):.3f}), " + ", ".join(
                         f"{k}={x:.4g}" for k, x in zip(p.labels, keys[i], strict=True))
                     + f"; {time.perf_counter() - self.started:.0f} s")

        evaluate_many(scenarios, p.targets, stage.seeds, stage.scale, self.backend,
                      on_done=keep)

    def said(self, name: str) -> None:
        """One line at the end of a stage: how many of its points were evaluated now."""
        path, new = self.path[name], self.new[name]
        best = min((r["loss"] for r in path), default=math.nan)
        if not new:
            self.log(f"{name}: its {len(path)} evaluations are done (all in the history); "
                     f"best loss {best:.4g}")
        else:
            self.log(f"{name}: {len(path)} evaluations, {new} new"
                     + (f", {len(path) - new} from the history" if len(path) > new else "")
                     + f"; best loss {best:.4g}")

    def table(self) -> list[dict[str, Any]]:
        """Each stage's path in order, then the history's other usable rows."""
        used = {id(r) for rows in self.path.values() for r in rows}
        return [*self.path[SEARCH], *self.path[FIT], *(r for r in self.rows if id(r) not in used)]


def _run_stage(stage: FitSettings, x0: np.ndarray,
               request: Callable[[list[np.ndarray]], list[np.ndarray]],
               ) -> dict[str, Any] | None:
    """One stage's method from `x0` (scaled parameters) until its budget is spent; the last
    Jacobian of a least-squares stage (scaled), else None."""
    from scipy.optimize import differential_evolution, minimize

    def loss(xs: list[np.ndarray]) -> list[float]:
        return [float(np.sum(r ** 2)) for r in request(xs)]

    n = len(x0)
    if stage.method == "least-squares":
        return _least_squares(stage, x0, request)
    try:
        if stage.method == "nelder-mead":
            # the budget stops it (points asked for again cost nothing and count once)
            minimize(lambda x: loss([x])[0], x0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * n,
                     options={"maxfev": 100 * stage.budget + 100, "xatol": 0.01,
                              "fatol": 1e-4, "initial_simplex": _simplex(x0, stage.simplex)})
        else:
            size = population_size(stage, n)
            differential_evolution(
                lambda x: loss([x])[0], [(0.0, 1.0)] * n, init=_population(x0, size),
                maxiter=stage.budget // size - 1, popsize=stage.popsize, polish=False, tol=0.0,
                seed=0, updating="deferred", workers=lambda _f, xs: loss(list(xs)))
    except _BudgetSpent:
        pass
    return None


def _objective(fitted: list[tuple[Target, TargetChoice]], base: sim.Scenario,
               parameters: list[Parameter]) -> str:
    """A short hash of what a loss depends on besides the parameters' values: the fitted
    targets, their weights, and the scenario with every free parameter at its low bound."""
    import json

    text = "\n".join(f"{t.key}\t{c.weight!r}" for t, c in fitted)
    context = apply_values(base, parameters, [p.low for p in parameters])
    text += "\n" + json.dumps(context.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _seeds(seeds: list[int]) -> str:
    """A stage's seeds as the fit's history records them: `0 1`."""
    return " ".join(map(str, seeds))


class _BudgetSpent(Exception):
    """The fit's evaluations are used up."""


def _least_squares(stage: FitSettings, x0: np.ndarray,
                   request: Callable[[list[np.ndarray]], list[np.ndarray]],
                   ) -> dict[str, Any] | None:
    """scipy's bounded trust-region least squares (`trf`) on the scaled parameters, with a
    forward-difference Jacobian whose points run together on the backend. Returns the last
    Jacobian (per scaled unit, with the residuals where it was taken), or None."""
    from scipy.optimize import least_squares

    last: dict[str, Any] = {}

    def fun(x: np.ndarray) -> np.ndarray:
        return request([np.asarray(x, float)])[0]

    def jac(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, float)
        steps = np.where(x + stage.step <= 1.0, stage.step, -stage.step)
        points = [x + steps[j] * np.eye(len(x))[j] for j in range(len(x))]
        at = fun(x)
        moved = request(points)
        j = np.column_stack([(m - at) / h for m, h in zip(moved, steps, strict=True)])
        last.update(x=x, jac=j, at=at)
        return j

    try:
        least_squares(fun, x0, jac=jac, bounds=(0.0, 1.0), method="trf", x_scale=1.0,
                      max_nfev=stage.budget)
    except _BudgetSpent:
        pass
    return last or None


def population_size(stage: FitSettings, n: int) -> int:
    """Differential evolution's points a generation."""
    return max(5, stage.popsize * n)


def _population(x0: np.ndarray, size: int) -> np.ndarray:
    """Differential evolution's first generation: the scenario's own values, then scrambled
    Sobol points over the bounds (the same every time, so a replay asks for the same)."""
    from scipy.stats import qmc

    points = [x0]
    sobol = qmc.Sobol(len(x0), scramble=True, seed=0).random_base2(
        max(0, math.ceil(math.log2(size))))
    points.extend(sobol[: size - 1])
    return np.array(points[:size])


def _simplex(x0: np.ndarray, step: float = 0.25) -> np.ndarray:
    """A starting simplex that moves each parameter by `step` of its range (inward)."""
    points = [x0]
    for i in range(len(x0)):
        p = x0.copy()
        p[i] = p[i] + step if p[i] + step <= 1.0 else p[i] - step
        points.append(p)
    return np.array(points)


def write_back(scenario_path: Path, parameters: list[Parameter], scenario: sim.Scenario) -> None:
    """Write the fitted values into the scenario file, keeping its comments and layout."""
    from ruamel.yaml import YAML

    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 100
    rt.indent(mapping=2, sequence=4, offset=2)  # the layout of our scenario files
    data = rt.load(scenario_path.read_text(encoding="utf-8"))
    from ruamel.yaml.comments import CommentedMap

    stamp = f"fitted by govsim calibrate, {dt.date.today()}"
    for p, value in zip(parameters, current_values(scenario, parameters), strict=True):
        value = _round(_typed(scenario, p, value))
        if p.at is not None:
            change = next(c for c in data["timeline"]
                          if _as_date(c["date"]) == p.at)
            change["set"][p.path] = value
            change["set"].yaml_add_eol_comment(stamp, p.path)
            continue
        node = data
        keys = p.path.split(".")
        for key in keys[:-1]:
            if key not in node:
                node[key] = CommentedMap()
            node = node[key]
        node[keys[-1]] = value
        node.yaml_add_eol_comment(stamp, keys[-1])
    tmp = scenario_path.with_name(f".{scenario_path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        rt.dump(data, f)
    validate_file = load_scenario(tmp)  # never write back an invalid scenario
    del validate_file
    tmp.replace(scenario_path)


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _round(value: float) -> float:
    if isinstance(value, int):
        return value
    return float(f"{value:.4g}")


# ----------------------------------------------------------------------------------- report
#: A month-on-month move of a published-basis rate larger than this needs a dated event.
STEP_LIMIT = 0.08


def report_task(task: dict[str, Any]) -> dict[str, Any]:
    """One report run: each target's value, the monthly table on the published basis, and
    the heating problems that occurred (not only those reported) in each target season."""
    from sim.calibration.targets import Run, heating_change

    scenario = validate(task["scenario"])
    result = sim.run(scenario, seed=task["seed"], scale=task["scale"], columns=())
    run = Run(result)
    targets = [Target(**t) for t in task["targets"]]
    seasons = sorted({t.period for t in targets if t.measure.startswith("heating")})
    return {"values": simulated_all(run, targets),
            "monthly": published_basis(run.monthly(), scenario),
            "heating_occurred": {s: heating_change(run, s, when="occurred_h") for s in seasons}}


def report(spec: CalibrationSpec, scenario_path: Path, sensitivity: bool = False,
           log: Callable[[str], None] = print, scenario: sim.Scenario | None = None,
           backend: Any = None) -> dict[str, Any]:
    """Targets beside simulated values (mean and 95 % interval over the report's seeds), each
    marked pass or fail against its tolerance; the monthly series for the chart; steps in the
    monthly rates and whether a dated event explains them; heating problems occurring in each
    heating season compared; and, optionally, the sensitivity of each target to each parameter
    with each fitted parameter's interval."""
    from dataclasses import asdict

    from scipy import stats

    from sim.experiments.execute import Backend

    backend = backend or Backend()
    base = scenario if scenario is not None else load_scenario(scenario_path)
    pairs = chosen_targets(spec)
    targets = [t for t, _ in pairs]
    tasks = [{"run_id": f"report-{seed}", "seed": seed, "scale": spec.report_scale,
              "scenario": base.model_dump(mode="json"), "targets": [asdict(t) for t in targets]}
             for seed in spec.report_seeds]
    log(f"report runs: seeds {', '.join(map(str, spec.report_seeds))} at scale "
        f"{spec.report_scale:g} ({backend.name}, {backend.workers} worker(s))")
    runs: dict[int, dict[str, Any]] = {}
    for task, out, error in backend.run(tasks, fn=report_task):
        if error is not None:
            raise RuntimeError(f"a report run was lost (seed {task['seed']}): {error}") \
                from error
        runs[task["seed"]] = out
    seeds = list(spec.report_seeds)
    values = pd.DataFrame({s: runs[s]["values"] for s in seeds},
                          index=[t.key for t in targets])
    n = values.shape[1]
    mean = values.mean(axis=1)
    half = (values.std(axis=1, ddof=1) * stats.t.ppf(0.975, n - 1) / math.sqrt(n)
            if n > 1 else mean * np.nan)
    from sim.calibration.targets import INPUTS

    def role(t: Target, c: TargetChoice) -> str:
        return "input" if t.measure in INPUTS else "fitted" if c.fit else "held out"

    table = pd.DataFrame({
        "measure": [t.measure for t in targets], "period": [t.period for t in targets],
        "area": [t.area for t in targets],
        "published": [t.value for t in targets], "simulated": mean.to_numpy(),
        "ci95_low": (mean - half).to_numpy(), "ci95_high": (mean + half).to_numpy(),
        "error": [tolerance(t).error(float(v), t.value) for v, t in zip(mean, targets,
                                                                         strict=True)],
        "tolerance": [tolerance(t).describe() + (" (at least)" if t.kind == "at least" else "")
                      for t in targets],
        "result": [_verdict(passes(t, float(v))) for v, t in zip(mean, targets, strict=True)],
        "role": [role(t, c) for t, c in pairs],
        "source": [t.source for t in targets]})
    monthly = pd.concat([runs[s]["monthly"].assign(seed=s) for s in seeds])
    occurred = pd.DataFrame({s: runs[s]["heating_occurred"] for s in seeds})
    out: dict[str, Any] = {"table": table, "monthly": monthly, "scenario": base,
                           "steps": rate_steps(monthly, base),
                           "heating_occurred": occurred.mean(axis=1)}
    if sensitivity:
        sens, intervals = sensitivities(spec, base, log, backend=backend)
        out["sensitivity"], out["intervals"] = sens, intervals
    return out


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else "pass" if ok else "fail"


def rate_steps(monthly: pd.DataFrame, scenario: sim.Scenario,
               limit: float = STEP_LIMIT) -> pd.DataFrame:
    """Month-on-month moves of the published-basis resolution and satisfaction rates (mean
    over seeds) larger than `limit`, each with the dated event that explains it (a timeline
    change in that month or the month before), if any."""
    rates = monthly.groupby(level=0)[["resolution_rate_published",
                                      "satisfaction_rate_published"]].mean()
    events = {}
    for change in scenario.timeline:
        month = pd.Period(change.date, "M")
        events.setdefault(month, []).append(change.note or str(change.date))
    rows = []
    for column in rates.columns:
        series = rates[column].dropna()
        moves = series.diff()
        for month, move in moves.items():
            if not abs(move) > limit:  # NaN (the first month) too
                continue
            notes = events.get(month, []) + events.get(month - 1, [])
            rows.append({"rate": column.removesuffix("_published"), "month": str(month),
                         "move": float(move), "dated_event": "; ".join(notes)})
    return pd.DataFrame(rows, columns=["rate", "month", "move", "dated_event"])


def published_basis(monthly: pd.DataFrame, scenario: sim.Scenario) -> pd.DataFrame:
    """Add `resolution_rate_published` and `satisfaction_rate_published`: the ticket rates on
    the basis Beijing publishes them, month by month (unreasonable requests left out once the
    assessment leaves them out)."""
    out = monthly.copy()
    scored = np.array([state_at(scenario, m.end_time.date()).ranking.exclude_unreasonable
                       for m in out.index])
    for kind in ("resolution", "satisfaction"):
        out[f"{kind}_rate_published"] = np.where(scored, out[f"scored_{kind}_rate"],
                                                 out[f"ticket_{kind}_rate"])
    return out


def sensitivities(spec: CalibrationSpec, base: sim.Scenario,
                  log: Callable[[str], None] = print, step: float = 0.1,
                  backend: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sensitivity of each target to each parameter, and an interval for each parameter.

    Sensitivity: the change of each target, in units of its tolerance, when one parameter
    moves by `step` of its range (centred differences on the fit's seeds, one at a time; all
    2 x parameters runs at once on the backend). Intervals: the Gauss–Newton approximation of
    nonlinear least squares at the scenario's values, covariance s^2 (J'WJ)^-1 with J the
    Jacobian of the fitted targets' scaled errors, W their weights and s^2 = sum(W e^2) /
    (targets - parameters) the residual variance; 95 % = value +- 1.96 standard errors
    (clipped to the bounds). A parameter no fitted target moves has no finite interval."""
    pairs = chosen_targets(spec)
    targets = [t for t, _ in pairs]
    fitted = np.array([c.fit for _, c in pairs])
    weights = np.array([c.weight for _, c in pairs])
    values = current_values(base, spec.parameters)
    points, widths = [], []
    for i, p in enumerate(spec.parameters):
        delta = step * (p.high - p.low)
        ups, downs = list(values), list(values)
        ups[i] = min(p.high, values[i] + delta)
        downs[i] = max(p.low, values[i] - delta)
        points += [ups, downs]
        widths.append(ups[i] - downs[i])
    log(f"sensitivity: {len(points)} points x {len(spec.seeds)} seed(s) at scale "
        f"{spec.scale:g}")
    scenarios = [base] + [apply_values(base, spec.parameters, v) for v in points]
    tables = evaluate_many(scenarios, targets, spec.seeds, spec.scale, backend)
    at = scaled_errors(tables[0].mean(axis=1), targets)
    jac = np.zeros((len(targets), len(spec.parameters)))  # scaled error per parameter unit
    for i in range(len(spec.parameters)):
        hi = scaled_errors(tables[1 + 2 * i].mean(axis=1), targets)
        lo = scaled_errors(tables[2 + 2 * i].mean(axis=1), targets)
        jac[:, i] = (hi - lo) / widths[i] if widths[i] > 0 else np.nan
    spans = np.array([p.high - p.low for p in spec.parameters])
    sens = pd.DataFrame(jac * spans * step, index=[t.key for t in targets],
                        columns=[p.label for p in spec.parameters])
    ok = fitted & np.isfinite(at) & np.isfinite(jac).all(axis=1)
    w = weights[ok]
    return sens, parameter_intervals(spec, values, np.sqrt(w)[:, None] * jac[ok],
                                     np.sqrt(w) * at[ok])


def from_fit(spec: CalibrationSpec, fitted: sim.Scenario, jacobian: pd.DataFrame,
             step: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sensitivity and intervals from the least-squares fit's last Jacobian (weighted
    residuals per parameter unit, and the residuals where it was taken), at no extra runs."""
    labels = [p.label for p in spec.parameters]
    jac = jacobian[labels].to_numpy(float)
    at = jacobian["_residual"].to_numpy(float)
    weights = np.array([c.weight for _, c in chosen_targets(spec) if c.fit])
    spans = np.array([p.high - p.low for p in spec.parameters])
    sens = pd.DataFrame(jac / np.sqrt(weights)[:, None] * spans * step, index=jacobian.index,
                        columns=labels)
    return sens, parameter_intervals(spec, current_values(fitted, spec.parameters), jac, at)


def parameter_intervals(spec: CalibrationSpec, values: list[float], j: np.ndarray,
                        e: np.ndarray) -> pd.DataFrame:
    """Gauss–Newton intervals from the Jacobian `j` of the weighted residuals `e` (fitted
    targets x parameters, per parameter unit): covariance s^2 (J'J)^-1, s^2 = sum(e^2) /
    (targets - parameters); 95 % = value +- 1.96 standard errors, clipped to the bounds."""
    dof = len(e) - len(spec.parameters)
    s2 = float(np.sum(e ** 2) / dof) if dof > 0 else np.nan
    normal = j.T @ j
    if np.isfinite(s2) and np.linalg.matrix_rank(normal) == len(spec.parameters):
        se = np.sqrt(np.clip(np.diag(s2 * np.linalg.inv(normal)), 0.0, None))
    else:
        se = np.full(len(spec.parameters), np.nan)
    lows = np.array([p.low for p in spec.parameters])
    highs = np.array([p.high for p in spec.parameters])
    vals = np.array(values)
    intervals = pd.DataFrame({
        "parameter": [p.label for p in spec.parameters], "low": lows, "high": highs,
        "value": vals, "std_error": se,
        "ci95_low": np.clip(vals - 1.96 * se, lows, highs),
        "ci95_high": np.clip(vals + 1.96 * se, lows, highs),
        "pinned": 1.96 * se < (highs - lows) / 2})  # the interval spans less than half the bounds
    return intervals
