"""`govsim calibrate`: fit a scenario's free parameters to Beijing's published figures, or
report how well the scenario meets them.

    govsim calibrate                        # search, fit, write the values into the scenario
    govsim calibrate --report               # published vs simulated table + chart
    govsim calibrate --report --sensitivity # ... which parameters move which target, and an
                                            #     interval for each fitted parameter
    govsim calibrate --workers 2            # evaluations on 2 local processes
    govsim calibrate --scheduler tcp://host:8786   # ... or on a Dask cluster
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError

if TYPE_CHECKING:  # loaded when the command runs, not for --help
    import pandas as pd

    from sim.calibration.fit import CalibrationSpec
    from sim.calibration.history import FitHistory
    from sim.scenario.schema import Scenario

#: The shipped calibration spec, `scenarios/calibration/beijing.yaml`.
DEFAULT_SPEC = "beijing"


def installed_preset(path: Path) -> bool:
    """Whether `path` is a shipped file of an installed govsim (not of a source checkout, where
    the fit is written into the shipped scenario on purpose)."""
    from sim.presets import SOURCE_DIR, presets_dir

    root = presets_dir()
    checkout = root == SOURCE_DIR
    return not checkout and Path(path).resolve().is_relative_to(root.resolve())


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate", help="fit the timeline scenario to published figures, or report the fit",
        description="Fit the free parameters a calibration spec names (a global search at a "
                    "scale the machine affords, if the spec has one, then bounded least "
                    "squares on common random numbers, evaluations in parallel), write them "
                    "into its scenario and report an interval for each; with --report, run "
                    "the scenario "
                    "and mark every published figure pass or fail against its tolerance. "
                    "Default spec: beijing, the shipped scenarios/calibration/beijing.yaml.")
    p.add_argument("spec", nargs="?", default=DEFAULT_SPEC, metavar="SPEC",
                   help="calibration spec (YAML), or the name of a shipped one")
    p.add_argument("--report", action="store_true",
                   help="do not fit: report published vs simulated values")
    p.add_argument("--sensitivity", action="store_true",
                   help="with --report: sensitivity of each target to each parameter, and an "
                        "interval for each parameter (a fit reports them from its last "
                        "Jacobian)")
    from sim.experiments.cli import add_backend_arguments

    add_backend_arguments(p, "the evaluations")
    p.add_argument("--budget", type=int, metavar="N",
                   help="fit evaluations at most, in all (an interrupted fit's count)")
    p.add_argument("--no-search", action="store_true",
                   help="skip the spec's global search (or what is left of it): the fit starts "
                        "from the search's best point so far, else from the scenario's values")
    p.add_argument("--dry-run", action="store_true",
                   help="fit, but do not write the values into the scenario (the "
                        "evaluations are kept: run without it, the fit writes its best point "
                        "without evaluating again)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="folder for tables and the chart (default results/calibration)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """`govsim calibrate`: check the arguments, fit (unless --report), report; write the tables
    and chart into the output folder all or nothing, then print the report."""
    from sim.calibration.history import FitHistory, columns_for
    from sim.calibration.targets import RULES
    from sim.cli import _console, staged_folder

    spec, scenario_path, out = _prepare(args)
    err = _console(stderr=True)

    def log(text: str) -> None:
        err.print(text, style="dim", markup=False)

    from sim.experiments.execute import make_backend

    # every evaluation is kept here as it finishes; a fit started again continues
    history_file = out.parent / f".{out.name}.fit-history.csv"
    columns = columns_for([p.label for p in spec.parameters])
    kept = FitHistory(None if args.report else history_file, columns, log)  # locked in fit
    with kept, \
            make_backend(args.workers, args.scheduler, args.serial) as backend, \
            staged_folder(out) as tmp:
        log(f"evaluations: {backend.name}, {backend.workers} worker(s)")
        fitted, history = None, None
        if not args.report:
            fitted, history = _fit(args, spec, scenario_path, log, kept, backend, tmp,
                                   history_file, columns)
        result = _report(args, spec, scenario_path, log, backend, fitted, history)
        table = result["table"]
        _write_report(result, spec, tmp)
        kept.finished = not args.report and not args.dry_run  # removed once the folder is in
        # place (a dry run's stays: the same command without --dry-run writes its best point)
    _print_table(table, result.get("sensitivity"), RULES)
    _print_checks(result)
    _console().print(f"written to {out} (targets.csv, monthly.csv, steps.csv, "
                     "heating_occurred.csv, calibration.png/.svg"
                     + (", sensitivity.csv, parameters.csv" if "sensitivity" in result else "")
                     + ")", markup=False)
    return 0


def _prepare(args: argparse.Namespace) -> tuple[CalibrationSpec, Path, Path]:
    """The calibration spec, its scenario's path and the output folder, with the arguments
    checked before anything runs: a fit is never written into an installed package."""
    from sim.calibration import fit as calib
    from sim.cli import _check_target

    spec, scenario_path = calib.load_spec(args.spec)
    if not args.report and not args.dry_run and installed_preset(scenario_path):
        raise InputError(str(scenario_path), None,
                         "a scenario of your own to write the fit into, not the installed "
                         "package's: `govsim presets --copy DIR`, then calibrate "
                         "DIR/calibration/beijing.yaml (or use --dry-run or --report)")
    if args.budget is not None:
        least, why = calib.minimum_budget(spec, len(spec.parameters))
        if args.budget < least:
            raise InputError("--budget", None, f"at least {least} evaluations: {why}",
                             args.budget)
        spec.budget = args.budget
    if not args.report:
        calib.check_settings(spec, args.spec)
    out: Path = args.out or Path("results") / "calibration"
    _check_target(out, "targets.csv")
    return spec, scenario_path, out


def _fit(args: argparse.Namespace, spec: CalibrationSpec, scenario_path: Path,
         log: Callable[[str], None], kept: FitHistory, backend: Any, tmp: Path,
         history_file: Path, columns: list[str]) -> tuple[Scenario, pd.DataFrame]:
    """Fit, write the fit's history into the output folder `tmp` and (unless a dry run) the
    values into the scenario; return the fitted scenario and the history."""
    from sim.calibration import fit as calib
    from sim.calibration.history import write_rows

    try:
        fitted, history = calib.fit(spec, scenario_path, log, kept, backend,
                                    search=not args.no_search)
    except KeyboardInterrupt:
        log(f"fit interrupted: its evaluations are kept in {history_file}; the same "
            "command continues where it stopped")
        raise
    write_rows(tmp / "fit_history.csv", columns, history.to_dict("records"))
    if not args.dry_run:
        calib.write_back(scenario_path, spec.parameters, fitted)
    log(f"best loss {history['loss'].min():.4f} of {len(history)} evaluations; "
        + ("values not written (--dry-run)" if args.dry_run
           else f"values written into {scenario_path}"))
    return fitted, history


def _report(args: argparse.Namespace, spec: CalibrationSpec, scenario_path: Path,
            log: Callable[[str], None], backend: Any, fitted: Scenario | None,
            history: pd.DataFrame | None) -> dict[str, Any]:
    """Published vs simulated, with the parameters' sensitivity and intervals where known.

    The report reads the scenario file, unless the fitted values were not written into it; a
    least-squares fit's last Jacobian gives the intervals, other fits run the sensitivity.
    """
    from sim.calibration import fit as calib

    jacobian = history.attrs.get("jacobian") if fitted is not None else None
    unmeasured = fitted is not None and jacobian is None and not args.sensitivity
    if unmeasured and spec.method == "least-squares":  # not hours of runs unasked
        log("this fit made no Jacobian (its budget was spent before one): for the "
            "parameters' intervals run `govsim calibrate --report --sensitivity` "
            f"({2 * len(spec.parameters)} points x {len(spec.seeds)} seed(s) at scale "
            f"{spec.scale:g})")
    result = calib.report(spec, scenario_path,
                          sensitivity=args.sensitivity or (
                              unmeasured and spec.method != "least-squares"),
                          log=log, scenario=fitted if args.dry_run else None,
                          backend=backend)
    if jacobian is not None and "sensitivity" not in result:
        result["sensitivity"], result["intervals"] = calib.from_fit(spec, fitted, jacobian)
    return result


def _write_report(result: dict[str, Any], spec: CalibrationSpec, tmp: Path) -> None:
    """The report's tables and chart, into the output folder `tmp`."""
    table = result["table"]
    table.to_csv(tmp / "targets.csv", index=False)
    result["monthly"].to_csv(tmp / "monthly.csv")
    result["steps"].to_csv(tmp / "steps.csv", index=False)
    result["heating_occurred"].rename("occurred_change").to_csv(
        tmp / "heating_occurred.csv", index_label="season")
    if "sensitivity" in result:
        result["sensitivity"].to_csv(tmp / "sensitivity.csv")
        result["intervals"].to_csv(tmp / "parameters.csv", index=False)
    from sim.calibration.chart import calibration_figure

    fig = calibration_figure(table, result["monthly"],
                             f"{result['scenario'].name}: simulated vs published "
                             f"(scale {spec.report_scale:g}, seeds "
                             f"{', '.join(map(str, spec.report_seeds))})")
    fig.savefig(tmp / "calibration.png", dpi=150)
    fig.savefig(tmp / "calibration.svg")


