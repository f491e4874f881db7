"""The results folder of a sweep: durable per-run records, resumption, and atomic tables.

    DIR/sweep.json        manifest: what the sweep is (fingerprint of the plan, code version)
    DIR/spec.yaml         the spec as it was written when the sweep started
    DIR/plan.parquet      one row per planned run: ids, scenario, point, replication, seed, inputs
    DIR/design.parquet    the sampler's matrix before rounding (for Morris and Sobol' analysis)
    DIR/runs/ID.json      one record per finished run, written as the run finishes
    DIR/tables/ID/        full tables of a run (only with `keep_tables: true`)
    DIR/runs.parquet, summary.*, differences.*, indices.*   written when the sweep ends

Every file is written to a temporary name, flushed to disk and renamed into place, so a sweep
killed at any moment leaves only whole records; a rerun skips them and runs the rest. Each record
carries a checksum (`sha256:` of its canonical JSON without that field): a record altered by
hand or damaged on disk, even one that is still valid JSON, is not trusted but run again. A
damaged or missing `sweep.json` is rebuilt from the spec by the next `govsim sweep` (see
`sim.experiments.sweep`), once the folder's plan or records show it is the same sweep.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError
from sim.outputs import check_out, staged_folder

FORMAT = 1
MANIFEST = "sweep.json"
PLAN = "plan.parquet"
#: As `sim.experiments.plan.PLAN_COLUMNS` (not imported: the plan's module is heavy).
_PLAN_COLUMNS = ("run", "run_id", "scenario", "regime", "point", "replication", "seed", "days",
                 "scale")
#: Columns of a sweep folder's tables that its readers use: a table without them is damaged.
FRAME_COLUMNS = {PLAN: _PLAN_COLUMNS,
                 "runs.parquet": (*_PLAN_COLUMNS, "status", "error"),
                 "summary.parquet": ("scenario", "regime", "point", "outcome", "n", "n_failed",
                                     "n_pending", "mean", "sd", "ci_low", "ci_high"),
                 "differences.parquet": ("scenario", "baseline", "point", "outcome", "n",
                                         "mean", "sd")}
RUNS_DIR = "runs"
TABLES_DIR = "tables"
LOCK = ".lock"
CHECKSUM = "checksum"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not supported here (e.g. Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _umask()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that `path` holds either the old or the whole new content."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~UMASK)  # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def write_frame(frame: pd.DataFrame, path: Path, csv: bool = False) -> None:
    """A table as Parquet (and CSV beside it), atomically."""
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    write_atomic(path, buffer.getvalue())
    if csv:
        write_atomic(path.with_suffix(".csv"), frame.to_csv(index=False).encode())


def dumps(data: Any) -> bytes:
    return json.dumps(data, indent=1, allow_nan=True, default=str).encode()


def checksum(record: dict[str, Any]) -> str:
    """The checksum of a record as read back from its file (every field but `checksum`)."""
    body = {k: v for k, v in record.items() if k != CHECKSUM}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=True, default=str,
                      ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class SweepFolder:
    """One sweep's folder; `open()` creates or resumes it and holds an exclusive lock."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock: Any = None
        self.rejected: list[str] = []  # record files the last `records()` did not trust

    # --------------------------------------------------------------------------- layout
    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def runs_dir(self) -> Path:
        return self.path / RUNS_DIR

    @property
    def tables_dir(self) -> Path:
        return self.path / TABLES_DIR

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def read_manifest(self) -> tuple[dict[str, Any] | None, str]:
        """The manifest, or None and why not (missing, unreadable, truncated, not a sweep's)."""
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None, "missing"
        except (OSError, ValueError) as err:
            return None, f"damaged ({type(err).__name__}: {err})"
        needed = ("fingerprint", "code", "scenarios", "parameters", "design", "seed")
        if not isinstance(data, dict) or any(k not in data for k in needed):
            return None, "damaged (not a sweep manifest)"
        return data, ""

    def manifest(self) -> dict[str, Any]:
        data, why = self.read_manifest()
        if data is None:
            raise InputError(str(self.manifest_path), None, "the manifest of a sweep; running "
                             "the sweep's spec again with --out pointing here rebuilds it (the "
                             f"spec is kept in {self.path / 'spec.yaml'})", why)
        return data

    def looks_like_sweep(self) -> bool:
        """A sweep's folder, even one whose manifest is gone: it has a plan or run records."""
        return self.exists() or self.manifest_path.exists() or (self.path / PLAN).is_file() \
            or bool(self.record_ids())

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_atomic(self.manifest_path, dumps(manifest))

    # ---------------------------------------------------------------------------- opening
    def check_target(self) -> None:
        """The folder is new, empty, or an earlier sweep; anything else is refused."""
        check_out(self.path, None, what="sweep")
        if self.path.is_dir() and not self.looks_like_sweep() and any(self.path.iterdir()):
            raise InputError(str(self.path), "--out", f"a new folder or an earlier sweep (with "
                             f"{MANIFEST}) to resume", "a folder with other files")

    def create(self, manifest: dict[str, Any], files: dict[str, bytes]) -> None:
        """Make the folder with its manifest and plan files in one rename (all or nothing)."""
        self.check_target()
        with staged_folder(self.path) as tmp:  # an existing folder is empty (checked above)
            (tmp / RUNS_DIR).mkdir()
            for name, data in files.items():
                write_atomic(tmp / name, data)
            write_atomic(tmp / MANIFEST, dumps(manifest))
        _fsync_dir(self.path.absolute().parent)

    def lock(self) -> None:
        """One sweep at a time in a folder: a second one is refused, not interleaved."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return
        handle = open(self.path / LOCK, "a")  # noqa: SIM115 - held until unlock()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise InputError(str(self.path), "--out", "a folder no other sweep is running in",
                             "locked by a running sweep") from None
        self._lock = handle

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def clean_temporary(self) -> None:
        """Half-written files of a killed attempt (never renamed into place) are removed."""
        for folder in (self.path, self.runs_dir, self.tables_dir):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    with contextlib.suppress(OSError):
                        tmp.unlink()
        if self.tables_dir.is_dir():
            import shutil

            for tmp in self.tables_dir.glob(".*"):
                if tmp.is_dir():
                    shutil.rmtree(tmp, ignore_errors=True)

    # ---------------------------------------------------------------------------- records
    def record_path(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.json"

    def write_record(self, record: dict[str, Any]) -> None:
        data = json.loads(dumps(record))  # exactly what a reader will see
        data[CHECKSUM] = checksum(data)
        write_atomic(self.record_path(record["run_id"]), dumps(data))

    def forget_record(self, run_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.record_path(run_id).unlink()

    def records(self) -> Iterator[dict[str, Any]]:
        """Every finished run's record whose checksum holds; a damaged, altered or unsigned file
        is skipped (its name goes to `rejected`) and that run will run again."""
        self.rejected = []
        if not self.runs_dir.is_dir():
            return
        for path in sorted(self.runs_dir.glob("*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.rejected.append(path.name)
                continue
            if not isinstance(record, dict) or record.get("run_id") != path.stem \
                    or record.get(CHECKSUM) != checksum(record):
                self.rejected.append(path.name)
                continue
            yield record

    def record_ids(self) -> set[str]:
        """The run ids the record files are named after, trusted or not."""
        if not self.runs_dir.is_dir():
            return set()
        return {p.stem for p in self.runs_dir.glob("*.json")}

    def read_frame(self, name: str) -> pd.DataFrame | None:
        """A table of the folder, or None if it is missing or damaged (truncated, not Parquet,
        or without the columns its readers use: `FRAME_COLUMNS`)."""
        import pyarrow as pa

        path = self.path / name
        if not path.is_file():
            return None
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError, TypeError, MemoryError, pa.ArrowException):
            return None  # pyarrow's ArrowInvalid is a ValueError
        if not set(FRAME_COLUMNS.get(name, ())) <= set(frame.columns):
            return None
        return frame
