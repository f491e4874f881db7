"""How long residents wait: the share of *all* problems resolved within each time, by regime
(a Kaplan-Meier curve, `sim.resolution`, on a log time axis). Problems never resolved count as
such, so a regime that resolves few problems quickly does not look fast."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

from sim.charts import style
from sim.charts.style import Results
from sim.resolution import BASES, ResolutionCurve, resolution_curve

TEXT = {
    "en": {
        "title": "Within {horizon}, {best} resolves {best_share} of {who}, "
                 "against {worst_share} under {worst}",
        "title1": "{share} of {who} are resolved within {horizon}; {half}",
        "who.occurrence": "all problems",
        "who.report": "all reported problems",
        "half": "half within {v}",
        "half.never": "fewer than half in the {days} days simulated",
        "title0": "No problem was resolved in the simulated period",
        "panel.occurrence": "Time from occurrence to resolution, all problems that arose",
        "panel.report": "Time from report to resolution, all problems reported or found",
        "x.occurrence": "Time since the problem occurred (log scale)",
        "x.report": "Time since the problem was reported or found (log scale)",
        "y.occurrence": "Share of all problems resolved within that time (%)",
        "y.report": "Share of reported problems resolved within that time (%)",
        "legend": "{label}: {w1} in a day, {w7} in a week, half {half}",
        "legend.half": "by {v}",
        "legend.never": "not reached",
        "note": "Every problem counts: closed unresolved, never reported and still-open problems "
                "are not resolved; prevented problems are left out. Problems watched for less "
                "than a time on the axis (those occurring late in the run) are censored there "
                "(Kaplan-Meier). Markers: the time by which half are resolved.",
        "horizon.1": "a day",
        "horizon.7": "a week",
        "ticks": ("1 h", "6 h", "1 day", "3 days", "1 week", "2 weeks", "1 month", "3 months"),
    },
    "zh": {
        "title": "{horizon}内，{best}解决了{who}的{best_share}，{worst}为{worst_share}",
        "title1": "{who}中{share}在{horizon}内解决；{half}",
        "who.occurrence": "全部问题",
        "who.report": "全部被反映的问题",
        "half": "一半在{v}内解决",
        "half.never": "模拟的{days}天内解决的不到一半",
        "title0": "模拟期内没有问题得到解决",
        "panel.occurrence": "从问题发生到解决的时间（全部发生的问题）",
        "panel.report": "从诉求登记到解决的时间（全部被反映或发现的问题）",
        "x.occurrence": "问题发生后经过的时间（对数刻度）",
        "x.report": "问题登记后经过的时间（对数刻度）",
        "y.occurrence": "在该时间内解决的问题占全部问题的比例（%）",
        "y.report": "在该时间内解决的问题占被反映问题的比例（%）",
        "legend": "{label}：一天内{w1}，一周内{w7}，一半{half}",
        "legend.half": "在{v}内解决",
        "legend.never": "未达到",
        "note": "所有问题都计入：办结未解决、从未被反映和仍在办理的问题均算作未解决；被预防的问题不计入。"
                "观察时间短于横轴时间的问题（模拟末期发生的问题）在该处删失（Kaplan-Meier 估计）。"
                "标记：一半问题得到解决的时间。",
        "horizon.1": "一天",
        "horizon.7": "一周",
        "ticks": ("1小时", "6小时", "1天", "3天", "1周", "2周", "1个月", "3个月"),
    },
}
TICK_DAYS = (1 / 24, 0.25, 1.0, 3.0, 7.0, 14.0, 30.0, 91.0)
MARK_DAYS = (1.0, 7.0, 30.0)


def curve_of(run: style.Run, basis: str) -> ResolutionCurve:
    r = run.result
    return resolution_curve(r.problems, 24.0 * r.scenario.days, basis)


def curve_points(curve: ResolutionCurve, points: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """(days, share) on a log grid from one hour to the follow-up: any number of runs stays
    small to draw."""
    days = np.geomspace(1 / 24, max(curve.follow_up_h, 1.0) / 24.0, points)
    return days, curve.at(24.0 * days)


def latency(results: Results, *, basis: str = "occurrence", lang: str = "en") -> Figure:
    """Share of all problems resolved within each time, per run, on a log time axis; the time by
    which half are resolved marked where it is reached.

    `basis` is `occurrence` (every problem that arose, timed from occurrence: the resident's
    wait) or `report` (every problem reported or found, from its report: what the hotline sees).
    The title compares the share resolved within a week (a day in runs shorter than a week).
    """
    if basis not in BASES:
        from sim.errors import InputError

        raise InputError(None, "basis", "one of " + ", ".join(BASES), basis)
    with style.context(lang):
        rs = style.runs(results, lang)
        t = TEXT[lang]
        fig = style.new_figure(9.0, 5.6)
        ax = fig.add_subplot()
        curves = [curve_of(run, basis) for run in rs]
        longest = max((c.follow_up_h for c in curves), default=24.0) / 24.0
        for run, curve in zip(rs, curves, strict=True):
            if curve.problems == 0:
                continue
            x, y = curve_points(curve)
            half = curve.half_h
            label = t["legend"].format(
                label=run.label, w1=style.fmt_pct(curve.share_within(24.0)),
                w7=style.fmt_pct(curve.share_within(7 * 24.0)),
                half=(t["legend.half"].format(v=style.fmt_days(half, lang))
                      if np.isfinite(half) else t["legend.never"]))
            s = run.style
            layer = s.layer()
            ax.plot(x, 100 * y, color=s.color, linestyle=s.linestyle, label=label, **layer)
            if np.isfinite(half):  # under a solid curve, a larger marker: both show
                big = layer["linewidth"] > 2
                ax.plot([half / 24], [50], linestyle="none", marker=s.marker,
                        markersize=10 if big else 6.5,
                        markerfacecolor=s.color, markeredgecolor="black", markeredgewidth=0.8,
                        zorder=4.0 if big else 4.5)
        ax.set_xscale("log")
        ax.set_xlim(1 / 24, max(longest, 1.0) * 1.05)
        ticks = [d for d in TICK_DAYS if ax.get_xlim()[0] <= d <= ax.get_xlim()[1]]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.set_xticklabels([t["ticks"][TICK_DAYS.index(d)] for d in ticks])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(0, 100)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.axhline(50, color=style.MUTED, linewidth=0.8, linestyle=(0, (2, 2)), zorder=1)
        for d in MARK_DAYS:
            if d <= longest:
                ax.axvline(d, color=style.GRID, linewidth=1.0, zorder=1)
        ax.set_xlabel(t[f"x.{basis}"])
        ax.set_ylabel(t[f"y.{basis}"])
        ax.set_title(t[f"panel.{basis}"])
        if any(c.problems for c in curves):
            ax.legend(loc="upper left", handlelength=3.2)
        title = _title(rs, curves, basis, lang)
        return style.finish(fig, rs, title, lang, note=t["note"])


def _title(rs: list[style.Run], curves: list[ResolutionCurve], basis: str, lang: str) -> str:
    """The finding: the share resolved within a week (a day in shorter runs), best and worst."""
    t = TEXT[lang]
    if not any(c.ever > 0 for c in curves if c.problems):
        return t["title0"]
    horizon = 7 if all(c.follow_up_h >= 7 * 24.0 for c in curves) else 1
    shares = [c.share_within(24.0 * horizon) for c in curves]
    when = t[f"horizon.{horizon}"]
    if len(rs) == 1:
        c = curves[0]
        half = (t["half"].format(v=style.fmt_days(c.half_h, lang)) if np.isfinite(c.half_h)
                else t["half.never"].format(days=rs[0].result.scenario.days))
        return t["title1"].format(share=style.fmt_pct(shares[0]), horizon=when, half=half,
                                  who=t[f"who.{basis}"])
    ranked = sorted((s, run.label) for s, run in zip(shares, rs, strict=True) if np.isfinite(s))
    (worst_share, worst), (best_share, best) = ranked[0], ranked[-1]
    return t["title"].format(horizon=when, best=best, worst=worst, who=t[f"who.{basis}"],
                             best_share=style.fmt_pct(best_share),
                             worst_share=style.fmt_pct(worst_share))
