"""The brief's findings, each a comparison of the runs that is checked over seeds, and the
warnings a reader needs when the runs are too few, too small or too short to support them.

A finding names the best and the worst run on one measure, with each one's range over the seeds
and whether the best beats the worst in every seed (common random numbers: the same seed in
every regime, so the seeds pair up). With a single seed it says that no interval can be given;
where the order flips between seeds it says the comparison does not hold.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.briefing.defaults import BRIEF_WARMUP_DAYS, MIN_SEEDS
from sim.charts import style
from sim.scenario.schema import Scenario

#: Below these (and MIN_SEEDS) the brief warns that its runs cannot carry its findings.
MIN_SCALE = 0.1  # a tenth of the city's streets: fewer, and totals rest on a few streets
MIN_DAYS = 180  # source governance acts after its lag (60 days) on monthly themes
MIN_WARMUP_DAYS = 30  # queues fill up over weeks: measured from empty, waits look short


@dataclass(frozen=True)
class Measure:
    """A summary column the findings compare: its words, unit and direction."""

    column: str
    en: str
    zh: str
    unit: str  # "share", "days" (the column in hours), "hours" (staff hours)
    higher_is_better: bool | None  # None: a cost, reported without judgement


MEASURES: tuple[Measure, ...] = (
    Measure("resolved_within_7d_share",
            "Within a week of occurring, {best} resolves {best_v} of all problems that arose",
            "问题发生后一周内，{best}解决了全部问题的{best_v}", "share", True),
    Measure("half_resolved_h",
            "Half of all problems that arose are resolved within {best_v} under {best}",
            "{best}下一半问题在{best_v}内解决", "days", False),
    Measure("resolved_share",
            "By the end of the run {best} has resolved {best_v} of all problems that occurred",
            "到模拟结束，{best}解决了全部发生问题的{best_v}", "share", True),
    Measure("satisfaction_rate", "Residents are satisfied with {best_v} of closed cases under "
            "{best}", "{best}下居民对{best_v}的办结案件表示满意", "share", True),
    Measure("street_staff_hours", "Street offices work the most staff hours under {best} "
            "({best_v})", "街道（乡镇）工时在{best}下最多（{best_v}）", "hours", None),
)

_WORDS = {
    "en": {"against": ", against {worst_v} under {worst}", "range": " (seeds: {lo}–{hi})",
           "one_seed": "; one seed, so no interval and no check that the order holds",
           "holds": "; the order holds in all {n} seeds (difference {lo} to {hi})",
           "holds_same": "; the order holds in all {n} seeds (difference {d} in each)",
           "same_range": " (the same in every seed)",
           "holds_plain": "; the order holds in all {n} seeds",
           "fails": "; the order holds in only {k} of {n} seeds, so this is not a finding",
           "never": "; under {runs} fewer than half are resolved in the {days} days",
           "and": " and ", "tie": "; {runs} the same to the figure shown",
           "not_reached": "not reached in {days} days", "least": ", the fewest under {worst} "
           "({worst_v})", "unknown": "{label}: not known for every run (runs too short)"},
    "zh": {"against": "，{worst}为{worst_v}", "range": "（各随机种子：{lo}–{hi}）",
           "one_seed": "；仅一个随机种子，无法给出区间，也无法检验排序是否成立",
           "holds": "；该排序在全部{n}个随机种子中成立（差值{lo}至{hi}）",
           "holds_same": "；该排序在全部{n}个随机种子中成立（各随机种子差值均为{d}）",
           "same_range": "（各随机种子相同）",
           "holds_plain": "；该排序在全部{n}个随机种子中成立",
           "fails": "；该排序仅在{n}个随机种子中的{k}个成立，不能作为结论",
           "never": "；{runs}下{days}天内解决的不到一半", "and": "和",
           "tie": "；{runs}按所示精度相同",
           "not_reached": "{days}天内未达到", "least": "，在{worst}下最少（{worst_v}）",
           "unknown": "{label}：并非所有模拟都有该值（模拟期太短）"},
}


def value(m: pd.Series, column: str) -> float:
    """A summary value, derived ones included: `resolved_share`, `never_reported_share`,
    `prevented_share` and `dealt_share` (resolved or prevented; of the problems that occurred),
    `overtime_hours` and `overloaded_units` (all unit types)."""
    if column in ("prevented_share", "dealt_share"):
        from sim.explain import derived

        return float(derived(m)[column])
    if column == "overloaded_units":
        units = [float(v) for k, v in m.items() if str(k).endswith("_overloaded_units")]
        units = [u for u in units if not math.isnan(u)]
        return sum(units) if units else math.nan
    if column in ("resolved_share", "never_reported_share"):
        occurred = float(m.get("occurred", math.nan))
        part = float(m.get(column.removesuffix("_share"), math.nan))
        return part / occurred if occurred else math.nan
    if column == "overtime_hours":
        hours = [float(v) for k, v in m.items() if str(k).endswith("_overtime_hours")]
        hours = [h for h in hours if not math.isnan(h)]
        return sum(hours) if hours else math.nan
    v = m.get(column)
    return math.nan if v is None else float(v)


def fmt(v: float, unit: str, lang: str, days: int) -> str:
    if unit == "share":
        return style.fmt_pct(v)
    if unit == "days":
        return _WORDS[lang]["not_reached"].format(days=days) if math.isnan(v) else \
            style.fmt_days(v, lang)
    return style.fmt_count(v, lang) + ("小时" if lang == "zh" else " h")  # staff hours


@dataclass(frozen=True)
class Finding:
    """One measure compared over the runs: each run's value in each seed."""

    measure: Measure
    values: dict[str, np.ndarray]  # run label -> the measure in each seed (seed order)
    days: int  # the runs' length, for "not reached in N days"

    def _key(self, v: np.ndarray) -> np.ndarray:
        # "half resolved" not reached is slower than any time that was reached
        return np.where(np.isnan(v), np.inf, v) if self.measure.unit == "days" else v

    @property
    def known(self) -> bool:
        return all(not (np.isnan(v).all() and self.measure.unit != "days")
                   for v in self.values.values()) and len(self.values) > 1

    def ranked(self) -> tuple[str, str]:
        """(best, worst) by the mean over seeds (for a cost: most, fewest)."""
        up = self.measure.higher_is_better is not False

        def rank(v: np.ndarray) -> tuple[float, float]:
            if self.measure.unit == "days":  # seeds never reaching half first, then the mean
                reached = v[np.isfinite(v)]
                return float(len(v) - reached.size), float(reached.mean()) if reached.size \
                    else 0.0
            return 0.0, float(np.mean(v))

        order = sorted(self.values, key=lambda k: rank(self.values[k]), reverse=up)
        return order[0], order[-1]

    def holds(self) -> tuple[int, int]:
        """(seeds in which the best beats the worst, seeds)."""
        best, worst = self.ranked()
        a, b = self._key(self.values[best]), self._key(self.values[worst])
        up = self.measure.higher_is_better is not False
        wins = (a > b) if up else (a < b)
        return int(wins.sum()), len(a)

    def sentence(self, lang: str) -> str:
        w = _WORDS[lang]
        m = self.measure
        if not self.known:
            return w["unknown"].format(label=m.column)
        best, worst = self.ranked()

        def shown(label: str) -> tuple[str, str]:
            v = self.values[label]
            mid = fmt(float(np.mean(v)) if not np.isnan(v).any() else math.nan, m.unit, lang,
                      self.days)
            if len(v) == 1 or np.isnan(v).all():
                return mid, ""
            lo, hi = np.nanmin(v), np.nanmax(v)
            if np.isnan(v).any():  # some seeds never reach half: give the reached range
                lo_t = fmt(float(lo), m.unit, lang, self.days) if np.isfinite(lo) else "—"
                return mid, w["range"].format(lo=lo_t, hi=fmt(math.nan, m.unit, lang, self.days))
            lo_t, hi_t = fmt(lo, m.unit, lang, self.days), fmt(hi, m.unit, lang, self.days)
            if lo_t == hi_t:  # "71 %–71 %" says nothing: the seeds agree to the figure shown
                return mid, w["same_range"]
            return mid, w["range"].format(lo=lo_t, hi=hi_t)

        best_v, best_r = shown(best)
        worst_v, worst_r = shown(worst)
        text = m.zh if lang == "zh" else m.en
        text = text.format(best=best, best_v=best_v) + best_r
        ties = [k for k in self.values if k not in (best, worst) and shown(k)[0] == best_v]
        if ties:  # another run gives the same figure: the best is not alone
            text += w["tie"].format(runs=w["and"].join(ties))
        never = [k for k, v in self.values.items() if np.isnan(v).all()]
        if m.unit == "days" and never:  # "half resolved" not reached: say where, not a time
            text += w["never"].format(runs=w["and"].join(never), days=self.days)
        else:
            tail = w["least"] if m.higher_is_better is None else w["against"]
            text += tail.format(worst=worst, worst_v=worst_v) + worst_r
        k, n = self.holds()
        if n == 1:
            return text + w["one_seed"]
        if k < n:
            return text + w["fails"].format(k=k, n=n)
        diff = self.values[best] - self.values[worst]
        if m.unit == "days" and np.isnan(diff).any():
            return text + w["holds_plain"].format(n=n)  # "not reached" has no difference
        lo, hi = float(np.min(diff)), float(np.max(diff))
        if m.unit == "share":
            lo_t, hi_t = f"{100 * lo:+.0f}", f"{100 * hi:+.0f}"
            unit = "个百分点" if lang == "zh" else " points"
        else:
            lo_t, hi_t = fmt(lo, m.unit, lang, self.days), fmt(hi, m.unit, lang, self.days)
            unit = ""
        if lo_t == hi_t:  # not "+50 to +50 points": the seeds agree to the figure shown
            return text + w["holds_same"].format(n=n, d=hi_t + unit)
        return text + w["holds"].format(n=n, lo=lo_t, hi=hi_t + unit)


