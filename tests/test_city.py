"""Tests of the city layer: Beijing data, generators, invariants, file round trips, bad files."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim.city import DEPARTMENT_TYPES, City, beijing_city, load_city, save_city, synthetic_city
from sim.city.build import city_from_graph
from sim.city.io import write_graph
from sim.errors import InputError

ARRAYS = (
    "district_population",
    "street_district",
    "street_population",
    "community_street",
    "community_population",
    "dept_district",
    "dept_type",
)
LISTS = ("district_names", "street_names", "street_kind", "dept_names")


@pytest.fixture(scope="module")
def beijing() -> City:
    return beijing_city(seed=0)


@pytest.fixture(scope="module")
def csv_rows() -> list[dict[str, str]]:
    text = resources.files("sim").joinpath("data", "beijing_districts.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def assert_same_city(a: City, b: City) -> None:
    assert a.name == b.name
    for f in ARRAYS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype, f
        assert np.array_equal(x, y), f
    for f in LISTS:
        assert getattr(a, f) == getattr(b, f), f
    assert len(a.street_neighbours) == len(b.street_neighbours)
    for x, y in zip(a.street_neighbours, b.street_neighbours, strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)


# ------------------------------------------------------------------------------- Beijing data


def test_beijing_sizes(beijing: City) -> None:
    assert beijing.n_districts == 16
    assert beijing.n_streets == 343
    assert beijing.n_departments == 17 * len(DEPARTMENT_TYPES)
    assert beijing.population == 21_893_095


def test_beijing_matches_csv(beijing: City, csv_rows: list[dict[str, str]]) -> None:
    assert beijing.district_names == [r["district_en"] for r in csv_rows]
    for d, row in enumerate(csv_rows):
        assert beijing.district_population[d] == int(row["population_2020"])
        in_d = beijing.street_district == d
        kinds = [k for k, m in zip(beijing.street_kind, in_d, strict=True) if m]
        assert kinds.count("street") == int(row["streets"])
        assert kinds.count("town") == int(row["towns"])
        assert kinds.count("township") == int(row["townships"])
        node = beijing.graph.nodes[f"district:{row['district_en']}"]
        assert node["name_zh"] == row["district_zh"]
        assert node["area_km2"] == float(row["area_km2"])


def test_unit_names(beijing: City) -> None:
    """Real names and NBS codes; the one name two districts share carries its district."""
    g = beijing.graph
    assert beijing.street_names[0] == "东华门街道"
    assert g.nodes["street:东华门街道"]["code"] == "110101001"
    assert g.nodes["street:南磨房地区"]["unit_kind"] == "township"  # Chaoyang's 地区 are 乡
    assert g.nodes["street:王佐镇"]["unit_kind"] == "town"
    assert g.nodes["street:于家务回族乡"]["unit_kind"] == "township"
    assert {"朝阳区八里庄街道", "海淀区八里庄街道"} <= set(beijing.street_names)
    assert "community:东华门街道-C001" in g
    assert len(set(beijing.street_names)) == 343
    codes = [g.nodes[f"street:{n}"]["code"] for n in beijing.street_names]
    assert len(set(codes)) == 343
    for code, d in zip(codes, beijing.street_district, strict=True):
        assert code[:6] == g.nodes[f"district:{beijing.district_names[d]}"]["code"]


def test_streets_csv_matches_districts_csv(csv_rows: list[dict[str, str]]) -> None:
    from sim.city.beijing import read_beijing_streets

    rows = read_beijing_streets()
    assert len(rows) == 343 and len({r["code"] for r in rows}) == 343
    for d in csv_rows:
        mine = [r for r in rows if r["district_code"] == d["district_code"]]
        for kind, field in (("street", "streets"), ("town", "towns"), ("township", "townships")):
            assert sum(r["kind"] == kind for r in mine) == int(d[field]), (d["district_en"], kind)


def test_every_unit_inside_its_own_district(beijing: City) -> None:
    from sim.city.build import inside_outline

    g = beijing.graph
    for d, name in enumerate(beijing.district_names):
        rings = [np.array(r) for r in g.nodes[f"district:{name}"]["outline"]]
        pts = np.array([g.nodes[f"street:{s}"]["pos"]
                        for s, sd in zip(beijing.street_names, beijing.street_district,
                                         strict=True) if sd == d])
        assert inside_outline(pts, rings).all(), name
        comms = [v for s in beijing.street_names for v in g.successors(f"street:{s}")
                 if v.startswith("community:")
                 and beijing.street_district[beijing.street_names.index(s)] == d]
        cpts = np.array([g.nodes[c]["pos"] for c in comms])
        assert inside_outline(cpts, rings).all(), name
        assert inside_outline(np.array([g.nodes[f"district:{name}"]["pos"]]), rings)[0]


def test_outlines_are_the_districts_real_areas(beijing: City,
                                               csv_rows: list[dict[str, str]]) -> None:
    """The shipped outlines' areas (in the km of the local projection) are within 3% of the
    districts' official areas: the outlines and the projection are what they say."""
    from sim.city.build import outline_area

    for row in csv_rows:
        node = beijing.graph.nodes[f"district:{row['district_en']}"]
        area = outline_area([np.array(r) for r in node["outline"]])
        assert area == pytest.approx(float(row["area_km2"]), rel=0.03), row["district_en"]


