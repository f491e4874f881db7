"""The fit's history as a durable record: a fit interrupted after any evaluation, at any stage,
and continued ends exactly where the uninterrupted fit ends (the same points and losses, none
evaluated twice); a history that is damaged, edited or not a history at all is set aside with
one line, never trusted.

The simulation is replaced by a smooth function of the parameters with a rough term (as a
discrete simulation is rough), so every interruption point of every method can be tried in a
second; `tests/test_kill.py` kills the real `govsim calibrate` at each stage."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration import fit as calib
from sim.calibration import history as fit_history
from sim.errors import InputError
from tests.conftest import SMALL_CITY

SCENARIO = f"""\
extends: hotline
name: history-test
start_date: 2019-01-01
days: 365
city: {{source: synthetic, synthetic: {SMALL_CITY['synthetic']}}}
demand: {{rate_per_10k_per_day: 1.0}}
staffing: {{resolve_prob: 0.5}}
"""

SPEC = """\
scenario: s.yaml
scale: 0.5
seeds: [0, 1]
report_scale: 0.5
parameters:
  - {path: demand.rate_per_10k_per_day, low: 0.5, high: 6.0}
  - {path: staffing.resolve_prob, low: 0.2, high: 0.95}
targets:
  - {measure: hotline_contacts, period: "2019"}
  - {measure: resolution_rate, period: 2019-10}
  - {measure: satisfaction_rate, period: 2019-10, weight: 0.5}
