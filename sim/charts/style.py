"""The briefing look shared by every chart: one colour per regime, fonts, words in two languages.

A regime keeps its colour, line style, marker and hatch in every chart, so a reader learns them
once. The colours come from the Okabe-Ito colour-blind-safe set (the newest regime's bluish green
darkened), chosen so that their grey levels step down from the oldest regime to the newest: printed
in greyscale they stay in order. Every series also differs by line style, marker and hatch.
Chinese text uses Noto Sans CJK SC, Regular and Bold, shipped in the package (`sim/fonts`, cut
down to the characters govsim prints), so it renders the same on a fresh machine with no system
fonts.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib import font_manager
from matplotlib.figure import Figure

from sim.errors import InputError
from sim.fonts import FONT_FILES, font_path
from sim.languages import LANGS
from sim.results import Result

REGIMES = ("fragmented", "whistle", "hotline", "proactive")

#: The CJK font, shipped in the package (sim/fonts), so no system font is assumed.
CJK_FAMILY = "Noto Sans CJK SC"
LATIN_FAMILY = "DejaVu Sans"  # matplotlib's own font


@dataclass(frozen=True)
class SeriesStyle:
    """How one run is drawn everywhere: colour, line style, marker and bar hatch."""

    color: str
    linestyle: Any
    marker: str
    hatch: str

    def line(self) -> dict[str, Any]:
        return {"color": self.color, "linestyle": self.linestyle, "marker": self.marker}

    def layer(self) -> dict[str, Any]:
        """Width and drawing order of a curve: a solid line wide and underneath, a patterned one
        narrower and on top, so that two runs with the same curve both show (the pattern
        over a band of the other colour) instead of one hiding the other."""
        solid = self.linestyle in ("solid", "-")
        return {"linewidth": 3.0 if solid else 1.8, "zorder": 2.6 if solid else 3.0}

    def bar(self) -> dict[str, Any]:
        return {"facecolor": self.color, "edgecolor": "black", "hatch": self.hatch,
                "linewidth": 0.6}


#: Grey levels (0-255): orange 162, vermillion 119, blue 87, dark green 51.
REGIME_STYLES: dict[str, SeriesStyle] = {
    "fragmented": SeriesStyle("#E69F00", (0, (1, 1.5)), "o", "////"),
    "whistle": SeriesStyle("#D55E00", (0, (5, 2)), "s", "\\\\\\\\"),
    "hotline": SeriesStyle("#0072B2", (0, (6, 2, 1, 2)), "^", "...."),
    "proactive": SeriesStyle("#004D36", "solid", "D", ""),
}
#: For custom scenarios and second runs of a regime, in order of appearance.
EXTRA_STYLES: tuple[SeriesStyle, ...] = (
    SeriesStyle("#CC79A7", (0, (3, 1, 1, 1, 1, 1)), "v", "xx"),
    SeriesStyle("#56B4E9", (0, (8, 3)), "P", "--"),
    SeriesStyle("#7F7F7F", (0, (2, 2)), "X", "||"),
    SeriesStyle("#000000", (0, (4, 1, 1, 1)), "h", "++"),
    SeriesStyle("#F0E442", "solid", "*", "oo"),
)

#: Four monthly ranking classes, best to worst: blue for good, red for bad, hatched when bad so
#: that the two ends stay apart in greyscale.
CLASS_ORDER = ("先进", "进步", "整改", "治理")
CLASS_STYLES: dict[str, dict[str, Any]] = {
    "先进": {"facecolor": "#2166AC", "hatch": ""},
    "进步": {"facecolor": "#92C5DE", "hatch": ""},
    "整改": {"facecolor": "#F4A582", "hatch": ".."},
    "治理": {"facecolor": "#B2182B", "hatch": "xx"},
}

#: Text, secondary text and grid lines.
INK, MUTED, GRID = "#222222", "#666666", "#DDDDDD"
SEQUENTIAL_CMAP = "cividis"  # colour-blind safe and monotone in lightness

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "regime.fragmented": "Fragmented",
        "regime.whistle": "Whistle",
        "regime.hotline": "Hotline",
        "regime.proactive": "Proactive",
        "unit.street": "Street offices",
        "unit.enforcement": "Enforcement teams",
        "unit.department": "Departments",
        "unit.district_centre": "District centres",
        "unit.hotline": "12345 hotline",
        "days": "{v} days",
        "day1": "{v} day",
        "hours": "{v} h",
        "footnote": "Simulated with govsim {version}. {scenarios}; {seeds}; {days} days from {start};"
                    " {scale} of residents simulated, counts in real-city units; city: {city}.",
        "seed": "seed {v}",
        "seeds": "seeds {v}",
        "scenarios": "Scenarios: {v}",
        "scenario": "Scenario: {v}",
    },
    "zh": {
        "regime.fragmented": "条块分割",
        "regime.whistle": "吹哨报到",
        "regime.hotline": "接诉即办",
        "regime.proactive": "未诉先办",
        "unit.street": "街道（乡镇）",
        "unit.enforcement": "街道综合执法队",
        "unit.department": "职能部门",
        "unit.district_centre": "区指挥中心",
        "unit.hotline": "12345热线",
        "days": "{v}天",
        "day1": "{v}天",
        "hours": "{v}小时",
        "footnote": "govsim {version} 模拟。{scenarios}；{seeds}；自{start}起{days}天；"
                    "模拟{scale}的居民，数量按全市实际规模折算；城市：{city}。",
        "seed": "随机种子 {v}",
        "seeds": "随机种子 {v}",
        "scenarios": "情景：{v}",
        "scenario": "情景：{v}",
    },
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise InputError(None, "lang", "one of " + ", ".join(LANGS), lang)
    return lang


def text(key: str, lang: str, table: Mapping[str, Mapping[str, str]] | None = None,
         **values: Any) -> str:
    """The label `key` in `lang`, formatted with `values` (a chart may pass its own table)."""
    source = table if table is not None and key in table[lang] else _TEXT
    return source[lang][key].format(**values)


# ------------------------------------------------------------------------------------ fonts
def cjk_font_path(weight: str = "regular") -> Path:
    """The shipped Noto Sans CJK SC file of `weight` (`regular` or `bold`; see sim/fonts)."""
    path = font_path(weight)
    if not path.is_file():
        raise RuntimeError(f"the CJK font is missing from the govsim package: {path}")
    return path


@cache
def register_fonts() -> str:
    """Make the CJK font (both weights) known to matplotlib once per process; returns its
    family name."""
    for weight in FONT_FILES:
        font_manager.fontManager.addfont(str(cjk_font_path(weight)))
    return font_manager.FontProperties(fname=str(cjk_font_path())).get_name()


def weight(lang: str) -> str:
    """Headings are bold in both languages (the CJK font ships a bold face)."""
    return "bold"


def rc(lang: str) -> dict[str, Any]:
    """matplotlib settings of the briefing look; CJK is always a fallback (names, 先进 ...)."""
    cjk = register_fonts()
    families = [cjk, LATIN_FAMILY] if lang == "zh" else [LATIN_FAMILY, cjk]
    return {
        "font.family": families,  # concrete names: texts keep them after the context ends
        "font.size": 9.5,
        "axes.titlesize": 10.5,
        "axes.titleweight": weight(lang),
        "axes.titlelocation": "left",
        "axes.labelsize": 9.5,
        "axes.edgecolor": MUTED,
        "axes.labelcolor": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.color": GRID,
        "grid.linewidth": 0.6,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "xtick.labelcolor": INK,
        "ytick.labelcolor": INK,
        "legend.frameon": False,
        "legend.fontsize": 9,
        "lines.linewidth": 1.8,
        "lines.markersize": 5,
        "hatch.linewidth": 0.6,
        "svg.fonttype": "path",  # the SVG carries its glyphs: no font needed to view it
        "pdf.fonttype": 3,  # Type 3 from the OTF outlines: searchable, and every viewer reads it
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "axes.unicode_minus": True,
    }


@contextmanager
def context(lang: str) -> Iterator[None]:
    """Draw inside this context: fonts and sizes of the briefing look, nothing global changed."""
    with mpl.rc_context(rc(check_lang(lang))):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure that is not registered with pyplot (no global state; safe in loops). `finish`
    reserves the strips for the title and the footnote."""
    fig = Figure(figsize=(width, height), layout="constrained")
    fig.get_layout_engine().set(h_pad=0.06, w_pad=0.06)
    return fig


