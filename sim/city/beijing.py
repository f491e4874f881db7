"""The default city: Beijing's 16 districts with their real 2020 populations and 343 units.

Data come from `sim/data/beijing_districts.csv` (sources in `beijing_districts_sources.md`); only
the placement of units inside districts, their population split and the communities are generated.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np

from sim.city.build import DistrictSpec, build_city
from sim.city.city import City
from sim.errors import InputError

CSV_NAME = "beijing_districts.csv"
_CSV_LABEL = f"sim/data/{CSV_NAME}"

#: Rough district centroids (lon, lat), hand-placed for drawing only - not sourced data. They keep
#: the generated map recognisable (Yanqing north-west, Pinggu east, ...); overlaps are pushed apart.
_CENTROIDS_LONLAT: dict[str, tuple[float, float]] = {
    "Dongcheng": (116.416, 39.918),
    "Xicheng": (116.366, 39.912),
    "Chaoyang": (116.51, 39.95),
    "Fengtai": (116.24, 39.84),
    "Shijingshan": (116.19, 39.93),
    "Haidian": (116.20, 40.03),
    "Mentougou": (115.80, 39.98),
    "Fangshan": (115.86, 39.70),
    "Tongzhou": (116.73, 39.80),
    "Shunyi": (116.66, 40.15),
    "Changping": (116.23, 40.22),
    "Daxing": (116.40, 39.66),
    "Huairou": (116.55, 40.62),
    "Pinggu": (117.15, 40.18),
    "Miyun": (116.95, 40.47),
    "Yanqing": (116.13, 40.52),
}
#: Tiananmen, the origin of the km coordinates.
_ORIGIN = (116.397, 39.908)
_KM_PER_DEG_LAT = 111.0
_KM_PER_DEG_LON = 111.32 * float(np.cos(np.radians(_ORIGIN[1])))


def _center_km(name: str) -> tuple[float, float] | None:
    ll = _CENTROIDS_LONLAT.get(name)
    if ll is None:
        return None
    return ((ll[0] - _ORIGIN[0]) * _KM_PER_DEG_LON, (ll[1] - _ORIGIN[1]) * _KM_PER_DEG_LAT)


def _int(row: dict[str, str], field: str, line: int) -> int:
    try:
        return int(row[field])
    except (KeyError, TypeError, ValueError):
        raise InputError(_CSV_LABEL, f"line {line}.{field}", "an integer", row.get(field)) from None


def read_beijing_districts() -> list[DistrictSpec]:
    """The 16 district rows of the packaged CSV, checked (units must add up to `total_units`)."""
    text = resources.files("sim").joinpath("data", CSV_NAME).read_text(encoding="utf-8")
    specs: list[DistrictSpec] = []
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        counts = [_int(row, f, line) for f in ("streets", "towns", "townships")]
        if sum(counts) != _int(row, "total_units", line):
            raise InputError(
                _CSV_LABEL,
                f"line {line}.total_units",
                "streets+towns+townships",
                row["total_units"],
            )
        try:
            area = float(row["area_km2"])
        except (KeyError, TypeError, ValueError):
            raise InputError(
                _CSV_LABEL, f"line {line}.area_km2", "a number", row.get("area_km2")
            ) from None
        name = row["district_en"]
        specs.append(
            DistrictSpec(
                name=name,
                population=_int(row, "population_2020", line),
                area_km2=area,
                streets=counts[0],
                towns=counts[1],
                townships=counts[2],
                name_zh=row["district_zh"],
                center=_center_km(name),
            )
        )
    return specs


def beijing_city(seed: int = 0) -> City:
    """Beijing with real district populations and unit counts; `seed` drives the generated parts.

    Same seed -> identical city (graph and arrays).
    """
    return build_city("Beijing", read_beijing_districts(), np.random.default_rng(seed))