"""

#: The stages tried: a search then least squares; Nelder-Mead; differential evolution alone.
STAGES = {
    "search+least-squares": dict(method="least-squares", budget=9, search=dict(
        method="differential-evolution", popsize=3, budget=12, scale=0.25, seeds=[3])),
    "nelder-mead": dict(method="nelder-mead", budget=10, simplex=0.3),
    "differential-evolution": dict(method="differential-evolution", popsize=3, budget=12),
}


class Interrupted(BaseException):
    """Stands for a kill: raised right after an evaluation is kept."""


class Fake:
    """`evaluate_many` without a simulation: each target a function of the parameters, kept
    as each point finishes (in reverse order within a batch, as a pool may finish them), and
    interrupted after `stop_after` evaluations."""

    def __init__(self, stop_after: int | None = None):
        self.stop_after = stop_after
        self.count = 0

    def __call__(self, scenarios, targets, seeds, scale, backend=None, on_done=None):
        out = []
        for i in reversed(range(len(scenarios))):
            s = scenarios[i]
            rate, resolve = s.demand.rate_per_10k_per_day, s.staffing.resolve_prob
            rough = 0.01 * math.sin(40 * rate + 17 * resolve + scale)
            values = [3.0e6 * rate * (1 + rough), 0.45 + 0.45 * resolve - 0.02 * rate + rough,
                      0.6 + 0.3 * resolve + rough]
            table = pd.DataFrame({seed: values for seed in seeds},
                                 index=[t.key for t in targets], dtype=float)
            out.append(table)
            self.count += 1
            if on_done is not None:
                on_done(i, table)
            if self.stop_after is not None and self.count >= self.stop_after:
                raise Interrupted
        return out[::-1]


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    (tmp_path / "s.yaml").write_text(SCENARIO, encoding="utf-8")
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def _spec(spec_file: Path, kind: str) -> tuple[calib.CalibrationSpec, Path]:
    spec, scenario = calib.load_spec(spec_file)
    settings = dict(STAGES[kind])
    search = settings.pop("search", None)
    for key, value in settings.items():
        setattr(spec, key, value)
    spec.search = calib.FitSettings(**search) if search else None
    return spec, scenario


def _fit(monkeypatch, spec, scenario, history: Path, fake: Fake, lines=None):
    monkeypatch.setattr(calib, "evaluate_many", fake)
    return calib.fit(spec, scenario, log=(lines.append if lines is not None else lambda _: None),
                     history_file=history)


def _same(a: tuple, b: tuple) -> None:
    """The same fitted scenario, the same rows in the same order, the same Jacobian."""
    assert a[0] == b[0]
    pd.testing.assert_frame_equal(a[1], b[1])
    ja, jb = a[1].attrs.get("jacobian"), b[1].attrs.get("jacobian")
    assert (ja is None) == (jb is None)
    if ja is not None:
        pd.testing.assert_frame_equal(ja, jb)


@pytest.mark.parametrize("kind", list(STAGES))
def test_a_fit_interrupted_after_any_evaluation_ends_as_the_uninterrupted_one(
        spec_file: Path, tmp_path: Path, monkeypatch, kind: str):
    """Interrupted after evaluation k (every k), then continued until it finishes: the result,
    the history and the Jacobian are those of the fit that was never interrupted, and the
    evaluations made in all are exactly its evaluations."""
    spec, scenario = _spec(spec_file, kind)
    whole = Fake()
    reference = _fit(monkeypatch, spec, scenario, tmp_path / "ref.csv", whole)
    assert whole.count == len(reference[1]) > 5
    for k in range(1, whole.count):
        history = tmp_path / f"h{k}.csv"
        made = 0
        while True:  # interrupted after every k evaluations until it finishes
            fake = Fake(stop_after=k)
            try:
                result = _fit(monkeypatch, spec, scenario, history, fake)
                made += fake.count
                break
            except Interrupted:
                made += fake.count
        assert made == whole.count, (kind, k)
        _same(result, reference)


def test_a_row_cut_short_by_a_kill_is_evaluated_again(spec_file: Path, tmp_path: Path,
                                                      monkeypatch):
    spec, scenario = _spec(spec_file, "nelder-mead")
    reference = _fit(monkeypatch, spec, scenario, tmp_path / "ref.csv", Fake())
    history = tmp_path / "h.csv"
    with pytest.raises(Interrupted):
        _fit(monkeypatch, spec, scenario, history, Fake(stop_after=4))
    text = history.read_text()
    history.write_text(text[:-25])  # the last row half written
    lines: list[str] = []
    fake = Fake()
    result = _fit(monkeypatch, spec, scenario, history, fake, lines)
    _same(result, reference)
    assert fake.count == len(reference[1]) - 3  # the cut row again, and those never made
    assert "1 row(s) failed their check" in lines[0] and "kept as" in lines[0]
    assert (tmp_path / "h.superseded.csv").read_text() == text[:-25]


def _history_with(spec_file: Path, tmp_path: Path, monkeypatch) -> tuple[Path, tuple, tuple]:
    spec, scenario = _spec(spec_file, "nelder-mead")
    reference = _fit(monkeypatch, spec, scenario, tmp_path / "ref.csv", Fake())
    history = tmp_path / "h.csv"
    with pytest.raises(Interrupted):
        _fit(monkeypatch, spec, scenario, history, Fake(stop_after=5))
    return history, (spec, scenario), reference


def _edit(history: Path, row: int, column: str, value: str) -> None:
    lines = history.read_text().splitlines()
    header = lines[0].split(",")
    fields = lines[row + 1].split(",")
    fields[header.index(column)] = value
    lines[row + 1] = ",".join(fields)
    history.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("edit", ["loss 0", "loss empty", "value moved", "residuals",
                                  "checksum", "extra field", "nan loss"])
def test_an_edited_row_is_not_trusted(spec_file: Path, tmp_path: Path, monkeypatch,
                                      edit: str):
    """A loss edited to 0 or emptied, a moved value, changed residuals or checksum: the row is
    set aside and its point evaluated again, and the fit ends as if nothing had happened."""
    history, (spec, scenario), reference = _history_with(spec_file, tmp_path, monkeypatch)
    row = 2
    column, value = {"loss 0": ("loss", "0.0"), "loss empty": ("loss", ""),
                     "value moved": ("demand.rate_per_10k_per_day", "2.5"),
                     "residuals": ("residuals", "0.0 0.0 0.0"),
                     "checksum": ("checksum", "sha256:0"),
                     "extra field": ("checksum", "sha256:0,1"),
                     "nan loss": ("loss", "nan")}[edit]
    _edit(history, row, column, value)
    lines: list[str] = []
    fake = Fake()
    result = _fit(monkeypatch, spec, scenario, history, fake, lines)
    _same(result, reference)
    assert fake.count == len(reference[1]) - 4  # 5 were kept, 1 of them not trusted
    assert "1 row(s) failed their check" in lines[0]
    assert result[1]["loss"].min() > 0


@pytest.mark.parametrize("damage", ["random bytes", "empty", "folder", "other header",
                                    "not utf-8", "too large", "header only", "symlink"])
def test_a_history_that_is_not_one_is_set_aside(spec_file: Path, tmp_path: Path, monkeypatch,
                                                damage: str):
    """Random bytes, an empty file (as a full disk leaves it), a folder in its place, a history
    of other parameters, a file too large to read: one line says so, the thing is kept aside
    (never deleted), and the fit starts afresh."""
    spec, scenario = _spec(spec_file, "nelder-mead")
    reference = _fit(monkeypatch, spec, scenario, tmp_path / "ref.csv", Fake())
    history = tmp_path / "h.csv"
    if damage == "random bytes":
        history.write_bytes(np.random.default_rng(0).bytes(5000))
    elif damage == "empty":
        history.write_bytes(b"")
    elif damage == "folder":
        (history / "inside").mkdir(parents=True)
    elif damage == "other header":
        history.write_text("a,b,loss\n1,2,0.0\n")
    elif damage == "not utf-8":
        history.write_bytes(b"\xff\xfe" + (tmp_path / "ref.csv").read_bytes())
    elif damage == "too large":
        history.write_bytes((tmp_path / "ref.csv").read_bytes())
        monkeypatch.setattr(fit_history, "MAX_HISTORY_BYTES", 100)
    elif damage == "header only":
        history.write_text((tmp_path / "ref.csv").read_text().splitlines()[0] + "\n")
    else:
        history.symlink_to("/dev/zero")
    lines: list[str] = []
    fake = Fake()
    result = _fit(monkeypatch, spec, scenario, history, fake, lines)
    _same(result, reference)
    assert fake.count == len(reference[1])
    if damage == "header only":  # a fit stopped before its first evaluation: nothing to say
        assert not any("kept as" in line for line in lines)
        return
    said = [line for line in lines if str(history) in line]
    assert len(said) == 1 and "\n" not in said[0], lines
    assert ("starting afresh" in said[0]) and (damage == "empty" or "kept as" in said[0])
    aside = list(tmp_path.glob("h.superseded*"))
    assert len(aside) == (damage != "empty")


def test_rows_of_other_settings_are_kept_aside_and_the_rest_continued(
        spec_file: Path, tmp_path: Path, monkeypatch):
    """A fit whose seeds changed keeps its search and sets aside only the fit's rows."""
    spec, scenario = _spec(spec_file, "search+least-squares")
    history = tmp_path / "h.csv"
    _fit(monkeypatch, spec, scenario, history, Fake())
    rows = len(pd.read_csv(history))
    spec.seeds = [0, 1, 2]
    lines: list[str] = []
    fake = Fake()
    _, table = _fit(monkeypatch, spec, scenario, history, fake, lines)
    search = spec.search.budget
    assert f"{rows - search} were made with other" in lines[0] and \
        f"continuing from the {search} that can be used" in lines[0]
    assert fake.count == (table["stage"] == "fit").sum() > 0
    assert (table["stage"] == "search").sum() == search


