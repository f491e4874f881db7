"""The `govsim` command: run one scenario, compare several side by side, or check files.

    govsim run hotline --days 90 --scale 0.05          # one scenario, results/hotline-seed0
    govsim compare                                      # the four presets, same seed
    govsim compare a.yaml b.yaml --set whistle.enabled=false
    govsim check my-reform.yaml hotline
    govsim presets                                      # the shipped scenarios and specs

Bad input (an `InputError`) is printed as one line, `error: file: field: expected X, got Y`, with
exit status 2 and nothing written. Every scenario is validated (its city included) before any
run starts. Results are written all or nothing: into a temporary folder next to the target,
moved into place only once everything is done; Ctrl-C leaves nothing behind (exit status 130).
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from sim.errors import InputError, shorten
from sim.inputs import parse_yaml
from sim.naming import slug, unique_names
from sim.outputs import (
    SEEDS_DIR,
    check_out,
    clean_noted,
    missing_parents,
    remove_empty,
    staged_folder,
)
from sim.outputs import umask_mode as _umask_mode
from sim.presets import PRESETS, presets_dir

if TYPE_CHECKING:  # the engine, pandas and pydantic load when a command runs, not for --help
    import pandas as pd

    from sim.city import City
    from sim.scenario.schema import Scenario

EXIT_OK, EXIT_INPUT, EXIT_INTERRUPTED = 0, 2, 130
#: Seeds `govsim compare` runs each scenario with unless told (the brief's as well).
DEFAULT_SEEDS = 3
#: The mark of a measure within seed noise of the column to its left.
NOISE_MARK = "≈"

#: Subcommands that live beside their feature: each module has `add_parser(subparsers)`, which
#: adds its parser and sets `handler=` (a function of the parsed args returning the exit status).
FEATURE_COMMANDS = ("sim.validation.cli", "sim.calibration.cli", "sim.experiments.cli",
                    "sim.briefing.cli", "sim.evidence.cli")


# ------------------------------------------------------------------------------------ options
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("govsim")
    except PackageNotFoundError:  # not installed (running from a source tree)
        return "unknown"


def whole_number(least: int, what: str | None = None):
    """An argparse `type` for whole numbers >= `least`, with a one-line message otherwise
    (`what` is expected: "a whole number >= least" unless given)."""
    expected = f"expected {what or f'a whole number >= {least}'}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}")
        return value

    return parse


_seed = whole_number(0)
_days = whole_number(1, "a whole number of days > 0")


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not (0.0 < value <= 1.0):  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}")
    return value


def _assignment(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise argparse.ArgumentTypeError(f"expected key.path=value, got {text!r}")
    try:
        value = parse_yaml(raw, None)
    except InputError as err:
        raise argparse.ArgumentTypeError(f"value of {key}: expected {err.expected}"
                                         + (f", got {shorten(err.got)}" if err.got else "")) \
            from None
    return key, value


def _common(parser: argparse.ArgumentParser, *, outputs: bool) -> None:
    parser.add_argument("--seed", type=_seed, metavar="N",
                        help="seed of the run's random numbers (default: the scenario's)")
    parser.add_argument("--days", type=_days, metavar="N", help="days to simulate")
    parser.add_argument("--scale", type=_scale, metavar="X",
                        help="share of residents simulated, in (0, 1]")
    parser.add_argument("--set", dest="sets", action="append", type=_assignment, default=[],
                        metavar="KEY.PATH=VALUE",
                        help="set any scenario field; the value is read as YAML "
                             "(--set whistle.enabled=false); may be repeated")
    if outputs:
        parser.add_argument("--out", type=Path, metavar="DIR", help="results folder")
        parser.add_argument("--csv", action="store_true",
                            help="also write every table as CSV (Parquet is always written)")


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line (and where to read more), status 2."""

    def error(self, message: str) -> Any:
        self.exit(EXIT_INPUT, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="govsim",
        description="Agent-based simulator of Beijing's grassroots-governance reforms. A FILE is "
                    "a scenario YAML file or a preset name: " + ", ".join(PRESETS) + ".")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="run one scenario and save its results",
                       description="Run one scenario, print its key measures and save every "
                                   "table (default folder: results/<name>-seed<seed>).")
    p.add_argument("file", metavar="FILE", help="scenario file or preset name")
    _common(p, outputs=True)

    p = sub.add_parser("compare", help="run several scenarios with the same seed, side by side",
                       description="Run scenarios with one seed (common random numbers) and "
                                   "print one side-by-side table (default: the four presets; "
                                   "default folder: results/compare-seed<seed>).")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="scenario files or preset names (default: " + " ".join(PRESETS) + ")")
    p.add_argument("--workers", type=whole_number(1), metavar="N",
                   help="runs at a time, each in a process of its own (default: the cores)")
    p.add_argument("--seeds", type=whole_number(1), default=DEFAULT_SEEDS, metavar="N",
                   help="seeds per scenario, from --seed up, common to all (default "
                        f"{DEFAULT_SEEDS}): the table gives their means and marks with "
                        "≈ a measure within seed noise of the column to its left")
    _common(p, outputs=True)

    p = sub.add_parser("check", help="validate scenario files without running them",
                       description="Validate scenarios (and the network files they name).")
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario files or preset names")
    _common(p, outputs=False)
    p = sub.add_parser("presets", help="list the shipped scenarios and specs, or copy them",
                       description="List the files govsim ships (scenarios, sweep and "
                                   "calibration specs) with their paths; a bare name such as "
                                   "hotline or example stands for them. --copy DIR copies them "
                                   "to a folder of your own, to edit.")
    p.add_argument("--copy", type=Path, metavar="DIR",
                   help="copy every shipped file into DIR (files already there are kept)")
    for module in FEATURE_COMMANDS:
        try:
            feature = importlib.import_module(module)
        except ModuleNotFoundError as err:  # a feature not yet in this tree
            if err.name is None or not module.startswith(err.name):
                raise
            continue
        feature.add_parser(sub)
    return parser


