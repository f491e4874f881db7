"""`govsim sweep`: run or resume a sweep spec, or show the summary of a finished one.

    govsim sweep example                 # every core of this machine
    govsim sweep spec.yaml --workers 2 --out results/my-sweep
    govsim sweep spec.yaml --scheduler tcp://10.0.0.5:8786     # an existing Dask cluster
    govsim sweep --summary results/sweeps/example              # print the tables again

Exit status: 0 when every run finished without error; 1 when some runs failed (their errors
are in the results) or could not finish (run the same command again to finish them); 2 for bad
input; 130 after Ctrl-C, which keeps every finished run.
"""

from __future__ import annotations

import argparse
import math
import re
import signal
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError, among

if TYPE_CHECKING:
    import pandas as pd

EXIT_OK, EXIT_INCOMPLETE, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
#: Measures shown when the spec names no `outcomes`.
KEY_OUTCOMES = ("resolved_latency_occurrence_h_mean", "resolved_latency_occurrence_h_p90",
                "resolution_rate", "satisfaction_rate", "street_staff_hours",
                "department_staff_hours")
MAX_ROWS = 40


def add_backend_arguments(p: argparse.ArgumentParser, what: str) -> None:
    """Where `what` run: --workers N local processes, --scheduler a Dask cluster, or --serial
    (for `make_backend`); one of them at most."""
    from sim.cli import whole_number

    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=whole_number(1), metavar="N",
                       help=f"local worker processes for {what} (default: every core)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help=f"run {what} on the Dask cluster whose scheduler is at ADDRESS "
                            "(tcp://host:8786)")
    where.add_argument("--serial", action="store_true",
                       help=f"run {what} in this process, one after another")


def add_parser(subparsers: Any) -> None:

    p = subparsers.add_parser(
        "sweep", help="run a sweep spec: regimes x parameters x replications",
        description="Run (or resume) a sweep spec: scenarios x design points x replications, "
                    "with common random numbers. Each finished run is saved at once; running "
                    "the same command again skips finished runs. See docs/sweeps.md.")
    p.add_argument("spec", nargs="?", metavar="SPEC", help="sweep spec file (YAML)")
    p.add_argument("--summary", type=Path, metavar="DIR",
                   help="print the summary of the sweep in DIR instead of running one")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="results folder (default: results/sweeps/<name>)")
    add_backend_arguments(p, "the runs")
    p.add_argument("--retry-failed", action="store_true",
                   help="run again the runs that raised an error in an earlier attempt")
    p.add_argument("--dry-run", action="store_true",
                   help="validate the spec and show the plan, without running anything")
    p.add_argument("--allow-import", action="store_true",
                   help="import the spec's `measures`: module:function from the installed "
                        "packages (never the working folder) or path/to/file.py:function "
                        "(runs that code; never done without this flag, nor in a dry run)")
    p.add_argument("--outcome", dest="outcomes", action="append", metavar="NAME",
                   help="measure to show (may be repeated; default: the spec's outcomes or "
                        "key measures)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=handle)


# ------------------------------------------------------------------------------------ display
def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.3g}" if magnitude < 100 else f"{value:.1f}"
    return f"{value:.3f}"


def _cell(mean: float, low: float, high: float) -> str:
    if mean is None or math.isnan(mean):
        return "—"
    if math.isnan(low):
        return _fmt(mean)
    return f"{_fmt(mean)} ± {_fmt((high - low) / 2)}"


def _header(name: str, width: int = 14) -> str:
    """A long measure or parameter name broken after `_` or `.` so columns stay narrow."""
    lines, line = [], ""
    for part in re.split(r"(?<=[._])", name):
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    return "\n".join([*lines, line])


def _inputs(row: pd.Series, params: list[str]) -> list[str]:
    return [str(row[p]) if not isinstance(row[p], float) else _fmt(row[p]) for p in params]


