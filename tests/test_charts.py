"""Tests of the briefing charts: each returns a Figure with the expected title, axes, labels,
legend entries and artists, in English and Chinese, and draws without a single warning (no
missing glyphs, no font fallback notes) to PNG, SVG and PDF.

The runs are small (a synthetic city of 8 streets, 60 days) so the file takes seconds.
"""

from __future__ import annotations

import io
import itertools
import logging
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from sim import charts
from sim.charts import style
from sim.charts.funnel import funnel_counts
from sim.charts.rates import monthly_rates, published_targets
from sim.charts.surge import open_cases, surge_ratio
from sim.errors import InputError
from sim.results import Result
from tests.conftest import small_run

REGIMES = ("fragmented", "whistle", "hotline", "proactive")
SHOCK = {"demand": {"shocks": [{"start_day": 20, "days": 7, "multiplier": 3.0}]}}
LANGS = ("en", "zh")


@pytest.fixture(scope="module")
def four() -> list[Result]:
    return [small_run(p, days=60, seed=1, scale=0.5) for p in REGIMES]


@pytest.fixture(scope="module")
def shocked() -> list[Result]:
    return [small_run(p, days=50, seed=1, scale=0.5, **SHOCK) for p in ("fragmented", "hotline")]


def draw_cleanly(fig: Figure, caplog: pytest.LogCaptureFixture) -> None:
    """Render to every format with warnings as errors and no font-manager complaints."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="matplotlib"), warnings.catch_warnings():
        warnings.simplefilter("error")
        for fmt in ("png", "svg", "pdf"):
            fig.savefig(io.BytesIO(), format=fmt, dpi=60)
    fonts = [r.getMessage() for r in caplog.records if "findfont" in r.getMessage()
             or "Glyph" in r.getMessage()]
    assert not fonts, fonts


def texts(fig: Figure) -> str:
    """Every piece of text in the figure, joined (titles, labels, ticks, legends, notes)."""
    fig.draw_without_rendering()  # tick labels exist only once drawn
    return "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def title(ax) -> str:
    return ax.get_title(loc="left") or ax.get_title()


def legend_labels(fig: Figure) -> list[str]:
    out = []
    for leg in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        out += [t.get_text() for t in leg.get_texts()]
    return out


# ---------------------------------------------------------------------------------- style
def test_presets_keep_their_regime_style_and_others_get_spare_ones(four) -> None:
    rs = style.runs(four, "en")
    assert [r.label for r in rs] == ["Fragmented", "Whistle", "Hotline", "Proactive"]
    assert [r.style for r in rs] == [style.REGIME_STYLES[p] for p in REGIMES]
    again = style.runs([four[2], four[2]], "zh")
    assert again[0].label == "接诉即办" and again[1].label == "接诉即办 (2)"
    assert again[1].style == style.EXTRA_STYLES[0]
    named = style.runs({"mine": four[0]}, "en")
    assert named[0].label == "mine"


def test_bad_inputs_are_input_errors(four) -> None:
    with pytest.raises(InputError, match="lang"):
        charts.latency(four, lang="fr")
    with pytest.raises(InputError, match="results"):
        charts.funnel([])
    with pytest.raises(InputError, match="Result"):
        charts.funnel(["not a result"])
    with pytest.raises(InputError, match="basis"):
        charts.latency(four, basis="callback")
    with pytest.raises(InputError, match="measure"):
        charts.city_map(four, measure="happiness")


def test_regime_colours_stay_apart_in_greyscale() -> None:
    grey = []
    for regime in REGIMES:
        rgb = np.array([int(style.REGIME_STYLES[regime].color[i:i + 2], 16) for i in (1, 3, 5)])
        grey.append(rgb @ [0.299, 0.587, 0.114])
    assert all(a - b >= 25 for a, b in itertools.pairwise(grey)), grey  # darker in order
    dashes = {str(style.REGIME_STYLES[r].linestyle) for r in REGIMES}
    hatches = {style.REGIME_STYLES[r].hatch for r in REGIMES}
    markers = {style.REGIME_STYLES[r].marker for r in REGIMES}
    assert len(dashes) == len(hatches) == len(markers) == 4


def test_the_cjk_font_ships_in_the_package_in_two_weights() -> None:
    """One font, Regular and Bold, from sim/fonts with its licence; it has every character of
    the project's own text (else: bin/build-cjk-font)."""
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    from sim import fonts

    assert style.register_fonts() == style.CJK_FAMILY
    assert (fonts.FONT_DIR / "OFL.txt").read_text().startswith("Copyright 2014-2021 Adobe")
    text = fonts.project_text_chars()
    for weight, os2 in (("regular", 400), ("bold", 700)):
        path = style.cjk_font_path(weight)
        assert path.parent == fonts.FONT_DIR and path.stat().st_size < 5_000_000
        font = TTFont(path)
        assert font["name"].getDebugName(1) == style.CJK_FAMILY
        assert font["OS/2"].usWeightClass == os2
        missing = sorted(chr(c) for c in text - set(font.getBestCmap()) if c > 0x2E7F)
        assert not missing, f"not in {path.name}: {''.join(missing)}; run bin/build-cjk-font"
        found = font_manager.findfont(font_manager.FontProperties(family=style.CJK_FAMILY,
                                                                  weight=weight))
        assert Path(found) == path  # matplotlib draws bold Chinese with the bold face


