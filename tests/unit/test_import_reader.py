"""Reading exports: encodings, formats in disguise, broken and empty files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from hotline.importers.reader import TableError, open_table

HEADER = "工单编号,诉求内容,来电号码\n"
ROWS = 'GD1,和平路占道经营,13812341234\nGD2,"噪音，很吵",\n'


def rows(path: Path, **options) -> tuple[list[str], list[tuple[int, list[str]]], list[str]]:
    with open_table(path, **options) as table:
        return table.header, list(table.rows), table.notes


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes((HEADER + ROWS).encode(encoding))
    header, data, _ = rows(path)
    assert header == ["工单编号", "诉求内容", "来电号码"]
    assert data[1] == (3, ["GD2", "噪音，很吵", ""])


def test_forced_encoding_and_a_wrong_one(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes((HEADER + ROWS).encode("gb18030"))
    assert rows(path, encoding="GBK")[1][0][1][1] == "和平路占道经营"
    with pytest.raises(TableError, match="不是有效的 utf-8"):
        rows(path, encoding="utf-8")
    with pytest.raises(TableError, match="不支持的编码"):
        rows(path, encoding="klingon")


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(TableError, match="文件为空"):
        rows(empty)
    header_only = tmp_path / "h.csv"
    header_only.write_text(HEADER, encoding="utf-8")
    assert rows(header_only)[1] == []


def write_xlsx(path: Path, data: list[list[object]]) -> None:
    book = Workbook()
    for line in data:
        book.active.append(line)
    book.save(path)


def test_xlsx_values_formulas_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    write_xlsx(path, [["工单编号", "诉求内容", "来电号码"], ["GD1", "路灯不亮", 13812341234],
                      ["GD2", "=HYPERLINK(\"http://x\")", "=1+1"]])  # fmt: skip
    _, data, _ = rows(path)
    assert data[0] == (2, ["GD1", "路灯不亮", "13812341234"])
    # No cached value was saved with these formulas: they read as empty, never evaluated.
    assert data[1] == (3, ["GD2", "", ""])


def test_a_csv_that_is_really_xlsx_and_the_reverse(tmp_path: Path) -> None:
    disguised = tmp_path / "export.csv"
    write_xlsx(disguised, [["工单编号", "诉求内容"], ["GD1", "路灯不亮"]])
    _, data, notes = rows(disguised)
    assert data == [(2, ["GD1", "路灯不亮"])] and "内容实为 Excel" in notes[0]
    text = tmp_path / "export.xlsx"
    text.write_text(HEADER + ROWS, encoding="utf-8")
    _, data, notes = rows(text)
    assert len(data) == 2 and "内容实为文本" in notes[0]


def test_truncated_xlsx_and_old_xls(tmp_path: Path) -> None:
    whole = tmp_path / "a.xlsx"
    write_xlsx(whole, [["工单编号", "诉求内容"], *[[f"GD{i}", "路灯不亮"] for i in range(50)]])
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(TableError, match="已损坏或不完整"):
        rows(cut)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(TableError, match="旧版 Excel"):
        rows(old)
    not_excel = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(not_excel, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(TableError, match="已损坏或不完整"):
        rows(not_excel)


def test_a_sheet_by_name_or_number(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    book = Workbook()
    book.active.append(["说明"])
    second = book.create_sheet("工单")
    second.append(["工单编号", "诉求内容"])
    second.append(["GD1", "路灯不亮"])
    book.save(path)
    assert rows(path, sheet="工单")[1] == rows(path, sheet="2")[1] == [(2, ["GD1", "路灯不亮"])]
    with pytest.raises(TableError, match="没有名为 汇总 的工作表"):
        rows(path, sheet="汇总")


def test_truncated_csv_and_nul_bytes(tmp_path: Path) -> None:
    from hotline.importers.mapping import PRESETS, bind
    from hotline.importers.records import RowReader

    cut = tmp_path / "cut.csv"
    cut.write_text(HEADER + 'GD1,"和平路占道经营', encoding="utf-8")  # quote never closed
    _, data, _ = rows(cut)
    assert data == [(2, ["GD1", "和平路占道经营"])]  # short: the row check refuses it
    nul = tmp_path / "nul.csv"
    nul.write_bytes((HEADER + "GD1,路灯\0不亮,\n").encode())
    header, data, _ = rows(nul)
    record = RowReader(bind(PRESETS["auto"], header), "Asia/Shanghai").read(data[0][1])
    assert record.description == "路灯不亮"  # the NUL is dropped like any control character


def test_xlsx_formulas_give_the_value_excel_cached_never_a_new_one(tmp_path: Path) -> None:
    plain = tmp_path / "plain.xlsx"
    write_xlsx(plain, [["工单编号", "诉求内容", "来电号码"], ["GD1", "路灯不亮", 0]])
    with zipfile.ZipFile(plain) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    # A formula whose cached value is deliberately not what it computes: we must read "3".
    cell = '<c r="C2" t="n"><v>0</v></c>'
    assert cell in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        cell, '<c r="C2" t="str"><f>1+1</f><v>3</v></c>'
    ).encode()
    path = tmp_path / "formula.xlsx"
    with zipfile.ZipFile(path, "w") as target:
        for name, content in parts.items():
            target.writestr(name, content)
    assert rows(path)[1] == [(2, ["GD1", "路灯不亮", "3"])]


def test_refused_rows_we_wrote_read_back_as_they_were(tmp_path: Path) -> None:
    """rejected.csv puts an apostrophe before formula-looking cells (hotline/exports.py);
    the file comes back fixed, in CSV or re-saved as XLSX, and reads as the original."""
    from hotline.exports import csv_text

    original = [["工单编号", "诉求内容", "来电号码"], ["GD1", "=1+1 不是公式", "-"]]
    csv_path = tmp_path / "rejected.csv"
    csv_path.write_text(csv_text(original), encoding="utf-8")
    assert "'=1+1" in csv_path.read_text(encoding="utf-8")
    assert rows(csv_path)[1] == [(2, ["GD1", "=1+1 不是公式", "-"])]
    book = Workbook()
    for line in ([*original[0]], ["GD1", "'=1+1 不是公式", "'-"]):
        book.active.append(line)
    xlsx_path = tmp_path / "rejected.xlsx"
    book.save(xlsx_path)
    assert rows(xlsx_path)[1] == [(2, ["GD1", "=1+1 不是公式", "-"])]