def findings(replications: Mapping[str, Sequence[pd.Series]]) -> list[Finding]:
    """Each measure of MEASURES compared over the runs (`replications`: run label -> the summary
    row of each seed, seeds in the same order for every run)."""
    days = min(int(ms[0]["days"]) for ms in replications.values())
    return [Finding(m, {label: np.array([value(s, m.column) for s in ms])
                        for label, ms in replications.items()}, days) for m in MEASURES]


def table(found: Sequence[Finding]) -> pd.DataFrame:
    """The findings' numbers, one row per measure and run: the values behind every sentence,
    in the unit named (`days` converted from the summary's hours; NaN: not reached)."""
    rows = []
    for f in found:
        wins = f.holds()[0] if f.known else 0
        best, worst = f.ranked() if f.known else ("", "")
        scale = 1 / 24.0 if f.measure.unit == "days" else 1.0
        roles = ("most", "fewest") if f.measure.higher_is_better is None else ("best", "worst")
        for label, v in f.values.items():
            reached = v[np.isfinite(v)]  # NaN "half resolved": not reached, slower than any
            rows.append({"measure": f.measure.column, "unit": f.measure.unit, "run": label,
                         "seeds": len(v), "mean": float(np.mean(v)) * scale,
                         "low": float(reached.min()) * scale if reached.size else math.nan,
                         "high": float(v.max()) * scale,
                         "role": roles[0] if label == best else roles[1] if label == worst else "",
                         "order_holds_in_seeds": wins if label == best else math.nan})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- warnings
