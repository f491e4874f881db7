"""Charts of the evidence tables: a reform's effect and its mechanisms' shares, with intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts import style
from sim.evidence.measures import DEFAULT_MEASURES, HEADLINE
from sim.results import measure_unit

LABELS = dict(DEFAULT_MEASURES)


def _scale(measure: str) -> tuple[float, str]:
    """Factor and axis unit: shares in percentage points, hours in thousands."""
    unit = measure_unit(measure)
    if unit == "fraction" or measure.endswith("_share"):
        return 100.0, "percentage points"
    if unit == "hours":
        return 1e-3, "thousand hours"
    return 1.0, unit or ""


def decomposition(effects: pd.DataFrame, mechanisms: pd.DataFrame,
                  measure: str = HEADLINE, note: str = "") -> Figure:
    """One panel per reform step: the step's total effect on `measure` and each mechanism's
    Shapley value, bars with their 95 % intervals over seeds."""
    steps = list(dict.fromkeys(effects["step"]))
    factor, unit = _scale(measure)
    heights = [1.0 + 0.42 * len(mechanisms[(mechanisms["step"] == s)
                                            & (mechanisms["measure"] == measure)]) for s in steps]
    with style.context("en"):
        fig = style.new_figure(8.0, 1.6 + sum(heights))
        axes = fig.subplots(len(steps), 1, sharex=True, squeeze=False,
                            gridspec_kw={"height_ratios": heights})[:, 0]
        for ax, step in zip(axes, steps, strict=True):
            total = effects[(effects["step"] == step) & (effects["measure"] == measure)]
            rows = mechanisms[(mechanisms["step"] == step) & (mechanisms["measure"] == measure)]
            labels = ["total effect", *rows["title"]]
            means = np.array([total["total"].iloc[0], *rows["shapley"]]) * factor
            low = np.array([total["total_low"].iloc[0], *rows["shapley_low"]]) * factor
            high = np.array([total["total_high"].iloc[0], *rows["shapley_high"]]) * factor
            y = np.arange(len(labels))[::-1]
            colours = ["#333333"] + ["#0072B2"] * len(rows)
            ax.barh(y, means, color=colours, edgecolor="black", linewidth=0.5,
                    hatch=[""] + ["...."] * len(rows))
            err = np.vstack([means - low, high - means])
            ax.errorbar(means, y, xerr=np.nan_to_num(err), fmt="none", ecolor="black",
                        capsize=3, linewidth=1)
            ax.set_yticks(y, labels)
            ax.axvline(0.0, color="black", linewidth=0.8)
            ax.set_title(step, loc="left", fontsize=10, fontweight="bold")
            ax.grid(axis="x", alpha=0.3)
        axes[-1].set_xlabel(f"{LABELS.get(measure, measure)}: change ({unit})")
        fig.suptitle(f"Each reform's effect on the {LABELS.get(measure, measure)}, and what "
                     "each of its mechanisms gives (Shapley values)", x=0.01, ha="left",
                     fontsize=11, fontweight="bold")
        if note:
            fig.text(0.01, 0.005, note, fontsize=7, color="#555555", ha="left", va="bottom",
                     wrap=True)
        fig.get_layout_engine().set(rect=(0.0, 0.05 if note else 0.0, 1.0, 0.97))
    return fig
