"""Monthly response, resolution and satisfaction rates, with Beijing's published figures overlaid
when the run is the calibrated timeline."""

from __future__ import annotations

import csv
import datetime as dt
import io
from importlib import resources

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.charts import style
from sim.charts.style import Results
from sim.errors import InputError
from sim.results import Result

RATES = ("response", "resolution", "satisfaction")
BASES = ("cases", "tickets")
#: Columns of `Result.monthly()` per basis; `cases` response is computed here (see `monthly_rates`).
_COLUMNS = {
    "cases": {"resolution": "resolution_rate", "satisfaction": "satisfaction_rate"},
    "tickets": {"response": "response_rate", "resolution": "ticket_resolution_rate",
                "satisfaction": "ticket_satisfaction_rate"},
}
#: The first day the published Beijing series covers: a run must start by then to be compared.
PUBLISHED_FROM = dt.date(2019, 1, 1)
MIN_DAYS_IN_MONTH = 15  # a month simulated for fewer days is left out (too few closures)

TEXT = {
    "en": {
        "title.pub": "Simulated {what} rate {sim} against Beijing's published {pub} in {period}",
        "title": "{best} resolves {x} of closed cases in an average month, {worst} {y}",
        "title1": "In an average month {res} of closed cases are resolved and {sat} of residents "
                  "satisfied",
        "title0": "No month was simulated long enough to report rates",
        "response": "Response rate",
        "resolution": "Resolution rate",
        "satisfaction": "Satisfaction rate",
        "y": "Share of cases in the month (%)",
        "x": "Month",
        "basis.cases": "all closed cases, by month of closing (response: by month of report)",
        "basis.tickets": "12345 tickets as called back, by month of callback "
                         "(the basis of Beijing's published rates)",
        "published": "Published Beijing figure",
        "none": "no published figure in the simulated period",
    },
    "zh": {
        "title.pub": "模拟{what}率{sim}，北京公布的{period}数据为{pub}",
        "title": "{best}平均每月办结案件的解决率为{x}，{worst}为{y}",
        "title1": "平均每月办结案件解决率{res}，居民满意率{sat}",
        "title0": "没有足够长的模拟月份来计算比率",
        "response": "响应率",
        "resolution": "解决率",
        "satisfaction": "满意率",
        "y": "当月案件占比（%）",
        "x": "月份",
        "basis.cases": "全部办结案件，按办结月份统计（响应率按登记月份）",
        "basis.tickets": "12345工单回访结果，按回访月份统计（北京公布数据的口径）",
        "published": "北京公布数据",
        "none": "模拟期内无公布数据",
    },
}
_WHAT_ZH = {"response": "响应", "resolution": "解决", "satisfaction": "满意"}


def published_targets() -> pd.DataFrame:
    """Beijing's published rates (`sim/data/beijing_targets.csv`) with the dates they cover."""
    raw = resources.files("sim.data").joinpath("beijing_targets.csv").read_text("utf-8")
    rows = []
    for row in csv.DictReader(io.StringIO(raw)):
        measure = row["measure"].removesuffix("_rate")
        if measure not in RATES:
            continue
        period = row["period"]
        if row["kind"] == "month":
            start = pd.Period(period, "M").start_time
            end = pd.Period(period, "M").end_time
        elif row["kind"] == "year":
            start, end = pd.Timestamp(f"{period}-01-01"), pd.Timestamp(f"{period}-12-31")
        else:
            continue
        rows.append({"rate": measure, "period": period, "kind": row["kind"], "start": start,
                     "end": end, "value": float(row["value"]), "source": row["source"]})
    return pd.DataFrame(rows)


def is_timeline(result: Result) -> bool:
    """A run of Beijing's reform history: it has a timeline and starts by January 2019."""
    spec = result.scenario
    return bool(getattr(spec, "timeline", None)) and spec.start_date <= PUBLISHED_FROM


def monthly_rates(result: Result, basis: str = "cases") -> pd.DataFrame:
    """Response, resolution and satisfaction rate per calendar month (rows with too few simulated
    days dropped). `cases`: every closed case by month of closing, response (reached a unit
    within the hotline's response limit) by month of report; `tickets`: 12345 callbacks."""
    spec = result.scenario
    m = result.monthly()
    out = pd.DataFrame(index=m.index)
    for rate, column in _COLUMNS[basis].items():
        out[rate] = m[column]
    if basis == "cases":
        p = result.problems
        reached = p[p["entered_h"].notna() & p["first_unit_h"].notna()]
        origin = pd.Timestamp(spec.start_date)
        month = (origin + pd.to_timedelta(reached["entered_h"], unit="h")).dt.to_period("M")
        ok = (reached["first_unit_h"] - reached["entered_h"]) <= spec.hotline.response_limit_hours
        out["response"] = ok.groupby(month).mean().reindex(out.index)
    start, end = pd.Timestamp(spec.start_date), pd.Timestamp(spec.start_date) + pd.Timedelta(
        days=spec.days)
    covered = [(min(p.end_time, end) - max(p.start_time, start)).total_seconds() / 86400
               for p in out.index]
    out = out[np.asarray(covered) >= MIN_DAYS_IN_MONTH]
    return out[list(RATES)].astype(float)


