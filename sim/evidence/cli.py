"""The evidence commands: each reform's effect taken apart into its mechanisms (`decompose`), what
each reform did for Beijing's history (`counterfactual`), and which assumptions each preset
difference rests on (`robustness`). Each is a durable sweep: the same command resumes.

    govsim decompose                       # the three steps, 5 seeds, 1:1, a year
    govsim decompose hotline --seeds 3 --scale 0.1 --days 180
    govsim counterfactual                  # the history without each reform, 5 seeds, 1:1
    govsim counterfactual --remove hotline --move hotline=2020-01-01
    govsim robustness                      # one at a time, Morris, then Sobol' (scale 0.1)
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

MEASURE_HELP = ("measure the printed table and the chart show (default: the share of all "
                "problems resolved within 7 days); every measure is in the tables")


def _sobol_samples(text: str) -> int:
    """--samples: base samples of a Sobol' design whose indices mean something (a power of 2,
    at least `MIN_SOBOL_SAMPLES`), refused as an option rather than later as a design."""
    from sim.experiments.spec import MIN_SOBOL_SAMPLES

    expected = f"expected a power of 2 >= {MIN_SOBOL_SAMPLES} (Sobol' base samples)"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{expected}, got {text!r}") from None
    if value < MIN_SOBOL_SAMPLES or value & (value - 1):
        raise argparse.ArgumentTypeError(f"{expected}, got {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    _decompose_parser(sub)
    _counterfactual_parser(sub)
    _robustness_parser(sub)


def _shared(p: argparse.ArgumentParser, seeds: int, seeds_help: str, out: str,
            scale_help: str) -> None:
    """The options every evidence command has: replications and their root seed, the scale,
    overrides, the folder, where the runs go."""
    from sim.cli import _assignment, _scale, _seed, whole_number
    from sim.experiments.cli import add_backend_arguments

    p.add_argument("--seeds", type=whole_number(2), default=seeds, metavar="N",
                   help=f"{seeds_help} (common random numbers; default {seeds})")
    p.add_argument("--seed", type=_seed, default=0, metavar="N",
                   help="root seed: the replications' seeds derive from it (default 0)")
    p.add_argument("--scale", type=_scale, metavar="X",
                   help=f"share of residents simulated (default: {scale_help})")
    p.add_argument("--set", dest="sets", action="append", type=_assignment, default=[],
                   metavar="KEY.PATH=VALUE", help="set a field of every run (may repeat)")
    p.add_argument("--out", type=Path, default=Path("results") / out, metavar="DIR",
                   help=f"folder for the runs and tables (default results/{out})")
    add_backend_arguments(p, "the runs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _decompose_parser(sub: argparse._SubParsersAction) -> None:
    from sim.cli import _days

    p = sub.add_parser(
        "decompose", help="take each reform's effect apart into its mechanisms (Shapley)",
        description="Run every subset of each reform's mechanisms on the calibrated city (the "
                    "presets' ladder: whistle over fragmented, hotline over whistle, proactive "
                    "over hotline), on common seeds, and give each mechanism's share of the "
                    "reform's effect (Shapley value; alone; last) with 95 %% intervals over "
                    "seeds. Runs are saved as they finish: the same command resumes. Writes "
                    "effects.csv, mechanisms.csv and decomposition.png/.svg. See "
                    "docs/evidence.md.")
    p.add_argument("steps", nargs="*", metavar="REFORM",
                   help="reforms of the ladder to take apart (default: whistle hotline "
                        "proactive)")
    p.add_argument("--days", type=_days, metavar="N", help="days to simulate (default: the "
                                                           "presets', 365)")
    p.add_argument("--measure", default=None, metavar="NAME", help=MEASURE_HELP)
    _shared(p, 5, "replications", "decompose", "the presets', 1:1")
    p.set_defaults(handler=_finished(handle))


def _counterfactual_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "counterfactual", help="the calibrated history with a reform removed or moved",
        description="Run the calibrated 2018-2025 history as it happened and with each named "
                    "reform removed (or moved to another date), on common seeds, and give the "
                    "published measures year by year with each variant's difference and its "
                    "95 %% interval over seeds. Writes counterfactual.csv; the same command "
                    "resumes. See docs/evidence.md.")
    p.add_argument("--remove", action="append", metavar="REFORM",
                   help="a reform (or reform.mechanism) to take out of the history, one "
                        "variant each (may repeat; default: whistle, hotline, devolved_powers, "
                        "proactive, unless --move is given)")
    p.add_argument("--move", action="append", type=_move, metavar="REFORM=DATE",
                   help="a reform brought in at another date instead (may repeat)")
    _shared(p, 5, "replications", "counterfactual", "the history's, 1:1")
    p.set_defaults(handler=_finished(handle_counterfactual))


def _robustness_parser(sub: argparse._SubParsersAction) -> None:
    from sim.cli import _days, whole_number

    p = sub.add_parser(
        "robustness", help="which assumed values each preset difference rests on",
        description="Vary the assumed parameters (sim/data/parameters.csv, their documented "
                    "ranges) around the calibrated city and read the differences of "
                    "consecutive presets: one at a time at each end of its range (can one "
                    "assumption alone reverse a difference?), Morris screening, then Sobol' "
                    "indices of those that matter. Writes oat.csv, morris.csv, sobol.csv and "
                    "robustness.csv; the same command resumes. See docs/evidence.md.")
    p.add_argument("--stages", nargs="+", choices=("oat", "morris", "sobol"),
                   default=["oat", "morris", "sobol"], help="stages to run (default: all)")
    p.add_argument("--trajectories", type=whole_number(2), default=8, metavar="N",
                   help="Morris trajectories (default 8)")
    p.add_argument("--samples", type=_sobol_samples, default=64, metavar="N",
                   help="Sobol' base samples, a power of 2 of at least 4 (default 64)")
    p.add_argument("--top", type=whole_number(1), default=8, metavar="K",
                   help="parameters Morris ranks highest that Sobol' analyses (default 8)")
    p.add_argument("--days", type=_days, metavar="N", help="days of each run (default 180)")
    _shared(p, 3, "replications of each one-at-a-time point", "robustness", "0.1")
    p.set_defaults(handler=_finished(handle_robustness))


def _move(text: str) -> tuple[str, Any]:
    import datetime as dt

    name, sep, date = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return name.strip(), dt.date.fromisoformat(date.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected REFORM=YYYY-MM-DD, got {text!r}") from None


def _cell(mean: float, low: float, high: float, factor: float, digits: int) -> str:
    if math.isnan(mean):
        return "—"
    text = f"{factor * mean:+.{digits}f}"
    if not (math.isnan(low) or math.isnan(high)):
        text += f" [{factor * low:+.{digits}f}, {factor * high:+.{digits}f}]"
    return text


def show(effects: Any, mechanisms: Any, measure: str) -> None:
    """The printed table: per step, its total effect and each mechanism's share."""
    from rich import box
    from rich.table import Table

    from sim.cli import _console
    from sim.evidence.chart import LABELS, _scale

    factor, unit = _scale(measure)
    digits = 1 if factor == 100.0 else 2
    console = _console()
    console.print(f"[bold]{LABELS.get(measure, measure)}[/bold]: change in {unit}, mean "
                  "[95 % interval] over seeds")
    for step, rows in mechanisms[mechanisms["measure"] == measure].groupby("step", sort=False):
        total = effects[(effects["step"] == step) & (effects["measure"] == measure)].iloc[0]
        whole = _cell(total["total"], total["total_low"], total["total_high"], factor, digits)
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left",
                      title=f"{step}: {whole} ({int(total['seeds'])} seeds)")
        table.add_column("mechanism", no_wrap=True)
        for name in ("Shapley value", "share", "alone", "last"):
            table.add_column(name, justify="right", no_wrap=True)
        for _, r in rows.iterrows():
            share = "—" if math.isnan(r["share_of_total"]) else f"{100 * r['share_of_total']:.0f} %"
            table.add_row(r["title"], _cell(r["shapley"], r["shapley_low"], r["shapley_high"],
                                            factor, digits), share,
                          _cell(r["alone"], r["alone_low"], r["alone_high"], factor, digits),
                          _cell(r["last"], r["last_low"], r["last_high"], factor, digits))
        console.print(table)
    staff = effects[effects["measure"] == "case_staff"]
    for _, r in staff.iterrows():
        console.print(f"case staff on duty, {r['step']}: {r['before']:,.0f} → {r['after']:,.0f} "
                      "(a reform moves staff; whole people round each unit)", markup=False)


