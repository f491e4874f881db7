"""The demand funnel: problems that occur, are reported or found, and end resolved, closed
unresolved, never reported or prevented."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from sim.charts import style
from sim.charts.style import Results

#: (stage key, summary columns added up)
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("occurred", ("occurred",)),
    ("entered", ("reported", "found_proactively")),
    ("resolved", ("resolved",)),
    ("closed_unresolved", ("closed_unresolved",)),
    ("still_open", ("still_open",)),
    ("never_reported", ("never_reported",)),
    ("prevented", ("prevented",)),
)

TEXT = {
    "en": {
        "title": "{best} resolves {x} of the problems that occur; {worst} {y}",
        "title1": "{x} of the problems that occur are resolved; {n} are never reported",
        "occurred": "Occurred",
        "entered": "Reported or\nfound by staff",
        "resolved": "Resolved",
        "closed_unresolved": "Closed\nunresolved",
        "still_open": "Still open\nat the end",
        "never_reported": "Never\nreported",
        "prevented": "Prevented\n(root cause removed)",
        "y": "Problems in the period ({unit}, real city)",
        "y.plain": "Problems in the period (real city)",
        "millions": "millions",
        "thousands": "thousands",
        "note": "Labels: share of the problems that occurred. Counts are scaled up from the "
                "simulated share of residents.",
    },
    "zh": {
        "title": "{best}解决了{x}的已发生问题，{worst}为{y}",
        "title1": "已发生问题中{x}得到解决，{n}从未被反映",
        "occurred": "发生",
        "entered": "被反映或\n被主动发现",
        "resolved": "已解决",
        "closed_unresolved": "办结但\n未解决",
        "still_open": "期末\n仍在办理",
        "never_reported": "从未\n被反映",
        "prevented": "被预防\n（根源治理）",
        "y": "模拟期内问题数（{unit}，全市）",
        "y.plain": "模拟期内问题数（全市）",
        "万": "万件",
        "note": "标注：占已发生问题的比例。数量由模拟的居民比例折算为全市规模。",
    },
}


def funnel_counts(result) -> dict[str, float]:
    """Real-city counts per funnel stage, from the run's summary."""
    m = result.measures
    return {key: float(sum(float(m.get(c, 0.0) or 0.0) for c in cols)) for key, cols in STAGES}


def funnel(results: Results, *, lang: str = "en") -> Figure:
    """Grouped bars, one group per stage and one bar per run, each labelled with its share of
    the problems that occurred. Stages no run reaches (e.g. nothing prevented) are left out."""
    with style.context(lang):
        rs = style.runs(results, lang)
        t = TEXT[lang]
        counts = [funnel_counts(r.result) for r in rs]
        stages = [k for k, _ in STAGES if k == "occurred" or any(c[k] > 0 for c in counts)]
        fig = style.new_figure(max(8.5, 1.35 * len(stages) + 1.5), 5.6)
        ax = fig.add_subplot()
        top = max(c["occurred"] for c in counts)
        div, word = style.count_unit(top, lang)
        n = len(rs)
        width = 0.8 / n
        x = np.arange(len(stages))
        for i, (run, c) in enumerate(zip(rs, counts, strict=True)):
            values = np.array([c[k] for k in stages]) / div
            pos = x - 0.4 + width * (i + 0.5)
            ax.bar(pos, values, width=width * 0.92, label=run.label, **run.style.bar())
            occurred = c["occurred"]
            for xp, v, k in zip(pos, values, stages, strict=True):
                if k == "occurred" or occurred <= 0:
                    continue
                ax.annotate(f"{100 * v * div / occurred:.0f}%", (xp, v), xytext=(0, 2),
                            textcoords="offset points", ha="center", va="bottom",
                            fontsize=6.5 if n > 3 else 7.5, color=style.INK)
        ax.set_xticks(x)
        ax.set_xticklabels([t[k] for k in stages])
        ax.tick_params(axis="x", length=0)
        ax.grid(axis="x", visible=False)
        label = t.get(word, word)
        ax.set_ylabel(t["y"].format(unit=label) if word else t["y.plain"])
        ax.set_ylim(0, top / div * 1.08)
        return style.finish(fig, rs, _title(rs, counts, lang), lang,
                            legend=style.handles(rs, "bar"), note=t["note"])


def _title(rs, counts, lang: str) -> str:
    t = TEXT[lang]
    shares = [(c["resolved"] / c["occurred"] if c["occurred"] else float("nan"), r.label)
              for r, c in zip(rs, counts, strict=True)]
    if len(rs) == 1:
        c = counts[0]
        return t["title1"].format(x=style.fmt_pct(shares[0][0]),
                                  n=style.fmt_pct(c["never_reported"] / c["occurred"]
                                                  if c["occurred"] else float("nan")))
    best, worst = max(shares), min(shares)
    return t["title"].format(best=best[1], worst=worst[1], x=style.fmt_pct(best[0]),
                             y=style.fmt_pct(worst[0]))
