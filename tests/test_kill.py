"""kill -9 at random moments: `govsim run`, `compare` and `sweep` are killed (SIGKILL after a
seeded random delay, a few times each) and then run again. Checked each time: the previous
result is intact (or the new one is whole), no worker outlives its command, and after the next
run nothing half-written or stale remains (no staging or aside folders, no temporary files); a
sweep resumed after its kills ends with exactly the uninterrupted sweep's results. `govsim
calibrate` is killed in each stage of its fit (the search, least squares and its Jacobian) and
in its report, at set rows of its history; continued, it writes exactly the uninterrupted fit's
history, values and report."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.experiments import load_sweep, run_sweep
from tests.conftest import SMALL_CITY
from tests.experiments_helpers import write_spec
from tests.test_experiments import same_results

pytestmark = pytest.mark.slow  # 2-3 minutes on 2 busy cores: 15 commands, 9 of them killed,
# a fit of govsim calibrate killed 3 times (about 15 s) and a brief killed once (about 7 s)

REPO = Path(__file__).resolve().parents[1]
KILLS = 3  # per command
RNG_SEED = 15


def scenario(folder: Path, name: str, regime: str, days: int = 20) -> Path:
    city = SMALL_CITY["synthetic"]
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nregime: {regime}\ndays: {days}\n"
                    f"hotline: {{enabled: {str(regime != 'fragmented').lower()}}}\n"
                    f"city: {{source: synthetic, synthetic: {{n_districts: "
                    f"{city['n_districts']}, streets_per_district: "
                    f"{city['streets_per_district']}, population: {city['population']}}}}}\n",
                    encoding="utf-8")
    return path


def govsim(*argv: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "sim", *argv], cwd=REPO, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def finish(*argv: str) -> float:
    started = time.monotonic()
    proc = govsim(*argv)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return time.monotonic() - started


KILLED: list[str] = []  # commands that a kill struck before they finished


def kill_after(delay: float, *argv: str) -> bool:
    """Start a command, SIGKILL it after `delay` s unless it finished first; True when it had
    finished. Either way every process it started is gone within a few seconds."""
    proc = govsim(*argv)
    try:
        proc.communicate(timeout=delay)
        finished = True
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        finished = False
        KILLED.append(argv[0])
    deadline = time.monotonic() + 10
    while group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not group(proc.pid), f"processes outlived the killed command: {group(proc.pid)}"
    return finished


def group(pgid: int) -> list[str]:
    found = subprocess.run(["pgrep", "-g", str(pgid)], check=False, capture_output=True,
                           text=True)
    return found.stdout.split()


def stale(root: Path) -> list[Path]:
    """Hidden files or folders anywhere under `root`: staging or aside folders
    (`.NAME.stage-PID-*`, `.NAME.old-PID-*`), temporary files (`.NAME.*.tmp`), write probes. Only
    a sweep's lock file (`.lock`, kept by design) is allowed."""
    return [p for p in root.rglob(".*") if p.name != ".lock"]


def delays(rng: random.Random, duration: float) -> list[float]:
    """Random moments around the end of a command's uninterrupted duration, where it writes
    (the first ~3 s are start-up, which a kill cannot harm): from 40 % of it to a little past
    the end, so that some kills may come too late, as they would at a terminal."""
    return sorted(rng.uniform(0.4 * duration, 1.05 * duration) for _ in range(KILLS))


def test_kill_run_at_random_moments(tmp_path: Path) -> None:
    """Each attempt writes another seed over the last whole result; after a kill the folder
    holds that result or the new one, whole; the next run clears what the kills left."""
    rng = random.Random(RNG_SEED)
    spec = scenario(tmp_path, "h", "hotline")
    out = tmp_path / "results" / "run"
    duration = finish("run", str(spec), "--seed", "1", "--out", str(out))
    first = sim.Result.load(out).summary
    last = (1, first)
    for i, delay in enumerate(delays(rng, duration)):
        seed = 2 + i
        done = kill_after(delay, "run", str(spec), "--seed", str(seed), "--out", str(out))
        now = sim.Result.load(out).summary  # whole: the last result, or the new one once in
        found = int(now["seed"].iloc[0])
        assert found == seed if done else found in (last[0], seed)
        if found == last[0]:
            pd.testing.assert_frame_equal(now, last[1])
        last = (found, now)
    assert "run" in KILLED  # at least one kill came before the end
    finish("run", str(spec), "--seed", "1", "--out", str(out))
    pd.testing.assert_frame_equal(sim.Result.load(out).summary, first)  # the same numbers
    assert not stale(tmp_path), stale(tmp_path)


