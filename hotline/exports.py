"""The one writer of spreadsheets we hand out (CSV for Excel): refused import rows, the
dashboard's ranking, routing corrections, rulesets.

A cell that starts with = + - @ or a tab/carriage return is a formula to Excel and to
LibreOffice (CSV injection: "=HYPERLINK(…)" in a resident's complaint would run on the
operator's machine). Such cells go out behind an apostrophe, which Excel shows as text and
our own readers take off again (:func:`read_cell`). Plain numbers ("-2.5", "+86…") are left as
they are: they are values, not formulas.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
BOM = "\ufeff"  # Excel opens UTF-8 CSV correctly only with it


def safe_cell(value: object) -> object:
    """``value`` as a cell that cannot run as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    if PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def read_cell(text: str) -> str:
    """A cell as written before :func:`safe_cell` protected it (for files we gave out and
    get back, fixed, to import again)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def csv_text(rows: Iterable[Sequence[object]], *, bom: bool = True) -> str:
    """``rows`` as CSV text (see :func:`write_csv`)."""
    out = io.StringIO()
    write_csv(out, rows, bom=bom)
    return out.getvalue()


def write_csv(out: TextIO, rows: Iterable[Sequence[object]], *, bom: bool = True) -> int:
    """Write ``rows`` (the header first) to ``out``; returns the number of data rows."""
    if bom:
        out.write(BOM)
    writer = csv.writer(out)
    count = -1
    for count, row in enumerate(rows):  # noqa: B007 - the last index is the count
        writer.writerow([safe_cell(cell) for cell in row])
    return max(count, 0)
