"""A surge stress test: open cases and waiting times through a demand shock, by regime.

The waiting-time panel follows each day's problems, all of them: the share of the problems that
arose on a day resolved within 7 days (`sim.resolution`, as the summary's
`resolved_within_7d_share`), so problems a surge leaves unresolved pull the line down instead of
dropping out of a median of the resolved ones. Days in the last week of the run are not drawn:
their problems have not been watched for a week.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts import style
from sim.charts.style import Results
from sim.resolution import curves_by

#: Days within which the waiting-time panel counts a day's problems resolved (the headline's).
WITHIN_DAYS = 7

TEXT = {
    "en": {
        "title": "A {mult} surge for {days} days multiplies open cases by {r_worst} under "
                 "{worst}, by {r_best} under {best}",
        "title1": "A {mult} surge for {days} days multiplies open cases by {r}",
        "title.none": "No demand shock in these runs: open cases and waiting times day by day",
        "backlog": "Open cases at the end of each day: reported or found, not yet closed",
        "backlog.y": "Open cases ({unit})",
        "latency": "Share of each day's problems resolved within 7 days of occurring "
                   "(all problems that arose)",
        "latency.y": "Resolved within 7 days (%)",
        "x": "Day of the run",
        "shock": "shock ×{m}",
        "thousands": "thousands, real city",
        "plain": "real city",
        "note": "Shaded: the shock window (demand.shocks). Ratio in the title: peak open cases "
                "in or up to 14 days after the window over the mean of the 14 days before it. "
                "Bottom: every problem counts, unresolved ones as unresolved; the last 7 days "
                "are not drawn, their problems not yet watched for a week.",
    },
    "zh": {
        "title": "需求激增{mult}持续{days}天：{worst}的在办案件增至{r_worst}，{best}为{r_best}",
        "title1": "需求激增{mult}持续{days}天：在办案件增至{r}",
        "title.none": "这些模拟中没有需求冲击：逐日在办案件与等待时间",
        "backlog": "每日末在办案件：已反映或发现、尚未办结",
        "backlog.y": "在办案件（{unit}）",
        "latency": "每日发生的问题中七天内解决的比例（全部发生的问题）",
        "latency.y": "七天内解决的比例（%）",
        "x": "模拟第几天",
        "shock": "冲击 ×{m}",
        "thousands": "千件，全市",
        "plain": "件，全市",
        "万": "万件，全市",
        "note": "阴影：冲击期（demand.shocks）。标题中的倍数：冲击期及其后14天内在办案件峰值 ÷ "
                "冲击前14天的平均值。下图：所有问题都计入，未解决的算作未解决；最后7天不画出，"
                "因为这些天发生的问题尚未观察满一周。",
    },
}


def open_cases(result) -> pd.Series:
    """Cases that entered the system and were not yet closed, at the end of each day (real city)."""
    p = result.problems
    days = result.scenario.days
    entered = p["entered_h"].to_numpy(dtype=float)
    closed = p["closed_h"].to_numpy(dtype=float)
    ok = np.isfinite(entered)
    ends = 24.0 * (np.arange(days) + 1)
    n_in = np.searchsorted(np.sort(entered[ok]), ends, side="right")
    c = closed[ok]
    n_out = np.searchsorted(np.sort(c[np.isfinite(c)]), ends, side="right")
    return pd.Series((n_in - n_out) * result.weight, index=np.arange(days))


def daily_resolved_within(result, days: float = WITHIN_DAYS) -> pd.Series:
    """Share (0-1) of the problems that arose each day resolved within `days` of occurring, by
    day of occurrence: each day's Kaplan-Meier curve (`sim.resolution.curves_by`) at `days`,
    NaN for the days whose problems the run did not watch that long (its last `days`)."""
    p = result.problems
    curves = curves_by(p, p["occurred_day"], 24.0 * result.scenario.days)
    out = pd.Series({int(day): curve.share_within(24.0 * days) for day, curve in curves.items()},
                    dtype=float)
    return out.reindex(np.arange(result.scenario.days))


def shock_windows(result) -> list[tuple[int, int, float]]:
    """(first day, days, multiplier) of each demand shock of the run."""
    return [(s.start_day, s.days, s.multiplier) for s in result.scenario.demand.shocks]


def surge_ratio(series: pd.Series, start: int, days: int, before: int = 14,
                after: int = 14) -> float:
    """Peak open cases in the window (and `after` days past it) over the mean of `before` days."""
    pre = series.loc[max(0, start - before):start - 1]
    peak = series.loc[start:start + days + after]
    if pre.empty or peak.empty or pre.mean() <= 0:
        return float("nan")
    return float(peak.max() / pre.mean())


def surge(results: Results, *, lang: str = "en") -> Figure:
    """Open cases (top) and the share of each day's problems resolved within 7 days (bottom, all
    problems that arose, unresolved ones counted as such) through the shock windows of the runs' `demand.shocks`, shaded; one line per run. Runs without a shock are
    drawn all the same (the title then says so)."""
    with style.context(lang):
        rs = style.runs(results, lang)
        t = TEXT[lang]
        fig = style.new_figure(10.0, 6.6)
        ax1, ax2 = fig.subplots(2, 1, sharex=True)
        backlog = [open_cases(r.result) for r in rs]
        top = max((float(b.max()) for b in backlog if len(b)), default=0.0)
        if lang == "zh":
            div, word = (1e4, "万") if top >= 1e5 else (1.0, "plain")
        else:
            div, word = (1e3, "thousands") if top >= 2e3 else (1.0, "plain")
        for run, b in zip(rs, backlog, strict=True):
            ax1.plot(b.index, b.to_numpy() / div, markevery=max(1, len(b) // 10),
                     **run.style.line(), **run.style.layer())
            w = daily_resolved_within(run.result)
            ax2.plot(w.index, 100 * w.to_numpy(), markevery=max(1, len(w) // 10),
                     **run.style.line(), **run.style.layer())
        windows = sorted({w for r in rs for w in shock_windows(r.result)})
        for start, days, mult in windows:
            for ax in (ax1, ax2):
                ax.axvspan(start - 0.5, start + days - 0.5, color="#BBBBBB", alpha=0.35,
                           linewidth=0, zorder=0, hatch="")
            ax1.annotate(t["shock"].format(m=f"{mult:g}"), (start, 1.0),
                         xycoords=("data", "axes fraction"), xytext=(2, -2),
                         textcoords="offset points", ha="left", va="top", fontsize=8,
                         color=style.INK)
        ax1.set_title(t["backlog"])
        ax1.set_ylabel(t["backlog.y"].format(unit=t.get(word, word)))
        ax1.set_ylim(bottom=0)
        ax2.set_title(t["latency"])
        ax2.set_ylabel(t["latency.y"])
        ax2.set_ylim(0, 100)
        ax2.set_xlabel(t["x"])
        ax2.set_xlim(0, max(r.result.scenario.days for r in rs) - 1)
        return style.finish(fig, rs, _title(rs, backlog, windows, lang), lang,
                            legend=style.handles(rs), note=t["note"])


def _title(rs, backlog, windows, lang: str) -> str:
    t = TEXT[lang]
    if not windows:
        return t["title.none"]
    start, days, mult = max(windows, key=lambda w: w[2])
    ratios = [(surge_ratio(b, start, days), r.label) for r, b in zip(rs, backlog, strict=True)]
    ratios = [x for x in ratios if x[0] == x[0]]
    mult_text = f"×{mult:g}"
    if not ratios:
        return t["title.none"]
    if len(ratios) == 1:
        return t["title1"].format(mult=mult_text, days=days, r=f"{ratios[0][0]:.1f}×")
    worst, best = max(ratios), min(ratios)
    return t["title"].format(mult=mult_text, days=days, worst=worst[1], best=best[1],
                             r_worst=f"{worst[0]:.1f}×", r_best=f"{best[0]:.1f}×")