def test_a_history_in_use_is_not_shared(spec_file: Path, tmp_path: Path):
    """While a fit holds its history, a second fit into the same folder is refused."""
    columns = fit_history.columns_for(["a"])
    path = tmp_path / "h.csv"
    with fit_history.FitHistory(path, columns) as first:
        first.open(lambda _: True)
        with pytest.raises(InputError, match="locked by a running govsim calibrate"):
            fit_history.FitHistory(path, columns).open(lambda _: True)
    fit_history.FitHistory(path, columns).open(lambda _: True)  # free again


def test_rows_read_back_are_the_numbers_written(tmp_path: Path):
    """repr round trip: a value read back is the value computed, to the last bit."""
    columns = fit_history.columns_for(["x"])
    row = {"x": 0.1 + 0.2, "loss": 1 / 3, "stage": "fit", "scale": 0.005, "seeds": "0 1",
           "objective": "abc", "code": "def", "residuals": "0.30000000000000004 -1e-300"}
    path = tmp_path / "h.csv"
    fit_history.write_rows(path, columns, [row])
    with fit_history.FitHistory(path, columns) as again:
        (back,) = again.open(lambda _: True)
    assert {k: back[k] for k in row} == row
    assert fit_history.residuals_of(back) == [0.30000000000000004, -1e-300]