#: A point (lon, lat, rounded) well inside each district: its seat or a landmark, and the
#: Capital Airport, which is Chaoyang's exclave inside Shunyi.
LANDMARKS = {
    "110101": (116.411, 39.915),  # Wangfujing
    "110102": (116.374, 39.907),  # Xidan
    "110105": (116.460, 39.910),  # Guomao
    "110106": (116.287, 39.858),
    "110107": (116.223, 39.906),
    "110108": (116.310, 39.980),  # Zhongguancun
    "110109": (116.102, 39.941),
    "110111": (116.139, 39.736),  # Liangxiang
    "110112": (116.656, 39.910),
    "110113": (116.654, 40.130),
    "110114": (116.231, 40.221),
    "110115": (116.341, 39.727),  # Huangcun
    "110116": (116.632, 40.316),
    "110117": (117.121, 40.141),
    "110118": (116.843, 40.377),
    "110119": (115.975, 40.456),
}


def test_outlines_are_where_the_districts_are() -> None:
    """Each landmark falls in its own district's outline and in no other: the outlines are
    geo-referenced and labelled right."""
    from sim.city.beijing import lonlat_to_km, read_beijing_outlines
    from sim.city.build import inside_outline

    outlines = {code: [lonlat_to_km(r) for r in rings]
                for code, rings in read_beijing_outlines().items()}
    assert sorted(outlines) == sorted(LANDMARKS)
    for code, (lon, lat) in [*LANDMARKS.items(), ("110105", (116.603, 40.080))]:
        p = lonlat_to_km(np.array([[lon, lat]]))
        assert [c for c, rings in outlines.items() if inside_outline(p, rings)[0]] == [code]


def test_the_airport_unit_sits_in_chaoyangs_airport_exclave(beijing: City) -> None:
    from sim.city.beijing import km_to_lonlat

    lon, lat = km_to_lonlat(np.array([beijing.graph.nodes["street:首都机场街道"]["pos"]]))[0]
    assert abs(lon - 116.60) < 0.03 and abs(lat - 40.08) < 0.03


def test_shipped_map_data_is_small() -> None:
    data = resources.files("sim").joinpath("data")
    size = sum(len(data.joinpath(n).read_bytes())
               for n in ("beijing_districts.geojson", "beijing_streets.csv"))
    assert size < 1_000_000


def test_projection_round_trip() -> None:
    from sim.city.beijing import km_to_lonlat, lonlat_to_km

    ll = np.array([[116.397, 39.908], [115.5, 40.9], [117.4, 39.5]])
    assert np.allclose(km_to_lonlat(lonlat_to_km(ll)), ll)
    assert np.allclose(lonlat_to_km(ll[:1]), 0.0)
    # one degree of latitude is ~111 km; of longitude at Tiananmen, ~85 km
    assert lonlat_to_km(np.array([[116.397, 40.908]]))[0, 1] == pytest.approx(111.0, rel=0.01)
    assert lonlat_to_km(np.array([[117.397, 39.908]]))[0, 0] == pytest.approx(85.4, rel=0.01)


def test_population_conserved(beijing: City) -> None:
    c = beijing
    assert c.community_population.sum() == c.street_population.sum() == c.district_population.sum()
    per_street = np.bincount(
        c.community_street, weights=c.community_population, minlength=c.n_streets
    )
    assert np.array_equal(per_street.astype(np.int64), c.street_population)
    per_district = np.bincount(
        c.street_district, weights=c.street_population, minlength=c.n_districts
    )
    assert np.array_equal(per_district.astype(np.int64), c.district_population)
    assert c.community_population.min() >= 1
    for arr in (c.district_population, c.street_population, c.community_population):
        assert arr.dtype == np.int64


