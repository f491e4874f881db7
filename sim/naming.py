"""Names of runs and of the folders they are saved in (`govsim compare`, `sim.compare`)."""

from __future__ import annotations

import re


def slug(text: str) -> str:
    """`text` as a folder name: runs of other characters become `-`."""
    name = re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-.")
    return name or "scenario"


def unique_names(names: list[str]) -> list[str]:
    """`names` made unique: a repeated one gets -2, -3, ..."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out
