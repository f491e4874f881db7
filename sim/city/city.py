"""The jurisdiction network of a city and the flat index arrays the engine runs on.

A `City` is built once per run (from Beijing's data, the synthetic generator, or a file) and is
read-only afterwards. The networkx graph is the source of truth a researcher inspects or saves;
the numpy arrays are the same facts indexed for the hot loop, so that no event ever walks the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

#: The functional departments (条) of every district. Authority of each over problem categories
#: lives in the category table (`sim/data/categories.csv`), not here.
DEPARTMENT_TYPES: tuple[str, ...] = (
    "urban_management",  # 城管执法
    "public_security",  # 公安
    "market_regulation",  # 市场监管
    "housing",  # 住建/房管
    "environment",  # 生态环境
    "transport",  # 交通
    "water",  # 水务
    "health",  # 卫健
    "human_resources",  # 人社 (labour, wages)
    "planning",  # 规划自然资源
    "fire",  # 消防
    "education",  # 教育
    "utilities",  # 城市管理委 (heating, power, gas)
)

#: Node kinds of the jurisdiction graph.
NODE_KINDS = ("city", "district", "street", "community", "department")
#: Edge relations: containment (parent -> child), authority (district -> its department units),
#: adjacency (street <-> street, stored both ways; may cross district borders).
EDGE_RELATIONS = ("contains", "has_department", "adjacent")


@dataclass(frozen=True, eq=False)
class City:
    """A city: the graph plus index arrays (districts, streets, communities, department units).

    Indices are positions in the lists below. Department units are one per (district, type)
    plus one city-level unit per type (district index -1).
    """

    name: str
    graph: nx.DiGraph
    district_names: list[str]
    district_population: np.ndarray  # int64, residents (real city, not scaled)
    street_names: list[str]
    street_district: np.ndarray  # int32, index into districts
    street_kind: list[str]  # "street" (街道), "town" (镇) or "township" (乡)
    street_population: np.ndarray  # int64
    community_street: np.ndarray  # int32, index into streets
    community_population: np.ndarray  # int64
    street_neighbours: list[np.ndarray]  # per street, int32 indices of adjacent streets
    dept_district: np.ndarray  # int32 per department unit; -1 = city level
    dept_type: np.ndarray  # int16 per department unit, index into DEPARTMENT_TYPES
    dept_names: list[str] = field(default_factory=list)
    #: per district, factors on residents' reporting propensity and on the occurrence rate of
    #: problems (float64; None: 1 everywhere; the graph's district attributes
    #: `reporting_propensity`, `demand_rate`)
    district_reporting: np.ndarray | None = None
    district_demand: np.ndarray | None = None

    def reporting_factor(self) -> np.ndarray:
        """The reporting-propensity factor of every district (1 where none is given)."""
        return (np.ones(self.n_districts) if self.district_reporting is None
                else self.district_reporting)

    def demand_factor(self) -> np.ndarray:
        """The demand-rate factor of every district (1 where none is given)."""
        return (np.ones(self.n_districts) if self.district_demand is None
                else self.district_demand)

    @property
    def n_districts(self) -> int:
        return len(self.district_names)

    @property
    def n_streets(self) -> int:
        return len(self.street_names)

    @property
    def n_communities(self) -> int:
        return len(self.community_street)

    @property
    def n_departments(self) -> int:
        return len(self.dept_type)

    @property
    def population(self) -> int:
        return int(self.community_population.sum())

    def dept_unit(self, district: int, dept_type: int) -> int:
        """Index of the department unit of `dept_type` in `district` (-1: the city-level unit)."""
        return int(self._dept_lookup[district + 1, dept_type])

    @property
    def _dept_lookup(self) -> np.ndarray:
        # (district+1, type) -> unit index; row 0 is the city level. Built lazily, cached.
        cached = self.__dict__.get("_lookup")
        if cached is None:
            cached = np.full((self.n_districts + 1, len(DEPARTMENT_TYPES)), -1, dtype=np.int32)
            for unit, (d, t) in enumerate(zip(self.dept_district, self.dept_type, strict=True)):
                cached[d + 1, t] = unit
            object.__setattr__(self, "_lookup", cached)
        return cached
