"""Tests of sweeps: the spec's errors, designs and seeds, the three backends giving identical
results, durability (kill -9, Ctrl-C, a lost worker, resume), failed runs, summaries and
sensitivity indices, and the plain-function entry point.

Sweeps are tiny (an 8-street synthetic city, a few days): each run takes a few hundredths of a
second. The Dask tests start a real scheduler with two worker processes on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

import sim
from sim import cli, provenance
from sim.errors import InputError
from sim.experiments import evaluate, load_spec, load_sweep, model_function, run_sweep
from sim.experiments import execute as execute_module
from sim.experiments.analysis import TIMING_COLUMNS
from sim.experiments.design import replication_seed
from sim.experiments.plan import make_plan
from sim.experiments.store import SweepFolder
from sim.presets import presets_dir
from tests.conftest import SMALL_CITY
from tests.experiments_helpers import FAILING_RATE, write_spec

REPO = Path(__file__).resolve().parents[1]
#: A spec's extra measures, named by the file that holds them (the tests folder is the working
#: folder, which a module name never reaches).
HELPERS = f"{REPO / 'tests' / 'experiments_helpers.py'}:fail_when_busy"


def same_results(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Two runs tables are identical apart from timings and worker names."""
    pd.testing.assert_frame_equal(a.drop(columns=list(TIMING_COLUMNS)),
                                  b.drop(columns=list(TIMING_COLUMNS)))


def govsim(*argv: str) -> int:
    return cli.main(list(argv))


def spec_error(tmp_path: Path, **fields) -> InputError:
    path = write_spec(tmp_path, **fields)
    with pytest.raises(InputError) as info:
        make_plan(load_spec(path))
    assert info.value.file == str(path)
    return info.value


@pytest.fixture(scope="module")
def serial_sweep(tmp_path_factory: pytest.TempPathFactory):
    """The reference sweep, run in this process; other tests compare against it."""
    folder = tmp_path_factory.mktemp("serial")
    spec = write_spec(folder)
    return spec, run_sweep(spec, folder / "out", serial=True, progress=False)


# ------------------------------------------------------------------------------ spec errors
def test_unknown_parameter_path_names_spec_and_field(tmp_path: Path) -> None:
    err = spec_error(tmp_path, parameters={"demand.base_rate": {"values": [1, 2]}})
    assert err.field == "parameters.demand.base_rate"
    assert "known field" in err.expected


def test_parameter_value_out_of_bounds(tmp_path: Path) -> None:
    err = spec_error(tmp_path, parameters={"whistle.report_window_minutes": {"values": [30, 0]}})
    assert err.field == "parameters.whistle.report_window_minutes"
    assert "> 0" in err.expected and err.got == 0


def test_range_checked_at_both_ends(tmp_path: Path) -> None:
    err = spec_error(tmp_path, design={"method": "lhs", "samples": 4},
                     parameters={"reporting.propensity": {"low": 0.2, "high": 1.5}})
    assert err.field == "parameters.reporting.propensity" and err.got == 1.5


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"scenarios": []}, "scenarios", "at least 1"),
    ({"replication": 3}, "replication", "known field of a sweep spec"),
    ({"replications": 0}, "replications", ">= 1"),
    ({"design": {"method": "sobol", "samples": 6}}, "design", "power of 2"),
    ({"design": {"method": "lhs"}}, "design", "samples"),
    ({"design": "factorial"}, "design.method", "grid"),
    ({"parameters": {"demand.rate_per_10k_per_day": {"values": [1], "low": 1, "high": 2}}},
     "parameters.demand.rate_per_10k_per_day", "not both"),
    ({"parameters": {"demand.rate_per_10k_per_day": {"low": 3, "high": 2}}},
     "parameters.demand.rate_per_10k_per_day", "low < high"),
    ({"parameters": {"seed": {"values": [1, 2]}}}, "parameters.seed", "replications"),
    ({"set": {"seed": 3}}, "set.seed", "root `seed`"),
    ({"set": {"days": 8, "whistle.report_windw": 3}}, "set.whistle.report_windw",
     "known field"),
    ({"scenarios": ["fragmented", "no-such-scenario"]}, "scenarios[1]", "preset name"),
    ({"scenarios": [{"file": "hotline", "label": "a"}, {"file": "whistle", "label": "a"}]},
     "scenarios[1].label", "no other scenario"),
    ({"design": {"method": "lhs", "samples": 4},
      "parameters": {"ranking.enabled": {"low": 0, "high": 1}}},
     "parameters.ranking.enabled", "numeric field"),
    ({"design": {"method": "lhs", "samples": 4},
      "parameters": {"demand.rate_per_10k_per_day": {"values": [1, 2]}}},
     "parameters.demand.rate_per_10k_per_day", "low and high"),
    ({"design": {"method": "sobol", "samples": 4},
      "parameters": {"ranking.weights": {"low": 0, "high": 1}}},
     "parameters.ranking.weights", "numeric field"),
    ({"measures": "not a module"}, "measures", "module:function"),
    ({"scenarios": [{"file": "hotline", "label": "../x"}]}, "scenarios[0].label", "plain name"),
    ({"design": {"method": "lhs", "samples": 10 ** 9},
      "parameters": {"demand.rate_per_10k_per_day": {"low": 1, "high": 2}}},
     "design.samples", "<= 100000"),
    ({"parameters": {"demand.rate_per_10k_per_day": {"low": 1, "high": 2, "levels": 1000},
                     "staffing.resolve_prob": {"low": 0.1, "high": 0.9, "levels": 1000}}},
     "parameters", "at most 100,000 design points"),
    ({"replications": 60_000, "scenarios": ["hotline", "whistle"]}, "replications",
     "at most 100,000 runs"),
    ({"outcomes": ["resolution_rate", "latency_mean"]}, "outcomes", "e.g. 'resolved_latency_"),
])
def test_spec_errors_name_the_field(tmp_path: Path, fields: dict, field: str,
                                    words: str) -> None:
    err = spec_error(tmp_path, **fields)
    assert err.field == field, err
    assert words in str(err), err


