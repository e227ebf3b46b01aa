"""Errors that say where bad input is: file, sheet, row and column."""
from __future__ import annotations


class CchcError(Exception):
    """Base class of this package's errors."""


class SourceError(CchcError):
    """A raw file does not have the shape or values its reader expects.

    The message names the file, and where known the sheet, the row (1-based, as a
    spreadsheet shows it) and the column, and says what was expected.
    """

    def __init__(self, file, message: str, *, sheet: str | None = None,
                 row: int | None = None, column: str | None = None):
        self.file = str(file)
        self.sheet = sheet
        self.row = row
        self.column = column
        self.reason = message
        where = [f"file {self.file}"]
        if sheet is not None:
            where.append(f"sheet {sheet!r}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(", ".join(where) + f": {message}")


class UnknownProvinceError(CchcError, KeyError):
    """A province name that the crosswalk does not know (never guessed)."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = ", ".join(suggestions) if suggestions else "none"
        super().__init__(f"unknown province name {name!r}; closest known names: {hint}. "
                         "Add the spelling to data/reference/province_aliases.csv if it is one.")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ParseError(CchcError, ValueError):
    """A value written in a source cannot be read as a number without guessing."""


class ValidationError(CchcError):
    """One or more processed tables fail their schema; lists every failure."""
