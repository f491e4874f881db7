"""Which code computed a result: a hash of the source a run imports, so that records made by
different code are never mixed (a resumed sweep, a cluster's workers, a resumed fit)."""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

#: The modules a run starts from; `code_version` follows their imports within the package.
RUN_MODULES = ("sim.api", "sim.results", "sim.model", "sim.scenario.loader")


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def _module_file(root: Path, name: str) -> Path | None:
    parts = name.split(".")[1:]
    base = root.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def run_code_files(root: Path | None = None, extra: tuple[str, ...] = ()) -> list[Path]:
    """The package's source files a run can execute: the import closure of `RUN_MODULES` and
    `extra` (found by reading `import` statements, so it is the same in every process)."""
    root = root or Path(__file__).resolve().parent
    package = root.name
    seen: dict[str, Path] = {}
    stack = [*RUN_MODULES, *extra]
    while stack:
        name = stack.pop()
        if name in seen or not (name == package or name.startswith(package + ".")):
            continue
        path = _module_file(root, name)
        if path is None:  # `from sim.x import name` where name is not a module
            continue
        seen[name] = path
        parts = name.split(".")
        stack.extend(".".join(parts[:k]) for k in range(1, len(parts)))  # parent packages
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                stack.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative import
                    anchor = parts if is_package else parts[:-1]
                    anchor = anchor[:len(anchor) - node.level + 1]
                    module = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                stack.append(module)
                stack.extend(f"{module}.{alias.name}" for alias in node.names)
    return sorted(seen.values())


@lru_cache(maxsize=1)
def code_version(extra: tuple[str, ...] = ()) -> str:
    """A hash of the code and data that compute a run (and of numpy, Mesa and SimPy versions),
    plus the modules named in `extra` and what they import (a feature's own computation).

    Records from different code must never be mixed: a resumed sweep or fit, and every worker
    of a cluster, must compute with the same code as the first attempt. Only what a run
    imports counts, so editing the CLI or another feature does not block a resume.
    """
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    code = run_code_files(root, extra)
    text = b"".join(path.read_bytes() for path in code)
    data = sorted(p for p in (root / "data").rglob("*")  # data files the code names
                  if p.is_file() and p.name.encode() in text)
    for path in [*code, *data]:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes()
                      + b"\0")
    for name in ("numpy", "numba", "llvmlite", "mesa", "pandas"):
        digest.update(f"{name}={_package_version(name)}\n".encode())
    return digest.hexdigest()[:16]
