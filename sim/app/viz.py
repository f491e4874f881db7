"""The interactive page: govsim's map, charts, key figures and switches over Mesa's controls.

`Page` gives each browser session (or Jupyter output) its own model; the sidebar's parameters
rebuild it on Reset (Mesa's convention), while the switches card changes mechanisms in the
running city from the next day. The page is laid out here rather than by Mesa's `SolaraViz`,
whose defaults do not fit it (a tab "Page 0" over a single page, a "Use Threads" switch, a
render interval that skips days, and a second day counter, Mesa's step count, one ahead of the
day on screen); it uses Mesa's own `ModelController` (Reset, play, Step) and `ModelCreator`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import solara
from mesa.visualization.solara_viz import ModelController, ModelCreator, make_initial_grid_layout
from mesa.visualization.utils import force_update, update_counter

from sim.app.figures import CHART_SPECS, ChartCanvas, MapCanvas
from sim.app.model import MAP_MEASURES, MECHANISMS, SWITCH_CHOICES, CityModel, View, app_scenario
from sim.errors import InputError
from sim.scenario.loader import PRESETS

#: Starting values of the sidebar; `explore(...)` and `Page(...)` take the same names.
DEFAULTS: dict[str, Any] = {
    "preset": "hotline", "city": "beijing", "scale": 1.0, "days": 365, "seed": 0,
    "rate_per_10k_per_day": None, "surge": False, "surge_start_day": 60, "surge_days": 14,
    "surge_multiplier": 3.0, **{name: "preset" for name in MECHANISMS},
}


def model_params(**given: Any) -> dict[str, Any]:
    """Mesa `model_params` for the sidebar, starting from `DEFAULTS` updated by `given`; ranges
    are those in which a day plays well under a second on Beijing."""
    v = {**DEFAULTS, **given}
    spec, _file = app_scenario(  # validates every starting value before anything is drawn
        v["preset"], city=v["city"], scale=v["scale"], days=v["days"], seed=v["seed"],
        rate_per_10k_per_day=v["rate_per_10k_per_day"], surge=v["surge"],
        surge_start_day=v["surge_start_day"], surge_days=v["surge_days"],
        surge_multiplier=v["surge_multiplier"], switches={name: v[name] for name in MECHANISMS})
    presets = list(PRESETS) if v["preset"] in PRESETS else [*PRESETS, str(v["preset"])]
    cities = ["beijing", "synthetic"] if v["city"] != "scenario" else ["scenario", "beijing",
                                                                      "synthetic"]
    params: dict[str, Any] = {
        "preset": {"type": "Select", "value": str(v["preset"]), "values": presets,
                   "label": "Regime (preset)"},
        "city": {"type": "Select", "value": v["city"], "values": cities, "label": "City"},
        "scale": {"type": "SliderFloat", "value": v["scale"], "min": 0.05, "max": 1.0,
                  "step": 0.05, "label": "Share of streets simulated"},
        "days": {"type": "SliderInt", "value": v["days"], "min": 30, "max": 730, "step": 5,
                 "label": "Days to simulate"},
        "seed": {"type": "SliderInt", "value": v["seed"], "min": 0, "max": 99, "step": 1,
                 "label": "Seed"},
        "rate_per_10k_per_day": {"type": "SliderFloat",
                                 "value": spec.demand.rate_per_10k_per_day, "min": 0.5,
                                 "max": 20.0, "step": 0.5,
                                 "label": "Problems per 10,000 residents a day"},
        "surge": {"type": "Checkbox", "value": v["surge"], "label": "Surge"},
        "surge_start_day": {"type": "SliderInt", "value": v["surge_start_day"], "min": 0,
                            "max": 365, "step": 1, "label": "Surge: first day"},
        "surge_days": {"type": "SliderInt", "value": v["surge_days"], "min": 1, "max": 90,
                       "step": 1, "label": "Surge: days"},
        "surge_multiplier": {"type": "SliderFloat", "value": v["surge_multiplier"], "min": 1.5,
                             "max": 10.0, "step": 0.5, "label": "Surge: times usual demand"},
    }
    for p in params.values():  # a starting value outside a slider's range widens the range
        if p["type"].startswith("Slider"):
            p["min"], p["max"] = min(p["min"], p["value"]), max(p["max"], p["value"])
    for name, (_field, label) in MECHANISMS.items():
        params[name] = {"type": "Select", "value": v[name], "values": list(SWITCH_CHOICES),
                        "label": f"{label} (at start)"}
    return params


# -------------------------------------------------------------------------------- components
#: Fits each card into Mesa's default grid cell (about 450 x 390 px) and keeps switches compact.
CSS = """
.govsim-card img { max-width: 100%; max-height: 330px; width: auto; display: block;
                   margin: 0 auto; }
