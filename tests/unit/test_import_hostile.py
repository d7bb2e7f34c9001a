"""Hostile workbooks and files: refused with a Chinese reason (TableError), quickly and in
little memory, never an exception of the parser's own."""

from __future__ import annotations

import contextlib
import random
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from hotline.importers.reader import TableError, open_table
from tests.helpers.hostile_files import (
    MB,
    SHEET,
    billion_laughs,
    external_entity,
    giant_row,
    patch_directory,
    row,
    sheet,
    workbook_parts,
    write_workbook,
    zip_bomb,
)


def read_all(path: Path) -> list[tuple[int, list[str]]]:
    with open_table(path) as table:
        return list(table.rows)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return zip_bomb(tmp_path_factory.mktemp("bomb") / "export.xlsx")


def test_a_zip_bomb_is_refused_from_the_zip_directory(bomb: Path) -> None:
    with zipfile.ZipFile(bomb) as archive:
        expanded = sum(part.file_size for part in archive.infolist())
    assert bomb.stat().st_size < 1 * MB and expanded > 300 * MB  # a real one
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(
        TableError, match=r"文件解压后过大（xl/worksheets/sheet1\.xml.*疑似压缩炸弹"
    ):
        open_table(bomb)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 0.5 and peak < 5 * MB, (seconds, peak)


def test_the_expanded_size_is_what_reading_a_file_goes_through(bomb: Path, tmp_path: Path) -> None:
    from hotline.importers import xlsx

    # What should decide whether an upload is small enough to import within the request.
    assert xlsx.expanded_size(bomb) > 300 * MB
    text = tmp_path / "a.csv"
    text.write_text("工单编号,诉求内容\nGD1,路灯不亮\n", encoding="utf-8")
    assert xlsx.expanded_size(text) == text.stat().st_size


def test_many_small_parts_that_expand_together_are_a_bomb_too(tmp_path: Path) -> None:
    # Each part stays under the per-part floor; together they are 150 MB from ~150 KB.
    zeros = bytes(1_000_000)
    parts = {f"xl/media/filler{i}.xml": zeros for i in range(150)}
    path = write_workbook(tmp_path / "a.xlsx", parts)
    with pytest.raises(TableError, match=r"KB 的文件解压为 \d+ MB.*疑似压缩炸弹"):
        open_table(path)


def test_a_workbook_of_a_thousand_parts_is_refused(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "a.xlsx", {f"xl/x{i}.xml": b"<x/>" for i in range(1000)})
    with pytest.raises(TableError, match="个部件（上限 1000 个）"):
        open_table(path)


def test_shared_strings_and_other_parts_have_their_own_caps(tmp_path: Path, monkeypatch) -> None:
    from hotline.importers import xlsx

    monkeypatch.setattr(xlsx, "MAX_SHARED_STRINGS_BYTES", 1 * MB)
    monkeypatch.setattr(xlsx, "MAX_XML_PART_BYTES", 1 * MB)
    parts = workbook_parts()
    # Found by its declared content type, whatever it is called.
    override = ('<Override PartName="/xl/strs.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')  # fmt: skip
    types = parts["[Content_Types].xml"].decode().replace("</Types>", override).encode()
    strings = b"<sst>" + b"<si><t>x</t></si>" * 130_000 + b"</sst>"  # 2.2 MB
    stored = zipfile.ZIP_STORED  # ratio 1: only the caps can refuse these
    path = write_workbook(tmp_path / "s.xlsx", {"[Content_Types].xml": types,
                                                "xl/strs.xml": strings}, stored)  # fmt: skip
    with pytest.raises(TableError, match=r"共享文本解压后有 2 MB（上限 1 MB）.*另存为 CSV"):
        open_table(path)
    styles = parts["xl/styles.xml"].replace(b"</styleSheet>", b" " * (2 * MB) + b"</styleSheet>")
    path = write_workbook(tmp_path / "t.xlsx", {"xl/styles.xml": styles}, stored)
    with pytest.raises(TableError, match=r"xl/styles\.xml 解压后有 2 MB（上限 1 MB）"):
        open_table(path)
    # An image is never parsed: its size is no reason to refuse.
    png = '<Default Extension="png" ContentType="image/png"/></Types>'
    types = parts["[Content_Types].xml"].decode().replace("</Types>", png).encode()
    image = {"[Content_Types].xml": types, "xl/media/image1.png": bytes(3 * MB)}
    path = write_workbook(tmp_path / "i.xlsx", image, stored)
    assert read_all(path) == [(2, ["GD1", "路灯不亮"])]


