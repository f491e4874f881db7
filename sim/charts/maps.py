"""Where it hurts: the city's streets on the jurisdiction network, coloured by a chosen measure.

The default measure, `resolved_7d`, is each street's share of *all* the problems that arose there
resolved within 7 days of occurring (`sim.resolution`, the summary's `resolved_within_7d_share`
street by street): problems closed unresolved, never reported or still open count as not resolved.
A share within a week rather than the time by which half are resolved, because a share is
defined for every street with problems, on one 0-100 % scale, while "half resolved by" is "not
reached" wherever fewer than half are resolved: those streets would have no colour, or a made-up
one, exactly where residents wait longest. `resolved_latency`, the median over resolved
problems only, says so in its label.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from sim.charts import style
from sim.charts.style import Results
from sim.city.city import City
from sim.errors import InputError
from sim.resolution import curves_by
from sim.results import Result

MEASURES = ("resolved_7d", "backlog", "complaints", "resolved_latency")
#: Days within which the default measure counts a problem resolved (the headline's week).
WITHIN_DAYS = 7
#: Measures where more is better: their colour scale runs the other way (dark is worse).
HIGHER_IS_BETTER = ("resolved_7d",)

TEXT = {
    "en": {
        "resolved_7d": "Share of all problems resolved within 7 days of occurring",
        "resolved_7d.unit": "%",
        "resolved_7d.bar": "Resolved within 7 days, all problems (%)",
        "resolved_latency": "Median time from occurrence to resolution, resolved problems only",
        "resolved_latency.unit": "days",
        "resolved_latency.bar": "Median wait, resolved problems only (days)",
        "backlog": "Open cases held by the street office, daily mean",
        "backlog.unit": "cases, real city",
        "complaints": "Problems reported per 10,000 residents a year",
        "complaints.unit": "reports per 10,000 residents a year",
        "title": "{what}: the slowest tenth of streets exceed {hi_worst} under {worst}, "
                 "{hi_best} under {best}",
        "title.low": "{what}: at most {lo_worst} in the worst tenth of streets under {worst}, "
                     "{lo_best} under {best}",
        "title1": "{what} ranges from {lo} to {hi} across streets",
        "km": "{v:g} km",
        "note": "One dot per street, town or township, sized by population; lines join "
                "neighbouring streets; labels: districts (the small central ones unlabelled). "
                "Hollow: no data. Colour scale: 2nd to 98th percentile of all streets.",
        "note.resolved_7d": " Every problem that arose in the street counts (prevented ones "
                            "excepted): closed unresolved, never reported and still-open "
                            "problems are not resolved (Kaplan-Meier, as the key figures).",
        "note.resolved_latency": " The median leaves out every problem not resolved: a street "
                                 "resolving few problems quickly looks fast.",
        "note.outlines": " Grey lines: the districts' real boundaries; a dot's place inside its "
                         "district is generated, not the unit's real location.",
    },
    "zh": {
        "resolved_7d": "七天内解决的问题占全部发生问题的比例",
        "resolved_7d.unit": "%",
        "resolved_7d.bar": "七天内解决，全部问题 (%)",
        "resolved_latency": "从发生到解决的时间中位数（仅已解决的问题）",
        "resolved_latency.unit": "天",
        "resolved_latency.bar": "等待时间中位数，仅已解决的问题 (天)",
        "backlog": "街道（乡镇）日均在办案件",
        "backlog.unit": "件，全市规模",
        "complaints": "每万居民每年反映的问题数",
        "complaints.unit": "件/万人·年",
        "title": "{what}：{worst}下最差的十分之一街道超过{hi_worst}，{best}下为{hi_best}",
        "title.low": "{what}：{worst}下解决最少的十分之一街道不超过{lo_worst}，{best}下为{lo_best}",
        "title1": "{what}在各街道之间从{lo}到{hi}不等",
        "km": "{v:g}公里",
        "note": "每个点为一个街道（乡镇），大小表示人口；连线表示相邻；标注为区名（中心城区较小者未标注）。"
                "空心：无数据。色标范围：全部街道的第2至第98百分位。",
        "note.resolved_7d": "街道内发生的每个问题都计入（被预防的除外）：办结未解决、从未被反映和仍在办理的问题"
                            "均算作未解决（Kaplan-Meier 估计，与关键数据相同）。",
        "note.resolved_latency": "中位数不计未解决的问题：解决得少但快的街道看起来很快。",
        "note.outlines": "灰线为各区真实边界；点在区内的位置为生成的示意位置，并非该街道（乡镇）的实际位置。",
    },
}
_FORMAT: dict[str, Callable[[float], str]] = {
    "resolved_7d": lambda v: f"{v:.0f}",
    "resolved_latency": lambda v: f"{v:.1f}",
    "backlog": lambda v: f"{v:,.0f}",
    "complaints": lambda v: f"{v:,.0f}",
}
REPORT_CHANNELS = ("street_line", "dept_line", "hotline")
#: Fill of the district outlines: paper-white, a shade darker than the page.
OUTLINE_FILL = "#F2F2EE"


@lru_cache(maxsize=4)
def _city_from_config(key: str) -> City:
    from sim.model import make_city
    from sim.scenario.schema import CityConfig

    return make_city(CityConfig.model_validate(json.loads(key)))


def city_of(result: Result) -> City:
    """The run's city, rebuilt from its scenario (cached: Beijing takes about a second).

    A run given a `City` object (`sim.run(..., city=...)`) ignored its scenario's city: rebuilt
    from the scenario, it would be another city, so that is an error asking for `city=`."""
    city = _city_from_config(json.dumps(result.scenario.city.model_dump(mode="json"),
                                        sort_keys=True))
    meta = result.meta
    if (meta.get("city", city.name), meta.get("streets", city.n_streets)) != (city.name,
                                                                              city.n_streets):
        raise InputError(None, "city", f"the run's own city ({meta.get('city')}, "
                         f"{meta.get('streets')} streets): pass city=", city.name)
    return city


def street_positions(city: City) -> np.ndarray:
    """(x, y) per street from the graph's `pos`; a spring layout of the adjacency if missing."""
    g = city.graph
    nodes = [f"street:{name}" for name in city.street_names]
    if all("pos" in g.nodes[n] for n in nodes):
        return np.array([g.nodes[n]["pos"] for n in nodes], dtype=float)
    adj = nx.Graph()
    adj.add_nodes_from(range(city.n_streets))
    for i, nbrs in enumerate(city.street_neighbours):
        adj.add_edges_from((i, int(j)) for j in nbrs)
    layout = nx.spring_layout(adj, seed=0)
    return np.array([layout[i] for i in range(city.n_streets)], dtype=float) * 20.0


