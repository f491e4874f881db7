"""Process pools whose workers exit when the process that made them is gone.

`govsim compare` and a sweep's local pool run simulations in worker processes. If the
coordinator is killed (`kill -9`, the OOM killer, a closed terminal) its workers must not
linger, running work nobody will read and holding its output pipe. A worker cannot tell by
asking for the coordinator's pid: a killed coordinator that its own parent has not reaped yet is
a zombie, and a zombie still has its pid (`os.kill(pid, 0)` succeeds). Nor by its parent's pid:
with the `forkserver` start method a worker's parent is the fork server, not the coordinator.

What does not depend on either is a pipe. The coordinator makes one and keeps its only write end;
each worker gets the read end and blocks reading it in a daemon thread. Nothing is ever written,
so the read returns only when every write end is closed, and the kernel closes a process's files
the moment it dies, before any reaping: the worker then exits at once. This works on every
platform and start method that passes the read end to the child (`forkserver`, `spawn`); the
simulation kernels release the GIL (numba `nogil`), so the watching thread runs even mid-run.
(`prctl(PR_SET_PDEATHSIG)` is Linux-only and follows the parent *thread*, here the fork server.)
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing.connection import Connection
from typing import Any

#: Exit status of a worker whose coordinator is gone.
ORPHAN_EXIT = 3


def _watch(alive: Connection) -> None:
    try:
        alive.recv_bytes()  # nothing is ever sent: this returns only at EOF
    except (EOFError, OSError):
        pass
    os._exit(ORPHAN_EXIT)  # the coordinator is gone (dead, zombie or not): do not linger


def _init(alive: Connection, ignore_sigint: bool, initializer: Callable[..., Any] | None,
          initargs: Sequence[Any]) -> None:
    if ignore_sigint:  # Ctrl-C goes to the whole process group; the coordinator stops us
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch, args=(alive,), daemon=True,
                     name="govsim-watch-coordinator").start()
    if initializer is not None:
        initializer(*initargs)


def start_method() -> str:
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


class WatchedPool(ProcessPoolExecutor):
    """A `ProcessPoolExecutor` (`forkserver` where available, else `spawn`) whose workers exit
    as soon as this process is gone; `preload` names modules the fork server imports once."""

    def __init__(self, workers: int, *, preload: Sequence[str] = (), ignore_sigint: bool = False,
                 initializer: Callable[..., Any] | None = None, initargs: Sequence[Any] = ()):
        method = start_method()
        context = mp.get_context(method)
        if method == "forkserver" and preload:
            context.set_forkserver_preload(list(preload))
        # the write end stays here only (not inheritable; the fork server is started with the
        # files it needs alone), the read end goes to each worker as it starts
        self._alive_reader, self._alive_writer = context.Pipe(duplex=False)
        super().__init__(workers, mp_context=context, initializer=_init,
                         initargs=(self._alive_reader, ignore_sigint, initializer,
                                   tuple(initargs)))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if wait:  # every worker has exited: the pipe is no longer needed
            self._alive_writer.close()
            self._alive_reader.close()


def as_finished(fn: Callable[..., Any], jobs: Sequence[Sequence[Any]],
                workers: int) -> Iterator[tuple[int, Any]]:
    """`fn(*job)` for each job, yielded as `(index of the job, value)` as each finishes: here,
    one after another, when `workers` is 1; else `workers` at a time in a `WatchedPool` (`fn`
    and the jobs must then pickle). Used by `govsim compare` and `sim.compare`."""
    if workers <= 1:
        for i, job in enumerate(jobs):
            yield i, fn(*job)
        return
    with WatchedPool(workers) as pool:
        futures = {pool.submit(fn, *job): i for i, job in enumerate(jobs)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
