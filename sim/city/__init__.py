"""The city: jurisdiction graph (districts, streets/towns/townships, communities, departments).

`beijing_city()` is the default; `synthetic_city(...)` generates one of any size; `build_city`
with one `DistrictSpec` per district builds your own (names, populations, areas, unit counts, and
optionally real outlines and unit names); `save_city`/`load_city` write and read the graph.
"""

from sim.city.beijing import beijing_city
from sim.city.build import DistrictSpec, build_city
from sim.city.city import DEPARTMENT_TYPES, City
from sim.city.io import load_city, save_city
from sim.city.synthetic import synthetic_city

__all__ = ["DEPARTMENT_TYPES", "City", "DistrictSpec", "beijing_city", "build_city", "load_city",
           "save_city", "synthetic_city"]
