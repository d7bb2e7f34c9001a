"""The admin routing page's gazetteer upload: a new draft version, friendly Chinese problems
with their lines (nothing saved), a dry run, the version page's own upload and downloads."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import delete, func, select

from hotline import request as request_limits
from hotline.models import AuditEvent, RulesetRecord
from tests.helpers import restore_seeded_ruleset, signed_in, token_of

ROUTING = "/console/admin/routing"
GOOD = ("地名,别名,单位代码,纬度,经度\n"
        "银杏苑小区,银杏苑、银杏苑社区,grid-zhenxing-gongren-02,30.2611,120.1702\n"
        "梧桐里,,cm-xinhua-li,,\n")  # fmt: skip
BAD = ("地名,别名,单位代码\n"
       "梧桐里,,no-such-unit\n"
       ",别名,cm-xinhua-li\n"
       "梧桐里,,cm-xinhua-li\n")  # fmt: skip
ENDPOINTS = {"admin.admin_import_places"}


@pytest.fixture
def admin(app, db, monkeypatch):
    # Until hotline/request.py gives the upload the admin file limit (see the test below),
    # lend it here, as body_limit would.
    missing = ENDPOINTS - request_limits.ADMIN_FILE_ENDPOINTS
    if missing:
        monkeypatch.setattr(request_limits, "ADMIN_FILE_ENDPOINTS",
                            request_limits.ADMIN_FILE_ENDPOINTS | missing)  # fmt: skip
    yield signed_in(app, "admin", "demo-admin-1")
    with db.transaction() as session:
        restore_seeded_ruleset(session)
        session.execute(delete(AuditEvent))
        session.execute(delete(RulesetRecord).where(RulesetRecord.source == "places"))


def upload(client, body: bytes, *, page: str = ROUTING, name: str = "地名库.csv", **fields):
    html = client.get(page).get_data(as_text=True)
    base = re.search(r'name="ruleset" value="(\d+)"', html) or re.search(
        r'<option value="(\d+)" selected', html)  # fmt: skip
    data = {"csrf_token": token_of(html), "ruleset": base.group(1),
            "file": (io.BytesIO(body), name), **fields}  # fmt: skip
    return client.post(f"{ROUTING}/places", data=data, content_type="multipart/form-data")


def drafts(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(RulesetRecord).where(
            RulesetRecord.source == "places"))  # fmt: skip


def test_the_upload_has_the_admin_file_limit(settings) -> None:
    """hotline/request.py must list the upload among ADMIN_FILE_ENDPOINTS: without it the
    file part is dropped (kept up to 0 bytes) and bodies over 2 MB are refused."""
    limit = request_limits.body_limit("admin.admin_import_places", settings)
    assert limit.file_bytes == request_limits.ADMIN_FILE_BYTES and limit.files == 1


def test_the_routing_page_offers_the_upload_and_counts_places(admin) -> None:
    page = admin.get(ROUTING).get_data(as_text=True)
    assert "导入地名库" in page and 'name="merge"' in page and 'name="dry_run"' in page
    assert re.search(r'<td data-label="地名">\d+</td>', page)  # places per version
    assert "地名库文件格式" in page and "places.csv" in page


def test_an_upload_makes_a_draft_version(admin, db) -> None:
    response = upload(admin, GOOD.encode("gb18030"))
    assert response.status_code == 303
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "已生成草稿" in page and "新版本共 2 个（1 个有坐标）" in page
    assert "2 个地名" in page and "草稿" in page
    with db.transaction() as session:
        draft = session.scalar(select(RulesetRecord).where(RulesetRecord.source == "places"))
        assert draft.status == "draft" and len(draft.data["places"]) == 2
        active = session.scalar(select(RulesetRecord).where(RulesetRecord.status == "active"))
        assert active.source == "seed"  # untouched until an admin activates the draft
    tried = admin.get(f"{ROUTING}/{draft.id}?text=银杏苑门口有人占道经营").get_data(as_text=True)
    assert "振兴" in tried  # the territorial path through the new place's grid


def test_a_bad_file_lists_its_lines_and_saves_nothing(admin, db) -> None:
    response = upload(admin, BAD.encode("utf-8"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "地名库未导入，未作任何保存" in page
    assert "第 2 行：未知的单位代码：no-such-unit" in page and "第 3 行：缺少地名" in page
    assert "第 4 行：“梧桐里”与第 2 行的地名或别名重复" in page
    assert 'aria-invalid="true" aria-describedby="places-error"' in page
    assert drafts(db) == 0


def test_wrong_files_are_refused_kindly(admin, db) -> None:
    old_excel = upload(admin, b"\xd0\xcf\x11\xe0" + b"\0" * 64, name="地名.xls")
    assert old_excel.status_code == 422 and "旧版 Excel" in old_excel.get_data(as_text=True)
    empty = upload(admin, b"", name="empty.csv")
    assert empty.status_code == 422 and "文件为空" in empty.get_data(as_text=True)
    headers_only = upload(admin, "地名,单位代码\n".encode(), name="h.csv")
    assert "文件中没有地名数据行" in headers_only.get_data(as_text=True)
    picture = upload(admin, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, name="map.png")
    assert picture.status_code == 422
    assert "这是PNG 图片，不是地名表：请上传 CSV 或 XLSX 文件" in picture.get_data(as_text=True)
    garbled = upload(admin, bytes(range(128, 256)) * 8, name="x.csv")
    assert "无法识别文件编码" in garbled.get_data(as_text=True)
    assert "--encoding" not in garbled.get_data(as_text=True)  # a command-line hint
    assert drafts(db) == 0


def test_a_dry_run_checks_only(admin, db) -> None:
    response = upload(admin, GOOD.encode(), dry_run="1")
    assert response.status_code == 303
    assert "检查通过，未保存" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert drafts(db) == 0


def test_the_version_page_uploads_onto_itself_and_downloads(admin, db) -> None:
    with db.transaction() as session:
        active = session.scalar(select(RulesetRecord.id).where(RulesetRecord.status == "active"))
    page = f"{ROUTING}/{active}"
    html = admin.get(page).get_data(as_text=True)
    assert "导入地名库（以本版本为基础）" in html and "个地名" in html
    exported = admin.get(f"{ROUTING}/{active}/places.csv")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    body = exported.get_data()
    assert body.decode("utf-8-sig").splitlines()[0] == "地名,别名,单位代码,纬度,经度"
    assert admin.get(f"{ROUTING}/{active}/places.xlsx").get_data()[:2] == b"PK"
    refused = upload(admin, BAD.encode(), page=page, back="ruleset")
    assert refused.status_code == 422
    assert "导入地名库（以本版本为基础）" in refused.get_data(as_text=True)  # the same page
    again = upload(admin, body, page=page, back="ruleset", merge="1")
    assert again.status_code == 303
    with db.transaction() as session:
        base = session.get(RulesetRecord, active)
        draft = session.scalar(select(RulesetRecord).where(RulesetRecord.source == "places"))
        assert draft.data["places"] == base.data["places"]  # an export reads back as it was


def test_a_large_gazetteer_stays_out_of_the_yaml_editor(admin, db, monkeypatch) -> None:
    from hotline.web.admin import routing as routing_page

    monkeypatch.setattr(routing_page, "PLACES_IN_EDITOR", 10)  # the seeded 60 count as many
    response = upload(admin, GOOD.encode(), merge="1")
    draft = int(response.headers["Location"].rsplit("/", 1)[1])
    page = admin.get(f"{ROUTING}/{draft}").get_data(as_text=True)
    assert "62 个地名不在编辑框中（保存时保持不变）" in page
    editor = re.search(r'<textarea id="yaml"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "places: []" in editor and "银杏苑小区" not in editor
    edited = editor.replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<").replace(
        "&gt;", ">").replace("&amp;", "&").replace("threshold: 0.6", "threshold: 0.65")  # fmt: skip
    saved = admin.post(f"{ROUTING}/{draft}", data={"csrf_token": token_of(page), "yaml": edited})
    assert saved.status_code == 303
    with db.transaction() as session:
        record = session.get(RulesetRecord, draft)
        assert record.data["threshold"] == 0.65 and len(record.data["places"]) == 62