def test_cli_bad_spec_one_line_exit_2_nothing_written(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, parameters={"demand.base_rate": {"values": [1]}})
    out = tmp_path / "out"
    assert govsim("sweep", str(spec), "--out", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert str(spec) in err and "parameters.demand.base_rate" in err
    assert not out.exists()
    assert govsim("sweep", str(tmp_path / "missing.yaml")) == 2
    assert govsim("sweep") == 2
    assert govsim("sweep", "--summary", str(tmp_path)) == 2  # not a sweep folder


def test_unreachable_scheduler_is_input_error(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execute_module, "CONNECT_TIMEOUT", 1.0)
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    assert govsim("sweep", str(spec), "--out", str(out), "--scheduler",
                  "tcp://127.0.0.1:9", "--quiet") == 2
    assert not out.exists()


def test_example_spec_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    example = presets_dir() / "sweeps" / "example.yaml"
    assert govsim("sweep", str(example), "--dry-run") == 0
    assert "30 runs" in capsys.readouterr().out
    assert govsim("sweep", "example", "--dry-run") == 0  # a shipped spec by its name
    assert capsys.readouterr().out.startswith("example: ok (30 runs")
    plan = make_plan(load_spec(example))
    assert plan.labels == ["fragmented", "whistle", "hotline"]


# ---------------------------------------------------------------------------- design, seeds
def test_seeds_are_common_and_come_from_the_root_seed(tmp_path: Path) -> None:
    plan = make_plan(load_spec(write_spec(tmp_path, replications=3)))
    table = plan.table
    assert len(table) == 2 * 2 * 3
    per_rep = table.groupby("replication")["seed"].nunique()
    assert (per_rep == 1).all()  # every scenario and design point of replication r: one seed
    seeds = table.groupby("replication")["seed"].first().tolist()
    assert len(set(seeds)) == 3
    root_children = np.random.SeedSequence(7).spawn(2)[1].spawn(3)  # documented derivation
    assert seeds == [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1))
                     for c in root_children]
    more = make_plan(load_spec(write_spec(tmp_path, "more.yaml", replications=5)))
    assert more.seeds[:3] == plan.seeds  # adding replications keeps the earlier seeds
    assert replication_seed(8, 0) != replication_seed(7, 0)


def test_run_ids_follow_scenario_content_and_seed(tmp_path: Path) -> None:
    a = make_plan(load_spec(write_spec(tmp_path)))
    b = make_plan(load_spec(write_spec(tmp_path, "b.yaml")))
    assert a.table["run_id"].tolist() == b.table["run_id"].tolist()
    assert a.fingerprint == b.fingerprint
    assert a.table["run_id"].is_unique
    c = make_plan(load_spec(write_spec(tmp_path, "c.yaml", set={"days": 9, "scale": 0.2,
                                                                 "city": SMALL_CITY})))
    assert not set(a.table["run_id"]) & set(c.table["run_id"])


def test_grid_design(tmp_path: Path) -> None:
    plan = make_plan(load_spec(write_spec(tmp_path, parameters={
        "demand.rate_per_10k_per_day": {"values": [4.0, 6.0]},
        "fragmented.max_bounces": {"low": 1, "high": 3, "levels": 3},
        "whistle.report_window_minutes": {"low": 15, "high": 45, "levels": 2}})))
    points = plan.design.points
    assert len(points) == 2 * 3 * 2
    assert points[0] == {"demand.rate_per_10k_per_day": 4.0, "fragmented.max_bounces": 1,
                         "whistle.report_window_minutes": 15.0}
    assert points[-1]["demand.rate_per_10k_per_day"] == 6.0  # first parameter varies slowest
    assert {p["fragmented.max_bounces"] for p in points} == {1, 2, 3}
    assert all(isinstance(p["fragmented.max_bounces"], int) for p in points)
    scenario = plan.scenario(len(plan) - 1)
    assert scenario.whistle.report_window_minutes == 45.0
    assert scenario.seed == plan.seeds[-1]


@pytest.mark.parametrize(("design", "n_points"), [
    ({"method": "lhs", "samples": 10}, 10),
    ({"method": "sobol", "samples": 8}, 8 * (2 + 2)),
    ({"method": "sobol", "samples": 8, "second_order": True}, 8 * (2 * 2 + 2)),
    ({"method": "morris", "samples": 5, "levels": 4}, 5 * (2 + 1)),
])
def test_sampled_designs(tmp_path: Path, design: dict, n_points: int) -> None:
    params = {"demand.rate_per_10k_per_day": {"low": 3.0, "high": 7.0},
              "fragmented.max_bounces": {"low": 0, "high": 4}}  # an integer field
    plan = make_plan(load_spec(write_spec(tmp_path, design=design, parameters=params)))
    points = plan.design.points
    assert len(points) == n_points
    rates = [p["demand.rate_per_10k_per_day"] for p in points]
    bounces = [p["fragmented.max_bounces"] for p in points]
    assert min(rates) >= 3.0 and max(rates) <= 7.0
    assert all(isinstance(b, int) and 0 <= b <= 4 for b in bounces)
    again = make_plan(load_spec(write_spec(tmp_path, "again.yaml", design=design,
                                           parameters=params)))
    assert again.design.points == points  # the sampler is seeded from the root seed
    other = make_plan(load_spec(write_spec(tmp_path, "other.yaml", design=design,
                                           parameters=params, seed=8)))
    if design["method"] != "morris" or n_points > 3:
        assert other.design.points != points