def test_encrypted_parts_and_unknown_compression_are_refused(tmp_path: Path) -> None:
    # zipfile raises RuntimeError / NotImplementedError for these, not BadZipFile.
    path = patch_directory(write_workbook(tmp_path / "enc.xlsx"), flags=0x1)
    with pytest.raises(TableError, match="加密"):
        open_table(path)
    path = patch_directory(write_workbook(tmp_path / "aes.xlsx"), method=99)  # WinZip AES
    with pytest.raises(TableError, match="不支持的压缩方式"):
        open_table(path)


@pytest.mark.parametrize("part", [SHEET, "xl/workbook.xml", "xl/styles.xml",
                                  "[Content_Types].xml"])  # fmt: skip
def test_entity_declarations_are_refused_wherever_they_are(tmp_path: Path, part: str) -> None:
    original = workbook_parts()[part].decode()
    body = original.split("?>", 1)[-1] if original.startswith("<?xml") else original
    laughs = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>')  # fmt: skip
    path = write_workbook(tmp_path / "e.xlsx", {part: (laughs + body).encode()})
    with pytest.raises(TableError, match="XML 实体"):
        read_all(path)


def test_billion_laughs_and_external_entities_in_a_sheet(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "laughs.xlsx", {SHEET: billion_laughs()})
    started = time.perf_counter()
    with pytest.raises(TableError, match=r"XML 实体或外部引用声明.*疑似恶意构造"):
        read_all(path)
    assert time.perf_counter() - started < 5  # a guard against a blow-up, not a speed target
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-TOKEN", encoding="utf-8")
    path = write_workbook(tmp_path / "xxe.xlsx", {SHEET: external_entity(secret)})
    with pytest.raises(TableError, match="XML 实体") as refused:
        read_all(path)
    assert "SECRET-TOKEN" not in str(refused.value)


@pytest.mark.parametrize(
    "xml",
    [
        sheet(row(2, "GD1", "路灯不亮"), close='<row r="3"><c r="A3" t="inl'),  # truncated
        sheet(row(2, "GD1", "路灯不亮"), '<row r="3"><c r="A3"></x></row>'),  # bad tags
        sheet(row(2, "GD1", "路灯\x00不亮")),  # a NUL byte in a cell
        sheet(row(2, "GD1", "路灯&#0;不亮")),  # a NUL character reference
        sheet('<row r="2"><c r="A2" t="s"><v>999</v></c></row>'),  # no such shared string
        b"\xff\xfe<\x00",  # not XML at all
    ],
    ids=["truncated", "tags", "nul-byte", "nul-ref", "string-index", "binary"],
)
def test_malformed_sheet_xml_is_a_table_error(tmp_path: Path, xml: bytes) -> None:
    path = write_workbook(tmp_path / "bad.xlsx", {SHEET: xml})
    with pytest.raises(TableError, match="Excel 文件已损坏或不完整"):
        read_all(path)


def test_a_sheet_damaged_far_down_fails_where_it_is(tmp_path: Path) -> None:
    rows = [row(n, f"GD{n}", "路灯不亮，晚上出行很不安全") for n in range(2, 3002)]
    xml = sheet(*rows, dimension="A1:B3001", close='<row r="3002"><c r="A3002" t="inl')
    path = write_workbook(tmp_path / "late.xlsx", {SHEET: xml})
    with open_table(path) as table:
        assert table.header == ["工单编号", "诉求内容"] and next(table.rows)[0] == 2
        with pytest.raises(TableError, match=r"第 \d+ 行附近无法读取：Excel 文件已损坏或不完整"):
            list(table.rows)