def _finished(handler):
    """A handler whose sweep did not finish says so in one line and exits 1 (no table made,
    finished runs kept: the same command resumes)."""
    import functools

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        from sim.evidence.decompose import IncompleteEvidence

        try:
            return handler(args)
        except IncompleteEvidence as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
    return run


def handle(args: argparse.Namespace) -> int:
    from sim.evidence.chart import decomposition
    from sim.evidence.decompose import decompose
    from sim.evidence.measures import HEADLINE

    measure = args.measure or HEADLINE
    result = decompose(args.steps or None, seeds=args.seeds, days=args.days, scale=args.scale,
                       seed=args.seed, out=args.out, workers=args.workers,
                       scheduler=args.scheduler, serial=args.serial, progress=not args.quiet,
                       overrides=dict(args.sets))
    if measure not in set(result.effects["measure"]):
        from sim.errors import InputError, among

        raise InputError("--measure", None, "a measure of the tables, " + among(
            sorted(set(result.effects["measure"])), [measure]), measure)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    show(result.effects, result.mechanisms, measure)
    fig = decomposition(result.effects, result.mechanisms, measure,
                        note="Bars: mean over seeds; whiskers: 95 % intervals (t, seeds - 1 "
                             "degrees of freedom), seed noise at fixed parameters. "
                             "govsim decompose")
    for ext in ("png", "svg"):
        fig.savefig(args.out / f"decomposition.{ext}")
    print(f"tables and chart written to {args.out} (effects.csv, mechanisms.csv, "
          "decomposition.png)")
    return 0