def _outcome_table(result: Any, outcome: str, params: list[str]):
    """One outcome: a row per design point, a column per scenario, and the paired difference
    of each scenario from the baseline beside it."""
    from rich import box
    from rich.table import Table

    manifest = result.manifest
    labels = manifest["scenarios"]
    summary = result.summary[result.summary["outcome"] == outcome]
    diffs = result.differences
    if diffs is not None and not diffs.empty:
        diffs = diffs[diffs["outcome"] == outcome].set_index(["scenario", "point"])
    table = Table(title=f"[bold]{outcome}[/bold]", box=box.SIMPLE_HEAD, title_justify="left",
                  pad_edge=False)
    for p in params:
        table.add_column(_header(p), justify="right", no_wrap=True)
    for i, label in enumerate(labels):
        table.add_column(_header(label), justify="right", no_wrap=True)
        if i and diffs is not None and not diffs.empty:
            table.add_column(_header(f"Δ {label}"), justify="right", no_wrap=True, style="cyan")
    failed = summary.groupby("point")["n_failed"].sum()
    if failed.any():
        table.add_column("failed", justify="right")
    points = list(dict.fromkeys(summary["point"]))
    by = summary.set_index(["scenario", "point"])
    for point in points[:MAX_ROWS]:
        first = summary[summary["point"] == point].iloc[0]
        cells = _inputs(first, params)
        for i, label in enumerate(labels):
            key = (label, point)
            cells.append(_cell(*by.loc[key, ["mean", "ci_low", "ci_high"]]) if key in by.index
                         else "—")
            if i and diffs is not None and not diffs.empty:
                cells.append(_cell(*diffs.loc[key, ["mean", "ci_low", "ci_high"]])
                             if key in diffs.index else "—")
        if failed.any():
            cells.append(str(int(failed.get(point, 0))))
        table.add_row(*cells)
    if len(points) > MAX_ROWS:
        table.caption = f"... {len(points) - MAX_ROWS} more design points in summary.csv"
    return table


def _spread_table(result: Any, outcomes: list[str]):
    """Sampled designs have too many points to list: the spread of point means per scenario."""
    from rich import box
    from rich.table import Table

    table = Table(title="Across the design points: mean of the point means [5th, 95th "
                        "percentile] (each point in summary.csv)", box=box.SIMPLE_HEAD,
                  title_justify="left", pad_edge=False)
    table.add_column("scenario", no_wrap=True)
    for o in outcomes:
        table.add_column(_header(o), justify="right", no_wrap=True)
    summary = result.summary
    for label in result.manifest["scenarios"]:
        cells = []
        for o in outcomes:
            means = summary.loc[(summary["scenario"] == label) & (summary["outcome"] == o),
                                "mean"].dropna()
            if means.empty:
                cells.append("—")
                continue
            low, high = means.quantile([0.05, 0.95])
            cells.append(f"{_fmt(means.mean())} [{_fmt(low)}, {_fmt(high)}]")
        table.add_row(label, *cells)
    return table


def _indices_table(result: Any, outcomes: list[str]):
    from rich import box
    from rich.table import Table

    idx = result.indices
    sobol = "ST" in idx.columns
    what = "total-order Sobol' index ST (first-order S1)" if sobol else "Morris μ* (σ)"
    table = Table(title=f"Sensitivity: {what}, 95 % conf. in indices.csv", box=box.SIMPLE_HEAD,
                  title_justify="left", pad_edge=False)
    table.add_column("scenario")
    table.add_column("parameter")
    shown = [o for o in outcomes if o in set(idx["outcome"])]
    for o in shown:
        table.add_column(_header(o), justify="right", no_wrap=True)
    for (label, param), group in idx.groupby(["scenario", "parameter"], sort=False):
        by = group.set_index("outcome")
        cells = []
        for o in shown:
            r = by.loc[o]
            cells.append(f"{r['ST']:.2f} ({r['S1']:.2f})" if sobol
                         else f"{_fmt(r['mu_star'])} ({_fmt(r['sigma'])})")
        table.add_row(label, param, *cells)
    return table