# ------------------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Run:
    """One result as a chart draws it: its label and style."""

    label: str
    result: Result
    style: SeriesStyle

    @property
    def regime(self) -> str:
        return self.result.scenario.regime

    @property
    def scale(self) -> float:
        return self.result.scenario.scale


Results = Result | Sequence[Result] | Mapping[str, Result]


def runs(results: Results, lang: str) -> list[Run]:
    """Label and style each result: a preset keeps its regime's name and colour, others (custom
    scenarios, a second run of one regime) get their own name and the next spare style."""
    check_lang(lang)
    if isinstance(results, Result):
        items: list[tuple[str | None, Result]] = [(None, results)]
    elif isinstance(results, Mapping):
        items = [(str(k), v) for k, v in results.items()]
    else:
        items = [(None, r) for r in results]
    if not items:
        raise InputError(None, "results", "at least one Result", "none")
    for key, r in items:
        if not isinstance(r, Result):
            raise InputError(None, f"results[{key!r}]" if key else "results", "a sim.Result",
                             type(r).__name__)
    out: list[Run] = []
    used: set[str] = set()
    spare = itertools.cycle(EXTRA_STYLES)
    labels: dict[str, int] = {}
    for key, r in items:
        spec = r.scenario
        preset = spec.regime in REGIMES and spec.name == spec.regime
        if preset and spec.regime not in used:
            style = REGIME_STYLES[spec.regime]
            used.add(spec.regime)
        else:
            style = next(spare)
        label = key or (text(f"regime.{spec.regime}", lang) if preset else spec.name)
        labels[label] = labels.get(label, 0) + 1
        if labels[label] > 1:
            label = f"{label} ({labels[label]})"
        out.append(Run(label, r, style))
    return out


