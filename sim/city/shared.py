"""The city of a scenario, built once per process and shared read-only.

A command reads its scenario, then validates it against the city, then runs it; a comparison runs
several scenarios and seeds on the same city. Each asks `cached_city`, so the city is built once
(a network file is read again only when it changed), and frozen, so a run that tried to change it
fails loudly instead of changing the next run's city.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from sim.city.beijing import beijing_city
from sim.city.city import City
from sim.city.io import load_city
from sim.city.synthetic import synthetic_city
from sim.scenario.schema import CityConfig


def build(config: CityConfig) -> City:
    """The city a scenario names, built afresh: Beijing, a synthetic city, or a network file."""
    if config.source == "beijing":
        return beijing_city(config.layout_seed)
    if config.source == "synthetic":
        return synthetic_city(**config.synthetic.model_dump(), seed=config.layout_seed)
    return load_city(Path(config.path or ""))


_CITIES: OrderedDict[str, Any] = OrderedDict()
_CITIES_LOCK = threading.Lock()


def _city_key(config: CityConfig) -> str:
    """The config, and a network file's time and size (a changed file is read again)."""
    key = config.model_dump_json()
    if config.source == "file" and config.path:
        try:
            stat = Path(config.path).stat()
        except OSError:  # reading it will say what is wrong
            return key
        key += f"|{stat.st_mtime_ns}|{stat.st_size}"
    return key


def _freeze(city: Any) -> Any:
    """Make a shared city read-only, so a run that tried to change it fails loudly instead of
    changing the next run's city."""
    import networkx as nx

    for value in vars(city).values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, np.ndarray):
                    item.setflags(write=False)
    nx.freeze(city.graph)
    return city


def cached_city(config: CityConfig) -> City:
    """The city a scenario names, built once per process and shared, read-only (building
    Beijing takes about a second): every command and run of a process asks here."""
    key = _city_key(config)
    with _CITIES_LOCK:
        if key in _CITIES:
            _CITIES.move_to_end(key)
            return _CITIES[key]
    city = _freeze(build(config))
    with _CITIES_LOCK:
        _CITIES[key] = city
        while len(_CITIES) > 4:
            _CITIES.popitem(last=False)
    return city
