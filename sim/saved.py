"""Reading a saved run back (`sim.Result.load`, `govsim brief --from`): every file of the folder
is input, checked as a scenario file is, and a problem is an `InputError` naming the file.

- each table (`problems.parquet`, ...) must be a Parquet file with the columns the readers use,
  of the right kind (numbers, text, dates), checked from the file's schema before any data is
  read, and small enough to fit in the memory free (from the file's own account of its size);
  the summary must be one row;
- `scenario.yaml` is read with the guards of every scenario file (size, UTF-8, duplicate keys,
  alias bombs, nesting: `sim.inputs`) and validated as one (`sim.scenario.loader.validate`);
- `meta.json` must be a JSON object of bounded size and nesting.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError, among
from sim.inputs import MAX_FILE_BYTES, check_depth, read_text

#: Largest meta.json read (a run's is a few kB).
MAX_META_BYTES = 10_000_000
#: Text columns of each table (every other required column holds numbers, `daily.date` a date).
_TEXT = {"problems": ("category", "district", "street", "channel", "outcome"),
         "summary": ("scenario", "regime", "overload"),
         "units_daily": ("unit_type", "name"), "rankings": ("class", "unit_name"),
         "daily": ()}
#: Columns that may hold either (a seed beyond 64 bits is saved as its digits).
_EITHER = {"seed"}
UNIT_COLUMNS = ("unit", "unit_type", "name", "day", "arrivals", "completions", "backlog",
                "staff", "busy_hours", "overtime_hours", "utilisation")
RANKING_COLUMNS = ("month", "unit", "class", "unit_name", "score")


def required_columns() -> dict[str, tuple[str, ...]]:
    """The columns each saved table must have (those the readers of a result use)."""
    from sim.results import DAILY_COLUMNS, PROBLEM_COLUMNS, SUMMARY_COLUMNS

    return {"problems": tuple(PROBLEM_COLUMNS), "units_daily": UNIT_COLUMNS,
            "rankings": RANKING_COLUMNS, "daily": tuple(DAILY_COLUMNS),
            "summary": tuple(SUMMARY_COLUMNS)}


def read_saved(folder: Path) -> tuple[dict[str, pd.DataFrame], Any, dict[str, Any]]:
    """The tables, scenario and meta of a saved run, each file checked (module docstring). The
    problem table is checked, not read (`Result.problems` reads it when first asked for: a
    long run's is larger than memory); `tables` has the others."""
    if not folder.is_dir():
        raise InputError(str(folder), None, "the folder of a saved run (sim.Result.save, "
                         "govsim run)", "a file" if folder.exists() else "no such folder")
    tables = {name: read_table(folder / f"{name}.parquet", name, columns,
                               read=name != "problems")
              for name, columns in required_columns().items()}
    tables.pop("problems")
    if len(tables["summary"]) != 1:
        raise InputError(str(folder / "summary.parquet"), None, "one row (a run's measures)",
                         f"{len(tables['summary'])} rows")
    scenario = read_scenario(folder / "scenario.yaml")
    meta = read_meta(folder / "meta.json")
    return tables, scenario, meta


def read_table(path: Path, kind: str, columns: tuple[str, ...],
               read: bool = True) -> pd.DataFrame | None:
    """A saved Parquet table with at least `columns`, each of its kind (`read=False`: only
    checked, None)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = str(path)
    if not path.is_file():
        raise InputError(file, None, f"the {kind} table of a saved run (Parquet)",
                         "not a file" if path.exists() else "no such file")
    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except (OSError, ValueError, pa.ArrowException) as err:  # ArrowInvalid is a ValueError
        raise InputError(file, None, "a Parquet table written by govsim", _first(err)) \
            from None
    for name in columns:
        if name not in schema.names:
            raise InputError(file, name, f"a column of the {kind} table, "
                             + among(list(columns), name), "no such column")
        if meta.num_rows:  # an empty column has no kind to speak of (a run without ranking)
            _check_kind(file, kind, name, schema.field(name).type)
    if not read:
        return None
    _check_memory(file, meta)
    try:  # on this thread: a saved run's tables are small, and a thread pool that cannot
        # start (a process near its memory limit) would fail or wait for ever
        table = pq.read_table(path, use_threads=False, pre_buffer=False)
        return table.to_pandas(use_threads=False)
    except (OSError, ValueError, TypeError, MemoryError, pa.ArrowException) as err:
        raise InputError(file, None, "a Parquet table written by govsim", _first(err)) \
            from None


def _check_kind(file: str, kind: str, name: str, arrow: Any) -> None:
    import pyarrow as pa

    if pa.types.is_dictionary(arrow):
        arrow = arrow.value_type
    text = pa.types.is_string(arrow) or pa.types.is_large_string(arrow) \
        or pa.types.is_null(arrow)
    number = pa.types.is_integer(arrow) or pa.types.is_floating(arrow) \
        or pa.types.is_boolean(arrow) or pa.types.is_null(arrow)
    if name in _EITHER:
        ok, wanted = text or number, "numbers or text"
    elif name == "date":
        ok, wanted = pa.types.is_timestamp(arrow) or pa.types.is_date(arrow), "dates"
    elif name in _TEXT[kind]:
        ok, wanted = text, "text"
    else:
        ok, wanted = number, "numbers"
    if not ok:
        raise InputError(file, name, f"a column of {wanted}", str(arrow))


def _check_memory(file: str, meta: Any) -> None:
    """The table, as its file accounts for it, fits in the memory free now."""
    size = sum(max(0, meta.row_group(i).total_byte_size) for i in range(meta.num_row_groups))
    free = _free_memory()
    if free is not None and size > free:
        raise InputError(file, None, f"a table that fits in the memory free "
                         f"({free / 1e9:.1f} GB)", f"{size / 1e9:.1f} GB unpacked")


def _free_memory() -> int | None:
    """Bytes this process may still take: the memory available, and its own limit if set."""
    import resource

    free = _available()
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        try:  # the address space this process already takes
            used = int(Path("/proc/self/statm").read_text().split()[0]) \
                * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            used = 0
        left = max(0, soft - used)
        free = left if free is None else min(free, left)
    return free


def _available() -> int | None:
    """Memory the system can give without swapping: MemAvailable (free memory and the page
    cache it can drop; free memory alone is small on a machine that has read much), else the
    free pages."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def read_scenario(path: Path) -> Any:
    """A saved run's scenario.yaml, read and validated as any scenario file (a saved one is
    whole: it names no other file through `extends` or `as_of`)."""
    from sim.inputs import parse_yaml
    from sim.scenario.loader import validate

    file = str(path)
    data = parse_yaml(read_text(path, "scenario file (YAML)", MAX_FILE_BYTES), file)
    if not isinstance(data, dict):
        raise InputError(file, None, "a mapping of scenario fields", type(data).__name__)
    for key in ("extends", "as_of"):
        if key in data:
            raise InputError(file, key, "a saved scenario, whole (as govsim writes it: no "
                             "extends or as_of)")
    from sim.plugins import as_recorded

    with as_recorded():  # a run made with a plug-in reads back where it is not installed
        return validate(data, file)


def read_meta(path: Path) -> dict[str, Any]:
    file = str(path)
    text = read_text(path, "run description (JSON)", MAX_META_BYTES)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise InputError(file, None, "valid JSON", _first(err) or "nested too deeply") \
            from None
    if not isinstance(data, dict):
        raise InputError(file, None, "a JSON object", type(data).__name__)
    check_depth(data, file)
    return data


def _first(err: BaseException) -> str:
    text = str(err)
    return text.splitlines()[0] if text else type(err).__name__
