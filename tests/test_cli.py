"""Tests of the `govsim` command line: run, compare, check, bad input, Ctrl-C, atomic output.

Runs are tiny (`--days 5 --scale 0.01`) so the whole file takes seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim import api, cli
from sim.city import synthetic_city
from sim.city.io import write_graph
from sim.presets import presets_dir
from sim.results import TABLES, Result
from sim.scenario.categories import load_categories
from sim.scenario.loader import PRESETS

SMALL = ["--days", "5", "--scale", "0.01", "--set", "warmup_days=0"]  # the presets warm up 60


def govsim(*argv: str) -> int:
    return cli.main(list(argv))


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    """Everything in `folder` apart from the input files the test wrote itself."""
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def small_network(path: Path, orphan: bool = False) -> Path:
    """A 2 x 2 synthetic city saved as a network file; `orphan` cuts one street loose."""
    graph = synthetic_city(n_districts=2, streets_per_district=2, population=20_000).graph.copy()
    if orphan:
        district, street = next((u, v) for u, v, d in graph.edges(data=True)
                                if u.startswith("district:") and v.startswith("street:")
                                and d["relation"] == "contains")
        graph.remove_edge(district, street)
        assert not any(graph.nodes[p]["kind"] == "district" for p in graph.predecessors(street))
    write_graph(graph, path)
    return path


# ---------------------------------------------------------------------------------------- run
def test_run_writes_every_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert govsim("run", "hotline", *SMALL, "--out", str(out), "--csv") == 0
    for name in TABLES:
        assert (out / f"{name}.parquet").is_file(), name
        assert (out / f"{name}.csv").is_file(), name  # on request
    assert (out / "scenario.yaml").is_file()
    saved = Result.load(out)
    assert saved.scenario.name == "hotline"
    assert saved.scenario.days == 5 and saved.scenario.scale == 0.01
    printed = capsys.readouterr().out
    assert "hotline" in printed and "response" in printed and "latency" in printed.lower()
    assert str(out) in printed
    assert leftovers(tmp_path, set()) == ["out"]  # no temp folder left next to it


def test_run_default_folder_parquet_only(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert govsim("run", "whistle", *SMALL, "--seed", "3") == 0
    out = tmp_path / "results" / "whistle-seed3"
    assert (out / "summary.parquet").is_file()
    assert not list(out.glob("*.csv"))
    assert Result.load(out).scenario.seed == 3


def test_set_values_are_yaml(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert govsim("run", "whistle", *SMALL, "--out", str(out), "--set", "whistle.enabled=false",
                  "--set", "whistle.report_window_minutes=45", "--set", "name=quiet") == 0
    saved = yaml.safe_load((out / "scenario.yaml").read_text(encoding="utf-8"))
    assert saved["whistle"]["enabled"] is False
    assert saved["whistle"]["report_window_minutes"] == 45
    assert saved["name"] == "quiet"


def test_run_replaces_an_earlier_result_but_not_other_folders(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    out = tmp_path / "out"
    assert govsim("run", "hotline", *SMALL, "--out", str(out)) == 0
    assert govsim("run", "hotline", *SMALL, "--seed", "2", "--out", str(out)) == 0
    assert Result.load(out).scenario.seed == 2
    mine = tmp_path / "mine"
    mine.mkdir()
    write(mine / "notes.txt", "keep me")
    capsys.readouterr()
    assert govsim("run", "hotline", *SMALL, "--out", str(mine)) == 2
    assert "mine" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


# ------------------------------------------------------------------------------------ compare
def test_compare_presets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    assert govsim("compare", *SMALL, "--seed", "4", "--seeds", "2", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    for name in PRESETS:
        assert name in printed
    header = next(line for line in printed.splitlines() if "fragmented" in line)
    assert [w for w in header.split() if w in PRESETS] == list(PRESETS)  # one row, in order
    assert "mean of 2 seeds" in printed and "≈: within seed noise" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*PRESETS, "comparison.csv", "comparison_seeds.csv", "differences.csv", "seeds"])
    table = pd.read_csv(out / "comparison.csv", index_col="measure")
    assert list(table.columns) == list(PRESETS)
    assert set(table.loc["seed"].astype(int)) == {4}  # common random numbers, from seed 4
    assert float(table.loc["resolved_latency_report_h_mean", "hotline"]) > 0  # raw hours
    each = pd.read_csv(out / "comparison_seeds.csv", index_col="measure")
    assert list(each.columns) == [f"{p} seed {s}" for p in PRESETS for s in (4, 5)]
    mean = (each[["hotline seed 4", "hotline seed 5"]].loc["resolved_share"].astype(float)
            .mean())
    assert float(table.loc["resolved_share", "hotline"]) == pytest.approx(mean)
    diffs = pd.read_csv(out / "differences.csv")
    assert set(diffs["scenario"]) == set(PRESETS[1:]) and diffs["seeds"].max() == 2
    for name in PRESETS:
        assert Result.load(out / name).scenario.name == name
        assert Result.load(out / "seeds" / name / "seed5").scenario.seed == 5
    assert leftovers(tmp_path, set()) == ["cmp"]


def test_compare_gives_the_same_numbers_on_any_number_of_workers(tmp_path: Path) -> None:
    """Runs in processes of their own give the tables a serial comparison gives."""
    for workers in ("1", "2"):
        assert govsim("compare", "fragmented", "hotline", *SMALL, "--seed", "2",
                      "--workers", workers, "--out", str(tmp_path / workers)) == 0
    for name in ("fragmented", "hotline"):
        one, two = Result.load(tmp_path / "1" / name), Result.load(tmp_path / "2" / name)
        for table in TABLES:
            pd.testing.assert_frame_equal(getattr(one, table), getattr(two, table))
    assert (tmp_path / "1" / "comparison.csv").read_text() == \
        (tmp_path / "2" / "comparison.csv").read_text()


def test_compare_files_and_duplicate_names(tmp_path: Path) -> None:
    mine = write(tmp_path / "mine.yaml", "extends: hotline\nname: mine\nwhistle:\n"
                                         "  compliance: 0.5\n")
    out = tmp_path / "cmp"
    assert govsim("compare", "hotline", str(mine), "hotline", *SMALL, "--seeds", "1",
                  "--out", str(out)) == 0
    table = pd.read_csv(out / "comparison.csv", index_col="measure")
    assert list(table.columns) == ["hotline", "mine", "hotline-2"]
    assert (out / "hotline-2" / "summary.parquet").is_file()


# ------------------------------------------------------------------------------------ --help
def test_help_loads_no_engine_and_is_quick() -> None:
    """`govsim --help` and every command's options load none of the heavy libraries (the
    engine, numba, Mesa, matplotlib, pandas, scipy): they are imported when a command runs.
    That is what keeps help quick; its time (0.2 s) is measured, not asserted: a shared machine
    is too noisy for a timed test."""
    code = ("import sys, time; t = time.perf_counter(); from sim.cli import build_parser; "
            "p = build_parser(); p.format_help(); "
            "[a.choices[c].format_help() for a in p._subparsers._group_actions for c in a.choices]; "
            "t = time.perf_counter() - t; "
            "heavy = ('numba', 'mesa', 'matplotlib', 'pandas', 'scipy', 'numpy', 'pydantic'); "
            "print(t, *sorted(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[1:] == [], f"--help imports {out[1:]}"
    assert float(out[0]) > 0.0
    assert govsim("presets") == 0  # and every command still runs (the tests of each)


def test_lazy_package_names_behave_as_before() -> None:
    """`import sim` loads no engine, but its names and submodules are there on first use."""
    code = ("import sys, sim; light = 'sim.model' not in sys.modules; "
            "print(light, sim.run.__module__, sim.Result.__name__, sim.city.synthetic_city.__name__, "
            "sim.experiments.run_sweep.__name__, sim.validation.FULL.name, "
            "sim.briefing.brief.__module__, 'run' in dir(sim), hasattr(sim, 'no_such_name'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "sim.api", "Result", "synthetic_city", "run_sweep", "full",
                   "sim.briefing.report", "True", "False"]


# ------------------------------------------------------------------------------------ presets
def test_presets_are_package_data_listed_and_copied(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped files are read from the checkout's scenarios/ (a wheel carries a copy inside
    the package: tests/test_install.py), are listed by `govsim presets` and copied by `--copy`
    with their folders, so relative references keep working."""
    from sim.presets import SOURCE_DIR

    assert presets_dir() == SOURCE_DIR and (SOURCE_DIR / "hotline.yaml").is_file()
    assert govsim("presets") == 0
    out = capsys.readouterr().out
    assert "hotline" in out and "example  sensitivity" in out and "calibration: beijing" in out
    assert govsim("presets", "--copy", str(tmp_path / "mine")) == 0
    assert capsys.readouterr().out.startswith("8 files copied")
    assert (tmp_path / "mine" / "sweeps" / "example.yaml").is_file()
    assert govsim("check", str(tmp_path / "mine" / "proactive.yaml")) == 0  # extends hotline.yaml
    assert govsim("presets", "--copy", str(tmp_path / "mine")) == 0
    assert "0 files copied" in capsys.readouterr().out