def regime_label(regime: str, lang: str) -> str:
    return text(f"regime.{regime}", lang) if regime in REGIMES else regime


def unit_label(unit_type: str, lang: str) -> str:
    return text(f"unit.{unit_type}", lang)


# -------------------------------------------------------------------------------- footnote
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("govsim")
    except PackageNotFoundError:
        return "(source tree)"


def _joined(values: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(values)


#: The packaged cities' names in Chinese footnotes (a network file's own name is kept).
CITY_NAMES_ZH = {"Beijing": "北京", "synthetic": "合成城市"}


def footnote_text(rs: list[Run], lang: str) -> str:
    """Scenario names, seeds, period, scale and city: enough to reproduce the chart."""
    specs = [r.result.scenario for r in rs]
    names = _joined([s.name for s in specs], lang)
    seeds = sorted({s.seed for s in specs})
    seed_text = (text("seed", lang, v=seeds[0]) if len(seeds) == 1 else
                 text("seeds", lang, v=_joined([f"{s.name} {s.seed}" for s in specs], lang)))
    days = sorted({s.days for s in specs})
    starts = sorted({s.start_date.isoformat() for s in specs})
    scales = sorted({s.scale for s in specs})
    cities = []
    for r in rs:
        meta = r.result.meta
        city = str(meta.get("city", r.result.scenario.city.source))
        if lang == "zh":
            city = CITY_NAMES_ZH.get(city, city)
        if meta.get("streets"):
            city += (f"（{meta['streets']}个街乡）" if lang == "zh"
                     else f" ({meta['streets']} streets)")
        if city not in cities:
            cities.append(city)
    return text("footnote", lang, version=_version(),
                scenarios=text("scenarios" if len(specs) > 1 else "scenario", lang, v=names),
                seeds=seed_text, days="/".join(map(str, days)), start="/".join(starts),
                scale="/".join(f"{100 * s:g}%" for s in scales), city=_joined(cities, lang))


def wrap(line: str, lang: str, width_in: float, size_pt: float) -> str:
    """Break a title into lines that fit `width_in` inches (CJK text breaks between any glyphs,
    preferably after a comma)."""
    if lang == "zh":
        per_line = max(8.0, width_in * 72 / size_pt - 1)  # in ems: a CJK glyph is one
        lines, rest = [], line
        while _ems(rest) > per_line:
            fits = next(i for i in range(1, len(rest) + 1) if _ems(rest[:i]) > per_line) - 1
            cut = rest.rfind("，", fits // 2, fits) + 1
            if not cut:  # never inside a Latin word or a path
                word = len(rest[:fits]) - len(rest[:fits].rstrip(_LATIN_WORD))
                cut = fits - word if word < fits // 2 and fits < len(rest) and \
                    rest[fits] in _LATIN_WORD else fits
            while cut < len(rest) and rest[cut] in _NO_LINE_START:  # no line opens with ，
                cut += 1
            while cut > 1 and rest[cut - 1] in _NO_LINE_END:  # nor closes with （
                cut -= 1
            lines.append(rest[:cut])
            rest = rest[cut:]
        return "\n".join([*lines, rest])
    return textwrap.fill(line, width=max(20, int(width_in * 72 / (size_pt * 0.6))))


_LATIN_WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./"
#: Chinese line-breaking rules: closing punctuation never opens a line, opening never ends one.
_NO_LINE_START = "，。、；：！？）》」』”’%"
_NO_LINE_END = "（《「『“‘"


def _ems(text: str) -> float:
    """Width of mixed text in ems: CJK glyphs one, Latin letters and digits about 0.55."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.55 for ch in text)


TITLE_PT, FOOT_PT = 12.5, 7.0


def handles(rs: list[Run], kind: str = "line") -> list[Any]:
    """Legend keys for the runs: `line` (colour, style, marker) or `bar` (colour, hatch)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if kind == "bar":
        return [Patch(label=r.label, **r.style.bar()) for r in rs]
    return [Line2D([], [], label=r.label, linewidth=1.8, markersize=5, **r.style.line())
            for r in rs]


def _text_width_in(label: str, size_pt: float) -> float:
    wide = sum(1 for ch in label if ord(ch) > 0x2E80)
    return ((len(label) - wide) * 0.58 + wide * 1.0) * size_pt / 72


def finish(fig: Figure, rs: list[Run], title: str, lang: str,
           legend: list[Any] | None = None, note: str = "") -> Figure:
    """The finding as the figure's title (`fig.get_suptitle()`), the run legend in a row under it,
    a note on what is counted and the reproducibility footnote at the bottom, and the layout kept
    clear of all of them."""
    width, height = fig.get_figwidth(), fig.get_figheight()
    title = wrap(title, lang, width - 0.25, TITLE_PT)
    foot_pt = FOOT_PT * (1.0 if lang == "zh" else 0.92)  # a CJK glyph is a full em wide
    foot = wrap(footnote_text(rs, lang), lang, width - 0.25, foot_pt)
    if note:
        foot = wrap(note, lang, width - 0.25, foot_pt) + "\n" + foot
    title_h = (title.count("\n") + 1) * TITLE_PT * 1.3 / 72 + 0.12
    foot_h = (foot.count("\n") + 1) * FOOT_PT * 1.35 / 72 + 0.1
    if legend:
        size = 9.0
        cell = max(_text_width_in(h.get_label(), size) for h in legend) + 0.75
        ncols = max(1, min(len(legend), int((width - 0.3) / cell)))
        rows = -(-len(legend) // ncols)
        fig.legend(handles=legend, loc="upper left", ncols=ncols, fontsize=size,
                   bbox_to_anchor=(0.005, 1 - (title_h - 0.04) / height), handlelength=3.0,
                   borderaxespad=0.0, frameon=False)
        title_h += rows * size * 1.55 / 72 + 0.1
    fig.suptitle(title, x=0.012, y=1 - 0.06 / height, ha="left", va="top",
                       fontsize=TITLE_PT, fontweight=weight(lang), color=INK, linespacing=1.2)
    fig.text(0.012, 0.04 / height, foot, fontsize=FOOT_PT, color=MUTED, ha="left", va="bottom",
             linespacing=1.25)
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set"):
        engine.set(rect=(0.0, foot_h / height, 1.0, 1 - (foot_h + title_h) / height))
    return fig


# ---------------------------------------------------------------------------------- numbers
def fmt_days(hours: float, lang: str) -> str:
    """A duration for a title: hours below a day, days (one decimal below ten) above."""
    if math.isnan(hours):
        return "—"
    if hours < 24:
        return text("hours", lang, v=f"{hours:.0f}" if hours >= 10 else f"{hours:.1f}")
    d = hours / 24.0
    v = f"{d:.1f}" if d < 10 else f"{d:.0f}"
    return text("day1" if v == "1.0" else "days", lang, v=v)


def fmt_pct(share: float, digits: int = 0) -> str:
    return "—" if math.isnan(share) else f"{100 * share:.{digits}f}%"


def fmt_count(value: float, lang: str) -> str:
    """A real-city count, short: 1.2 M / 120万, 35,000 / 3.5万."""
    if math.isnan(value):
        return "—"
    if lang == "zh":
        if abs(value) >= 1e8:
            return f"{value / 1e8:.2f}亿"
        if abs(value) >= 1e4:
            return f"{value / 1e4:.1f}万" if abs(value) < 1e6 else f"{value / 1e4:.0f}万"
        return f"{value:,.0f}"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.2f} M"
    if abs(value) >= 1e4:  # three significant digits are all a reader needs
        return f"{round(value, 2 - math.floor(math.log10(abs(value)))):,.0f}"
    return f"{value:,.0f}"


def count_unit(max_value: float, lang: str) -> tuple[float, str]:
    """Divisor and axis-label word for counts: millions, thousands or plain."""
    if lang == "zh":
        return (1e4, "万") if max_value >= 1e5 else (1.0, "")
    if max_value >= 2e6:
        return 1e6, "millions"
    if max_value >= 2e3:
        return 1e3, "thousands"
    return 1.0, ""


# ------------------------------------------------------------------------------------ dates
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_axis(ax: Any, lang: str, *, span_days: float | None = None) -> None:
    """Month ticks in the reader's language: `Jan 2019`, `Apr` / `2019年1月`, `4月`."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter

    if span_days is None:
        lo, hi = ax.get_xlim()
        span_days = hi - lo
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    max_ticks = max(3, int(width_in / (0.62 if lang == "zh" else 0.5)))
    if span_days < 75:  # a short run: days of the month
        every = next((d for d in (1, 2, 7, 14) if span_days / d <= max_ticks), 14)
        days = (1, 15) if every >= 14 else (1, 8, 15, 22) if every >= 7 else range(1, 32, every)
        ax.xaxis.set_major_locator(mdates.DayLocator(bymonthday=days))

        def fmt_day(x: float, pos: int | None) -> str:
            d = mdates.num2date(x)
            first = pos == 0 or (d.month == 1 and d.day == 1)
            if lang == "zh":
                return f"{d.month}月{d.day}日" + (f"\n{d.year}年" if first else "")
            return f"{_MONTHS_EN[d.month - 1]} {d.day}" + (f"\n{d.year}" if first else "")

        ax.xaxis.set_major_formatter(FuncFormatter(fmt_day))
        return
    months = span_days / 30.4
    step = next((s for s in (1, 2, 3, 4, 6, 12, 24, 60) if months / s <= max_ticks), 120)
    if step <= 12:
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=range(1, 13, step)))
    else:
        ax.xaxis.set_major_locator(mdates.YearLocator(step // 12))

    def fmt(x: float, pos: int | None) -> str:
        d = mdates.num2date(x)
        first = pos == 0 or d.month == 1
        if lang == "zh":
            return f"{d.month}月\n{d.year}年" if first else f"{d.month}月"
        return f"{_MONTHS_EN[d.month - 1]}\n{d.year}" if first else _MONTHS_EN[d.month - 1]

    ax.xaxis.set_major_formatter(FuncFormatter(fmt))


def dates_of(result: Result, days: Any) -> Any:
    """Calendar dates (numpy datetime64[D]) of run days (0 = start_date)."""
    import numpy as np

    origin = np.datetime64(result.scenario.start_date, "D")
    return origin + np.asarray(days, dtype="timedelta64[D]")


def timeline_marks(ax: Any, rs: list[Run], lang: str, *, as_dates: bool = True) -> None:
    """Dotted verticals at each dated change of a run's timeline (the reform history), with its
    note; scenarios without a timeline draw nothing."""
    import numpy as np

    seen: set[tuple[str, str]] = set()
    lo, hi = ax.get_xlim()
    for run in rs:
        spec = run.result.scenario
        for change in getattr(spec, "timeline", None) or []:
            key = (str(change.date), change.note)
            if key in seen:
                continue
            seen.add(key)
            if as_dates:
                import matplotlib.dates as mdates

                x = mdates.date2num(np.datetime64(change.date, "D"))
            else:
                x = (change.date - spec.start_date).days
            if not lo < x < hi:
                continue
            ax.axvline(x, color=MUTED, linewidth=0.8, linestyle=(0, (1, 2)), zorder=1)
            if change.note:
                note = change.note if len(change.note) <= 28 else change.note[:27] + "…"
                ax.annotate(note, (x, 1.0), xycoords=("data", "axes fraction"),
                            xytext=(2, -2), textcoords="offset points", rotation=90,
                            ha="left", va="top", fontsize=6.5, color=MUTED, clip_on=True)
