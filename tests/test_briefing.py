"""Tests of `govsim brief` and `sim.briefing`: the folder it writes (PNG, SVG, HTML, PDF, CSV),
both languages, `--from` without recomputing, bad input as one line with exit status 2, and the
all-or-nothing output.

Runs are on a small synthetic city (`--set city.source=synthetic`), 20 days.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from sim import api, cli
from sim.briefing import brief, report
from sim.briefing import surge as surge_test
from sim.results import Result
from tests.conftest import small_run

SMALL = ["--days", "20", "--scale", "0.2", "--set", "city.source=synthetic",
         "--set", "city.synthetic.n_districts=2", "--set", "city.synthetic.streets_per_district=3",
         "--set", "city.synthetic.population=150000"]
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
    assert govsim("brief", *SMALL, "--out", str(out)) == 0
    for stem in STEMS:
        for suffix in (".png", ".svg"):
            f = out / "charts" / f"{stem}{suffix}"
            assert f.is_file() and f.stat().st_size > 5_000, f
    assert (out / "charts" / "01_latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = check_html(out / "report.html", len(STEMS))
    assert '<html lang="en">' in page and "Key figures" in page and "Data sources" in page
    for label in ("Fragmented", "Whistle", "Hotline", "Proactive"):
        assert label in page
    pdf = out / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf_pages(pdf) >= 2 + len(STEMS)  # text pages, then one page per chart
    figures = pd.read_csv(out / "key_figures.csv", index_col=0)
    assert list(figures.columns) == ["Fragmented", "Whistle", "Hotline", "Proactive"]
    assert figures.loc["Response rate"].between(0, 1).all()
    # the runs are kept, as a compare folder `--from` can read, and the surge runs beside them
    assert (out / "results" / "comparison.csv").is_file()
    assert sorted(p.name for p in (out / "results").iterdir() if p.is_dir()) == \
        ["fragmented", "hotline", "proactive", "whistle"]
    surge = Result.load(out / "surge" / "hotline")
    assert surge.scenario.demand.shocks and surge.scenario.days == surge_test.MIN_DAYS
    assert "brief written to" in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_brief_in_chinese_from_python(runs, tmp_path: Path) -> None:
    out = brief(runs, tmp_path / "zh", lang="zh")
    page = check_html(out / "report.html", 7)  # rankings too: the hotline ranks its units
    assert '<html lang="zh-CN">' in page and "主要发现" in page and "接诉即办" in page
    assert (out / "charts" / "07_rankings.svg").is_file()
    assert pdf_pages(out / "report.pdf") >= 9
    assert "响应率" in (out / "key_figures.csv").read_text(encoding="utf-8")


def test_brief_from_a_compare_folder_recomputes_nothing(tmp_path: Path, monkeypatch) -> None:
    compare = tmp_path / "cmp"
    assert govsim("compare", "fragmented", "hotline", *SMALL, "--out", str(compare)) == 0

    def no_runs(*args, **kwargs):
        raise AssertionError("brief --from must not run the model")

    monkeypatch.setattr(api, "run", no_runs)
    out = tmp_path / "from"
    assert govsim("brief", "--from", str(compare), "--no-surge", "--out", str(out)) == 0
    figures = pd.read_csv(out / "key_figures.csv", index_col=0)
    assert list(figures.columns) == ["Fragmented", "Hotline"]  # compare's column order
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


def test_key_figures(runs) -> None:
    from sim.charts import style

    columns, rows, table = report.key_figures(style.runs(runs, "en"), "en")
    assert columns == ["Fragmented", "Hotline"]
    assert len(rows) == len(report.KEY_FIGURES) and all(len(r) == 3 for r in rows)
    occurred = runs[1].measures["occurred"]
    assert table.loc["Share of them resolved", "Hotline"] == pytest.approx(
        runs[1].measures["resolved"] / occurred)
    assert rows[0][2].replace(".", "").isdigit()  # median days, formatted


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
    assert "broken" in err and "a complete saved run" in err


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
    from sim.briefing import cli as brief_cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(brief_cli, "write_brief", interrupted)
    out = tmp_path / "deep" / "brief"
    assert govsim("brief", "--from", str(compare), "--no-surge", "--out", str(out)) == 130
    assert not out.exists() and not (tmp_path / "deep").exists()
