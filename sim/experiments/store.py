"""The results folder of a sweep: durable per-run records, resumption, and atomic tables.

    DIR/sweep.json        manifest: what the sweep is (fingerprint of the plan, code version)
    DIR/spec.yaml         the spec as it was written when the sweep started
    DIR/plan.parquet      one row per planned run: ids, scenario, point, replication, seed, inputs
    DIR/design.parquet    the sampler's matrix before rounding (for Morris and Sobol' analysis)
    DIR/runs/ID.json      one record per finished run, written as the run finishes
    DIR/tables/ID/        full tables of a run (only with `keep_tables: true`)
    DIR/runs.parquet, summary.*, differences.*, indices.*   written when the sweep ends

Every file is written to a temporary name, flushed to disk and renamed into place, so a sweep
killed at any moment leaves only whole records; a rerun skips them and runs the rest.
"""

from __future__ import annotations

import contextlib
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
RUNS_DIR = "runs"
TABLES_DIR = "tables"
LOCK = ".lock"


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


class SweepFolder:
    """One sweep's folder; `open()` creates or resumes it and holds an exclusive lock."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock: Any = None

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

    def manifest(self) -> dict[str, Any]:
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as err:
            raise InputError(str(self.path), None, "a sweep results folder (with a readable "
                             f"{MANIFEST})", str(err)) from None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_atomic(self.manifest_path, dumps(manifest))

    # ---------------------------------------------------------------------------- opening
    def check_target(self) -> None:
        """The folder is new, empty, or an earlier sweep; anything else is refused."""
        check_out(self.path, None, what="sweep")
        if self.path.is_dir() and not self.exists() and any(self.path.iterdir()):
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
        write_atomic(self.record_path(record["run_id"]), dumps(record))

    def forget_record(self, run_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.record_path(run_id).unlink()

    def records(self) -> Iterator[dict[str, Any]]:
        """Every finished run's record (a damaged file is skipped: that run will run again)."""
        if not self.runs_dir.is_dir():
            return
        for path in sorted(self.runs_dir.glob("*.json")):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and record.get("run_id") == path.stem:
                yield record

    def read_frame(self, name: str) -> pd.DataFrame | None:
        path = self.path / name
        return pd.read_parquet(path) if path.is_file() else None