_WARN = {
    "en": {
        "seeds": "Only {n} seed{s} per scenario: a finding's interval and the check that its "
                 "order holds need at least {min} (govsim brief --seeds {min}).",
        "scale": "Only {pct} of residents simulated ({streets} streets of {total}): city totals "
                 "rest on few streets, and regime orderings can flip at this size (use --scale "
                 "{min:g} or more).",
        "days": "{days} days simulated: the proactive regime's source governance acts after a "
                "lag of {lag} days on monthly themes, so its effect is not yet in these runs "
                "(use --days {min} or more).",
        "warmup": "{w} warm-up days: the runs start with empty queues, so early waits are "
                  "shorter than in a steady state (the presets warm up for {brief}).",
        "month": "{days} days simulated: the share resolved within 30 days is not known.",
    },
    "zh": {
        "seeds": "每个情景仅{n}个随机种子：给出区间并检验排序是否成立至少需要{min}个（govsim brief --seeds {min}）。",
        "scale": "仅模拟了{pct}的居民（{total}个街乡中的{streets}个）：全市合计依赖少数街乡，"
                 "在此规模下各模式的排序可能颠倒（请使用 --scale {min:g} 或更大）。",
        "days": "仅模拟{days}天：未诉先办的源头治理按每月主题在{lag}天滞后之后才见效，"
                "本次模拟尚未体现其效果（请使用 --days {min} 或更长）。",
        "warmup": "预热仅{w}天：模拟从空队列开始，前期等待时间短于稳定状态（预设情景预热{brief}天）。",
        "month": "仅模拟{days}天：无法得知30天内解决的比例。",
    },
}


