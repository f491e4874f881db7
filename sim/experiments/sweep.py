"""`run_sweep` and `load_sweep`: run a spec to a results folder, resume it, read it back.

    >>> from sim.experiments import run_sweep, load_sweep
    >>> res = run_sweep("example", "results/sweeps/example")  # doctest: +SKIP
    >>> load_sweep("results/sweeps/example").summary                                # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError
from sim.experiments import analysis
from sim.experiments.design import ANALYSIS_KEY, stream_seed
from sim.experiments.execute import Backend, make_backend
from sim.experiments.plan import Plan, make_plan, resolve
from sim.experiments.spec import LoadedSpec, load_spec, measures_function, parse_spec
from sim.experiments.store import MANIFEST, PLAN, SweepFolder, dumps, write_atomic, write_frame
from sim.provenance import code_version

RESULTS_ROOT = Path("results") / "sweeps"
#: Spec fields whose change makes a folder's records belong to another sweep.
PLAN_FIELDS = ("scenarios", "set", "parameters", "design", "replications", "seed", "measures",
               "keep_tables")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("govsim", "numpy", "numba", "pandas", "mesa", "SALib", "distributed"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "-"
    return out


def _manifest(plan: Plan) -> dict[str, Any]:
    spec = plan.loaded.spec
    design = plan.design
    return {
        "format": 1,
        "name": plan.loaded.name,
        "description": spec.description,
        "spec_file": str(Path(plan.loaded.file).absolute()),
        "spec": spec.model_dump(mode="json"),
        "fingerprint": plan.fingerprint,
        "code": code_version(),
        "runs": len(plan),
        "distinct_runs": int(plan.table["run_id"].nunique()),
        "scenarios": plan.labels,
        "baseline": plan.labels[0],
        "scenario_data": {e.label: e.base for e in plan.entries},
        "parameters": design.names,
        "design": {"method": design.method, "points": len(design.points),
                   "samples": spec.design.samples, "levels": spec.design.levels,
                   "second_order": spec.design.second_order, "problem": design.problem},
        "replications": spec.replications,
        "seed": spec.seed,
        "seeds": plan.seeds,
        "outcomes": spec.outcomes,
        "measures": spec.measures,
        "keep_tables": spec.keep_tables,
        "created": _now(),
        "status": "running",
        "versions": _versions(),
    }


def _what_changed(old: dict[str, Any], new: dict[str, Any]) -> str:
    changed = [k for k in PLAN_FIELDS if old.get("spec", {}).get(k) != new["spec"].get(k)]
    if changed:
        return "its " + ", ".join(changed) + (" have" if len(changed) > 1 else " has") + \
            " changed"
    return "a scenario file it uses has changed"


def _plan_files(plan: Plan) -> dict[str, bytes]:
    """The files that say what the sweep is, beside its manifest."""
    import io

    files = {"spec.yaml": plan.loaded.text.encode(), "points.json": dumps(plan.design.points)}
    buffer = io.BytesIO()
    plan.table.to_parquet(buffer, index=False)
    files[PLAN] = buffer.getvalue()
    if plan.design.raw is not None:
        buffer = io.BytesIO()
        pd.DataFrame(plan.design.raw, columns=plan.design.names).to_parquet(buffer, index=False)
        files["design.parquet"] = buffer.getvalue()
    return files


PLAN_KEYS = ["run_id", "scenario", "point", "replication"]


def _same_plan(stored: pd.DataFrame, plan: Plan) -> bool:
    """A stored plan table lists the same runs, in the same order, as `plan`."""
    if not set(PLAN_KEYS) <= set(stored.columns):
        return False
    a = stored[PLAN_KEYS].astype(str).reset_index(drop=True)
    return a.equals(plan.table[PLAN_KEYS].astype(str).reset_index(drop=True))


def _rebuild(plan: Plan, folder: SweepFolder, why: str, notices: list[str]) -> dict[str, Any]:
    """A sweep folder whose manifest is missing or damaged gets it back from the spec, if the
    folder is this spec's sweep: its plan lists the same runs or, without a readable plan,
    every record it holds is one of this plan's runs. Otherwise nothing is touched."""
    where = f"{folder.path} ({MANIFEST} {why})"
    stored = folder.read_frame(PLAN)
    ids = set(plan.table["run_id"])
    if stored is not None and not _same_plan(stored, plan):
        raise InputError(plan.loaded.file, None, f"the sweep in {where}, to rebuild its "
                         f"manifest: its {PLAN} lists other runs than this spec; use another "
                         f"--out folder, or delete {folder.path} to start over")
    held = folder.record_ids()
    if stored is None and (held - ids or not held & ids):
        raise InputError(plan.loaded.file, None, f"the sweep in {where}, to rebuild its "
                         f"manifest: {len(held - ids)} of its {len(held)} run records are not "
                         f"runs of this spec; use another --out folder, or delete {folder.path} "
                         "to start over")
    for name, data in _plan_files(plan).items():
        write_atomic(folder.path / name, data)
    manifest = _manifest(plan)
    manifest["rebuilt"] = {"at": manifest["created"], "why": f"{MANIFEST} {why}"}
    folder.runs_dir.mkdir(exist_ok=True)
    folder.write_manifest(manifest)
    basis = "plan matches" if stored is not None else "run records match"
    notices.append(f"{MANIFEST} in {folder.path} was {why}: rebuilt from {plan.loaded.file} "
                   f"(the folder's {basis} this spec); finished runs whose records check out "
                   "are kept")
    return manifest


