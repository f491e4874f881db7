"""Calibration: the published figures, the rules that compare a run with them, the fit, the
write-back into the scenario, and `govsim calibrate`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.calibration import fit as calib
from sim.calibration.targets import (
    RULE_COLUMNS,
    RULES,
    TOLERANCES,
    Target,
    heating_change,
    heating_tickets,
    passes,
    published_targets,
    scaled_error,
    simulated,
    simulated_all,
    state_at,
)
from sim.cli import main
from sim.errors import InputError
from sim.scenario.loader import deep_merge, load_scenario, presets_dir
from tests.conftest import SMALL_CITY

# A one-year hotline scenario on the Beijing city, tiny scale: cheap enough to fit in a test.
SCENARIO = """\
# a comment that write-back must keep
extends: {presets}/hotline.yaml
name: tiny-2019
start_date: 2019-01-01
days: 365
warmup_days: 0
scale: 0.001
demand:
  rate_per_10k_per_day: 1.0   # to be fitted
timeline:
  - date: 2019-06-01
    note: a change whose value is fitted
    set:
      hotline.reopen_prob: 0.5
"""

SPEC = """\
scenario: tiny.yaml
scale: 0.001
seeds: [0]
report_scale: 0.001
report_seeds: [0, 1]
budget: 12
method: nelder-mead
parameters:
  - {path: demand.rate_per_10k_per_day, low: 0.5, high: 6.0}
