"""Uploading exports and pushing calls over the API."""

from __future__ import annotations

import io
import threading
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from hotline.models import ImportBatch, Ticket
from tests.conftest import TEST_DATABASE
from tests.helpers import auth
from tests.helpers import upload_export as upload

CSV = ("工单编号,诉求内容,承办单位,来电号码,来电时间\n"
       "GD1,和平路菜市场门口流动摊贩占道经营,城管局,138-1234-1234,2026-11-20 09:30\n"
       "GD2,夜里工地噪音很大,,,2026-11-20 23:00\n"
       "GD3,,,12,2026-02-30\n").encode("gb18030")  # fmt: skip
CALL = {"external_ref": "P-0001", "description": "小区门口垃圾堆积很多天了",
        "lead_unit": "城管局", "phone": "+86 138 1234 1234", "reported_at": "2026-11-21 08:15",
        "urgency": "一般"}  # fmt: skip


def test_a_small_upload_is_imported_within_the_request(client) -> None:
    response = upload(client, CSV)
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["status"], body["created"], body["rejected"], body["rows_done"]) == (
        "done",
        2,
        1,
        3,
    )
    assert body["rejections"][0]["row"] == 4 and "诉求内容为空" in body["rejections"][0]["reason"]
    again = upload(client, CSV).json
    assert (again["created"], again["unchanged"]) == (0, 2)
    progress = client.get(response.headers["Location"], headers=auth("hl_demo_supervisor"))
    assert progress.status_code == 200 and progress.json["id"] == body["id"]
    csv_file = client.get(body["rejected_csv"], headers=auth())
    assert csv_file.mimetype == "text/csv"
    text = csv_file.get_data().decode("utf-8")
    assert text.startswith("\ufeff工单编号,诉求内容,承办单位,来电号码,来电时间,原行号,未导入原因")
    assert "GD3" in text and "［来电时间］日期不存在" in text
    listing = client.get("/api/v1/imports", headers=auth("hl_demo_admin")).json
    assert [b["id"] for b in listing][:2] == [again["id"], body["id"]]


def test_a_large_upload_is_a_background_batch(app, db, settings) -> None:
    from hotline.background.imports import flush_imports

    app.extensions["hotline"].settings = replace(settings, import_inline_bytes=10)
    client = app.test_client()
    response = upload(client, CSV)
    assert response.status_code == 202 and response.json["status"] == "pending"
    assert response.json["total_rows"] == 3
    assert flush_imports(replace(settings, redis_url=None), db) == [response.json["id"]]
    done = client.get(response.headers["Location"], headers=auth()).json
    assert (done["status"], done["created"], done["rows_done"]) == ("done", 2, 3)
    assert not list(settings.import_dir.iterdir())  # the upload is removed once imported


def test_bad_uploads_get_clear_problems(app, client, settings) -> None:
    empty = upload(client, b"")
    assert empty.status_code == 422 and "文件为空" in empty.json["errors"]["file"][0]
    header_only = upload(client, "工单编号,诉求内容\n".encode())
    assert "只有表头" in header_only.json["errors"]["file"][0]
    missing = upload(client, "编号,内容\nA,B\n".encode())
    assert "缺少必需的列" in missing.json["detail"]
    old = upload(client, b"\xd0\xcf\x11\xe0" + b"\0" * 64, name="old.xls")
    assert "旧版 Excel" in old.json["errors"]["file"][0]
    no_file = client.post("/api/v1/imports", headers=auth(), data={"source": "x"},
                          content_type="multipart/form-data")  # fmt: skip
    assert no_file.status_code == 422 and "请选择要导入的文件" in str(no_file.json["errors"])
    preset = upload(client, CSV, preset="nope")
    assert preset.status_code == 422
    mapping = upload(client, CSV, mapping="columns: [1, 2")
    assert mapping.status_code == 422 and "映射有误" in mapping.json["errors"]["mapping"][0]
    assert upload(client, CSV, token="hl_demo_unit").status_code == 403
    assert client.post("/api/v1/imports").status_code == 401
    assert not list(settings.import_dir.iterdir())  # refused files are not kept


