"""The problem-category table as data: `sim/data/categories.csv`, plus a scenario's overrides.

Columns are documented in `sim/data/categories_sources.md`. The table is turned into numpy arrays
indexed by category so the engine reads a column by position, never by name.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from sim.city.city import DEPARTMENT_TYPES

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

TIME_LIMIT_CLASSES = ("emergency", "utility", "general", "complex")
SEASONS = ("none", "heating")
MAX_DEPTS = 3  # departments one problem can need at most (lead + 2)


@dataclass(frozen=True, eq=False)
class CategoryTable:
    keys: list[str]
    name_zh: list[str]
    name_en: list[str]
    share: np.ndarray  # float, sums to 1
    departments: np.ndarray  # int16 (n, MAX_DEPTS), -1 padded; [:, 0] is the lead department
    street_visible: np.ndarray  # bool
    street_power: np.ndarray
    devolvable: np.ndarray
    enforcement: np.ndarray  # bool
    work_hours: np.ndarray
    multi_dept_prob: np.ndarray
    cross_border_share: np.ndarray
    unreasonable_share: np.ndarray
    root_cause_share: np.ndarray
    time_limit: np.ndarray  # int8 index into TIME_LIMIT_CLASSES
    emergency_share: np.ndarray
    season: np.ndarray  # int8 index into SEASONS
    territorial: np.ndarray  # share with a clear territorial (属地) jurisdiction: 直派 to the street
    growth: np.ndarray  # exponent on the city's demand growth level: 1 follows it, 0 stays flat

    def __len__(self) -> int:
        return len(self.keys)

    def index(self, key: str) -> int:
        return self.keys.index(key)

    @property
    def street_first(self) -> np.ndarray:
        """Per category, the chance that 12345 sends a request the street may not resolve
        itself straight to the street (直派街乡镇): 1 where the street can see the problem,
        else the category's `territorial` share."""
        return np.where(self.street_visible, 1.0, self.territorial)


def _read_rows() -> list[dict[str, str]]:
    text = resources.files("sim.data").joinpath("categories.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def category_keys() -> list[str]:
    """The categories' keys, in the table's order."""
    return [r["key"] for r in _read_rows()]


def load_categories(scenario: Scenario | None = None) -> CategoryTable:
    """The category table with the scenario's `demand.shares` and `demand.categories` applied."""
    rows = _read_rows()
    keys = [r["key"] for r in rows]
    n = len(rows)

    def col(name: str) -> np.ndarray:
        return np.array([float(r[name]) for r in rows])

    depts = np.full((n, MAX_DEPTS), -1, dtype=np.int16)
    for i, r in enumerate(rows):
        for j, name in enumerate(r["departments"].split(";")[:MAX_DEPTS]):
            depts[i, j] = DEPARTMENT_TYPES.index(name)
    volume = col("volume")
    table = dict(
        keys=keys,
        name_zh=[r["name_zh"] for r in rows],
        name_en=[r["name_en"] for r in rows],
        share=volume / volume.sum(),
        departments=depts,
        street_visible=col("street_visible").astype(bool),
        street_power=col("street_power"),
        devolvable=col("devolvable"),
        enforcement=col("enforcement").astype(bool),
        work_hours=col("work_hours"),
        multi_dept_prob=col("multi_dept_prob"),
        cross_border_share=col("cross_border_share"),
        unreasonable_share=col("unreasonable_share"),
        root_cause_share=col("root_cause_share"),
        time_limit=np.array([TIME_LIMIT_CLASSES.index(r["time_limit"]) for r in rows], np.int8),
        emergency_share=col("emergency_share"),
        season=np.array([SEASONS.index(r["season"]) for r in rows], np.int8),
        territorial=col("territorial"),
        growth=col("growth"),
    )
    if scenario is not None:
        demand = scenario.demand
        if demand.shares is not None:
            table["share"] = np.array([demand.shares[k] for k in keys], dtype=float)
        for key, override in demand.categories.items():
            if key not in keys:
                continue  # reported by the loader's reference check
            i = keys.index(key)
            for column, value in override.model_dump(exclude_none=True).items():
                table[column] = table[column].copy()
                if column == "departments":
                    row = np.full(MAX_DEPTS, -1, dtype=np.int16)
                    row[:len(value)] = [DEPARTMENT_TYPES.index(v) for v in value]
                    value = row
                table[column][i] = value
        table["share"] = table["share"] / table["share"].sum()
    return CategoryTable(**table)