def test_kill_compare_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(RNG_SEED + 1)
    files = [str(scenario(tmp_path, "a", "fragmented")), str(scenario(tmp_path, "b", "hotline"))]
    out = tmp_path / "results" / "cmp"
    argv = ["compare", *files, "--workers", "2", "--seeds", "1", "--out", str(out)]
    duration = finish(*argv, "--seed", "1")
    first = pd.read_csv(out / "comparison.csv")
    last = (1, first)
    for i, delay in enumerate(delays(rng, duration)):
        seed = 2 + i
        done = kill_after(delay, *argv, "--seed", str(seed))
        now = pd.read_csv(out / "comparison.csv")
        found = int(now.set_index("measure").loc["seed", "a"])
        assert found == seed if done else found in (last[0], seed)
        if found == last[0]:
            pd.testing.assert_frame_equal(now, last[1])
        for label in ("a", "b"):  # the folders of the same comparison, whole
            assert int(sim.Result.load(out / label).summary["seed"].iloc[0]) == found
        last = (found, now)
    assert "compare" in KILLED
    finish(*argv, "--seed", "1")
    pd.testing.assert_frame_equal(pd.read_csv(out / "comparison.csv"), first)
    assert not stale(tmp_path), stale(tmp_path)


def test_kill_sweep_at_random_moments_then_resume(tmp_path: Path) -> None:
    rng = random.Random(RNG_SEED + 2)
    spec = write_spec(tmp_path, set={"days": 30, "scale": 0.5, "city": SMALL_CITY, "warmup_days": 0},
                      replications=3)
    started = time.monotonic()
    reference = run_sweep(spec, tmp_path / "ref", serial=True, progress=False)
    duration = 3.0 + (time.monotonic() - started)  # start-up, then about the serial time
    out = tmp_path / "out"
    argv = ["sweep", str(spec), "--out", str(out), "--workers", "2", "--quiet"]
    for delay in delays(rng, duration):
        if kill_after(delay, *argv):
            break
        records = list((out / "runs").glob("*.json")) if (out / "runs").is_dir() else []
        if records:
            assert not (out / "runs.parquet").exists() or load_sweep(out).complete
            load_sweep(out)  # partial results can be read after every kill
    assert "sweep" in KILLED
    finish(*argv)
    result = load_sweep(out)
    assert result.complete
    same_results(reference.runs, result.runs)
    pd.testing.assert_frame_equal(reference.summary, result.summary)
    assert not stale(tmp_path), stale(tmp_path)


# ------------------------------------------------------------------------- govsim calibrate
CAL_SCENARIO = """\
extends: hotline
name: kill-cal
start_date: 2019-01-01
days: 31
city: {source: synthetic, synthetic: {n_districts: 2, streets_per_district: 2, population: 50000}}
demand: {rate_per_10k_per_day: 1.0}
staffing: {resolve_prob: 0.5}
"""
CAL_SPEC = """\
scenario: s.yaml
scale: 0.5
seeds: [0]
report_scale: 0.5
report_seeds: [0]
parameters:
  - {path: demand.rate_per_10k_per_day, low: 0.5, high: 6.0}
  - {path: staffing.resolve_prob, low: 0.2, high: 0.95}
targets:
  - {measure: satisfaction_rate, period: 2019-01}
  - {measure: resolution_rate, period: 2019-01}
"""
#: A search (differential evolution, 6 evaluations at its own seed), then least squares (its
#: centre, a Jacobian of 2 points, its steps): killed in the search, in the Jacobian of least
#: squares, and (the test adds it) after the last evaluation, in the report.
#: Nelder-Mead is interrupted after every one of its evaluations in tests/test_fit_history.py.
CAL_FIT = ("method: least-squares\nbudget: 6\nsearch: {method: differential-evolution, "
           "popsize: 2, budget: 6, scale: 0.5, seeds: [1]}\n")