def test_number_formats() -> None:
    assert style.fmt_days(30.0, "en") == "1.2 days"
    assert style.fmt_days(30.0, "zh") == "1.2天"
    assert style.fmt_days(5.0, "en") == "5.0 h"
    assert style.fmt_count(65_014.0, "en") == "65,000"
    assert style.fmt_count(65_014.0, "zh") == "6.5万"
    assert style.fmt_pct(0.531) == "53%"
    assert style.wrap("一二三四五六七八九十，一二三四五六七八九十", "zh", 1.5, 12).count("\n") >= 1


def test_charts_leave_pyplot_alone(four) -> None:
    before = plt.get_fignums()
    charts.funnel(four)
    assert plt.get_fignums() == before


# ----------------------------------------------------------------------------- each chart
@pytest.mark.parametrize("lang", LANGS)
def test_latency(four, lang, caplog) -> None:
    fig = charts.latency(four, lang=lang)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert ("log" in ax.get_xlabel()) if lang == "en" else ("对数" in ax.get_xlabel())
    assert ("all problems" in ax.get_ylabel()) if lang == "en" else ("全部问题" in ax.get_ylabel())
    assert "%" in ax.get_ylabel()
    labels = legend_labels(fig)
    assert len(labels) == 4
    rs = style.runs(four, lang)
    # the title ranks the summary's share of all problems resolved within a week
    week = [r.result.measures["resolved_within_7d_share"] for r in rs]
    best, worst = rs[int(np.argmax(week))], rs[int(np.argmin(week))]
    title = fig.get_suptitle().replace("\n", " ")
    assert best.label in title and worst.label in title
    assert style.fmt_pct(max(week)) in title and style.fmt_pct(min(week)) in title
    for run, label in zip(rs, labels, strict=True):
        assert style.fmt_pct(run.result.measures["resolved_within_7d_share"]) in label
    # each curve ends at its share resolved by the end of the run, below 100 %: the
    # unresolved count
    curves = [line for line in ax.lines if len(line.get_xdata()) > 2]
    assert len(curves) == 4 and all(np.nanmax(c.get_ydata()) < 100 for c in curves)
    assert "seed 1" in texts(fig) or "随机种子 1" in texts(fig)
    draw_cleanly(fig, caplog)


def test_latency_curve_is_the_summary_measure(four) -> None:
    from sim.charts.latency import curve_points
    from sim.resolution import resolution_curve

    r = four[0]
    curve = resolution_curve(r.problems, 24.0 * r.scenario.days)
    days, share = curve_points(curve)
    at_week = share[np.searchsorted(days, 7.0) - 1]  # the grid point just below a week
    assert at_week <= r.measures["resolved_within_7d_share"] + 1e-12
    assert days[-1] == pytest.approx(curve.follow_up_h / 24.0)


def test_latency_from_report_and_one_run(four, caplog) -> None:
    fig = charts.latency(four[2], basis="report")
    assert "report" in fig.axes[0].get_xlabel()
    title = fig.get_suptitle().replace("\n", " ")
    assert "of all reported problems are resolved within a week" in title
    draw_cleanly(fig, caplog)