def test_rows_columns_and_cells_beyond_excel_are_refused(tmp_path: Path) -> None:
    far = sheet(row(2, "GD1", "路灯不亮"), row(1_048_577, "GD2", "路灯不亮"))
    with pytest.raises(TableError, match="工作表超过 1048576 行"):
        read_all(write_workbook(tmp_path / "rows.xlsx", {SHEET: far}))
    wide = sheet("<row>" + "<c><v>1</v></c>" * 16_385 + "</row>")
    with pytest.raises(TableError, match="第 2 行有 16385 列，超过 Excel 的上限 16384 列"):
        read_all(write_workbook(tmp_path / "wide.xlsx", {SHEET: wide}))
    long = sheet(row(2, "GD1", "长" * 32_768))
    with pytest.raises(TableError, match="第 2 行第 2 列有 32768 个字"):
        read_all(write_workbook(tmp_path / "long.xlsx", {SHEET: long}))


@pytest.mark.parametrize("dimension", [True, False], ids=["streamed", "read-on-opening"])
def test_a_row_too_big_to_hold_is_refused_before_it_is_built(tmp_path: Path, dimension) -> None:
    # openpyxl builds a row whole before reading it: these 50 KB would be ~350 MB.
    path = giant_row(tmp_path / "row.xlsx", 1_000_000, dimension=dimension)
    assert path.stat().st_size < 100 * 1024
    started = time.perf_counter()
    with pytest.raises(TableError, match="工作表第 2 行含有超过 131072 个 XML 元素"):
        read_all(path)
    assert time.perf_counter() - started < 5  # a guard against a blow-up, not a speed target
    tracemalloc.start()
    with pytest.raises(TableError):
        read_all(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * MB, peak


def test_too_much_outside_the_rows_is_refused(tmp_path: Path) -> None:
    merges = "".join(f'<mergeCell ref="C{n}:D{n}"/>' for n in range(1, 270_000))
    xml = sheet(row(2, "GD1", "路灯不亮"), close=f"</sheetData><mergeCells>{merges}</mergeCells>"
                "</worksheet>")  # fmt: skip
    with pytest.raises(TableError, match="数据行以外的内容超过 262144 个 XML 元素"):
        read_all(write_workbook(tmp_path / "merges.xlsx", {SHEET: xml}))


def test_a_declared_size_that_is_wrong_does_not_hide_rows(tmp_path: Path) -> None:
    rows = [row(n, f"GD{n}", "路灯不亮") for n in range(2, 7)]
    path = write_workbook(tmp_path / "dim.xlsx", {SHEET: sheet(*rows, dimension="A1:B2")})
    assert [number for number, _ in read_all(path)] == [2, 3, 4, 5, 6]


def test_nul_bytes_in_csv_cells_and_header_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(
        "工单\x00编号,诉求内容,备注\nGD\x001,路灯\x00不亮,\x00\n\x00,\x00,\x00\n".encode()
    )
    with open_table(path) as table:
        assert table.header == ["工单编号", "诉求内容", "备注"]
        assert list(table.rows) == [(2, ["GD1", "路灯不亮", ""])]  # the all-NUL row is empty
    with pytest.raises(TableError, match="不支持的编码"):
        open_table(path, encoding="utf-8\x00")


def test_without_defusedxml_workbooks_are_refused(tmp_path: Path, monkeypatch) -> None:
    import openpyxl

    assert openpyxl.DEFUSEDXML  # what openpyxl parses with here
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(TableError, match="defusedxml"):
        open_table(write_workbook(tmp_path / "a.xlsx"))


def test_mangled_workbooks_only_ever_raise_table_errors(tmp_path: Path) -> None:
    """A small fuzz: random damage to the parts or to the zip itself."""
    parts = workbook_parts()
    whole = write_workbook(tmp_path / "whole.xlsx").read_bytes()
    rng = random.Random(12345)
    path = tmp_path / "m.xlsx"
    for attempt in range(300):
        if attempt % 2:
            data = bytearray(whole)
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            path.write_bytes(bytes(data))
        else:
            name = rng.choice(sorted(parts))
            data = bytearray(parts[name])
            at = rng.randrange(len(data))
            data[at:at + rng.randint(0, 20)] = rng.choice([b"<", b"&", b"</row>", b'r="0"',
                                                           b'<v>77</v>', b'"', b""])  # fmt: skip
            write_workbook(path, {name: bytes(data)})
        with contextlib.suppress(TableError):
            read_all(path)