def street_values(result: Result, measure: str, city: City) -> np.ndarray:
    """The measure per street of `city` (NaN where there is no data), in the unit its legend
    names: `resolved_7d` in % of the street's problems (its Kaplan-Meier curve at 7 days, NaN
    in a run shorter than that), `resolved_latency` in days, `backlog` in cases,
    `complaints` in reports per 10,000 residents a year."""
    names = pd.Index(city.street_names)
    p = result.problems
    spec = result.scenario
    if measure == "resolved_7d":
        curves = curves_by(p, p["street"], 24.0 * spec.days)
        v = pd.Series({str(street): 100 * curve.share_within(24.0 * WITHIN_DAYS)
                       for street, curve in curves.items()}, dtype=float)
    elif measure == "resolved_latency":
        ok = p["latency_occurrence_h"].notna()
        v = (p.loc[ok, "latency_occurrence_h"] / 24.0).groupby(
            p.loc[ok, "street"].astype(str)).median()
    elif measure == "backlog":
        ud = result.units_daily
        st = ud[ud["unit_type"] == "street"]
        v = st.groupby(st["name"].astype(str))["backlog"].mean()  # a sampled street is whole
    elif measure == "complaints":
        rep = p[p["channel"].astype(str).isin(REPORT_CHANNELS) & p["entered_h"].notna()]
        simulated = p["street"].astype(str).unique()  # below 1:1, the sampled streets
        counts = (rep.groupby(rep["street"].astype(str)).size()
                  .reindex(simulated, fill_value=0))
        pop = pd.Series(city.street_population, index=names).astype(float)
        v = counts / (pop.reindex(counts.index) / 1e4) * (365.0 / spec.days)
    else:
        raise InputError(None, "measure", "one of " + ", ".join(MEASURES), measure)
    return v.reindex(names).to_numpy(dtype=float)