# ----------------------------------------------------------------------- same answers everywhere
def test_sweep_reproduces_plain_runs(serial_sweep) -> None:
    _, result = serial_sweep
    runs = result.runs
    assert (runs["status"] == "ok").all() and result.complete
    row = runs.iloc[5]
    direct = sim.run(result.scenario(5)).summary.iloc[0]
    assert row["seed"] == direct["seed"]
    for column in ("occurred", "resolved", "resolved_latency_occurrence_h_mean", "resolution_rate",
                   "street_staff_hours"):
        assert row[column] == direct[column], column
    same = evaluate(result.scenario(5))
    assert same["resolution_rate"] == direct["resolution_rate"]


def test_local_pool_gives_identical_results(serial_sweep, tmp_path: Path) -> None:
    spec, reference = serial_sweep
    result = run_sweep(spec, tmp_path / "pool", workers=2, progress=False)
    same_results(reference.runs, result.runs)
    pd.testing.assert_frame_equal(reference.summary, result.summary)
    pd.testing.assert_frame_equal(reference.differences, result.differences)


@pytest.fixture(scope="module")
def dask_cluster():
    """A real Dask scheduler and two worker processes on the loopback interface."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        yield cluster


def test_dask_gives_identical_results(serial_sweep, dask_cluster, tmp_path: Path) -> None:
    spec, reference = serial_sweep
    out = tmp_path / "dask"
    assert govsim("sweep", str(spec), "--out", str(out), "--scheduler",
                  dask_cluster.scheduler_address, "--quiet") == 0
    result = load_sweep(out)
    same_results(reference.runs, result.runs)
    pd.testing.assert_frame_equal(reference.summary, result.summary)
    workers = {w.split(":")[1] for w in result.runs["worker"]}
    assert str(os.getpid()) not in workers  # the runs happened on the cluster


def test_dask_survives_a_lost_worker(dask_cluster, tmp_path: Path) -> None:
    """A worker killed mid-sweep: Dask reruns its task elsewhere; results are unchanged."""
    from distributed import Client

    spec = slow_spec(tmp_path)
    reference = run_sweep(spec, tmp_path / "ref", serial=True, progress=False)
    out = tmp_path / "dask"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(spec), "--out", str(out),
                             "--scheduler", dask_cluster.scheduler_address, "--quiet"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with Client(dask_cluster.scheduler_address) as client:
        wait_for_records(out, 1, proc)
        victim = next(iter(client.run(os.getpid).values()))
        os.kill(victim, signal.SIGKILL)
        assert proc.poll() is None and len(list((out / "runs").glob("*.json"))) < SLOW_RUNS
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    same_results(reference.runs, load_sweep(out).runs)


# ----------------------------------------------------------------------------- durability
def wait_for_records(out: Path, n: int, proc: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = out / "runs"
        count = len(list(runs.glob("*.json"))) if runs.is_dir() else 0
        if count >= n:
            return count
        if proc.poll() is not None:
            raise AssertionError(f"the sweep ended early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("no records appeared")


SLOW_RUNS = 2 * 2 * 5  # scenarios x design points x replications


def slow_spec(tmp_path: Path) -> Path:
    """Runs of a few tenths of a second, so a sweep can be stopped midway."""
    return write_spec(tmp_path, set={"days": 30, "scale": 0.5, "city": SMALL_CITY},
                      replications=5)


@pytest.fixture(scope="module")
def slow_reference(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("slow")
    spec = slow_spec(folder)
    return run_sweep(spec, folder / "ref", serial=True, progress=False)


def start(spec: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(spec), "--out", str(out),
                             "--quiet", *extra], cwd=REPO, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check_records_whole(out: Path) -> int:
    records = list((out / "runs").glob("*.json"))
    for path in records:
        assert json.loads(path.read_text())["run_id"] == path.stem
    return len(records)


def process_group(pgid: int) -> list[str]:
    found = subprocess.run(["pgrep", "-g", str(pgid)], check=False, capture_output=True, text=True)
    return found.stdout.split()


def test_kill_9_then_resume_gives_the_uninterrupted_results(
        tmp_path: Path, slow_reference, capsys: pytest.CaptureFixture[str]) -> None:
    """`kill -9` of the sweep: its workers exit too, finished runs are whole on disk, and the
    same command again runs only the rest, ending with the uninterrupted sweep's results."""
    spec, out = slow_spec(tmp_path), tmp_path / "out"
    proc = start(spec, out, "--workers", "2")
    wait_for_records(out, 4, proc)
    assert subprocess.run(["pgrep", "-P", str(proc.pid)], check=False, capture_output=True).returncode == 0
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    while process_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not process_group(proc.pid), "worker processes outlived the killed sweep"
    finished = check_records_whole(out)
    assert 4 <= finished < SLOW_RUNS
    assert not (out / "runs.parquet").exists()
    assert load_sweep(out).counts["pending"] == SLOW_RUNS - finished  # partial results can be read
    assert govsim("sweep", str(spec), "--out", str(out), "--workers", "2") == 0
    assert f"resuming: {finished} finished runs kept, {SLOW_RUNS - finished} to run" \
        in capsys.readouterr().err
    result = load_sweep(out)
    assert result.complete
    same_results(slow_reference.runs, result.runs)
    pd.testing.assert_frame_equal(slow_reference.summary, result.summary)
    assert not [p for p in out.rglob(".*.tmp")]


