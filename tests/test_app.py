"""The interactive page (`sim/app/`, `app.py`): the live figures are right, the controls do what
they say, the page builds for every preset, in Jupyter and in a real browser.

The browser test serves `app.py` on loopback and drives Debian's Chromium (installed by the test
when missing and possible; skipped with the reason otherwise). Its screenshot is kept in
`results/test-artefacts/app.png`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import runpy
from pathlib import Path

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import reacton.core
import solara

from sim.app import CityModel, app_scenario, explore
from sim.app.figures import CHARTS, ChartCanvas, MapCanvas, city_map, png
from sim.app.model import MECHANISMS, shared_city
from sim.cases import CLOSED_UNRESOLVED, RESOLVED
from sim.errors import InputError
from sim.model import GovernanceModel
from sim.scenario.loader import PRESETS, load_scenario
from sim.scenario.schema import Change

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "results" / "test-artefacts"
SMALL = {"city": "synthetic", "scale": 0.25, "days": 40}  # 5 of 20 streets, ~125 problems a day


def run_days(model: CityModel, days: int) -> None:
    for _ in range(days):
        model.step()


# ------------------------------------------------------------------------ the live figures
@pytest.mark.parametrize("preset", ["fragmented", "hotline"])
def test_open_cases_by_street_match_the_finished_run(preset: str) -> None:
    """Open cases by where the problem is, each midnight, equal what the finished run's records
    say was open then: entered by then and not closed by then (reopened tickets included)."""
    m = CityModel(preset, seed=3, **SMALL)
    seen = {}
    for d in range(30):
        m.step()
        seen[d] = m.watch.street_open.copy()
    run_days(m, m.total_days - m.day)
    m.finish()
    a = m.problem_columns()
    street = m.city.community_street[a["community"]]
    for d, got in seen.items():
        now = 24.0 * (d + 1)
        still_open = (a["entered_h"] <= now) & ~(a["closed_h"] <= now)
        expected = np.bincount(street[still_open], minlength=m.city.n_streets)
        assert np.array_equal(got, expected), d
    assert sum(s.sum() for s in seen.values()) > 0


def test_live_rates_and_latency_match_the_problem_records() -> None:
    m = CityModel("hotline", seed=4, **SMALL)
    run_days(m, 30)
    series = {k: v.copy() for k, v in m.view.series.items()}
    run_days(m, m.total_days - m.day)
    m.finish()
    a = m.problem_columns()
    closed = np.isin(a["outcome"], [RESOLVED, CLOSED_UNRESOLVED])
    day = np.floor(a["closed_h"] / 24.0)
    checked = 0
    for d in range(6, 30):
        pool = closed & (day >= d - 6) & (day <= d)
        if not pool.any():
            continue
        resolved = pool & (a["outcome"] == RESOLVED)
        assert series["resolution_rate"][d] == pytest.approx(resolved.sum() / pool.sum())
        assert series["satisfaction_rate"][d] == pytest.approx((a["satisfied"][pool] > 0).mean())
        quick = ((a["first_unit_h"] - a["entered_h"])[pool]
                 <= m.spec.hotline.response_limit_hours)
        assert series["response_rate"][d] == pytest.approx(quick.mean())
        days = (a["closed_h"] - a["occurred_h"])[resolved] / 24.0
        assert series["latency_median"][d] == pytest.approx(np.median(days))
        checked += 1
    assert checked >= 20


def test_the_share_resolved_within_a_week_is_the_result_tables_measure() -> None:
    """The live share of all problems resolved within 7 days, for the problems of the week
    ending each day, is what `sim.resolution` computes from the finished run's problem table
    for those problems (a share 0-1; the last 7 days not known yet, NaN)."""
    from sim.resolution import resolution_curve
    from sim.results import collect

    m = CityModel("hotline", seed=4, **SMALL)
    run_days(m, 30)
    seen = m.view.series["resolved_7d"].copy()
    today = m.view.figures["resolved_7d"]
    ax = CHARTS["resolved_7d"](m.view).axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), seen)  # the chart draws them
    assert "all problems" in ax.get_title(loc="left") and "share" in ax.get_ylabel()
    run_days(m, m.total_days - m.day)
    m.finish()
    problems = collect(m).problems
    horizon = 24.0 * m.spec.days
    assert np.isnan(seen[30 - 7:]).all()  # problems not yet watched for a week
    for d in range(30 - 7):
        week = problems[problems["occurred_day"].between(d - 6, d)]
        expected = resolution_curve(week, horizon).share_within(24.0 * 7)
        assert seen[d] == pytest.approx(expected, abs=1e-12), d
    assert today == seen[29 - 7]
    assert 0.0 < today < 1.0  # some problems of the week are not resolved within it


def test_a_switch_is_exactly_a_timeline_change() -> None:
    """Switching the whistle on at day 10 gives the same run as a scenario whose timeline does."""
    live = CityModel("fragmented", seed=2, **SMALL)
    run_days(live, 10)
    live.switch("whistle", True)
    assert live.pending() == [("whistle", True)]
    run_days(live, 20)
    assert live.spec.whistle.enabled and not live.pending()
    assert live.view.events == [(10, f"{MECHANISMS['whistle'][1]}: on")]

    spec, _ = app_scenario("fragmented", seed=2, **SMALL)
    change = Change(date=spec.start_date + dt.timedelta(days=10), set={"whistle.enabled": True})
    planned = GovernanceModel(spec.model_copy(update={"timeline": [change]}),
                              city=shared_city(spec.city))
    for _ in range(30):
        planned.step()
    a, b = live.problem_columns(), planned.problem_columns()
    assert len(a["outcome"]) > 100
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_same_settings_give_the_same_city() -> None:
    one, two = CityModel("whistle", seed=5, **SMALL), CityModel("whistle", seed=5, **SMALL)
    run_days(one, 15)
    run_days(two, 15)
    for name, values in one.view.series.items():
        np.testing.assert_array_equal(values, two.view.series[name], err_msg=name)
    np.testing.assert_array_equal(one.view.street_backlog, two.view.street_backlog)


def test_the_run_ends_at_its_last_day() -> None:
    m = CityModel("hotline", city="synthetic", scale=0.05, days=30)
    run_days(m, 31)
    assert not m.running and not m.view.running and m.view.day == 29


# ----------------------------------------------------------------------------- the controls
def test_controls_build_the_scenario() -> None:
    spec, file = app_scenario("fragmented", city="synthetic", scale=0.02, days=90, seed=7,
                              rate_per_10k_per_day=8.0, surge=True, surge_start_day=20,
                              surge_days=10, surge_multiplier=4.0,
                              switches={"hotline": "on", "patrols": "off", "whistle": "preset"})
    assert file.endswith("fragmented.yaml")
    assert (spec.city.source, spec.scale, spec.days, spec.seed) == ("synthetic", 0.02, 90, 7)
    assert spec.demand.rate_per_10k_per_day == 8.0
    shock = spec.demand.shocks[-1]
    assert (shock.start_day, shock.days, shock.multiplier) == (20, 10, 4.0)
    assert spec.hotline.enabled and not spec.patrols.enabled and not spec.whistle.enabled
    # the preset's own settings stay unless a control changes them
    base, _ = app_scenario("proactive")
    assert base.city.source == "beijing" and base.themes.enabled and not base.demand.shocks
    preset = load_scenario("proactive")
    assert base.demand.rate_per_10k_per_day == preset.demand.rate_per_10k_per_day
    assert base.warmup_days == 0  # the page plays from the first day


@pytest.mark.parametrize(("make", "field", "expected"), [
    (lambda: CityModel(preset="nope"), None, "an existing scenario file"),
    (lambda: CityModel(whistle="maybe"), "whistle", "one of preset, on, off"),
    (lambda: CityModel(city="paris"), "city", "one of beijing, synthetic, scenario"),
    (lambda: CityModel(scale=2.0), "scale", "a number <= 1"),
    (lambda: CityModel(surge=True, surge_days=0), "demand.shocks[0].days", "a number > 0"),
    (lambda: explore(colour="red"), "colour", "a setting of the page"),
    (lambda: explore(hotline="yes"), "hotline", "one of preset, on, off"),
    (lambda: CityModel(**SMALL).switch("teleport", True), "mechanism", "one of whistle"),
])
def test_bad_settings_name_the_field(make, field: str | None, expected: str) -> None:
    with pytest.raises(InputError) as err:
        make()
    assert err.value.field == field
    assert expected in err.value.expected


def test_pictures_draw_without_pyplot() -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    m = CityModel("proactive", surge=True, surge_start_day=3, **SMALL)
    run_days(m, 8)
    m.switch("themes", False)
    run_days(m, 2)
    for measure in ("backlog", "latency"):
        fig = city_map(m.view, m.city, measure)
        assert fig.axes[0].collections  # the streets
    for draw in CHARTS.values():
        ax = draw(m.view).axes[0]
        assert ax.lines and ax.patches  # the series, and the surge shaded
    with pytest.raises(InputError, match="measure"):
        city_map(m.view, m.city, "noise")
    assert plt.get_fignums() == before


def test_the_beijing_map_draws_the_district_outlines() -> None:
    from matplotlib.collections import PolyCollection

    from sim.city import beijing_city

    ax = MapCanvas(beijing_city()).fig.axes[0]
    polys = [c for c in ax.collections if type(c) is PolyCollection]
    assert len(polys) == 1 and len(polys[0].get_paths()) == 18  # 16 districts, an exclave, a hole
    assert ax.get_aspect() == 1.0


def test_a_reused_canvas_draws_what_a_new_one_draws() -> None:
    """The page updates one figure per picture in place; after a surge, a switch and more days
    each picture is byte for byte what a figure drawn afresh shows."""
    m = CityModel("hotline", surge=True, surge_start_day=2, surge_days=3, **SMALL)
    run_days(m, 3)
    first = m.view
    charts = {kind: ChartCanvas(kind, first) for kind in CHARTS}
    map_canvas = MapCanvas(m.city)
    for kind, canvas in charts.items():
        canvas.png(first)
    map_canvas.png(first, "latency")
    m.switch("ranking", False)
    run_days(m, 6)
    later = m.view
    for kind, canvas in charts.items():
        assert canvas.png(later) == png(CHARTS[kind](later)), kind
    for measure in ("backlog", "latency"):
        assert map_canvas.png(later, measure) == png(city_map(later, m.city, measure))
    assert png(CHARTS["backlog"](later)) != png(CHARTS["backlog"](first))


def test_the_default_page_steps_day_by_day() -> None:
    """The default page (Beijing, 1 % of residents) steps one day at a time. How long a day
    takes is measured (docs/app.md), not asserted: a shared machine is too noisy for a timed
    test."""
    m = CityModel()
    run_days(m, 5)
    before = m.day
    run_days(m, 20)
    assert m.day == before + 20


# ------------------------------------------------------------------------------- the page
def render(element):
    """Render the page with its sidebar (the app layout holds Mesa's controls)."""
    return solara.render(solara.AppLayout(children=[element]), handle_error=False)


def figures_of(rc) -> dict[str, str]:
    html = rc.find(solara.widgets.HTML, attributes={"style": "width:100%;font-size:0.85em"})
    return dict(re.findall(r'data-key="(\w+)"[^>]*>([^<]*)<', html.widget.unsafe_innerHTML))


def run_note(rc) -> str:
    notes = [str(w.children[0]) for w in rc.find(v.Html, tag="span").widgets
             if w.children and str(w.children[0]).startswith("Run:")]
    assert len(notes) == 1, notes
    return notes[0]


def button(rc, label: str):
    return rc.find(v.Btn, children=[label]).widget


@pytest.mark.parametrize("preset", PRESETS)
def test_the_page_builds_and_steps_for_each_preset(preset: str) -> None:
    _box, rc = render(explore(preset))
    try:
        assert len(rc.find(ipywidgets.Image).widgets) == 4  # the map and three charts
        assert figures_of(rc)["day"] == "not started"
        switches = {w.label: w.v_model for w in rc.find(v.Switch).widgets}
        spec, _ = app_scenario(preset)
        assert switches == {label: getattr(getattr(spec, f.split(".")[0]), f.split(".")[1])
                            for f, label in MECHANISMS.values()}
        images = [w.value for w in rc.find(ipywidgets.Image).widgets]
        button(rc, "Step").click()
        rc.find(solara.widgets.HTML).assert_not_empty()
        after = figures_of(rc)
        assert after["day"].startswith("0 (2019-01-01), 1 of 365 simulated")
        assert int(after["occurred"].replace(",", "")) > 0
        assert [w.value for w in rc.find(ipywidgets.Image).widgets] != images
    finally:
        rc.close()


def test_the_page_shows_none_of_mesas_defaults() -> None:
    """No tab "Page 0" over the one page, no "Use Threads" or render interval, and one day
    counter only (Mesa's step count was one ahead of it)."""
    _box, rc = render(explore("hotline", city="synthetic", scale=0.05))
    try:
        button(rc, "Step").click()
        texts = " ".join(str(t) for w in rc.find(v.Html).widgets for t in w.children
                         if isinstance(t, str))
        labels = " ".join(str(getattr(w, "label", "")) for w in rc.find(v.VuetifyWidget).widgets)
        for default in ("Page 0", "Use Threads", "Render Interval", "Time:"):
            assert default not in texts and default not in labels, default
        assert not rc.find(v.Tab).widgets
        assert figures_of(rc)["day"].startswith("0 (")
    finally:
        rc.close()


def test_an_empty_count_chart_has_whole_ticks() -> None:
    """Before the first day the backlog axis runs 0 to 1: its ticks are 0 and 1, not
    0 0 0 1 1 1."""
    model = CityModel(city="synthetic", scale=0.05, days=30)
    canvas = ChartCanvas("backlog", model.view)
    fig = canvas.draw(model.view)
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["0", "1"], ticks


def test_sidebar_controls_take_effect_on_reset_and_switches_the_next_day() -> None:
    _box, rc = render(explore("hotline", city="synthetic", scale=0.05))
    try:
        rc.find(v.Select, label="Regime (preset)").widget.v_model = "fragmented"
        rc.find(v.Checkbox, label="Surge").widget.v_model = True
        assert run_note(rc).startswith("Run: hotline")  # nothing changes before Reset
        button(rc, "Reset").click()
        note = run_note(rc)
        assert note.startswith("Run: fragmented") and "surge x3 days 60-73" in note
        whistle = rc.find(v.Switch, label=MECHANISMS["whistle"][1])
        assert whistle.widget.v_model is False
        whistle.widget.v_model = True  # on from the next day
        assert rc.find(v.Switch, label=MECHANISMS["whistle"][1] + " (from tomorrow)").widget
        button(rc, "Step").click()
        assert rc.find(v.Switch, label=MECHANISMS["whistle"][1]).widget.v_model is True
    finally:
        rc.close()


def test_app_py_follows_mesas_convention() -> None:
    """`solara run app.py` looks for `Page` (a component: one city per session); a Jupyter cell
    ends with `page`."""
    namespace = runpy.run_path(str(ROOT / "app.py"))
    assert isinstance(namespace["Page"], reacton.core.Component)
    assert isinstance(namespace["page"], reacton.core.Element)


def test_the_page_runs_as_the_last_expression_of_a_jupyter_cell() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from sim.app import explore\nexplore('whistle', city='synthetic')")])
    nbclient.NotebookClient(book, timeout=180, kernel_name="python3").execute()
    outputs = book.cells[0].outputs
    assert not [o for o in outputs if o.get("output_type") == "error"], outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
               for o in outputs), outputs