def warnings(specs: Sequence[Scenario], metas: Sequence[Mapping], seeds: int,
             lang: str) -> list[str]:
    """What a reader must know before trusting the findings, in `lang` (empty: nothing)."""
    w = _WARN[lang]
    out = []
    if seeds < MIN_SEEDS:
        out.append(w["seeds"].format(n=seeds, s="" if seeds == 1 else "s", min=MIN_SEEDS))
    scale = min(s.scale for s in specs)
    if scale < MIN_SCALE:
        meta = metas[int(np.argmin([s.scale for s in specs]))]
        out.append(w["scale"].format(pct=f"{100 * scale:g}%", min=MIN_SCALE,
                                     streets=meta.get("simulated_streets", "?"),
                                     total=meta.get("streets", "?")))
    days = min(s.days for s in specs)
    if days < MIN_DAYS:
        lag = max(s.themes.lag_days for s in specs)
        out.append(w["days"].format(days=days, lag=lag, min=MIN_DAYS))
    if days < 30:
        out.append(w["month"].format(days=days))
    warmup = min(s.warmup_days for s in specs)
    if warmup < MIN_WARMUP_DAYS:
        out.append(w["warmup"].format(w=warmup, brief=BRIEF_WARMUP_DAYS))
    return out


# --------------------------------------------------------------------------- reform steps
#: What each reform step is judged on: (column, unit, words en, words zh).
STEP_MEASURES: tuple[tuple[str, str, str, str], ...] = (
    ("resolved_within_7d_share", "share", "problems resolved within a week of occurring",
     "问题发生后一周内解决的比例"),
    ("dealt_share", "share", "problems resolved or prevented by the end",
     "到模拟结束时解决或预防的问题比例"),
    ("street_staff_hours", "hours", "street offices' staff hours", "街道（乡镇）工时"),
    ("department_staff_hours", "hours", "departments' staff hours", "职能部门工时"),
)

