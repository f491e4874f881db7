"""Saving and loading a city's jurisdiction graph (.json node-link or .graphml).

A loaded file goes through the same `city_from_graph` as a freshly built city, so a round trip
gives identical index arrays. Any bad content becomes an `InputError` naming the file and the
field, never a raw traceback.
"""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx
import numpy as np

from sim.city.build import city_from_graph
from sim.city.city import City
from sim.errors import InputError
from sim.inputs import check_depth, read_text

SUFFIXES = (".json", ".graphml")

# networkx >= 3.4 takes `edges=`; older versions only know `link=` (and warn about its default).
_EDGES_KW = "edges" if "edges" in inspect.signature(nx.node_link_data).parameters else "link"


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            str(path),
            "suffix",
            "a network file ending in .json or .graphml",
            path.suffix or path.name,
        )
    return suffix


def save_city(city: City, path: str | Path) -> None:
    """Write the city's graph; the format follows the suffix (.json or .graphml)."""
    write_graph(city.graph, path)


def write_graph(graph: nx.DiGraph, path: str | Path) -> None:
    """Write a jurisdiction graph (also handy for writing hand-edited graphs in tests)."""
    path = Path(path)
    if _suffix(path) == ".json":
        data = nx.node_link_data(graph, **{_EDGES_KW: "edges"})
        with path.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
        return
    # GraphML cannot hold tuples: `pos` becomes two float attributes x, y, and a district's
    # `outline` (rings of [x, y] points) a JSON string.
    g = graph.copy()
    for _, data in g.nodes(data=True):
        pos = data.pop("pos", None)
        if pos is not None:
            data["x"], data["y"] = float(pos[0]), float(pos[1])
        if "outline" in data:
            data["outline"] = json.dumps(data["outline"], separators=(",", ":"))
    nx.write_graphml(g, path)


#: Largest network file read (Beijing's whole network is 2.2 MB as JSON, 4.2 MB as GraphML).
MAX_NETWORK_BYTES = 50_000_000
#: Values (numbers, strings, lists, objects) of a JSON network, counted before it is parsed:
#: the memory a file needs to be checked follows them, not its bytes (Beijing: 144,000).
MAX_NETWORK_VALUES = 1_000_000
#: XML elements of a GraphML network, counted while streaming (Beijing: about 100,000).
MAX_GRAPHML_ELEMENTS = 600_000
#: Points of one outline ring (Beijing's longest has 488), and the largest coordinate (km).
MAX_RING_POINTS = 10_000
MAX_COORDINATE = 100_000.0


def _no_duplicates(file: str, nodes: list[object], edges: list[tuple[object, object]]) -> None:
    """A node id or an edge given twice is an error (networkx would silently merge them)."""
    seen: set[object] = set()
    for i, node in enumerate(nodes):
        if node in seen:
            raise InputError(file, f"nodes[{i}]", "each node id once", node)
        seen.add(node)
    pairs: set[tuple[object, object]] = set()
    for i, edge in enumerate(edges):
        if edge in pairs:
            raise InputError(file, f"edges[{i}]", "each edge (source, target) once",
                             f"{edge[0]} -> {edge[1]}")
        pairs.add(edge)


def _hashable(value: object) -> object:
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def parse_json(text: str, file: str, field: str, what: str) -> object:
    """JSON text parsed, when its values are few enough to fit in memory and it is nested
    no deeper than the inputs' limit (counted before parsing, walked after)."""
    values = text.count(",") + text.count("[") + text.count("{") + 1
    if values > MAX_NETWORK_VALUES:
        raise InputError(file, field, f"{what} of at most {MAX_NETWORK_VALUES:,} values",
                         f"about {values:,}")
    try:
        data = json.loads(text)
    except (RecursionError, ValueError) as err:  # JSONDecodeError is a ValueError
        raise InputError(file, field, what, str(err) or "nested too deeply") from None
    check_depth(data, file, field=field)
    return data


