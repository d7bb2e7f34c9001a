"""The one writer of spreadsheets we hand out (CSV for Excel, XLSX for the search export):
refused import rows, the dashboard's ranking, routing corrections, rulesets, search results.

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
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO, TextIO

import xlsxwriter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
BOM = "\ufeff"  # Excel opens UTF-8 CSV correctly only with it


def safe_cell(value: object) -> object:
    """``value`` as a cell that cannot run as a formula."""
    if not isinstance(value, str):
        return value
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_START):
        return "'" + value  # it looks protected already: read_cell must give it back whole
    if not value.startswith(FORMULA_START) or PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def read_cell(text: str) -> str:
    """A cell as written before :func:`safe_cell` protected it (for files we gave out and
    get back, fixed, to import again)."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START):
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


def csv_chunks(rows: Iterable[Sequence[object]], *, bom: bool = True,
               rows_per_chunk: int = 500) -> Iterator[str]:  # fmt: skip
    """``rows`` (the header first) as CSV text, a few hundred rows at a time: the body of a
    streamed response, however many rows there are."""
    out = io.StringIO()
    if bom:
        out.write(BOM)
    writer = csv.writer(out)
    for count, row in enumerate(rows, 1):
        writer.writerow([safe_cell(cell) for cell in row])
        if count % rows_per_chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def write_xlsx(out: BinaryIO, rows: Iterable[Sequence[object]], *, sheet: str,
               widths: Sequence[int] = ()) -> int:  # fmt: skip
    """``rows`` (the header first, in bold, frozen, with a filter) as one worksheet written
    to ``out``; returns the number of data rows.

    XlsxWriter in constant-memory mode: each row goes to a temporary file as it is written
    and strings are stored inline, so memory stays flat however many rows there are. Every
    cell is written with ``write_string`` after :func:`safe_cell`: nothing can be a formula,
    nor be taken for a number or a date (ticket numbers, phones keep their digits).
    """
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
    worksheet = workbook.add_worksheet(sheet)
    bold = workbook.add_format({"bold": True})
    for column, width in enumerate(widths):
        worksheet.set_column(column, column, width)
    worksheet.freeze_panes(1, 0)
    last_row, last_column = -1, 0
    for last_row, row in enumerate(rows):
        for column, cell in enumerate(row):
            if cell is None or cell == "":
                continue  # an empty cell is no cell: a third of an export's, and its time
            worksheet.write_string(last_row, column, str(safe_cell(cell)),
                                   bold if last_row == 0 else None)  # fmt: skip
        last_column = max(last_column, len(row) - 1)
    if last_row >= 0:
        worksheet.autofilter(0, 0, last_row, last_column)
    workbook.close()
    return max(last_row, 0)
