"""Reading XLSX workbooks row by row with openpyxl, and refusing hostile ones.

A workbook is a zip of XML parts, and a small upload can expand enormously: 900 KB of
repeated rows is 300 MB of sheet XML, enough to hold a web worker past its timeout. The zip
directory says how big every part is before anything is decompressed (and zipfile never
returns more than it says), so such a file is refused up front, in milliseconds. XML is
parsed by defusedxml (through openpyxl, and here), which refuses entity declarations
(billion laughs) and external references (XXE). What only shows while reading is checked as
the sheet streams: openpyxl builds each row whole before it reads it, so every sheet byte
it reads also goes through a parser that builds nothing and stops a row too big to hold
(``_SheetShape``); rows, columns and cells beyond Excel's own limits are refused too.
Every refusal is a ``TableError`` with the reason in Chinese.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser as DefusedXMLParser
from defusedxml.ElementTree import fromstring as defused_fromstring

from .reader import (
    FIRST_DATA_WITHIN,
    NO_DATA_AT_TOP,
    Table,
    TableError,
    clean_cell,
    sniff_format,
)

MB = 1 << 20
# Parts: an export has about ten (workbook, styles, theme, one per sheet); a thousand is not
# a spreadsheet, and each costs a directory entry to list.
MAX_PARTS = 1000
# All parts together, decompressed. A full sheet of Excel (1,048,576 rows × 30 columns of
# shared-string cells) is about 1.2 GB of XML; a call-centre export is far smaller.
MAX_EXPANDED_BYTES = 2048 * MB
# Compression ratio of one part. Real sheet XML compresses 3–15× (measured: Chinese text in
# the cells 3×, Excel-style shared-string cells 9×, rows of styled empty cells 14×); a
# bomb is 300× and more. Parts under RATIO_FLOOR expand to little whatever their ratio.
MAX_RATIO = 100
RATIO_FLOOR = 1 * MB
# openpyxl loads every shared string into memory before the first row (about 1× the XML
# for real text, up to 3× for millions of tiny strings).
MAX_SHARED_STRINGS_BYTES = 128 * MB
# Other XML parts (workbook, styles, drawings) are parsed whole into a tree of about ten
# times their size; real ones are a few kilobytes to a few megabytes.
MAX_XML_PART_BYTES = 32 * MB
CONTENT_TYPES_BYTES = 1 * MB  # [Content_Types].xml: ~150 bytes per part
# Excel's own limits: a sheet beyond them was not written by Excel.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_CELL_CHARS = 32_767
# Elements openpyxl holds at once while it reads a sheet: the row being read (a full row of
# Excel, each cell with its value and a formula or a few rich-text runs; ~45 MB at most), and
# everything outside the rows, which it keeps (merged ranges, links: one per row at most).
ROW_ELEMENTS = 8 * MAX_COLUMNS
OUTSIDE_ROW_ELEMENTS = 256 * 1024
CHUNK = 64 * 1024

_CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_ROW = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}row"
_DIMENSION = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}dimension"
# What reading a damaged or hand-made workbook raises (found by fuzzing): zip and deflate
# errors (NotImplementedError: a zip version zipfile does not know), XML that is not well
# formed (ParseError), and whatever openpyxl's XML-to-object mapping meets in a part that
# does not follow the schema (TypeError, IndexError, KeyError…).
_BROKEN = (zipfile.BadZipFile, zlib.error, NotImplementedError, ParseError, EOFError, OSError,
           KeyError, IndexError, TypeError, AttributeError, ValueError)  # fmt: skip
_HOSTILE_XML = ("Excel 文件含有 XML 实体或外部引用声明（正常导出的文件不会有），"
                "疑似恶意构造，已拒绝导入")  # fmt: skip
_DAMAGED = "Excel 文件已损坏或不完整，请重新导出"
_ODD = "不像正常导出的表格，已拒绝导入"


# ---------------------------------------------------------------- before anything is parsed


def check_workbook(path: Path) -> None:
    """Refuse a workbook that would expand beyond what an export can be (a zip bomb), from
    the zip directory alone, and check each sheet as far as openpyxl reads it on opening."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS:
                raise TableError(
                    f"Excel 文件内含 {len(parts)} 个部件（上限 {MAX_PARTS} 个），{_ODD}"
                )
            total = 0
            for part in parts:
                _check_part(part)
                total += part.file_size
            if total > MAX_EXPANDED_BYTES:
                limit = MAX_EXPANDED_BYTES // MB
                raise TableError(f"文件解压后过大（共 {total // MB} MB，上限 {limit} MB），"
                                 "请拆分为几个文件后再导入")  # fmt: skip
            size = path.stat().st_size
            if total > RATIO_FLOOR and total / size > MAX_RATIO:  # many parts under the floor
                raise TableError(_bomb(f"{size // 1024} KB 的文件解压为 {total // MB} MB",
                                       total / size))  # fmt: skip
            kind_of = _content_types(archive)
            for part in parts:
                kind = kind_of(part.filename)
                _check_part_kind(part, kind)
                if kind == _WORKSHEET:
                    _check_sheet_head(archive, part)
    except TableError:
        raise
    except _BROKEN as exc:
        raise _unreadable(exc) from exc