def show(result: Any, outcomes: list[str] | None = None, strict: bool = True) -> None:
    """Print a sweep's summary, paired differences, indices and failures (`strict`: an unknown
    outcome name is an InputError, else it is left out with a note)."""
    from sim.cli import _console

    console = _console()
    manifest = result.manifest
    params = manifest["parameters"]
    available = result.outcomes
    wanted = outcomes or manifest.get("outcomes") or [o for o in KEY_OUTCOMES if o in available]
    unknown = [o for o in wanted if o not in available]
    if unknown and available and not strict:
        console.print(f"note: no measure named {unknown}; among {available}", markup=False)
        wanted = [o for o in wanted if o in available]
    elif unknown and available:
        raise InputError(str(result.folder), "--outcome", "measures of this sweep, "
                         + among(available, unknown), unknown)
    counts = result.counts
    state = "complete" if result.complete else f"incomplete: {counts['pending']} runs pending"
    console.print(f"[bold]Sweep {manifest['name']}[/bold] — {manifest['runs']} runs, "
                  f"{counts['ok']} ok, {counts['failed']} failed ({state}); "
                  f"{manifest['design']['method']} design, {manifest['replications']} "
                  f"replications, root seed {manifest['seed']}")
    if result.summary.empty:
        pass
    elif manifest["design"]["method"] == "grid":
        baseline = manifest["baseline"]
        console.print("Mean ± 95 % CI half-width over replications (summary.csv)"
                      + (f"; Δ: paired difference from {baseline} with the same seeds "
                         f"(differences.csv)" if len(manifest["scenarios"]) > 1 else ""),
                      markup=False)
        for outcome in wanted:
            console.print(_outcome_table(result, outcome, params))
    else:  # too many points to list
        console.print(_spread_table(result, wanted))
    if result.indices is not None and not result.indices.empty:
        console.print(_indices_table(result, wanted))
    for note in result.notes:
        console.print(f"note: {note}", style="dim", markup=False)
    failures = result.failures
    if len(failures):
        console.print(f"[bold]{len(failures)} failed runs[/bold] (runs.parquet has each "
                      f"traceback):")
        for row in failures.head(MAX_ROWS).itertuples(index=False):
            console.print(f"  run {row.run} ({row.scenario}, point {row.point}, replication "
                          f"{row.replication}): {row.error}", markup=False)
    console.print(f"results in {result.folder}", markup=False)


# ------------------------------------------------------------------------------------ handler
def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def handle(args: argparse.Namespace) -> int:
    """`govsim sweep`: see the module docstring for the exit statuses."""
    from sim.experiments.plan import make_plan
    from sim.experiments.spec import load_spec
    from sim.experiments.sweep import IncompleteSweepWarning, default_folder, load_sweep, run_sweep
    from sim.outputs import check_out

    if args.summary is not None:
        if args.spec is not None:
            raise InputError(args.spec, None, "either a SPEC to run or --summary DIR, not both")
        result = load_sweep(args.summary)
        show(result, args.outcomes)
        return EXIT_OK if result.complete and not len(result.failures) else EXIT_INCOMPLETE
    if args.spec is None:
        raise InputError(None, "SPEC", "a sweep spec file to run, or --summary DIR")
    loaded = load_spec(args.spec)
    out = args.out or default_folder(loaded)
    check_out(out, None, what="sweep")  # before any work, dry run or not
    if args.dry_run:
        plan = make_plan(loaded)
        distinct = plan.table["run_id"].nunique()
        measures = loaded.spec.measures
        note = "" if measures is None else (f"; measures {measures} not imported in a dry run"
                                            + ("" if args.allow_import
                                               else " (running needs --allow-import)"))
        print(f"{args.spec}: ok ({len(plan)} runs: {len(plan.entries)} scenarios "
              f"[{', '.join(plan.labels)}] × {len(plan.design.points)} design points "
              f"({plan.design.method}) × {loaded.spec.replications} replications; "
              f"{distinct} distinct; results → {out}{note})")
        return EXIT_OK
    if args.outcomes and not loaded.spec.measures:  # checked now, not after hours of runs
        from sim.experiments.plan import known_outcomes

        unknown = [o for o in args.outcomes if o not in known_outcomes()]
        if unknown:
            raise InputError(args.spec, "--outcome", "names of measures, "
                             + among(known_outcomes(), unknown), unknown)
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _raise_interrupt)  # `kill` stops as cleanly as Ctrl-C
    try:
        with warnings.catch_warnings():  # lost runs are reported below, in the CLI's words
            warnings.simplefilter("ignore", IncompleteSweepWarning)
            result = run_sweep(loaded, out, workers=args.workers, scheduler=args.scheduler,
                               serial=args.serial, retry_failed=args.retry_failed,
                               progress=not args.quiet, allow_import=args.allow_import)
    except KeyboardInterrupt:
        print(f"\ninterrupted: every finished run is kept in {out}; run the same command "
              f"again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    show(result, args.outcomes, strict=False)
    if result.lost:
        print(f"{len(result.lost)} runs could not finish (first: {result.lost[0]}); run the "
              f"same command again to run them", file=sys.stderr)
    if not result.complete or len(result.failures):
        return EXIT_INCOMPLETE
    return EXIT_OK