targets:
  - {measure: hotline_contacts, period: "2019"}
  - {measure: resolution_rate, period: 2019-10, fit: false}
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "tiny.yaml").write_text(SCENARIO.format(presets=presets_dir()), encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return spec


def test_published_figures_are_those_of_model_md():
    figures = {(t.measure, t.period, t.area): t.value for t in published_targets()}
    assert figures[("resolution_rate", "2019-01", "")] == 0.5309
    assert figures[("satisfaction_rate", "2019-10", "")] == 0.8539
    assert figures[("hotline_contacts", "2020", "")] == 11_039_400
    assert figures[("heating_change", "2020-21", "")] == -0.1322
    assert figures[("resolution_rate", "2022-09", "Chaoyang")] == 0.9478
    assert len(figures) == len(published_targets())  # no figure twice
    assert all(t.source for t in published_targets())  # every number names its source
    measures = {t.measure for t in published_targets()}
    assert measures <= set(RULES) and measures <= set(TOLERANCES)


def test_tolerances_judge_pass_and_fail_in_the_measures_terms():
    rate = Target("resolution_rate", "2024", 0.967, "year", "")
    assert passes(rate, 0.99) and not passes(rate, 0.9999)  # 3 points
    assert scaled_error(rate, 0.997) == pytest.approx(1.0)
    volume = Target("hotline_contacts", "2020", 11e6, "year", "")
    assert passes(volume, 11.6e6) and not passes(volume, 11.7e6)  # 6 %
    bound = Target("theme_problems", "2021-01..2024-12", 60, "at least", "")
    assert passes(bound, 400) and scaled_error(bound, 400) == 0.0  # a lower bound, met
    assert not passes(bound, 40)
    assert passes(rate, float("nan")) is None  # nothing comparable: neither


def test_state_at_applies_changes_up_to_the_date():
    s = load_scenario("beijing-2018-2024")
    assert not state_at(s, dt.date(2018, 6, 1)).hotline.enabled
    assert state_at(s, dt.date(2018, 6, 1)).whistle.enabled
    assert state_at(s, dt.date(2019, 1, 1)).hotline.enabled
    assert not state_at(s, dt.date(2021, 9, 1)).ranking.exclude_unreasonable
    assert state_at(s, dt.date(2021, 10, 1)).ranking.exclude_unreasonable


def _timeline_run() -> sim.Result:
    """Fragmented until 2019, then the hotline; themes from July 2019 (small city)."""
    data = deep_merge(load_scenario("fragmented").model_dump(), {
        "city": SMALL_CITY, "scale": 1.0, "seed": 3, "start_date": dt.date(2018, 1, 1),
        "days": 365 * 3 + 90})  # to the end of the 2020-21 heating season
    data["timeline"] = [
        {"date": "2019-01-01", "set": {"hotline.enabled": True, "ranking.enabled": True}},
        {"date": "2019-07-01", "set": {"themes.enabled": True}},
        {"date": "2020-06-01", "set": {"ranking.exclude_unreasonable": True}}]
    return sim.run(data)


@pytest.fixture(scope="module")
def timeline_run() -> sim.Result:
    return _timeline_run()


def test_monthly_reads_outcomes_and_channels_by_label(timeline_run):
    """The monthly table counts outcomes and channels by label: a problem table whose
    categories are in another order, or plain strings, gives the same months."""
    from sim.results import monthly

    r = timeline_run
    expected = monthly(r.problems, r.scenario)
    p = r.problems.copy()
    p["outcome"] = p["outcome"].cat.reorder_categories(p["outcome"].cat.categories[::-1])
    p["channel"] = p["channel"].astype(object)
    pd.testing.assert_frame_equal(monthly(p, r.scenario), expected)
    assert expected["prevented"].sum() >= 0 and expected["hotline_contacts"].sum() > 0


def test_rules_read_the_run_the_published_way(timeline_run):
    r = timeline_run
    m = r.monthly()

    def value(measure: str, period: str) -> float:
        return simulated(r, Target(measure, period, 1.0, "", ""), m)

    # 2018: no hotline yet: contacts through the departments' own lines
    assert value("hotline_contacts", "2018") == pytest.approx(
        m.loc["2018", "dept_line_contacts"].sum())
    assert value("hotline_contacts", "2019") == pytest.approx(
        m.loc["2019", "hotline_contacts"].sum())
    assert value("hotline_contacts", "2019") > 0
    # rates: tickets by callback; unreasonable requests left out once the assessment does
    assert value("resolution_rate", "2019-10") == pytest.approx(
        m.loc["2019-10", "ticket_resolution_rate"])
    assert value("resolution_rate", "2020-10") == pytest.approx(
        m.loc["2020-10", "scored_resolution_rate"])
    assert value("satisfaction_rate", "2020") == pytest.approx(np.mean(
        [m.loc[f"2020-{k:02d}", "ticket_satisfaction_rate" if k < 6
               else "scored_satisfaction_rate"] for k in range(1, 13)]))
    # unreasonable requests are never resolved, so leaving them out raises the rate
    assert (m.loc["2019", "scored_resolution_rate"] > m.loc["2019", "ticket_resolution_rate"]
            ).all()
    assert 0.0 < value("response_rate", "2019") <= 1.0
    # a year the run does not cover is NaN, not a partial count
    assert np.isnan(value("hotline_contacts", "2021"))
    # spans of months; requests are tickets, contacts add the consultations
    per_request = 1 + r.scenario.hotline.consultations_per_request
    assert value("hotline_contacts", "2019-01..2020-06") == pytest.approx(
        m.loc["2019-01":"2020-06", "hotline_contacts"].sum())
    assert value("hotline_requests", "2019-01..2020-06") * per_request == pytest.approx(
        value("hotline_contacts", "2019-01..2020-06"))
    p = r.problems
    entered = pd.Timestamp(r.scenario.start_date) + pd.to_timedelta(p["entered_h"], unit="h")
    tickets_2020 = entered[(p["channel"] == "hotline") & (entered.dt.year == 2020)]
    peak = tickets_2020.dt.floor("D").value_counts().max() * r.weight * per_request
    assert value("peak_day_contacts", "2020") == pytest.approx(peak)
    change = value("hotline_requests_change", "2020")
    assert change == pytest.approx(value("hotline_requests", "2020")
                                   / value("hotline_requests", "2019") - 1)


def test_a_lean_run_gives_the_figures_of_a_full_one():
    """`columns=RULE_COLUMNS` (what a fit evaluates: a problem table of the columns the rules
    read, no other tables) gives every target exactly the value the full result gives."""
    from sim.calibration.targets import RULE_COLUMNS

    scenario = load_scenario("beijing-2018-2024")  # its first two years: 2019's targets
    full = sim.run(scenario, seed=1, scale=0.01, days=731)
    lean = sim.run(scenario, seed=1, scale=0.01, days=731, columns=RULE_COLUMNS)
    assert list(lean.problems.columns) == list(RULE_COLUMNS) and lean.summary.empty
    pd.testing.assert_frame_equal(lean.problems, full.problems[list(RULE_COLUMNS)])
    targets = published_targets()
    values = simulated_all(lean, targets)
    assert np.isfinite(values).sum() >= 4  # 2019's rates and contacts at least
    np.testing.assert_array_equal(values, simulated_all(full, targets))
    # a column the table does not have is bad input, said before the run, not after it
    with pytest.raises(InputError, match="columns.*occured_h"):
        sim.run(scenario, seed=1, scale=0.01, columns=("occured_h",), days=10 ** 6)


def test_a_districts_figures_are_its_own(timeline_run):
    """An area restricts a rule to one district's problems; an area the city does not have
    gives no value rather than the city's."""
    r = timeline_run
    district = str(r.problems["district"].iloc[0])
    own = simulated(r, Target("hotline_requests", "2020", 1.0, "", "", area=district))
    city = simulated(r, Target("hotline_requests", "2020", 1.0, "", ""))
    assert 0 < own < city
    rate = simulated(r, Target("resolution_rate", "2020-10", 1.0, "", "", area=district))
    assert 0.0 <= rate <= 1.0
    assert np.isnan(simulated(r, Target("hotline_requests", "2020", 1.0, "", "",
                                        area="Beijing E-Town")))
    assert simulated_all(r, [Target("hotline_requests", "2020", 1.0, "", "", area=district)]
                         ) == [own]


def test_heating_change_compares_the_published_seasons(timeline_run):
    """2020-21 against 2019-20, from the season's opening to its close: the reported tickets
    (the published basis) and, separately, the problems that occurred."""
    r = timeline_run
    change = simulated(r, Target("heating_change", "2020-21", -0.13, "", ""))
    before, after = heating_tickets(r, "2019-20"), heating_tickets(r, "2020-21")
    assert before > 0 and change == pytest.approx(after / before - 1)
    p = r.problems
    occurred = pd.Timestamp(r.scenario.start_date) + pd.to_timedelta(p["occurred_h"], unit="h")
    heating = (p["category"] == "heating") & (p["outcome"] != "prevented")  # did not occur
    counts = [((occurred >= f"{y}-11-15") & (occurred < f"{y + 1}-03-16") & heating).sum()
              for y in (2019, 2020)]
    assert heating_change(r, "2020-21", when="occurred_h") == pytest.approx(
        counts[1] / counts[0] - 1)
    assert np.isnan(heating_tickets(r, "2021-22"))  # not in the run


def test_rate_steps_flag_moves_without_a_dated_event():
    months = pd.period_range("2019-01", "2019-06", freq="M")
    monthly = pd.DataFrame({"resolution_rate_published": [0.5, 0.52, 0.7, 0.71, 0.72, 0.9],
                            "satisfaction_rate_published": 0.8}, index=months)
    spec = load_scenario("hotline").model_copy(update={"timeline": [
        sim.scenario.schema.Change(date=dt.date(2019, 3, 10), note="a reform", set={})]})
    steps = calib.rate_steps(monthly, spec)
    assert list(steps["month"]) == ["2019-03", "2019-06"]
    assert list(steps["dated_event"]) == ["a reform", ""]


def test_spec_errors_name_the_field(tiny: Path):
    bad = tiny.read_text().replace("period: 2019-10", "period: 2031-10")
    tiny.write_text(bad)
    with pytest.raises(InputError) as err:
        calib.load_spec(tiny)
    assert err.value.field == "targets[1]" and "published figure" in err.value.expected

    tiny.write_text(SPEC.replace("- {path: demand.rate_per_10k_per_day, low: 0.5, high: 6.0}",
                                 "- {path: hotline.reopen_prob, at: 2019-07-01, low: 0, "
                                 "high: 1}"))
    with pytest.raises(InputError) as err:
        calib.load_spec(tiny)
    assert err.value.field == "parameters[0].at"

    tiny.write_text(SPEC.replace("high: 6.0", "high: 0.3"))
    with pytest.raises(InputError) as err:
        calib.load_spec(tiny)
    assert err.value.field == "parameters[0]" and "low < high" in err.value.expected

    tiny.write_text(SPEC.replace("low: 1.0, high: 12.0", "low: 0.5, high: 2.0").replace(
        "demand.rate_per_10k_per_day", "staffing.resolve_prob"))
    with pytest.raises(InputError) as err:  # 2.0 is no probability
        calib.load_spec(tiny)
    assert "staffing.resolve_prob" in err.value.field


def test_fit_recovers_the_demand_level_and_writes_it_back(tiny: Path):
    """One parameter, one target: the fitted demand level reproduces 2019's 6.96M contacts,
    and the value lands in the scenario file with its comments intact."""
    spec, path = calib.load_spec(tiny)
    fitted, history = calib.fit(spec, path, log=lambda _: None)
    assert len(history) <= spec.budget
    target = next(t for t, c in calib.chosen_targets(spec) if c.fit)
    got = calib.evaluate(fitted, [target], spec.seeds, spec.scale).iloc[0, 0]
    assert got == pytest.approx(6.96e6, rel=0.05)
    assert history["loss"].min() < history["loss"].iloc[0]

    calib.write_back(path, spec.parameters, fitted)
    text = path.read_text()
    assert "# a comment that write-back must keep" in text and "fitted by govsim" in text
    again = load_scenario(path)
    assert again.demand.rate_per_10k_per_day == pytest.approx(
        fitted.demand.rate_per_10k_per_day, rel=1e-3)
    assert again.timeline[0].note == "a change whose value is fitted"


def test_write_back_creates_a_missing_section(tiny: Path):
    spec, path = calib.load_spec(tiny)
    spec.parameters = [calib.Parameter(path="satisfaction.resolved_on_time", low=0.5, high=1.0)]
    changed = calib.apply_values(load_scenario(path), spec.parameters, [0.77])
    calib.write_back(path, spec.parameters, changed)
    assert "satisfaction:" in path.read_text()
    assert load_scenario(path).satisfaction.resolved_on_time == 0.77


def test_a_category_column_is_a_parameter_the_table_starts(tiny: Path):
    """`demand.categories.<key>.<column>` can be fitted: its start is the category table's
    value until the scenario overrides it, and the fit writes the override."""
    spec, path = calib.load_spec(tiny)
    spec.parameters = [calib.Parameter(path="demand.categories.housing.growth", low=0, high=1)]
    assert calib.current_values(load_scenario(path), spec.parameters) == [1.0]
    changed = calib.apply_values(load_scenario(path), spec.parameters, [0.3])
    calib.write_back(path, spec.parameters, changed)
    again = load_scenario(path)
    assert again.demand.categories["housing"].growth == 0.3
    assert calib.current_values(again, spec.parameters) == [0.3]
    assert "# to be fitted" in path.read_text()  # the file's comments are kept


def test_a_budget_too_small_for_one_step_is_bad_input(tiny: Path):
    """Differential evolution evaluates a generation at a time: a budget smaller than one
    says so, it does not fail on an empty history."""
    spec, path = calib.load_spec(tiny)
    spec.method, spec.popsize, spec.budget = "differential-evolution", 5, 3
    with pytest.raises(InputError, match="budget"):
        calib.fit(spec, path, log=lambda _: None)


def test_a_search_runs_first_and_the_fit_starts_from_its_best(tiny: Path, tmp_path: Path):
    """A spec's `search` (a global method at its own scale) runs before the fit; the fit's
    first point is the search's best, and the fitted values are the fit's best. Run again,
    a search whose budget is spent is not repeated."""
    spec, path = calib.load_spec(tiny)
    spec.search = calib.FitSettings(method="differential-evolution", scale=0.002, seeds=[1],
                                    budget=10, popsize=5)
    spec.budget = 4
    history_file = tmp_path / "history.csv"
    fitted, history = calib.fit(spec, path, log=lambda _: None, history_file=history_file)
    label = "demand.rate_per_10k_per_day"
    search, fit = history[history["stage"] == "search"], history[history["stage"] == "fit"]
    assert len(search) == 10 and len(fit) == 4 and list(history["stage"][:10]) == ["search"] * 10
    assert fit[label].iloc[0] == pytest.approx(search.loc[search["loss"].idxmin(), label])
    assert fitted.demand.rate_per_10k_per_day == pytest.approx(
        fit.loc[fit["loss"].idxmin(), label])
    # the search's points were judged at its own scale and seed: re-evaluated so, the loss agrees
    target = next(t for t, c in calib.chosen_targets(spec) if c.fit)
    first = search.iloc[0]
    value = calib.evaluate(calib.apply_values(load_scenario(path), spec.parameters,
                                              [first[label]]), [target], [1], 0.002).iloc[0, 0]
    assert scaled_error(target, value) ** 2 == pytest.approx(first["loss"])
    lines = []
    spec.budget = 5
    _, again = calib.fit(spec, path, log=lines.append, history_file=history_file)
    assert any(line.startswith("search: its 10 evaluations are done") for line in lines)
    assert len(again) == 15


def test_differential_evolution_improves_and_is_the_same_on_a_pool(tiny: Path):
    """The global method starts from the scenario's values among Sobol points and lowers the
    loss; run on two worker processes it makes exactly the same evaluations."""
    from sim.experiments.execute import LocalPool

    spec, path = calib.load_spec(tiny)
    spec.method, spec.budget = "differential-evolution", 10
    _, serial = calib.fit(spec, path, log=lambda _: None)
    assert len(serial) == 10
    assert serial["demand.rate_per_10k_per_day"].iloc[0] == pytest.approx(1.0)  # the file's
    assert serial["loss"].min() < serial["loss"].iloc[0]
    with LocalPool(2) as pool:
        _, pooled = calib.fit(spec, path, log=lambda _: None, backend=pool)

    def in_order(history):  # kept as each finishes: the order may differ, the rows may not
        return history.sort_values(list(history.columns)).reset_index(drop=True)

    pd.testing.assert_frame_equal(in_order(serial), in_order(pooled))


def test_least_squares_recovers_the_demand_level_and_keeps_its_jacobian(tiny: Path):
    """The default method: bounded trust-region least squares, the Jacobian's points run
    together; its last Jacobian gives the sensitivity and an interval at no extra runs."""
    spec, path = calib.load_spec(tiny)
    spec.method, spec.budget = "least-squares", 12
    spec.targets = [calib.TargetChoice(measure="hotline_contacts", period="2019"),
                    calib.TargetChoice(measure="resolution_rate", period="2019-10")]
    fitted, history = calib.fit(spec, path, log=lambda _: None)
    assert len(history) <= 12 and history["loss"].min() < history["loss"].iloc[0]
    contacts = next(t for t in published_targets() if t.key == "hotline_contacts 2019")
    got = calib.evaluate(fitted, [contacts], spec.seeds, spec.scale).iloc[0, 0]
    assert got == pytest.approx(6.96e6, rel=0.06)
    sens, intervals = calib.from_fit(spec, fitted, history.attrs["jacobian"])
    assert sens.iloc[0, 0] > 0
    assert np.isfinite(intervals["std_error"]).all()


def test_intervals_come_from_the_curvature_at_the_fit(tiny: Path):
    """Two fitted targets, one parameter: a finite interval around the value; the sensitivity
    of contacts to the demand level is positive."""
    spec, path = calib.load_spec(tiny)
    spec.targets = [calib.TargetChoice(measure="hotline_contacts", period="2019"),
                    calib.TargetChoice(measure="hotline_requests", period="2019-01..2021-11")]
    spec.targets[1] = calib.TargetChoice(measure="resolution_rate", period="2019-10")
    sens, intervals = calib.sensitivities(spec, load_scenario(path), log=lambda _: None)
    assert sens.loc["hotline_contacts 2019", "demand.rate_per_10k_per_day"] > 0
    row = intervals.iloc[0]
    assert np.isfinite(row["std_error"]) and row["std_error"] > 0
    assert row["ci95_low"] <= row["value"] <= row["ci95_high"]


def test_starting_simplex_steps_inward_by_the_spec_share():
    x0 = np.array([0.5, 0.95, 0.0])
    points = calib._simplex(x0, 0.1)
    assert points.shape == (4, 3) and np.array_equal(points[0], x0)
    assert np.allclose(points[1:] - x0, np.diag([0.1, -0.1, 0.1]))  # inward at the top bound


def test_write_back_sets_a_timeline_value(tiny: Path):
    spec, path = calib.load_spec(tiny)
    spec.parameters = [calib.Parameter(path="hotline.reopen_prob", at=dt.date(2019, 6, 1),
                                       low=0.0, high=1.0)]
    changed = calib.apply_values(load_scenario(path), spec.parameters, [0.83])
    calib.write_back(path, spec.parameters, changed)
    assert load_scenario(path).timeline[0].set["hotline.reopen_prob"] == 0.83
    assert calib.current_values(load_scenario(path), spec.parameters) == [0.83]


def test_cli_report_writes_table_and_chart(tiny: Path, tmp_path: Path, capsys):
    before = (tmp_path / "tiny.yaml").read_text()
    out = tmp_path / "report"
    assert main(["calibrate", str(tiny), "--report", "--serial", "--out", str(out)]) == 0
    table = pd.read_csv(out / "targets.csv")
    assert list(table["role"]) == ["fitted", "held out"]
    assert table["simulated"].notna().all()
    assert set(table["result"]) <= {"pass", "fail"} and (out / "steps.csv").exists()
    assert table["ci95_low"].le(table["simulated"]).all()
    assert (out / "calibration.png").stat().st_size > 10_000 and (out / "calibration.svg").exists()
    text = capsys.readouterr().out
    assert "Published vs simulated" in text and "6.96 M" in text and "fitted: " in text
    assert (tmp_path / "tiny.yaml").read_text() == before  # a report never edits the scenario


def test_cli_searches_first_unless_told_not_to(tiny: Path, tmp_path: Path, capsys):
    """`govsim calibrate` runs the spec's search, then the fit; `--no-search` only the fit.
    The fit's history says which stage made each evaluation."""
    spec = yaml.safe_load(tiny.read_text())
    spec.update(budget=3, method="least-squares", search={
        "method": "differential-evolution", "scale": 0.001, "seeds": [0], "budget": 5,
        "popsize": 5})
    tiny.write_text(yaml.safe_dump(spec))
    out = tmp_path / "fit"
    assert main(["calibrate", str(tiny), "--dry-run", "--serial", "--out", str(out)]) == 0
    history = pd.read_csv(out / "fit_history.csv")
    assert list(history["stage"]) == ["search"] * 5 + ["fit"] * 3
    out2 = tmp_path / "fit2"
    assert main(["calibrate", str(tiny), "--dry-run", "--serial", "--no-search", "--out",
                 str(out2)]) == 0
    assert list(pd.read_csv(out2 / "fit_history.csv")["stage"]) == ["fit"] * 3
    assert "search: differential-evolution, scale 0.001" in capsys.readouterr().err
    # a dry run's evaluations stay: the same command without --dry-run writes its best point
    # without evaluating again, and its least squares, replayed from the history, has the
    # Jacobian that gives the intervals
    dry = (out2 / "fit_history.csv").read_text()
    assert main(["calibrate", str(tiny), "--serial", "--no-search", "--out", str(out2)]) == 0
    err = capsys.readouterr().err
    assert "fit: its 3 evaluations are done (all in the history)" in err
    assert "values written" in err and (out2 / "parameters.csv").exists()
    assert (out2 / "fit_history.csv").read_text() == dry
    assert load_scenario(tmp_path / "tiny.yaml").demand.rate_per_10k_per_day == \
        pytest.approx(pd.read_csv(out2 / "fit_history.csv").sort_values("loss").iloc[0][
            "demand.rate_per_10k_per_day"], rel=1e-3)
    assert not (tmp_path / ".fit2.fit-history.csv").exists()  # written: the running copy goes


def test_cli_bad_spec_is_one_line(tmp_path: Path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"scenario": "nowhere.yaml", "parameters": [],
                                    "targets": []}))
    assert main(["calibrate", str(spec), "--report", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "parameters" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_calibrated_scenario_runs_from_the_cli(tmp_path: Path):
    """The timeline scenario itself: valid, and runs (a few months at tiny scale)."""
    assert main(["check", "beijing-2018-2024"]) == 0
    assert main(["run", "beijing-2018-2024", "--days", "60", "--scale", "0.001",
                 "--out", str(tmp_path / "b")]) == 0
    spec, path = calib.load_spec("beijing")
    assert path.name == "beijing-2018-2024.yaml" and len(spec.parameters) >= 5


def test_a_fit_is_never_written_into_an_installed_package(tmp_path: Path, monkeypatch, capsys):
    """In a source checkout the fit goes into the shipped scenario (that is how it is kept);
    installed from a wheel, the shipped files are not the user's to change."""
    import sim.presets
    from sim.calibration.cli import installed_preset

    assert not installed_preset(sim.presets.presets_dir() / "beijing-2018-2024.yaml")
    site = tmp_path / "site-packages" / "sim" / "presets"  # no pyproject.toml two levels up
    sim.presets.copy_to(site)
    monkeypatch.setattr(sim.presets, "presets_dir", lambda: site)
    assert installed_preset(site / "beijing-2018-2024.yaml")
    out = tmp_path / "o"
    assert main(["calibrate", str(site / "calibration" / "beijing.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "govsim presets --copy" in err and len(err.splitlines()) == 1 and not out.exists()


def test_the_shipped_history_still_meets_its_fitted_targets():
    """The calibrated history, as shipped, at 2 % of streets on one seed (seconds of CPU): every
    fitted figure within twice its tolerance (the fit and its report run at 1:1; a change to
    the model that breaks the calibration shows here first)."""
    spec, scenario = calib.load_spec("beijing")
    fitted = [t for t, c in calib.chosen_targets(spec) if c.fit]
    result = sim.run(scenario, seed=0, scale=0.02, columns=RULE_COLUMNS)
    for target, value in zip(fitted, simulated_all(result, fitted), strict=True):
        assert abs(scaled_error(target, value)) <= 2.0, (target.key, value, target.value)