def expanded_size(path: Path) -> int:
    """The bytes reading ``path`` goes through: a workbook's parts decompressed (as its zip
    directory declares them), any other file's own size. What the work of an import grows
    with, so what should decide whether a file is small enough to import within a request."""
    if sniff_format(path) != "xlsx":
        return path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(part.file_size for part in archive.infolist())
    except _BROKEN as exc:
        raise _unreadable(exc) from exc


def _bomb(what: str, ratio: float) -> str:
    return (f"文件解压后过大（{what}，达 {ratio:.0f}:1，正常导出不超过 {MAX_RATIO}:1），"
            "疑似压缩炸弹，已拒绝导入")  # fmt: skip


def _check_part(part: zipfile.ZipInfo) -> None:
    if part.flag_bits & 0x1:
        raise TableError("Excel 文件中有加密的部件，无法读取；请在 Excel 中另存为 .xlsx 后再导入")
    if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise TableError("Excel 文件使用了不支持的压缩方式，请在 Excel 中另存为 .xlsx 后再导入")
    ratio = part.file_size / max(part.compress_size, 1)
    if part.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
        raise TableError(_bomb(f"{part.filename} 由 {part.compress_size // 1024} KB 解压为 "
                               f"{part.file_size // MB} MB", ratio))  # fmt: skip


def _content_types(archive: zipfile.ZipFile) -> Callable[[str], str]:
    """Each part's declared content type (what openpyxl goes by to find the shared strings),
    or "" for a part that declares none."""
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return lambda name: ""  # not a workbook: openpyxl says so
    if info.file_size > CONTENT_TYPES_BYTES:
        size, limit = info.file_size // 1024, CONTENT_TYPES_BYTES // 1024
        raise TableError(f"Excel 文件的 [Content_Types].xml 解压后有 {size} KB（上限 {limit} KB），"
                         f"{_ODD}")  # fmt: skip
    root = defused_fromstring(archive.read(info))
    overrides = {item.get("PartName", "").lstrip("/"): item.get("ContentType", "")
                 for item in root.iter(f"{_CONTENT_TYPES}Override")}  # fmt: skip
    defaults = {item.get("Extension", "").lower(): item.get("ContentType", "")
                for item in root.iter(f"{_CONTENT_TYPES}Default")}  # fmt: skip
    return lambda name: overrides.get(name) or defaults.get(name.rpartition(".")[2].lower(), "")


def _check_part_kind(part: zipfile.ZipInfo, kind: str) -> None:
    if kind == _WORKSHEET:
        return  # streamed row by row: the total, the ratio and _SheetShape bound it
    if kind == _SHARED_STRINGS:
        if part.file_size > MAX_SHARED_STRINGS_BYTES:
            raise TableError(f"工作簿的共享文本解压后有 {part.file_size // MB} MB（上限 "
                             f"{MAX_SHARED_STRINGS_BYTES // MB} MB），无法一次读入；请在 Excel "
                             "中另存为 CSV（UTF-8）或拆分为几个文件后再导入")  # fmt: skip
        return
    parsed = not kind or kind.endswith("xml")  # images and binaries are never parsed
    if parsed and part.file_size > MAX_XML_PART_BYTES:
        size, limit = part.file_size // MB, MAX_XML_PART_BYTES // MB
        raise TableError(f"文件中的 {part.filename} 解压后有 {size} MB（上限 {limit} MB），{_ODD}")