# -------------------------------------------------------------------------------------- check
def test_check_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = small_network(tmp_path / "net.json")
    scen = write(tmp_path / "net.yaml", f"name: small\ncity:\n  source: file\n  path: {net.name}\n")
    files = [str(presets_dir() / f"{p}.yaml") for p in PRESETS]
    assert govsim("check", "hotline", *files, str(scen)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "hotline: ok (hotline, hotline, 365 days, scale 1)"
    assert len(lines) == 2 + len(PRESETS)
    assert lines[-1] == f"{scen}: ok (small, custom, 365 days, scale 1)"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert govsim("--version") == 0
    assert capsys.readouterr().out.startswith("govsim ")


# -------------------------------------------------------------------------------- bad input
def _shares(scale: float = 1.0, extra: dict[str, float] | None = None) -> dict:
    keys = load_categories(None).keys
    shares = {k: scale / len(keys) for k in keys}
    return {"demand": {"shares": {**shares, **(extra or {})}}}


def _yaml(data: dict) -> Callable[[Path], Path]:
    return lambda d: write(d / "bad.yaml", yaml.safe_dump(data))


def _network(orphan: bool) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        if orphan:
            small_network(d / "net.json", orphan=True)
        return write(d / "bad.yaml", "name: small\ncity:\n  source: file\n  path: net.json\n")
    return make


BAD: dict[str, tuple[Callable[[Path], Path], list[str]]] = {
    "missing file": (lambda d: d / "nope.yaml", ["nope.yaml", "existing scenario file"]),
    "unknown key": (lambda d: write(d / "bad.yaml", "extends: hotline\nbogus: 1\n"),
                    ["bad.yaml", "bogus", "known field"]),
    "wrong type": (_yaml({"days": "many"}), ["bad.yaml", "days", "many"]),
    "negative rate": (_yaml({"demand": {"rate_per_10k_per_day": -1}}),
                      ["bad.yaml", "demand.rate_per_10k_per_day", ">= 0"]),
    "shares sum": (_yaml(_shares(0.9)), ["bad.yaml", "demand.shares", "sum to 1"]),
    "unknown category": (_yaml(_shares(extra={"aliens": 0.0})),
                         ["bad.yaml", "demand.shares.aliens", "a category"]),
    "unknown department": (
        _yaml({"demand": {"categories": {"market": {"departments": ["ministry_of_magic"]}}}}),
        ["bad.yaml", "demand.categories.market.departments[0]", "ministry_of_magic"]),
    "orphan street": (_network(orphan=True), ["net.json", "nodes[street:", "district"]),
    "missing network": (_network(orphan=False), ["net.json", "existing network file"]),
    "synthetic too small": (
        _yaml({"city": {"source": "synthetic",
                        "synthetic": {"n_districts": 2, "streets_per_district": 2,
                                      "population": 3}}}),
        ["bad.yaml", "city.synthetic.population"]),
}


@pytest.fixture(params=list(BAD), ids=list(BAD))
def bad(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, list[str], set[str]]:
    make, words = BAD[request.param]
    path = make(tmp_path)
    return path, words, {p.name for p in tmp_path.iterdir()}


def _assert_one_line(err: str, words: list[str]) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in err


def no_run(*args: object, **kwargs: object) -> None:
    raise AssertionError("a scenario ran although the input was bad")


# The bad-input tests give no --days/--scale: those would override a bad `days:` in the file.
def test_bad_input_run(bad: tuple[Path, list[str], set[str]], tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    path, words, inputs = bad
    monkeypatch.setattr(api, "run", no_run)
    out = tmp_path / "results" / "out"
    assert govsim("run", str(path), "--out", str(out)) == 2
    _assert_one_line(capsys.readouterr().err, words)
    assert leftovers(tmp_path, inputs) == []  # nothing written, not even results/


def test_bad_input_check(bad: tuple[Path, list[str], set[str]],
                         capsys: pytest.CaptureFixture[str]) -> None:
    path, words, _ = bad
    assert govsim("check", "hotline", str(path)) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("hotline: ok")
    _assert_one_line(captured.err, words)


def test_compare_validates_everything_first(bad: tuple[Path, list[str], set[str]],
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path, words, inputs = bad
    monkeypatch.setattr(api, "run", no_run)  # the bad third file fails before any run
    out = tmp_path / "cmp"
    assert govsim("compare", "fragmented", "whistle", str(path), "--out", str(out)) == 2
    _assert_one_line(capsys.readouterr().err, words)
    assert leftovers(tmp_path, inputs) == []


@pytest.mark.parametrize("argv", [
    ["--days", "-3"], ["--days", "0"], ["--days", "2.5"], ["--scale", "0"],
    ["--scale", "1.5"], ["--scale", "-0.1"], ["--seed", "x"], ["--seed", "1.5"],
    ["--seed", "-1"], ["--set", "no_equals_sign"],
])
def test_bad_options(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert govsim("run", "hotline", *argv, "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert f"error: argument {argv[0]}" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_set_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert govsim("run", "hotline", "--set", "whistle.enabled=maybe",
                  "--out", str(tmp_path / "out")) == 2
    _assert_one_line(capsys.readouterr().err, ["hotline.yaml", "whistle.enabled", "maybe"])
    assert leftovers(tmp_path, set()) == []


def test_unknown_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert govsim("check", "hotlin") == 2
    _assert_one_line(capsys.readouterr().err, ["hotlin", "preset name", "proactive"])


# ------------------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_during_compare_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    original = Result.save
    saved: list[Path] = []

    def save_then_interrupt(self: Result, folder: str | Path, csv: bool = True) -> Path:
        if saved:
            raise KeyboardInterrupt
        saved.append(original(self, folder, csv))
        return saved[-1]

    monkeypatch.setattr(Result, "save", save_then_interrupt)
    out = tmp_path / "results" / "cmp"
    assert govsim("compare", *SMALL, "--workers", "1", "--out", str(out)) == 130
    assert "interrupted: nothing was written" in capsys.readouterr().err
    assert len(saved) == 1  # the first scenario had been saved (into the temp folder)
    assert not saved[0].exists()
    assert leftovers(tmp_path, set()) == []  # no out dir, no temp dir, not even results/


def test_ctrl_c_keeps_an_earlier_comparison(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "cmp"
    out.mkdir()
    write(out / "comparison.csv", "old\n")
    calls = []

    def run_then_interrupt(*args: object, **kwargs: object) -> Result:
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        return original(*args, **kwargs)

    original = api.run
    monkeypatch.setattr(api, "run", run_then_interrupt)
    assert govsim("compare", "hotline", "whistle", *SMALL, "--workers", "1",
                  "--out", str(out)) == 130
    assert (out / "comparison.csv").read_text() == "old\n"
    assert leftovers(tmp_path, set()) == ["cmp"]


def test_ctrl_c_during_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args: object, **kwargs: object) -> Result:
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "run", interrupted)
    assert govsim("run", "hotline", *SMALL, "--out", str(tmp_path / "out")) == 130
    assert "interrupted: nothing was written" in capsys.readouterr().err
    assert leftovers(tmp_path, set()) == []


# --------------------------------------------------------------------------------- subprocess
def python_m_sim(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def test_subprocess_run(tmp_path: Path) -> None:
    done = python_m_sim("run", "proactive", *SMALL, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "proactive" in done.stdout
    out = tmp_path / "results" / "proactive-seed0"
    assert all((out / f"{name}.parquet").is_file() for name in TABLES)


def test_subprocess_bad_network_no_traceback(tmp_path: Path) -> None:
    small_network(tmp_path / "net.json", orphan=True)
    write(tmp_path / "bad.yaml", "city:\n  source: file\n  path: net.json\n")
    done = python_m_sim("run", "bad.yaml", *SMALL, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    _assert_one_line(done.stderr, ["net.json", "nodes[street:"])
    assert leftovers(tmp_path, {"net.json", "bad.yaml"}) == []


def test_subprocess_check_every_bad_file(tmp_path: Path) -> None:
    files = []
    for i, (make, _) in enumerate(BAD.values()):
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        files.append(str(make(folder)))
    done = python_m_sim("check", *files, "hotline", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = done.stderr.strip().splitlines()
    assert len(errors) == len(BAD)
    assert all(line.startswith("error: ") for line in errors)
    assert done.stdout.strip() == "hotline: ok (hotline, hotline, 365 days, scale 1)"


# ------------------------------------------------------------------------- output folders
@pytest.mark.parametrize(("make", "why"), [
    (lambda d: write(d / "file", "x") / "out", "under the file"),
    (lambda d: write(d / "file", "x"), "an existing file"),
    (lambda d: Path("/proc/govsim-out"), "under /proc"),
    (lambda d: Path("/sys/x/y"), "under /sys"),
    (lambda d: d / ("n" * 250), "bytes per part"),
])
def test_bad_out_is_refused_before_any_run(tmp_path: Path, make: Callable[[Path], Path],
                                           why: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = make(tmp_path)
    monkeypatch.setattr(api, "run", no_run)
    before = leftovers(tmp_path, set())
    for argv in (["run", "hotline"], ["compare", "hotline"]):
        assert govsim(*argv, "--out", str(out)) == 2
        _assert_one_line(capsys.readouterr().err, [str(out), "--out", why])
    assert leftovers(tmp_path, set()) == before


def test_save_keeps_the_old_result_until_the_new_one_is_in(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import os

    from sim import outputs

    out = tmp_path / "res"
    first = api.run("hotline", days=2, scale=0.01, seed=1)
    first.save(out)
    second = api.run("hotline", days=2, scale=0.01, seed=2)
    real = os.replace
    calls: list[tuple[str, str]] = []

    def killed_after_moving_aside(src: str | Path, dst: str | Path) -> None:
        calls.append((str(src), str(dst)))
        real(src, dst)
        if Path(src) == out:  # the old result moved aside: "kill -9" here
            raise KeyboardInterrupt

    monkeypatch.setattr(outputs.os, "replace", killed_after_moving_aside)
    with pytest.raises(KeyboardInterrupt):
        second.save(out)
    monkeypatch.setattr(outputs.os, "replace", real)
    aside = [p for p in tmp_path.iterdir() if ".old-" in p.name]
    assert not out.exists() and len(aside) == 1  # a real kill would leave exactly this
    monkeypatch.setattr(outputs, "_alive", lambda pid: False)  # its process is gone
    outputs.clean_stale(tmp_path)
    assert Result.load(out).scenario.seed == 1  # put back, not lost
    second.save(out)
    assert Result.load(out).scenario.seed == 2
    assert leftovers(tmp_path, set()) == ["res"]


def test_stale_staging_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".res.stage-{pid}-abc123"
    stale.mkdir()
    (stale / "summary.parquet").write_text("half")
    mine = tmp_path / f".other.stage-{os.getpid()}-xyz"  # a live process's: kept
    mine.mkdir()
    api.run("hotline", days=2, scale=0.01).save(tmp_path / "res")
    assert not stale.exists() and mine.exists()


def test_a_killed_write_is_cleaned_by_the_next_command_wherever_it_was(tmp_path: Path,
                                                                        monkeypatch) -> None:
    """A process killed (SIGKILL) while it stages a brief in a folder of its own leaves its
    hidden staging folder and its note; the next command of any kind (here `govsim check`, which
    writes nothing) removes both, and leaves a live process's staging folder alone."""
    import signal

    from sim import outputs

    journal = tmp_path / "journal"
    monkeypatch.setenv("GOVSIM_STATE_DIR", str(journal))
    out = tmp_path / "elsewhere" / "brief"
    child = subprocess.Popen(
        [sys.executable, "-c", ("import sys, time\nfrom pathlib import Path\n"
                                "from sim.outputs import staged_folder\n"
                                "with staged_folder(Path(sys.argv[1])) as tmp:\n"
                                "    (tmp / 'report.html').write_text('half')\n"
                                "    print('staged', flush=True)\n    time.sleep(60)\n"),
         str(out)],
        stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert child.stdout.readline().strip() == "staged"
    child.send_signal(signal.SIGKILL)
    child.wait()
    staged = [p for p in out.parent.iterdir() if ".stage-" in p.name]
    assert len(staged) == 1 and (staged[0] / "report.html").is_file()
    assert len(list(journal.iterdir())) == 1  # its note
    live = out.parent / f".other.stage-{os.getpid()}-xyz"
    live.mkdir()
    with outputs.staged_folder(tmp_path / "mine") as mine:  # a live write's note: kept
        assert govsim("check", "hotline") == 0
        assert mine.is_dir()
    assert sorted(p.name for p in out.parent.iterdir()) == [live.name]
    assert list(journal.iterdir()) == []  # and none left by the finished write