@pytest.mark.parametrize("lang", LANGS)
def test_workload(four, lang, caplog) -> None:
    fig = charts.workload(four, lang=lang)
    top, bottom = fig.axes[:-1], fig.axes[-1]
    assert [title(ax) for ax in top] == [
        style.unit_label(u, lang) for u in ("street", "enforcement", "department",
                                            "district_centre", "hotline")]
    assert top[0].get_ylabel().startswith("Staff hours per week" if lang == "en" else "每周工时")
    assert top[0].get_ylim() == top[-1].get_ylim()  # one scale: heights compare
    assert legend_labels(fig) == [r.label for r in style.runs(four, lang)]
    ticks = dict(zip([t.get_text() for t in bottom.get_yticklabels()], bottom.get_yticks(),
                     strict=True))
    labels = [r.label for r in style.runs(four, lang)]
    assert sorted(ticks, key=ticks.get, reverse=True) == labels  # first run on top
    assert "%" in bottom.get_xlabel()
    dots = [c for c in bottom.collections if isinstance(c, PathCollection)]
    # one dot per simulated street per run (scale 0.5: about half of the 8)
    assert sum(len(c.get_offsets()) for c in dots) == sum(r.meta["simulated_streets"]
                                                          for r in four)
    draw_cleanly(fig, caplog)


def test_workload_of_one_fragmented_run_has_no_hotline_panel(four) -> None:
    fig = charts.workload(four[0])
    titles = [title(ax) for ax in fig.axes]
    assert "12345 hotline" not in titles and "Enforcement teams" not in titles
    assert "carry" in fig.get_suptitle()


@pytest.mark.parametrize("lang", LANGS)
def test_rates(four, lang, caplog) -> None:
    fig = charts.rates(four, lang=lang)
    assert len(fig.axes) == 3
    assert [title(ax) for ax in fig.axes] == (
        ["Response rate", "Resolution rate", "Satisfaction rate"] if lang == "en"
        else ["响应率", "解决率", "满意率"])
    assert fig.axes[0].get_ylim()[0] == 0 and "%" in fig.axes[0].get_ylabel()
    assert all(len(ax.lines) == 4 for ax in fig.axes)  # no published overlay by default
    assert legend_labels(fig) == [r.label for r in style.runs(four, lang)]
    draw_cleanly(fig, caplog)


def test_rates_overlay_the_published_figures_on_request(four) -> None:
    fig = charts.rates(four[2:3], published=True)
    resolution = fig.axes[1]
    stars = [ln for ln in resolution.lines if ln.get_marker() == "*"]
    assert len(stars) == 1  # January 2019 (the run covers Jan-Feb 2019)
    assert stars[0].get_ydata()[0] == pytest.approx(53.09)
    assert "Published Beijing figure" in legend_labels(fig)
    assert "53.1%" in fig.get_suptitle() and "2019-01" in fig.get_suptitle()
    off = charts.rates(four[2:3], published=False)
    assert not [ln for ax in off.axes for ln in ax.lines if ln.get_marker() == "*"]


def test_rates_overlay_automatically_for_a_timeline(four) -> None:
    from sim.scenario import schema

    if "timeline" not in schema.Scenario.model_fields:
        pytest.skip("the scenario schema has no timeline yet")
    r = four[2]
    change = schema.Change(date="2019-01-15", note="test", set={"ranking.enabled": True})
    timed = Result(r.scenario.model_copy(update={"timeline": [change]}), r.problems,
                   r.units_daily, r.rankings, r.daily, r.summary, r.meta)
    fig = charts.rates(timed)
    assert [ln for ln in fig.axes[1].lines if ln.get_marker() == "*"]


def test_published_targets_and_monthly_rates(four) -> None:
    targets = published_targets()
    jan = targets[(targets["rate"] == "resolution") & (targets["period"] == "2019-01")]
    assert jan["value"].item() == pytest.approx(0.5309)
    m = monthly_rates(four[2], "cases")
    assert list(m.columns) == ["response", "resolution", "satisfaction"]
    assert len(m) == 2  # Jan and Feb; the one day of March is left out
    assert m.notna().all().all() and ((m >= 0) & (m <= 1)).all().all()


@pytest.mark.parametrize("lang", LANGS)
def test_funnel(four, lang, caplog) -> None:
    fig = charts.funnel(four, lang=lang)
    ax = fig.axes[0]
    stages = [t.get_text() for t in ax.get_xticklabels()]
    counts = [funnel_counts(r) for r in four]
    assert len(stages) >= 4
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 4 * len(stages)
    assert legend_labels(fig) == [r.label for r in style.runs(four, lang)]
    shares = [c["resolved"] / c["occurred"] for c in counts]
    assert style.fmt_pct(max(shares)) in fig.get_suptitle()
    assert "real city" in ax.get_ylabel() or "全市" in ax.get_ylabel()
    draw_cleanly(fig, caplog)