.govsim-chart img { max-height: 350px; }
.govsim-switches .v-input { margin-top: 0; padding-top: 0; }
.govsim-switches .v-input__slot { margin-bottom: 2px; }
.govsim-switches .v-messages { display: none; }
.govsim-figures table { line-height: 1.2; }
.govsim-figures table th, .govsim-figures table td { padding: 1px 0; }
"""


@solara.component
def CityMapCard(model: CityModel):
    """The street network coloured by backlog or latency, the measure chosen on the card."""
    update_counter.get()
    measure, set_measure = solara.use_state("backlog")
    view: View = model.view
    canvas = solara.use_memo(lambda: MapCanvas(model.city), [model])
    image = solara.use_memo(lambda: canvas.png(view, measure), [model, view.version, measure])
    solara.Style(CSS)
    with solara.Card(classes=["govsim-card", "govsim-map"], margin=0):
        solara.ToggleButtonsSingle(value=measure, values=list(MAP_MEASURES),
                                   on_value=set_measure, dense=True)
        solara.Image(image)


def chart_card(name: str):
    """A card drawing one of the live charts (`figures.CHART_SPECS`) from the model's view."""
    if name not in CHART_SPECS:
        raise InputError(None, "chart", "one of " + ", ".join(CHART_SPECS), name)

    @solara.component
    def ChartCard(model: CityModel):
        update_counter.get()
        view: View = model.view
        canvas = solara.use_memo(lambda: ChartCanvas(name, view), [model])
        image = solara.use_memo(lambda: canvas.png(view), [model, view.version])
        with solara.Card(classes=["govsim-card", "govsim-chart", f"govsim-chart-{name}"],
                         margin=0):
            solara.Image(image)

    ChartCard.__name__ = f"{name.capitalize()}Chart"
    return ChartCard


def _count(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:,.0f}"


def _share(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:.0%}"


def _days(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:.1f}"


def figure_rows(view: View) -> list[tuple[str, str, str]]:
    """(key, label, formatted value) of the key-figures table."""
    f = view.figures
    when = ("not started" if view.date is None
            else f"{view.day} ({view.date}), {view.day + 1} of {view.days} simulated")
    return [
        ("day", "Day", when),
        ("occurred", "Problems occurring today", _count(f["occurred"])),
        ("entered", "Reported or found today", _count(f["entered"])),
        ("open", "Open cases (whole city)", _count(f["open"])),
        ("resolved_today", "Resolved today", _count(f["resolved_today"])),
        ("resolved_7d", "Resolved within 7 days, all problems (the week to 7 days ago)",
         _share(f["resolved_7d"])),
        ("latency_median", "Median days to resolution, resolved only (7 days)",
         _days(f["latency_median"])),
        ("latency_p90", "90th percentile days, resolved only (7 days)", _days(f["latency_p90"])),
        ("response_rate", "Response rate (7 days)", _share(f["response_rate"])),
        ("resolution_rate", "Resolution rate (7 days)", _share(f["resolution_rate"])),
        ("satisfaction_rate", "Satisfaction rate (7 days)", _share(f["satisfaction_rate"])),
        ("trust", "Residents' trust", _share(f["trust"])),
        ("street_utilisation", "Street office staff busy (7 days)",
         _share(f["street_utilisation"])),
    ]


@solara.component
def KeyFiguresCard(model: CityModel):
    """The current day's figures, in real-city units."""
    update_counter.get()
    view: View = model.view
    rows = "".join(f'<tr><th style="text-align:left;font-weight:normal">{label}</th>'
                   f'<td data-key="{key}" style="text-align:right;padding-left:1em">{value}</td>'
                   "</tr>" for key, label, value in figure_rows(view))
    with solara.Card("Today", classes=["govsim-figures"], margin=0):
        solara.HTML(tag="table", unsafe_innerHTML=rows, style="width:100%;font-size:0.85em")
        solara.Text(run_note(model), style="font-size:0.75em;color:#666;line-height:1.2")


