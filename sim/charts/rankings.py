"""The monthly ranking classes (先进、进步、整改、治理) over time, and who stays at the bottom."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.charts import style
from sim.charts.style import CLASS_ORDER, CLASS_STYLES, Results
from sim.results import Result

TEXT = {
    "en": {
        "title": "Under {label}, {share} of street offices are ranked 治理 (to govern) at least "
                 "once; {stay} of 治理 rankings are followed by 治理 the next month",
        "title.short": "Under {label}, {share} of street offices are ranked 治理 (to govern) at "
                       "least once",
        "title.none": "No run ranks its units (ranking.enabled is off)",
        "shares": "{label}: share of ranked units in each class",
        "shares.y": "Share of ranked units (%)",
        "strip": "{label}: each street office's class, month by month",
        "strip.y": "Street offices (sorted by mean score)",
        "x": "Month ranked",
        "先进": "先进 advanced",
        "进步": "进步 improved",
        "整改": "整改 to rectify",
        "治理": "治理 to govern",
        "note": "Units are scored 30% response, 35% resolution and 35% satisfaction on last "
                "month's callbacks and ranked within their group (streets, departments); only "
                "units with callbacks that month are ranked.",
        "skipped": "Not ranked: {names}.",
    },
    "zh": {
        "title": "{label}下{share}的街道（乡镇）至少一次被评为治理类；治理类中{stay}下个月仍为治理类",
        "title.short": "{label}下{share}的街道（乡镇）至少一次被评为治理类",
        "title.none": "没有模拟启用月度排名（ranking.enabled 关闭）",
        "shares": "{label}：各类别占参评单位比例",
        "shares.y": "占参评单位比例（%）",
        "strip": "{label}：各街道（乡镇）逐月类别",
        "strip.y": "街道（乡镇）（按平均得分排序）",
        "x": "排名月份",
        "先进": "先进",
        "进步": "进步",
        "整改": "整改",
        "治理": "治理",
        "note": "按上月回访结果评分（响应率30%、解决率35%、满意率35%），在同类单位（街道、部门）内排名；"
                "当月有回访的单位才参评。",
        "skipped": "未排名：{names}",
    },
}


def ranking_table(result: Result) -> pd.DataFrame:
    """Ranked rows with the calendar month they rate and the unit type (street/department)."""
    r = result.rankings
    if r.empty:
        return r.assign(period=pd.Series(dtype="period[M]"), unit_type=pd.Series(dtype=str))
    spec = result.scenario
    origin = pd.Period(pd.Timestamp(spec.start_date) - pd.Timedelta(days=spec.warmup_days), "M")
    r = r[r["class"].astype(str).isin(CLASS_ORDER)].copy()
    r["period"] = [origin + int(m) for m in r["month"]]
    ud = result.units_daily
    types = ud.drop_duplicates("unit").set_index("unit")["unit_type"].astype(str)
    r["unit_type"] = r["unit"].map(types).fillna("department")
    return r[r["period"] >= pd.Period(spec.start_date, "M")]


def persistence(table: pd.DataFrame, cls: str = "治理") -> float:
    """Share of (unit, month) rankings in `cls` followed by `cls` again the next month."""
    t = table[["unit", "period", "class"]].copy()
    t["class"] = t["class"].astype(str)
    nxt = t.assign(period=t["period"] - 1).rename(columns={"class": "next"})
    both = t.merge(nxt, on=["unit", "period"])
    low = both[both["class"] == cls]
    return float((low["next"] == cls).mean()) if len(low) else float("nan")


def rankings(results: Results, *, lang: str = "en") -> Figure:
    """Per ranked run: stacked monthly shares of the four classes (left) and a strip of every
    street office's class month by month (right, sorted by mean score), which shows who stays
    at the bottom. Runs without rankings are named in a note."""
    with style.context(lang):
        rs = style.runs(results, lang)
        t = TEXT[lang]
        tables = [ranking_table(r.result) for r in rs]
        ranked = [(r, tb) for r, tb in zip(rs, tables, strict=True) if not tb.empty]
        rows = max(1, len(ranked))
        fig = style.new_figure(11.0, 2.9 * rows + 1.5)
        axes = np.atleast_2d(fig.subplots(rows, 2, gridspec_kw={"width_ratios": [1, 1.25]}))
        cmap = ListedColormap([CLASS_STYLES[c]["facecolor"] for c in CLASS_ORDER])
        norm = BoundaryNorm(np.arange(-0.5, len(CLASS_ORDER) + 0.5), cmap.N)
        for (ax1, ax2), (run, tb) in zip(axes, ranked, strict=False):
            periods = sorted(tb["period"].unique())
            shares = (tb.groupby(["period", tb["class"].astype(str)]).size()
                      .unstack(fill_value=0).reindex(index=periods, columns=list(CLASS_ORDER),
                                                     fill_value=0))
            shares = shares.div(shares.sum(axis=1), axis=0) * 100
            x = np.arange(len(periods))
            bottom = np.zeros(len(periods))
            for cls in CLASS_ORDER:
                st = CLASS_STYLES[cls]
                ax1.bar(x, shares[cls].to_numpy(), bottom=bottom, width=0.85,
                        facecolor=st["facecolor"], hatch=st["hatch"], edgecolor="white",
                        linewidth=0.4)
                bottom += shares[cls].to_numpy()
            ax1.set_xticks(x)
            ax1.set_xticklabels(_month_labels(periods, lang), fontsize=7.5)
            ax1.set_ylim(0, 100)
            ax1.set_ylabel(t["shares.y"])
            ax1.set_xlabel(t["x"])
            ax1.set_title(t["shares"].format(label=run.label), color=run.style.color)
            ax1.grid(axis="x", visible=False)

            streets = tb[tb["unit_type"] == "street"]
            if streets.empty:
                ax2.set_visible(False)
                continue
            order = streets.groupby("unit")["score"].mean().sort_values(ascending=False).index
            codes = streets.assign(code=streets["class"].astype(str).map(
                {c: i for i, c in enumerate(CLASS_ORDER)}))
            grid = codes.pivot_table(index="unit", columns="period", values="code",
                                     aggfunc="first").reindex(index=order, columns=periods)
            ax2.imshow(np.ma.masked_invalid(grid.to_numpy(dtype=float)), aspect="auto",
                       cmap=cmap, norm=norm, interpolation="nearest")
            ax2.set_xticks(x)
            ax2.set_xticklabels(_month_labels(periods, lang), fontsize=7.5)
            n = len(order)
            ax2.set_yticks([0, n - 1])
            ax2.set_yticklabels(["1", str(n)])
            ax2.set_ylabel(t["strip.y"])
            ax2.set_xlabel(t["x"])
            ax2.set_title(t["strip"].format(label=run.label), color=run.style.color)
            ax2.grid(False)
        if not ranked:
            for ax in axes.ravel():
                ax.set_visible(False)
        legend = [Patch(facecolor=CLASS_STYLES[c]["facecolor"], hatch=CLASS_STYLES[c]["hatch"],
                        edgecolor="white", label=t[c]) for c in CLASS_ORDER]
        note = t["note"]
        skipped = [r.label for r, tb in zip(rs, tables, strict=True) if tb.empty]
        if skipped and ranked:
            note += " " + t["skipped"].format(names=style._joined(skipped, lang))
        return style.finish(fig, rs, _title(ranked, lang), lang, legend=legend, note=note)


def _month_labels(periods: list[pd.Period], lang: str) -> list[str]:
    step = max(1, -(-len(periods) // 12))
    out = []
    for i, p in enumerate(periods):
        if i % step:
            out.append("")
        elif lang == "zh":
            out.append(f"{p.month}月" if i and p.month != 1 else f"{p.year}年\n{p.month}月")
        else:
            out.append(p.strftime("%b") if i and p.month != 1 else p.strftime("%b\n%Y"))
    return out


def _title(ranked, lang: str) -> str:
    """About the last ranked run (the most advanced regime in the usual order)."""
    t = TEXT[lang]
    if not ranked:
        return t["title.none"]
    run, tb = ranked[-1]
    streets = tb[tb["unit_type"] == "street"]
    if streets.empty:
        streets = tb
    ever = streets.groupby("unit")["class"].apply(lambda c: (c.astype(str) == "治理").any())
    stay = persistence(streets)
    key = "title.short" if math.isnan(stay) else "title"  # one month ranked: no "next month"
    return t[key].format(label=run.label, share=style.fmt_pct(float(ever.mean())),
                         stay=style.fmt_pct(stay))
