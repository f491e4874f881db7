"""The per-problem table on disk: written as cases become final, read back in problem order.

A streamed run (`sim.ledger`) hands each day's final problems to a `ProblemWriter`, which keeps
them in a Parquet file rather than in memory. Cases become final out of order (a problem of
last month may close today), so rows are grouped by blocks of problem ids (`BLOCK`): each row
group holds rows of one block, and a block's rows are read back together and put in id order.
So the whole table, or a copy of it in `Result.save`, is made one block at a time, in the order
the table of a run that kept every row has, and nothing but one block is in memory at once.

The file holds the plain columns (`sim.ledger.problem_rows`: labels as codes, flags as
-1/0/1); `ProblemFile.read` makes the table a result shows (`sim.ledger.problem_frame`). The
file lives in a temporary folder removed with the `ProblemFile` (or at exit), unless the run
was given a folder of its own.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.ledger import problem_frame

#: Problem ids per block (row groups hold rows of one block).
BLOCK = 1 << 20
#: Rows of a block kept before they are written as a row group, and rows kept in all.
FLUSH_ROWS, HELD_ROWS = 1 << 17, 1 << 20
_OPTIONS = {"compression": "lz4", "use_dictionary": False, "write_statistics": False}


class ProblemWriter:
    """Writes plain problem rows (`columns`, `pid` among them) to `folder` (None: a
    temporary folder) as they come, grouped by blocks of ids."""

    def __init__(self, columns: tuple[str, ...], empty: dict[str, np.ndarray],
                 folder: Path | None = None):
        self.columns = tuple(dict.fromkeys(("pid", *columns)))
        self.shown = tuple(columns)  # the table's columns (without `pid` if not asked for)
        self.folder = Path(tempfile.mkdtemp(prefix="govsim-problems-")) if folder is None \
            else Path(folder)
        self.temporary = folder is None
        self.path = self.folder / "problems.rows.parquet"
        self.schema = pa.schema([(name, pa.from_numpy_dtype(empty[name].dtype))
                                 for name in self.columns])
        self.empty = {name: empty[name] for name in self.columns}
        self._writer = pq.ParquetWriter(self.path, self.schema, **_OPTIONS)
        self._held: dict[int, list[dict[str, np.ndarray]]] = {}
        self._held_rows: dict[int, int] = {}
        self.blocks: list[int] = []  # the block of each row group, in the file's order
        self.rows = 0

    def add(self, rows: dict[str, np.ndarray]) -> None:
        pid = rows["pid"]
        if not len(pid):
            return
        block = pid // BLOCK
        blocks = np.unique(block).tolist()
        for b in blocks:
            part = rows if len(blocks) == 1 else \
                {name: values[block == b] for name, values in rows.items()}
            self._held.setdefault(b, []).append(part)
            self._held_rows[b] = self._held_rows.get(b, 0) + len(part["pid"])
            if self._held_rows[b] >= FLUSH_ROWS:
                self._flush(b)
        while sum(self._held_rows.values()) > HELD_ROWS:
            self._flush(max(self._held_rows, key=self._held_rows.__getitem__))

    def _flush(self, block: int) -> None:
        parts = self._held.pop(block)
        n = self._held_rows.pop(block)
        table = pa.table({name: np.concatenate([p[name] for p in parts])
                          for name in self.columns}, schema=self.schema)
        self._writer.write_table(table, row_group_size=n)
        self.blocks.append(block)
        self.rows += n

    def close(self, labels: dict[str, tuple[str, ...]]) -> ProblemFile:
        for block in sorted(self._held):
            self._flush(block)
        self._writer.close()
        return ProblemFile(self.path, self.blocks, self.shown, labels, self.rows, self.empty,
                           self.folder if self.temporary else None)


class ProblemFile:
    """A run's problem table on disk (see the module); `read()` makes it a DataFrame."""

    def __init__(self, path: Path, blocks: list[int], columns: tuple[str, ...],
                 labels: dict[str, tuple[str, ...]], rows: int, empty: dict[str, np.ndarray],
                 temporary: Path | None = None):
        self.path, self.blocks, self.columns = Path(path), list(blocks), tuple(columns)
        self.labels, self.rows, self.empty = labels, rows, empty
        if temporary is not None:  # the folder goes with this object, or at exit
            weakref.finalize(self, shutil.rmtree, temporary, True)

    def __len__(self) -> int:
        return self.rows

    def chunks(self) -> Iterator[dict[str, np.ndarray]]:
        """The plain rows, a block at a time, in id order."""
        groups: dict[int, list[int]] = {}
        for i, block in enumerate(self.blocks):
            groups.setdefault(block, []).append(i)
        source = pq.ParquetFile(self.path)
        names = tuple(dict.fromkeys(("pid", *self.columns)))
        for block in sorted(groups):
            table = source.read_row_groups(groups[block], columns=list(names),
                                           use_threads=False)
            pid = table["pid"].to_numpy()
            order = np.argsort(pid, kind="stable")
            yield {name: table[name].to_numpy()[order] for name in self.columns}

    def frames(self) -> Iterator[pd.DataFrame]:
        """The table, a block at a time, in id order (at least one, maybe empty)."""
        empty = True
        for rows in self.chunks():
            empty = False
            yield problem_frame(rows, self.labels)
        if empty:
            yield problem_frame({name: self.empty[name] for name in self.columns}, self.labels)

    def read(self) -> pd.DataFrame:
        """The whole table, in memory."""
        parts = list(self.chunks())
        if not parts:
            return problem_frame({name: self.empty[name] for name in self.columns},
                                 self.labels)
        return problem_frame({name: np.concatenate([p[name] for p in parts])
                              for name in self.columns}, self.labels)

    def write_parquet(self, path: Path) -> None:
        """The table as one Parquet file, as `DataFrame.to_parquet(path, index=False)` writes
        it, a block at a time."""
        writer = None
        try:
            for frame in self.frames():
                table = pa.Table.from_pandas(frame, preserve_index=False,
                                             schema=None if writer is None else writer.schema)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()

    def write_csv(self, path: Path) -> None:
        """The table as CSV, as `DataFrame.to_csv(path, index=False)` writes it."""
        with open(path, "w", encoding="utf-8", newline="") as f:
            for i, frame in enumerate(self.frames()):
                frame.to_csv(f, index=False, header=i == 0)


class SavedTable:
    """A problem table saved by `Result.save`, read when first asked for."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.rows = pq.ParquetFile(self.path).metadata.num_rows

    def __len__(self) -> int:
        return self.rows

    def read(self) -> pd.DataFrame:
        return pd.read_parquet(self.path)

    def write_parquet(self, path: Path) -> None:
        shutil.copyfile(self.path, path)

    def write_csv(self, path: Path) -> None:
        self.read().to_csv(path, index=False)
