"""Core city builder shared by the Beijing and synthetic generators, and graph -> `City` indexing.

`build_city` turns district specs (population, area, counts of 街道/镇/乡) into a jurisdiction
graph: units scattered inside each district's disc, communities (社区/村) inside units,
department units (条) per district plus city level, and street adjacency by symmetric
k-nearest neighbours.
`city_from_graph` derives every index array of `City` from the graph alone; builders and the file
loader both go through it, so a saved-and-loaded city is indexed exactly like a freshly built one.

Node ids (stable strings): "city", "district:<D>", "street:<unit>", "community:<unit>-C001",
"dept:<D>:<type>", "dept:city:<type>"; a unit is named by `DistrictSpec.unit_names` (Beijing: its
real name, e.g. "street:东华门街道") or else "<D>-S01" (街道) / "<D>-T01" (镇) / "<D>-X01" (乡).

Ordering of the index arrays: districts in graph order; streets grouped by district (in district
order), graph order within a district; communities grouped by street; department units city level
FIRST, then district 0, 1, ..., each block in `DEPARTMENT_TYPES` order, so that
unit index == (district + 1) * len(DEPARTMENT_TYPES) + type.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from sim.city.city import DEPARTMENT_TYPES, EDGE_RELATIONS, NODE_KINDS, City
from sim.errors import InputError

#: Kinds of township-level units, in the order they are numbered inside a district.
UNIT_KINDS: tuple[str, ...] = ("street", "town", "township")
#: Letter in unit names: S = 街道, T = 镇, X = 乡.
UNIT_LETTER: dict[str, str] = {"street": "S", "town": "T", "township": "X"}
#: Residents per community (社区 in 街道, mostly 村 in 镇/乡); one community at least per unit.
RESIDENTS_PER_COMMUNITY: dict[str, int] = {"street": 3000, "town": 1500, "township": 1500}
#: Relative population weight of a unit by kind (街道 are the populous urban units).
_POP_WEIGHT: dict[str, float] = {"street": 1.0, "town": 0.5, "township": 0.4}
#: Relative land area of a unit by kind (街道 are small and dense; towns are large and rural).
_AREA_WEIGHT: dict[str, float] = {"street": 1.0, "town": 6.0, "township": 6.0}

CITY_NODE = "city"


@dataclass(frozen=True)
class DistrictSpec:
    """What the builder needs to know about one district.

    `center` (km, x east / y north) pins the district on the map; if any district lacks one, all
    districts are packed as touching discs instead. `outline` (rings of (x, y) km points; a
    point is inside when an odd number of rings surround it, so a hole is one more ring) draws
    the district's real shape: given for every district, it replaces the discs and each unit is
    placed inside its own district. `unit_names` (and `unit_codes`) name the units, streets
    first, then towns, then townships; without them units are called `<district>-S01` ...
    `unit_points` (same order; None for "place it") pins units whose place is known; a pinned
    point must lie inside the outline. `reporting_propensity` multiplies the chance that a
    resident of the district reports a problem, `demand_rate` the rate at which problems occur
    there, per resident (1: the city's common value).
    """

    name: str
    population: int
    area_km2: float
    streets: int
    towns: int = 0
    townships: int = 0
    name_zh: str = ""
    center: tuple[float, float] | None = None
    outline: tuple[tuple[tuple[float, float], ...], ...] = ()
    code: str = ""
    unit_names: tuple[str, ...] = ()
    unit_codes: tuple[str, ...] = ()
    unit_points: tuple[tuple[float, float] | None, ...] = ()
    reporting_propensity: float = 1.0
    demand_rate: float = 1.0

    @property
    def n_units(self) -> int:
        return self.streets + self.towns + self.townships


# --------------------------------------------------------------------------------------------
# Small numeric helpers
# --------------------------------------------------------------------------------------------


def apportion(total: int, weights: np.ndarray, minimum: np.ndarray | int = 0) -> np.ndarray:
    """Split integer `total` in proportion to `weights`, each part >= `minimum`, summing exactly.

    Largest-remainder rounding: integers are what make population conservation exact.
    """
    weights = np.asarray(weights, dtype=np.float64)
    mins = np.broadcast_to(np.asarray(minimum, dtype=np.int64), weights.shape).copy()
    rest = int(total) - int(mins.sum())
    if rest < 0:
        raise ValueError(f"cannot split {total} into parts of at least {mins.tolist()}")
    wsum = weights.sum()
    share = weights / wsum * rest if wsum > 0 else np.full(weights.shape, rest / len(weights))
    parts = np.floor(share).astype(np.int64)
    left = rest - int(parts.sum())
    if left > 0:
        order = np.argsort(-(share - parts), kind="stable")
        parts[order[:left]] += 1
    return mins + parts


def _grouped_apportion(
    totals: np.ndarray, group: np.ndarray, weights: np.ndarray, minimum: int = 1
) -> np.ndarray:
    """`apportion` for many groups at once; `group` is sorted and indexes `totals`.

    Vectorised because Beijing has ~10,000 communities in 343 units.
    """
    counts = np.bincount(group, minlength=len(totals))
    rest = totals - minimum * counts
    wsum = np.bincount(group, weights=weights, minlength=len(totals))
    share = weights / wsum[group] * rest[group]
    parts = np.floor(share).astype(np.int64)
    left = rest - np.bincount(group, weights=parts, minlength=len(totals)).astype(np.int64)
    frac = share - parts
    order = np.lexsort((-frac, group))  # by group, then largest remainder first
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - starts[group[order]]
    parts += rank < left[group]
    return parts + minimum


def _pack_discs(radii: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Place discs touching each other, each as close to the origin as possible (greedy).

    Smallest discs first, so that dense small districts form the core, as in a real city.
    """
    order = np.argsort(radii, kind="stable")
    centers = np.zeros((len(radii), 2))
    placed: list[int] = [int(order[0])]
    angles = rng.uniform(0, 2 * np.pi) + np.linspace(0, 2 * np.pi, 48, endpoint=False)
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    for i in order[1:]:
        pc, pr = centers[placed], radii[placed]
        cand = (pc[:, None, :] + (pr[:, None, None] + radii[i]) * ring[None, :, :]).reshape(-1, 2)
        dist = np.linalg.norm(cand[:, None, :] - pc[None, :, :], axis=2)
        ok = np.all(dist >= (pr + radii[i])[None, :] * (1 - 1e-9), axis=1)
        cand = cand[ok]
        if len(cand) == 0:  # no touching spot free on the angle grid: go beyond everything
            reach = float(np.max(np.linalg.norm(pc, axis=1) + pr)) + radii[i]
            cand = reach * ring[:1]
        centers[i] = cand[np.argmin(np.einsum("ij,ij->i", cand, cand))]
        placed.append(int(i))
    return centers - centers.mean(axis=0)


def _separate_discs(centers: np.ndarray, radii: np.ndarray, iters: int = 500) -> np.ndarray:
    """Push overlapping discs apart, the larger one moving less: keeps a real map's shape."""
    c = centers.astype(np.float64).copy()
    area = radii**2
    n = len(radii)
    for _ in range(iters):
        delta = c[:, None, :] - c[None, :, :]
        dist = np.linalg.norm(delta, axis=2)
        np.fill_diagonal(dist, np.inf)
        overlap = radii[:, None] + radii[None, :] - dist
        if overlap.max() <= 1e-6 * radii.max():
            break
        overlap = np.clip(overlap, 0, None)
        safe = np.where(np.isfinite(dist) & (dist > 1e-12), dist, 1.0)
        unit = delta / safe[:, :, None]
        share = area[None, :] / (area[:, None] + area[None, :])  # i moves by j's share
        move = (0.5 * overlap * share)[:, :, None] * unit
        move[np.arange(n), np.arange(n)] = 0
        c += move.sum(axis=1)
    return c


def _scatter_units(
    center: np.ndarray,
    radius: float,
    kinds: Sequence[str],
    rng: np.random.Generator,
    n_candidates: int = 12,
) -> np.ndarray:
    """Points for a district's units: 街道 in the inner core, 镇/乡 in the ring around it.

    Best-candidate sampling spreads points evenly, so that no two units sit on top of each other.
    """
    weights = np.array([_AREA_WEIGHT[k] for k in kinds])
    is_street = np.array([k == "street" for k in kinds])
    r_core = radius * math.sqrt(weights[is_street].sum() / weights.sum())
    pts = np.zeros((len(kinds), 2))
    for i, street in enumerate(is_street):
        lo, hi = (0.0, r_core) if street else (r_core, radius)
        if hi <= lo:
            lo, hi = 0.0, radius
        u = rng.uniform(size=n_candidates)
        r = np.sqrt(lo**2 + u * (hi**2 - lo**2))
        theta = rng.uniform(0, 2 * np.pi, size=n_candidates)
        cand = center + np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
        if i == 0:
            pts[i] = cand[0]
            continue
        d = np.linalg.norm(cand[:, None, :] - pts[None, :i, :], axis=2).min(axis=1)
        pts[i] = cand[np.argmax(d)]
    return pts


def inside_outline(points: np.ndarray, rings: Sequence[np.ndarray]) -> np.ndarray:
    """Even-odd point-in-polygon: True where an odd number of `rings` surround the point.

    Rings are (n, 2) arrays, closed or not; a hole or a second part is just another ring.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = pts[:, 0:1], pts[:, 1:2]
    inside = np.zeros(len(pts), dtype=bool)
    for ring in rings:
        r = np.asarray(ring, dtype=np.float64)
        x1, y1 = r[:, 0], r[:, 1]
        x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= (np.sum(crosses & (x < xc), axis=1) % 2).astype(bool)
    return inside


def outline_area(rings: Sequence[np.ndarray]) -> float:
    """Area of an outline (km²): exterior rings minus holes, by the even-odd rule's nesting."""
    total = 0.0
    for i, ring in enumerate(rings):
        r = np.asarray(ring, dtype=np.float64)
        a = 0.5 * abs(float(np.dot(r[:, 0], np.roll(r[:, 1], -1))
                            - np.dot(r[:, 1], np.roll(r[:, 0], -1))))
        others = [q for j, q in enumerate(rings) if j != i]
        depth = int(np.sum([inside_outline(r[:1], [q])[0] for q in others]))
        total += -a if depth % 2 else a
    return total


def _interior_points(rings: Sequence[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` points drawn uniformly inside an outline (rejection sampling in its bounding box)."""
    allpts = np.concatenate([np.asarray(r, dtype=np.float64) for r in rings])
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    out: list[np.ndarray] = []
    got = 0
    for _ in range(200):
        cand = rng.uniform(lo, hi, size=(max(4 * (n - got), 64), 2))
        cand = cand[inside_outline(cand, rings)]
        out.append(cand)
        got += len(cand)
        if got >= n:
            return np.concatenate(out)[:n]
    raise InputError(None, "districts.outline", "an outline with some area inside it", "none")


def label_point(rings: Sequence[np.ndarray], pool: np.ndarray) -> np.ndarray:
    """The outline's area centroid if it lies inside, else the interior point nearest to it."""
    c = pool.mean(axis=0)
    if inside_outline(c[None, :], rings)[0]:
        return c
    return pool[np.argmin(np.linalg.norm(pool - c, axis=1))]


def _scatter_in_outline(
    rings: Sequence[np.ndarray],
    kinds: Sequence[str],
    core: np.ndarray,
    rng: np.random.Generator,
    n_candidates: int = 12,
    pinned: Sequence[tuple[float, float] | None] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Points inside a district's outline for its units, and the district's label point.

    As `_scatter_units` inside a disc: 街道 in the part of the district nearest to `core` (the
    side facing the city centre: an assumption, since township outlines are not shipped), 镇/乡
    in the rest, each by best-candidate sampling from a seeded pool of interior points;
    `pinned` points are kept as given and the others keep away from them.
    """
    pool = _interior_points(rings, max(64 * len(kinds), 2000), rng)
    weights = np.array([_AREA_WEIGHT[k] for k in kinds])
    is_street = np.array([k == "street" for k in kinds])
    share = weights[is_street].sum() / weights.sum()
    order = np.argsort(np.linalg.norm(pool - core, axis=1), kind="stable")
    cut = round(float(share) * len(pool))
    zones = {True: pool[order[:max(cut, 1)]], False: pool[order[min(cut, len(pool) - 1):]]}
    pts = np.zeros((len(kinds), 2))
    fixed = [i for i, p in enumerate(pinned) if p is not None]
    for i in fixed:
        pts[i] = pinned[i]
    done = list(fixed)
    for i, street in enumerate(is_street):
        if i in fixed:
            continue
        zone = zones[bool(street)]
        cand = zone[rng.integers(0, len(zone), size=n_candidates)]
        if not done:
            pts[i] = cand[0]
        else:
            d = np.linalg.norm(cand[:, None, :] - pts[None, done, :], axis=2).min(axis=1)
            pts[i] = cand[np.argmax(d)]
        done.append(i)
    return pts, label_point(rings, pool)


def _pull_inside(points: np.ndarray, anchors: np.ndarray, rings: Sequence[np.ndarray],
                 ) -> np.ndarray:
    """Move points outside the outline halfway to their anchor (inside), until all are inside."""
    pts = points.copy()
    for _ in range(12):
        out = ~inside_outline(pts, rings)
        if not out.any():
            return pts
        pts[out] = 0.5 * (pts[out] + anchors[out])
    out = ~inside_outline(pts, rings)
    pts[out] = anchors[out]
    return pts


def knn_adjacency(points: np.ndarray, k: int = 5) -> list[set[int]]:
    """Symmetric k-nearest-neighbour graph on points, then joined into one component.

    Components are joined by their shortest link, so that problems can spill across any border.
    Distances are computed in row blocks, so that large synthetic cities stay within memory.
    """
    n = len(points)
    nbrs: list[set[int]] = [set() for _ in range(n)]
    if n <= 1:
        return nbrs
    kk = min(k, n - 1)
    block = max(1, 2_000_000 // n)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        dist = np.linalg.norm(points[lo:hi, None, :] - points[None, :, :], axis=2)
        dist[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
        near = (
            np.argpartition(dist, kk - 1, axis=1)[:, :kk]
            if kk < n - 1
            else np.argsort(dist, axis=1)[:, :kk]
        )
        for i, row in zip(range(lo, hi), near.tolist(), strict=True):
            for j in row:
                nbrs[i].add(j)
                nbrs[j].add(i)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from((i, j) for i in range(n) for j in nbrs[i])
    comps = [sorted(c) for c in nx.connected_components(g)]
    while len(comps) > 1:
        comps.sort(key=lambda c: (len(c), c[0]))
        inside = np.array(comps[0])
        outside = np.setdiff1d(np.arange(n), inside)
        sub = np.linalg.norm(points[inside][:, None, :] - points[outside][None, :, :], axis=2)
        a, b = np.unravel_index(np.argmin(sub), sub.shape)
        i, j = int(inside[a]), int(outside[b])
        nbrs[i].add(j)
        nbrs[j].add(i)
        merged = next(c for c in comps if j in c)
        comps = [c for c in comps[1:] if c is not merged] + [sorted(comps[0] + merged)]
    return nbrs


# --------------------------------------------------------------------------------------------
# Builder
# --------------------------------------------------------------------------------------------


#: District attributes that multiply a per-resident behaviour (1 when absent): the chance of
#: reporting a problem, and the rate at which problems occur.
DISTRICT_FACTORS = ("reporting_propensity", "demand_rate")


#: Largest district factor (reporting propensity, demand rate): a hundred times the city's.
MAX_DISTRICT_FACTOR = 100.0


def _is_factor(value: object) -> bool:
    try:
        return (isinstance(value, int | float | np.integer | np.floating)
                and not isinstance(value, bool) and bool(np.isfinite(value))
                and 0 < value <= MAX_DISTRICT_FACTOR)
    except OverflowError:  # an integer beyond any float
        return False


def _check_specs(districts: Sequence[DistrictSpec], communities_per_unit: int | None) -> None:
    if not districts:
        raise InputError(None, "districts", "at least one district", len(districts))
    seen: set[str] = set()
    for i, d in enumerate(districts):
        where = f"districts[{i}]"
        if not d.name or ":" in d.name or d.name in seen or d.name == "city":
            raise InputError(None, f"{where}.name", "a unique non-empty name without ':'", d.name)
        seen.add(d.name)
        for field in ("streets", "towns", "townships"):
            if getattr(d, field) < 0:
                raise InputError(None, f"{where}.{field}", "a count >= 0", getattr(d, field))
        if d.n_units < 1:
            raise InputError(None, where, "at least one street/town/township unit", 0)
        need = d.n_units * (communities_per_unit or 1)
        if d.population < need:
            raise InputError(
                None,
                f"{where}.population",
                f"at least one resident per community (>= {need})",
                d.population,
            )
        if not d.area_km2 > 0:
            raise InputError(None, f"{where}.area_km2", "a positive area", d.area_km2)
        for field in DISTRICT_FACTORS:
            if not _is_factor(getattr(d, field)):
                raise InputError(None, f"{where}.{field}", "a number > 0 and <= 100",
                                 getattr(d, field))
        for field in ("unit_names", "unit_codes", "unit_points"):
            given = getattr(d, field)
            if given and len(given) != d.n_units:
                raise InputError(None, f"{where}.{field}", f"{d.n_units} names (one per unit)",
                                 len(given))
        for j, ring in enumerate(d.outline):
            r = np.asarray(ring, dtype=np.float64)
            if r.ndim != 2 or r.shape[1] != 2 or len(r) < 3 or not np.isfinite(r).all():
                raise InputError(None, f"{where}.outline[{j}]", "a ring of >= 3 (x, y) points",
                                 np.shape(ring))
        for j, p in enumerate(d.unit_points):
            if p is None:
                continue
            ok = (len(d.outline) > 0 and len(p) == 2 and np.isfinite(p).all()
                  and inside_outline(np.array([p], dtype=float),
                                     [np.asarray(r, dtype=float) for r in d.outline])[0])
            if not ok:
                raise InputError(None, f"{where}.unit_points[{j}]",
                                 "a point inside the district's outline", p)
    with_outline = [bool(d.outline) for d in districts]
    if any(with_outline) and not all(with_outline):
        raise InputError(None, "districts.outline", "an outline for every district or for none",
                         f"{sum(with_outline)} of {len(districts)}")


def build_city(
    name: str,
    districts: Sequence[DistrictSpec],
    rng: np.random.Generator,
    *,
    k_neighbours: int = 5,
    communities_per_unit: int | None = None,
) -> City:
    """Build a city's jurisdiction graph from district specs and index it.

    Unit populations are lognormal-weighted (街道 heavier), communities get ~3,000 (街道) or ~1,500
    (镇/乡) residents each unless `communities_per_unit` fixes their number. Every population
    figure is an integer and sums exactly up the hierarchy. Units sit inside the districts'
    outlines when every spec has one (kept on the district nodes as `outline`), else inside
    discs of the districts' areas. Same specs and same `rng` state -> the same city.
    """
    _check_specs(districts, communities_per_unit)
    radii = np.array([math.sqrt(d.area_km2 / math.pi) for d in districts])
    outlines = [[np.asarray(r, dtype=np.float64) for r in d.outline] for d in districts]
    # The steps draw from `rng` in this order; any other order would build another city.
    centers, city_core = _district_centers(districts, radii, outlines, rng)
    units = _place_units(districts, radii, outlines, centers, city_core, rng)
    unit_pop = _unit_populations(districts, units, communities_per_unit, rng)
    n_comm, comm_unit, comm_pop = _communities(units, unit_pop, communities_per_unit, rng)
    comm_pos = _community_points(units, comm_unit, outlines, rng)
    adjacency = knn_adjacency(units.pos, k_neighbours)

    graph = _assemble_graph(
        name,
        districts,
        centers,
        units.name,
        units.kind,
        units.district,
        unit_pop,
        units.pos,
        comm_unit,
        n_comm,
        comm_pop,
        comm_pos,
        adjacency,
    )
    return city_from_graph(graph, name)


def _district_centers(
    districts: Sequence[DistrictSpec],
    radii: np.ndarray,
    outlines: list[list[np.ndarray]],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Where the districts sit, and the city's core where they have outlines (else None).

    With outlines, the centres are label points set later from the outlines (zero here), and
    the core is the population-weighted mean of the outlines, towards which 街道 lean. Else the
    given centres, pushed apart until the discs do not overlap, or discs packed from the origin.
    """
    if all(outlines):
        centers = np.zeros((len(districts), 2))  # label points, set by `_place_units`
        means = np.array([np.concatenate(o).mean(axis=0) for o in outlines])
        pop = np.array([d.population for d in districts], dtype=np.float64)
        return centers, (means * pop[:, None]).sum(axis=0) / pop.sum()
    if all(d.center is not None for d in districts):
        centers = _separate_discs(np.array([d.center for d in districts], dtype=float), radii)
    else:
        centers = _pack_discs(radii, rng)
    return centers, None


@dataclass
class _Units:
    """A city's township-level units being built, in district order: name, kind (`UNIT_KINDS`),
    district, point (km) and land area (km²)."""

    name: list[str]
    kind: list[str]
    district: np.ndarray
    pos: np.ndarray
    area: list[float]


def _unit_names(d: DistrictSpec, kinds: list[str]) -> list[str]:
    """A district's unit names: its `unit_names` if given, else `<district>-S01`, `-T01` ..."""
    width = max(2, len(str(max(d.streets, d.towns, d.townships))))
    counter = dict.fromkeys(UNIT_KINDS, 0)
    names = []
    for k in kinds:
        counter[k] += 1
        names.append(f"{d.name}-{UNIT_LETTER[k]}{counter[k]:0{width}d}")
    return list(d.unit_names) if d.unit_names else names


def _place_units(
    districts: Sequence[DistrictSpec],
    radii: np.ndarray,
    outlines: list[list[np.ndarray]],
    centers: np.ndarray,
    city_core: np.ndarray | None,
    rng: np.random.Generator,
) -> _Units:
    """Kinds, names, points and land areas of every district's units (district by district).

    Inside an outline, a district's label point is set into `centers` too.
    """
    unit_district: list[int] = []
    unit_kind: list[str] = []
    unit_name: list[str] = []
    unit_pos_blocks: list[np.ndarray] = []
    unit_area: list[float] = []
    for di, d in enumerate(districts):
        kinds = ["street"] * d.streets + ["town"] * d.towns + ["township"] * d.townships
        unit_name += _unit_names(d, kinds)
        unit_district += [di] * len(kinds)
        unit_kind += kinds
        if outlines[di]:
            own = np.concatenate(outlines[di]).mean(axis=0)
            pts, centers[di] = _scatter_in_outline(outlines[di], kinds, 0.5 * (own + city_core),
                                                   rng, pinned=d.unit_points)
            unit_pos_blocks.append(pts)
        else:
            unit_pos_blocks.append(_scatter_units(centers[di], radii[di], kinds, rng))
        w = np.array([_AREA_WEIGHT[k] for k in kinds])
        unit_area += (d.area_km2 * w / w.sum()).tolist()
    if len(set(unit_name)) != len(unit_name):
        seen: set[str] = set()
        dup = sorted({n for n in unit_name if n in seen or seen.add(n)})
        raise InputError(None, "districts.unit_names", "unit names unique in the city", dup)
    return _Units(unit_name, unit_kind, np.array(unit_district, dtype=np.int64),
                  np.concatenate(unit_pos_blocks), unit_area)


def _unit_populations(
    districts: Sequence[DistrictSpec],
    units: _Units,
    communities_per_unit: int | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Unit populations: each district's total split with unequal lognormal weights."""
    n_u = len(units.name)
    pop_w = np.array([_POP_WEIGHT[k] for k in units.kind]) * rng.lognormal(0.0, 0.5, size=n_u)
    unit_pop = np.zeros(n_u, dtype=np.int64)
    cpu = communities_per_unit or 1
    for di, d in enumerate(districts):
        idx = np.flatnonzero(units.district == di)
        unit_pop[idx] = apportion(d.population, pop_w[idx], minimum=cpu)
    return unit_pop


def _communities(
    units: _Units,
    unit_pop: np.ndarray,
    communities_per_unit: int | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Communities per unit, each community's unit, and their populations (lognormal weights).

    Without `communities_per_unit`, a unit has one community per `RESIDENTS_PER_COMMUNITY` of
    its kind (one at least, and no more than it has residents).
    """
    n_u = len(units.name)
    if communities_per_unit is not None:
        n_comm = np.full(n_u, communities_per_unit, dtype=np.int64)
    else:
        rate = np.array([RESIDENTS_PER_COMMUNITY[k] for k in units.kind], dtype=np.float64)
        n_comm = np.clip(np.rint(unit_pop / rate).astype(np.int64), 1, None)
        n_comm = np.minimum(n_comm, unit_pop)
    comm_unit = np.repeat(np.arange(n_u), n_comm)
    comm_w = rng.lognormal(0.0, 0.35, size=len(comm_unit))
    comm_pop = _grouped_apportion(unit_pop, comm_unit, comm_w, minimum=1)
    return n_comm, comm_unit, comm_pop


def _community_points(
    units: _Units,
    comm_unit: np.ndarray,
    outlines: list[list[np.ndarray]],
    rng: np.random.Generator,
) -> np.ndarray:
    """Community points: scattered around their unit's point, within the unit's own radius, and
    pulled inside their district's outline where it has one."""
    unit_pos = units.pos
    unit_r = np.sqrt(np.array(units.area) / math.pi)
    rr = 0.8 * unit_r[comm_unit] * np.sqrt(rng.uniform(size=len(comm_unit)))
    th = rng.uniform(0, 2 * np.pi, size=len(comm_unit))
    comm_pos = unit_pos[comm_unit] + np.stack([rr * np.cos(th), rr * np.sin(th)], axis=1)
    for di in range(len(outlines)):
        if outlines[di]:
            m = units.district[comm_unit] == di
            comm_pos[m] = _pull_inside(comm_pos[m], unit_pos[comm_unit[m]], outlines[di])
    return comm_pos


def _pos(p: np.ndarray) -> tuple[float, float]:
    return (round(float(p[0]), 6), round(float(p[1]), 6))


def _assemble_graph(
    name: str,
    districts: Sequence[DistrictSpec],
    centers: np.ndarray,
    unit_name: list[str],
    unit_kind: list[str],
    unit_district: np.ndarray,
    unit_pop: np.ndarray,
    unit_pos: np.ndarray,
    comm_unit: np.ndarray,
    n_comm: np.ndarray,
    comm_pop: np.ndarray,
    comm_pos: np.ndarray,
    adjacency: list[set[int]],
) -> nx.DiGraph:
    """Lay the pieces out as the networkx graph (plain Python values only, so it serialises).

    Nodes and edges go in in a fixed order (city, districts, units, communities, departments,
    adjacency): `city_from_graph` indexes the city in graph order.
    """
    g = nx.DiGraph(name=name, pos_unit="km")
    total = int(sum(d.population for d in districts))
    g.add_node(CITY_NODE, kind="city", name=name, population=total)
    d_ids = _add_districts(g, districts, centers)
    s_ids = [f"street:{n}" for n in unit_name]
    codes = [c for d in districts for c in (d.unit_codes or ("",) * d.n_units)]
    for u, sid in enumerate(s_ids):
        g.add_node(
            sid,
            kind="street",
            name=unit_name[u],
            unit_kind=unit_kind[u],
            population=int(unit_pop[u]),
            pos=_pos(unit_pos[u]),
            **({"code": codes[u]} if codes[u] else {}),
        )
        g.add_edge(d_ids[int(unit_district[u])], sid, relation="contains")
    _add_communities(g, unit_name, s_ids, comm_unit, n_comm, comm_pop, comm_pos)
    owners = [(CITY_NODE, "city")] + [(d_ids[i], d.name) for i, d in enumerate(districts)]
    for owner, label in owners:
        for t in DEPARTMENT_TYPES:
            did = f"dept:{label}:{t}"
            g.add_node(did, kind="department", name=f"{label}:{t}", dept_type=t)
            g.add_edge(owner, did, relation="has_department")
    for u, nb in enumerate(adjacency):
        for v in sorted(nb):
            g.add_edge(s_ids[u], s_ids[v], relation="adjacent")
    return g


def _add_districts(g: nx.DiGraph, districts: Sequence[DistrictSpec], centers: np.ndarray,
                   ) -> list[str]:
    """Add the district nodes, each contained by the city; return their ids.

    Optional attributes (Chinese name, code, factors other than 1, outline) are written only
    where given, so that a file stays as small as its content.
    """
    d_ids = [f"district:{d.name}" for d in districts]
    for di, d in enumerate(districts):
        attrs: dict[str, object] = {
            "kind": "district",
            "name": d.name,
            "population": int(d.population),
            "area_km2": float(d.area_km2),
            "pos": _pos(centers[di]),
        }
        if d.name_zh:
            attrs["name_zh"] = d.name_zh
        if d.code:
            attrs["code"] = d.code
        for field in DISTRICT_FACTORS:  # written only where they differ from the common 1
            if getattr(d, field) != 1.0:
                attrs[field] = float(getattr(d, field))
        if d.outline:
            attrs["outline"] = [[[round(float(x), 4), round(float(y), 4)] for x, y in ring]
                                for ring in d.outline]
        g.add_node(d_ids[di], **attrs)
        g.add_edge(CITY_NODE, d_ids[di], relation="contains")
    return d_ids


def _add_communities(
    g: nx.DiGraph,
    unit_name: list[str],
    s_ids: list[str],
    comm_unit: np.ndarray,
    n_comm: np.ndarray,
    comm_pop: np.ndarray,
    comm_pos: np.ndarray,
) -> None:
    """Add the community nodes, each contained by its unit, named `<unit>-C001`, `-C002` ...

    Added in bulk from plain lists: Beijing has ~10,000 communities.
    """
    # Community numbering restarts in each unit: C001, C002, ...
    starts = np.concatenate(([0], np.cumsum(n_comm)[:-1]))
    local = np.arange(len(comm_unit)) - starts[comm_unit] + 1
    width = max(3, len(str(int(n_comm.max()))))
    cu, cl, cp = comm_unit.tolist(), local.tolist(), comm_pop.tolist()
    xs, ys = np.round(comm_pos[:, 0], 6).tolist(), np.round(comm_pos[:, 1], 6).tolist()
    c_nodes = []
    c_edges = []
    for i in range(len(cu)):
        cname = f"{unit_name[cu[i]]}-C{cl[i]:0{width}d}"
        cid = f"community:{cname}"
        c_nodes.append(
            (cid, {"kind": "community", "name": cname, "population": cp[i], "pos": (xs[i], ys[i])})
        )
        c_edges.append((s_ids[cu[i]], cid, {"relation": "contains"}))
    g.add_nodes_from(c_nodes)
    g.add_edges_from(c_edges)


# --------------------------------------------------------------------------------------------
# Graph -> City
# --------------------------------------------------------------------------------------------

_CONTAINS = {("city", "district"), ("district", "street"), ("street", "community")}
_HAS_DEPT = {("city", "department"), ("district", "department")}


def _population(graph: nx.DiGraph, node: str, file: str | None) -> int:
    from sim.scenario.schema import MAX_POPULATION

    value = graph.nodes[node].get("population")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0 \
            or value > MAX_POPULATION:
        raise InputError(
            file, f"nodes[{node}].population",
            f"a non-negative integer population of at most {MAX_POPULATION:,}", value
        )
    return int(value)


def _factor(graph: nx.DiGraph, node: str, field: str, file: str | None) -> float:
    value = graph.nodes[node].get(field, 1.0)
    if not _is_factor(value):
        raise InputError(file, f"nodes[{node}].{field}", "a number > 0 and <= 100", value)
    return float(value)


def _name(graph: nx.DiGraph, node: str, file: str | None) -> str:
    value = graph.nodes[node].get("name", node.split(":", 1)[-1])
    if not isinstance(value, str) or not value:
        raise InputError(file, f"nodes[{node}].name", "a non-empty string", value)
    from sim.naming import unsafe

    why = unsafe(value)  # names are printed in tables and charts, and name columns
    if why is not None:
        raise InputError(file, f"nodes[{node}].name", f"a plain name: {why}", value)
    return value


def city_from_graph(graph: nx.DiGraph, name: str, file: str | None = None) -> City:
    """Validate a jurisdiction graph and derive every `City` index array from it.

    The single path from graph to arrays, used by the builders and by `load_city`, so that a
    round trip through a file cannot index a city differently. Errors name `file` and the node or
    edge at fault. The steps run in a fixed order, so that a graph with several faults always
    reports the same one first.
    """
    _check_directed(graph, file)
    by_kind = _read_nodes(graph, file)
    tree = _read_edges(graph, by_kind, file)
    districts = by_kind["district"]
    district_names, district_pop, factors = _read_districts(graph, districts, tree)
    streets, street_district, street_kind, street_pop = _read_streets(
        graph, by_kind["street"], districts, tree
    )
    s_index = {s: i for i, s in enumerate(streets)}
    community_street, community_pop = _read_communities(graph, by_kind["community"], s_index,
                                                        tree)
    _check_street_totals(file, streets, street_pop, community_street, community_pop)
    _check_district_totals(file, districts, district_pop, street_district, street_pop)
    dept_ids = _read_departments(graph, by_kind["department"], by_kind["city"][0], districts,
                                 tree)

    n_types = len(DEPARTMENT_TYPES)
    dept_district = np.repeat(np.arange(-1, len(districts), dtype=np.int32), n_types)
    dept_type = np.tile(np.arange(n_types, dtype=np.int16), len(districts) + 1)
    street_neighbours = [
        np.array(sorted(s_index[v] for v in tree.adjacent[s]), dtype=np.int32) for s in streets
    ]
    return City(
        name=name,
        graph=graph,
        district_names=district_names,
        district_population=district_pop,
        district_reporting=factors["reporting_propensity"],
        district_demand=factors["demand_rate"],
        street_names=[_name(graph, s, file) for s in streets],
        street_district=street_district,
        street_kind=street_kind,
        street_population=street_pop,
        community_street=community_street,
        community_population=community_pop,
        street_neighbours=street_neighbours,
        dept_district=dept_district,
        dept_type=dept_type,
        dept_names=[_name(graph, d, file) for d in dept_ids],
    )


def _check_directed(graph: nx.DiGraph, file: str | None) -> None:
    """The graph must be a plain directed graph: edges go from container to contained."""
    if not isinstance(graph, nx.DiGraph) or graph.is_multigraph():
        raise InputError(
            file,
            "graph",
            "a directed graph (networkx DiGraph, 'directed': true)",
            type(graph).__name__,
        )


def _read_nodes(graph: nx.DiGraph, file: str | None) -> dict[str, list[str]]:
    """The nodes by kind (`NODE_KINDS`), each list in graph order; exactly one city."""
    by_kind: dict[str, list[str]] = {k: [] for k in NODE_KINDS}
    for node, data in graph.nodes(data=True):
        kind = data.get("kind")
        if kind not in by_kind:
            raise InputError(file, f"nodes[{node}].kind", f"one of {list(NODE_KINDS)}", kind)
        by_kind[kind].append(node)
    if len(by_kind["city"]) != 1:
        raise InputError(file, "nodes", "exactly one node of kind 'city'", len(by_kind["city"]))
    return by_kind


@dataclass
class _Tree:
    """What the edges say: each node's kind and parent (by 'contains' or 'has_department'), and
    each street's neighbours (by 'adjacent'). `file` names the graph's file in errors."""

    file: str | None
    kind_of: dict[str, str]
    parent: dict[str, str]
    adjacent: dict[str, set[str]]

    def parent_of(self, node: str, kind: str, expected: str) -> str:
        """`node`'s parent, which must be of `kind` (else an error saying what is `expected`)."""
        p = self.parent.get(node)
        if p is None or self.kind_of[p] != kind:
            raise InputError(self.file, f"nodes[{node}]", expected, p)
        return p


def _read_edges(graph: nx.DiGraph, by_kind: dict[str, list[str]], file: str | None) -> _Tree:
    """Check every edge's relation and the kinds it joins; note parents and street neighbours.

    A node has one parent at most: the hierarchy is a tree.
    """
    kind_of = {n: k for k, nodes in by_kind.items() for n in nodes}
    parent: dict[str, str] = {}
    adjacent: dict[str, set[str]] = {s: set() for s in by_kind["street"]}
    for u, v, data in graph.edges(data=True):
        rel = data.get("relation")
        where = f"edges[{u} -> {v}]"
        pair = (kind_of[u], kind_of[v])
        if rel not in EDGE_RELATIONS:
            raise InputError(file, f"{where}.relation", f"one of {list(EDGE_RELATIONS)}", rel)
        if rel == "adjacent":
            if pair != ("street", "street") or u == v:
                raise InputError(
                    file,
                    where,
                    "an 'adjacent' edge between two different streets",
                    f"{pair[0]} -> {pair[1]}",
                )
            adjacent[u].add(v)
            adjacent[v].add(u)
            continue
        allowed = _CONTAINS if rel == "contains" else _HAS_DEPT
        if pair not in allowed:
            expected = ", ".join(f"{a} -> {b}" for a, b in sorted(allowed))
            raise InputError(
                file, where, f"a '{rel}' edge of form {expected}", f"{pair[0]} -> {pair[1]}"
            )
        if v in parent:
            raise InputError(file, f"nodes[{v}]", "exactly one parent", [parent[v], u])
        parent[v] = u
    return _Tree(file, kind_of, parent, adjacent)


def _read_districts(
    graph: nx.DiGraph, districts: list[str], tree: _Tree
) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """The districts' names, populations and factors (`DISTRICT_FACTORS`); at least one
    district, each contained by the city."""
    file = tree.file
    if not districts:
        raise InputError(file, "nodes", "at least one node of kind 'district'", 0)
    for d in districts:
        tree.parent_of(
            d,
            "city",
            "the city that contains it (an edge city -> district with relation 'contains')",
        )
    district_names = [_name(graph, d, file) for d in districts]
    district_pop = np.array([_population(graph, d, file) for d in districts], dtype=np.int64)
    factors = {f: np.array([_factor(graph, d, f, file) for d in districts], dtype=np.float64)
               for f in DISTRICT_FACTORS}
    return district_names, district_pop, factors


def _read_streets(
    graph: nx.DiGraph, raw_streets: list[str], districts: list[str], tree: _Tree
) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """The streets grouped by district (graph order within one), with their district, unit kind
    and population."""
    file = tree.file
    d_index = {d: i for i, d in enumerate(districts)}
    s_dist = np.array(
        [
            d_index[
                tree.parent_of(
                    s,
                    "district",
                    "a district that contains it (an edge district -> "
                    "street with relation 'contains')",
                )
            ]
            for s in raw_streets
        ],
        dtype=np.int64,
    )
    order = np.argsort(s_dist, kind="stable")
    streets = [raw_streets[i] for i in order]
    street_district = s_dist[order].astype(np.int32)
    street_kind: list[str] = []
    for s in streets:
        uk = graph.nodes[s].get("unit_kind")
        if uk not in UNIT_KINDS:
            raise InputError(file, f"nodes[{s}].unit_kind", f"one of {list(UNIT_KINDS)}", uk)
        street_kind.append(uk)
    street_pop = np.array([_population(graph, s, file) for s in streets], dtype=np.int64)
    return streets, street_district, street_kind, street_pop


def _read_communities(
    graph: nx.DiGraph, raw_comms: list[str], s_index: dict[str, int], tree: _Tree
) -> tuple[np.ndarray, np.ndarray]:
    """Each community's street (`s_index` numbers the streets) and population, grouped by
    street (graph order within one)."""
    c_street = np.array(
        [
            s_index[
                tree.parent_of(
                    c,
                    "street",
                    "a street that contains it (an edge street -> community "
                    "with relation 'contains')",
                )
            ]
            for c in raw_comms
        ],
        dtype=np.int64,
    )
    c_order = np.argsort(c_street, kind="stable")
    community_street = c_street[c_order].astype(np.int32)
    community_pop = np.array(
        [_population(graph, raw_comms[i], tree.file) for i in c_order], dtype=np.int64
    )
    return community_street, community_pop


def _check_street_totals(
    file: str | None,
    streets: list[str],
    street_pop: np.ndarray,
    community_street: np.ndarray,
    community_pop: np.ndarray,
) -> None:
    """Every street has a community, and its population is the sum of its communities'."""
    per_street = np.bincount(community_street, minlength=len(streets))
    for s in np.flatnonzero(per_street == 0):
        raise InputError(
            file,
            f"nodes[{streets[s]}]",
            "at least one community (an edge street -> community with relation 'contains')",
            0,
        )
    comm_sum = np.bincount(community_street, weights=community_pop, minlength=len(streets))
    for s in np.flatnonzero(comm_sum.astype(np.int64) != street_pop):
        raise InputError(
            file,
            f"nodes[{streets[s]}].population",
            "the sum of its communities' populations",
            int(street_pop[s]),
        )


def _check_district_totals(
    file: str | None,
    districts: list[str],
    district_pop: np.ndarray,
    street_district: np.ndarray,
    street_pop: np.ndarray,
) -> None:
    """Every district has a street, and its population is the sum of its streets'."""
    street_sum = np.bincount(street_district, weights=street_pop, minlength=len(districts))
    per_district = np.bincount(street_district, minlength=len(districts))
    for d in range(len(districts)):
        if per_district[d] == 0:
            raise InputError(
                file,
                f"nodes[{districts[d]}]",
                "at least one street/town/township "
                "(an edge district -> street with relation 'contains')",
                0,
            )
        if int(street_sum[d]) != district_pop[d]:
            raise InputError(
                file,
                f"nodes[{districts[d]}].population",
                "the sum of its streets' populations",
                int(district_pop[d]),
            )


def _read_departments(
    graph: nx.DiGraph, departments: list[str], city_node: str, districts: list[str], tree: _Tree
) -> list[str]:
    """The department units in index order: city level first, then districts in order, types in
    canonical order (`DEPARTMENT_TYPES`); exactly one unit of each type per owner."""
    file = tree.file
    n_types = len(DEPARTMENT_TYPES)
    d_index = {d: i for i, d in enumerate(districts)}
    type_index = {t: i for i, t in enumerate(DEPARTMENT_TYPES)}
    slots: list[str | None] = [None] * ((len(districts) + 1) * n_types)
    for dep in departments:
        owner = tree.parent.get(dep)
        if owner is None:
            raise InputError(
                file,
                f"nodes[{dep}]",
                "a district or the city that has it (an edge "
                "district -> department with relation 'has_department')",
                None,
            )
        t = graph.nodes[dep].get("dept_type")
        if t not in type_index:
            raise InputError(file, f"nodes[{dep}].dept_type", f"one of {list(DEPARTMENT_TYPES)}", t)
        row = 0 if owner == city_node else d_index[owner] + 1
        slot = row * n_types + type_index[t]
        if slots[slot] is not None:
            raise InputError(
                file, f"nodes[{dep}]", f"one '{t}' unit per district/city", [slots[slot], dep]
            )
        slots[slot] = dep
    _check_all_departments(slots, city_node, districts, file)
    return slots  # type: ignore[return-value]


def _check_all_departments(
    slots: list[str | None], city_node: str, districts: list[str], file: str | None
) -> None:
    """Every owner (the city, each district) has a unit of every department type."""
    n_types = len(DEPARTMENT_TYPES)
    for slot, dep in enumerate(slots):
        if dep is None:
            row, t = divmod(slot, n_types)
            owner = city_node if row == 0 else districts[row - 1]
            raise InputError(
                file,
                f"nodes[{owner}]",
                f"a department unit of type "
                f"'{DEPARTMENT_TYPES[t]}' (edge -> department, 'has_department')",
                None,
            )
