"""The evidence tables shipped with govsim (`sim/data/evidence/`, made by the commands their README
names), read for the brief: what each reform step's effect rests on, in a few sentences."""

from __future__ import annotations

import math
from importlib import resources

import pandas as pd

from sim.evidence.measures import HEADLINE

#: The file names the commands' tables are kept under.
DECOMPOSE_EFFECTS = "decompose_effects.csv"
DECOMPOSE_MECHANISMS = "decompose_mechanisms.csv"
ROBUSTNESS = "robustness.csv"

TEXT = {
    "en": {
        "step": "{step}: {total:+.1f} points [{low:+.1f}, {high:+.1f}] in the share of all "
                "problems resolved within 7 days (1:1, {seeds} seeds); most of it from {top}.",
        "mechanism": "{title} ({share:.0f} %)",
        "robust": " Over the documented ranges of the assumed values it keeps its sign at "
                  "{share:.0f} % of sampled points (from {low:+.1f} to {high:+.1f} points, "
                  "half-year runs at a tenth of the streets){reversed}.",
        "reversed": "; alone at one end of its range, {names} reverses it",
        "not_reversed": "; no assumption alone reverses it",
        "prevented": " It also prevents {share:.1f} % of the problems that would occur "
                     "[{low:.1f}, {high:.1f}], which these shares count as not resolved.",
        "source": "From the tables govsim ships (sim/data/evidence), made by govsim decompose "
                  "and govsim robustness on the presets: they hold for the presets as shipped, "
                  "not for other scenarios.",
        "join": ", ",
    },
    "zh": {
        "step": "{step}：七日内解决的问题占全部问题的比例变化{total:+.1f}个百分点"
                "［{low:+.1f}，{high:+.1f}］（全市规模，{seeds}个随机种子）；主要来自{top}。",
        "mechanism": "{title}（{share:.0f}%）",
        "robust": "在各假设参数的文献范围内，{share:.0f}%的抽样点上方向不变（从{low:+.1f}到"
                  "{high:+.1f}个百分点，十分之一街道、半年的模拟）{reversed}。",
        "reversed": "；单独取其范围一端时，{names}会使其反转",
        "not_reversed": "；没有任何单个假设能使其反转",
        "prevented": "此外它预防了本会发生的问题的{share:.1f}%［{low:.1f}，{high:.1f}］，"
                     "这些比例把被预防的问题算作未解决。",
        "source": "以上来自 govsim 附带的表格（sim/data/evidence，由 govsim decompose 与 govsim "
                  "robustness 对预设情景计算），只适用于原样的预设情景。",
        "join": "、",
    },
}


def table(name: str) -> pd.DataFrame | None:
    """A shipped evidence table, or None when it is not there."""
    path = resources.files("sim.data").joinpath("evidence", name)
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as f:
        return pd.read_csv(f)


def step_sentences(lang: str = "en") -> list[str]:
    """One sentence per reform step of the presets: its effect on the headline measure with
    its interval, the mechanisms giving most of it, and whether an assumption can reverse it
    (empty when the tables are not shipped)."""
    t = TEXT[lang]
    effects, mechanisms = table(DECOMPOSE_EFFECTS), table(DECOMPOSE_MECHANISMS)
    if effects is None or mechanisms is None:
        return []
    robust = table(ROBUSTNESS)
    out = []
    for _, e in effects[effects["measure"] == HEADLINE].iterrows():
        rows = mechanisms[(mechanisms["step"] == e["step"])
                          & (mechanisms["measure"] == HEADLINE)]
        rows = rows.sort_values("share_of_total", ascending=False).head(2)  # either sign
        titles = rows["title_zh"] if lang == "zh" and "title_zh" in rows else rows["title"]
        top = t["join"].join(t["mechanism"].format(title=title, share=100 * share)
                             for title, share in zip(titles, rows["share_of_total"],
                                                     strict=True))
        text = t["step"].format(step=e["step"], total=100 * e["total"],
                                low=100 * e["total_low"], high=100 * e["total_high"],
                                seeds=int(e["seeds"]), top=top)
        if robust is not None:
            r = robust[(robust["step"] == e["step"]) & (robust["measure"] == HEADLINE)]
            if len(r):
                r = r.iloc[0]
                share = r.get("morris_same_sign_share", math.nan)
                names = r.get("reversed_by")
                reversed_ = (t["reversed"].format(names=str(names).replace(" ", t["join"]))
                             if isinstance(names, str) and names else t["not_reversed"])
                if not (isinstance(share, float) and math.isnan(share)):
                    text += t["robust"].format(share=100 * share, reversed=reversed_,
                                               low=100 * r.get("morris_min", math.nan),
                                               high=100 * r.get("morris_max", math.nan))
        prevented = effects[(effects["step"] == e["step"])
                            & (effects["measure"] == "prevented_share")]
        if len(prevented) and prevented["total"].iloc[0] > 0.0005:
            p = prevented.iloc[0]
            text += t["prevented"].format(share=100 * p["total"], low=100 * p["total_low"],
                                          high=100 * p["total_high"])
        out.append(text)
    if out:
        out.append(t["source"])
    return out