# ------------------------------------------------------------------------------ preparation
@dataclass
class Prepared:
    """One validated scenario, ready to run."""

    arg: str  # as the user wrote it
    path: Path  # the file it resolved to
    spec: Scenario
    city: City | None = None  # the city it runs on (shared, read-only)
    label: str = ""  # column / folder name, unique within a comparison


def _overrides(args: argparse.Namespace, seed: int | None = None) -> dict[str, Any]:
    """The command line's changes to a scenario: `--set`, then `--seed`, `--days`, `--scale`
    (a field given both ways is refused rather than one silently winning)."""
    out: dict[str, Any] = dict(args.sets)
    for key, value in (("seed", args.seed), ("days", args.days), ("scale", args.scale)):
        if value is not None and key in out:
            raise InputError(f"--{key}", f"--set {key}", f"either --{key} or --set {key}=..., "
                             "not both", out[key])
    seed = args.seed if seed is None else seed
    for key, value in (("seed", seed), ("days", args.days), ("scale", args.scale)):
        if value is not None:
            out[key] = value
    return out


def _load(arg: str, overrides: dict[str, Any]) -> Scenario:
    """Read and validate one scenario file (or preset) with the command-line overrides."""
    from sim.scenario.loader import load_scenario, resolve_path

    path = resolve_path(arg)
    if not path.exists() and Path(arg).suffix == "" and os.sep not in arg:
        raise InputError(arg, None, f"an existing scenario file or a preset name, one of "
                                    f"{list(PRESETS)} (presets live in {presets_dir()})")
    try:
        return load_scenario(arg, overrides)
    except InputError as err:
        field = err.field or ""
        given = any(field == key or field.startswith((key + ".", key + "["))
                    for key in overrides)
        if err.file is None or given:  # a value given on the command line, not in the file
            raise InputError(f"{path} (command line)", err.field, err.expected,
                             err.got) from None
        raise


def prepare(arg: str, overrides: dict[str, Any]) -> Prepared:
    """Load and fully validate one scenario, its city included (a network file is read)."""
    from sim.model import make_city
    from sim.scenario.loader import check_city, resolve_path

    spec = _load(arg, overrides)
    path = resolve_path(arg)
    try:
        city = make_city(spec.city)  # a network file or synthetic layout is read and checked
    except InputError as err:
        if err.file is None:  # a synthetic city's parameters: blame the scenario file
            raise InputError(str(path), err.field, err.expected, err.got) from None
        raise
    check_city(spec, city, str(path))  # what the model checks itself, before any run
    return Prepared(arg, path, spec, city)


def _unique_labels(items: list[Prepared]) -> None:
    for item, label in zip(items, unique_names([slug(i.spec.name) for i in items]), strict=True):
        item.label = label