def test_ctrl_c_keeps_finished_runs_and_exits_130(tmp_path: Path, slow_reference) -> None:
    spec, out = slow_spec(tmp_path), tmp_path / "out"
    proc = start(spec, out, "--workers", "2")
    wait_for_records(out, 3, proc)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err and "resume" in err and "Traceback" not in err
    finished = check_records_whole(out)
    assert 3 <= finished < SLOW_RUNS
    assert govsim("sweep", str(spec), "--out", str(out), "--serial", "--quiet") == 0
    same_results(slow_reference.runs, load_sweep(out).runs)


def test_lost_pool_worker_stops_cleanly_then_resumes(tmp_path: Path, slow_reference) -> None:
    spec, out = slow_spec(tmp_path), tmp_path / "out"
    proc = start(spec, out, "--workers", "2")
    wait_for_records(out, 2, proc)
    children = subprocess.run(["pgrep", "-g", str(proc.pid), "-f", "forkserver"], check=False,
                              capture_output=True, text=True).stdout.split()
    workers = [int(pid) for pid in children  # the forkserver's children, which have none
               if subprocess.run(["pgrep", "-P", pid], capture_output=True,
                                 check=False).returncode != 0]
    assert workers
    os.kill(workers[-1], signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "could not finish" in err and "again" in err
    result = load_sweep(out)
    assert not result.complete and result.counts["failed"] == 0
    assert govsim("sweep", str(spec), "--out", str(out), "--serial", "--quiet") == 0
    same_results(slow_reference.runs, load_sweep(out).runs)


def test_pool_that_breaks_between_waits_reports_the_refused_task() -> None:
    """A worker may die after one `wait` and before the next submit: the pool then refuses new
    tasks. That is a lost run like any other (reported, resumable), never a traceback."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    class DiesAfterTwo:
        submitted = 0

        def submit(self, fn, task):
            self.submitted += 1
            if self.submitted > 2:
                raise BrokenProcessPool("a child process terminated abruptly")
            future = Future()
            future.set_result({"run_id": task["run_id"]})
            return future

    pool = object.__new__(execute_module.LocalPool)
    pool.workers, pool.executor = 2, DiesAfterTwo()
    tasks = [{"run_id": f"r{i}"} for i in range(6)]
    seen = [(task["run_id"], record is not None, type(err).__name__ if err else None)
            for task, record, err in pool.run(tasks)]
    assert sorted(seen) == [("r0", True, None), ("r1", True, None),
                            ("r2", False, "BrokenProcessPool")]  # and no more are sent


SCRIPT = """\
from sim.experiments import run_sweep

{body}
"""
SCRIPT_SWEEP = ('res = run_sweep({spec!r}, {out!r}, workers=2, progress=False)\n'
                'print("counts", res.counts["ok"], res.counts["pending"])')


def run_script(tmp_path: Path, name: str, body: str) -> subprocess.CompletedProcess:
    script = tmp_path / name
    script.write_text(SCRIPT.format(body=body), encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)


def test_sweep_from_a_script_without_main_guard_stops_with_a_clear_message(
        tmp_path: Path) -> None:
    """Workers import the main script again: a sweep at its unguarded top level would start in
    each of them. It stops before anything is written, saying what to do; under the guard it
    runs on the pool."""
    spec, out = write_spec(tmp_path, set={"days": 3, "scale": 0.2, "city": SMALL_CITY},
                           parameters={}), tmp_path / "out"
    sweep = SCRIPT_SWEEP.format(spec=str(spec), out=str(out))
    bare = run_script(tmp_path, "bare.py", sweep)
    assert bare.returncode != 0 and "counts" not in bare.stdout
    assert 'if __name__ == "__main__":' in bare.stderr and "serial=True" in bare.stderr
    assert "bare.py" in bare.stderr and not out.exists()
    inside = "def main():\n    " + sweep.replace("\n", "\n    ") + "\n\n\nmain()\n"
    assert run_script(tmp_path, "function.py", inside).returncode != 0  # called from the top
    assert not out.exists()
    guarded = run_script(tmp_path, "guarded.py", 'if __name__ == "__main__":\n    '
                         + sweep.replace("\n", "\n    "))
    assert guarded.returncode == 0, guarded.stderr
    assert guarded.stdout.split() == ["counts", "4", "0"]


def test_lost_runs_warn_that_the_sweep_is_incomplete(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`run_sweep` never returns unfinished runs silently, as if the sweep were done."""
    from concurrent.futures.process import BrokenProcessPool

    from sim.experiments import IncompleteSweepWarning
    from sim.experiments import sweep as sweep_module

    class Broken(execute_module.Backend):
        def run(self, tasks):
            for task in tasks:
                yield task, None, BrokenProcessPool("a worker died")

    monkeypatch.setattr(sweep_module, "make_backend", lambda *args: Broken())
    with pytest.warns(IncompleteSweepWarning, match="4 runs could not finish.*0 ran, 4 are "
                                                    "pending.*again"):
        result = run_sweep(write_spec(tmp_path, parameters={}), tmp_path / "out",
                           progress=False)
    assert not result.complete and result.counts == {"ok": 0, "failed": 0, "pending": 4}


def test_rerun_of_a_finished_sweep_runs_nothing(serial_sweep,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    spec, result = serial_sweep
    calls = []
    monkeypatch.setattr(execute_module, "run_task", lambda task: calls.append(task))
    again = run_sweep(spec, result.folder, serial=True, progress=False)
    assert calls == []
    same_results(result.runs, again.runs)


def test_changed_spec_is_refused(serial_sweep, tmp_path: Path) -> None:
    _, result = serial_sweep
    changed = write_spec(tmp_path, replications=3)
    with pytest.raises(InputError, match="replications has changed"):
        run_sweep(changed, result.folder, serial=True, progress=False)
    scenario = tmp_path / "mine.yaml"
    scenario.write_text("extends: hotline\nname: mine\n")
    first = write_spec(tmp_path, "first.yaml", scenarios=["fragmented", str(scenario)])
    out = tmp_path / "out"
    run_sweep(first, out, serial=True, progress=False)
    scenario.write_text("extends: hotline\nname: mine\nhotline: {dispatch_minutes: 9}\n")
    with pytest.raises(InputError, match="a scenario file it uses has changed"):
        run_sweep(first, out, serial=True, progress=False)


def test_changed_code_is_refused(serial_sweep, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, result = serial_sweep
    from sim.experiments import sweep as sweep_module

    monkeypatch.setattr(sweep_module, "code_version", lambda: "0000000000000000")
    with pytest.raises(InputError, match="different code"):
        run_sweep(spec, result.folder, serial=True, progress=False)


def copy_sweep(serial_sweep, tmp_path: Path) -> tuple[Path, Path, pd.DataFrame]:
    import shutil

    spec, result = serial_sweep
    out = tmp_path / "copy"
    shutil.copytree(result.folder, out)
    return spec, out, result.runs


def test_records_carry_a_checksum_and_an_altered_one_runs_again(
        serial_sweep, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, out, reference = copy_sweep(serial_sweep, tmp_path)
    records = sorted((out / "runs").glob("*.json"))
    first = json.loads(records[0].read_text())
    assert first["checksum"].startswith("sha256:")
    altered = dict(first, outcomes=dict(first["outcomes"], occurred=1.0))  # still valid JSON
    records[0].write_text(json.dumps(altered))
    unsigned = json.loads(records[1].read_text())
    del unsigned["checksum"]  # a record without one is not trusted either
    records[1].write_text(json.dumps(unsigned))
    (out / "runs.parquet").unlink()  # a complete sweep is otherwise read from its tables
    assert load_sweep(out).counts["pending"] == 2  # neither is taken as a finished run
    assert govsim("sweep", str(spec), "--out", str(out), "--serial", "--quiet") == 0
    err = capsys.readouterr().err
    assert "2 run records" in err and "failed their checksum" in err and "run again" in err
    result = load_sweep(out)
    same_results(reference, result.runs)
    assert json.loads(records[0].read_text()) == dict(first, **{
        k: json.loads(records[0].read_text())[k] for k in ("checksum", "worker", "sim_s",
                                                           "wall_s")})


@pytest.mark.parametrize("damage", ["truncated", "not json", "a list", "deleted",
                                    "deleted with its plan"])
def test_damaged_manifest_is_rebuilt_from_the_spec(
        serial_sweep, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str) -> None:
    spec, out, reference = copy_sweep(serial_sweep, tmp_path)
    manifest = out / "sweep.json"
    text = manifest.read_text()
    if damage == "truncated":
        manifest.write_text(text[: len(text) // 2])
    elif damage == "not json":
        manifest.write_bytes(b"\x00\xff garbage")
    elif damage == "a list":
        manifest.write_text("[1, 2, 3]")
    else:
        manifest.unlink()
        if damage == "deleted with its plan":
            (out / "plan.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(InputError) as info:
        load_sweep(out)
    assert "rebuild" in str(info.value) or "writes it again" in str(info.value)
    assert govsim("sweep", str(spec), "--out", str(out), "--serial") == 0
    err = capsys.readouterr().err
    assert "sweep.json in" in err and "rebuilt from" in err
    assert "resuming: 8 finished runs kept, 0 to run" in err  # nothing was run again
    result = load_sweep(out)
    assert result.complete and "rebuilt" in result.manifest
    same_results(reference, result.runs)
    pd.testing.assert_frame_equal(serial_sweep[1].summary, result.summary)


def test_damaged_manifest_of_another_sweep_is_not_rebuilt(serial_sweep, tmp_path: Path) -> None:
    _, out, _ = copy_sweep(serial_sweep, tmp_path)
    (out / "sweep.json").write_text("{")
    other = write_spec(tmp_path, replications=3)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(InputError, match="lists other runs than this spec"):
        run_sweep(other, out, serial=True, progress=False)
    (out / "plan.parquet").unlink()
    with pytest.raises(InputError, match="are not runs of this spec"):
        run_sweep(write_spec(tmp_path, "other.yaml", seed=8), out, serial=True, progress=False)
    assert (out / "sweep.json").read_text() == "{"  # nothing was touched
    assert sorted(p.name for p in out.iterdir()) == [n for n in before if n != "plan.parquet"]


def test_damaged_plan_file_is_written_again(serial_sweep, tmp_path: Path) -> None:
    spec, out, reference = copy_sweep(serial_sweep, tmp_path)
    (out / "plan.parquet").write_bytes(b"garbage")
    (out / "points.json").write_text("[")
    with pytest.raises(InputError, match="plan of the sweep"):
        load_sweep(out)
    assert govsim("sweep", str(spec), "--out", str(out), "--serial", "--quiet") == 0
    same_results(reference, load_sweep(out).runs)
    assert json.loads((out / "points.json").read_text())


def test_experiments_modules_import_in_one_direction() -> None:
    """spec -> design -> plan -> execute -> store -> analysis: a module imports only those
    before it (sweep, function and cli sit on top), at module level or inside functions."""
    import ast

    order = ["spec", "design", "plan", "execute", "store", "analysis"]
    folder = REPO / "sim" / "experiments"
    for i, name in enumerate(order):
        tree = ast.parse((folder / f"{name}.py").read_text())
        imported = {node.module.split(".")[2] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module
                    and node.module.startswith("sim.experiments.")}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                     and node.module == "sim.experiments" for alias in node.names}
        later = imported - set(order[:i])
        assert not later, f"{name} imports {sorted(later)}, which come after it"


def test_outcome_names_are_known_without_simulating(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.experiments.plan import known_outcomes

    monkeypatch.setattr(sim.api, "run", lambda *a, **k: pytest.fail("simulated"))
    names = known_outcomes()
    assert "resolution_rate" in names and "resolved_share" in names and "overload" not in names


def test_code_version_covers_what_a_run_imports() -> None:
    files = {p.relative_to(REPO / "sim").as_posix() for p in provenance.run_code_files()}
    assert {"model.py", "results.py", "flow.py", "cases.py", "engine/desks.py",
            "mechanisms/whistle.py", "scenario/schema.py"} <= files
    assert not {f for f in files if f.startswith(("experiments/", "calibration/"))
                or f == "cli.py"}
    # a feature's own computation counts when named: the fit's objective and its targets
    fit_files = {p.relative_to(REPO / "sim").as_posix()
                 for p in provenance.run_code_files(extra=("sim.calibration.fit",))}
    assert {"calibration/fit.py", "calibration/targets.py"} <= fit_files - files
    assert provenance.code_version(("sim.calibration.fit",)) != provenance.code_version()


def test_folder_guards(tmp_path: Path, serial_sweep) -> None:
    spec = write_spec(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="a folder with other files"):
        run_sweep(spec, other, serial=True, progress=False)
    (other / "runs").mkdir()  # an empty runs/ does not make it a sweep to rebuild
    with pytest.raises(InputError, match="a folder with other files"):
        run_sweep(spec, other, serial=True, progress=False)
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt", "runs"]
    _, result = serial_sweep
    holder = SweepFolder(result.folder)
    holder.lock()
    try:
        with pytest.raises(InputError, match="locked by a running sweep"):
            run_sweep(serial_sweep[0], result.folder, serial=True, progress=False)
    finally:
        holder.unlock()


# --------------------------------------------------------------------------- failed runs
def test_failed_runs_are_recorded_and_the_sweep_goes_on(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, measures=HELPERS, parameters={
        "demand.rate_per_10k_per_day": {"values": [4.0, FAILING_RATE]}})
    out = tmp_path / "out"
    assert govsim("sweep", str(spec), "--out", str(out), "--workers", "2", "--quiet") == 2
    assert "--allow-import" in capsys.readouterr().err and not out.exists()
    assert govsim("sweep", str(spec), "--out", str(out), "--workers", "2", "--quiet",
                  "--allow-import") == 1
    printed = capsys.readouterr().out
    assert "4 failed runs" in printed and "too high for this test" in printed
    result = load_sweep(out)
    runs = result.runs
    failed = runs["status"] == "failed"
    assert failed.sum() == 4
    assert (runs.loc[failed, "demand.rate_per_10k_per_day"] == FAILING_RATE).all()
    assert runs.loc[failed, "error"].str.startswith("RuntimeError: demand").all()
    assert runs.loc[failed, "traceback"].str.contains("fail_when_busy").all()
    assert runs.loc[~failed, "problems_per_street"].notna().all()  # the extra measure
    summary = result.summary
    bad = summary[summary["demand.rate_per_10k_per_day"] == FAILING_RATE]
    assert (bad["n_failed"] == 2).all() and (bad["n"] == 0).all() and bad["mean"].isna().all()
    good = summary[summary["demand.rate_per_10k_per_day"] == 4.0]
    assert (good["n_failed"] == 0).all()
    assert len(result.failures) == 4
    # a rerun keeps the failures (they would fail again) unless asked to retry them
    before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    assert govsim("sweep", str(spec), "--out", str(out), "--serial", "--quiet",
                  "--allow-import") == 1
    assert before == {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    assert govsim("sweep", str(spec), "--out", str(out), "--serial", "--quiet",
                  "--retry-failed", "--allow-import") == 1
    after = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    assert sum(after[k] != before[k] for k in before) == 4
    assert govsim("sweep", "--summary", str(out)) == 1


# ------------------------------------------------------------------------ summary and indices
def test_summary_and_paired_differences(serial_sweep) -> None:
    _, result = serial_sweep
    runs, summary = result.runs, result.summary
    pick = summary[(summary["scenario"] == "hotline") & (summary["point"] == 1)
                   & (summary["outcome"] == "resolved_latency_occurrence_h_mean")].iloc[0]
    values = runs[(runs["scenario"] == "hotline") & (runs["point"] == 1)][
        "resolved_latency_occurrence_h_mean"].to_numpy()
    assert pick["n"] == 2 and pick["mean"] == pytest.approx(values.mean())
    half = stats.t.ppf(0.975, 1) * values.std(ddof=1) / np.sqrt(2)
    assert pick["ci_low"] == pytest.approx(values.mean() - half)
    assert pick["ci_high"] == pytest.approx(values.mean() + half)
    assert pick["demand.rate_per_10k_per_day"] == 6.0 and pick["regime"] == "hotline"
    diff = result.differences
    d = diff[(diff["point"] == 1) & (diff["outcome"] == "resolution_rate")].iloc[0]
    h = runs[(runs["scenario"] == "hotline") & (runs["point"] == 1)].sort_values("replication")
    f = runs[(runs["scenario"] == "fragmented") & (runs["point"] == 1)].sort_values(
        "replication")
    pairs = h["resolution_rate"].to_numpy() - f["resolution_rate"].to_numpy()
    assert d["baseline"] == "fragmented" and d["scenario"] == "hotline"
    assert d["n"] == 2 and d["mean"] == pytest.approx(pairs.mean())
    assert set(summary["outcome"]) >= {"resolution_rate", "street_staff_hours"}
    assert "seed" not in set(summary["outcome"])


def test_saved_tables_load_in_one_line(serial_sweep, capsys: pytest.CaptureFixture[str]) -> None:
    _, result = serial_sweep
    folder = result.folder
    for name in ("runs.parquet", "summary.parquet", "summary.csv", "differences.csv",
                 "plan.parquet", "sweep.json", "spec.yaml"):
        assert (folder / name).is_file(), name
    same_results(result.runs, pd.read_parquet(folder / "runs.parquet"))
    loaded = load_sweep(folder)
    pd.testing.assert_frame_equal(loaded.summary, result.summary)
    assert loaded.manifest["status"] == "complete"
    assert govsim("sweep", "--summary", str(folder), "--outcome", "resolution_rate") == 0
    printed = capsys.readouterr().out
    assert "resolution_rate" in printed and "Δ hotline" in printed
    assert govsim("sweep", "--summary", str(folder), "--outcome", "no_such_measure") == 2


def sensitivity_spec(tmp_path: Path, design: dict) -> Path:
    """In the fragmented regime the whistle's window has no effect at all; demand has."""
    return write_spec(tmp_path, scenarios=["fragmented"], design=design, replications=1,
                      set={"days": 6, "scale": 0.2, "city": SMALL_CITY},
                      parameters={"demand.rate_per_10k_per_day": {"low": 3.0, "high": 9.0},
                                  "whistle.report_window_minutes": {"low": 10, "high": 60}},
                      outcomes=["occurred", "street_staff_hours"])


def test_sobol_indices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = sensitivity_spec(tmp_path, {"method": "sobol", "samples": 8, "second_order": True})
    result = run_sweep(spec, tmp_path / "out", serial=True, progress=False)
    idx = result.indices.set_index(["outcome", "parameter"])
    window = idx.loc[("occurred", "whistle.report_window_minutes")]
    demand = idx.loc[("occurred", "demand.rate_per_10k_per_day")]
    assert window["ST"] == 0.0 and window["S1"] == 0.0  # switching it changes nothing
    assert demand["ST"] > 0.5
    assert {"S1_conf", "ST_conf"} <= set(result.indices.columns)
    assert len(result.indices_s2) == 2  # one pair per outcome
    assert (tmp_path / "out" / "indices.csv").is_file()
    again = load_sweep(tmp_path / "out")
    pd.testing.assert_frame_equal(again.indices, result.indices)
    assert govsim("sweep", "--summary", str(tmp_path / "out")) == 0
    printed = capsys.readouterr().out
    assert "Sobol" in printed and "whistle.report_window_minutes" in printed


def test_morris_indices(tmp_path: Path) -> None:
    spec = sensitivity_spec(tmp_path, {"method": "morris", "samples": 4, "levels": 4})
    result = run_sweep(spec, tmp_path / "out", serial=True, progress=False)
    idx = result.indices.set_index(["outcome", "parameter"])
    assert idx.loc[("occurred", "whistle.report_window_minutes"), "mu_star"] == 0.0
    assert idx.loc[("occurred", "demand.rate_per_10k_per_day"), "mu_star"] > 0.0


# --------------------------------------------------------------------------- other features
def test_keep_tables_and_shared_runs(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, keep_tables=True, replications=1, scenarios=[
        {"file": "hotline", "label": "a"}, {"file": "hotline", "label": "b"}])
    result = run_sweep(spec, tmp_path / "out", serial=True, progress=False)
    runs = result.runs
    assert (runs["status"] == "ok").all()
    a, b = runs[runs["scenario"] == "a"], runs[runs["scenario"] == "b"]
    assert a["run_id"].tolist() == b["run_id"].tolist()  # same content and seed: run once
    tables = tmp_path / "out" / "tables"
    assert len(list(tables.iterdir())) == 2
    saved = sim.Result.load(tables / a["run_id"].iloc[0])
    assert saved.summary.iloc[0]["resolved"] == a.iloc[0]["resolved"]
    assert (result.differences["mean"] == 0).all()


def test_progress_bar_shows_runs_failures_and_eta(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, replications=1)
    run_sweep(spec, tmp_path / "out", serial=True, progress=True)
    err = capsys.readouterr().err
    assert "4/4" in err and "failed=0" in err and "<" in err  # tqdm's elapsed<remaining


def test_evaluate_is_a_plain_function_of_named_parameters() -> None:
    base = {"city": SMALL_CITY, "days": 5, "scale": 0.2}
    f = model_function("hotline", outcomes=["resolution_rate", "occurred"], **base)
    f = pickle.loads(pickle.dumps(f))  # frameworks ship it to their own worker processes
    out = f(demand__rate_per_10k_per_day=6.0, seed=3)
    assert set(out) == {"resolution_rate", "occurred"}
    assert all(isinstance(v, float) for v in out.values())
    direct = sim.run("hotline", seed=3, overrides={**base,
                                                   "demand.rate_per_10k_per_day": 6.0}).summary
    assert out["occurred"] == direct.iloc[0]["occurred"]
    same = evaluate("hotline", seed=3, **base, **{"demand.rate_per_10k_per_day": 6.0})
    assert same["occurred"] == out["occurred"] and "street_staff_hours" in same
    with pytest.raises(InputError, match="outcomes"):
        evaluate("hotline", seed=3, outcomes=["nope"], **base)
    with pytest.raises(InputError):
        evaluate("hotline", seed=3, demand__base_rate=1.0, **base)


# ------------------------------------------------------------------ code named in a spec
def test_measures_are_imported_only_when_allowed(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    spec = write_spec(tmp_path, measures="tests.experiments_never_imported:anything")
    out = tmp_path / "out"
    with pytest.raises(InputError, match="--allow-import"):
        run_sweep(spec, out, serial=True, progress=False)
    assert govsim("sweep", str(spec), "--out", str(out), "--dry-run") == 0
    assert "not imported in a dry run" in capsys.readouterr().out
    assert "tests.experiments_never_imported" not in sys.modules and not out.exists()
    with pytest.raises(InputError, match="importable"):
        run_sweep(spec, out, serial=True, progress=False, allow_import=True)
    assert not out.exists()


def test_measures_come_from_installed_modules_or_a_named_file(tmp_path: Path, monkeypatch,
                                                            ) -> None:
    """`module:function` never finds a module in the working folder, even where `python -m`
    put that folder on the path; `file.py:function` (relative to the spec) names one plainly;
    only a Python function of one argument is called."""
    import sys

    from sim.experiments.spec import load_spec, measures_function

    (tmp_path / "beside_spec.py").write_text("def extra(result):\n    return {'x': 1.0}\n"
                                             "def two(a, b):\n    return {}\n"
                                             "class Klass:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # as `python -m sim` does with the folder
    monkeypatch.setattr(sys, "path", ["", *sys.path])
    loaded = load_spec(write_spec(tmp_path, measures="beside_spec:extra"))
    with pytest.raises(InputError, match="importable"):
        measures_function(loaded.spec.measures, loaded)
    assert "beside_spec" not in sys.modules
    loaded = load_spec(write_spec(tmp_path, measures="beside_spec.py:extra"))
    assert measures_function(loaded.measures_ref)(None) == {"x": 1.0}
    assert loaded.measures_ref == f"{tmp_path / 'beside_spec.py'}:extra"
    for ref in ("beside_spec.py:two", "beside_spec.py:Klass", "os:system", "builtins:print",
                "beside_spec.py:nothing", "nowhere.py:extra"):
        with pytest.raises(InputError, match="measures"):
            measures_function(ref, loaded)
    assert measures_function("tests.experiments_helpers:fail_when_busy")  # installed-like


@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "a/b", ".hidden", "x" * 200])
def test_sweep_name_cannot_leave_its_folder(tmp_path: Path, name: str) -> None:
    path = write_spec(tmp_path)
    data = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**data, "name": name}))
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert info.value.field == "name" and "plain name" in str(info.value)


def test_default_sweep_name_is_checked_too(tmp_path: Path) -> None:
    path = write_spec(tmp_path, name="...yaml")  # its stem is '..'
    with pytest.raises(InputError, match="plain name"):
        load_spec(path)


@pytest.mark.parametrize("address", ["not a url", "http://host:8786", "tcp://host",
                                     "tcp://host:99999", "tcp://:8786", "tcp://h:1/x"])
def test_scheduler_address_is_checked_before_connecting(tmp_path: Path, address: str) -> None:
    from sim.experiments.execute import check_address

    with pytest.raises(InputError, match="SCHEME://HOST:PORT"):
        check_address(address)
    check_address("tcp://127.0.0.1:8786")


def test_one_at_a_time_design_moves_each_parameter_alone_to_each_end():
    """`oat`: the scenarios as they are, then each parameter alone at its low and high end
    (whole numbers for an integer field); no samples to give."""
    from sim.experiments.design import count_points, make_design
    from sim.experiments.spec import parse_spec

    spec = parse_spec({"scenarios": ["hotline"], "design": "oat", "parameters": {
        "whistle.compliance": {"low": 0.7, "high": 1.0},
        "fragmented.max_bounces": {"low": 2, "high": 5}}})
    design = make_design(spec)
    assert count_points(spec) == len(design.points) == 5
    assert design.points == [{}, {"whistle.compliance": 0.7}, {"whistle.compliance": 1.0},
                             {"fragmented.max_bounces": 2}, {"fragmented.max_bounces": 5}]
    with pytest.raises(InputError, match="no samples"):
        parse_spec({"scenarios": ["hotline"], "design": {"method": "oat", "samples": 4},
                    "parameters": {"whistle.compliance": {"low": 0.7, "high": 1.0}}})
