"""The one CJK font govsim ships: Noto Sans CJK SC, Regular and Bold, cut down to the characters
it can print (OFL 1.1, see `OFL.txt` and `SOURCES.md` here; rebuilt by `bin/build-cjk-font`).

Chinese charts and the brief need no system font and no font package: about 7 MB for both
weights, where the whole font family came to 103 MB.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: The font files, by weight.
FONT_FILES = {"regular": "NotoSansCJKsc-Regular.subset.otf",
              "bold": "NotoSansCJKsc-Bold.subset.otf"}
FONT_DIR = Path(str(resources.files(__name__)))

#: Besides the project's own text: GB 2312 (its 6,763 hanzi are every common simplified
#: character) and these blocks of punctuation and symbols.
_BLOCKS = ((0x20, 0x7F), (0xA0, 0x180), (0x2000, 0x2070), (0x2100, 0x2300), (0x2460, 0x2500),
           (0x25A0, 0x2600), (0x3000, 0x3040), (0xFF00, 0xFFF0))
_TEXT_SUFFIXES = (".py", ".csv", ".md", ".yaml", ".json")


def font_path(weight: str = "regular") -> Path:
    return FONT_DIR / FONT_FILES[weight]


def project_text_chars(package: Path | None = None) -> set[int]:
    """Every character of the package's own text files (labels, names, data)."""
    package = package or Path(__file__).resolve().parents[1]
    chars: set[int] = set()
    for path in package.rglob("*"):
        if path.is_file() and path.suffix in _TEXT_SUFFIXES and "__pycache__" not in path.parts:
            chars |= {ord(c) for c in path.read_text(encoding="utf-8", errors="ignore")}
    return {c for c in chars if c >= 0x20}


def font_charset(root: Path) -> set[int]:
    """The characters the shipped font keeps (`root`: the source tree)."""
    chars = {c for lo, hi in _BLOCKS for c in range(lo, hi)}
    for cp in range(0x3400, 0xA000):
        try:
            chr(cp).encode("gb2312")
        except UnicodeEncodeError:
            continue
        chars.add(cp)
    return chars | project_text_chars(root / "sim")