def handle_counterfactual(args: argparse.Namespace) -> int:
    from sim.cli import _console
    from sim.evidence.counterfactual import counterfactual

    result = counterfactual(args.remove, args.move, seeds=args.seeds, scale=args.scale,
                            seed=args.seed, out=args.out, workers=args.workers,
                            scheduler=args.scheduler, serial=args.serial,
                            progress=not args.quiet, overrides=dict(args.sets))
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    console = _console()
    t = result.table
    show = t[t["measure"] == "resolved_within_7d_share"]
    for variant, rows in show.groupby("variant", sort=False):
        cells = [f"{int(r.year)} {100 * r.difference:+.1f}" for r in rows.itertuples()]
        console.print(f"{variant}: share of problems resolved within 7 days, change in "
                      f"percentage points by year: " + ", ".join(cells), markup=False)
    print(f"table written to {args.out / 'counterfactual.csv'} (every measure, year and "
          "variant, with 95 % intervals over seeds)")
    return 0


def handle_robustness(args: argparse.Namespace) -> int:
    from sim.evidence.robustness import robustness

    result = robustness(args.out, stages=tuple(args.stages), seeds=args.seeds,
                        trajectories=args.trajectories, samples=args.samples, top=args.top,
                        seed=args.seed, days=args.days, scale=args.scale,
                        overrides=dict(args.sets), workers=args.workers,
                        scheduler=args.scheduler, serial=args.serial, progress=not args.quiet)
    s = result.summary
    for _, r in s[s["measure"] == "resolved_within_7d_share"].iterrows():
        difference = r.get("difference", math.nan)
        parts = []
        if isinstance(difference, float) and not math.isnan(difference):  # the oat stage ran
            reversed_by = r.get("reversed_by")
            parts += [f"{100 * difference:+.1f} points", "reversed by: " + (
                reversed_by if isinstance(reversed_by, str) and reversed_by else "none alone")]
        for name in ("morris", "sobol"):
            share = r.get(f"{name}_same_sign_share")
            if share is not None and not (isinstance(share, float) and math.isnan(share)):
                parts.append(f"{name}: same sign at {100 * share:.0f} % of sampled points")
        print(f"{r['step']}: " + "; ".join(parts))
    print(f"tables written to {args.out} (robustness.csv, oat.csv, morris.csv, sobol.csv)")
    return 0
