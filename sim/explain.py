"""A comparison that explains itself: the measures over seeds, which differences are within seed
noise, and one line for each thing a first-time reader would misread (overload; a regime that
looks worse because it prevents problems, or because more residents report to the same staff).

Pure functions of the runs' summary rows (`Result.measures`, one per scenario and seed), so that
`govsim compare` and the brief say the same.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: Differences are tested at this level, t with (seeds - 1) degrees of freedom.
CONFIDENCE = 0.95
#: Measures a first-time reader is told about when a scenario does worse on them than the one
#: before it (shares of all problems; higher is better).
HEADLINE = ("resolved_within_7d_share", "resolved_share")
#: Summary columns that are not outcomes to compare: the run's inputs and the accounting check.
NOT_MEASURES = ("seed", "days", "scale", "accounting_ok")

TEXT = {
    "en": {
        "overload": "what overload means: a unit ends overloaded when its backlog is still "
                    "growing (or its staff are busier than their hours) over the last weeks of "
                    "the run, so its cases' waits are still lengthening when the run stops; that "
                    "run is not in a steady state, and a longer run would show it with longer "
                    "waits and fewer problems resolved in time than these figures do",
        "worse": "why {after} looks worse than {before} on the {what}: {reasons}",
        "and": " and the ",
        "resolved_within_7d_share": "share of all problems resolved within 7 days",
        "resolved_share": "share of all problems resolved",
        "prevented": "it prevents {share} of problems, which these shares count as not "
                     "resolved",
        "dealt": "; counting a prevented problem as dealt with, {after} is {points:+.1f} points "
                 "against {before}",
        "noise": " (within seed noise)",
        "overloaded": "it ends with {n} units overloaded ({before}: {m})",
        "reported": "{share} of problems are reported ({before}: {other}), to the same staff",
        "none": "none of prevention, overload or more reports explains it: a mechanism of its "
                "own does (govsim decompose takes it apart)",
        "sep": "; ",
    },
    "zh": {
        "overload": "“超负荷”的含义：模拟结束前几周，某单位的积压仍在增长（或人员忙于工时之外），"
                    "其案件等待时间在模拟停止时仍在延长；该模拟未达稳定状态，若模拟更久，其等待更长、"
                    "按时解决的问题更少",
        "worse": "{after}在{what}上看起来不如{before}的原因：{reasons}",
        "and": "和",
        "resolved_within_7d_share": "七日内解决的问题占全部问题的比例",
        "resolved_share": "全部问题的解决比例",
        "prevented": "它预防了{share}的问题，这些比例把预防的问题计为未解决",
        "dealt": "；若把预防的问题计为已处理，{after}比{before}高{points:+.1f}个百分点",
        "noise": "（在随机种子噪声范围内）",
        "overloaded": "它在结束时有{n}个单位超负荷（{before}：{m}个）",
        "reported": "{share}的问题被反映（{before}：{other}），由同样的人员处理",
        "none": "预防、超负荷和更多反映都不能解释：是其自身的某项机制所致（govsim decompose 可逐项分解）",
        "sep": "；",
    },
}
OVERLOAD_MEANING = TEXT["en"]["overload"]


def derived(m: pd.Series) -> pd.Series:
    """The summary row with the shares a reader compares regimes on: prevented, reported, and
    resolved or prevented (a problem prevented troubled nobody: dealt with, not unresolved)."""
    m = m.copy()
    occurred = float(m.get("occurred", math.nan))
    for name, value in (("prevented_share", m.get("prevented")),
                        ("reported_share", m.get("reported"))):
        m[name] = float(value) / occurred if occurred else math.nan
    m["dealt_share"] = (float(m.get("resolved", math.nan)) + float(m.get("prevented", 0.0))) \
        / occurred if occurred else math.nan
    return m


def mean_row(rows: Sequence[pd.Series]) -> pd.Series:
    """The mean over seeds of each number (text and the inputs from the first seed)."""
    first = derived(rows[0])
    out = first.copy()
    frame = pd.DataFrame([derived(r) for r in rows])
    for name in frame.columns:
        values = pd.to_numeric(frame[name], errors="coerce")
        if values.notna().all() and name not in NOT_MEASURES \
                and not isinstance(first[name], bool | np.bool_ | str):
            out[name] = float(values.mean())
    return out


def differences(rows: Mapping[str, Sequence[pd.Series]], labels: Sequence[str]) -> pd.DataFrame:
    """Each scenario against the one before it, per measure: the mean paired difference over
    the seeds both have, its interval, and `within_noise` (the interval includes 0, or every
    seed gives the same value; NaN with one seed)."""
    out = []
    for before, after in itertools.pairwise(labels):
        a = pd.DataFrame([derived(r) for r in rows[before]])
        b = pd.DataFrame([derived(r) for r in rows[after]])
        n = min(len(a), len(b))
        for name in b.columns:
            x = pd.to_numeric(a[name].iloc[:n], errors="coerce").to_numpy(float)
            y = pd.to_numeric(b[name].iloc[:n], errors="coerce").to_numpy(float)
            d = y - x
            d = d[np.isfinite(d)]
            if not len(d) or name in NOT_MEASURES or isinstance(
                    b[name].iloc[0], str | bool | np.bool_):
                continue
            mean = float(d.mean())
            if len(d) > 1:
                half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(d) - 1) * d.std(ddof=1)
                             / math.sqrt(len(d)))
                noise = bool(mean - half <= 0.0 <= mean + half)
            else:
                half, noise = math.nan, math.nan
            out.append({"scenario": after, "against": before, "measure": name,
                        "difference": mean, "low": mean - half, "high": mean + half,
                        "seeds": len(d), "within_noise": noise})
    return pd.DataFrame(out, columns=["scenario", "against", "measure", "difference", "low",
                                      "high", "seeds", "within_noise"])


def _pct(value: float) -> str:
    return f"{100 * value:.2f} %" if 0 < abs(value) < 0.01 else f"{100 * value:.1f} %"


def notes(labels: Sequence[str], means: Mapping[str, pd.Series], diffs: pd.DataFrame,
          lang: str = "en") -> list[str]:
    """What a first-time reader needs in one line each: why a scenario that looks worse than
    the one before it does so, and what overload means (once, if any run ends overloaded)."""
    t = TEXT[lang]
    out = []

    def diff(label: str, measure: str) -> pd.Series | None:
        row = diffs[(diffs["scenario"] == label) & (diffs["measure"] == measure)]
        return None if row.empty else row.iloc[0]

    for before, after in itertools.pairwise(labels):
        a, b = means[before], means[after]
        worse = [m for m in HEADLINE if (d := diff(after, m)) is not None
                 and d["difference"] < 0 and d["within_noise"] is not True]
        if not worse:
            continue
        reasons = []
        if b["prevented_share"] > a["prevented_share"]:
            dealt = diff(after, "dealt_share")
            change = "" if dealt is None else (
                t["dealt"].format(after=after, before=before, points=100 * dealt["difference"])
                + (t["noise"] if dealt["within_noise"] is True else ""))
            reasons.append(t["prevented"].format(share=_pct(b["prevented_share"])) + change)
        if b["overloaded_units"] > a["overloaded_units"]:
            reasons.append(t["overloaded"].format(n=f"{b['overloaded_units']:g}", before=before,
                                                  m=f"{a['overloaded_units']:g}"))
        if b["reported_share"] > a["reported_share"] * 1.02:
            reasons.append(t["reported"].format(share=_pct(b["reported_share"]), before=before,
                                                other=_pct(a["reported_share"])))
        out.append(t["worse"].format(after=after, before=before,
                                     what=t["and"].join(t[w] for w in worse),
                                     reasons=t["sep"].join(reasons) if reasons else t["none"]))
    if any(float(means[lbl].get("overloaded_units", 0) or 0) > 0 for lbl in labels):
        out.append(t["overload"])
    return out
