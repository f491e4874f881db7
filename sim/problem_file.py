"""The per-problem table on disk: written as cases become final, read back in problem order.

A streamed run (`sim.ledger`) hands each day's final cases to a `ProblemWriter`, which keeps
them in a file rather than in memory. Cases become final out of order (a problem of last month
may close today), so rows are grouped by blocks of problem ids (`BLOCK`): each record batch
holds rows of one block, and a block's rows are read back together and put in id order. So
the whole table, or a copy of it in `Result.save`, is made one block at a time, in the order of
the table of a run that kept every row, and only one block is in memory at once.

The file holds the final cases' own columns (`sim.ledger.final_cases`, `sources` of the table's
columns); the table's other columns are made from them when read (`problem_columns`,
`problem_frame`). It is an Arrow IPC file, uncompressed: writing it costs a copy of the rows
(about 90 bytes a problem on disk, 0.05 µs a problem), where Parquet's encoding cost seven
times as much; `Result.save` writes the table as Parquet. The file lives in a temporary folder
removed with the `ProblemFile` (or at exit), unless the run was given a folder of its own.
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

from sim.ledger import Frame, problem_columns, problem_frame, sources

#: Problem ids per block (record batches hold rows of one block).
BLOCK = 1 << 20
#: Rows of a block kept before they are written as a record batch, and rows kept in all.
FLUSH_ROWS, HELD_ROWS = 1 << 16, 1 << 18


def _stored(values: np.ndarray) -> np.ndarray:
    """Flags stored as bytes (Arrow packs booleans in bits: a cost each way)."""
    return values.view(np.uint8) if values.dtype == np.bool_ else values


class ProblemWriter:
    """Writes final case rows (`sim.ledger.final_cases`) of the problem table's `columns` to
    `folder` (None: a temporary folder) as they come, grouped by blocks of ids; `empty`: those
    columns of no case (their types)."""

    def __init__(self, columns: tuple[str, ...], empty: dict[str, np.ndarray], frame: Frame,
                 folder: Path | None = None):
        self.columns, self.frame = tuple(columns), frame
        self.sources = tuple(dict.fromkeys(("pid", *sources(self.columns))))
        self.folder = Path(tempfile.mkdtemp(prefix="govsim-problems-")) if folder is None \
            else Path(folder)
        self.temporary = folder is None
        self.path = self.folder / "problems.arrow"
        self.schema = pa.schema([pa.field(name, pa.from_numpy_dtype(_stored(empty[name]).dtype),
                                          nullable=False) for name in self.sources])
        self.empty = {name: empty[name] for name in self.sources}
        self._sink = pa.OSFile(str(self.path), "wb")
        self._writer = pa.ipc.new_file(self._sink, self.schema)
        self._held: dict[int, list[dict[str, np.ndarray]]] = {}
        self._held_rows: dict[int, int] = {}
        self.blocks: list[int] = []  # the block of each record batch, in the file's order
        self.rows = 0

    def add(self, rows: dict[str, np.ndarray]) -> None:
        pid = rows["pid"]
        if not len(pid):
            return
        block = pid // BLOCK
        first, last = int(block.min()), int(block.max())
        blocks = [first] if first == last else np.unique(block).tolist()
        for b in blocks:
            part = {name: rows[name] for name in self.sources} if len(blocks) == 1 else \
                {name: rows[name][block == b] for name in self.sources}
            self._held.setdefault(b, []).append(part)
            self._held_rows[b] = self._held_rows.get(b, 0) + len(part["pid"])
            if self._held_rows[b] >= FLUSH_ROWS:
                self._flush(b)
        while sum(self._held_rows.values()) > HELD_ROWS:
            self._flush(max(self._held_rows, key=self._held_rows.__getitem__))

    def _flush(self, block: int) -> None:
        parts = self._held.pop(block)
        self.rows += self._held_rows.pop(block)
        self._writer.write_batch(pa.record_batch(
            [_stored(np.concatenate([p[name] for p in parts])) for name in self.sources],
            schema=self.schema))
        self.blocks.append(block)

    def close(self, labels: dict[str, tuple[str, ...]]) -> ProblemFile:
        for block in sorted(self._held):
            self._flush(block)
        self._writer.close()
        self._sink.close()
        return ProblemFile(self.path, self.blocks, self.columns, labels, self.rows, self.empty,
                           self.frame, self.folder if self.temporary else None)


class ProblemFile:
    """A run's problem table on disk (see the module); `read()` makes it a DataFrame."""

    def __init__(self, path: Path, blocks: list[int], columns: tuple[str, ...],
                 labels: dict[str, tuple[str, ...]], rows: int, empty: dict[str, np.ndarray],
                 frame: Frame, temporary: Path | None = None):
        self.path, self.blocks, self.columns = Path(path), list(blocks), tuple(columns)
        self.labels, self.rows, self.empty, self.frame = labels, rows, empty, frame
        if temporary is not None:  # the folder goes with this object, or at exit
            weakref.finalize(self, shutil.rmtree, temporary, True)

    def __len__(self) -> int:
        return self.rows

    def chunks(self) -> Iterator[dict[str, np.ndarray]]:
        """The table's plain rows (`sim.ledger.problem_columns`), a block at a time, in id
        order (at least one chunk, maybe empty)."""
        groups: dict[int, list[int]] = {}
        for i, block in enumerate(self.blocks):
            groups.setdefault(block, []).append(i)
        if not groups:
            yield problem_columns(dict(self.empty), self.frame, self.columns)
            return
        with pa.memory_map(str(self.path)) as source:
            reader = pa.ipc.open_file(source)
            for block in sorted(groups):
                batches = [reader.get_batch(i) for i in groups[block]]
                rows = {name: np.concatenate([b.column(name).to_numpy() for b in batches])
                        .view(empty.dtype) for name, empty in self.empty.items()}
                order = np.argsort(rows["pid"], kind="stable")
                rows = {name: values[order] for name, values in rows.items()}
                yield problem_columns(rows, self.frame, self.columns)

    def frames(self) -> Iterator[pd.DataFrame]:
        """The table, a block at a time, in id order (at least one, maybe empty)."""
        for rows in self.chunks():
            yield problem_frame(rows, self.labels)

    def read(self) -> pd.DataFrame:
        """The whole table, in memory."""
        parts = list(self.chunks())
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
