"""`govsim validate-engine`: the textbook cases, a table of theory against simulation, a chart.

    govsim validate-engine --quick            # CI size, about half a minute
    govsim validate-engine --jobs 2           # the full size (docs/validation.md), 2 processes

Writes `validation.csv`, `validation.png`, `validation.svg` and `run.json` into `--out`
(default `results/validation-seed<seed>[-quick]`), all or nothing. Exit status 1 if any check
fails (or a known issue no longer shows), 2 for bad options, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sim.validation.sizes import FULL, QUICK, Size

if TYPE_CHECKING:
    from sim.validation.cases import Case, Row

EXIT_OK, EXIT_FAILED = 0, 1
TAGS = ("mmc", "mg1", "tandem", "border", "whistle")
STATUS_STYLE = {"pass": "green", "FAIL": "bold red", "xfail": "yellow", "XPASS": "bold red"}
STATUS_COLOUR = {"pass": "#2a9d8f", "FAIL": "#d62828", "xfail": "#f4a261", "XPASS": "#d62828"}


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0.5 <= value < 1.0):
        raise argparse.ArgumentTypeError(f"expected a level in [0.5, 1), got {text!r}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `validate-engine` to the `govsim` command."""
    from sim.cli import whole_number

    p = subparsers.add_parser(
        "validate-engine", help="check the engine against queueing theory",
        description="Run textbook queueing cases (M/M/c, M/G/1, Jackson tandems street -> "
                    "district centre -> department and department -> department, a border "
                    "network, the whistle's report rule) as ordinary scenarios and compare "
                    "each measure with theory: the theoretical value must lie in the "
                    "replications' confidence interval. Prints the table and writes it "
                    "(CSV) with a chart (PNG, SVG). See docs/validation.md.")
    p.add_argument("--quick", action="store_true",
                   help=f"CI size: {QUICK.replications} replications of about "
                        f"{QUICK.customers:,} customers (default: {FULL.replications} of "
                        f"{FULL.customers:,})")
    p.add_argument("--seed", type=whole_number(0), default=0, metavar="N",
                   help="master seed; every case and replication derives its own (default 0)")
    p.add_argument("--replications", type=whole_number(2), metavar="R",
                   help="replications per case (default: by size)")
    p.add_argument("--confidence", type=_confidence, default=0.99, metavar="LEVEL",
                   help="confidence level of the intervals (default 0.99)")
    p.add_argument("--only", choices=TAGS, action="append", metavar="KIND",
                   help="run only these kinds of case (" + ", ".join(TAGS) + "); may repeat")
    p.add_argument("--jobs", type=whole_number(1), default=1, metavar="N",
                   help="processes to run replications in (default 1)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="folder for validation.csv and the chart "
                        "(default results/validation-seed<seed>[-quick])")
    p.set_defaults(handler=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.cli import _check_target, _console, staged_folder
    from sim.validation.cases import all_cases, table

    size = QUICK if args.quick else FULL
    cases = [c for c in all_cases(args.quick) if not args.only or set(c.tags) & set(args.only)]
    reps = args.replications or size.replications
    out: Path = args.out or Path("results") / (f"validation-seed{args.seed}"
                                               + ("-quick" if args.quick else ""))
    _check_target(out, "validation.csv")  # before any run: a bad --out costs nothing

    err = _console(stderr=True)
    err.print(f"validate-engine ({size.name}): {len(cases)} cases x {reps} replications, "
              f"seed {args.seed}, {args.jobs} process(es)", style="dim", markup=False)
    started = time.perf_counter()
    rows = _run(cases, size, args, reps)
    elapsed = time.perf_counter() - started

    frame = table(rows)
    with staged_folder(out) as tmp:
        frame.to_csv(tmp / "validation.csv", index=False)
        chart = figure(rows, args.confidence, f"{size.name} size, {reps} replications, seed "
                       f"{args.seed}")
        chart.savefig(tmp / "validation.png", dpi=150)
        chart.savefig(tmp / "validation.svg")
        options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                   if k not in ("handler", "command")}
        (tmp / "run.json").write_text(json.dumps({
            "options": options, "size": size.__dict__, "replications": reps, "seed": args.seed,
            "confidence": args.confidence, "cases": [c.name for c in cases],
            "elapsed_s": round(elapsed, 1), "python": platform.python_version(),
            "failed": int(sum(r.failed for r in rows)),
        }, indent=2))

    console = _console()
    if not console.is_terminal:  # piped or redirected: room for the whole table
        console = type(console)(highlight=False, width=max(console.width, 150))
    console.print(render(rows, args.confidence))
    failed = [r for r in rows if r.failed]
    known = sum(r.status == "xfail" for r in rows)
    agree = sum(r.status == "pass" for r in rows)
    console.print(f"{agree} of {len(rows)} checks agree with theory"
                  + (f" ({known} known engine issue(s), marked xfail)" if known else "")
                  + f"; results in {out} ({elapsed:.0f} s)", markup=False)
    console.print(f"Verdict: Holm's procedure over the {len(rows)} checks, so that all pass "
                  f"with probability >= {args.confidence:.0%} when the engine is right; a "
                  f"p-value below {1 - args.confidence:.2g} alone is expected in about one "
                  f"check in {1 / (1 - args.confidence):.0f}.", markup=False, style="dim")
    if failed:
        console.print(f"[bold red]{len(failed)} check(s) failed[/bold red]: "
                      + ", ".join(sorted({f"{r.case} ({r.status})" for r in failed})))
    return EXIT_FAILED if failed else EXIT_OK


