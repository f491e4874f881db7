"""The page's pictures, drawn from a `View` alone: the street map and the live charts.

Each picture is a canvas built once per model and updated in place each day (new data on the
same artists), because building a matplotlib figure costs more than drawing it. Canvases use
`matplotlib.figure.Figure`, never pyplot, so playing a year registers no figure globally; a lock
keeps two renders of one canvas from interleaving. `city_map(...)` and `CHARTS[...]` draw a
one-off figure the same way, for tests and notebooks.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.app.model import MAP_MEASURES, View, map_scale
from sim.charts.maps import district_labels, district_outlines, street_positions
from sim.charts.style import GRID, INK, MUTED, REGIME_STYLES, SEQUENTIAL_CMAP
from sim.city.city import City
from sim.errors import InputError

DPI = 90
#: PNG compression costs more than drawing at this size; the images are viewed, not archived.
PNG = {"format": "png", "pil_kwargs": {"compress_level": 1}}
SURGE_COLOUR = "#F0E442"


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, **PNG)
    return buffer.getvalue()


@lru_cache(maxsize=8)
def _layout(city: City) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Street positions and the neighbour edges as one NaN-separated path (drawn once)."""
    xy = street_positions(city)
    pairs = [(i, int(j)) for i, nb in enumerate(city.street_neighbours) for j in nb if i < int(j)]
    if not pairs:
        return xy, np.zeros(0), np.zeros(0)
    a, b = np.array(pairs).T
    gap = np.full(len(pairs), np.nan)
    return (xy, np.column_stack([xy[a, 0], xy[b, 0], gap]).ravel(),
            np.column_stack([xy[a, 1], xy[b, 1], gap]).ravel())


def _check_measure(measure: str) -> None:
    if measure not in MAP_MEASURES:
        raise InputError(None, "measure", "one of " + ", ".join(MAP_MEASURES), measure)


class MapCanvas:
    """Every street on the jurisdiction network, sized by population, coloured by a measure;
    hollow where the measure has no value (no case resolved there lately)."""

    def __init__(self, city: City):
        self.lock = threading.Lock()
        xy, ex, ey = _layout(city)
        self.fig = Figure(figsize=(5.6, 4.4), dpi=DPI)
        ax = self.fig.add_axes((0.0, 0.0, 0.84, 0.93))
        cax = self.fig.add_axes((0.86, 0.1, 0.025, 0.72))
        district_outlines(ax, city)
        if ex.size:
            ax.plot(ex, ey, color=GRID, linewidth=0.5, zorder=1)
        pop = city.street_population.astype(float)
        cmap = colormaps[SEQUENTIAL_CMAP + "_r"].with_extremes(bad="none")
        self.dots = ax.scatter(xy[:, 0], xy[:, 1], c=np.zeros(len(xy)), cmap=cmap,
                               norm=Normalize(0.0, 1.0), s=6 + 70 * np.sqrt(pop / max(pop.max(),
                                                                                     1.0)),
                               edgecolors=INK, linewidths=0.3, zorder=2)
        district_labels(ax, city)
        ax.set_aspect("equal")
        ax.margins(0.03)
        ax.set_axis_off()
        self.title = ax.set_title("", fontsize=10, color=INK, loc="left")
        self.bar = self.fig.colorbar(self.dots, cax=cax, extend="max")
        self.bar.ax.tick_params(labelsize=7)

    def draw(self, view: View, measure: str = "backlog", vmax: float | None = None) -> Figure:
        _check_measure(measure)
        values = view.street_backlog if measure == "backlog" else view.street_latency
        top = vmax or view.map_top.get(measure) or map_scale(values, measure)
        self.dots.set_array(np.ma.masked_invalid(values))
        self.dots.set_clim(0.0, top)
        when = f"day {view.day}, {view.date:%Y-%m-%d}" if view.date else "before the first day"
        self.title.set_text(f"{view.name}: {when}")
        self.bar.set_label(MAP_MEASURES[measure], fontsize=8)
        return self.fig

    def png(self, view: View, measure: str = "backlog") -> bytes:
        with self.lock:
            return png(self.draw(view, measure))


