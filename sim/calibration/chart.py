"""The calibration chart: simulated monthly rates and yearly contacts beside the published
points, for an appendix. District figures stay in the table."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

# Okabe–Ito, colour-blind safe; markers keep the series apart in greyscale
RES, SAT, RESP = "#0072B2", "#D55E00", "#009E73"


def calibration_figure(table: pd.DataFrame, monthly: pd.DataFrame, title: str) -> Figure:
    fig = Figure(figsize=(12, 4.5), layout="constrained")  # no pyplot: no global figure state
    ax, bx = fig.subplots(1, 2, width_ratios=[1.6, 1])
    rates = monthly.groupby(level=0)[["resolution_rate_published",
                                      "satisfaction_rate_published", "response_rate"]].mean()
    x = rates.index.to_timestamp()
    for column, colour, label, style in (
            ("resolution_rate_published", RES, "resolution (simulated)", "-"),
            ("satisfaction_rate_published", SAT, "satisfaction (simulated)", "--"),
            ("response_rate", RESP, "response (simulated)", ":")):
        ax.plot(x, 100 * rates[column], style, color=colour, lw=1.6, label=label)
    for measure, colour, marker in (("resolution_rate", RES, "o"),
                                    ("satisfaction_rate", SAT, "s"),
                                    ("response_rate", RESP, "^")):
        rows = table[(table["measure"] == measure) & _city(table)]
        for row in rows.itertuples():
            filled = colour if row.role == "fitted" else "white"
            ax.plot(_middle(row.period), 100 * row.published, marker, ms=8, mfc=filled,
                    mec=colour, mew=1.8, zorder=5)
    ax.plot([], [], "o", mfc="grey", mec="grey", label="published, fitted")
    ax.plot([], [], "o", mfc="white", mec="grey", mew=1.8, label="published, held out")
    ax.set_ylabel("share of 12345 tickets (%), published basis")
    ax.set_xlabel("month")
    ax.set_ylim(0, 105)
    ax.set_title("Monthly rates of 12345 tickets")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)

    contacts = table[(table["measure"] == "hotline_contacts") & _city(table)
                     & (table["period"].str.len() == 4)]  # the yearly figures
    years = contacts["period"].astype(int)
    bx.bar(years - 0.2, contacts["simulated"] / 1e6, width=0.4, color="#56B4E9",
           label="simulated", edgecolor="black", lw=0.5)
    bx.bar(years + 0.2, contacts["published"] / 1e6, width=0.4, color="white", hatch="//",
           edgecolor="black", lw=0.5, label="published")
    for row in contacts.itertuples():
        if row.role == "held out":
            bx.annotate("held out", (int(row.period), row.published / 1e6), ha="center",
                        va="bottom", fontsize=7, xytext=(0, 3), textcoords="offset points")
    bx.set_ylabel("contacts per year (millions)")
    bx.set_xlabel("year")
    bx.set_title("12345 contacts")
    bx.legend(fontsize=8)
    bx.grid(alpha=0.3, axis="y")
    fig.suptitle(title)
    return fig


def _city(table: pd.DataFrame) -> pd.Series:
    """The whole city's figures (a district's are in the table, not on the chart)."""
    if "area" not in table:
        return pd.Series(True, index=table.index)
    return table["area"].fillna("").astype(str).eq("")


def _middle(period: str) -> pd.Timestamp:
    """Where a figure's period is drawn: the middle of its year, month or span of months."""
    from sim.calibration.targets import span

    start, end = span(period)
    return start + (end - start) / 2