def test_a_finished_fit_is_replayed_and_a_larger_budget_continues_it(
        spec_file: Path, tmp_path: Path, monkeypatch):
    """Run again, a finished fit replays its method from the history without evaluating
    anything; with a larger budget it continues as a fit given that budget at once would."""
    spec, scenario = _spec(spec_file, "nelder-mead")
    history = tmp_path / "h.csv"
    first = _fit(monkeypatch, spec, scenario, history, Fake())
    lines: list[str] = []
    fake = Fake()
    again = _fit(monkeypatch, spec, scenario, history, fake, lines)
    _same(again, first)
    assert fake.count == 0 and "continuing from 10 earlier evaluation(s)" in lines[0]
    assert any(line.startswith("fit: its 10 evaluations are done (all in the history)")
               for line in lines)
    spec.budget = 16
    longer = _fit(monkeypatch, spec, scenario, tmp_path / "ref.csv", Fake())
    lines = []
    fake = Fake()
    continued = _fit(monkeypatch, spec, scenario, history, fake, lines)
    _same(continued, longer)
    assert fake.count == 6 and any("16 evaluations, 6 new, 10 from the history" in line
                                   for line in lines)
    pd.testing.assert_frame_equal(continued[1].iloc[:10], first[1])


def test_a_continued_search_evaluates_only_new_points(spec_file: Path, tmp_path: Path,
                                                      monkeypatch):
    spec, scenario = _spec(spec_file, "differential-evolution")
    history = tmp_path / "h.csv"
    _, first = _fit(monkeypatch, spec, scenario, history, Fake())
    spec.budget = 24
    _, again = _fit(monkeypatch, spec, scenario, history, Fake())
    assert len(again) == 24
    pd.testing.assert_frame_equal(again.iloc[:12], first)
    points = again[["demand.rate_per_10k_per_day", "staffing.resolve_prob"]].round(9)
    assert not points.iloc[12:].apply(tuple, axis=1).isin(
        points.iloc[:12].apply(tuple, axis=1)).any()


def test_evaluations_of_other_code_are_kept_aside_not_mixed(spec_file: Path, tmp_path: Path,
                                                            monkeypatch):
    """A fit resumed after the engine changed starts afresh: the earlier losses were computed
    by other code. They are moved aside, never deleted."""
    spec, scenario = _spec(spec_file, "nelder-mead")
    history = tmp_path / "h.csv"
    _fit(monkeypatch, spec, scenario, history, Fake())
    earlier = history.read_text()
    monkeypatch.setattr(calib, "code_version", lambda extra=(): "another-engine")
    lines: list[str] = []
    _, second = _fit(monkeypatch, spec, scenario, history, Fake(), lines)
    assert "engine code" in lines[0] and "starting afresh" in lines[0]
    assert len(second) == 10 and (second["code"] == "another-engine").all()
    assert (tmp_path / "h.superseded.csv").read_text() == earlier


@pytest.mark.parametrize("change", ["scale", "seeds", "weight", "scenario"])
def test_evaluations_made_otherwise_are_kept_aside(spec_file: Path, tmp_path: Path,
                                                   monkeypatch, change: str):
    """A loss is of its scale, seeds, targets' weights and scenario: a fit where one of them
    changed starts afresh (the scenario's free parameters themselves may change)."""
    spec, scenario = _spec(spec_file, "nelder-mead")
    history = tmp_path / "h.csv"
    _fit(monkeypatch, spec, scenario, history, Fake())
    if change == "scale":
        spec.scale = 0.25
    elif change == "seeds":
        spec.seeds = [0, 2]
    elif change == "weight":
        spec.targets[0].weight = 2.0
    else:
        scenario.write_text(scenario.read_text().replace("days: 365", "days: 366"))
    lines: list[str] = []
    _fit(monkeypatch, spec, scenario, history, Fake(), lines)
    assert "10 were made with other" in lines[0] and "starting afresh" in lines[0]
    assert (tmp_path / "h.superseded.csv").exists()


def test_a_free_parameter_changed_in_the_scenario_keeps_the_evaluations(
        spec_file: Path, tmp_path: Path, monkeypatch):
    """The scenario's value of a free parameter is only where the fit starts: evaluations
    made from another start are still good, and any point the new path meets costs nothing."""
    spec, scenario = _spec(spec_file, "nelder-mead")
    history = tmp_path / "h.csv"
    _fit(monkeypatch, spec, scenario, history, Fake())
    scenario.write_text(scenario.read_text().replace("resolve_prob: 0.5", "resolve_prob: 0.6"))
    lines: list[str] = []
    fake = Fake()
    _, table = _fit(monkeypatch, spec, scenario, history, fake, lines)
    assert "continuing from 10 earlier evaluation(s)" in lines[0]
    assert len(table) == 20 and fake.count == 10  # a new path; the earlier rows kept after it