# ---------------------------------------------------------------------------- the browser
@pytest.fixture(scope="module")
def chromium() -> str:
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                        "(bin/setup --dev installs it)")
    from tests.app_browser_helpers import chromium_or_reason

    path, why = chromium_or_reason()
    if path is None:
        pytest.skip(why)
    return path


def test_in_a_real_browser(chromium: str, tmp_path: Path) -> None:
    """Load the page, wait for the map and charts, step, change the regime and a mechanism,
    step again: the figures, the map and the charts change. Keeps a screenshot."""
    from playwright.sync_api import expect, sync_playwright

    from tests.app_browser_helpers import (
        CHROMIUM_ARGS,
        app_server,
        choose,
        image_sources,
        images_drawn,
        key_figures,
        wait_for_day,
    )

    with app_server(tmp_path / "server.log") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1250})
            page.goto(url, wait_until="networkidle", timeout=120_000)
            wait_for_day(page, "not started", timeout_ms=120_000)
            page.wait_for_function("() => document.querySelectorAll("
                                   "'.govsim-map img, .govsim-chart img').length === 4")
            page.wait_for_function("() => [...document.querySelectorAll('.govsim-map img, "
                                   ".govsim-chart img')].every(i => i.complete && "
                                   "i.naturalWidth > 100)")
            assert images_drawn(page) == 4
            start_images = image_sources(page)

            page.get_by_role("button", name="Step", exact=True).click()
            wait_for_day(page, "0 (")
            hotline_day0 = key_figures(page)
            assert int(hotline_day0["occurred"].replace(",", "")) > 0
            page.wait_for_function("old => [...document.querySelectorAll('.govsim-map img, "
                                   ".govsim-chart img')].map(i => i.src).join() !== old.join()",
                                   arg=start_images)

            # a control: the regime, applied on Reset
            choose(page, "Regime (preset)", "fragmented")
            page.get_by_role("button", name="Reset", exact=True).click()
            wait_for_day(page, "not started")
            # the run note follows once the page has redrawn (slow under load)
            expect(page.locator(".govsim-figures")).to_contain_text("Run: fragmented",
                                                                    timeout=60_000)
            whistle = page.get_by_role("switch", name=MECHANISMS["whistle"][1])
            # the switches follow the new regime once the page has redrawn (slow under load)
            expect(whistle).to_have_attribute("aria-checked", "false", timeout=60_000)
            whistle.click(force=True)  # and a mechanism, from the next day
            page.get_by_text("(from tomorrow)").wait_for()
            for day in range(3):
                page.get_by_role("button", name="Step", exact=True).click()
                wait_for_day(page, f"{day} (")
            fragmented_day2 = key_figures(page)
            assert fragmented_day2 != hotline_day0
            expect(whistle).to_have_attribute("aria-checked", "true", timeout=60_000)
            page.get_by_role("button", name="latency", exact=True).click()
            page.wait_for_timeout(1500)
            assert images_drawn(page) == 4

            shot = tmp_path / "app.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            ARTEFACTS.mkdir(parents=True, exist_ok=True)
            partial = ARTEFACTS / f".app.png.{os.getpid()}"
            partial.write_bytes(shot.read_bytes())
            os.replace(partial, ARTEFACTS / "app.png")
        finally:
            browser.close()