#: Measures printed as counts, in millions or thousands.
_COUNTS = ("hotline_contacts", "hotline_requests", "peak_day_contacts", "heating_tickets")
_CHANGES = ("heating_change", "heating_first_day_change", "hotline_requests_change")


def _fmt(measure: str, value: float) -> str:
    if math.isnan(value):
        return "—"
    if measure in _COUNTS:
        return f"{value / 1e6:.2f} M" if value >= 1e6 else f"{value / 1e3:.1f} k"
    if measure == "theme_problems":
        return f"{value:.0f}"
    if measure == "dispatch_minutes":
        return f"{value:.1f} min"
    return f"{100 * value:+.1f} %" if measure in _CHANGES else f"{100 * value:.1f} %"


def _fmt_error(measure: str, relative: bool, value: float) -> str:
    if math.isnan(value):
        return "—"
    if measure == "dispatch_minutes":
        return f"{value:+.1f} min"
    return f"{100 * value:+.1f} %" if relative else f"{100 * value:+.1f} pt"


def _print_table(table, sensitivity, rules) -> None:
    from rich import box
    from rich.table import Table

    from sim.calibration.targets import TOLERANCES
    from sim.cli import _console

    t = Table(box=box.SIMPLE_HEAD, title="Published vs simulated")
    for name in ("measure", "period", "area", "published", "simulated", "95 % interval",
                 "error", "tolerance", "result", "role"):
        t.add_column(name, justify="left" if name in ("measure", "area", "role", "result")
                     else "right")
    for row in table.itertuples():
        interval = (f"{_fmt(row.measure, row.ci95_low)} – {_fmt(row.measure, row.ci95_high)}"
                    if not math.isnan(row.ci95_low) else "—")
        t.add_row(row.measure, row.period, row.area or "", _fmt(row.measure, row.published),
                  _fmt(row.measure, row.simulated), interval,
                  _fmt_error(row.measure, TOLERANCES[row.measure].relative, row.error),
                  row.tolerance, row.result, row.role)
    console = _console()
    console.print(t)
    if sensitivity is not None:
        s = Table(box=box.SIMPLE_HEAD, title="Sensitivity: change of each target, in units of "
                  "its tolerance, when a parameter moves by 10 % of its range")
        s.add_column("target")
        for col in sensitivity.columns:
            s.add_column(col, justify="right")
        for key, row in sensitivity.iterrows():
            s.add_row(key, *["—" if math.isnan(v) else f"{v:+.2f}" for v in row])
        console.print(s)


