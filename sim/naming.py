"""Names of runs and of the folders they are saved in (`govsim compare`, `sim.compare`), and
what makes a name safe to print on a terminal and to use in a file name.

A name a user gives (a scenario's `name`, a sweep's `name` and labels) is refused when it holds
a character that a terminal or a table would not show as itself: control characters, format
characters (bidirectional overrides, which reverse the text after them, and zero-width ones),
private-use or unassigned code points; or letters that pass for other letters (a Latin word
with a Cyrillic `о` in it, a fullwidth `Ａ`). Words in different scripts are fine (`β high`,
`北京 hotline`). Folder names made from names (`slug`) keep only
letters, digits, `.`, `_` and `-`, and are cut to `MAX_SLUG_BYTES` bytes (file systems count
bytes: 255 for a name on most of them, and a Chinese character takes three).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

#: Bytes (UTF-8) a name may take: a folder's name is at most 255 bytes on most file systems,
#: and a staging folder adds about 40 to the name it is made for.
MAX_NAME_BYTES = 200
#: Bytes of a folder name made from a name (`slug`); longer ones are cut and given a hash.
MAX_SLUG_BYTES = 100
#: Unicode categories never shown as themselves: control, format (bidirectional and
#: zero-width characters among them), surrogates, private use, unassigned, line and
#: paragraph separators.
HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: Scripts whose letters look alike: a name may use one of them, not two.
_ALIKE = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC")


def unsafe(name: str) -> str | None:
    """Why `name` is not safe to print or to name a file with, or None if it is."""
    for c in name:
        if unicodedata.category(c) in HIDDEN:
            return (f"no control, format or bidirectional characters (U+{ord(c):04X} "
                    f"{unicodedata.name(c, 'unnamed')})")
        if unicodedata.category(c)[0] in "LN" and not c.isascii():
            plain = unicodedata.normalize("NFKC", c)
            if plain.isascii() and plain.isalnum():
                return f"plain letters and digits ({c!r} stands for {plain!r})"
    for word in re.findall(r"[^\W\d_]+", name):
        scripts = sorted({script for c in word if (script := _script(c)) in _ALIKE})
        if len(scripts) > 1:
            return (f"words in one script ({word!r} mixes {' and '.join(scripts)} letters, "
                    "which look alike)")
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        return f"a name of at most {MAX_NAME_BYTES} bytes in UTF-8 ({size})"
    return None


def _script(c: str) -> str:
    if not unicodedata.category(c).startswith("L"):
        return ""
    return unicodedata.name(c, "").split(" ")[0]


def slug(text: str) -> str:
    """`text` as a folder name: runs of other characters than letters, digits, `.`, `_` and
    `-` become `-`; a name longer than `MAX_SLUG_BYTES` bytes is cut at a character and given a
    short hash of the whole, so names that differ stay apart."""
    plain = "".join(c for c in unicodedata.normalize("NFKC", text)
                    if unicodedata.category(c) not in HIDDEN or c in "\t\n")
    name = re.sub(r"[^\w.-]+", "-", plain, flags=re.UNICODE).strip("-.")
    if len(name.encode("utf-8")) > MAX_SLUG_BYTES:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        cut = name.encode("utf-8")[:MAX_SLUG_BYTES - 9].decode("utf-8", "ignore")
        name = f"{cut.rstrip('-.')}-{digest}"
    return name or "scenario"


def unique_names(names: list[str]) -> list[str]:
    """`names` made unique: a repeated one gets -2, -3, ..."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out
