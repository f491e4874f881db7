"""Who carries the load: staff hours by unit type over the period, and how unevenly the work is
spread across street offices."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.agents import UNIT_TYPES
from sim.charts import style
from sim.charts.style import Results

TEXT = {
    "en": {
        "title": "{unit} take on the most extra work: {a} → {b} staff hours a week "
                 "({first} → {last})",
        "title.down": "{unit} see the largest change in work: {a} → {b} staff hours a week "
                      "({first} → {last})",
        "title1": "{unit} carry {share} of all staff hours; street offices average {util} "
                  "utilisation",
        "y.hours": "Staff hours per week ({unit})",
        "y.hours.thousands": "thousands",
        "y.hours.plain": "hours",
        "x.week": "Week starting",
        "util.title": "Utilisation of each street office over the period: who carries the load",
        "util.x": "Staff hours worked ÷ staff hours available (%), one dot per street office",
        "util.note": "box: middle half of street offices; whiskers: 5th-95th percentile",
    },
    "zh": {
        "title": "{unit}承担的新增工作最多：每周{a}→{b}工时（{first}→{last}）",
        "title.down": "{unit}的工作量变化最大：每周{a}→{b}工时（{first}→{last}）",
        "title1": "{unit}承担全部工时的{share}；街道（乡镇）平均利用率{util}",
        "y.hours": "每周工时（{unit}）",
        "y.hours.thousands": "千小时",
        "y.hours.plain": "小时",
        "x.week": "周起始日期",
        "util.title": "各街道（乡镇）模拟期内的工作负荷：谁在承担压力",
        "util.x": "实际工时 ÷ 可用工时（%），每个点为一个街道（乡镇）",
        "util.note": "箱体：中间一半的街道；须线：第5至第95百分位",
    },
}


#: matplotlib 3.10 renamed `vert=False` to `orientation="horizontal"` (and 3.11 warns on `vert`)
_HORIZONTAL = ({"orientation": "horizontal"}
               if "orientation" in inspect.signature(Axes.boxplot).parameters else {"vert": False})


def weekly_hours(result) -> pd.DataFrame:
    """Staff hours worked per week and unit type, in real-city units (full weeks only)."""
    ud = result.units_daily
    days = int(ud["day"].max()) + 1 if len(ud) else 0
    full = (days // 7) * 7
    sel = ud[ud["day"] < full]
    table = (sel.assign(week=sel["day"] // 7)
             .groupby(["week", "unit_type"], observed=True)["busy_hours"].sum()
             .unstack("unit_type", fill_value=0.0)) * result.weight
    return table.reindex(columns=list(UNIT_TYPES))  # NaN: the run has no such unit


def street_utilisation(result) -> pd.Series:
    """Each street office's staff hours worked over those available, over the whole period."""
    ud = result.units_daily
    st = ud[ud["unit_type"] == "street"]
    g = st.groupby("name", observed=True)[["busy_hours", "available_hours"]].sum()
    return (g["busy_hours"] / g["available_hours"].where(g["available_hours"] > 0)).dropna()