def rates(results: Results, *, published: bool | None = None, basis: str | None = None,
          lang: str = "en") -> Figure:
    """Three panels (response, resolution, satisfaction), one line per run, by calendar month.

    `published`: overlay Beijing's published figures (stars for months, bars for years); `None`
    overlays them when a run is the calibrated timeline (`is_timeline`). `basis` is `cases` or
    `tickets`; by default tickets when the overlay is on (that is how Beijing counts), else cases.
    """
    with style.context(lang):
        rs = style.runs(results, lang)
        if published is None:
            published = any(is_timeline(r.result) for r in rs)
        basis = basis or ("tickets" if published else "cases")
        if basis not in BASES:
            raise InputError(None, "basis", "one of " + ", ".join(BASES), basis)
        t = TEXT[lang]
        table = [monthly_rates(r.result, basis) for r in rs]
        fig = style.new_figure(11.0, 4.9)
        axes = fig.subplots(1, 3, sharey=True)
        targets = published_targets() if published else None
        shown: list[tuple[str, pd.Series]] = []
        lo = min((m.index.min().start_time for m in table if len(m)), default=None)
        hi = max((m.index.max().end_time for m in table if len(m)), default=None)
        for ax, rate in zip(axes, RATES, strict=True):
            for run, m in zip(rs, table, strict=True):
                y = m[rate].dropna()
                if y.empty:
                    continue
                x = [p.start_time + pd.Timedelta(days=14) for p in y.index]
                ax.plot(x, 100 * y.to_numpy(), markevery=max(1, len(x) // 12),
                        **run.style.line(), **run.style.layer())
            if targets is not None and lo is not None:
                for _, row in targets[targets["rate"] == rate].iterrows():
                    if row["end"] < lo or row["start"] > hi:
                        continue
                    shown.append((rate, row))
                    if row["kind"] == "month":
                        ax.plot(row["start"] + pd.Timedelta(days=14), 100 * row["value"],
                                marker="*", markersize=13, color="black", linestyle="none",
                                zorder=5)
                    else:
                        a, b = max(row["start"], lo), min(row["end"], hi)
                        ax.plot([a, b], [100 * row["value"]] * 2, color="black", linewidth=3,
                                solid_capstyle="butt", zorder=5)
            ax.set_title(t[rate])
            ax.set_xlabel(t["x"])
            if lo is not None:
                ax.set_xlim(mdates.date2num(lo), mdates.date2num(hi))
                style.date_axis(ax, lang)
            style.timeline_marks(ax, rs, lang)
        axes[0].set_ylabel(t["y"])
        axes[0].set_ylim(0, 104)
        axes[0].set_yticks([0, 20, 40, 60, 80, 100])
        note = t[f"basis.{basis}"]
        if published and not shown:
            note += "; " + t["none"]
        legend = style.handles(rs)
        if shown:
            legend.append(Line2D([], [], marker="*", markersize=11, color="black",
                                 linestyle="none", label=t["published"]))
        return style.finish(fig, rs, _title(rs, table, shown, lang), lang, legend=legend,
                            note=note)


def _title(rs, table, shown, lang: str) -> str:
    t = TEXT[lang]
    if shown:
        rate, row = max(shown, key=lambda s: (s[0] == "resolution", s[1]["start"]))
        m = table[0]
        sel = m[(m.index.end_time >= row["start"]) & (m.index.start_time <= row["end"])][rate]
        what = _WHAT_ZH[rate] if lang == "zh" else rate
        return t["title.pub"].format(what=what, sim=style.fmt_pct(float(sel.mean())),
                                     pub=style.fmt_pct(row["value"], 1), period=row["period"])
    means = [(float(m["resolution"].mean()), r.label) for r, m in zip(rs, table, strict=True)
             if m["resolution"].notna().any()]
    if not means:
        return t["title0"]
    if len(rs) == 1:
        m = table[0]
        return t["title1"].format(res=style.fmt_pct(float(m["resolution"].mean())),
                                  sat=style.fmt_pct(float(m["satisfaction"].mean())))
    best, worst = max(means), min(means)
    return t["title"].format(best=best[1], worst=worst[1], x=style.fmt_pct(best[0]),
                             y=style.fmt_pct(worst[0]))
