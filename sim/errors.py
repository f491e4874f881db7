"""The one error type users see: bad input, reported as file, field path and what was expected."""

from __future__ import annotations

import reprlib

_SHORT = reprlib.Repr(maxlevel=3, maxdict=6, maxlist=6, maxtuple=6, maxset=6, maxstring=60,
                      maxlong=40, maxother=60)
#: Longest rendering of a value in a message.
MAX_SHOWN = 120


def shorten(value: object) -> str:
    """`repr(value)` cut to a readable length, without building the whole of a huge value
    (a list of a million items, a string of a megabyte, an integer of 4,000 digits)."""
    text = _SHORT.repr(value)
    if len(text) > MAX_SHOWN:
        text = text[:MAX_SHOWN - 3] + "..."
    return text


class InputError(Exception):
    """Bad input from a user: a scenario, a network file, an option.

    The CLI prints `str(err)` and exits with status 2, without a traceback and before any result
    folder is created; Python users catch it like any exception. The value shown (`got`) is cut
    to `MAX_SHOWN` characters, so a message is always one short line.
    """

    def __init__(self, file: str | None, field: str | None, expected: str, got: object = None):
        self.file = file
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(self.message)

    def __reduce__(self):
        # picklable, so that an error raised in a worker process reaches the parent intact
        return (type(self), (self.file, self.field, self.expected, self.got))

    @property
    def message(self) -> str:
        where = _one_line(self.file or "<input>")
        if self.field:
            where += f": {_one_line(self.field)}"
        text = f"{where}: expected {_one_line(self.expected)}"
        if self.got is not None:
            text += f", got {_one_line(shorten(self.got))}"
        return text


def _one_line(text: str) -> str:
    """One line of text shown as it is: line breaks, terminal escapes, bidirectional and other
    invisible characters (a file name or a key may hold them) are written as escapes."""
    return visible(str(text))


def visible(text: str) -> str:
    """`text` with every character a terminal would not show as itself escaped (`\\n`,
    `\\x1b`, `\\u202e`), so that what is printed is what was given."""
    import unicodedata

    from sim.naming import HIDDEN

    if text.isprintable() and text.isascii():
        return text
    out = []
    for c in text:
        if c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif unicodedata.category(c) in HIDDEN:
            code = ord(c)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(c)
    return "".join(out)


def among(names: list[str] | tuple[str, ...], given: object = None, shown: int = 8) -> str:
    """A list of valid names for a message, cut to `shown` of them: those closest to what was
    `given` first (`among 46 names, e.g. 'resolution_rate', ...`)."""
    import difflib

    names = list(names)
    if len(names) <= shown:
        return f"among {names}"
    wanted = given[0] if isinstance(given, list | tuple) and given else given
    close = difflib.get_close_matches(str(wanted), names, n=shown, cutoff=0.3) \
        if wanted is not None else []
    picked = close + [n for n in names if n not in close][:shown - len(close)]
    return f"among {len(names)} names, e.g. {', '.join(map(repr, picked))}"
