"""Tests of `govsim brief` and `sim.briefing`: the folder it writes (PNG, SVG, HTML, PDF, CSV),
both languages, `--from` without recomputing, bad input as one line with exit status 2, and the
all-or-nothing output.

Runs are on a small synthetic city (`--set city.source=synthetic`), 20 days.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import api, cli
from sim.briefing import brief, findings, report
from sim.briefing import surge as surge_test
from sim.results import Result
from tests.conftest import small_run

SMALL = ["--days", "20", "--scale", "0.2", "--set", "city.source=synthetic",
         "--set", "city.synthetic.n_districts=2", "--set", "city.synthetic.streets_per_district=3",
         "--set", "city.synthetic.population=150000", "--set", "warmup_days=0"]
STEMS = ["01_latency", "02_funnel", "03_workload", "04_rates", "05_surge", "06_map"]


def govsim(*argv: str) -> int:
    return cli.main(list(argv))


def pdf_pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


def check_html(path: Path, n_charts: int) -> str:
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert page.count('<img src="data:image/svg+xml;base64,') == n_charts
    # self-contained: nothing to fetch (the method note names sources without links)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "url(data:font/woff;base64," in page
    return page


@pytest.fixture(scope="module")
def runs() -> list[Result]:
    return [small_run(p, days=40, seed=2, scale=0.5) for p in ("fragmented", "hotline")]


# ------------------------------------------------------------------------------ end to end
def test_brief_runs_the_four_presets_and_writes_everything(tmp_path: Path, capsys) -> None:
    out = tmp_path / "brief"
    assert govsim("brief", *SMALL, "--seeds", "2", "--warmup-days", "5", "--out", str(out)) == 0
    for stem in STEMS:
        for suffix in (".png", ".svg"):
            f = out / "charts" / f"{stem}{suffix}"
            assert f.is_file() and f.stat().st_size > 5_000, f
    assert (out / "charts" / "01_latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    drawn = sorted(f.stem for f in (out / "charts").glob("*.svg"))
    assert drawn[:len(STEMS)] == STEMS  # and the rankings, when a month was ranked
    page = check_html(out / "report.html", len(drawn))
    assert '<html lang="en">' in page and "Key figures" in page and "Data sources" in page
    for label in ("Fragmented", "Whistle", "Hotline", "Proactive"):
        assert label in page
    pdf = out / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf_pages(pdf) >= 2 + len(drawn)  # text pages, then one page per chart
    figures = pd.read_csv(out / "key_figures.csv", index_col=0)
    assert list(figures.columns) == ["Unit", "Fragmented", "Whistle", "Hotline", "Proactive"]
    assert figures.drop(columns="Unit").loc["Response rate"].between(0, 1).all()
    # the runs are kept, as a compare folder `--from` can read, and the surge runs beside them
    assert (out / "results" / "comparison.csv").is_file()
    assert sorted(p.name for p in (out / "results").iterdir() if p.is_dir()) == \
        ["fragmented", "hotline", "proactive", "seeds", "whistle"]
    assert (out / "results" / "seeds" / "hotline" / "seed1" / "summary.parquet").is_file()
    assert (out / "findings.csv").is_file()
    steps = pd.read_csv(out / "steps.csv")  # one reform step after another, in run order
    assert list(dict.fromkeys(zip(steps["before"], steps["after"], strict=True))) == [
        ("Fragmented", "Whistle"), ("Whistle", "Hotline"), ("Hotline", "Proactive")]
    assert "Prevented" in " ".join(figures.index) or "prevented" in " ".join(figures.index)
    surge = Result.load(out / "surge" / "hotline")
    assert surge.scenario.demand.shocks and surge.scenario.days == surge_test.MIN_DAYS
    assert "brief written to" in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers
    check_printed_figures(out, seeds=2)


def check_printed_figures(out: Path, seeds: int) -> None:
    """Every number the brief prints comes from the saved runs' summaries, in its unit: the
    key figures (means over the seeds) and the findings (ranges over the seeds)."""
    from html import unescape

    from sim.briefing.cli import load_compare, load_seeds
    from sim.charts import style

    loaded = load_compare(out / "results")
    reps = {label: load_seeds(out / "results", label, r) for label, r in loaded}
    assert {len(x) for x in reps.values()} == {seeds}
    assert all(r.scenario.warmup_days == 5 for _, r in loaded)
    page = unescape((out / "report.html").read_text(encoding="utf-8"))
    figures = pd.read_csv(out / "key_figures.csv", index_col=0)
    rs = style.runs([r for _, r in loaded], "en")
    by_label = {run.label: reps[name] for run, (name, _) in zip(rs, loaded, strict=True)}
    for kf in report.KEY_FIGURES:
        for run in rs:
            values = [findings.value(m, kf.column) for m in by_label[run.label]]
            factor = report.UNITS[kf.fmt][2]
            expected = report._mean(values, kf.fmt)
            assert figures.loc[kf.en, "Unit"] == report.UNITS[kf.fmt][0]
            assert figures.loc[kf.en, run.label] == pytest.approx(expected * factor, nan_ok=True)
            assert cli._cell(pd.Series({"v": expected}), "v", kf.fmt) in page
    found = findings.findings(by_label)
    for f in found:
        assert f.sentence("en") in page
    table = pd.read_csv(out / "findings.csv")
    week = table[table["measure"] == "resolved_within_7d_share"].set_index("run")
    for label, ms in by_label.items():
        values = [m["resolved_within_7d_share"] for m in ms]
        assert week.loc[label, "low"] == pytest.approx(min(values))
        assert week.loc[label, "seeds"] == seeds
        if week.loc[label, "role"] in ("best", "worst"):  # the finding prints their ranges
            lo, hi = style.fmt_pct(min(values)), style.fmt_pct(max(values))
            assert (f"(seeds: {lo}–{hi})" if lo != hi else "(the same in every seed)") in page
    # runs this small and short are flagged
    assert "Read with care" in page and "--days 180" in page and "warm-up days" in page


def test_brief_in_chinese_from_python(runs, tmp_path: Path) -> None:
    out = brief(runs, tmp_path / "zh", lang="zh")
    page = check_html(out / "report.html", 7)  # rankings too: the hotline ranks its units
    assert '<html lang="zh-CN">' in page and "主要发现" in page and "接诉即办" in page
    assert (out / "charts" / "07_rankings.svg").is_file()
    assert pdf_pages(out / "report.pdf") >= 9
    assert "响应率" in (out / "key_figures.csv").read_text(encoding="utf-8")


def test_brief_from_a_compare_folder_recomputes_nothing(tmp_path: Path, monkeypatch) -> None:
    compare = tmp_path / "cmp"
    assert govsim("compare", "fragmented", "hotline", *SMALL, "--seeds", "1", "--out",
                  str(compare)) == 0

    def no_runs(*args, **kwargs):
        raise AssertionError("brief --from must not run the model")

    monkeypatch.setattr(api, "run", no_runs)
    out = tmp_path / "from"
    assert govsim("brief", "--from", str(compare), "--no-surge", "--out", str(out)) == 0
    figures = pd.read_csv(out / "key_figures.csv", index_col=0)
    assert list(figures.columns) == ["Unit", "Fragmented", "Hotline"]  # compare's column order
    assert not (out / "results").exists()  # nothing new was computed
    # an earlier brief is replaced in place
    assert govsim("brief", "--from", str(compare), "--no-surge", "--out", str(out),
                  "--lang", "zh") == 0
    assert "主要发现" in (out / "report.html").read_text(encoding="utf-8")


def test_runs_with_a_shock_are_drawn_as_they_are(runs, tmp_path: Path, monkeypatch) -> None:
    shocked = [small_run(p, days=40, seed=2, scale=0.5,
                         demand={"shocks": [{"start_day": 10, "days": 5, "multiplier": 2.0}]})
               for p in ("fragmented", "hotline")]
    assert surge_test.has_shocks(shocked) and not surge_test.has_shocks(runs)
    compare = tmp_path / "cmp"
    compare.mkdir()
    for r in shocked:
        r.save(compare / r.scenario.name, csv=False)

    def no_surge(*args, **kwargs):
        raise AssertionError("runs with shocks need no surge runs")

    monkeypatch.setattr(surge_test, "run_surge", no_surge)
    assert govsim("brief", "--from", str(compare), "--out", str(tmp_path / "b")) == 0


def test_surge_plan() -> None:
    r = small_run("hotline", days=200, scale=0.5)
    plan = surge_test.plan([r])
    assert (plan.days, plan.start_day, plan.shock_days, plan.scale) == (120, 40, 15, 0.05)
    assert plan.warmup_days == surge_test.WARMUP_DAYS
    shock = plan.overrides()["demand.shocks"][0]
    assert shock == {"start_day": 40, "days": 15, "multiplier": surge_test.MULTIPLIER}
    assert "2.5" in plan.describe("en") and "2.5" in plan.describe("zh")


def test_key_figures_name_their_unit_and_match_the_summary(runs) -> None:
    from sim.charts import style

    columns, rows, table = report.key_figures(style.runs(runs, "en"), "en")
    assert columns == ["Fragmented", "Hotline"]
    assert len(rows) == len(report.KEY_FIGURES) and all(len(r) == 3 for r in rows)
    assert list(table.columns) == ["Unit", "Fragmented", "Hotline"]
    m = runs[1].measures
    # days are days: the summary's hours divided by 24, in the table, the CSV and the label
    median = "Median wait, resolved problems only"
    assert table.loc[median, "Unit"] == "days"
    assert table.loc[median, "Hotline"] == pytest.approx(
        m["resolved_latency_occurrence_h_median"] / 24)
    row = next(r for r in rows if r[0].startswith(median))
    assert row[0].endswith("(days)") and row[2] == f"{m['resolved_latency_occurrence_h_median'] / 24:.2f}"
    # the headline shares count every problem
    week = "Resolved within 7 days, all problems that arose"
    assert table.loc[week, "Unit"] == "share (0-1)"
    assert table.loc[week, "Hotline"] == pytest.approx(m["resolved_within_7d_share"])
    assert table.loc["Share of them resolved by the end of the run", "Hotline"] == \
        pytest.approx(m["resolved"] / m["occurred"])
    half = next(r for r in rows if r[0].startswith("Time by which half"))
    for cell, run in zip(half[1:], runs, strict=True):
        hours = run.measures["half_resolved_h"]
        assert cell == ("not reached" if np.isnan(hours) else f"{hours / 24:.2f}")


def test_key_figures_over_seeds_are_means(runs) -> None:
    from sim.charts import style

    rs = style.runs(runs, "en")
    a, b = runs[1].measures.copy(), runs[1].measures.copy()
    b["response_rate"], b["resolved_within_7d_share"] = 0.5, 0.1
    reps = {"Fragmented": [runs[0].measures] * 2, "Hotline": [a, b]}
    _, _, table = report.key_figures(rs, "en", reps)
    assert table.loc["Response rate", "Hotline"] == pytest.approx((a["response_rate"] + .5) / 2)


# -------------------------------------------------------------------------------- findings
def summaries(values: dict[str, list[float]], column: str = "resolved_within_7d_share",
              days: int = 365) -> dict[str, list[pd.Series]]:
    return {label: [pd.Series({column: v, "days": days, "seed": k}) for k, v in enumerate(vs)]
            for label, vs in values.items()}


def test_a_finding_that_holds_in_every_seed_gives_ranges_and_the_difference() -> None:
    found = findings.findings(summaries({"A": [0.60, 0.62, 0.64], "B": [0.20, 0.21, 0.30]}))
    week = found[0]
    assert week.ranked() == ("A", "B") and week.holds() == (3, 3)
    text = week.sentence("en")
    assert "A resolves 62% of all problems" in text and "(seeds: 60%–64%)" in text
    assert "24% under B (seeds: 20%–30%)" in text
    assert "holds in all 3 seeds (difference +34 to +41 points)" in text
    zh = week.sentence("zh")
    assert "A解决了全部问题的62%" in zh and "全部3个随机种子中成立" in zh


def test_a_finding_whose_order_flips_between_seeds_says_it_does_not_hold() -> None:
    found = findings.findings(summaries({"A": [0.60, 0.30, 0.64], "B": [0.50, 0.40, 0.50]}))
    k, n = found[0].holds()
    assert (k, n) == (2, 3)
    assert "holds in only 2 of 3 seeds, so this is not a finding" in found[0].sentence("en")
    assert "不能作为结论" in found[0].sentence("zh")


def test_a_run_tied_with_the_best_is_named() -> None:
    """Two runs give the same figure as shown: the finding does not crown one alone."""
    found = findings.findings(summaries({"A": [0.700, 0.702], "C": [0.701, 0.700],
                                         "B": [0.2, 0.21]}))
    assert "; C the same to the figure shown" in found[0].sentence("en")
    assert "C按所示精度相同" in found[0].sentence("zh")
    apart = findings.findings(summaries({"A": [0.7, 0.7], "C": [0.5, 0.5], "B": [0.2, 0.2]}))
    assert "same to the figure" not in apart[0].sentence("en")


def test_one_seed_gives_no_interval() -> None:
    text = findings.findings(summaries({"A": [0.6], "B": [0.2]}))[0].sentence("en")
    assert "one seed, so no interval" in text and "seeds:" not in text


def test_half_resolved_not_reached_is_slower_than_any_time() -> None:
    nan = float("nan")
    reps = summaries({"A": [30.0, 40.0], "B": [nan, nan], "C": [60.0, nan]}, "half_resolved_h",
                     days=90)
    half = findings.findings(reps)[1]
    assert half.measure.column == "half_resolved_h"
    assert half.ranked() == ("A", "B") and half.holds() == (2, 2)
    text = half.sentence("en")
    assert "within 1.5 days under A (seeds: 1.2 days–1.7 days)" in text
    assert "under B fewer than half are resolved in the 90 days" in text
    rows = findings.table([half]).set_index("run")
    assert rows.loc["A", "mean"] == pytest.approx(35 / 24) and rows.loc["A", "unit"] == "days"
    assert np.isnan(rows.loc["B", "mean"]) and rows.loc["C", "low"] == pytest.approx(60 / 24)


def test_warnings_for_runs_too_few_small_short_or_cold(runs) -> None:
    spec = runs[0].scenario  # 40 days, scale 0.5, no warm-up, one seed
    said = findings.warnings([spec], [runs[0].meta], 1, "en")
    assert any("Only 1 seed" in w for w in said)
    assert any("40 days simulated" in w and "--days 180" in w for w in said)
    assert any("0 warm-up days" in w for w in said)
    assert not any("of residents simulated" in w for w in said)  # scale 0.5 is enough
    small = spec.model_copy(update={"scale": 0.02, "days": 365, "warmup_days": 60})
    said = findings.warnings([small], [{"simulated_streets": 7, "streets": 343}], 3, "zh")
    assert len(said) == 1 and "2%" in said[0] and "343个街乡中的7个" in said[0]


# ------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("argv, message", [
    (["--from", "{tmp}/missing"], "--from: expected a folder written by govsim compare"),
    (["--from", "{tmp}", "hotline"], "either scenario FILES or --from DIR"),
    (["--from", "{tmp}", "--days", "5"], "no run options with --from"),
    (["--from", "{tmp}"], "subfolders with saved runs"),
    (["no-such-preset"], "a preset name"),
    (["hotline", "--set", "hotline.enabled=maybe"], "hotline.enabled"),
])
def test_bad_input_is_one_line_and_writes_nothing(argv, message, tmp_path: Path,
                                                  capsys) -> None:
    out = tmp_path / "out"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert govsim("brief", *argv, "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ") and "Traceback" not in err
    assert not out.exists()


def test_bad_language_is_a_usage_error(capsys) -> None:
    assert govsim("brief", "--lang", "fr") == 2
    assert "--lang" in capsys.readouterr().err


def test_a_damaged_saved_run_is_named(tmp_path: Path, runs, capsys) -> None:
    compare = tmp_path / "cmp"
    runs[0].save(compare / "broken", csv=False)
    (compare / "broken" / "problems.parquet").write_text("not parquet")
    assert govsim("brief", "--from", str(compare), "--out", str(tmp_path / "b")) == 2
    err = capsys.readouterr().err
    assert "broken/problems.parquet" in err and "a Parquet table written by govsim" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_an_unrelated_folder_is_not_overwritten(tmp_path: Path, runs, capsys) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    compare = tmp_path / "cmp"
    runs[0].save(compare / "fragmented", csv=False)
    assert govsim("brief", "--from", str(compare), "--out", str(out)) == 2
    assert (out / "notes.txt").read_text() == "keep me"


def test_interrupted_brief_leaves_nothing(tmp_path: Path, runs, monkeypatch) -> None:
    compare = tmp_path / "cmp"
    runs[0].save(compare / "fragmented", csv=False)
    from sim.briefing import report

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "write_brief", interrupted)  # govsim brief imports it when run
    out = tmp_path / "deep" / "brief"
    assert govsim("brief", "--from", str(compare), "--no-surge", "--out", str(out)) == 130
    assert not out.exists() and not (tmp_path / "deep").exists()


def test_the_time_charts_reading_guides_say_all_problems_count() -> None:
    """The latency, surge and map pages read over all problems that arose, in both languages:
    no guide speaks of medians of the resolved ones."""
    from sim.briefing.report import _CHARTS

    guides = {stem: (en, zh) for stem, _h, _hz, en, zh in _CHARTS}
    for stem in ("01_latency", "05_surge", "06_map"):
        en, zh = guides[stem]
        assert "all" in en and "median" not in en.lower(), stem
        assert "全部" in zh and "中位数" not in zh, stem


def test_staff_hours_in_a_finding_name_their_unit_in_both_languages() -> None:
    from sim.briefing.findings import fmt

    assert fmt(4.04e6, "hours", "en", 365) == "4.04 M h"
    assert fmt(4.04e6, "hours", "zh", 365) == "404万小时"


def test_a_range_the_seeds_agree_on_is_said_once():
    """Not "71 %–71 %" nor "+50 to +50 points": seeds that agree to the figure shown say so."""
    import numpy as np

    from sim.briefing import findings as f

    measure = f.MEASURES[0]
    same = f.Finding(measure, {"A": np.array([0.6101, 0.6102, 0.6099]),
                               "B": np.array([0.1101, 0.1102, 0.1099])}, 365)
    text = same.sentence("en")
    assert "(the same in every seed)" in text and "61%–61%" not in text
    assert "(difference +50 points in each)" in text and "+50 to +50" not in text
    assert "各随机种子相同" in same.sentence("zh")


def test_one_finding_per_reform_step_with_its_numbers_from_the_step_table():
    """Each reform step (a regime against the one before it) is a finding whose numbers are
    those of `step_table`: means, paired difference and its interval; overload is said."""
    import re

    import numpy as np
    import pandas as pd

    from sim.briefing import findings as f

    rng = np.random.default_rng(1)

    def row(resolved7, resolved, prevented, street, dept, overloaded, seed):
        return pd.Series({"occurred": 1000.0, "resolved": resolved, "prevented": prevented,
                          "reported": 600.0, "resolved_within_7d_share": resolved7,
                          "street_staff_hours": street, "department_staff_hours": dept,
                          "department_overloaded_units": overloaded, "seed": seed,
                          "days": 365})

    reps = {name: [row(base + rng.normal(0, 0.005), 1000 * (base + 0.1), prevented,
                       1000 + 100 * k, 2000, over, s) for s in range(3)]
            for k, (name, base, prevented, over) in enumerate(
                [("Old", 0.2, 0.0, 0), ("Whistle", 0.3, 0.0, 0), ("Hotline", 0.6, 0.0, 2),
                 ("Proactive", 0.6, 30.0, 1)])}
    table = f.step_table(reps)
    assert list(dict.fromkeys(zip(table["before"], table["after"], strict=True))) == [
        ("Old", "Whistle"), ("Whistle", "Hotline"), ("Hotline", "Proactive")]
    sentences = f.steps(reps, "en")
    assert len(sentences) == 3 + 2  # three steps, two regimes overloaded
    for sentence, (_, rows) in zip(sentences, table.groupby(["before", "after"], sort=False),
                                   strict=False):
        for r in rows.itertuples():
            if r.unit == "share":
                assert f"{100 * r.difference:+.1f} points" in sentence
                assert f"95% interval {100 * r.low:+.1f} to {100 * r.high:+.1f}" in sentence
            else:
                assert f"{100 * r.difference:+.1f}%" in sentence
    dealt = table[(table["after"] == "Proactive") & (table["measure"] == "dealt_share")].iloc[0]
    assert dealt["difference"] == pytest.approx(0.03, abs=1e-9)  # prevented counted as dealt
    assert "Hotline ends with 2 units overloaded" in sentences[3]
    assert "Proactive ends with 1 unit overloaded" in sentences[4]
    assert re.search(r"Proactive over Hotline: .*within seed noise", sentences[2])
    assert f.steps(reps, "zh")[0].startswith("Whistle相对于Old：")