def _print_checks(result) -> None:
    from sim.cli import _console

    console = _console()
    table = result["table"]
    for role in ("fitted", "held out"):
        rows = table[table["role"] == role]
        judged = rows[rows["result"] != "—"]
        console.print(f"{role}: {int((judged['result'] == 'pass').sum())} of {len(judged)} "
                      f"pass" + (f" ({len(rows) - len(judged)} not comparable)"
                                 if len(rows) > len(judged) else ""), markup=False)
    steps = result["steps"]
    unexplained = steps[steps["dated_event"] == ""]
    console.print(f"monthly rate moves above 8 points: {len(steps)}, "
                  f"{len(unexplained)} without a dated event"
                  + "".join(f"\n  {r.rate} {r.month}: {100 * r.move:+.1f} pt"
                            for r in unexplained.itertuples()), markup=False)
    for season, change in result["heating_occurred"].items():
        console.print(f"heating problems occurring, {season} against the season before: "
                      f"{100 * change:+.1f} %", markup=False)
    if "intervals" in result:
        console.print("parameters (95 % interval, Gauss-Newton at the values):", markup=False)
        for r in result["intervals"].itertuples():
            console.print(f"  {r.parameter}: {r.value:.4g} [{r.ci95_low:.4g}, "
                          f"{r.ci95_high:.4g}]" + ("" if r.pinned else "  (not pinned down)"),
                          markup=False)