def district_outlines(ax, city: City) -> bool:
    """Draw each district's `outline` (rings of km points on its graph node), lightly filled;
    False, drawing nothing, when the city has none (generated cities: dots and lines only)."""
    rings = []
    for name in city.district_names:
        node = city.graph.nodes.get(f"district:{name}", {})
        rings += [np.asarray(r, dtype=float) for r in node.get("outline", ())]
    if not rings:
        return False
    ax.add_collection(PolyCollection(rings, facecolors=OUTLINE_FILL, edgecolors="none",
                                     zorder=0))
    ax.add_collection(LineCollection(rings, colors=style.MUTED, linewidths=0.6, zorder=1.5))
    ax.update_datalim(np.concatenate(rings))
    return True


def _scale_bar(ax, lang: str, unit: str) -> None:
    """A bar of a round length in the map's own unit (km for Beijing and generated cities); the
    axes have equal aspect, so the bar is true in every direction of the projected plane."""
    x0, x1 = ax.get_xlim()
    span = float(x1 - x0) or 1.0
    raw = span / 5
    nice = min((1, 2, 5, 10, 20, 25, 50, 100, 200, 500), key=lambda v: abs(np.log(v / raw)))
    y0 = ax.get_ylim()[0]
    h = (ax.get_ylim()[1] - y0)
    ax.plot([x0 + 0.04 * span, x0 + 0.04 * span + nice], [y0 + 0.04 * h] * 2, color=style.INK,
            linewidth=2.5, solid_capstyle="butt")
    label = TEXT[lang]["km"].format(v=nice) if unit == "km" else f"{nice:g} {unit}".strip()
    ax.annotate(label, (x0 + 0.04 * span + nice / 2, y0 + 0.04 * h), xytext=(0, 3),
                textcoords="offset points", ha="center", va="bottom", fontsize=7.5)


