"""The files govsim ships: the four regime presets, the calibrated history, example sweep specs
and the calibration spec.

Their home is the top-level `scenarios/` folder of the source tree; building the wheel copies
them into this package (`setup.py`), so an installed govsim reads them through
`importlib.resources` and has them as well as a checkout does.

    scenarios/hotline.yaml ...             # scenarios: `govsim run hotline` finds them by name
    scenarios/sweeps/example.yaml ...      # sweep specs: `govsim sweep example`
    scenarios/calibration/beijing.yaml     # the calibration spec (`govsim calibrate`'s default)

`govsim presets` lists them with their paths; `govsim presets --copy DIR` copies them all to a
folder of your own, to edit (references between them are relative and keep working there).
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
from functools import lru_cache
from importlib import resources
from pathlib import Path

#: The four regimes, from the baseline to the newest reform.
PRESETS = ("fragmented", "whistle", "hotline", "proactive")
#: Kinds of shipped file, with the folder (inside this package) that holds them.
KINDS = {"scenario": "", "sweep": "sweeps", "calibration": "calibration"}


#: The files' home in a source checkout (an editable install reads them there).
SOURCE_DIR = Path(__file__).resolve().parents[2] / "scenarios"


@lru_cache(maxsize=1)
def presets_dir() -> Path:
    """The folder of the shipped files, as a real path: this package's copy in an installed
    wheel (extracted once if the package is zipped), else the checkout's `scenarios/`."""
    root = resources.files(__name__)
    if not root.joinpath("hotline.yaml").is_file():
        return SOURCE_DIR
    if isinstance(root, Path):
        return root
    stack = contextlib.ExitStack()  # a zip import: a temporary copy for this process's lifetime
    atexit.register(stack.close)
    return Path(stack.enter_context(resources.as_file(root)))


def shipped(kind: str = "scenario") -> dict[str, Path]:
    """The shipped files of one kind (`scenario`, `sweep`, `calibration`), by name."""
    folder = presets_dir() / KINDS[kind]
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def shipped_file(name: str | Path, kind: str = "scenario") -> Path | None:
    """The shipped file a bare name (`hotline`, `example`) stands for, if there is one."""
    text = str(name)
    if Path(text).suffix or "/" in text or "\\" in text:
        return None
    return shipped(kind).get(text)


def copy_to(folder: str | Path) -> list[Path]:
    """Copy every shipped file into `folder` (its subfolders kept); existing files are kept.
    Returns the files written."""
    root, target = presets_dir(), Path(folder)
    written = []
    for kind in KINDS:
        for source in shipped(kind).values():
            dest = target / source.relative_to(root)
            if dest.exists():
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            written.append(dest)
    return written
