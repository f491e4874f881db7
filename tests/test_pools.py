"""Pool workers exit when their coordinator is gone, even while it is an unreaped zombie."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

COORDINATOR = """
import os, sys, time
from sim.pools import WatchedPool
pool = WatchedPool(2)
pids = {pool.submit(os.getpid).result() for _ in range(20)}
busy = [pool.submit(time.sleep, 120) for _ in range(2)]  # workers stuck in work
print(" ".join(map(str, sorted(pids))), flush=True)
time.sleep(120)
"""


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _gone(pid: int) -> bool:
    state = _state(pid)
    if state is not None:
        return state == "Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_exit_while_the_killed_coordinator_is_a_zombie() -> None:
    proc = subprocess.Popen([sys.executable, "-c", COORDINATOR], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout is not None
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert workers and all(not _gone(p) for p in workers)
        os.kill(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while _state(proc.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _state(proc.pid) == "Z"  # not reaped: its pid is still taken
        deadline = time.monotonic() + 10
        while not all(_gone(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(_gone(p) for p in workers), "workers outlived their zombie coordinator"
        assert _state(proc.pid) == "Z"  # still a zombie while they left
    finally:
        with_group = proc.pid
        proc.kill()
        proc.wait()
        try:
            os.killpg(with_group, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_zombie_is_not_alive_for_stale_staging_cleanup() -> None:
    from sim.outputs import _alive

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while _state(child.pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(child.pid) == "Z"
    assert not _alive(child.pid)  # its staging folders can go, though it still has its pid
    child.wait()
    assert not _alive(child.pid) and _alive(os.getpid()) and _alive(os.getppid())
