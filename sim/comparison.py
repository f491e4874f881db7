"""`Comparison`: the results of `sim.compare`, several runs with one seed, side by side.

    >>> c = sim.compare(["fragmented", "hotline"], days=30, scale=0.05)   # doctest: +SKIP
    >>> c.table        # tidy, long: scenario, regime, measure, unit, value  # doctest: +SKIP
    >>> c.wide         # measures (and their units) x scenarios               # doctest: +SKIP
    >>> c.summary      # one row per scenario: each Result's summary row       # doctest: +SKIP
    >>> c.versus("fragmented")   # each scenario's difference from a baseline   # doctest: +SKIP
    >>> c["hotline"]   # that run's Result, with all its tables                 # doctest: +SKIP

Times are in hours (columns ending `_h`, unit "hours"), shares and rates are fractions of 1,
counts are real-city problems, as in `Result.summary`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from sim.results import KEY_MEASURES, OUTCOME_COLUMNS, Result, _fmt, measure_unit


@dataclass(repr=False)
class Comparison:
    """Runs of several scenarios with one seed (common random numbers), by name, in order."""

    results: dict[str, Result]  # the first seed's run of each scenario
    seed: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # applied to every run
    #: every seed's measures of each scenario, seeds in order (`sim.compare(..., seeds=3)`)
    runs: dict[str, list[pd.Series]] = field(default_factory=dict)

    def _every_seed(self) -> dict[str, list[pd.Series]]:
        """Each scenario's measures, seed by seed (one seed: its result's)."""
        return self.runs or {name: [r.measures] for name, r in self.results.items()}

    @property
    def means(self) -> pd.DataFrame:
        """Measures x scenarios: the mean over seeds of each number (as comparison.csv)."""
        from sim.explain import mean_row

        table = pd.concat([mean_row(rows).rename(name)
                           for name, rows in self._every_seed().items()], axis=1)
        table.index.name = "measure"
        return table

    @property
    def differences(self) -> pd.DataFrame:
        """Each scenario against the one before it, per measure, over the seeds: the mean
        paired difference, its 95 % interval and whether it is within seed noise."""
        from sim.explain import differences

        runs = self._every_seed()
        return differences(runs, list(runs))

    # ------------------------------------------------------------------ access
    @property
    def names(self) -> list[str]:
        return list(self.results)

    def __getitem__(self, name: str) -> Result:
        return self.results[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    # ------------------------------------------------------------------ tables
    @property
    def summary(self) -> pd.DataFrame:
        """One row per scenario, indexed by its name (`scenario`): each run's summary row."""
        rows = pd.concat([r.summary.assign(scenario=name) for name, r in self.results.items()],
                         ignore_index=True)
        return rows.set_index("scenario")

    @property
    def table(self) -> pd.DataFrame:
        """The tidy comparison: one row per scenario and measure, with columns `scenario`,
        `regime`, `measure`, `unit` (hours, fraction, problems, ...) and `value` (a float), the
        scenarios in order and the measures in the summary's order. Pivot it as you need:
        `c.table.pivot(index="measure", columns="scenario", values="value")`."""
        rows = []
        for name, r in self.results.items():
            m = r.measures
            for measure in OUTCOME_COLUMNS:
                rows.append((name, m["regime"], measure, measure_unit(measure),
                             float(m[measure])))
        out = pd.DataFrame(rows, columns=["scenario", "regime", "measure", "unit", "value"])
        out["scenario"] = pd.Categorical(out["scenario"], self.names, ordered=True)
        out["measure"] = pd.Categorical(out["measure"], OUTCOME_COLUMNS, ordered=True)
        return out

    @property
    def wide(self) -> pd.DataFrame:
        """Measures x scenarios: index (`measure`, `unit`), one column per scenario (the numbers
        of `govsim compare`'s comparison.csv)."""
        wide = self.table.pivot(index=["measure", "unit"], columns="scenario", values="value")
        wide.columns = pd.Index(list(wide.columns), name="scenario")
        return wide.reindex(pd.MultiIndex.from_tuples(
            [(m, measure_unit(m)) for m in OUTCOME_COLUMNS], names=["measure", "unit"]))

    def versus(self, baseline: str | None = None) -> pd.DataFrame:
        """Each scenario against `baseline` (default: the first): the tidy table with
        `baseline_value` and `difference` (value - baseline_value, in the measure's unit).
        With one seed for all, the difference is paired (common random numbers), not noise
        free: repeat over seeds (`govsim sweep`) before reading a small one."""
        baseline = self.names[0] if baseline is None else baseline
        if baseline not in self.results:
            from sim.errors import InputError, among

            raise InputError(None, "baseline", "a scenario of the comparison, "
                             + among(self.names, [baseline]), baseline)
        t = self.table
        base = t[t["scenario"] == baseline].set_index("measure")["value"]
        t["baseline_value"] = t["measure"].map(base).astype(float)
        t["difference"] = t["value"] - t["baseline_value"]
        return t[t["scenario"] != baseline].reset_index(drop=True)

    # ------------------------------------------------------------------ saving
    def save(self, folder: str | Path, csv: bool = False) -> Path:
        """Write each run into `folder/<name>` (as `Result.save`) and comparison.csv (measures
        x scenarios, as `govsim compare` writes it) plus comparison_tidy.csv (`table`)."""
        from sim.naming import slug, unique_names
        from sim.outputs import staged_folder

        folder = Path(folder)
        with staged_folder(folder) as tmp:
            labels = unique_names([slug(n) for n in self.names])
            for label, r in zip(labels, self.results.values(), strict=True):
                r.save(tmp / label, csv=csv)
            raw = pd.concat([r.measures.rename(n) for n, r in self.results.items()], axis=1)
            raw.index.name = "measure"
            raw.to_csv(tmp / "comparison.csv")
            self.table.to_csv(tmp / "comparison_tidy.csv", index=False)
        return folder

    # ------------------------------------------------------------------ display
    def _title(self) -> str:
        specs = [r.scenario for r in self.results.values()]
        parts = [f"seed {self.seed}" if self.seed is not None else ""]
        for label, values in (("days", {s.days for s in specs}),
                              ("scale", {s.scale for s in specs})):
            if len(values) == 1:
                v = next(iter(values))
                parts.append(f"{v} days" if label == "days" else f"scale {v:g}")
        return ", ".join(p for p in parts if p)

    def __repr__(self) -> str:
        return (f"<Comparison of {len(self)} runs ({self._title()}): "
                f"{', '.join(self.names)}>")

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{escape(n)}</th>" for n in self.names)
        body = "".join(
            f"<tr><td style='text-align:left'>{escape(label)}</td>"
            + "".join(f"<td>{escape(_fmt(r.measures.get(col), measure_unit(col)))}</td>"
                      for r in self.results.values()) + "</tr>"
            for label, col in KEY_MEASURES)
        return (f"<div><b>Comparison</b> — {escape(self._title())} (common random numbers)"
                f"<table><thead><tr><th style='text-align:left'>measure</th>{head}</tr>"
                f"</thead><tbody>{body}</tbody></table><small>All measures: <code>.table</code>"
                " (tidy), <code>.wide</code>, <code>.summary</code>; one run: "
                "<code>c[name]</code>. Times in hours; counts in real-city problems.</small>"
                "</div>")
