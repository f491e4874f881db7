"""The pre-registered hold-out: published figures frozen out of the fit before it is run.

`sim/data/beijing_holdout.csv` lists them, each with its published value, whether it is an
*independent* test of the model (no fitted figure or input restates it) and why. It was written
before the fit it guards and its hash is checked by a test (`tests/test_holdout.py`): a figure
once held out is never fitted — a calibration spec that names one with `fit: true`, or leaves one
out, is refused — and a figure that fails stays held out and is reported as a failure. Only the
independent figures count as tests of the model in the report (docs/calibration.md); the others
are shown for completeness.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from sim.errors import InputError

#: The file, in the package's data.
FILE = "beijing_holdout.csv"


@dataclass(frozen=True)
class HeldOut:
    measure: str
    period: str
    area: str
    value: float
    independent: bool  # a test of the model: no fitted figure or input restates it
    why: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.measure, self.period, self.area)


def held_out() -> list[HeldOut]:
    """The registered held-out figures, in the file's order."""
    with resources.files("sim.data").joinpath(FILE).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [HeldOut(r["measure"], r["period"], r["area"], float(r["value"]),
                    r["independent"] == "yes", r["why"]) for r in rows]


def check(choices: list, published: dict[tuple[str, str, str], float], file: str) -> None:
    """A spec's targets keep the hold-out: every registered figure is a target held out of the
    fit (`fit: false`), none is fitted, and each still has its registered published value."""
    by_key = {(c.measure, c.period, c.area): (i, c) for i, c in enumerate(choices)}
    for h in held_out():
        label = " ".join(h.key).strip()
        if published.get(h.key) != h.value:
            raise InputError(f"sim/data/{FILE}", label, "the published value registered in "
                             "the hold-out (sim/data/beijing_targets.csv changed it)",
                             published.get(h.key))
        if h.key not in by_key:
            raise InputError(file, "targets", f"every figure of the pre-registered hold-out "
                             f"(sim/data/{FILE}) as a target with fit: false", label)
        i, choice = by_key[h.key]
        if choice.fit:
            raise InputError(file, f"targets[{i}].fit", "false: this figure is in the "
                             f"pre-registered hold-out (sim/data/{FILE}) and is never fitted",
                             True)