def _read_json(path: Path) -> nx.DiGraph:
    file = str(path)
    text = read_text(path, "network file (.json)", MAX_NETWORK_BYTES)
    data = parse_json(text, file, "content", "valid UTF-8 JSON (networkx node-link format)")
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise InputError(
            file,
            "nodes",
            "a JSON object with a 'nodes' list (networkx node-link format)",
            type(data).__name__ if not isinstance(data, dict) else None,
        )
    key = "edges" if "edges" in data or "links" not in data else "links"
    if not isinstance(data.get(key, []), list):
        raise InputError(file, key, "a list of edges", type(data.get(key)).__name__)
    data.setdefault(key, [])
    _no_duplicates(file, [_hashable(n.get("id")) if isinstance(n, dict) else None
                          for n in data["nodes"]],
                   [(_hashable(e.get("source")), _hashable(e.get("target")))
                    for e in data[key] if isinstance(e, dict)])
    try:
        graph = nx.node_link_graph(data, directed=True, multigraph=False, **{_EDGES_KW: key})
    except Exception as err:  # noqa: BLE001 - any parser failure is a bad file, not a bug
        raise InputError(
            file,
            "content",
            "networkx node-link JSON: nodes with 'id', edges with 'source' and 'target'",
            f"{type(err).__name__}: {err}",
        ) from None
    for node, attrs in graph.nodes(data=True):
        if "pos" in attrs:
            attrs["pos"] = _pos(attrs["pos"], file, node)
        if "outline" in attrs:
            attrs["outline"] = _outline(attrs["outline"], file, node)
    return graph


def _pos(value: object, file: str, node: object) -> tuple[float, float]:
    ok = (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) and _coordinate(v)
            for v in value
        )
    )
    if not ok:
        raise InputError(file, f"nodes[{node}].pos", "a pair of finite numbers [x, y] within "
                         f"{MAX_COORDINATE:,.0f} km of 0", value)
    return (float(value[0]), float(value[1]))  # type: ignore[index]


def _coordinate(v: float) -> bool:
    try:
        return math.isfinite(v) and abs(v) <= MAX_COORDINATE
    except OverflowError:  # an integer beyond any float
        return False


def _outline(value: object, file: str, node: object) -> list[list[list[float]]]:
    """A district's outline: a list of rings, each a list of >= 3 [x, y] points (km)."""
    field = f"nodes[{node}].outline"
    if isinstance(value, str):  # GraphML: the rings as a JSON string
        value = parse_json(value, file, field, "rings as JSON")
    expected = "a list of rings, each a list of at least 3 [x, y] points"
    if not isinstance(value, list) or not value:
        raise InputError(file, field, expected, type(value).__name__)
    out = []
    for i, ring in enumerate(value):
        if not isinstance(ring, list) or len(ring) < 3:
            raise InputError(file, field, expected, ring)
        if len(ring) > MAX_RING_POINTS:
            raise InputError(file, f"{field}[{i}]", f"a ring of at most {MAX_RING_POINTS:,} "
                             "points", len(ring))
        points = [list(_pos(p, file, node)) for p in ring]
        twist = ring_twist(np.array(points, float))
        if twist > MAX_TWIST:
            raise InputError(file, f"{field}[{i}]", "a ring that does not cross itself (the "
                             "area inside it and the area its points go round agree)",
                             f"{100 * twist:.0f} % apart")
        out.append(points)
    return out


def _graphml_ids(path: Path) -> tuple[list[object], list[tuple[object, object]]]:
    """Node ids and edges as the file lists them (before networkx merges duplicates), read
    as a stream; a file of more than `MAX_GRAPHML_ELEMENTS` elements is refused here, before
    networkx builds the whole document in memory."""
    nodes: list[object] = []
    edges: list[tuple[object, object]] = []
    for count, (_, element) in enumerate(ElementTree.iterparse(path), 1):
        if count > MAX_GRAPHML_ELEMENTS:
            raise InputError(str(path), "content", f"a GraphML network of at most "
                             f"{MAX_GRAPHML_ELEMENTS:,} elements", "more")
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "node":
            nodes.append(element.get("id"))
        elif tag == "edge":
            edges.append((element.get("source"), element.get("target")))
        element.clear()
    return nodes, edges