_STEP_WORDS = {
    "en": {"step": "{after} over {before}: ", "sep": "; ", "arrow": "{b} → {a}",
           "points": " ({d} points, 95% interval {lo} to {hi})",
           "percent": " ({d}, 95% interval {lo} to {hi})",
           "noise": ", within seed noise", "one": " (one seed: no interval)",
           "overloaded": "{label} ends with {n} {units} overloaded (mean over seeds): "
                         "backlogs still grow when the run stops, so its waits are understated"},
    "zh": {"step": "{after}相对于{before}：", "sep": "；", "arrow": "{b}→{a}",
           "points": "（{d}个百分点，95%区间{lo}至{hi}）",
           "percent": "（{d}，95%区间{lo}至{hi}）",
           "noise": "，在随机波动范围内", "one": "（仅一个随机种子：无区间）",
           "overloaded": "{label}在模拟结束时平均有{n}个单位超负荷：其积压仍在增长，"
                         "因此其等待时间被低估"},
}


def step_table(replications: Mapping[str, Sequence[pd.Series]]) -> pd.DataFrame:
    """Each run against the one before it on `STEP_MEASURES`: the means before and after, the
    mean paired difference over seeds and its 95 % interval (shares in points of 0-1; staff
    hours as a relative change), and whether it is within seed noise."""
    from sim.explain import differences, mean_row

    labels = list(replications)
    diffs = differences(replications, labels)
    means = {label: mean_row(rows) for label, rows in replications.items()}
    rows = []
    for before, after in itertools.pairwise(labels):
        for column, unit, _, _ in STEP_MEASURES:
            d = diffs[(diffs["scenario"] == after) & (diffs["measure"] == column)]
            b, a = float(means[before].get(column, math.nan)), float(means[after].get(column,
                                                                                     math.nan))
            if d.empty or math.isnan(a) or math.isnan(b):
                continue
            r = d.iloc[0]
            scale = 1.0 / b if unit == "hours" and b else 1.0  # hours: relative to before
            rows.append({"before": before, "after": after, "measure": column, "unit": unit,
                         "mean_before": b, "mean_after": a,
                         "difference": float(r["difference"]) * scale,
                         "low": float(r["low"]) * scale, "high": float(r["high"]) * scale,
                         "seeds": int(r["seeds"]), "within_noise": r["within_noise"]})
    return pd.DataFrame(rows, columns=["before", "after", "measure", "unit", "mean_before",
                                       "mean_after", "difference", "low", "high", "seeds",
                                       "within_noise"])


def steps(replications: Mapping[str, Sequence[pd.Series]], lang: str) -> list[str]:
    """One finding per reform step (each run against the one before it), from `step_table`,
    then one per run that ends overloaded."""
    w = _STEP_WORDS[lang]
    table = step_table(replications)
    words = {c: (en, zh) for c, _, en, zh in STEP_MEASURES}
    out = []
    for (before, after), rows in table.groupby(["before", "after"], sort=False):
        parts = []
        for r in rows.itertuples():
            name = words[r.measure][1 if lang == "zh" else 0]
            if r.unit == "share":
                shown = w["arrow"].format(b=style.fmt_pct(r.mean_before),
                                          a=style.fmt_pct(r.mean_after))
                tail, form = w["points"], "{:+.1f}"
            else:
                shown = w["arrow"].format(b=fmt(r.mean_before, "hours", lang, 0),
                                          a=fmt(r.mean_after, "hours", lang, 0))
                tail, form = w["percent"], "{:+.1f}%"  # a relative change
            if r.seeds > 1:
                d, lo, hi = (form.format(100 * x) for x in (r.difference, r.low, r.high))
                shown += tail.format(d=d, lo=lo, hi=hi)
                if r.within_noise is True:
                    shown += w["noise"]
            else:
                shown += w["one"]
            parts.append(f"{name} {shown}" if lang == "en" else f"{name}{shown}")
        out.append(w["step"].format(after=after, before=before) + w["sep"].join(parts))
    for label, rows in replications.items():
        n = float(np.mean([value(m, "overloaded_units") for m in rows]))
        if n > 0:
            out.append(w["overloaded"].format(label=label, n=f"{n:g}" if n == int(n)
                                              else f"{n:.1f}", units="unit" if n == 1
                                              else "units"))
    return out