CAL_KILLS = [2, 8]
#: What a fit writes whose content must not depend on kills.
CAL_TABLES = ("fit_history.csv", "parameters.csv", "targets.csv", "monthly.csv")


def rows(history: Path) -> int:
    """Whole rows of a fit's history so far (a header, then one line per evaluation)."""
    try:
        return max(0, history.read_bytes().count(b"\n") - 1)
    except OSError:
        return 0


def kill_at_rows(folder: Path, argv: list[str], history: Path, at: int) -> bool:
    """Start `govsim calibrate` in `folder` and SIGKILL it once its history holds `at` rows;
    True if it finished first."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "sim", *argv], cwd=folder, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while proc.poll() is None and rows(history) < at and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() is not None:
        proc.communicate()
        return True
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    KILLED.append("calibrate")
    return False


def test_kill_calibrate_in_every_stage_then_resume(tmp_path: Path, monkeypatch) -> None:
    """`govsim calibrate` killed in each stage of its fit and after it, then run again until it
    finishes: the history, the fitted values and the report are those of the fit that was never
    interrupted (both run in this process), and nothing staged is left."""
    from sim import cli

    runs = {}
    for name in ("whole", "killed"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "s.yaml").write_text(CAL_SCENARIO, encoding="utf-8")
        (folder / "cal.yaml").write_text(CAL_SPEC + CAL_FIT, encoding="utf-8")
        runs[name] = folder
    argv = ["calibrate", "cal.yaml", "--serial", "--dry-run", "--out", "out"]
    monkeypatch.chdir(runs["whole"])
    assert cli.main(argv) == 0
    total = rows(runs["whole"] / ".out.fit-history.csv")
    assert total > max(CAL_KILLS)
    history = runs["killed"] / ".out.fit-history.csv"
    for at in [*CAL_KILLS, total]:  # the last once the fit is done, in its report
        assert not kill_at_rows(runs["killed"], argv, history, at), at
    monkeypatch.chdir(runs["killed"])
    assert cli.main(argv) == 0
    for table in CAL_TABLES:
        assert (runs["killed"] / "out" / table).read_bytes() \
            == (runs["whole"] / "out" / table).read_bytes(), table
    assert rows(history) == total  # each evaluation once (a row a kill cut short is set aside)
    # the history (and a row set aside from it) is kept by design; nothing else is hidden
    assert not [p for p in runs["killed"].rglob(".*")
                if not p.name.startswith(".out.fit-history")], list(runs["killed"].rglob(".*"))


def test_a_killed_brief_is_cleaned_by_the_next_command(tmp_path: Path) -> None:
    """`govsim brief` killed while it stages its folder (away from any other result) leaves a
    hidden partial brief; the next command, whatever it is and wherever it writes (here `govsim
    check`, which writes nothing), removes it."""
    spec = scenario(tmp_path, "h", "hotline", days=5)
    out = tmp_path / "elsewhere" / "brief"
    proc = govsim("brief", str(spec), "--seeds", "1", "--warmup-days", "0", "--no-surge",
                  "--out", str(out))
    deadline = time.monotonic() + 120
    staged: list[Path] = []
    while proc.poll() is None and time.monotonic() < deadline:
        staged = [p for p in out.parent.glob(".brief.stage-*") if any(p.rglob("*.parquet"))]
        if staged:
            break
        time.sleep(0.05)
    assert proc.poll() is None and staged, "the brief finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert stale(out.parent)  # the partial brief, hidden
    finish("check", str(spec))
    assert not stale(tmp_path), stale(tmp_path)
    assert not out.exists()