def test_streets_denser_than_towns(beijing: City) -> None:
    kind = np.array(beijing.street_kind)
    assert (
        beijing.street_population[kind == "street"].mean()
        > beijing.street_population[kind == "town"].mean()
    )


def test_every_street_has_community(beijing: City) -> None:
    counts = np.bincount(beijing.community_street, minlength=beijing.n_streets)
    assert counts.min() >= 1


def test_adjacency_symmetric_connected_crosses_borders(beijing: City) -> None:
    c = beijing
    g = nx.Graph()
    g.add_nodes_from(range(c.n_streets))
    cross = 0
    for s, nb in enumerate(c.street_neighbours):
        assert nb.dtype == np.int32
        assert s not in nb
        for t in nb:
            assert s in c.street_neighbours[t]
            g.add_edge(s, int(t))
            cross += int(c.street_district[t] != c.street_district[s])
    assert nx.is_connected(g)
    assert cross > 0


def test_graph_attributes(beijing: City) -> None:
    g = beijing.graph
    kinds = {d["kind"] for _, d in g.nodes(data=True)}
    assert kinds == {"city", "district", "street", "community", "department"}
    for _, d in g.nodes(data=True):
        if d["kind"] in ("district", "street", "community"):
            assert len(d["pos"]) == 2
    rels = {d["relation"] for _, _, d in g.edges(data=True)}
    assert rels == {"contains", "has_department", "adjacent"}
    assert g.nodes["dept:Dongcheng:housing"]["dept_type"] == "housing"
    assert g.has_edge("district:Dongcheng", "dept:Dongcheng:housing")
    assert g.has_edge("city", "dept:city:housing")


def test_dept_unit_lookup(beijing: City) -> None:
    n_t = len(DEPARTMENT_TYPES)
    housing = DEPARTMENT_TYPES.index("housing")
    u = beijing.dept_unit(-1, housing)
    assert beijing.dept_district[u] == -1 and beijing.dept_type[u] == housing
    assert beijing.dept_names[u] == "city:housing"
    assert u == housing  # city level first
    d = beijing.district_names.index("Chaoyang")
    u = beijing.dept_unit(d, housing)
    assert beijing.dept_district[u] == d and beijing.dept_type[u] == housing
    assert beijing.dept_names[u] == "Chaoyang:housing"
    assert u == (d + 1) * n_t + housing
    all_units = {beijing.dept_unit(d, t) for d in range(-1, 16) for t in range(n_t)}
    assert all_units == set(range(beijing.n_departments))


# ------------------------------------------------------------------------------- determinism


def test_same_seed_identical(beijing: City) -> None:
    again = beijing_city(seed=0)
    assert_same_city(beijing, again)
    assert dict(beijing.graph.nodes(data=True)) == dict(again.graph.nodes(data=True))


def test_different_seed_differs(beijing: City) -> None:
    other = beijing_city(seed=1)
    pos0 = beijing.graph.nodes["street:东华门街道"]["pos"]
    assert pos0 != other.graph.nodes["street:东华门街道"]["pos"]
    assert not np.array_equal(beijing.street_population, other.street_population)
    assert np.array_equal(beijing.district_population, other.district_population)


# ------------------------------------------------------------------------------- synthetic


@pytest.mark.parametrize(("nd", "ns", "pop"), [(4, 5, 500_000), (2, 3, 10_000), (1, 1, 1)])
def test_synthetic_sizes(nd: int, ns: int, pop: int) -> None:
    c = synthetic_city(n_districts=nd, streets_per_district=ns, population=pop, seed=3)
    assert c.n_districts == nd
    assert c.n_streets == nd * ns
    assert c.population == pop
    assert c.district_population.sum() == pop
    assert np.bincount(c.community_street, minlength=c.n_streets).min() >= 1
    assert c.n_departments == (nd + 1) * len(DEPARTMENT_TYPES)


def test_synthetic_tiny_city() -> None:
    c = synthetic_city(1, 1, 1, communities_per_street=1)
    assert (c.n_districts, c.n_streets, c.n_communities, c.population) == (1, 1, 1, 1)
    assert len(c.street_neighbours[0]) == 0


def test_synthetic_communities_per_street() -> None:
    c = synthetic_city(3, 4, 50_000, seed=1, communities_per_street=7)
    assert np.array_equal(np.bincount(c.community_street), np.full(12, 7))
    assert c.population == 50_000


