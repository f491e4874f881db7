"""The one error type users see: bad input, reported as file, field path and what was expected."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a user: a scenario, a network file, an option.

    The CLI prints `str(err)` and exits with status 2, without a traceback and before any result
    folder is created; Python users catch it like any exception.
    """

    def __init__(self, file: str | None, field: str | None, expected: str, got: object = None):
        self.file = file
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = self.file or "<input>"
        if self.field:
            where += f": {self.field}"
        text = f"{where}: expected {self.expected}"
        if self.got is not None:
            text += f", got {self.got!r}"
        return text
