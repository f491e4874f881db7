"""Where runs happen: in this process, on a local process pool, or on a Dask cluster.

`run_task` is what a worker does with one run: build the scenario, simulate, and send back only
the one-row summary (plus any extra measures) as plain numbers. Every backend yields the same
records, one per finished run, as runs finish; the coordinator writes each to disk at once. An
exception inside a run is part of its record (`status: failed`); a run that could not finish for
reasons outside it (a worker killed, the cluster gone) yields no record and is simply run again
when the sweep is resumed.
"""

from __future__ import annotations

import ast
import math
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from pathlib import Path
from typing import Any, Self

import numpy as np

from sim.city.shared import cached_city
from sim.errors import InputError
from sim.experiments.plan import resolve
from sim.provenance import code_version
from sim.results import SUMMARY_INPUTS as INPUT_COLUMNS  # the run's inputs, not outcomes
from sim.results import TEXT_COLUMNS


# ---------------------------------------------------------------------------------- the worker
def _number(value: Any) -> float | int | str | bool | None:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if value is None:
        return None
    return str(value)


def outcomes_of(result: Any, measures: str | None,
                fn: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """The run's measures as plain numbers: the summary row, then any extra measures (`fn`:
    the function `measures` names, if already imported)."""
    row = result.summary.iloc[0]
    out = {k: _number(v) for k, v in row.items()  # text (`overload`) is said in numbers too
           if k not in INPUT_COLUMNS and k not in TEXT_COLUMNS}
    if measures:
        if fn is None:
            from sim.experiments.spec import measures_function

            fn = measures_function(measures)
        extra = fn(result)
        if not isinstance(extra, dict) or not all(isinstance(k, str) for k in extra):
            raise TypeError(f"{measures} must return a dict of named numbers, got "
                            f"{type(extra).__name__}")
        for key, value in extra.items():
            if key in INPUT_COLUMNS or key in TEXT_COLUMNS:
                raise ValueError(f"{measures} returned {key!r}, a name reserved for inputs")
            if not isinstance(value, int | float | np.integer | np.floating | bool | np.bool_):
                raise TypeError(f"{measures} returned {key}={value!r}: expected a number")
            out[key] = _number(value)
    return out


def _reads_problems(task: dict[str, Any], fn: Callable[[Any], Any] | None) -> bool:
    """Whether a run keeps its problem table: only where something reads it (saved tables, a
    measures function `fn` that does not say `reads_problems = False`)."""
    if task.get("tables"):
        return True
    return fn is not None and bool(getattr(fn, "reads_problems", True))


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run one task (see `Plan.tasks`) and return its record; exceptions become `failed`."""
    from sim import api

    started = time.perf_counter()
    record: dict[str, Any] = {"run_id": task["run_id"], "code": code_version(),
                              "worker": f"{socket.gethostname()}:{os.getpid()}"}
    sim_s = math.nan
    try:
        scenario = resolve(task["base"], task["params"], task["seed"])
        city = cached_city(scenario.city)
        fn = None
        if task.get("measures"):  # imported once: it may be a file the spec names
            from sim.experiments.spec import measures_function

            fn = measures_function(task["measures"])
        t0 = time.perf_counter()
        result = api.run(scenario, city=city, problems=_reads_problems(task, fn))
        sim_s = time.perf_counter() - t0
        outcomes = outcomes_of(result, task.get("measures"), fn)
        if task.get("tables"):
            saved = result.save(Path(task["tables"]) / task["run_id"], csv=False)
            mask = os.umask(0)
            os.umask(mask)
            saved.chmod(0o777 & ~mask)  # made by mkdtemp (0700)
        record.update(status="ok", outcomes=outcomes, error=None, traceback=None)
    except Exception as err:  # noqa: BLE001 - a run that raises is a result; the sweep goes on
        record.update(status="failed", outcomes={}, error=f"{type(err).__name__}: {err}",
                      traceback=traceback.format_exc())
    record["sim_s"] = sim_s
    record["wall_s"] = time.perf_counter() - started
    return record


# -------------------------------------------------------------------------------- the backends
class Backend:
    """Runs tasks and yields `(task, record, None)` or, when a run was lost, `(task, None, err)`.

    `fn` is what a worker does with a task (`run_task`: a sweep's run); any module-level
    function of a task dict will do (the calibration's evaluations use their own)."""

    name = "serial"
    workers = 1

    def run(self, tasks: Iterable[dict[str, Any]], fn: Callable[[dict[str, Any]], Any] = run_task,
            ) -> Iterator[tuple[dict, Any, BaseException | None]]:
        for task in tasks:
            yield task, fn(task), None

    def close(self, cancel: bool = False) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.close(cancel=kind is not None)


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _is_main_guard(test: ast.expr) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = {ast.dump(side) for side in (test.left, test.comparators[0])}
    return sides == {ast.dump(ast.Name("__name__", ast.Load())), ast.dump(ast.Constant("__main__"))}


def unguarded_script() -> str | None:
    """The main script's path when this call comes from its top-level code outside an
    `if __name__ == "__main__":` block, else None.

    Worker processes started by `spawn` or `forkserver` (every platform's default but Linux's
    `fork`) import the main script again before they run anything: a sweep started from its
    unguarded top level would start again in every worker, and the workers die. Interactive
    sessions (Jupyter, the REPL, `python -c`) have no script and are never affected.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path or not str(path).endswith(".py"):
        return None
    name = getattr(getattr(main, "__spec__", None), "name", None) or ""
    if name == "__main__" or name.endswith(".__main__"):  # `python -m package`: not re-imported
        return None
    frame = sys._getframe(1)
    line = None
    while frame is not None:  # the outermost frame running the script's own top level
        if frame.f_code.co_name == "<module>" and frame.f_globals is vars(main):
            line = frame.f_lineno
        frame = frame.f_back
    if line is None:
        return None
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    for node in ast.walk(tree):
        if (isinstance(node, ast.If) and _is_main_guard(node.test) and node.body
                and node.body[0].lineno <= line <= (node.body[-1].end_lineno or line)):
            return None
    return str(path)


class LocalPool(Backend):
    """A pool of worker processes on this machine (`forkserver` where available). Workers
    leave Ctrl-C to the coordinator, which stops them, and exit as soon as it is gone, even a
    zombie (see `sim.pools`)."""

    name = "local pool"

    def __init__(self, workers: int | None = None):
        from sim.pools import WatchedPool

        self.workers = workers or default_workers()
        script = unguarded_script()
        if script is not None:
            raise InputError(script, None,
                             'the sweep started under `if __name__ == "__main__":` (worker '
                             "processes import this script again before they run, so a sweep "
                             "at its top level would start again in each of them); or pass "
                             "serial=True to run in this process")
        self.executor = WatchedPool(self.workers, ignore_sigint=True,
                                    preload=["sim.experiments.execute", "sim.model"])

    def run(self, tasks: Iterable[dict[str, Any]], fn: Callable[[dict[str, Any]], Any] = run_task,
            ) -> Iterator[tuple[dict, Any, BaseException | None]]:
        pending: dict[Future, dict] = {}
        source = iter(tasks)
        window = 2 * self.workers
        broken = False

        def refill() -> tuple[dict, BaseException] | None:
            """Keep `window` tasks submitted; return a task the pool refused, if any."""
            while not broken and len(pending) < window:
                task = next(source, None)
                if task is None:
                    return None
                try:
                    pending[self.executor.submit(fn, task)] = task
                except BrokenExecutor as err:  # a worker died since the last `wait`
                    return task, err
            return None

        refused = refill()
        while pending or refused:
            if refused:
                broken = True
                yield refused[0], None, refused[1]
                refused = None
                continue
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    yield task, future.result(), None
                except Exception as err:  # noqa: BLE001 - BrokenProcessPool: a worker died
                    broken = True
                    yield task, None, err
            refused = refill()

    def close(self, cancel: bool = False) -> None:
        if cancel:
            self.executor.shutdown(wait=False, cancel_futures=True)
            terminate = getattr(self.executor, "terminate_workers", None)  # Python >= 3.14
            if terminate is not None:
                terminate()
            else:
                for process in list((getattr(self.executor, "_processes", None) or {}).values()):
                    process.terminate()
        self.executor.shutdown(wait=True, cancel_futures=cancel)


SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def check_address(address: str) -> None:
    """A scheduler address looks like `tcp://host:8786` (scheme, host, port 1-65535)."""
    from urllib.parse import urlsplit

    expected = f"the address of a Dask scheduler, SCHEME://HOST:PORT with SCHEME one of " \
               f"{', '.join(SCHEMES)} (e.g. tcp://127.0.0.1:8786)"
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        raise InputError(None, "--scheduler", expected, address) from None
    if parts.scheme not in SCHEMES or not parts.hostname or " " in address \
            or (parts.scheme != "inproc" and not port) or parts.path not in ("", "/"):
        raise InputError(None, "--scheduler", expected, address)


#: Seconds to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT = 10.0


class DaskCluster(Backend):
    """An existing Dask distributed scheduler; its workers must have the same govsim installed."""

    name = "dask"

    def __init__(self, address: str, timeout: float | None = None):
        check_address(address)  # before any connection attempt
        from distributed import Client

        try:
            self.client = Client(address, timeout=timeout or CONNECT_TIMEOUT,
                                 set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise InputError(None, "--scheduler", "the address of a running Dask scheduler "
                             f"(e.g. tcp://127.0.0.1:8786): {err}", address) from None
        self.address = address
        self.workers = max(1, sum(self.client.nthreads().values()))
        self.pending: dict[str, Any] = {}

    def run(self, tasks: Iterable[dict[str, Any]], fn: Callable[[dict[str, Any]], Any] = run_task,
            ) -> Iterator[tuple[dict, Any, BaseException | None]]:
        from distributed import as_completed

        source = iter(tasks)
        window = max(1000, 4 * self.workers)  # enough queued work for an adaptive cluster
        futures = as_completed(loop=self.client.loop)
        by_key: dict[str, dict] = {}

        def submit() -> bool:
            task = next(source, None)
            if task is None:
                return False
            future = self.client.submit(fn, task, key=f"govsim-run-{task['run_id']}",
                                        pure=False, retries=0)
            by_key[future.key] = task
            self.pending[future.key] = future
            futures.add(future)
            return True

        while len(by_key) < window and submit():
            pass
        for future in futures:
            task = by_key.pop(future.key)
            self.pending.pop(future.key, None)
            if future.status == "finished":
                yield task, future.result(), None
            else:  # a worker lost too often (KilledWorker), a cancelled task, a missing package
                yield task, None, future.exception()
            future.release()
            submit()

    def close(self, cancel: bool = False) -> None:
        if cancel and self.pending:
            try:
                self.client.cancel(list(self.pending.values()))
            except Exception:  # noqa: BLE001, S110 - the cluster may be gone already
                pass
        self.client.close()


def make_backend(workers: int | None = None, scheduler: str | None = None,
                 serial: bool = False) -> Backend:
    if scheduler:
        return DaskCluster(scheduler)
    if serial:
        return Backend()
    if workers is not None and workers < 1:
        raise InputError(None, "--workers", "a whole number of worker processes >= 1", workers)
    return LocalPool(workers)
