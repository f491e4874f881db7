"""`govsim calibrate`: fit a scenario's free parameters to Beijing's published figures, or
report how well the scenario meets them.

    govsim calibrate                        # fit, write the values into the scenario
    govsim calibrate --report               # published vs simulated table + chart
    govsim calibrate --report --sensitivity # ... and which parameters move which target
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from sim.errors import InputError

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
        description="Fit the free parameters a calibration spec names (bounded Nelder-Mead on "
                    "common random numbers) and write them into its scenario; with --report, "
                    "run the scenario and compare every published figure with the simulated "
                    "one. Default spec: beijing, the shipped scenarios/calibration/beijing.yaml.")
    p.add_argument("spec", nargs="?", default=DEFAULT_SPEC, metavar="SPEC",
                   help="calibration spec (YAML), or the name of a shipped one")
    p.add_argument("--report", action="store_true",
                   help="do not fit: report published vs simulated values")
    p.add_argument("--sensitivity", action="store_true",
                   help="with --report: sensitivity of each target to each parameter")
    p.add_argument("--budget", type=int, metavar="N", help="fit evaluations at most")
    p.add_argument("--dry-run", action="store_true",
                   help="fit, but do not write the values into the scenario")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="folder for tables and the chart (default results/calibration)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.calibration import fit as calib
    from sim.calibration.targets import RULES
    from sim.cli import _check_target, _console, staged_folder

    spec, scenario_path = calib.load_spec(args.spec)
    if not args.report and not args.dry_run and installed_preset(scenario_path):
        raise InputError(str(scenario_path), None,
                         "a scenario of your own to write the fit into, not the installed "
                         "package's: `govsim presets --copy DIR`, then calibrate "
                         "DIR/calibration/beijing.yaml (or use --dry-run or --report)")
    if args.budget is not None:
        if args.budget <= 0:
            raise InputError("--budget", None, "a whole number > 0", args.budget)
        spec.budget = args.budget
    out: Path = args.out or Path("results") / "calibration"
    _check_target(out, "targets.csv")
    err = _console(stderr=True)

    def log(text: str) -> None:
        err.print(text, style="dim", markup=False)

    with staged_folder(out) as tmp:
        fitted = None
        if not args.report:
            # every evaluation is kept here as it finishes; a fit started again continues
            history_file = out.parent / f".{out.name}.fit-history.csv"
            try:
                fitted, history = calib.fit(spec, scenario_path, log, history_file)
            except KeyboardInterrupt:
                log(f"fit interrupted: its evaluations are kept in {history_file}; the same "
                    "command continues from the best of them")
                raise
            history.to_csv(tmp / "fit_history.csv", index=False)
            history_file.unlink(missing_ok=True)
            values = calib.current_values(fitted, spec.parameters)
            if not args.dry_run:
                calib.write_back(scenario_path, spec.parameters, fitted)
            table = pd.DataFrame({"parameter": [p.label for p in spec.parameters],
                                  "low": [p.low for p in spec.parameters],
                                  "high": [p.high for p in spec.parameters],
                                  "fitted": values})
            table.to_csv(tmp / "parameters.csv", index=False)
            _console().print(table.to_string(index=False), markup=False)
            log(f"best loss {history['loss'].min():.4f} after {len(history)} evaluations; "
                + ("values not written (--dry-run)" if args.dry_run
                   else f"values written into {scenario_path}"))
        # the report reads the file, unless the fitted values were not written into it
        result = calib.report(spec, scenario_path, sensitivity=args.sensitivity, log=log,
                              scenario=fitted if args.dry_run else None)
        table = result["table"]
        table.to_csv(tmp / "targets.csv", index=False)
        result["monthly"].to_csv(tmp / "monthly.csv")
        if "sensitivity" in result:
            result["sensitivity"].to_csv(tmp / "sensitivity.csv")
        from sim.calibration.chart import calibration_figure

        fig = calibration_figure(table, result["monthly"],
                                 f"{result['scenario'].name}: simulated vs published "
                                 f"(scale {spec.report_scale:g}, seeds "
                                 f"{', '.join(map(str, spec.report_seeds))})")
        fig.savefig(tmp / "calibration.png", dpi=150)
        fig.savefig(tmp / "calibration.svg")
    _print_table(table, result.get("sensitivity"), RULES)
    _console().print(f"written to {out} (targets.csv, monthly.csv, calibration.png/.svg"
                     + (", sensitivity.csv" if "sensitivity" in result else "") + ")",
                     markup=False)
    return 0


def _fmt(measure: str, value: float) -> str:
    if math.isnan(value):
        return "—"
    if measure == "hotline_contacts":
        return f"{value / 1e6:.2f} M"
    return f"{100 * value:+.1f} %" if measure == "heating_change" else f"{100 * value:.1f} %"


def _print_table(table, sensitivity, rules) -> None:
    from rich import box
    from rich.table import Table

    from sim.cli import _console

    t = Table(box=box.SIMPLE_HEAD, title="Published vs simulated")
    for name in ("measure", "period", "published", "simulated", "95 % interval", "error",
                 "role"):
        t.add_column(name, justify="left" if name in ("measure", "role") else "right")
    for row in table.itertuples():
        interval = (f"{_fmt(row.measure, row.ci95_low)} – {_fmt(row.measure, row.ci95_high)}"
                    if not math.isnan(row.ci95_low) else "—")
        t.add_row(row.measure, row.period, _fmt(row.measure, row.published),
                  _fmt(row.measure, row.simulated), interval,
                  "—" if math.isnan(row.relative_error) else f"{100 * row.relative_error:+.1f} %",
                  row.role)
    console = _console()
    console.print(t)
    if sensitivity is not None:
        s = Table(box=box.SIMPLE_HEAD, title="Sensitivity: change of each target (share of its "
                  "published value) when a parameter moves by 10 % of its range")
        s.add_column("target")
        for col in sensitivity.columns:
            s.add_column(col, justify="right")
        for key, row in sensitivity.iterrows():
            s.add_row(key, *["—" if math.isnan(v) else f"{v:+.3f}" for v in row])
        console.print(s)