@pytest.mark.parametrize("lang", LANGS)
def test_surge(shocked, lang, caplog) -> None:
    fig = charts.surge(shocked, lang=lang)
    ax1, ax2 = fig.axes
    for ax in (ax1, ax2):
        spans = [p for p in ax.patches if p.get_x() == pytest.approx(19.5)]
        assert len(spans) == 1  # the shock window, shaded
        assert len(ax.lines) == 2
    assert "×3" in fig.get_suptitle()
    assert "days" in ax2.get_ylabel() or "天" in ax2.get_ylabel()
    draw_cleanly(fig, caplog)


def test_surge_without_a_shock_says_so(four) -> None:
    assert "No demand shock" in charts.surge(four[:2]).get_suptitle()


def test_surge_waits_are_each_days_share_of_all_problems_resolved_within_a_week(shocked) -> None:
    """The bottom panel plots, in %, for each day, what `sim.resolution` computes from the
    problem table for the problems that arose that day; the last 7 days are not drawn."""
    from sim.resolution import resolution_curve

    fig = charts.surge(shocked)
    ax2 = fig.axes[1]
    assert "%" in ax2.get_ylabel() and "all problems" in title(ax2)
    for run, line in zip(shocked, ax2.lines, strict=True):
        y = np.asarray(line.get_ydata(), float)
        days = run.scenario.days
        assert len(y) == days and np.isnan(y[days - 7:]).all() and np.isfinite(y[:days - 7]).all()
        p = run.problems
        for d in (0, 19, 22, 30, days - 8):
            curve = resolution_curve(p[p["occurred_day"] == d], 24.0 * days)
            assert y[d] == pytest.approx(100 * curve.share_within(24.0 * 7), abs=1e-9), d
    # the surge leaves more of its problems unresolved within a week
    hot = np.asarray(ax2.lines[1].get_ydata(), float)
    assert np.nanmin(hot[20:27]) < np.nanmean(hot[5:15])


def test_surge_measures(shocked) -> None:
    backlog = open_cases(shocked[1])
    assert len(backlog) == 50 and (backlog >= 0).all()
    assert surge_ratio(backlog, 20, 7) > 1.2  # the surge fills the queues


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("measure", ["resolved_7d", "backlog", "complaints", "resolved_latency"])
def test_city_map(four, lang, measure, caplog) -> None:
    fig = charts.city_map(four[:2], measure=measure, lang=lang)
    panels = [ax for ax in fig.axes if title(ax)]
    assert [title(ax) for ax in panels] == [r.label for r in style.runs(four[:2], lang)]
    for ax in panels:
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert sum(len(c.get_offsets()) for c in dots) == 8  # every street, data or not
    colorbar = [ax for ax in fig.axes if ax not in panels]
    assert colorbar and "(" in colorbar[0].get_ylabel()  # the unit
    draw_cleanly(fig, caplog)


def _map_values(ax) -> np.ndarray:
    """The values of the filled dots of a map panel, in street order (hollow: no data)."""
    dots = [c for c in ax.collections if isinstance(c, PathCollection) and c.get_array() is not None]
    return np.asarray(dots[0].get_array(), float)


@pytest.mark.parametrize("lang", LANGS)
def test_city_map_shows_each_streets_share_of_all_problems_resolved_within_a_week(
        four, lang) -> None:
    """Each dot's colour value is the street's share (%) of all its problems resolved within
    7 days, as `sim.resolution` computes it from the problem table; pooled over the streets,
    the same curve gives the summary's figure. The legend says %."""
    from sim.charts.maps import city_of
    from sim.resolution import resolution_curve

    fig = charts.city_map(four[:2], lang=lang)
    panels = [ax for ax in fig.axes if title(ax)]
    colorbar = next(ax for ax in fig.axes if ax not in panels)
    assert colorbar.get_ylabel().endswith("(%)")
    assert ("all problems" in colorbar.get_ylabel()) if lang == "en" else (
        "全部" in colorbar.get_ylabel())
    for run, ax in zip(four[:2], panels, strict=True):
        city = city_of(run)
        p = run.problems
        expected = []
        for name in city.street_names:
            mine = p[p["street"].astype(str) == name]
            if len(mine):
                curve = resolution_curve(mine, 24.0 * run.scenario.days)
                expected.append(100 * curve.share_within(24.0 * 7))
        np.testing.assert_allclose(_map_values(ax), expected, atol=1e-9)
        assert all(0 <= v <= 100 for v in expected)
    whole = resolution_curve(four[0].problems, 24.0 * four[0].scenario.days)
    assert whole.share_within(24.0 * 7) == pytest.approx(
        four[0].measures["resolved_within_7d_share"])


