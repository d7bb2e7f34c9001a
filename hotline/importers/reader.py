"""Streaming rows out of call-centre exports: CSV in whatever encoding the office saved it
(UTF-8 with or without BOM, GB18030/GBK, UTF-16), or XLSX read row by row.

The format is decided by the file's first bytes, not its name: a ``.csv`` that is really an
Excel workbook is read as one (and the summary says so). Rows stream, so memory stays flat
whatever the number of rows (an XLSX's shared strings excepted: openpyxl loads them whole,
hence their cap). Workbooks are read by ``xlsx``, which also refuses hostile ones (zip
bombs, XML entities, rows beyond Excel's limits) with a Chinese reason, like any other file
that cannot be read.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exports import read_cell

SAMPLE_BYTES = 1 << 20
# Work orders start right under the header; a file whose first this-many rows are all empty
# is refused at once rather than read to its end looking for one (it may be huge).
FIRST_DATA_WITHIN = 10_000
NO_DATA_AT_TOP = f"表头下的前 {FIRST_DATA_WITHIN} 行都是空行，文件可能有误，请检查后重新导出"
ENCODING_NAMES = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "gbk": "gb18030",
                  "gb2312": "gb18030", "gb18030": "gb18030", "utf-16": "utf-16"}  # fmt: skip


class TableError(ValueError):
    """The file cannot be read as a table; the message says why, in Chinese."""


@dataclass
class Table:
    file_format: str  # csv or xlsx
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number as a spreadsheet shows it, cells)
    encoding: str | None = None
    total_rows: int | None = None  # data rows, when cheap to know
    notes: list[str] = field(default_factory=list)
    _close: Any = None

    def close(self) -> None:
        if self._close is not None:
            self._close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sniff_format(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head:
        raise TableError("文件为空（0 字节）")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableError("这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入")
    return "csv"


def open_table(path: Path, *, encoding: str | None = None, sheet: str | None = None,
               count: bool = False) -> Table:  # fmt: skip
    """Open ``path`` for reading; ``count`` also counts the data rows (one quick pass)."""
    if not path.exists():
        raise TableError(f"文件不存在：{path.name}")
    kind = sniff_format(path)
    suffix = path.suffix.lower()
    if kind == "xlsx":
        from .xlsx import open_xlsx  # openpyxl is loaded only for workbooks

        table = open_xlsx(path, sheet)
    else:
        table = _open_csv(path, encoding, count)
    if kind == "xlsx" and suffix in (".csv", ".txt"):
        table.notes.append(f"文件扩展名为 {suffix}，内容实为 Excel 工作簿，已按 Excel 读取")
    if kind == "csv" and suffix in (".xlsx", ".xlsm"):
        table.notes.append(f"文件扩展名为 {suffix}，内容实为文本（CSV），已按 CSV 读取")
    return table


# ---------------------------------------------------------------- CSV


def detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for name in ("utf-8-sig", "gb18030"):
        try:  # not final: the sample may end inside a character
            codecs.getincrementaldecoder(name)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return name
    raise TableError("无法识别文件编码（支持 UTF-8、GB18030/GBK、UTF-16），可用 --encoding 指定")


def _open_csv(path: Path, encoding: str | None, count: bool) -> Table:
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if encoding:
        name = ENCODING_NAMES.get(encoding.lower().replace("_", "-"), encoding)
        try:
            codecs.lookup(name)
        except (LookupError, ValueError) as exc:  # ValueError: a NUL in the name
            raise TableError(f"不支持的编码：{encoding}") from exc
    else:
        name = detect_encoding(sample)
    first_line = sample.split(b"\n", 1)[0].decode(name, errors="replace")
    delimiter = max(",\t;", key=first_line.count)
    total = _count_csv(path, name, delimiter) if count else None
    handle = path.open("r", encoding=name, newline="")
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        handle.close()
        raise TableError(f"无法读取表头：{_reason(exc, name)}") from exc
    if header is None:
        handle.close()
        raise TableError("文件没有内容")

    def rows() -> Iterator[tuple[int, list[str]]]:
        number, found = 1, False
        try:
            for cells in reader:
                number += 1
                cleaned = [clean_cell(cell) for cell in cells]
                if any(cleaned):
                    found = True
                    yield number, cleaned
                elif not found and number > FIRST_DATA_WITHIN:
                    raise TableError(NO_DATA_AT_TOP)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise TableError(f"第 {number + 1} 行附近无法读取：{_reason(exc, name)}") from exc

    header = [clean_cell(h).lstrip("\ufeff") for h in header]
    return Table("csv", header, rows(), encoding=name, total_rows=total, _close=handle.close)


def clean_cell(cell: str) -> str:
    """A cell trimmed and without NUL characters, which PostgreSQL refuses in text (a NUL in
    an export is damage, never content), and without the apostrophe our own spreadsheets put
    before a formula-looking cell (refused rows come back fixed, to be imported again)."""
    return read_cell(cell.replace("\x00", "").strip())


def _count_csv(path: Path, encoding: str, delimiter: str) -> int | None:
    try:
        with path.open("r", encoding=encoding, newline="") as handle:
            return max(sum(1 for cells in csv.reader(handle, delimiter=delimiter) if cells) - 1, 0)
    except (UnicodeDecodeError, csv.Error):
        return None  # reading proper will report where


def _reason(exc: Exception, encoding: str) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"内容不是有效的 {encoding} 编码（文件可能损坏，或需用 --encoding 指定编码）"
    if "NUL" in str(exc):
        return "含有空字符（NUL），文件可能已损坏"
    return f"CSV 格式有误（{exc}）"
