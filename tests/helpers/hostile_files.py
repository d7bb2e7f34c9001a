"""Hostile spreadsheets, built when a test runs (never checked in): a zip bomb, XML entity
attacks, malformed sheet XML, rows beyond Excel's limits.

Each starts from a small real workbook written by openpyxl, with one part swapped for a
hand-written one, so that everything but the attack is what a real file holds.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from openpyxl import Workbook

MB = 1 << 20
SHEET = "xl/worksheets/sheet1.xml"
HEADER = ["工单编号", "诉求内容"]
_OPEN = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
_CLOSE = "</sheetData></worksheet>"


def workbook_parts() -> dict[str, bytes]:
    """The parts of a real one-sheet workbook (header and one row), by name."""
    book = Workbook()
    book.active.append(HEADER)
    book.active.append(["GD1", "路灯不亮"])
    out = io.BytesIO()
    book.save(out)
    with zipfile.ZipFile(out) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_workbook(path: Path, replaced: dict[str, bytes] | None = None,
                   compression: int = zipfile.ZIP_DEFLATED) -> Path:  # fmt: skip
    """A real workbook with some parts replaced (or added)."""
    parts = {**workbook_parts(), **(replaced or {})}
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return path


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def row(number: int, *texts: str) -> str:
    cells = "".join(cell(f"{'AB'[i]}{number}", text) for i, text in enumerate(texts))
    return f'<row r="{number}">{cells}</row>'


def sheet(*rows: str, prolog: str = "", dimension: str = "", close: str = _CLOSE) -> bytes:
    """Sheet XML with the usual header row, then ``rows`` (XML text, see :func:`row`)."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    body = "".join([prolog, _OPEN, dim, "<sheetData>", row(1, *HEADER), *rows, close])
    return body.encode()


def zip_bomb(path: Path, expanded: int = 300 * MB) -> Path:
    """About 880 KB that expands to ``expanded`` bytes of sheet XML: the same long row over
    and over (deflate shrinks that ~360×), written in chunks so the test stays small."""
    parts = workbook_parts()
    cells = "".join(f'<c t="inlineStr"><is><t>{text}</t></is></c>' for text in ("GD", "占" * 300))
    chunk = f"<row>{cells}</row>".encode() * 1000  # rows without numbers: all alike
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            if name != SHEET:
                archive.writestr(name, content)
        with archive.open(SHEET, "w") as member:
            head = sheet(close="")
            member.write(head)
            written = len(head)
            while written < expanded:
                member.write(chunk)
                written += len(chunk)
            member.write(_CLOSE.encode())
    return path


def giant_row(path: Path, cells: int, *, dimension: bool = True) -> Path:
    """A sheet whose second row is ``cells`` empty cells, with a random number every 900 so
    it compresses about 90× (under the ratio cap): 20 million cells fit in 1 MB."""
    rng = random.Random(7)
    parts = workbook_parts()
    head = sheet(dimension="A1:B2" if dimension else "", close="").decode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            if name != SHEET:
                archive.writestr(name, content)
        with archive.open(SHEET, "w") as member:
            member.write(f'{head}<row r="2">'.encode())
            for _ in range(cells // 900):
                member.write(b"<c/>" * 900 + f"<c><v>{rng.getrandbits(200)}</v></c>".encode())
            member.write(f"</row>{_CLOSE}".encode())
    return path


def billion_laughs() -> bytes:
    """A sheet whose one cell expands to 10⁹ "lol"s (3 GB) if entities are expanded."""
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    prolog = f'<?xml version="1.0"?><!DOCTYPE worksheet [{"".join(levels)}]>'
    return sheet(row(2, "GD1", "&lol9;"), prolog=prolog)


def external_entity(target: Path) -> bytes:
    """A sheet whose cell is the content of a local file, if external entities resolve."""
    prolog = f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM "{target.as_uri()}">]>'
    return sheet(row(2, "GD1", "&x;"), prolog=prolog)


def patch_directory(path: Path, *, flags: int = 0, method: int | None = None) -> Path:
    """Set flag bits (0x1: encrypted) or the compression method in every entry of the zip
    directory, which zipfile will not write as asked."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at != -1:
        flag = int.from_bytes(data[at + 8 : at + 10], "little") | flags
        data[at + 8 : at + 10] = flag.to_bytes(2, "little")
        if method is not None:
            data[at + 10 : at + 12] = method.to_bytes(2, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path