def test_city_map_resolved_only_median_says_so(four) -> None:
    fig = charts.city_map(four[:2], measure="resolved_latency")
    panels = [ax for ax in fig.axes if title(ax)]
    colorbar = next(ax for ax in fig.axes if ax not in panels)
    assert "resolved problems only" in colorbar.get_ylabel()
    assert "(days)" in colorbar.get_ylabel()
    p = four[0].problems
    ok = p["latency_occurrence_h"].notna()
    medians = (p.loc[ok, "latency_occurrence_h"] / 24.0).groupby(
        p.loc[ok, "street"].astype(str), observed=True).median()
    got = _map_values(panels[0])
    assert sorted(got) == pytest.approx(sorted(medians.to_numpy()))


def _scale_bar(ax) -> tuple[float, str]:
    bar = next(line for line in ax.get_lines() if line.get_linewidth() == 2.5)
    label = next(t.get_text() for t in ax.texts if "km" in t.get_text() or "公里" in t.get_text())
    return float(np.ptp(bar.get_xdata())), label


@pytest.mark.parametrize("lang", LANGS)
def test_city_map_draws_beijing_outlines_and_an_honest_scale_bar(four, lang, caplog) -> None:
    """Beijing's 16 districts as outlines (18 rings: Chaoyang's airport exclave is a hole in
    Shunyi); the scale bar is as long, in the map's km, as its label says."""
    from matplotlib.collections import PolyCollection

    from sim.city import beijing_city

    fig = charts.city_map(four[0], city=beijing_city(), lang=lang)
    ax = next(ax for ax in fig.axes if title(ax))
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)
             and not isinstance(c, PathCollection)]
    assert polys and len(polys[0].get_paths()) == 18
    assert ax.get_aspect() == 1.0
    length, label = _scale_bar(ax)
    assert label in (f"{length:g} km", f"{length:g}公里")
    assert length == 50  # Beijing is about 160 km across
    x0, x1 = ax.get_xlim()
    assert 150 < x1 - x0 < 200
    note = "real boundaries" if lang == "en" else "真实边界"
    assert note in texts(fig)
    draw_cleanly(fig, caplog)


def test_city_map_of_a_generated_city_has_no_outlines(four) -> None:
    from matplotlib.collections import PolyCollection

    fig = charts.city_map(four[0])
    ax = next(ax for ax in fig.axes if title(ax))
    assert not [c for c in ax.collections if type(c) is PolyCollection]
    assert "real boundaries" not in texts(fig)


def test_city_map_of_a_run_on_a_city_object_needs_that_city() -> None:
    """Rebuilt from its scenario, such a run's city would be Beijing: an error, not a wrong map."""
    import sim
    from sim.city import synthetic_city

    city = synthetic_city(n_districts=2, streets_per_district=3, population=60_000, seed=2)
    run = sim.run("hotline", seed=0, days=5, scale=0.5, city=city)
    with pytest.raises(InputError, match="pass city="):
        charts.city_map(run)
    assert charts.city_map(run, city=city).get_suptitle()


def test_city_map_of_a_network_without_positions(four, tmp_path: Path) -> None:
    from sim.city import synthetic_city
    from sim.city.build import city_from_graph

    graph = synthetic_city(n_districts=2, streets_per_district=4, population=200_000).graph
    for _, data in graph.nodes(data=True):
        data.pop("pos", None)
    fig = charts.city_map(four[0], city=city_from_graph(graph, "no-pos"))
    assert fig.get_suptitle()


@pytest.mark.parametrize("lang", LANGS)
def test_rankings(four, lang, caplog) -> None:
    fig = charts.rankings(four, lang=lang)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4  # hotline and proactive rank units: shares and strip for each
    images = [im for ax in visible for im in ax.get_images() if isinstance(im, AxesImage)]
    assert len(images) == 2
    labels = legend_labels(fig)
    assert [lbl.split()[0] for lbl in labels] == list(style.CLASS_ORDER)
    assert "治理" in fig.get_suptitle()
    assert "Fragmented" in texts(fig) or "条块分割" in texts(fig)  # named as not ranked
    draw_cleanly(fig, caplog)


def test_rankings_of_unranked_runs(four) -> None:
    fig = charts.rankings(four[:2])
    assert "No run ranks" in fig.get_suptitle()
