"""The fit's history: every evaluation kept as it finishes, and checked when it is read back.

A history is a CSV file (`results/.calibration.fit-history.csv` beside the results folder):
a header, then one row per evaluation with the parameters' values, the loss, the weighted
residuals it sums, the stage, scale and seeds, hashes of the objective and of the code, and a
checksum (`sha256:` of the row's other fields as written, as sweep records carry). Numbers are
written with `repr`, so a value read back is the value computed, to the last bit: a continued
fit meets exactly the points and losses an uninterrupted one computes.

Each row is appended and flushed to disk as its evaluation finishes, so a killed fit loses at
most the row being written. Read back:

- a file that is not a history of these parameters (not UTF-8 text, empty, a folder, another
  header, beyond `MAX_HISTORY_BYTES`) is moved aside whole, with one line saying so;
- a row whose checksum fails (edited by hand, cut short by a kill or a full disk) is not
  trusted: its point is evaluated again when the fit reaches it;
- a row made with other settings (scale, seeds, objective, code) is never mixed in.

Whatever is not trusted or not used is kept in a file aside (`….superseded.csv`), never deleted.
While a fit runs it holds a lock on its history, so a second fit into the same folder is
refused rather than interleaved.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from sim.errors import InputError
from sim.experiments.store import CHECKSUM, checksum

#: Largest history read back (a 1:1 fit makes a few hundred rows of about 1 kB).
MAX_HISTORY_BYTES = 100_000_000
#: Columns after the parameters' values.
TAIL = ("loss", "stage", "scale", "seeds", "objective", "code", "residuals", CHECKSUM)
_TEXT = ("stage", "seeds", "objective", "code")


def columns_for(labels: list[str]) -> list[str]:
    return [*labels, *TAIL]


def encode(row: dict[str, Any], columns: list[str]) -> dict[str, str]:
    """A row as the text written for it, checksum included (floats as `repr`: exact)."""
    text: dict[str, str] = {}
    for column in columns:
        if column == CHECKSUM:
            continue
        value = row[column]
        if column in _TEXT:
            text[column] = str(value)
        elif column == "residuals":
            text[column] = value if isinstance(value, str) else " ".join(map(_number, value))
        else:
            text[column] = _number(value)
    text[CHECKSUM] = checksum(text)
    return text


def _number(value: Any) -> str:
    return repr(float(value))


def decode(fields: dict[str, str], columns: list[str]) -> dict[str, Any] | None:
    """The row of a line read back, or None when it cannot be trusted (checksum, numbers)."""
    if set(fields) != set(columns) or fields[CHECKSUM] != checksum(fields):
        return None
    row: dict[str, Any] = {}
    try:
        for column in columns:
            value = fields[column]
            if column in _TEXT or column == CHECKSUM:
                row[column] = value
            elif column == "residuals":
                if not all(math.isfinite(float(v)) for v in value.split()):
                    return None
                row[column] = value
            else:
                row[column] = float(value)
                if not math.isfinite(row[column]):
                    return None
    except ValueError:
        return None
    return row if row["loss"] >= 0 else None


def residuals_of(row: dict[str, Any]) -> list[float]:
    return [float(v) for v in str(row["residuals"]).split()]


def write_rows(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """A whole history (or the fit's rows in the results folder), in the format read back."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(encode(row, columns))


def unused(path: Path) -> Path:
    """`path`, or the first of path.1, path.2 ... (before the suffix) that does not exist."""
    n = 0
    candidate = path
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
    return candidate


class FitHistory:
    """The history file of one fit, open for appending and locked while the fit runs.

    `open(accepts)` reads it back (see the module docstring) and returns the trusted rows for
    which `accepts(row)` holds; `append(row)` writes a row and flushes it to disk. Without a
    path nothing is read or written."""

    def __init__(self, path: Path | None, columns: list[str],
                 log: Callable[[str], None] = print):
        self.path = path
        self.columns = columns
        self.log = log
        self.finished = False  # set once the fit's results are written: close() removes it
        self._handle: Any = None

    # -------------------------------------------------------------------------- reading
    def open(self, accepts: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        if self.path is None:
            return []
        path = self.path
        if path.is_symlink() or (path.exists() and not path.is_file()):
            self._aside("is not a file")
        existed = path.exists()
        rows: list[dict[str, Any]] = []
        handle = self._lock()
        data = handle.read(MAX_HISTORY_BYTES + 1)
        if data:
            rows, why, dropped, other = self._parse(data, accepts)
            if why or dropped or other:
                self._rewrite(handle, data, rows, why, dropped, other)
            elif rows:
                self.log(f"continuing from {len(rows)} earlier evaluation(s) ({path})")
        elif existed:  # nothing to keep: a fit stopped as it began, or a full disk
            self.log(f"{path} is empty: starting afresh")
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            self._write(handle, self._header())
        return rows

    def _parse(self, data: bytes, accepts: Callable[[dict[str, Any]], bool],
               ) -> tuple[list[dict[str, Any]], str, int, int]:
        """Trusted rows, why the whole file is not a history ('' if it is), rows dropped for a
        failed check, rows of other settings."""
        if len(data) > MAX_HISTORY_BYTES:
            return [], f"is over {MAX_HISTORY_BYTES:,} bytes", 0, 0
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return [], "is not UTF-8 text", 0, 0
        lines = text.splitlines(keepends=True)
        if not lines or lines[0].rstrip("\r\n") != self._header().rstrip("\n"):
            return [], "has another header (other parameters, or not a fit history)", 0, 0
        rows, dropped, other = [], 0, 0
        for line in lines[1:]:
            row = self._row(line)
            if row is None:
                dropped += 1
            elif accepts(row):
                rows.append(row)
            else:
                other += 1
        return rows, "", dropped, other

    def _row(self, line: str) -> dict[str, Any] | None:
        if not line.endswith("\n"):  # cut short by a kill or a full disk
            return None
        try:
            fields = next(csv.reader([line]))
        except (csv.Error, StopIteration):
            return None
        if len(fields) != len(self.columns):
            return None
        return decode(dict(zip(self.columns, fields, strict=True)), self.columns)

    def _rewrite(self, handle: Any, data: bytes, rows: list[dict[str, Any]], why: str,
                 dropped: int, other: int) -> None:
        """Keep the file as it was aside, and continue in this one with the trusted rows that
        match (rewritten in place: the lock stays on it)."""
        assert self.path is not None
        aside = unused(self.path.with_name(f"{self.path.stem}.superseded.csv"))
        _write_file(aside, data)
        handle.seek(0)
        handle.truncate()
        self._write(handle, self._header() + "".join(_line(encode(r, self.columns),
                                                           self.columns) for r in rows))
        if why:
            said = f"{self.path} {why}"
        else:
            parts = []
            if dropped:
                parts.append(f"{dropped} row(s) failed their check (edited or cut short: their "
                             "points are evaluated again)")
            if other:
                parts.append(f"{other} were made with other scales, seeds, targets, scenario "
                             "or engine code")
            said = f"of the {dropped + other + len(rows)} evaluations in {self.path}, " \
                   + " and ".join(parts)
        self.log(f"{said}: the file is kept as {aside}"
                 + (f"; continuing from the {len(rows)} that can be used" if rows
                    else "; starting afresh"))

    def _aside(self, why: str) -> None:
        """Move whatever is at the history's path aside (a folder, a link, a device)."""
        assert self.path is not None
        aside = unused(self.path.with_name(f"{self.path.stem}.superseded.csv"))
        try:
            os.replace(self.path, aside)
        except OSError as err:
            raise InputError(str(self.path), None, "a fit history file, or nothing there",
                             f"something else that cannot be moved aside ({err.strerror})"
                             ) from None
        self.log(f"{self.path} {why}: kept as {aside}; starting afresh")

    # -------------------------------------------------------------------------- writing
    def _lock(self) -> Any:
        assert self.path is not None
        try:
            handle = open(self.path, "a+b")  # noqa: SIM115 - held until close()
        except OSError as err:
            raise InputError(str(self.path), None, "a fit history that can be written",
                             err.strerror or str(err)) from None
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - not POSIX
            pass
        except OSError:
            handle.close()
            raise InputError(str(self.path), None, "a fit history no other fit is using",
                             "locked by a running govsim calibrate") from None
        handle.seek(0)
        self._handle = handle
        return handle

    def _header(self) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(self.columns)
        return buffer.getvalue()

    @staticmethod
    def _write(handle: Any, text: str) -> None:
        handle.write(text.encode("utf-8"))
        handle.flush()
        with contextlib.suppress(OSError):
            os.fsync(handle.fileno())

    def append(self, row: dict[str, Any]) -> None:
        """Write a row and flush it to disk; the row gets its checksum (kept or not)."""
        fields = encode(row, self.columns)
        row[CHECKSUM] = fields[CHECKSUM]
        if self._handle is not None:
            self._write(self._handle, _line(fields, self.columns))

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        """Let the history go; a `finished` fit's (its values written, its rows in the results
        folder, no error since) is removed first, while it is still locked."""
        if kind is None and self.finished and self.path is not None \
                and self._handle is not None:
            self.path.unlink(missing_ok=True)
        self.close()


def _line(fields: dict[str, str], columns: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([fields[c] for c in columns])
    return buffer.getvalue()


def _write_file(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        with contextlib.suppress(OSError):
            os.fsync(handle.fileno())
