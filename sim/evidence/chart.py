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
    shown = mechanisms[mechanisms["measure"] == measure]
    span = factor * max(float(np.nanmax(np.abs(shown[["shapley_low", "shapley_high"]]))),
                        float(np.nanmax(np.abs(effects.loc[effects["measure"] == measure,
                                                           ["total_low", "total_high"]]))),
                        1e-9)
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
            for yy, mean, hi in zip(y, means, high, strict=True):
                if np.isfinite(mean):  # right of the bar, or of 0 for a bar to the left
                    edge = max(0.0, hi if np.isfinite(hi) else mean)
                    ax.text(edge + 0.012 * span, yy, f"{mean:+.1f}", va="center", ha="left",
                            fontsize=8)
            ax.set_yticks(y, labels)
            ax.axvline(0.0, color="black", linewidth=0.8)
            after, _, before = step.partition(" - ")
            ax.set_title(f"{after} over {before}" if before else step, loc="left",
                         fontsize=10, fontweight="bold")
            ax.grid(axis="x", alpha=0.3)
        axes[-1].set_xlabel(f"change, {unit}")
        title = (f"What each mechanism adds: each reform's effect on the "
                 f"{LABELS.get(measure, measure)}, taken apart (Shapley values)")
        fig.suptitle(style.wrap(title, "en", 7.6, 11), x=0.01, ha="left", fontsize=11,
                     fontweight="bold")
        if note:
            fig.text(0.01, 0.005, style.wrap(note, "en", 7.6, 7), fontsize=7, color="#555555",
                     ha="left", va="bottom")
            fig.get_layout_engine().set(rect=(0.0, 0.05, 1.0, 0.95))
    return fig