def _run(cases: list[Case], size: Size, args: argparse.Namespace, reps: int) -> list[Row]:
    from tqdm.auto import tqdm

    with tqdm(total=len(cases) * reps, desc="validate-engine", unit="run", leave=False,
              disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
        def progress(case: Case, done: int, total: int) -> None:
            bar.set_postfix_str(case.title, refresh=False)
            bar.update(1)

        from sim.validation.cases import run_all

        return run_all(cases, size, seed=args.seed, confidence=args.confidence,
                       replications=reps, jobs=args.jobs, quick=args.quick, progress=progress)


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "—"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


def _p(p: float) -> str:
    if math.isnan(p):
        return "—"
    return f"{p:.3f}" if p >= 0.001 else "<0.001"


def render(rows: list[Row], confidence: float):
    """A rich table: case, measure, theory, simulated, interval, status."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Engine against queueing theory")
    for name, justify in (("case", "left"), ("measure", "left"), ("theory", "right"),
                          ("simulated", "right"), (f"{confidence:.0%} CI", "right"),
                          ("p", "right"), ("", "left")):
        t.add_column(name, justify=justify, no_wrap=True)
    previous = None
    for r in rows:
        ci = "(bound)" if math.isnan(r.low) else f"[{_fmt(r.low)}, {_fmt(r.high)}]"
        unit = f" {r.unit}" if r.unit == "h" else ""
        t.add_row(escape(r.case) if r.case != previous else "", escape(r.measure),
                  _fmt(r.theory) + unit, _fmt(r.simulated) + unit, ci, _p(r.p),
                  f"[{STATUS_STYLE[r.status]}]{r.status}[/]")
        previous = r.case
    return t


def figure(rows: list[Row], confidence: float, subtitle: str):
    """Simulated / theory for every check, with its interval: 1 is perfect agreement."""
    from matplotlib.figure import Figure

    n = len(rows)
    fig = Figure(figsize=(8.0, 1.4 + 0.24 * n), layout="constrained")
    ax = fig.add_subplot()
    lo_lim, hi_lim = 0.0, 2.0
    for i, r in enumerate(rows):
        y = n - 1 - i
        if i and r.case != rows[i - 1].case:
            ax.axhline(y + 0.5, color="#cccccc", lw=0.5)
        colour = STATUS_COLOUR[r.status]
        ratio = r.simulated / r.theory if r.theory else math.nan
        if not math.isnan(r.low):  # an interval
            lo, hi = r.low / r.theory, r.high / r.theory
            if lo < hi_lim and hi > lo_lim:
                ax.plot([max(lo, lo_lim), min(hi, hi_lim)], [y, y], color=colour, lw=2.0,
                        solid_capstyle="butt")
            if lo < lo_lim:
                ax.plot([lo_lim], [y], marker="<", color=colour, ms=5)
        marker = "D" if math.isnan(r.low) else "o"
        if ratio > hi_lim:  # off the scale: an arrow at the edge and the ratio written out
            ax.plot([hi_lim], [y], marker=">", color=colour, ms=6)
            ax.annotate(f"{ratio:.1f}x", (hi_lim, y), xytext=(-8, 0),
                        textcoords="offset points", ha="right", va="center", fontsize=6.5,
                        color=colour)
        else:
            ax.plot([max(ratio, lo_lim)], [y], marker=marker, color=colour, ms=4,
                    mec="black", mew=0.4)
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xlim(lo_lim - 0.02, hi_lim + 0.04)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{r.case} — {r.measure}" for r in reversed(rows)], fontsize=6.5)
    ax.set_xlabel(f"simulated / theory\n(bars: {confidence:.0%} confidence interval of the "
                  "replication mean; diamonds: hard bounds)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#dddddd", lw=0.5)
    title = "govsim engine against queueing theory"
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=9)
    handles = [ax.plot([], [], color=c, lw=2, label=s)[0] for s, c in STATUS_COLOUR.items()
               if any(r.status == s for r in rows)]
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=True)
    return fig