def city_map(results: Results, *, measure: str = "resolved_7d", city: City | None = None,
             lang: str = "en") -> Figure:
    """One panel per run: every street on the network, coloured by `measure` on one colour
    scale, darker where residents fare worse: `resolved_7d`, the share of all the street's
    problems resolved within 7 days of occurring (unresolved ones count as unresolved);
    `backlog`, the street office's mean open cases; `complaints`, reports per 10,000 residents
    a year; `resolved_latency`, the median days from occurrence to resolution of the resolved
    problems only. Pass `city` when the run's network file is not where its scenario says."""
    if measure not in MEASURES:
        raise InputError(None, "measure", "one of " + ", ".join(MEASURES), measure)
    with style.context(lang):
        rs = style.runs(results, lang)
        t = TEXT[lang]
        cities = [city or city_of(r.result) for r in rs]
        values = [street_values(r.result, measure, c) for r, c in zip(rs, cities, strict=True)]
        finite = np.concatenate([v[np.isfinite(v)] for v in values] or [np.array([])])
        if finite.size:
            lo, hi = np.percentile(finite, [2, 98])
            hi = hi if hi > lo else lo + 1.0
        else:
            lo, hi = 0.0, 1.0
        norm = Normalize(lo, hi)
        n = len(rs)
        cols = min(n, 4)
        rows = -(-n // cols)
        fig = style.new_figure(min(13.0, 3.2 * cols + 1.2), 3.2 * rows + 1.4)
        axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
        cmap = style.SEQUENTIAL_CMAP + ("" if measure in HIGHER_IS_BETTER else "_r")
        mappable = None
        outlined = False
        for ax, run, c, v in zip(axes, rs, cities, values, strict=False):
            xy = street_positions(c)
            outlined = district_outlines(ax, c) or outlined
            pairs = [(i, int(j)) for i, nb in enumerate(c.street_neighbours) for j in nb
                     if i < int(j)]
            if pairs:  # one path with gaps: a small SVG/PDF however many streets
                a, b = np.array(pairs).T
                gap = np.full(len(pairs), np.nan)
                ax.plot(np.column_stack([xy[a, 0], xy[b, 0], gap]).ravel(),
                        np.column_stack([xy[a, 1], xy[b, 1], gap]).ravel(),
                        color=style.GRID, linewidth=0.5, zorder=1)
            pop = c.street_population.astype(float)
            size = 8 + 90 * np.sqrt(pop / max(pop.max(), 1.0))
            ok = np.isfinite(v)
            mappable = ax.scatter(xy[ok, 0], xy[ok, 1], c=v[ok], s=size[ok], cmap=cmap,
                                  norm=norm, edgecolors=style.INK, linewidths=0.3, zorder=2,
                                  rasterized=True)  # 300+ dots: an image inside SVG/PDF
            ax.scatter(xy[~ok, 0], xy[~ok, 1], s=size[~ok], facecolors="none",
                       edgecolors=style.MUTED, linewidths=0.6, zorder=2)
            district_labels(ax, c, lang)
            ax.set_aspect("equal")
            ax.margins(0.04)
            ax.set_axis_off()
            ax.set_title(run.label, color=run.style.color)
            ax.autoscale_view()
            _scale_bar(ax, lang, str(c.graph.graph.get("pos_unit", "km")))
        for ax in axes[n:]:
            ax.set_visible(False)
        if mappable is not None:
            bar = fig.colorbar(mappable, ax=axes[:n].tolist(), shrink=0.8, extend="both",
                               aspect=30)
            bar.set_label(t.get(f"{measure}.bar") or f"{t[measure]} ({t[measure + '.unit']})")
        title = _title(rs, values, measure, lang)
        note = (t["note"] + t.get(f"note.{measure}", "")
                + (t["note.outlines"] if outlined else ""))
        return style.finish(fig, rs, title, lang, note=note)


def district_labels(ax, city: City, lang: str = "en") -> None:
    """District names at their centres, leaving out small central ones on a crowded map."""
    g = city.graph
    crowded = city.n_districts > 8
    for name in city.district_names:
        node = g.nodes.get(f"district:{name}", {})
        if "pos" not in node or (crowded and float(node.get("area_km2", 1e9)) < 100):
            continue  # small central districts: their labels would cover each other
        label = node.get("name_zh", name) if lang == "zh" else name
        ax.annotate(label, node["pos"], ha="center", va="center", fontsize=6.5,
                    color=style.INK, zorder=4,
                    path_effects=[patheffects.withStroke(linewidth=2.2, foreground="white")])


def _title(rs, values, measure: str, lang: str) -> str:
    """The range over streets (one run), or the worst tenth of streets under the worst and the
    best run: the 90th percentile of streets where more is worse, the 10th where more is better
    (one odd street does not decide)."""
    t = TEXT[lang]
    fmt = _FORMAT[measure]
    unit = t[f"{measure}.unit"]
    sep = "" if lang == "zh" or unit == "%" else " "

    def show(v: float) -> str:
        return f"{fmt(v)}{sep}{unit}" if measure in ("resolved_7d", "resolved_latency") else fmt(v)

    what = t[measure]
    low = measure in HIGHER_IS_BETTER
    worst_by = [(float(np.nanpercentile(v, 10 if low else 90)), r.label)
                for r, v in zip(rs, values, strict=True) if np.isfinite(v).any()]
    if not worst_by:
        return what
    if len(rs) == 1:
        v = values[0]
        return t["title1"].format(what=what, lo=show(float(np.nanmin(v))),
                                  hi=show(float(np.nanmax(v))))
    if low:
        worst, best = min(worst_by), max(worst_by)
        return t["title.low"].format(what=what, worst=worst[1], best=best[1],
                                     lo_worst=show(worst[0]), lo_best=show(best[0]))
    worst, best = max(worst_by), min(worst_by)
    return t["title"].format(what=what, worst=worst[1], best=best[1], hi_worst=show(worst[0]),
                             hi_best=show(best[0]))
