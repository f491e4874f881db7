"""Reading what users hand in: files of bounded size, YAML without its dangerous corners, and
values shown in messages at a bounded length.

Every scenario file, sweep spec, calibration spec and `--set` value goes through `load_yaml` or
`parse_yaml`, so each refuses the same things with the same one-line `InputError`:

- a file over `MAX_FILE_BYTES` (checked before it is read) or not UTF-8;
- a key given twice in one mapping (YAML would silently keep the last one);
- more than `MAX_ALIASES` aliases (`*name`), a document that would expand to more than
  `MAX_NODES` values through them (a "billion laughs" file of a few hundred bytes), an alias
  inside its own anchor (a recursive value);
- nesting deeper than `MAX_DEPTH` levels (PyYAML would hit Python's recursion limit).

PyYAML's own `SafeLoader` does the parsing; `GuardedLoader` only adds these checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from sim.errors import InputError, shorten

#: Largest scenario, sweep or calibration spec file read (1 MB; the presets are about 2 kB).
MAX_FILE_BYTES = 1_000_000
#: Aliases (`*name`) one YAML document may use.
MAX_ALIASES = 100
#: Values (scalars, lists, mappings) a document may hold once its aliases are expanded.
MAX_NODES = 200_000
#: Levels of nested lists and mappings, aliases expanded.
MAX_DEPTH = 40

_MERGE_TAG = "tag:yaml.org,2002:merge"


class YAMLRefused(yaml.YAMLError):
    """Well-formed YAML that govsim will not read (too many aliases, too deep, a duplicate key)."""

    def __init__(self, problem: str, mark: yaml.Mark | None):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class GuardedLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, refusing duplicate keys, alias bombs and deep nesting."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YAMLRefused(f"at most {MAX_ALIASES} aliases (*name) in one file",
                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YAMLRefused(f"at most {MAX_DEPTH} levels of nesting",
                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:  # `<<: *base` then overriding keys is fine
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    line = first.get(key)
                except TypeError:  # unhashable: SafeLoader says so itself below
                    continue
                if line is not None:
                    raise YAMLRefused(f"each key once in a mapping ({shorten(key)} is also on "
                                      f"line {line})", key_node.start_mark)
                first[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _check_expansion(root: Node) -> None:
    """The document's size and depth with every alias expanded, refused beyond the limits
    (memoised per node, so a bomb is measured without being expanded)."""
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) below and at it
    open_: set[int] = set()

    def walk(node: Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in open_:
            raise YAMLRefused("no alias inside its own anchor (a recursive value)",
                              node.start_mark)
        if key not in measured:
            if depth > MAX_DEPTH:
                raise YAMLRefused(f"at most {MAX_DEPTH} levels of nesting (aliases "
                                  f"expanded)", node.start_mark)
            size, height = 1, 1
            if isinstance(node, SequenceNode | MappingNode):
                open_.add(key)
                children = node.value if isinstance(node, SequenceNode) else \
                    [n for pair in node.value for n in pair]
                for child in children:
                    s, h = walk(child, depth + 1)
                    size += s
                    height = max(height, h + 1)
                    if size > MAX_NODES:
                        break
                open_.discard(key)
            measured[key] = (size, height)
        size, height = measured[key]
        if depth + height - 1 > MAX_DEPTH:
            raise YAMLRefused(f"at most {MAX_DEPTH} levels of nesting (aliases expanded)",
                              node.start_mark)
        if size > MAX_NODES:
            raise YAMLRefused(f"at most {MAX_NODES:,} values with aliases expanded",
                              node.start_mark)
        return size, height

    walk(root, 1)


def parse_yaml(text: str, file: str | None, field: str | None = None) -> Any:
    """The YAML document in `text`; any problem is an InputError naming `file` (and the line)."""
    try:
        return yaml.load(text, Loader=GuardedLoader)  # GuardedLoader is a SafeLoader
    except YAMLRefused as err:
        raise InputError(file, _where(err, field), f"YAML with {err.problem}") from None
    except (yaml.YAMLError, ValueError, RecursionError) as err:
        # ValueError: e.g. an integer of more than 4300 digits (Python's own limit)
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(file, _where(err, field), "valid YAML", first) from None


def _where(err: Exception, field: str | None) -> str | None:
    mark = getattr(err, "problem_mark", None)
    line = f"line {mark.line + 1}" if mark is not None else None
    if field and line:
        return f"{field} ({line})"
    return field or line


def read_text(path: Path, what: str, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a user's file, refused before reading when it is over `limit` bytes."""
    file = str(path)
    if not path.is_file():
        raise InputError(file, None, f"an existing {what}")
    try:
        size = path.stat().st_size
        if size <= limit:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)  # a file growing while it is read
            size = max(size, len(data))
    except OSError as err:
        raise InputError(file, None, f"a readable {what}", err.strerror or str(err)) from None
    if size > limit:
        raise InputError(file, None, f"a {what} of at most {limit:,} bytes",
                         f"{size:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(file, f"byte {err.start}", f"a {what} in UTF-8 text",
                         data[err.start:err.start + 4]) from None


def load_yaml(path: Path, what: str) -> Any:
    """Read and parse a user's YAML file (see the module docstring for what is refused)."""
    return parse_yaml(read_text(path, what), str(path))


def check_depth(data: Any, file: str | None, limit: int = MAX_DEPTH,
                field: str | None = None) -> None:
    """Refuse parsed data (JSON) nested deeper than `limit` lists and mappings, walked without
    recursion (code that later walks it recursively would hit Python's limit)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                raise InputError(file, field, f"at most {limit} levels of nested lists and "
                                 "objects")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, dict | list))
