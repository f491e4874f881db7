"""Fitting a scenario's free parameters to published figures, and reporting the fit.

A calibration spec (YAML, e.g. `scenarios/calibration/beijing.yaml`) names the scenario, the
free parameters with their bounds (a field of the scenario, or the value a timeline change sets
`at` a date), and the targets, each fitted or held out. The fit minimises the sum of squared
relative errors of the fitted targets with scipy's bounded Nelder–Mead, every evaluation on the
same seeds (common random numbers, so the objective is a deterministic function of the
parameters). The fitted values are written back into the scenario file, comments kept.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import sim
from sim.calibration.targets import Target, published_targets, simulated, state_at
from sim.errors import InputError
from sim.inputs import load_yaml
from sim.provenance import code_version
from sim.results import Result
from sim.scenario.loader import _expected, _field_path, load_scenario, set_dotted, validate


# ------------------------------------------------------------------------------------ the spec
class Parameter(BaseModel):
    """One free parameter: a scenario field, or the value a timeline change sets at a date."""

    model_config = ConfigDict(extra="forbid")
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


class TargetChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    measure: str
    period: str
    fit: bool = Field(True, description="False: held out of the fit, reported as a prediction.")
    weight: float = Field(1.0, gt=0)


class CalibrationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(description="Scenario file, relative to the spec.")
    scale: float = Field(0.005, gt=0, le=1, description="Scale of each fit evaluation.")
    seeds: list[int] = Field([0], min_length=1, description="Seeds of each fit evaluation.")
    report_scale: float = Field(0.01, gt=0, le=1, description="Scale of the report's runs.")
    report_seeds: list[int] = Field([0, 1, 2], min_length=1, description="Replications of the "
                                    "report (mean and 95 % interval over them).")
    budget: int = Field(60, gt=0, description="Evaluations the fit may use at most.")
    simplex: float = Field(0.25, gt=0, le=1, description="Size of the starting simplex, as a "
                           "share of each parameter's range: wide for a first fit, small to "
                           "refine a point that is already good.")
    parameters: list[Parameter] = Field(min_length=1)
    targets: list[TargetChoice] = Field(min_length=1)


def load_spec(path: str | Path) -> tuple[CalibrationSpec, Path]:
    """Read and check a calibration spec (a path, or the name of a shipped one: `beijing`);
    the scenario path comes back resolved."""
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
        raise InputError(str(path), _field_path(first["loc"]) or None, _expected(first),
                         None if isinstance(got, dict) else got) from None
    scenario_path = (path.parent / spec.scenario).resolve()
    base = load_scenario(scenario_path)  # the scenario must be valid
    known = {(t.measure, t.period) for t in published_targets()}
    for i, choice in enumerate(spec.targets):
        if (choice.measure, choice.period) not in known:
            raise InputError(str(path), f"targets[{i}]", "a published figure of "
                             "sim/data/beijing_targets.csv (measure and period)",
                             f"{choice.measure} {choice.period}")
    dates = {c.date for c in base.timeline}
    for i, p in enumerate(spec.parameters):
        if p.at is not None and p.at not in dates:
            raise InputError(str(path), f"parameters[{i}].at", "the date of a timeline change "
                             f"of {scenario_path.name}", str(p.at))
    try:  # every parameter at both bounds gives a valid scenario
        for bound in ("low", "high"):
            apply_values(base, spec.parameters, [getattr(p, bound) for p in spec.parameters])
    except InputError as err:
        raise InputError(str(path), f"parameters ({err.field})", err.expected, err.got) from None
    return spec, scenario_path


def chosen_targets(spec: CalibrationSpec) -> list[tuple[Target, TargetChoice]]:
    by_key = {(t.measure, t.period): t for t in published_targets()}
    return [(by_key[(c.measure, c.period)], c) for c in spec.targets]


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


def _typed(base: sim.Scenario, p: Parameter, value: float) -> float | int:
    node: Any = base
    for key in p.path.split("."):
        node = getattr(node, key, None)
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
        node: Any = base
        for key in p.path.split("."):
            node = getattr(node, key)
        out.append(float(node))
    return out


def evaluate(scenario: sim.Scenario, targets: list[Target], seeds: list[int], scale: float,
             ) -> pd.DataFrame:
    """Simulated value of each target, one column per seed."""
    columns = {}
    for seed in seeds:
        result = sim.run(scenario, seed=seed, scale=scale)
        monthly = result.monthly()
        columns[seed] = [simulated(result, t, monthly) for t in targets]
    return pd.DataFrame(columns, index=[t.key for t in targets])


def relative_errors(values: pd.Series, targets: list[Target]) -> np.ndarray:
    return np.array([(v - t.value) / abs(t.value) for v, t in zip(values, targets, strict=True)])


# ------------------------------------------------------------------------------------ the fit
def fit(spec: CalibrationSpec, scenario_path: Path, log: Callable[[str], None] = print,
        history_file: Path | None = None) -> tuple[sim.Scenario, pd.DataFrame]:
    """Minimise the weighted squared relative errors of the fitted targets.

    Returns the fitted scenario and the history of evaluations (parameters, objective). With a
    `history_file`, each evaluation is appended to it as it finishes, so an interrupted fit
    loses nothing; a fit started again with the file in place continues from its best point.
    """
    from scipy.optimize import minimize

    base = load_scenario(scenario_path)
    pairs = chosen_targets(spec)
    fitted = [(t, c) for t, c in pairs if c.fit]
    targets = [t for t, _ in fitted]
    weights = np.array([c.weight for _, c in fitted])
    lows = np.array([p.low for p in spec.parameters])
    span = np.array([p.high for p in spec.parameters]) - lows
    labels = [p.label for p in spec.parameters]
    start = np.array(current_values(base, spec.parameters))
    code = code_version(("sim.calibration.fit",))  # the objective's own code counts too
    history: list[dict[str, Any]] = []
    if history_file is not None and history_file.exists():
        earlier = pd.read_csv(history_file, dtype={"code": str})
        if (list(earlier.columns) == [*labels, "loss", "code"] and len(earlier)
                and (earlier["code"] == code).all()):
            history = earlier.to_dict("records")
            start = earlier.loc[earlier["loss"].idxmin(), labels].to_numpy(float)
            log(f"continuing from the best of {len(earlier)} earlier evaluations "
                f"({history_file})")
        else:  # another spec's, or another engine's: never mixed in, never deleted
            aside = _unused(history_file.with_name(f"{history_file.stem}.superseded.csv"))
            history_file.rename(aside)
            log(f"the evaluations in {history_file} were made with other parameters or other "
                f"engine code: kept as {aside}; starting afresh")
    x0 = np.clip((start - lows) / span, 0.0, 1.0)
    done_before = len(history)
    started = time.perf_counter()

    def objective(x: np.ndarray) -> float:
        values = list(lows + np.clip(x, 0.0, 1.0) * span)
        scenario = apply_values(base, spec.parameters, values)
        sims = evaluate(scenario, targets, spec.seeds, spec.scale).mean(axis=1)
        err = relative_errors(sims, targets)
        loss = float(np.sum(weights * np.nan_to_num(err, nan=1.0) ** 2))
        row: dict[str, Any] = {p.label: v for p, v in zip(spec.parameters, values, strict=True)}
        row["loss"] = loss
        row["code"] = code
        history.append(row)
        if history_file is not None:
            pd.DataFrame([row]).to_csv(history_file, mode="a", index=False,
                                       header=not history_file.exists())
        best = min(h["loss"] for h in history)
        log(f"[{len(history) - done_before}/{spec.budget}] loss {loss:.4f} (best {best:.4f}), "
            + ", ".join(f"{k}={v:.4g}" for k, v in row.items() if k not in ("loss", "code"))
            + f"; {time.perf_counter() - started:.0f} s")
        return loss

    minimize(objective, x0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(x0),
             options={"maxfev": spec.budget, "xatol": 0.01, "fatol": 1e-4,
                      "initial_simplex": _simplex(x0, spec.simplex)})
    table = pd.DataFrame(history)
    best = table.loc[table["loss"].idxmin()]
    values = [float(best[p.label]) for p in spec.parameters]
    return apply_values(base, spec.parameters, values), table


def _unused(path: Path) -> Path:
    """`path`, or the first of path.1, path.2 ... (before the suffix) that does not exist."""
    n = 0
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
    return candidate


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
def report(spec: CalibrationSpec, scenario_path: Path, sensitivity: bool = False,
           log: Callable[[str], None] = print, scenario: sim.Scenario | None = None,
           ) -> dict[str, Any]:
    """Targets beside simulated values (mean and 95 % interval over the report's seeds), the
    monthly series for the chart and, optionally, the sensitivity of each target to each
    parameter."""
    from scipy import stats

    base = scenario if scenario is not None else load_scenario(scenario_path)
    pairs = chosen_targets(spec)
    targets = [t for t, _ in pairs]
    runs: list[Result] = []
    columns = {}
    for seed in spec.report_seeds:
        log(f"report run, seed {seed} (scale {spec.report_scale:g})")
        result = sim.run(base, seed=seed, scale=spec.report_scale)
        monthly = result.monthly()
        columns[seed] = [simulated(result, t, monthly) for t in targets]
        runs.append(result)
    values = pd.DataFrame(columns, index=[t.key for t in targets])
    n = values.shape[1]
    mean = values.mean(axis=1)
    half = (values.std(axis=1, ddof=1) * stats.t.ppf(0.975, n - 1) / math.sqrt(n)
            if n > 1 else mean * np.nan)
    table = pd.DataFrame({
        "measure": [t.measure for t in targets], "period": [t.period for t in targets],
        "published": [t.value for t in targets], "simulated": mean.to_numpy(),
        "ci95_low": (mean - half).to_numpy(), "ci95_high": (mean + half).to_numpy(),
        "relative_error": relative_errors(mean, targets),
        "role": ["fitted" if c.fit else "held out" for _, c in pairs],
        "source": [t.source for t in targets]})
    monthly = pd.concat([published_basis(r.monthly(), base).assign(seed=s)
                         for r, s in zip(runs, spec.report_seeds, strict=True)])
    out: dict[str, Any] = {"table": table, "monthly": monthly, "scenario": base}
    if sensitivity:
        out["sensitivity"] = sensitivities(spec, base, targets, log)
    return out


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


def sensitivities(spec: CalibrationSpec, base: sim.Scenario, targets: list[Target],
                  log: Callable[[str], None] = print, step: float = 0.1) -> pd.DataFrame:
    """Change of each target (in units of its published value) when one parameter moves by
    `step` of its range, centred differences on the fit's seeds (one at a time)."""
    values = current_values(base, spec.parameters)
    rows = {}
    for i, p in enumerate(spec.parameters):
        delta = step * (p.high - p.low)
        ups, downs = list(values), list(values)
        ups[i] = min(p.high, values[i] + delta)
        downs[i] = max(p.low, values[i] - delta)
        log(f"sensitivity to {p.label}")
        hi = evaluate(apply_values(base, spec.parameters, ups), targets, spec.seeds, spec.scale)
        lo = evaluate(apply_values(base, spec.parameters, downs), targets, spec.seeds,
                      spec.scale)
        width = (ups[i] - downs[i]) / (p.high - p.low) / step  # 1 unless clipped at a bound
        change = (hi.mean(axis=1) - lo.mean(axis=1)) / 2.0 / max(width, 1e-9)
        rows[p.label] = change.to_numpy() / np.array([abs(t.value) for t in targets])
    return pd.DataFrame(rows, index=[t.key for t in targets])