def test_oversized_uploads_are_refused_before_reading(app, settings) -> None:
    app.extensions["hotline"].settings = replace(settings, import_max_bytes=1024)
    client = app.test_client()
    response = upload(client, b"x" * 4096)
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert "不能超过" in response.json["detail"]


def test_pushed_calls_are_idempotent(client, db) -> None:
    first = client.post("/api/v1/intake/calls", json=CALL, headers=auth())
    assert first.status_code == 201 and first.headers["Import-Outcome"] == "created"
    assert first.json["status"] == "dispatched" and first.json["lead_unit"]["code"] == "dept-cgj"
    again = client.post("/api/v1/intake/calls", json=CALL, headers=auth())
    assert again.status_code == 200 and again.json["number"] == first.json["number"]
    assert again.headers["Import-Outcome"] == "unchanged"
    changed = client.post("/api/v1/intake/calls", json={**CALL, "description": "垃圾还在，更臭了"},
                          headers=auth())  # fmt: skip
    assert changed.status_code == 200 and changed.headers["Import-Outcome"] == "updated"
    other_source = client.post("/api/v1/intake/calls", json={**CALL, "source": "区热线"},
                               headers=auth())  # fmt: skip
    assert other_source.status_code == 201  # numbers are unique per source
    bad = client.post("/api/v1/intake/calls", headers=auth(),
                      json={"external_ref": "P-2", "description": "", "phone": "12"})  # fmt: skip
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"description", "phone"}
    unknown = client.post("/api/v1/intake/calls", json={**CALL, "colour": "red"}, headers=auth())
    assert unknown.status_code == 422
    assert client.post("/api/v1/intake/calls", json=CALL,
                       headers=auth("hl_demo_unit")).status_code == 403  # fmt: skip
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 2
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="a real race needs PostgreSQL")
def test_concurrent_pushes_of_one_number_make_one_ticket(app, db) -> None:
    barrier = threading.Barrier(6)
    results: list[tuple[int, str]] = []

    def push() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/intake/calls", json=CALL, headers=auth())
        results.append((response.status_code, response.json.get("number", "")))

    threads = [threading.Thread(target=push) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(code for code, _ in results) == [200] * 5 + [201]
    assert len({number for _, number in results}) == 1
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_an_xlsx_upload_with_another_layout(client) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(
        ["工单编号", "工单类型", "问题描述", "受理时间", "求助号码", "主办单位", "办结期限"]
    )
    sheet.append(["X-1", "占道经营", "流动摊贩占道经营", "2026/11/20 09:30", 13812341234,
                  "城管局", "2026-11-27 17:00"])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    response = upload(client, out.getvalue(), name="导出.xlsx", preset="12345-v2")
    assert response.status_code == 201, response.json
    assert (response.json["created"], response.json["rejected"]) == (1, 0)
    ticket = client.get("/api/v1/tickets?limit=1", headers=auth()).json["items"][0]
    assert ticket["lead_unit"]["code"] == "dept-cgj"


def test_refused_rows_download_without_live_formulas(client) -> None:
    """A call-centre export can carry anything a caller said; the refused rows go back to an
    operator's Excel with every formula-looking cell, header cells too, turned into text."""
    import csv

    out = io.StringIO()
    csv.writer(out).writerows([
        ["工单编号", "诉求内容", "来电号码", "=cmd|' /C calc'!A0"],
        ['=HYPERLINK("http://evil.example")', "", "+8613812341234", "@SUM(1+1)"],
        ["-2+3", "\t=1+1", "\r=1", "-5"],
    ])  # fmt: skip
    response = upload(client, out.getvalue().encode())
    assert response.status_code == 201 and response.json["rejected"] == 2
    text = client.get(response.json["rejected_csv"], headers=auth()).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][3] == "'=cmd|' /C calc'!A0"
    cells = [cell for row in rows for cell in row]
    live = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert live == ["+8613812341234", "-5"], live  # plain numbers stay numbers
