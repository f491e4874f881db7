"""The city: jurisdiction graph (districts, streets/towns/townships, communities, departments)."""

from sim.city.beijing import beijing_city
from sim.city.city import DEPARTMENT_TYPES, City
from sim.city.io import load_city, save_city
from sim.city.synthetic import synthetic_city

__all__ = ["DEPARTMENT_TYPES", "City", "beijing_city", "load_city", "save_city", "synthetic_city"]
