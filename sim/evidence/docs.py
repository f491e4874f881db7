"""The results sections of docs/evidence.md and docs/calibration.md, written from the shipped
evidence tables (`sim/data/evidence/`), so that every number these pages show is its table's:
`python -m sim.evidence.docs` writes the sections between their markers, and a test checks that
the pages are up to date."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

from sim.evidence.measures import DEFAULT_MEASURES, HEADLINE
from sim.evidence.shipped import DECOMPOSE_EFFECTS, DECOMPOSE_MECHANISMS, ROBUSTNESS, table

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "evidence.md"
#: The pages with generated sections.
PAGES = (PAGE, DOCS / "calibration.md")
LABELS = {**dict(DEFAULT_MEASURES), "requests": "residents' requests entered",
          "prevented": "problems prevented at their source",
          "hotline_contacts": "12345 contacts"}
COUNTERFACTUAL = "counterfactual.csv"
CALIBRATION_TARGETS = "calibration_targets.csv"
#: The measures the decomposition section shows beside the headline, with how each is written.
STEP_MEASURES = ("resolved_within_7d_share", "dealt_share", "reported_share", "satisfaction_rate",
                 "street_staff_hours", "department_staff_hours", "case_staff", "hotline_seats")
#: The counterfactual table's measures, by year.
YEARLY_MEASURES = ("resolved_within_7d_share", "requests", "prevented", "street_staff_hours",
                   "department_staff_hours")


def fmt(measure: str, value: float, signed: bool = True) -> str:
    """A number as the page writes it: shares in points (or %), hours and people in
    thousands or whole, counts with commas."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    sign = "+" if signed else ""
    if measure.endswith(("_share", "_rate")):
        return f"{100 * value:{sign}.1f}"
    if measure.endswith("_hours"):
        return f"{value / 1e3:{sign},.0f}k"
    if measure in ("case_staff", "hotline_seats", "overloaded_units"):
        return f"{value:{sign},.0f}"
    if measure in ("requests", "occurred", "prevented", "hotline_contacts"):
        return f"{value / 1e6:{sign}.2f}"
    return f"{value:{sign},.0f}"


def _cell(measure: str, mean: float, low: float, high: float) -> str:
    return f"{fmt(measure, mean)} [{fmt(measure, low)}, {fmt(measure, high)}]"


def decomposition(effects: pd.DataFrame, mechanisms: pd.DataFrame) -> str:
    """Per step: the effect on the headline and other measures, then each mechanism's share."""
    lines = []
    for step, e in effects.groupby("step", sort=False):
        e = e.set_index("measure")
        seeds = int(e.loc[HEADLINE, "seeds"])
        lines += [(f"**{step}** ({seeds} seeds, 1:1, a year after a 60-day warm-up; shares "
                   "in percentage points, hours in thousands)"), "",
                  "| measure | before | after | effect [95 % interval] |", "|---|---|---|---|"]
        for m in STEP_MEASURES:
            if m not in e.index:
                continue
            r = e.loc[m]
            lines.append(f"| {LABELS.get(m, m)} | {fmt(m, r['before'], False)} | "
                         f"{fmt(m, r['after'], False)} | "
                         f"{_cell(m, r['total'], r['total_low'], r['total_high'])} |")
        rows = mechanisms[(mechanisms["step"] == step) & (mechanisms["measure"] == HEADLINE)]
        lines += ["", f"Its mechanisms, on the {LABELS[HEADLINE]} (points):", "",
                  "| mechanism | Shapley value | share of the effect | alone | last |",
                  "|---|---|---|---|---|"]
        for _, r in rows.iterrows():
            share = "—" if math.isnan(r["share_of_total"]) else f"{100 * r['share_of_total']:.0f} %"
            lines.append(f"| {r['title']} | "
                         f"{_cell(HEADLINE, r['shapley'], r['shapley_low'], r['shapley_high'])}"
                         f" | {share} | {_cell(HEADLINE, r['alone'], r['alone_low'], r['alone_high'])}"
                         f" | {_cell(HEADLINE, r['last'], r['last_low'], r['last_high'])} |")
        lines.append("")
    return "\n".join(lines)


def counterfactual(frame: pd.DataFrame) -> str:
    """Per measure: the history as it happened year by year, then each variant's difference from
    it with its interval (rows: variants, columns: years)."""
    from sim.evidence.counterfactual import DEFAULT_REMOVED

    order = {f"without {name}": i for i, name in enumerate(DEFAULT_REMOVED)}
    variants = sorted(set(frame["variant"]), key=lambda v: (order.get(v, len(order)), v))
    years = sorted(set(frame["year"]))
    seeds = int(frame["seeds"].max())
    lines = [(f"Each variant minus the history as it happened, with its 95 % interval over "
              f"{seeds} seeds (common random numbers), 1:1; shares in percentage points, "
              "hours in thousands, counts of problems in millions."), ""]
    for m in YEARLY_MEASURES:
        part = frame[frame["measure"] == m]
        if part.empty:
            continue
        lines += [f"**{LABELS.get(m, m.replace('_', ' '))}**", "",
                  "| | " + " | ".join(map(str, years)) + " |", "|---|" + "---|" * len(years)]
        base = part.drop_duplicates("year").set_index("year")["as_it_happened"]
        lines.append("| as it happened | " + " | ".join(
            fmt(m, base[y], signed=False) if y in base.index else "—" for y in years) + " |")
        for v in variants:
            rows = part[part["variant"] == v].set_index("year")
            lines.append(f"| {v} | " + " | ".join(
                _cell(m, rows.loc[y, "difference"], rows.loc[y, "difference_low"],
                      rows.loc[y, "difference_high"]) if y in rows.index else "—"
                for y in years) + " |")
        lines.append("")
    return "\n".join(lines)


