"""`govsim brief`: run (or load) a regime comparison and write a briefing folder.

    govsim brief                                   # the four presets, 3 seeds, English
    govsim brief --lang zh --days 180 --scale 0.1
    govsim brief fragmented.yaml my-reform.yaml --set ranking.enabled=false
    govsim brief --from results/compare-seed0      # draw saved runs, recompute nothing

Each scenario runs with `--seeds` seeds (from `--seed` up) after a warm-up; the findings compare
the runs over all of them, the charts draw the first. Output (all or nothing, like `govsim
compare`): charts/*.png and *.svg, report.html (self-contained), report.pdf, key_figures.csv,
findings.csv, and the runs it made under results/ (the first seed's, as `govsim compare` writes
them; the other seeds' under results/seeds/<label>/seed<N>/) and surge/, which `--from` reads
back.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sim.briefing.defaults import BRIEF_WARMUP_DAYS, MIN_SEEDS
from sim.cli import (
    EXIT_OK,
    SEEDS_DIR,
    Prepared,
    _check_target,
    _common,
    _console,
    _load,
    _overrides,
    _umask_mode,
    _unique_labels,
    prepare,
    staged_folder,
    whole_number,
)
from sim.errors import InputError
from sim.languages import LANGS
from sim.outputs import seed_folder
from sim.presets import PRESETS

if TYPE_CHECKING:  # loaded when the command runs, not for --help
    import pandas as pd

    from sim.results import Result

MARKER = "report.html"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "brief", help="write a policy briefing: charts, HTML and PDF report",
        description="Run scenarios with one seed (default: the four presets) or load a "
                    "`govsim compare` folder, and write a briefing folder: every chart as PNG "
                    "and SVG, a self-contained HTML report and a PDF of the same (default "
                    "folder: results/brief-seed<seed>[-zh]).")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="scenario files or preset names (default: " + " ".join(PRESETS) + ")")
    p.add_argument("--from", dest="source", type=Path, metavar="DIR",
                   help="a folder written by `govsim compare` (or the results/ folder of a "
                        "brief): draw its saved runs instead of running anything")
    p.add_argument("--lang", choices=LANGS, default="en",
                   help="language of titles, labels and text (default: en)")
    p.add_argument("--seeds", type=whole_number(1), metavar="N",
                   help="seeds per scenario, from --seed up: the findings give their range and "
                        f"check their order over all of them (default: {MIN_SEEDS})")
    p.add_argument("--warmup-days", type=whole_number(0), metavar="N",
                   help="days simulated before the measured period, left out of the measures "
                        "(default: the scenario's own, as `govsim compare` runs it: 60 days "
                        f"for the presets; the brief warns below {BRIEF_WARMUP_DAYS})")
    p.add_argument("--no-surge", action="store_true",
                   help="skip the extra surge runs when the runs have no demand shock (the "
                        "surge chart then shows the runs as they are)")
    _common(p, outputs=True)
    p.set_defaults(handler=cmd_brief)




#: Largest comparison.csv read from a --from folder (a comparison's is a few kB).
MAX_COMPARISON_BYTES = 10_000_000


def load_compare(folder: Path) -> list[tuple[str, Result]]:
    """The saved runs of a `govsim compare` folder (or a brief's results/), in its column
    order."""
    import pandas as pd

    where = str(folder)
    if not folder.is_dir():
        raise InputError(where, "--from", "a folder written by govsim compare",
                         "a file" if folder.exists() else "no such folder")
    subs = [d for d in folder.iterdir() if d.is_dir() and (d / "summary.parquet").is_file()]
    if not subs:
        raise InputError(where, "--from", "subfolders with saved runs (summary.parquet), as "
                                          "written by govsim compare", "none")
    order: list[str] = []
    comparison = folder / "comparison.csv"
    if comparison.is_file():
        from sim.inputs import read_text

        # only its header is used (the columns' order), but a header can be the whole file
        text = read_text(comparison, "comparison table (CSV)", MAX_COMPARISON_BYTES)
        try:
            order = list(pd.read_csv(io.StringIO(text), index_col=0, nrows=0).columns)
        except (ValueError, OSError, pd.errors.ParserError):
            order = []
    subs.sort(key=lambda d: (order.index(d.name) if d.name in order else len(order), d.name))
    return [(d.name, _load_run(d)) for d in subs]


def _load_run(d: Path) -> Result:
    from sim.results import Result

    try:
        return Result.load(d)
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - a damaged folder: say which, no traceback
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(str(d), "--from", "a complete saved run (govsim run or compare)",
                         first) from None


def load_seeds(folder: Path, label: str, first: Result) -> list[pd.Series]:
    """The summary rows of every seed of run `label`: the first seed's, then those a brief saved
    under seeds/<label>/ (only runs of the same scenario, days and scale count)."""

    from sim.saved import read_table, required_columns

    rows = [first.measures]
    where = folder / SEEDS_DIR / label
    if where.is_dir():
        for d in sorted(where.iterdir(), key=lambda d: d.name):
            if (d / "summary.parquet").is_file():
                table = read_table(d / "summary.parquet", "summary",
                                   required_columns()["summary"])
                if len(table) != 1:
                    raise InputError(str(d / "summary.parquet"), None, "one row (a run's "
                                     "measures)", f"{len(table)} rows")
                m = table.iloc[0]
                if (m["scenario"], m["days"], m["scale"]) == (
                        first.measures["scenario"], first.measures["days"],
                        first.measures["scale"]):
                    rows.append(m)
    return rows


def _apart(source: Path, out: Path) -> None:
    """The brief's folder is not the saved runs' folder nor one that holds it: replacing it
    would delete the runs it is drawn from."""
    src, dst = source.resolve(), out.resolve()
    if src == dst or dst in src.parents:
        raise InputError(str(out), "--out", "a folder apart from --from's (writing the brief "
                         "there would replace the saved runs it draws)", str(source))


def _default_out(args: argparse.Namespace, seed: int | None) -> Path:
    suffix = "" if args.lang == "en" else f"-{args.lang}"
    if args.source is not None:
        return Path("results") / f"brief-{args.source.resolve().name}{suffix}"
    return Path("results") / f"brief-seed{seed}{suffix}"


def cmd_brief(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.briefing import surge as surge_test
    from sim.briefing.report import write_brief

    err = _console(stderr=True)
    items: list[Prepared] = []
    loaded: list[tuple[str, Result]] = []
    seed = None
    if args.source is not None:
        if args.files:
            raise InputError(str(args.source), "--from", "either scenario FILES or --from DIR, "
                                                        "not both", " ".join(args.files))
        given = [flag for flag, v in (("--seed", args.seed), ("--days", args.days),
                                      ("--scale", args.scale), ("--set", args.sets),
                                      ("--seeds", args.seeds is not None),
                                      ("--warmup-days", args.warmup_days is not None)) if v]
        if given:
            raise InputError(str(args.source), "--from", "no run options with --from (the "
                                                        "saved runs are drawn as they are)",
                             " ".join(given))
        loaded = load_compare(args.source)
        replications = [load_seeds(args.source, label, r) for label, r in loaded]
        if len({len(x) for x in replications}) > 1:  # unequal seeds: compare the first only
            replications = [x[:1] for x in replications]
    else:
        files: list[str] = list(args.files) or list(PRESETS)
        seed = args.seed if args.seed is not None else _load(files[0], _overrides(args)).seed
        items = [prepare(f, _overrides(args, seed)) for f in files]  # all valid before any run
        _unique_labels(items)
        replications = []
    out: Path = args.out or _default_out(args, seed)
    if args.source is not None:
        _apart(args.source, out)
    _check_target(out, MARKER)

    started = time.perf_counter()

    def say(text: str) -> None:
        err.print(text, style="dim", markup=False)

    with staged_folder(out) as tmp:
        if items:
            (tmp / "results").mkdir()
            for n, item in enumerate(items, 1):
                result, rows = _run_seeds(item, args, seed, tmp / "results", say,
                                          f"[{n}/{len(items)}]")
                loaded.append((item.label, result))
                replications.append(rows)
            raw = pd.concat([r.measures.rename(label) for label, r in loaded], axis=1)
            raw.index.name = "measure"
            raw.to_csv(tmp / "results" / "comparison.csv")
        results = [r for _, r in loaded]
        surge_runs, surge_note = None, ""
        if not args.no_surge and not surge_test.has_shocks(results):
            plan = surge_test.plan(results)
            surge_runs = surge_test.run_surge(results, plan, progress=say)
            surge_note = plan.describe(args.lang)
            (tmp / "surge").mkdir()
            for (label, _), r in zip(loaded, surge_runs, strict=True):
                r.save(tmp / "surge" / label, csv=args.csv)
        write_brief(tmp, results, lang=args.lang, replications=replications, surge=surge_runs,
                    surge_note=surge_note, progress=lambda s: say(f"      {s}"))
        for folder in tmp.rglob("*"):  # staged_folder sets the top folder's mode
            if folder.is_dir():
                _umask_mode(folder)
    console = _console()
    console.print(f"brief written to {out} in {time.perf_counter() - started:.0f} s: "
                  f"report.html, report.pdf, charts/ (PNG and SVG), key_figures.csv, "
                  f"findings.csv, steps.csv", markup=False)
    return EXIT_OK


def _run_seeds(item: Prepared, args: argparse.Namespace, seed: int, folder: Path,
               say: Callable[[str], None], counter: str) -> tuple[Result, list[pd.Series]]:
    """Run one scenario for each of the brief's seeds after its warm-up; save the first seed's
    run as `govsim compare` would and the others under seeds/<label>/. Only the first run is
    kept in memory (the charts draw it); the others give their summary rows."""
    from sim import api

    rows: list[pd.Series] = []
    first: Result | None = None
    warmup = item.spec.warmup_days if args.warmup_days is None else args.warmup_days
    for k in range(args.seeds or MIN_SEEDS):
        overrides = {**_overrides(args, seed + k), "warmup_days": warmup}
        spec = item.spec
        say(f"{counter} {item.label}: {spec.days} days after {warmup} warm-up, scale "
            f"{spec.scale:g}, seed {seed + k}")
        result = api.run(item.spec, overrides=overrides, name=spec.name, city=item.city,
                         file=str(item.path), progress=item.label)
        where = seed_folder(folder, item.label, seed + k, seed)
        result.save(where, csv=args.csv)
        rows.append(result.measures)
        if first is None:
            first = result
    assert first is not None  # --seeds is at least 1
    return first, rows