def test_synthetic_deterministic() -> None:
    assert_same_city(synthetic_city(seed=5), synthetic_city(seed=5))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_districts": 0}, "n_districts"),
        ({"streets_per_district": -1}, "streets_per_district"),
        ({"population": 0}, "population"),
        ({"communities_per_street": 0}, "communities_per_street"),
        ({"n_districts": 2, "streets_per_district": 2, "population": 3}, "population"),
        ({"seed": -1}, "seed"),
    ],
)
def test_synthetic_rejects_bad_arguments(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(InputError, match=f"city.synthetic.{field}"):
        synthetic_city(**kwargs)


# ------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".json", ".graphml"])
def test_round_trip_beijing(beijing: City, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"beijing{suffix}"
    save_city(beijing, path)
    loaded = load_city(path)
    assert_same_city(beijing, loaded)
    assert dict(loaded.graph.nodes(data=True)) == dict(beijing.graph.nodes(data=True))
    assert list(loaded.graph.edges(data=True)) == list(beijing.graph.edges(data=True))
    assert loaded.graph.nodes["district:Dongcheng"]["name_zh"] == "东城区"


# ------------------------------------------------------------------ the builder, with outlines
SQUARE = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
L_SHAPE = ((10.0, 0.0), (30.0, 0.0), (30.0, 30.0), (20.0, 30.0), (20.0, 10.0), (10.0, 10.0))


def _specs(**extra) -> list:
    from sim.city.build import DistrictSpec

    return [
        DistrictSpec("A", 50_000, 100.0, streets=3, outline=(SQUARE,),
                     unit_names=("a1", "a2", "a3"), unit_codes=("01", "02", "03"), **extra),
        DistrictSpec("B", 40_000, 400.0, streets=1, towns=2, outline=(L_SHAPE,)),
    ]


def test_build_city_places_named_units_inside_outlines() -> None:
    from sim.city.build import build_city, inside_outline

    city = build_city("toy", _specs(), np.random.default_rng(3))
    assert city.street_names == ["a1", "a2", "a3", "B-S01", "B-T01", "B-T02"]
    g = city.graph
    assert g.nodes["street:a2"]["code"] == "02" and "code" not in g.nodes["street:B-S01"]
    for d, ring in enumerate((SQUARE, L_SHAPE)):
        pts = np.array([g.nodes[f"street:{n}"]["pos"] for n, sd in
                        zip(city.street_names, city.street_district, strict=True) if sd == d])
        assert inside_outline(pts, [np.array(ring)]).all()
    # the L's label point is inside it, though its centroid-ish middle is near the notch
    assert inside_outline(np.array([g.nodes["district:B"]["pos"]]), [np.array(L_SHAPE)])[0]
    assert g.nodes["district:A"]["outline"] == [[list(p) for p in SQUARE]]
    again = build_city("toy", _specs(), np.random.default_rng(3))
    assert dict(again.graph.nodes(data=True)) == dict(g.nodes(data=True))


def test_even_odd_rule_makes_holes() -> None:
    from sim.city.build import inside_outline, outline_area

    outer = np.array([(0, 0), (10, 0), (10, 10), (0, 10)], dtype=float)
    hole = np.array([(4, 4), (6, 4), (6, 6), (4, 6)], dtype=float)
    pts = np.array([[1, 1], [5, 5], [11, 5]], dtype=float)
    assert inside_outline(pts, [outer, hole]).tolist() == [True, False, False]
    assert outline_area([outer, hole]) == pytest.approx(96.0)


def test_build_city_keeps_pinned_units_where_they_are() -> None:
    from dataclasses import replace

    from sim.city.build import build_city

    specs = _specs()
    specs[0] = replace(specs[0], unit_points=(None, (9.5, 9.5), None))
    city = build_city("toy", specs, np.random.default_rng(3))
    assert city.graph.nodes["street:a2"]["pos"] == (9.5, 9.5)
    assert city.graph.nodes["street:a1"]["pos"] != (9.5, 9.5)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"unit_points": (None, (20.0, 5.0), None)}, "districts[0].unit_points[1]"),  # outside
        ({"unit_points": (None,)}, "districts[0].unit_points"),
        ({"unit_names": ("x", "y")}, "districts[0].unit_names"),
        ({"unit_codes": ("1",)}, "districts[0].unit_codes"),
        ({"outline": ()}, "districts.outline"),  # one district with, one without
        ({"outline": (((0.0, 0.0), (1.0, 1.0)),)}, "districts[0].outline[0]"),
        ({"unit_names": ("a", "B-S01", "c")}, "districts.unit_names"),  # B's first is B-S01
    ],
)
def test_build_city_rejects_bad_specs(change: dict, field: str) -> None:
    from dataclasses import replace

    from sim.city.build import build_city

    specs = _specs()
    specs[0] = replace(specs[0], **change)
    with pytest.raises(InputError) as err:
        build_city("toy", specs, np.random.default_rng(0))
    assert err.value.field == field