def robustness(frame: pd.DataFrame) -> str:
    """Per preset difference and measure: the difference, what reverses it, its sign over the
    sampled ranges, the assumptions that matter most."""
    lines = [("| preset difference | measure | difference [95 %] | reversed alone by | same "
              "sign (Morris points) | sampled range | largest Morris μ* (of all) | largest "
              "Sobol' ST (of the 6) |"), "|---|---|---|---|---|---|---|---|"]

    def top(value: object) -> str:
        return ", ".join(f"`{p}`" for p in str(value).split()[:3]) \
            if isinstance(value, str) and value else "—"

    for _, r in frame.iterrows():
        m = r["measure"]
        reversed_by = r.get("reversed_by")
        reversed_by = ", ".join(f"`{p}`" for p in str(reversed_by).split()) \
            if isinstance(reversed_by, str) and reversed_by else "none"
        same = r.get("morris_same_sign_share")
        same = "—" if same is None or math.isnan(same) else f"{100 * same:.0f} %"
        span = (f"{fmt(m, r.get('morris_min'))} to {fmt(m, r.get('morris_max'))}"
                if "morris_min" in r else "—")
        lines.append(f"| {r['step']} | {LABELS.get(m, m)} | "
                     f"{_cell(m, r['difference'], r['difference_low'], r['difference_high'])} | "
                     f"{reversed_by} | {same} | {span} | {top(r.get('morris_top'))} | "
                     f"{top(r.get('sobol_top'))} |")
    return "\n".join(lines) + "\n"


def calibration_report(frame: pd.DataFrame) -> str:
    """The report of the calibrated history (`govsim calibrate --report`): each published
    figure against the simulated mean with its interval over seeds, pass or fail, its role."""
    from sim.calibration.cli import _fmt, _fmt_error
    from sim.calibration.holdout import held_out
    from sim.calibration.targets import TOLERANCES

    registered = {h.key: h for h in held_out()}

    def role(r) -> str:
        h = registered.get((r.measure, r.period, r.area if isinstance(r.area, str) else ""))
        if r.role != "held out" or h is None:
            return r.role
        return "held out, independent" if h.independent else f"held out, derived: {h.why}"

    frame = frame.assign(role=[role(r) for r in frame.itertuples()])

    def judged(rows: pd.DataFrame, what: str) -> str:
        rows = rows[rows["result"] != "—"]
        return f"{what}, {int((rows['result'] == 'pass').sum())} of {len(rows)} pass"

    held = frame["role"].str.startswith("held out")
    independent = frame["role"] == "held out, independent"
    head = "; ".join((judged(frame[frame["role"] == "fitted"], "fitted"),
                      judged(frame[independent], "held out and independent (the tests)")))
    derived = judged(frame[held & ~independent],
                     "held out but derived from fitted figures or inputs (not tests)")
    note = ("The held-out figures are registered in sim/data/beijing_holdout.csv (frozen on "
            "2026-12-08, after the fit shown here, which held the same figures out; a test "
            "checks its hash): a spec that fits one is refused, and one that fails stays held "
            "out.")
    lines = [f"**{head}**; {derived}. {note}", "",
             ("| target | published | simulated | 95 % interval | error | tolerance | result "
              "| role |"), "|---|---|---|---|---|---|---|---|"]
    for r in frame.itertuples():
        m = r.measure
        area = f"{r.area}, " if isinstance(r.area, str) and r.area else ""
        name = f"{m.replace('_', ' ')}, {area}{r.period}"
        interval = (f"{_fmt(m, r.ci95_low)} – {_fmt(m, r.ci95_high)}"
                    if not math.isnan(r.ci95_low) else "—")
        result = f"**{r.result}**" if r.result == "fail" else r.result
        lines.append(f"| {name} | {_fmt(m, r.published)} | {_fmt(m, r.simulated)} | {interval} "
                     f"| {_fmt_error(m, TOLERANCES[m].relative, r.error)} | {r.tolerance} | "
                     f"{result} | {r.role} |")
    return "\n".join(lines) + "\n"


def _from(render_table, *names: str):
    """A section made by `render_table` from the shipped tables `names` (None: one is not
    shipped, and the page keeps the section as it is)."""
    def make() -> str | None:
        frames = [table(name) for name in names]
        return None if any(f is None for f in frames) else render_table(*frames)
    return make


SECTIONS = {
    "decomposition": _from(decomposition, DECOMPOSE_EFFECTS, DECOMPOSE_MECHANISMS),
    "counterfactual": _from(counterfactual, COUNTERFACTUAL),
    "robustness": _from(robustness, ROBUSTNESS),
    "calibration-report": _from(calibration_report, CALIBRATION_TARGETS),
}


def render(text: str) -> str:
    """The page with each section made anew from its table (a section whose table is not
    shipped is left as it is)."""
    for name, make in SECTIONS.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start not in text:
            continue
        body = make()
        if body is None:
            continue
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        text = (f"{head}{start}\n<!-- Generated by `python -m sim.evidence.docs` from "
                f"sim/data/evidence. Do not edit by hand. -->\n\n{body}\n{end}{tail}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.evidence.docs",
                                     description="Write the results sections of docs/evidence.md and "
                                     "docs/calibration.md from the shipped evidence tables.")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the page differs from what would be "
                             "written")
    args = parser.parse_args(argv)
    stale = 0
    for page in PAGES:
        current = page.read_text(encoding="utf-8")
        text = render(current)
        if args.check:
            if text != current:
                print(f"{page} is out of date: run `python -m sim.evidence.docs`",
                      file=sys.stderr)
                stale = 1
            continue
        if text != current:
            page.write_text(text, encoding="utf-8")
            print(f"wrote {page}")
    return stale


if __name__ == "__main__":
    sys.exit(main())
