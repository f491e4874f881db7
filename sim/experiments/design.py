"""Design points (grid, Latin hypercube, Sobol', Morris via SALib) and the seeds of a sweep.

Every random number of a sweep comes from the spec's root seed through
`numpy.random.SeedSequence`, with fixed spawn keys so that adding replications never changes the
seeds of the earlier ones:

    (0,)    the design sampler (LHS, Sobol' scrambling, Morris trajectories)
    (1, r)  replication r: the seed of every run of replication r, in every scenario and at every
            design point (common random numbers)
    (2,)    the bootstrap of the sensitivity indices
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.experiments.spec import (
    MAX_POINTS,
    MAX_RUNS,
    LoadedSpec,
    Parameter,
    field_type,
    is_integer_field,
)

DESIGN_KEY, REPLICATION_KEY, ANALYSIS_KEY = 0, 1, 2


def _seed_sequence(root: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(root, spawn_key=key)


def replication_seed(root: int, replication: int) -> int:
    """The run seed of replication `replication` (a 63-bit integer, same in every scenario)."""
    state = _seed_sequence(root, REPLICATION_KEY, replication).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def stream_seed(root: int, key: int) -> int:
    """A 32-bit seed for the design sampler (`DESIGN_KEY`) or the analysis (`ANALYSIS_KEY`)."""
    return int(_seed_sequence(root, key).generate_state(1, np.uint32)[0])


@dataclass
class DesignMatrix:
    """The design points: `points[i]` maps each parameter path to the value run at point i."""

    method: str
    names: list[str]
    points: list[dict[str, Any]]
    raw: np.ndarray | None = None  # the sampler's matrix (points x parameters), before rounding
    problem: dict[str, Any] | None = None  # SALib's problem (names, bounds)
    integer: list[bool] = field(default_factory=list)


def _integer(loaded: LoadedSpec, name: str, p: Parameter) -> bool:
    if p.integer is not None:
        return p.integer
    return is_integer_field(name)


def _int_bounds(loaded: LoadedSpec, name: str, p: Parameter) -> tuple[int, int]:
    assert p.low is not None and p.high is not None
    lo, hi = math.ceil(p.low), math.floor(p.high)
    if lo > hi:
        raise loaded.error(f"parameters.{name}", "a range holding at least one whole number "
                           "(the field takes whole numbers)", [p.low, p.high])
    return lo, hi


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _grid_values(loaded: LoadedSpec, name: str, p: Parameter) -> list[Any]:
    if p.values is not None:
        return list(p.values)
    if p.levels is None:
        raise loaded.error(f"parameters.{name}", "values (a list), or low, high and levels for "
                           "method grid")
    assert p.low is not None and p.high is not None
    values = np.linspace(p.low, p.high, p.levels)
    if _integer(loaded, name, p):
        lo, hi = _int_bounds(loaded, name, p)
        ints = np.clip(np.rint(values), lo, hi).astype(int)
        return list(dict.fromkeys(int(v) for v in ints))
    return [float(v) for v in values]


def count_points(loaded: LoadedSpec) -> int:
    """How many design points the spec asks for, from its numbers alone (nothing sampled)."""
    spec = loaded.spec
    d = len(spec.parameters)
    n = spec.design.samples or 0
    method = spec.design.method
    if method == "grid":
        return math.prod(len(p.values) if p.values is not None else (p.levels or 1)
                         for p in spec.parameters.values())
    if method == "lhs":
        return n
    if method == "oat":
        return 1 + 2 * d
    if method == "sobol":
        return n * (2 * d + 2 if spec.design.second_order else d + 2)
    return n * (d + 1)  # morris


def check_size(loaded: LoadedSpec) -> None:
    """A sweep of more than `MAX_POINTS` design points or `MAX_RUNS` runs is refused, with the
    count, before anything is sampled or allocated (`--dry-run` too)."""
    spec = loaded.spec
    points = count_points(loaded)
    if points > MAX_POINTS:
        raise loaded.error("design" if spec.design.method != "grid" else "parameters",
                           f"at most {MAX_POINTS:,} design points ({spec.design.method})",
                           f"{points:,}")
    runs = points * len(spec.scenarios) * spec.replications
    if runs > MAX_RUNS:
        raise loaded.error("replications", f"a sweep of at most {MAX_RUNS:,} runs "
                           f"(design points x scenarios x replications)",
                           f"{points:,} x {len(spec.scenarios)} x {spec.replications} = "
                           f"{runs:,}")


def make_design(loaded: LoadedSpec) -> DesignMatrix:
    """The design points of a spec, in a fixed order (grid: the first parameter varies slowest)."""
    check_size(loaded)
    spec = loaded.spec
    method = spec.design.method
    names = list(spec.parameters)
    if method == "grid":
        columns = [_grid_values(loaded, n, spec.parameters[n]) for n in names]
        points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*columns)]
        return DesignMatrix(method, names, points, integer=[False] * len(names))

    bounds, integer = [], []
    for name, p in spec.parameters.items():
        where = f"parameters.{name}"
        if p.values is not None:
            raise loaded.error(where, f"low and high for method {method} (lists of values are "
                               f"for method grid)")
        kind = field_type(name)
        if kind is bool:
            raise loaded.error(where, f"a numeric field for method {method} (vary on/off "
                               f"switches with method grid, or as separate scenarios)")
        if kind is not None and kind not in (int, float):
            raise loaded.error(where, f"a numeric field for method {method} (lists, tuples "
                               f"and names can be varied with method grid)")
        assert p.low is not None and p.high is not None
        if _integer(loaded, name, p):
            lo, hi = _int_bounds(loaded, name, p)
            bounds.append([lo - 0.5, hi + 0.5])  # each whole number gets an equal share
            integer.append(True)
        else:
            bounds.append([p.low, p.high])
            integer.append(False)
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    if method == "oat":  # the scenarios as they are, then each parameter alone at each end
        points: list[dict[str, Any]] = [{}]
        for j, name in enumerate(names):
            lo, hi = bounds[j]
            ends = (int(lo + 0.5), int(hi - 0.5)) if integer[j] else (lo, hi)
            points += [{name: end} for end in ends]
        return DesignMatrix(method, names, points, problem=problem, integer=integer)
    seed = stream_seed(spec.seed, DESIGN_KEY)
    n = spec.design.samples
    assert n is not None
    if method == "lhs":
        from SALib.sample import latin

        raw = latin.sample(problem, n, seed=seed)
    elif method == "sobol":
        from SALib.sample import sobol

        raw = sobol.sample(problem, n, calc_second_order=spec.design.second_order, seed=seed)
    else:
        from SALib.sample import morris

        raw = morris.sample(problem, n, num_levels=spec.design.levels, seed=seed)
    raw = np.asarray(raw, dtype=float)
    points = []
    for row in raw:
        point = {}
        for j, name in enumerate(names):
            if integer[j]:
                lo, hi = bounds[j][0] + 0.5, bounds[j][1] - 0.5
                point[name] = int(np.clip(np.rint(row[j]), lo, hi))
            else:
                point[name] = float(row[j])
        points.append(point)
    return DesignMatrix(method, names, points, raw=raw, problem=problem, integer=integer)