def run_note(model: CityModel) -> str:
    """The settings of the run on screen (the sidebar shows those the next Reset will use)."""
    spec, city = model.given, model.city
    surges = "".join(f", surge x{sh.multiplier:g} days {sh.start_day}-"
                     f"{sh.start_day + sh.days - 1}" for sh in spec.demand.shocks)
    return (f"Run: {spec.name}, {city.name}, {spec.scale:.1%} of {city.population / 1e6:.1f} M "
            f"residents, {spec.days} days, seed {spec.seed}, "
            f"{spec.demand.rate_per_10k_per_day:g}/10k/day{surges}. Real-city counts.")


@solara.component
def SwitchesCard(model: CityModel):
    """Mechanisms in force; a switch changes the running city from the next day."""
    update_counter.get()
    view: View = model.view
    pending = dict(model.pending())

    def toggle(name: str, on: bool) -> None:
        model.switch(name, on)
        force_update()

    with solara.Card("Mechanisms now", classes=["govsim-switches"], margin=0):
        for name, (_field, label) in MECHANISMS.items():
            on = pending.get(name, view.mechanisms[name])
            suffix = " (from tomorrow)" if name in pending else ""
            solara.Switch(label=label + suffix, value=on,
                          on_value=lambda value, name=name: toggle(name, value),
                          disabled=not view.running, classes=[f"govsim-switch-{name}"])
        solara.Text("The sidebar's settings take effect on Reset; these switches from the next "
                    "day of the running city (dashed lines on the charts).",
                    style="font-size:0.8em;color:#666")


#: Laid out two by two: map and figures, backlog and the share of all problems resolved within
#: 7 days, rates and switches (the resolved-only latency chart, `CHARTS["latency"]`, is not on
#: the page: its median leaves out the problems never resolved; the key figures keep it, so
#: labelled).
COMPONENTS = [CityMapCard, KeyFiguresCard, chart_card("backlog"), chart_card("resolved_7d"),
              chart_card("rates"), SwitchesCard]
TITLE = "govsim: Beijing's grassroots governance, day by day"


@solara.component
def Page(**given: Any):
    """One city per session: `solara run app.py` renders this with the defaults;
    `explore(...)` with yours."""
    values = {**DEFAULTS, **given}
    params = solara.use_memo(lambda: model_params(**values), [])
    first = solara.use_memo(lambda: CityModel(**{k: p["value"] if isinstance(p, dict) else p
                                                for k, p in params.items()}), [])
    model = solara.use_reactive(first)
    chosen = solara.use_reactive({})  # the sidebar's values, for the next Reset
    pause = solara.use_reactive(100)
    every_day = solara.use_reactive(1)  # redraw after each day (Mesa reads these as reactive)
    no_threads = solara.use_reactive(False)
    layout, set_layout = solara.use_state(make_initial_grid_layout(len(COMPONENTS)))
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar(), solara.Column():
        with solara.Card("Run"):
            solara.SliderInt(label="Pause between days when playing (ms)", value=pause,
                             min=1, max=500, step=10)
            ModelController(model, model_parameters=chosen, play_interval=pause,
                            render_interval=every_day, use_threads=no_threads)
        with solara.Card("Starting values (applied on Reset)"):
            ModelCreator(model, params, model_parameters=chosen)
    solara.GridDraggable(items=[component(model.value) for component in COMPONENTS],
                         grid_layout=layout, resizable=True, draggable=True,
                         on_grid_layout=set_layout)


def explore(preset: str | Path = "hotline", **given: Any):
    """The page with your starting values, e.g. `explore("whistle", city="synthetic")` as the
    last expression of a Jupyter cell. Bad values raise `InputError` here, before drawing."""
    unknown = set(given) - set(DEFAULTS)
    if unknown:
        raise InputError(None, min(unknown), "a setting of the page, one of " + ", ".join(DEFAULTS))
    values = {**DEFAULTS, **given, "preset": str(preset)}
    model_params(**values)
    return Page(**values)


page = Page()