def workload(results: Results, *, lang: str = "en") -> Figure:
    """Weekly staff hours of street offices, enforcement teams, departments, district centres and
    the hotline (one panel each, one line per run), above the spread of utilisation across
    street offices. The title names the unit type whose load grows most from the first run to
    the last."""
    with style.context(lang):
        rs = style.runs(results, lang)
        t = TEXT[lang]
        weekly = [weekly_hours(r.result) for r in rs]
        present = [u for u in UNIT_TYPES if any(w[u].sum() > 0 for w in weekly)]
        n = max(1, len(present))
        fig = style.new_figure(max(9.0, 2.3 * n), 7.2)
        gs = fig.add_gridspec(2, n, height_ratios=[1.0, 0.95])
        peak = max((float(np.nanmax(w[present].to_numpy())) for w in weekly
                    if len(w) and present and w[present].notna().any().any()), default=0.0)
        div = 1e3 if peak >= 5e3 else 1.0
        unit_word = t["y.hours.thousands"] if div > 1 else t["y.hours.plain"]
        first_ax = None
        top_axes = []
        for i, unit in enumerate(present):
            ax = fig.add_subplot(gs[0, i], sharey=first_ax)
            first_ax = first_ax or ax
            top_axes.append(ax)
            for run, w in zip(rs, weekly, strict=True):
                if not len(w) or w[unit].isna().all():
                    continue
                x = style.dates_of(run.result, w.index.to_numpy() * 7)
                ax.plot(x, w[unit].to_numpy() / div, color=run.style.color,
                        linestyle=run.style.linestyle, label=run.label, **run.style.layer())
            ax.set_title(style.unit_label(unit, lang), fontsize=9.5)
            ax.set_xlabel(t["x.week"], fontsize=8)
            style.date_axis(ax, lang)
            ax.tick_params(axis="x", labelsize=7.5)
            style.timeline_marks(ax, rs, lang)
            if i == 0:
                ax.set_ylabel(t["y.hours"].format(unit=unit_word))
            else:
                ax.tick_params(labelleft=True)
        for ax in top_axes:  # shared: one scale, so panel heights compare across unit types
            ax.set_ylim(0, max(peak / div, 1e-9) * 1.08)

        ax = fig.add_subplot(gs[1, :])
        utils = [street_utilisation(r.result) for r in rs]
        rng = np.random.default_rng(0)  # jitter only: the same picture every time
        positions = np.arange(len(rs))[::-1]
        for pos, run, u in zip(positions, rs, utils, strict=True):
            if u.empty:
                continue
            v = 100 * u.to_numpy()
            bp = ax.boxplot(v, positions=[pos], widths=0.55, whis=(5, 95), showfliers=False,
                            patch_artist=True, manage_ticks=False, **_HORIZONTAL)
            for box in bp["boxes"]:
                box.set(facecolor="white", edgecolor=run.style.color, linewidth=1.4)
            for part in ("whiskers", "caps", "medians"):
                for line in bp[part]:
                    line.set(color=run.style.color, linewidth=1.4)
            jitter = rng.uniform(-0.2, 0.2, len(v))
            ax.scatter(v, pos + jitter, s=9, color=run.style.color, marker=run.style.marker,
                       edgecolors="black", linewidths=0.3, alpha=0.75, zorder=3)
        ax.set_yticks(positions)
        ax.set_yticklabels([r.label for r in rs])
        ax.set_ylim(-0.6, len(rs) - 0.4)
        ax.set_xlim(left=0)
        ax.set_xlabel(t["util.x"])
        ax.set_title(t["util.title"])
        ax.annotate(t["util.note"], (1.0, 0.0), xycoords="axes fraction", xytext=(0, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize=7.5,
                    color=style.MUTED)
        ax.grid(axis="y", visible=False)

        return style.finish(fig, rs, _title(rs, weekly, utils, present, lang), lang,
                            legend=style.handles(rs))


def _title(rs, weekly, utils, present, lang: str) -> str:
    t = TEXT[lang]
    means = [{u: float(w[u].fillna(0.0).mean()) if len(w) else 0.0 for u in present}
             for w in weekly]
    if not present:
        return t["title1"].format(unit="—", share="—", util="—")
    if len(rs) == 1:
        total = sum(means[0].values())
        top = max(present, key=lambda u: means[0][u])
        util = float(utils[0].mean()) if not utils[0].empty else float("nan")
        return t["title1"].format(unit=style.unit_label(top, lang),
                                  share=style.fmt_pct(means[0][top] / total if total else 0.0),
                                  util=style.fmt_pct(util))
    change = {u: means[-1][u] - means[0][u] for u in present}
    up = max(present, key=lambda u: change[u])
    key = "title" if change[up] > 0 else "title.down"
    unit = up if change[up] > 0 else max(present, key=lambda u: abs(change[u]))
    return t[key].format(unit=style.unit_label(unit, lang),
                         a=style.fmt_count(means[0][unit], lang),
                         b=style.fmt_count(means[-1][unit], lang),
                         first=rs[0].label, last=rs[-1].label)