#: The live charts: title, y label, and the series drawn (key, legend label, colour, dashes);
#: colour None takes the regime's colour. `resolved_7d` counts every problem that arose (those never
#: resolved as not resolved), plotted at the last day of the week the problems occurred in;
#: `latency` is over resolved problems only and says so.
SHARES = ("rates", "resolved_7d")
CHART_SPECS: dict[str, tuple[str, str, tuple[tuple[str, str, str | None, object], ...]]] = {
    "backlog": ("Open cases, whole city", "cases, real city",
                (("open", "", None, "solid"),)),
    "resolved_7d": ("Of all problems that arose in a week, share resolved within 7 days",
                    "share of problems",
                    (("resolved_7d", "", None, "solid"),)),
    "latency": ("Days from occurrence to resolution, resolved problems only (past 7 days)",
                "days",
                (("latency_p90", "90th percentile", None, (0, (4, 2))),
                 ("latency_median", "median", None, "solid"))),
    "rates": ("Rates of cases closed in the past 7 days", "share",
              (("response_rate", "Response", "#0072B2", "solid"),
               ("resolution_rate", "Resolution", "#D55E00", (0, (5, 2))),
               ("satisfaction_rate", "Satisfaction", "#004D36", (0, (1, 1.5))))),
}


class ChartCanvas:
    """One live chart over the whole run, filling in as the run plays. Shaded: a surge;
    dashed vertical lines: switches made while the run played."""

    def __init__(self, kind: str, view: View):
        if kind not in CHART_SPECS:
            raise InputError(None, "chart", "one of " + ", ".join(CHART_SPECS), kind)
        self.lock = threading.Lock()
        self.kind = kind
        title, ylabel, series = CHART_SPECS[kind]
        self.fig = Figure(figsize=(5.6, 3.1), dpi=DPI)
        self.fig.subplots_adjust(left=0.14, right=0.97, top=0.88, bottom=0.16)
        ax = self.ax = self.fig.subplots()
        ax.set_xlim(0, max(view.days - 1, 1))
        ax.set_title(title, fontsize=9.5, color=INK, loc="left")
        ax.set_xlabel("day", fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7.5)
        ax.grid(color=GRID, linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        regime = view.name if view.name in REGIME_STYLES else "hotline"
        self.lines = {key: ax.plot([], [], label=label, color=colour or
                                   REGIME_STYLES[regime].color, linestyle=dash,
                                   linewidth=1.4)[0]
                      for key, label, colour, dash in series}
        if kind in SHARES:
            ax.set_ylim(0, 1.02)
            ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.0%}")
        if kind == "rates":
            ax.legend(fontsize=7, frameon=False, loc="lower left", ncols=3)
        elif kind == "resolved_7d":
            ax.set_xlabel("last day of the week the problems occurred (latest 7 days: not yet "
                          "known)", fontsize=8)
        elif kind == "latency":
            ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=2)
        else:  # whole cases: whole ticks, also while the axis is 0 to 1 (an empty chart)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_formatter(lambda v, _p: f"{v:,.0f}")
        self.marks: tuple = ()
        self.mark_artists: list = []

    def draw(self, view: View) -> Figure:
        x = np.arange(len(view.series["open"]))
        for key, line in self.lines.items():
            line.set_data(x, view.series[key])
        if self.kind not in SHARES:
            top = max((_top(view.series[key]) for key in self.lines), default=1.0)
            self.ax.set_ylim(0, top)
        marks = (tuple(view.surges), tuple(day for day, _ in view.events))
        if marks != self.marks:  # surges and switches change rarely: redraw them only then
            for artist in self.mark_artists:
                artist.remove()
            self.mark_artists = [
                *(self.ax.axvspan(start, start + length, color=SURGE_COLOUR, alpha=0.35,
                                  linewidth=0, zorder=0) for start, length in view.surges),
                *(self.ax.axvline(day, color=MUTED, linestyle=(0, (3, 2)), linewidth=0.8,
                                  zorder=1) for day, _note in view.events)]
            self.marks = marks
        return self.fig

    def png(self, view: View) -> bytes:
        with self.lock:
            return png(self.draw(view))


def _top(y: np.ndarray) -> float:
    """Top of a count axis: a little above the largest value, at least 1 (empty at the start)."""
    finite = y[np.isfinite(y)]
    return max(1.0, 1.08 * float(finite.max())) if finite.size else 1.0


def city_map(view: View, city: City, measure: str = "backlog", vmax: float | None = None,
             ) -> Figure:
    """The street map of `view` as a new figure (`measure`: backlog or latency)."""
    _check_measure(measure)
    return MapCanvas(city).draw(view, measure, vmax)


def _chart(kind: str) -> Callable[[View], Figure]:
    def draw(view: View) -> Figure:
        return ChartCanvas(kind, view).draw(view)

    draw.__name__ = f"{kind}_chart"
    draw.__doc__ = f"The {kind} chart of `view` as a new figure."
    return draw


CHARTS: dict[str, Callable[[View], Figure]] = {kind: _chart(kind) for kind in CHART_SPECS}