@pytest.mark.parametrize("suffix", [".json", ".graphml"])
def test_round_trip_tiny(tmp_path: Path, suffix: str) -> None:
    c = synthetic_city(1, 1, 1)
    path = tmp_path / f"tiny{suffix}"
    save_city(c, path)
    assert_same_city(c, load_city(path))


# ------------------------------------------------------------------------------- bad files


@pytest.fixture()
def small_graph() -> nx.DiGraph:
    return synthetic_city(2, 2, 20_000, seed=0).graph.copy()


def _expect_error(graph: nx.DiGraph, path: Path, field: str, expected: str = "") -> InputError:
    write_graph(graph, path)
    with pytest.raises(InputError) as info:
        load_city(path)
    msg = str(info.value)
    assert str(path) in msg
    assert field in msg, msg
    assert expected in msg, msg
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(InputError, match="an existing network file") as info:
        load_city(path)
    assert str(path) in str(info.value)


def test_unknown_suffix(tmp_path: Path, beijing: City) -> None:
    path = tmp_path / "city.csv"
    path.write_text("a,b\n")
    with pytest.raises(InputError, match=r"\.json or \.graphml") as info:
        load_city(path)
    assert str(path) in str(info.value)
    with pytest.raises(InputError, match="suffix"):
        save_city(beijing, tmp_path / "city.xml")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bad.json", "{not json"),
        ("bad.json", "[1, 2, 3]"),
        ("bad.json", '{"nodes": [{"no_id": 1}], "edges": []}'),
        ("bad.graphml", "<graphml><graph><node"),
        ("bad.graphml", "plain text"),
    ],
)
def test_corrupt_content(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError) as info:
        load_city(path)
    assert str(path) in str(info.value)


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="UTF-8"):
        load_city(path)


Mutation = Callable[[nx.DiGraph], None]


def _drop_attr(node: str, attr: str) -> Mutation:
    return lambda g: g.nodes[node].pop(attr)


def _set_attr(node: str, attr: str, value: object) -> Mutation:
    return lambda g: g.nodes[node].update({attr: value})


def _remove_edge(u: str, v: str) -> Mutation:
    return lambda g: g.remove_edge(u, v)


def _add_edge(u: str, v: str, relation: str) -> Mutation:
    return lambda g: g.add_edge(u, v, relation=relation)


BAD_GRAPHS: list[tuple[str, Mutation, str, str]] = [
    ("outline not rings", _set_attr("district:D01", "outline", [[0, 0], [1, 0], [1, 1]]),
     "nodes[district:D01].outline", "a list of rings"),
    ("outline ring too short", _set_attr("district:D01", "outline", [[[0, 0], [1, 1]]]),
     "nodes[district:D01].outline", "at least 3"),
    ("no kind", _drop_attr("street:D01-S01", "kind"), "nodes[street:D01-S01].kind", "one of"),
    (
        "unknown kind",
        _set_attr("street:D01-S01", "kind", "village"),
        "nodes[street:D01-S01].kind",
        "one of",
    ),
    (
        "orphan street",
        _remove_edge("district:D01", "street:D01-S01"),
        "nodes[street:D01-S01]",
        "a district that contains it (an edge district -> street with relation 'contains')",
    ),
    (
        "orphan community",
        _remove_edge("street:D01-S01", "community:D01-S01-C001"),
        "nodes[community:D01-S01-C001]",
        "a street that contains it",
    ),
    (
        "orphan department",
        _remove_edge("district:D02", "dept:D02:water"),
        "nodes[dept:D02:water]",
        "a district or the city",
    ),
    (
        "orphan city department",
        _remove_edge("city", "dept:city:fire"),
        "nodes[dept:city:fire]",
        "a district or the city",
    ),
    (
        "unknown dept type",
        _set_attr("dept:D01:water", "dept_type", "aliens"),
        "nodes[dept:D01:water].dept_type",
        "one of",
    ),
    (
        "negative population",
        _set_attr("community:D01-S01-C001", "population", -5),
        "nodes[community:D01-S01-C001].population",
        "non-negative integer",
    ),
    (
        "missing population",
        _drop_attr("street:D02-S02", "population"),
        "nodes[street:D02-S02].population",
        "non-negative integer",
    ),
    (
        "text population",
        _set_attr("district:D01", "population", "many"),
        "nodes[district:D01].population",
        "non-negative integer",
    ),
    (
        "adjacency to community",
        _add_edge("street:D01-S01", "community:D02-S01-C001", "adjacent"),
        "edges[street:D01-S01 -> community:D02-S01-C001]",
        "between two different streets",
    ),
    (
        "adjacency between districts",
        _add_edge("district:D01", "district:D02", "adjacent"),
        "edges[district:D01 -> district:D02]",
        "between two different streets",
    ),
    (
        "unknown relation",
        _add_edge("district:D01", "street:D02-S01", "owns"),
        "edges[district:D01 -> street:D02-S01].relation",
        "one of",
    ),
    (
        "population mismatch",
        _set_attr("street:D01-S02", "population", 1),
        "nodes[street:D01-S02].population",
        "sum of its communities",
    ),
    (
        "unknown unit kind",
        _set_attr("street:D01-S02", "unit_kind", "hamlet"),
        "nodes[street:D01-S02].unit_kind",
        "one of",
    ),
]