def _read_graphml(path: Path) -> nx.DiGraph:
    file = str(path)
    size = path.stat().st_size
    if size > MAX_NETWORK_BYTES:
        raise InputError(file, None, f"a network file of at most {MAX_NETWORK_BYTES:,} bytes",
                         f"{size:,} bytes")
    try:
        listed = _graphml_ids(path)
    except (ElementTree.ParseError, OSError, ValueError) as err:  # not XML: a bad file
        raise InputError(
            file, "content", "a valid GraphML file", f"{type(err).__name__}: {err}"
        ) from None
    _no_duplicates(file, *listed)
    try:
        graph = nx.read_graphml(path)
    except Exception as err:  # noqa: BLE001 - XML/GraphML parser errors are bad files
        raise InputError(
            file, "content", "a valid GraphML file", f"{type(err).__name__}: {err}"
        ) from None
    for node, attrs in graph.nodes(data=True):
        has = ("x" in attrs, "y" in attrs)
        if has == (False, False):
            continue
        if has != (True, True):
            raise InputError(file, f"nodes[{node}]", "both x and y (or neither)", sorted(attrs))
        attrs["pos"] = _pos([attrs.pop("x"), attrs.pop("y")], file, node)
    for node, attrs in graph.nodes(data=True):
        if "outline" in attrs:
            attrs["outline"] = _outline(attrs["outline"], file, node)
    return graph


def load_city(path: str | Path) -> City:
    """Read a city from a .json (node-link) or .graphml file and validate it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "path", "an existing network file", str(path))
    suffix = _suffix(path)
    try:
        graph = _read_json(path) if suffix == ".json" else _read_graphml(path)
    except OSError as err:
        raise InputError(str(path), "path", "a readable network file", str(err)) from None
    for key in ("node_default", "edge_default"):  # GraphML reader bookkeeping, not city data
        if graph.graph.get(key) == {}:
            del graph.graph[key]
    name = graph.graph.get("name")
    if not isinstance(name, str) or not name:
        name = path.stem
    return city_from_graph(graph, name, file=str(path))


#: Share of a ring's area by which the area inside it (even-odd, as `inside_outline` counts)
#: may differ from the area its points go round (shoelace, as `outline_area` counts): where a
#: ring crosses itself they part (a bow tie's halves cancel, a star's middle counts twice).
#: Outlines simplified from maps have small twists: Beijing's differ by well under 0.1 %.
MAX_TWIST = 0.01
#: Horizontal lines the area inside a ring is measured along.
SCANLINES = 1024


def ring_twist(ring: np.ndarray) -> float:
    """How far the area inside a ring (points in order, closed back to the first) and the area
    its points go round differ, as a share of the larger: 0 for a simple polygon (up to the
    measure's own error, about 0.01 %), large where it crosses itself."""
    keep = np.any(ring != np.roll(ring, 1, axis=0), axis=1)  # a repeated point: one
    a = ring[keep] if keep.any() else ring[:1]
    b = np.roll(a, -1, axis=0)
    around = abs(float(np.sum(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]))) / 2
    low, high = float(a[:, 1].min()), float(a[:, 1].max())
    if len(a) < 3 or high <= low:
        return 0.0
    step = (high - low) / SCANLINES
    inside = 0.0
    for first in range(0, SCANLINES, 64):
        y = low + (np.arange(first, min(SCANLINES, first + 64)) + 0.5)[:, None] * step
        crosses = (a[None, :, 1] <= y) != (b[None, :, 1] <= y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = a[None, :, 0] + (y - a[None, :, 1]) * (b[None, :, 0] - a[None, :, 0]) \
                / (b[None, :, 1] - a[None, :, 1])
        x = np.sort(np.where(crosses, x, np.inf), axis=1)
        pairs = crosses.sum(axis=1).max() // 2
        if pairs:
            with np.errstate(invalid="ignore"):  # inf - inf past a line's last crossing
                spans = x[:, 1:2 * pairs:2] - x[:, 0:2 * pairs:2]
            inside += float(np.sum(np.where(np.isfinite(spans), spans, 0.0))) * step
    larger = max(inside, around)
    return abs(inside - around) / larger if larger > 0 else 0.0