def _repair(plan: Plan, folder: SweepFolder) -> None:
    """Plan files of this sweep that are missing or damaged are written again."""
    files = _plan_files(plan)
    stored = folder.read_frame(PLAN)
    if stored is None or not _same_plan(stored, plan):
        write_atomic(folder.path / PLAN, files[PLAN])
    if "design.parquet" in files and folder.read_frame("design.parquet") is None:
        write_atomic(folder.path / "design.parquet", files["design.parquet"])
    try:
        json.loads((folder.path / "points.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        write_atomic(folder.path / "points.json", files["points.json"])
    if not (folder.path / "spec.yaml").is_file():
        write_atomic(folder.path / "spec.yaml", files["spec.yaml"])


def _open(plan: Plan, folder: SweepFolder, notices: list[str]) -> dict[str, Any]:
    """Create the folder, or check that the sweep in it is this one (rebuilding a damaged
    manifest); returns the manifest. An existing folder is locked before it is touched."""
    manifest = _manifest(plan)
    if not folder.looks_like_sweep():
        folder.create(manifest, _plan_files(plan))
        folder.lock()
        return manifest
    folder.lock()
    old, why = folder.read_manifest()
    if old is None:
        return _rebuild(plan, folder, why, notices)
    if old.get("fingerprint") != plan.fingerprint:
        raise InputError(plan.loaded.file, None, f"the sweep already in {folder.path}, to "
                         f"resume it ({_what_changed(old, manifest)} since it started); use "
                         f"another --out folder, or delete {folder.path} to start over")
    if old.get("code") != manifest["code"]:
        raise InputError(str(folder.path), None, "runs computed by this version of govsim "
                         f"(the sweep started with different code: {old.get('code')}, now "
                         f"{manifest['code']}; mixing them would mix results); use another "
                         "--out folder, or delete it to start over")
    _repair(plan, folder)
    manifest["created"] = old.get("created", manifest["created"])
    if "rebuilt" in old:
        manifest["rebuilt"] = old["rebuilt"]
    return manifest


@dataclass
class SweepResult:
    """A sweep's tables. `runs`: one row per run (inputs, status, outcomes); `summary`: mean and
    95 % CI per scenario, design point and outcome; `differences`: paired differences from the
    baseline scenario; `indices`: Sobol'/Morris indices when the design asks for them."""

    folder: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    indices: pd.DataFrame | None = None
    indices_s2: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # why runs of the last attempt did not finish

    @property
    def counts(self) -> dict[str, int]:
        status = self.runs["status"].astype(str)
        return {k: int((status == k).sum()) for k in ("ok", "failed", "pending")}

    @property
    def complete(self) -> bool:
        return self.counts["pending"] == 0

    @property
    def failures(self) -> pd.DataFrame:
        """The runs that raised, with their inputs and error (traceback in `traceback`)."""
        cols = [c for c in self.runs.columns[:self.runs.columns.get_loc("status")]]
        return self.runs.loc[self.runs["status"] == "failed", [*cols, "error", "traceback"]]

    @property
    def outcomes(self) -> list[str]:
        return analysis.measures(self.runs, self.manifest["parameters"],
                                 self.manifest.get("outcomes"))

    def scenario(self, run: int):
        """The full scenario of run number `run`, to rerun it (e.g. `sim.run(res.scenario(7))`)."""
        row = self.runs.iloc[run]
        base = self.manifest["scenario_data"][row["scenario"]]
        points = json.loads((self.folder / "points.json").read_text())
        return resolve(base, points[int(row["point"])], int(row["seed"]))

    def rerun(self, run: int):
        """Run number `run` again with all its tables (the same numbers, on the same code)."""
        import sim

        if self.manifest.get("code") != code_version():
            warnings.warn("govsim's code changed since this sweep ran: the rerun may differ",
                          stacklevel=2)
        return sim.run(self.scenario(run))

    @classmethod
    def load(cls, folder: str | Path) -> SweepResult:
        return load_sweep(folder)


def _tables(folder: SweepFolder, manifest: dict[str, Any], plan_table: pd.DataFrame,
            records: dict[str, dict[str, Any]]) -> SweepResult:
    params = manifest["parameters"]
    labels = manifest["scenarios"]
    runs = analysis.runs_table(plan_table, records)
    outcomes = analysis.measures(runs, params, manifest.get("outcomes"))
    summary = analysis.summary_table(runs, params, outcomes, labels)
    differences = analysis.differences_table(runs, params, outcomes, labels)
    raw = folder.read_frame("design.parquet")
    indices, indices_s2, notes = analysis.indices_tables(
        runs, manifest["design"], None if raw is None else raw.to_numpy(float), outcomes, labels,
        stream_seed(manifest["seed"], ANALYSIS_KEY))
    wanted = manifest.get("outcomes") or []
    missing = [o for o in wanted if o not in outcomes]
    if missing and (runs["status"] == "ok").any():
        notes.insert(0, f"outcomes not found among the runs' numeric measures: {missing}")
    return SweepResult(folder.path, manifest, runs, summary, differences, indices, indices_s2,
                       notes)


def _write_tables(folder: SweepFolder, result: SweepResult) -> None:
    """The consolidated tables, each written atomically, then the manifest that vouches for them."""
    write_frame(result.runs, folder.path / "runs.parquet")
    write_frame(result.summary, folder.path / "summary.parquet", csv=True)
    if len(result.manifest["scenarios"]) > 1:
        write_frame(result.differences, folder.path / "differences.parquet", csv=True)
    if result.indices is not None:
        write_frame(result.indices, folder.path / "indices.parquet", csv=True)
    if result.indices_s2 is not None:
        write_frame(result.indices_s2, folder.path / "indices_s2.parquet", csv=True)
    folder.write_manifest(result.manifest)


def _valid_records(folder: SweepFolder, plan_ids: set[str], code: str | None) \
        -> dict[str, dict[str, Any]]:
    return {r["run_id"]: r for r in folder.records()
            if r["run_id"] in plan_ids and (code is None or r.get("code") == code)}


def load_sweep(folder: str | Path) -> SweepResult:
    """A sweep's results folder as tables; a sweep still running or interrupted is read from its
    finished runs (`res.complete` is False and `runs.status` says which are pending)."""
    store = SweepFolder(folder)
    if not store.looks_like_sweep():
        raise InputError(str(folder), None, "a sweep results folder (with sweep.json), made by "
                         "`govsim sweep SPEC`")
    manifest = store.manifest()  # a damaged one: the message says how to rebuild it
    plan_table = store.read_frame(PLAN)
    if plan_table is None:
        raise InputError(str(store.path / PLAN), None, "the plan of the sweep; running the "
                         "sweep's spec again with --out pointing here writes it again",
                         "missing or damaged")
    read = store.read_frame
    runs = read("runs.parquet") if manifest.get("status") == "complete" else None
    summary = read("summary.parquet") if runs is not None else None
    if runs is not None and summary is not None:  # else (running, interrupted, a damaged
        empty = pd.DataFrame()                    # table): the tables are made from the records
        return SweepResult(store.path, manifest, runs, summary,
                           read("differences.parquet") if len(manifest["scenarios"]) > 1
                           else empty, read("indices.parquet"), read("indices_s2.parquet"),
                           list(manifest.get("notes", [])))
    records = _valid_records(store, set(plan_table["run_id"]), manifest.get("code"))
    return _tables(store, manifest, plan_table, records)


def _spec(spec: str | Path | dict[str, Any] | LoadedSpec) -> LoadedSpec:
    if isinstance(spec, LoadedSpec):
        return spec
    if isinstance(spec, dict):
        return parse_spec(spec)
    return load_spec(spec)


def default_folder(loaded: LoadedSpec) -> Path:
    return RESULTS_ROOT / loaded.name


def check_measures(loaded: LoadedSpec, allow_import: bool) -> None:
    """The spec's `measures` function is imported (it is code) only when the user allows it."""
    ref = loaded.spec.measures
    if ref is None:
        return
    if not allow_import:
        raise loaded.error("measures", "--allow-import to import and run the code it names "
                           "(a sweep imports no module by default)", ref)
    measures_function(ref, loaded)


def _describe(backend: Backend) -> str:
    if backend.name == "dask":
        return f"Dask at {getattr(backend, 'address', '?')} ({backend.workers} threads)"
    if backend.name == "serial":
        return "this process"
    return f"{backend.workers} local worker processes"


def run_sweep(spec: str | Path | dict[str, Any] | LoadedSpec, out: str | Path | None = None, *,
              workers: int | None = None, scheduler: str | None = None, serial: bool = False,
              retry_failed: bool = False, progress: bool = True,
              allow_import: bool = False) -> SweepResult:
    """Run (or resume) a sweep and return its tables.

    `out` defaults to `results/sweeps/<name>`. Runs go to a local process pool of `workers`
    processes (default: every core), to this process with `serial=True`, or to the Dask
    scheduler at `scheduler`. Each finished run is saved at once; calling again with the same
    spec and folder skips finished runs (failed ones too, unless `retry_failed`). Ctrl-C stops
    the workers and keeps every finished run. A spec naming `measures: module:function` runs
    that code: it is imported only with `allow_import=True` (`govsim sweep --allow-import`).
    """
    loaded = _spec(spec)
    check_measures(loaded, allow_import)
    plan = make_plan(loaded)  # everything is validated before the folder is touched
    folder = SweepFolder(out if out is not None else default_folder(loaded))
    folder.check_target()
    backend = make_backend(workers, scheduler, serial)  # a bad scheduler fails before writing
    notices: list[str] = []
    try:
        manifest = _open(plan, folder, notices)
    except BaseException:
        backend.close(cancel=True)
        folder.unlock()
        raise
    try:
        folder.clean_temporary()
        code = manifest["code"]
        records = _valid_records(folder, set(plan.table["run_id"]), code)
        if folder.rejected:
            n = len(folder.rejected)
            notices.append(f"{n} run record{'s' if n > 1 else ''} in {folder.runs_dir} failed "
                           f"{'their' if n > 1 else 'its'} checksum (altered or damaged; first: "
                           f"{folder.rejected[0]}): {'those runs run' if n > 1 else 'it runs'} "
                           "again")
        for notice in notices:  # said even with progress off: the folder was not as left
            print(f"note: {notice}", file=sys.stderr)
        done = {k for k, r in records.items() if not (retry_failed and r["status"] == "failed")}
        tables = str(folder.tables_dir.absolute()) if loaded.spec.keep_tables else None
        if tables:
            folder.tables_dir.mkdir(exist_ok=True)
        todo = sorted(set(plan.table["run_id"]) - done)
        lost: list[str] = []
        if progress:
            spec_ = loaded.spec
            print(f"sweep {loaded.name}: {len(plan)} runs ({len(plan.entries)} scenarios × "
                  f"{len(plan.design.points)} design points × {spec_.replications} "
                  f"replications) → {folder.path}", file=sys.stderr)
            if done:
                print(f"resuming: {len(done)} finished runs kept, {len(todo)} to run",
                      file=sys.stderr)
        manifest["status"] = "running"
        folder.write_manifest(manifest)
        with backend:
            _execute(backend, plan.tasks(done, tables), len(todo), folder, records, lost, code,
                     progress, loaded.name)
        result = _tables(folder, manifest, plan.table, records)
        counts = result.counts
        manifest.update(status="complete" if result.complete else "incomplete", counts=counts,
                        updated=_now(), notes=result.notes)
        result.manifest = manifest
        result.lost = lost
        result.notes = [*notices, *result.notes]
        _write_tables(folder, result)
        if lost:
            warnings.warn(f"sweep {loaded.name} is incomplete: {len(lost)} runs could not finish "
                          f"(first: {lost[0]}); {counts['ok']} ran, {counts['pending']} are "
                          f"pending. Call run_sweep again with the same folder to run them.",
                          IncompleteSweepWarning, stacklevel=2)
        return result
    finally:
        folder.unlock()


class IncompleteSweepWarning(RuntimeWarning):
    """`run_sweep` returned before every run finished (workers lost, the cluster gone)."""


def _execute(backend: Backend, tasks: Any, n_todo: int, folder: SweepFolder,
             records: dict[str, dict[str, Any]], lost: list[str], code: str, progress: bool,
             name: str) -> None:
    from tqdm.auto import tqdm

    failed = 0
    if progress and n_todo:
        print(f"running {n_todo} runs on {_describe(backend)}", file=sys.stderr)
    with tqdm(total=n_todo, desc=name, unit="run", disable=not progress or not n_todo,
              file=sys.stderr, dynamic_ncols=True, smoothing=0.05) as bar:
        for task, record, error in backend.run(tasks):
            if record is not None and record.get("code") != code:
                lost.append(f"{task['run_id']}: the worker {record.get('worker')} runs other "
                            f"govsim code ({record.get('code')}, expected {code})")
            elif record is not None:
                folder.write_record(record)
                records[record["run_id"]] = record
                failed += record["status"] == "failed"
            else:
                lost.append(f"{task['run_id']}: {type(error).__name__}: {error}")
            bar.update(1)
            bar.set_postfix(failed=failed, lost=len(lost), refresh=False)


def summary_frame(result: SweepResult, outcome: str) -> pd.DataFrame:
    """One outcome's summary as a wide table: a row per scenario and design point."""
    s = result.summary[result.summary["outcome"] == outcome]
    return s.drop(columns=["outcome"]).reset_index(drop=True)


__all__ = ["SweepResult", "default_folder", "load_sweep", "run_sweep", "summary_frame"]