@pytest.mark.parametrize("suffix", [".json", ".graphml"])
@pytest.mark.parametrize(
    ("label", "mutate", "field", "expected"), BAD_GRAPHS, ids=[b[0] for b in BAD_GRAPHS]
)
def test_bad_graph_rejected(
    small_graph: nx.DiGraph,
    tmp_path: Path,
    suffix: str,
    label: str,
    mutate: Mutation,
    field: str,
    expected: str,
) -> None:
    mutate(small_graph)
    _expect_error(small_graph, tmp_path / f"bad{suffix}", field, expected)


def test_missing_department_unit(small_graph: nx.DiGraph, tmp_path: Path) -> None:
    small_graph.remove_node("dept:D01:water")
    _expect_error(small_graph, tmp_path / "bad.json", "nodes[district:D01]", "'water'")


def test_city_from_graph_needs_no_file(small_graph: nx.DiGraph) -> None:
    small_graph.remove_edge("district:D01", "street:D01-S01")
    with pytest.raises(InputError, match=r"<input>: nodes\[street:D01-S01\]"):
        city_from_graph(small_graph, "x")


# ------------------------------------------------------------------ duplicates in a file
def _doubled(tmp_path: Path, suffix: str, what: str) -> Path:
    from sim.city.io import write_graph

    path = tmp_path / f"net{suffix}"
    write_graph(synthetic_city(2, 2, 20_000).graph, path)
    if suffix == ".json":
        data = json.loads(path.read_text())
        data[what].append(dict(data[what][3]))
        path.write_text(json.dumps(data))
    else:
        text = path.read_text()
        tag = what[:-1]
        start = text.index(f"<{tag} ")
        end = text.index(f"</{tag}>", start) + len(tag) + 3
        path.write_text(text[:end] + text[start:end] + text[end:])
    return path


@pytest.mark.parametrize("suffix", [".json", ".graphml"])
@pytest.mark.parametrize(("what", "words"), [("nodes", "each node id once"),
                                             ("edges", "each edge (source, target) once")])
def test_duplicate_nodes_and_edges_are_refused(tmp_path: Path, suffix: str, what: str,
                                               words: str) -> None:
    path = _doubled(tmp_path, suffix, what)
    with pytest.raises(InputError) as info:
        load_city(path)
    assert f"{path}: {what}[" in str(info.value) and words in str(info.value)


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="valid UTF-8 JSON"):
        load_city(path)


# ------------------------------------------------------------------ docs/city.md
def test_the_examples_in_docs_city_md_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The builder and the hand-made file of docs/city.md work as printed."""
    import re

    doc = (Path(__file__).resolve().parents[1] / "docs" / "city.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.DOTALL)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    ns: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "docs/city.md", "exec"), ns)  # noqa: S102 - our own documentation
    city = ns["city"]
    assert isinstance(city, City) and city.n_streets == 11 and city.street_names[0] == "Quay"
    assert load_city(tmp_path / "hamlet.json").n_streets == 1
