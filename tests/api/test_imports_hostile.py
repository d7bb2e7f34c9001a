"""Hostile uploads through ``POST /api/v1/imports``: a clear 422 before any batch exists, or
a failed batch with the reason when the damage shows only while streaming; never a 500."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.models import ImportBatch
from tests.helpers import auth
from tests.helpers import upload_export as upload
from tests.helpers.hostile_files import (
    SHEET,
    billion_laughs,
    external_entity,
    giant_row,
    row,
    sheet,
    write_workbook,
    zip_bomb,
)


def batches(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(ImportBatch))


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return zip_bomb(tmp_path_factory.mktemp("bomb") / "export.xlsx").read_bytes()


def test_a_zip_bomb_under_the_inline_size_is_refused_in_under_two_seconds(
    client, db, settings, bomb: bytes
) -> None:
    assert len(bomb) <= settings.import_inline_bytes  # it would be imported within the request
    started = time.perf_counter()
    response = upload(client, bomb, name="12345导出.xlsx")
    seconds = time.perf_counter() - started
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert "疑似压缩炸弹，已拒绝导入" in response.json["errors"]["file"][0]
    assert seconds < 2, seconds
    assert batches(db) == 0 and not list(settings.import_dir.iterdir())


def test_one_row_of_twenty_million_cells_is_refused_before_it_is_built(
    client, db, settings, tmp_path
) -> None:
    content = giant_row(tmp_path / "row.xlsx", 20_000_000).read_bytes()
    assert len(content) <= settings.import_inline_bytes  # gigabytes once built
    started = time.perf_counter()
    response = upload(client, content, name="row.xlsx")
    assert time.perf_counter() - started < 2
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "个 XML 元素（Excel 一行最多 16384 个单元格）" in response.json["errors"]["file"][0]
    assert batches(db) == 0


def hostile(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-TOKEN", encoding="utf-8")
    cases = {
        "billion-laughs": (billion_laughs(), "XML 实体"),
        "external-entity": (external_entity(secret), "XML 实体"),
        "truncated": (sheet(row(2, "GD1", "路灯不亮"), close="<row><c"), "已损坏或不完整"),
        "nul-cell": (sheet(row(2, "GD1", "路灯\x00不亮")), "已损坏或不完整"),
        "bad-string": (sheet('<row r="2"><c r="A2" t="s"><v>9</v></c></row>'), "已损坏或不完整"),
    }
    return {name: (write_workbook(tmp_path / f"{name}.xlsx", {SHEET: xml}).read_bytes(), reason)
            for name, (xml, reason) in cases.items()}  # fmt: skip


@pytest.mark.parametrize("case", ["billion-laughs", "external-entity", "truncated", "nul-cell",
                                  "bad-string"])  # fmt: skip
def test_xml_attacks_and_malformed_sheets_are_a_clear_422(client, db, tmp_path, case) -> None:
    content, reason = hostile(tmp_path)[case]
    response = upload(client, content, name=f"{case}.xlsx")
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert reason in response.json["errors"]["file"][0]
    assert "SECRET-TOKEN" not in response.get_data(as_text=True)
    assert batches(db) == 0


def late_damage(tmp_path: Path) -> bytes:
    rows = [row(n, f"GD{n}", "路灯不亮，晚上出行很不安全") for n in range(2, 3002)]
    xml = sheet(*rows, dimension="A1:B3001", close='<row r="3002"><c r="A3002" t="inl')
    return write_workbook(tmp_path / "late.xlsx", {SHEET: xml}).read_bytes()


def test_damage_found_while_streaming_is_a_failed_batch_with_the_reason(client, tmp_path) -> None:
    response = upload(client, late_damage(tmp_path), name="late.xlsx")
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    assert response.json["status"] == "failed"
    assert "行附近无法读取：Excel 文件已损坏或不完整" in response.json["error"]


def test_in_the_background_too(app, db, settings, tmp_path) -> None:
    from hotline.background.imports import flush_imports

    app.extensions["hotline"].settings = replace(settings, import_inline_bytes=10)
    client = app.test_client()
    response = upload(client, late_damage(tmp_path), name="late.xlsx")
    assert response.status_code == 202
    assert flush_imports(replace(settings, redis_url=None), db) == [response.json["id"]]
    done = client.get(response.headers["Location"], headers=auth()).json
    assert done["status"] == "failed" and "行附近无法读取" in done["error"]


def test_nul_bytes_in_the_file_name_and_the_cells(client) -> None:
    content = (
        "工单\x00编号,诉求内容,来电号码\nGD\x001,路灯\x00不亮了好几天,138\x00\nGD2,夜里噪音,\n"
    )
    response = upload(client, content.encode(), name="../../导出/12345\x00导出.csv")
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    body = response.json
    assert body["filename"] == "12345导出.csv"
    assert (body["status"], body["created"], body["rejected"]) == ("done", 1, 1)
    assert body["rejections"][0]["row"] == 2  # 138: not a phone number
    refused = client.get(body["rejected_csv"], headers=auth()).get_data(as_text=True)
    assert "\x00" not in refused and "GD1,路灯不亮了好几天,138" in refused


def test_a_small_workbook_that_expands_a_lot_is_imported_in_the_background(
    client, settings, tmp_path
) -> None:
    """Under 1 MB on disk and under the ratio cap, but tens of MB of sheet XML (empty cells):
    reading it would hold a web worker for a minute, so it goes to the background like a
    large file (202), decided by its decompressed size."""
    import random
    import zipfile

    from tests.helpers.hostile_files import cell, workbook_parts

    rng = random.Random(3)
    path = tmp_path / "wide.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in workbook_parts().items():
            if name != SHEET:
                archive.writestr(name, content)
        with archive.open(SHEET, "w") as member:
            member.write(sheet(close="", dimension="A1:EV39999"))  # as Excel writes it
            for number in range(2, 40_000):  # a work order, then 150 formatted empty cells
                member.write(f'<row r="{number}">{cell(f"A{number}", f"GD{number}")}'.encode()
                             + b"<c/>" * 150
                             + f"<c><v>{rng.getrandbits(64)}</v></c></row>".encode())  # fmt: skip
            member.write(b"</sheetData></worksheet>")
    content = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        expanded = sum(part.file_size for part in archive.infolist())
    assert len(content) <= settings.import_inline_bytes < expanded // 8
    started = time.perf_counter()
    response = upload(client, content, name="wide.xlsx")
    assert response.status_code == 202, response.get_data(as_text=True)[:300]
    assert time.perf_counter() - started < 2


def test_a_workbook_of_empty_rows_is_refused_without_reading_it_all(client, db, tmp_path) -> None:
    """No work order in the first 10,000 rows under the header: refused at once (a file of
    a million empty rows would otherwise be read to its end inside the request)."""
    import zipfile

    from tests.helpers.hostile_files import workbook_parts

    path = tmp_path / "empty.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in workbook_parts().items():
            if name != SHEET:
                archive.writestr(name, content)
        with archive.open(SHEET, "w") as member:
            member.write(sheet(close="", dimension="A1:A299999"))
            for number in range(2, 300_000):
                member.write(f'<row r="{number}"><c r="A{number}" s="1"/></row>'.encode())
            member.write(b"</sheetData></worksheet>")
    started = time.perf_counter()
    response = upload(client, path.read_bytes(), name="empty.xlsx")
    assert response.status_code == 422 and "前 10000 行都是空行" in response.json["detail"]
    assert time.perf_counter() - started < 2 and batches(db) == 0