# ----------------------------------------------------------------------------------- output
def _check_target(out: Path, marker: str) -> None:
    """`out` can be written, and an existing `out` is replaced only if it is an earlier result
    of the same kind (with `marker`): checked before any work."""
    check_out(out, marker)


def _fmt_num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


FORMATS: dict[str, Callable[[float], str]] = {
    "days": lambda v: f"{v / 24.0:.2f}",
    "pct": lambda v: f"{100.0 * v:.1f} %",
    "count": _fmt_num,
    "ratio": lambda v: f"{v:.2f}",
    "hours": _fmt_num,
    "half": lambda v: f"{v / 24.0:.2f}",  # hours -> days; NaN: "not reached"
    "check": lambda v: "passed" if v else "FAILED",
    "units": lambda v: f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}",  # a mean of seeds
}

UNIT_LABELS = (("street", "street offices"), ("enforcement", "enforcement teams"),
               ("department", "departments"), ("district_centre", "district centres"),
               ("hotline", "12345 hotline"))


def measure_rows(score_label: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """(section, [(label, summary column, format)]) in display order."""
    from sim.resolution import WITHIN_DAYS

    quantiles = ("mean", "median", "p90", "p99")

    def waits(prefix: str) -> list[tuple[str, str, str]]:
        return [*((f"within {d} day{'s' if d > 1 else ''}", f"{prefix}resolved_within_{d}d_share",
                   "pct") for d in WITHIN_DAYS),
                ("half resolved by (days)", f"{prefix}half_resolved_h", "half")]

    return [
        ("Resolved, all problems that arose, from occurrence", waits("")),
        ("Resolved, all problems reported or found, from report", waits("reported_")),
        ("Latency of resolved problems only, from occurrence (days)",
         [(q, f"resolved_latency_occurrence_h_{q}", "days") for q in quantiles]),
        ("Latency of resolved problems only, from report (days)",
         [(q, f"resolved_latency_report_h_{q}", "days") for q in quantiles]),
        ("Rates", [("response", "response_rate", "pct"),
                   ("resolution (of closed cases)", "resolution_rate", "pct"),
                   ("resolved, of all problems", "resolved_share", "pct"),
                   ("prevented, of all problems", "prevented_share", "pct"),
                   ("resolved or prevented", "dealt_share", "pct"),
                   ("satisfaction", "satisfaction_rate", "pct"),
                   (score_label, "score", "pct")]),
        ("Problems (real city)", [("occurred", "occurred", "count"),
                                  ("reported", "reported", "count"),
                                  ("found proactively", "found_proactively", "count"),
                                  ("prevented", "prevented", "count"),
                                  ("never reported", "never_reported", "count"),
                                  ("resolved", "resolved", "count"),
                                  ("closed unresolved", "closed_unresolved", "count"),
                                  ("still open", "still_open", "count")]),
        ("Handling", [("hand-offs per case", "handoffs_per_case", "ratio"),
                      ("bounces per case", "bounces_per_case", "ratio"),
                      ("whistled share", "whistled_share", "pct"),
                      ("overdue share", "overdue_share", "pct"),
                      ("hotline contacts", "hotline_contacts", "count")]),
        ("Staff hours worked", [(lbl, f"{u}_staff_hours", "hours") for u, lbl in UNIT_LABELS]),
        ("Utilisation", [(lbl, f"{u}_utilisation", "pct") for u, lbl in UNIT_LABELS]),
        ("Overtime hours", [(lbl, f"{u}_overtime_hours", "hours") for u, lbl in UNIT_LABELS]),
        ("End of the run", [("units overloaded", "overloaded_units", "units"),
                            *((f"backlog, {lbl}", f"{u}_end_backlog", "count")
                              for u, lbl in UNIT_LABELS),
                            ("accounting invariant", "accounting_ok", "check")]),
    ]


def overload_notes(labels: list[str], runs: list[list[pd.Series]]) -> list[str]:
    """One warning per scenario whose runs end overloaded: in how many seeds, which units and
    how much (in the first such run), and the share of all problems resolved (the resolution
    rate counts closed cases only)."""
    notes = []
    for label, rows in zip(labels, runs, strict=True):
        over = [m for m in rows if isinstance(m.get("overload"), str) and m.get("overload")]
        if not over:
            continue
        m = over[0]
        where = (f" in {len(over)} of {len(rows)} seeds (seed {m.get('seed')}: {m['overload']})"
                 if len(rows) > 1 else f": {m['overload']}")
        notes.append(f"warning: {label} ends overloaded{where}. "
                     f"{_cell(m, 'resolved_share', 'pct')} of all problems were resolved (the "
                     f"resolution rate, {_cell(m, 'resolution_rate', 'pct')}, counts closed "
                     "cases only)")
    return notes


def _cell(measures: pd.Series, column: str, fmt: str) -> str:
    value = measures.get(column)
    if value is None:
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "not reached" if fmt == "half" else "—"
    return FORMATS[fmt](number)


def _score_label(specs: list[Scenario]) -> str:
    weights = {tuple(round(w * 100) for w in s.ranking.weights) for s in specs}
    if len(weights) == 1:
        return "score " + "/".join(str(w) for w in next(iter(weights)))
    return "score (ranking.weights)"


def measures_table(columns: list[str], measures: list[pd.Series], specs: list[Scenario],
                   marks: dict[str, set[str]] | None = None):
    """A rich table: rows = measures in human units, one column per scenario; a measure in
    `marks[column]` is marked as within seed noise of the column to its left."""
    from sim.explain import derived

    measures = [derived(m) for m in measures]
    marks = marks or {}
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("measure", no_wrap=True)
    for name in columns:
        table.add_column(escape(name), justify="right", no_wrap=True)
    sections = measure_rows(_score_label(specs))
    for i, (section, rows) in enumerate(sections):
        table.add_row(f"[bold]{section}[/bold]", *[""] * len(columns))
        for j, (label, column, fmt) in enumerate(rows):
            cells = [_cell(m, column, fmt) + (f" {NOISE_MARK}" if column in marks.get(name, ())
                                               else "  ")
                     for name, m in zip(columns, measures, strict=True)]
            table.add_row("  " + label, *cells,
                          end_section=j == len(rows) - 1 and i < len(sections) - 1)
    return table


def _console(stderr: bool = False):
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:  # piped: do not squeeze the table to 80 columns
        console = Console(stderr=stderr, highlight=False, width=max(console.width, 120))
    return console


def _title(specs: list[Scenario]) -> str:
    """What the runs have in common: seed, days (and the warm-up before them), scale."""
    parts = []
    for label, values in (("seed", {s.seed for s in specs}), ("days", {s.days for s in specs}),
                          ("scale", {s.scale for s in specs})):
        if len(values) == 1:
            v = next(iter(values))
            parts.append(f"{v} days" if label == "days" else f"{label} {v:g}")
    warmups = {s.warmup_days for s in specs}
    if len(warmups) == 1:
        w = next(iter(warmups))
        parts.append(f"after {w} warm-up days (left out of the measures)" if w
                     else "no warm-up (queues start empty)")
    else:
        parts.append("warm-up " + "/".join(str(s.warmup_days) for s in specs) + " days")
    return ", ".join(parts)


# ---------------------------------------------------------------------------------- commands
def cmd_check(args: argparse.Namespace) -> int:
    overrides = _overrides(args)
    status = EXIT_OK
    for arg in args.files:
        try:
            item = prepare(arg, overrides)
        except InputError as err:
            print(f"error: {err}", file=sys.stderr)
            status = EXIT_INPUT
            continue
        s = item.spec
        print(f"{arg}: ok ({s.name}, {s.regime}, {s.days} days, scale {s.scale:g})")
    return status


def cmd_run(args: argparse.Namespace) -> int:
    from sim import api

    item = prepare(args.file, _overrides(args))
    spec = item.spec
    out: Path = args.out or Path("results") / f"{slug(spec.name)}-seed{spec.seed}"
    _check_target(out, "summary.parquet")
    err = _console(stderr=True)
    err.print(f"running {spec.name}: {spec.days} days, scale {spec.scale:g}, seed {spec.seed}",
              style="dim", markup=False)
    started = time.perf_counter()
    result = api.run(spec, city=item.city, file=str(item.path), progress=spec.name)
    elapsed = time.perf_counter() - started
    created = missing_parents(out)
    try:
        result.save(out, csv=args.csv)
        _umask_mode(out)
    except BaseException:
        remove_empty(created)
        raise
    console = _console()
    console.print(f"[bold]{escape(spec.name)}[/bold] ({spec.regime}) — {_title([spec])}")
    console.print(measures_table([spec.name], [result.measures], [spec]))
    for note in overload_notes([spec.name], [[result.measures]]):
        console.print(note, style="bold yellow", markup=False)
    console.print(f"results written to {out} ({elapsed:.1f} s)", markup=False)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim import api
    from sim.explain import notes

    files: list[str] = list(args.files) or list(PRESETS)
    # one seed for all (common random numbers): --seed, else the first scenario's own
    seed = args.seed if args.seed is not None else _load(files[0], _overrides(args)).seed
    items = [prepare(f, _overrides(args, seed)) for f in files]  # all valid before any run
    _unique_labels(items)
    out: Path = args.out or Path("results") / f"compare-seed{seed}"
    _check_target(out, "comparison.csv")
    seeds = [seed + k for k in range(args.seeds)]

    err = _console(stderr=True)
    total = len(items) * len(seeds)
    workers = max(1, min(args.workers or os.cpu_count() or 1, total))
    err.print(f"{len(items)} scenarios x {len(seeds)} seed{'s' if len(seeds) > 1 else ''} "
              f"({', '.join(map(str, seeds))}), {workers} at a time", style="dim", markup=False)
    count = iter(range(1, total + 1))

    def done(run: api.CompareRun, _result: Any, seconds: float) -> None:
        err.print(f"[{next(count)}/{total}] {run.label}, seed {run.seed}, done in {seconds:.1f} s",
                  style="dim", markup=False)

    with staged_folder(out) as tmp:
        comparison = api.compare({i.label: i.spec for i in items}, seed=seed, seeds=args.seeds,
                                 workers=workers, progress=True, folder=tmp, csv=args.csv,
                                 on_run=done)
        labels = comparison.names  # in the order given
        rows = comparison.runs
        table, diffs = comparison.means, comparison.differences
        means = {lbl: table[lbl] for lbl in labels}
        table.to_csv(tmp / "comparison.csv")
        each = pd.concat([r.rename(f"{lbl} seed {s}") for lbl in labels
                          for s, r in zip(seeds, rows[lbl], strict=True)], axis=1)
        each.index.name = "measure"
        each.to_csv(tmp / "comparison_seeds.csv")
        diffs.to_csv(tmp / "differences.csv", index=False)
    console = _console()
    specs = [i.spec for i in items]
    marks = {lbl: set(diffs.loc[(diffs["scenario"] == lbl) & (diffs["within_noise"] == True),
                                "measure"]) for lbl in labels}
    what = f"mean of {len(seeds)} seeds" if len(seeds) > 1 else "one seed"
    console.print(f"[bold]Comparison[/bold] — {_title(specs)}, {what} (common random numbers)")
    console.print(measures_table(labels, [means[lbl] for lbl in labels], specs, marks))
    for note in overload_notes(labels, [rows[lbl] for lbl in labels]):
        console.print(note, style="bold yellow", markup=False)
    for note in notes(labels, means, diffs):
        console.print(note, markup=False)
    if len(seeds) > 1:
        console.print(f"{NOISE_MARK}: within seed noise of the column to its left (the 95 % "
                      f"interval of the paired difference over {len(seeds)} seeds includes 0)",
                      markup=False)
    else:
        console.print("one seed: differences are not tested against seed noise (--seeds 3)",
                      markup=False)
    console.print(f"results written to {out} (one folder per scenario, the other seeds under "
                  f"{SEEDS_DIR}/, comparison.csv: means, differences.csv)", markup=False)
    return EXIT_OK


def cmd_presets(args: argparse.Namespace) -> int:
    from sim.presets import KINDS, copy_to, shipped

    if args.copy is not None:
        written = copy_to(args.copy)
        print(f"{len(written)} files copied into {args.copy}"
              + ("" if written else " (all were there already)"))
        return EXIT_OK
    print(f"shipped with govsim, in {presets_dir()}:")
    for kind in KINDS:
        print(f"  {kind + ':':13s}" + "  ".join(shipped(kind)))
    return EXIT_OK


COMMANDS = {"run": cmd_run, "compare": cmd_compare, "check": cmd_check,
            "presets": cmd_presets}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `govsim` and `python -m sim`; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error (status 2)
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_INPUT)
    clean_noted()  # what killed commands left half-written, wherever they wrote
    try:
        handler = COMMANDS.get(args.command) or args.handler
        return handler(args)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        # run/compare write all or nothing; feature commands say what they kept themselves
        print("\ninterrupted" + (": nothing was written" if args.command in COMMANDS else ""),
              file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
