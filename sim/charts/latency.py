"""How long residents wait: the distribution of resolution latency by regime (ECDF, log time)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

from sim.charts import style
from sim.charts.style import Results

TEXT = {
    "en": {
        "title": "Half of all problems are resolved within {best_med} under {best}, "
                 "against {worst_med} under {worst}",
        "title1": "Half of all problems are resolved within {med}; 90% within {p90}",
        "title0": "No problem was resolved in the simulated period",
        "panel.occurrence": "Time from occurrence to resolution, resolved problems",
        "panel.report": "Time from report to resolution, resolved problems",
        "x.occurrence": "Time from occurrence to resolution (log scale)",
        "x.report": "Time from report to resolution (log scale)",
        "y": "Share of resolved problems resolved by then (%)",
        "legend": "{label}: median {med}, 90% by {p90}",
        "median": "median",
        "p90": "90%",
        "ticks": ("1 h", "6 h", "1 day", "3 days", "1 week", "2 weeks", "1 month", "3 months"),
    },
    "zh": {
        "title": "{best}下一半问题在{best_med}内解决，{worst}需要{worst_med}",
        "title1": "一半问题在{med}内解决，90%在{p90}内解决",
        "title0": "模拟期内没有问题得到解决",
        "panel.occurrence": "从问题发生到解决的时间（已解决的问题）",
        "panel.report": "从诉求登记到解决的时间（已解决的问题）",
        "x.occurrence": "从发生到解决的时间（对数刻度）",
        "x.report": "从登记到解决的时间（对数刻度）",
        "y": "到该时间已解决的比例（%）",
        "legend": "{label}：中位数{med}，90%在{p90}内",
        "median": "中位数",
        "p90": "90%",
        "ticks": ("1小时", "6小时", "1天", "3天", "1周", "2周", "1个月", "3个月"),
    },
}
TICK_DAYS = (1 / 24, 0.25, 1.0, 3.0, 7.0, 14.0, 30.0, 91.0)
BASES = ("occurrence", "report")
_GRID = np.linspace(0.0, 1.0, 401)  # quantile levels drawn: a 400-point curve per regime


def latency_quantiles(values_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ECDF as (days, share) at 401 quantile levels - small enough for any number of runs."""
    return np.quantile(values_h, _GRID) / 24.0, _GRID


def latency(results: Results, *, basis: str = "occurrence", lang: str = "en") -> Figure:
    """ECDF of resolution latency per run on a log time axis, median and 90th percentile marked.

    `basis` is `occurrence` (the resident's wait, MODEL.md's main measure) or `report` (what the
    hotline sees). Only resolved problems have a latency; the title names the fastest and the
    slowest median.
    """
    if basis not in BASES:
        from sim.errors import InputError

        raise InputError(None, "basis", "one of " + ", ".join(BASES), basis)
    with style.context(lang):
        rs = style.runs(results, lang)
        t = TEXT[lang]
        fig = style.new_figure(9.0, 5.4)
        ax = fig.add_subplot()
        medians: list[tuple[float, str]] = []
        lo, hi = np.inf, 0.0
        for run in rs:
            values = run.result.problems[f"latency_{basis}_h"].to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            if len(values) == 0:
                continue
            x, y = latency_quantiles(np.maximum(values, 1.0 / 60))  # one minute at least
            med, p90 = np.quantile(values, [0.5, 0.9])
            label = t["legend"].format(label=run.label, med=style.fmt_days(med, lang),
                                       p90=style.fmt_days(p90, lang))
            s = run.style
            ax.plot(x, 100 * y, color=s.color, linestyle=s.linestyle, label=label, zorder=3)
            ax.plot([med / 24, p90 / 24], [50, 90], linestyle="none", marker=s.marker,
                    markersize=7, markerfacecolor=s.color, markeredgecolor="black",
                    markeredgewidth=0.8, zorder=4)
            medians.append((med, run.label))
            lo, hi = min(lo, x[2]), max(hi, x[-3])
        ax.set_xscale("log")
        if medians:
            ax.set_xlim(max(lo * 0.7, 1 / 48), hi * 1.4)
        else:
            ax.set_xlim(1 / 24, 30)
        ticks = [d for d in TICK_DAYS if ax.get_xlim()[0] <= d <= ax.get_xlim()[1]]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.set_xticklabels([t["ticks"][TICK_DAYS.index(d)] for d in ticks])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(0, 100)
        ax.set_yticks([0, 25, 50, 75, 90, 100])
        for level, key in ((50, "median"), (90, "p90")):
            ax.axhline(level, color=style.MUTED, linewidth=0.8, linestyle=(0, (2, 2)), zorder=1)
            ax.annotate(t[key], (1.0, level), xycoords=("axes fraction", "data"),
                        xytext=(-2, 3), textcoords="offset points", ha="right", va="bottom",
                        fontsize=8, color=style.MUTED)
        ax.set_xlabel(t[f"x.{basis}"])
        ax.set_ylabel(t["y"])
        ax.set_title(t[f"panel.{basis}"])
        if medians:
            ax.legend(loc="upper left", handlelength=3.2)
        if not medians:
            title = t["title0"]
        elif len(medians) == 1:
            values = rs[0].result.problems[f"latency_{basis}_h"].dropna().to_numpy()
            med, p90 = np.quantile(values, [0.5, 0.9])
            title = t["title1"].format(med=style.fmt_days(med, lang),
                                       p90=style.fmt_days(p90, lang))
        else:
            best, worst = min(medians), max(medians)
            title = t["title"].format(best=best[1], worst=worst[1],
                                      best_med=style.fmt_days(best[0], lang),
                                      worst_med=style.fmt_days(worst[0], lang))
        return style.finish(fig, rs, title, lang)