def _check_sheet_head(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
    """Opening a workbook, openpyxl reads each sheet up to its declared size (<dimension>,
    near the top), or whole if it declares none: that read is checked here first."""
    shape = _SheetShape()
    parser = DefusedXMLParser(target=shape)
    with archive.open(part) as stream:
        while not shape.sized and (chunk := stream.read(CHUNK)):
            parser.feed(chunk)


def _unreadable(exc: BaseException, where: str = "") -> TableError:
    """The reason for an error openpyxl raised, which may wrap defusedxml's refusal."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return TableError(_HOSTILE_XML)
        cause = cause.__cause__
    return TableError(f"{where}{_DAMAGED}")


# ---------------------------------------------------------------- while a sheet streams


class _SheetShape:
    """A parser target that builds nothing and refuses a sheet before openpyxl builds an
    element too big to hold: a row of more than ROW_ELEMENTS elements (a 1 MB upload can be
    one row of twenty million empty cells, gigabytes once built), or more than
    OUTSIDE_ROW_ELEMENTS outside the rows. Rows are counted wherever they are, nested ones
    as part of the row around them, as openpyxl would hold them."""

    def __init__(self) -> None:
        self.rows = 0
        self.depth = 0  # inside the current row; 0 outside any row
        self.in_row = 0
        self.outside = 0
        self.sized = False  # the sheet's <dimension> has been read

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.depth:
            self.depth += 1
            self.in_row += 1
            if self.in_row > ROW_ELEMENTS:
                raise TableError(f"工作表第 {self.rows} 行含有超过 {ROW_ELEMENTS} 个 XML 元素"
                                 f"（Excel 一行最多 {MAX_COLUMNS} 个单元格），{_ODD}")  # fmt: skip
        elif tag == _ROW:
            self.rows += 1
            self.depth = self.in_row = 1
        else:
            self.outside += 1
            if self.outside > OUTSIDE_ROW_ELEMENTS:
                raise TableError(
                    f"工作表中数据行以外的内容超过 {OUTSIDE_ROW_ELEMENTS} 个 XML 元素，{_ODD}"
                )
            self.sized = self.sized or tag == _DIMENSION

    def end(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def close(self) -> None:
        return None


class _CheckedStream:
    """A part of the workbook as openpyxl reads it, every chunk also fed to ``_SheetShape``
    (openpyxl reads a sheet in 16 KB chunks: nothing bigger than that gets past)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._parser = DefusedXMLParser(target=_SheetShape())

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self._parser.feed(data)
        return data

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> _CheckedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _CheckedArchive(zipfile.ZipFile):
    """The workbook's zip, for openpyxl to stream its sheets from once it has opened the
    workbook (in read-only mode sheets are the only parts it reads after that)."""

    def open(self, name: Any, mode: Any = "r", pwd: bytes | None = None, *,
             force_zip64: bool = False) -> Any:  # fmt: skip
        stream = super().open(name, mode, pwd, force_zip64=force_zip64)
        return _CheckedStream(stream) if mode == "r" else stream


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # phone numbers and work-order numbers stored as numbers
    return clean_cell(str(value))


def _cells(values: Sequence[Any], number: int, width: int) -> list[str]:
    """A row's first ``width`` cells as text, padded to ``width``; refuses a row beyond what
    Excel can hold."""
    if len(values) > MAX_COLUMNS:
        raise TableError(f"第 {number} 行有 {len(values)} 列，超过 Excel 的上限 {MAX_COLUMNS} 列，"
                         f"{_ODD}")  # fmt: skip
    cells = [_cell_text(v) for v in values[:width]]
    for position, cell in enumerate(cells, start=1):
        if len(cell) > MAX_CELL_CHARS:
            raise TableError(f"第 {number} 行第 {position} 列有 {len(cell)} 个字，超过 Excel "
                             f"单元格的上限 {MAX_CELL_CHARS} 个字，{_ODD}")  # fmt: skip
    return cells + [""] * (width - len(cells))


def open_xlsx(path: Path, sheet: str | None) -> Table:
    """The first sheet of ``path`` (or the one named or numbered ``sheet``), read row by row."""
    import openpyxl
    from openpyxl import load_workbook

    if not openpyxl.DEFUSEDXML:  # openpyxl parses with the standard library unless it has it
        raise TableError("服务器未启用安全的 XML 解析（defusedxml），暂不能导入 Excel 文件，"
                         "请联系管理员")  # fmt: skip
    check_workbook(path)
    handle = path.open("rb")  # a handle, so that openpyxl does not judge by the file name
    try:
        # data_only: a formula cell gives the value Excel cached; nothing is ever evaluated.
        # keep_links=False: links to other workbooks are not read at all.
        workbook = load_workbook(handle, read_only=True, data_only=True, keep_links=False)
        opened, workbook._archive = workbook._archive, _CheckedArchive(handle)
        opened.close()
    except _BROKEN as exc:
        handle.close()
        raise _unreadable(exc) from exc

    def close() -> None:
        workbook.close()
        handle.close()

    try:
        if not workbook.worksheets:
            raise TableError("工作簿中没有工作表")
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        elif sheet.isdigit() and 1 <= int(sheet) <= len(workbook.sheetnames):
            worksheet = workbook.worksheets[int(sheet) - 1]
        else:
            raise TableError(f"没有名为 {sheet} 的工作表（有：{'、'.join(workbook.sheetnames)}）")
        declared = worksheet.max_row
        # The size a sheet declares is not trusted: openpyxl would pad every row to the
        # declared width and stop at the declared height; rows are read as they are.
        worksheet.reset_dimensions()
        iterator = worksheet.iter_rows(values_only=True)
        first = next(iterator, None)
        if first is None:
            raise TableError("文件没有内容")
        header = _cells(first, 1, len(first))
    except TableError:
        close()
        raise
    except _BROKEN as exc:
        close()
        raise _unreadable(exc) from exc
    while header and not header[-1]:
        header.pop()
    total = declared - 1 if isinstance(declared, int) and 1 <= declared <= MAX_ROWS else None

    def rows() -> Iterator[tuple[int, list[str]]]:
        number, found = 1, False
        try:
            for values in iterator:
                number += 1
                if number > MAX_ROWS:
                    raise TableError(f"工作表超过 {MAX_ROWS} 行（Excel 的上限），{_ODD}")
                cells = _cells(values, number, len(header))
                if any(cells):
                    found = True
                    yield number, cells
                elif not found and number > FIRST_DATA_WITHIN:
                    raise TableError(NO_DATA_AT_TOP)
        except TableError:
            raise
        except _BROKEN as exc:
            raise _unreadable(exc, f"第 {number + 1} 行附近无法读取：") from exc

    return Table("xlsx", header, rows(), total_rows=total, _close=close)
