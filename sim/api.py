"""`run()`: one scenario, one seed, one result — the plain function every interface calls;
`compare()`: several scenarios with one seed, side by side (what `govsim compare` does)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from sim.city.city import City
from sim.errors import InputError
from sim.ledger import Streamed
from sim.model import GovernanceModel
from sim.outputs import seed_folder, umask_mode
from sim.plugins import DailyMechanism
from sim.results import PROBLEM_COLUMNS, Result, collect
from sim.scenario.loader import load_scenario, resolve_path, set_dotted, validate
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.comparison import Comparison


def as_scenario(scenario: Scenario | str | Path | dict[str, Any],
                overrides: dict[str, Any] | None = None) -> tuple[Scenario, str | None]:
    """A validated scenario from a Scenario, a file path, a preset name or a plain dict (a
    Scenario given another seed only is copied, not validated again)."""
    if isinstance(scenario, Scenario) and not overrides:
        return scenario, None
    if isinstance(scenario, Scenario) and set(overrides or {}) == {"seed"}:
        seed = overrides["seed"]  # type: ignore[index]
        if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0:
            return scenario.model_copy(update={"seed": seed}), None
    if isinstance(scenario, Scenario | dict):
        data = scenario.model_dump() if isinstance(scenario, Scenario) else dict(scenario)
        for dotted, value in (overrides or {}).items():
            set_dotted(data, dotted, value)
        return validate(data), None
    return load_scenario(scenario, overrides), str(resolve_path(scenario))


#: Overrides that size or replicate a run rather than change the scenario: they do not rename it.
RUN_SETTINGS = ("seed", "days", "scale")
MAX_NAME = 100  # sim.scenario.schema: a scenario's name names result folders


def variant_name(base: str, overrides: dict[str, Any] | None) -> str:
    """The name of `base` changed by `overrides`: `hotline[ranking.enabled=False]`, the changes
    in the order given (seed, days and scale, which do not change the scenario, left out; a
    `name` override is the name). Cut to 100 characters, with "…", if longer."""
    overrides = dict(overrides or {})
    if "name" in overrides:
        return str(overrides["name"])
    changes = [f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}"
               for k, v in overrides.items() if k not in RUN_SETTINGS]
    if not changes:
        return base
    name = f"{base}[{', '.join(changes)}]"
    return name if len(name) <= MAX_NAME else name[:MAX_NAME - 2] + "…]"


def run(scenario: Scenario | str | Path | dict[str, Any], *, seed: int | None = None,
        days: int | None = None, scale: float | None = None, city: City | None = None,
        overrides: dict[str, Any] | None = None, name: str | None = None,
        progress: bool | str = False,
        on_day: Callable[[GovernanceModel], None] | None = None,
        columns: tuple[str, ...] | None = None, problems: bool = True,
        mechanisms: list[DailyMechanism] | None = None,
        model_class: type[GovernanceModel] = GovernanceModel, file: str | None = None) -> Result:
    """Run one scenario and return its tables.

    `scenario` is a `Scenario`, a YAML path or a preset name (`"hotline"`); `seed`, `days` and
    `scale` override the file; `overrides` sets any field by dotted path
    (`{"whistle.report_window_minutes": 60}`). The same scenario and seed give the same numbers.

    A run with `overrides` is a variant and is named after them, in `summary["scenario"]`,
    `result.name` and `result.scenario.name`: `hotline[ranking.enabled=False]` (see
    `variant_name`; seed, days and scale do not rename). `name=` names it yourself.

    The run streams its results (`sim.ledger`): each case, once final, is read into the
    tables' counts and let go, so memory follows the cases in flight, not the run's length.
    The problem table (`result.problems`) is written to a temporary Parquet file as the run
    goes and read when first asked for; `problems=False` keeps none (a sweep's runs, say),
    and every other table is the same.

    `columns` asks for a lean result: a problem table of only these columns (of
    `sim.results.PROBLEM_COLUMNS`; `()`: none) and no unit, ranking, daily or summary tables,
    for runs read by a few rules only: a calibration's evaluations of a 1:1 history read the
    counts (`result.aggregates`) in a few hundred MB.

    To act in plain Python (docs/extending.md): `mechanisms` is a list of plug-in objects
    (`sim.plugins.DailyMechanism`), called before and after each day besides those the
    scenario names under `plugins:`; `model_class` a subclass of `GovernanceModel` (its
    `before_day` and `after_day` act too). `on_day(model)` is called after each day.

    `city` is the city to run on (default: the one the scenario names, built once per process);
    `file` names the file a `Scenario` came from, for messages.
    """
    if columns is not None and (unknown := set(columns) - set(PROBLEM_COLUMNS)):
        raise InputError(None, "columns", "columns of the problem table "  # before the run
                         "(sim.results.PROBLEM_COLUMNS)", ", ".join(sorted(unknown)))
    extra = dict(overrides or {})
    for key, value in (("seed", seed), ("days", days), ("scale", scale)):
        if value is not None:
            extra[key] = value
    if name is None and overrides and any(k not in RUN_SETTINGS for k in overrides):
        base, _ = as_scenario(scenario, {k: v for k, v in extra.items() if k in RUN_SETTINGS})
        name = variant_name(base.name, overrides)
    if name is not None:
        extra["name"] = name
    spec, read_from = as_scenario(scenario, extra)
    file = read_from or file
    kept = (PROBLEM_COLUMNS if columns is None else tuple(columns)) if problems else ()
    stream = Streamed(problems=kept or None, waits=columns is None)
    if not (isinstance(model_class, type) and issubclass(model_class, GovernanceModel)):
        raise InputError(None, "model_class", "a subclass of sim.GovernanceModel", model_class)
    if progress:
        _announce_compile()
    model = model_class(spec, city=city, file=file, stream=stream, mechanisms=mechanisms)
    label = progress if isinstance(progress, str) else spec.name
    with tqdm(total=model.total_days, desc=label, unit="day", disable=not progress,
              delay=1.0, leave=False) as bar:
        while model.day < model.total_days:
            model.step()
            bar.update(1)
            if on_day is not None:
                on_day(model)
    model.finish()
    return collect(model, columns)


@dataclass
class CompareRun:
    """One run of a comparison: which scenario, which seed, and where it is kept."""

    label: str  # the scenario's name in the comparison
    seed: int
    scenario: Scenario  # validated, its seed set
    file: str | None  # the file it was read from (for messages)
    folder: str | None  # where the run is saved (None: kept in memory)
    csv: bool = False
    progress: bool | str = False


def _announce_compile() -> None:
    """Say it, once, when this run compiles the engine first (after an install or update)."""
    import sys

    from sim.engine.compile import FIRST_COMPILE_S, compiled_before

    if not compiled_before():
        print(f"compiling govsim's engine for this machine, once (up to about {FIRST_COMPILE_S} "
              "s; later runs load it from the cache)", file=sys.stderr, flush=True)


def _compare_one(job: CompareRun) -> tuple[CompareRun, Result, float]:
    """One run of a comparison (in a worker process, or here); saved in its folder, if any,
    and then read back from there (the problem table stays on disk)."""
    started = time.perf_counter()
    result = run(job.scenario, name=job.label, file=job.file, progress=job.progress)
    if job.folder is not None:
        umask_mode(result.save(job.folder, csv=job.csv))
        result = Result.load(job.folder)
    return job, result, time.perf_counter() - started


def _items(scenarios: Any) -> list[tuple[str | None, Any, dict[str, Any]]]:
    """(name or None, scenario, its own overrides) of each scenario `compare` is given."""
    from sim.presets import PRESETS

    if scenarios is None:
        scenarios = list(PRESETS)
    if isinstance(scenarios, Scenario | str | Path | tuple):
        scenarios = [scenarios]
    given = (list(scenarios.items()) if isinstance(scenarios, dict)
             else [(None, item) for item in scenarios])
    if not given:
        raise InputError(None, "scenarios", "at least one scenario", scenarios)
    items = []
    for key, item in given:
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[1], dict):
                raise InputError(None, "scenarios", "a scenario or a pair (scenario, overrides)",
                                 item)
            scenario, own = item
        else:
            scenario, own = item, {}
        items.append((key, scenario, dict(own)))
    return items


def compare(scenarios: Any = None, *, seed: int | None = None, seeds: int = 1,
            days: int | None = None, scale: float | None = None,
            overrides: dict[str, Any] | None = None, workers: int = 1,
            progress: bool = False, folder: str | Path | None = None, csv: bool = False,
            on_run: Callable[[CompareRun, Result, float], None] | None = None) -> Comparison:
    """Run several scenarios with one seed (common random numbers), as `govsim compare` does,
    and return a `Comparison` of their results.

    `scenarios` is a list, each item a scenario as `run` takes it (a preset name, a path, a
    `Scenario`, a dict) or a pair `(scenario, overrides)` for a variant; or a dict `{name: item}`
    to name them yourself; default: the four presets. Unnamed items are named after their
    scenario and own overrides (`hotline`, `hotline[ranking.enabled=False]`; a repeated name
    gets -2, -3). `overrides`, `days` and `scale` apply to every run and do not rename them.
    The seed is `seed`, else the first scenario's own; `seeds` > 1 runs each scenario with that
    many seeds from it (`Comparison.runs` has every seed's measures; `results` the first's).
    Every scenario is validated once, before any run; `workers` > 1 runs that many at a time,
    each in a process of its own (same numbers). `folder` saves each run as it finishes (the
    first seed's in `<folder>/<name>`, the others' in `<folder>/seeds/<name>/seed<N>`, as
    `govsim compare` lays them out); `on_run(run, result, seconds)` hears of each.

        >>> c = sim.compare(["fragmented", "hotline", ("hotline", {"ranking.enabled": False})],
        ...                 days=30, scale=0.05)                              # doctest: +SKIP
        >>> c.table       # tidy: one row per scenario and measure, with its unit  # doctest: +SKIP
        >>> c.wide        # measures x scenarios, as comparison.csv               # doctest: +SKIP
    """
    from sim.comparison import Comparison
    from sim.naming import unique_names
    from sim.pools import as_finished

    items = _items(scenarios)
    if progress:
        _announce_compile()
    common = dict(overrides or {})
    for key, value in (("days", days), ("scale", scale)):
        if value is not None:
            common[key] = value
    valid, names = [], []
    for key, scenario, own in items:  # every one valid before any run, each read once
        spec, file = as_scenario(scenario, {**common, **own})
        if seed is None:  # the first scenario's own
            seed = spec.seed
        spec = as_scenario(spec, {"seed": seed})[0]
        valid.append((spec, file))
        names.append(str(key) if key is not None else variant_name(_base_name(scenario, spec, own),
                                                                   own))
    names = unique_names(names)
    every = [seed + k for k in range(max(1, seeds))]
    workers = max(1, min(workers, len(names) * len(every)))
    jobs = [CompareRun(label, s, as_scenario(spec, {"seed": s})[0], file,
                       None if folder is None else str(seed_folder(Path(folder), label, s, seed)),
                       csv, label if progress and workers <= 1 else False)
            for label, (spec, file) in zip(names, valid, strict=True) for s in every]
    results: dict[str, dict[int, Result]] = {label: {} for label in names}
    for _, (job, result, seconds) in as_finished(_compare_one, [[j] for j in jobs], workers):
        results[job.label][job.seed] = result
        if on_run is not None:
            on_run(job, result, seconds)
    return Comparison({label: results[label][seed] for label in names}, seed=seed,
                      overrides=common,
                      runs={label: [results[label][s].measures for s in every] for label in names})


def _base_name(scenario: Any, spec: Scenario, own: dict[str, Any]) -> str:
    """The name a variant is named after: its scenario's own (before its overrides rename it)."""
    if not own or all(k in RUN_SETTINGS for k in own):
        return spec.name
    return as_scenario(scenario, {k: v for k, v in own.items() if k in RUN_SETTINGS})[0].name
