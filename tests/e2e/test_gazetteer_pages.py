"""The gazetteer upload in a real browser at a phone's width (390) and a desktop's (1366):
the routing page with its form, a refused file with its lines, an accepted one landing on
the new draft's page; no page scrolls sideways."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from hotline import request as request_limits
from hotline.models import AuditEvent, RulesetRecord
from tests.e2e.conftest import no_sideways_scroll, shot, sign_in
from tests.helpers import restore_seeded_ruleset

SIZES = {"phone": (390, 844), "desktop": (1366, 900)}
GOOD = ("地名,别名,单位代码,纬度,经度\n"
        "银杏苑小区,银杏苑、银杏苑社区,grid-zhenxing-gongren-02,30.2611,120.1702\n"
        "梧桐里,,cm-xinhua-li,,\n")  # fmt: skip
BAD = ("地名,别名,单位代码\n"
       "梧桐里,,no-such-unit\n"
       ",一个很长很长的别名、另一个很长很长的别名,cm-xinhua-li\n"
       "梧桐里,,cm-xinhua-li\n")  # fmt: skip


@pytest.fixture
def upload_limit(monkeypatch):
    # Until hotline/request.py lists the upload among ADMIN_FILE_ENDPOINTS (see the page test).
    endpoint = "admin.admin_import_places"
    if endpoint not in request_limits.ADMIN_FILE_ENDPOINTS:
        monkeypatch.setattr(request_limits, "ADMIN_FILE_ENDPOINTS",
                            request_limits.ADMIN_FILE_ENDPOINTS | {endpoint})  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
def test_the_upload_from_refusal_to_draft(page, server, db, tmp_path, size, upload_limit) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server, "admin", "demo-admin-1")
    assert page.goto(f"{server}/console/admin/routing").status == 200
    form = page.locator("form", has=page.get_by_role("heading", name="导入地名库"))
    form.scroll_into_view_if_needed()
    assert form.get_by_label("地名库文件", exact=False).is_visible()
    assert page.get_by_role("heading", name="地名库文件格式").is_visible()
    no_sideways_scroll(page)
    shot(page, f"80-admin-routing-places-{size}")
    bad = tmp_path / "地名库-有误.csv"
    bad.write_text(BAD, encoding="utf-8")
    good = tmp_path / "地名库.csv"
    good.write_text(GOOD, encoding="gb18030")
    try:
        form.get_by_label("地名库文件", exact=False).set_input_files(str(bad))
        with page.expect_navigation():
            form.get_by_role("button", name="导入地名库").click()
        alert = page.get_by_role("alert")
        assert alert.get_by_text("第 2 行：未知的单位代码：no-such-unit").is_visible()
        assert alert.get_by_text("第 4 行：“梧桐里”与第 2 行的地名或别名重复").is_visible()
        alert.scroll_into_view_if_needed()
        no_sideways_scroll(page)
        shot(page, f"81-admin-routing-places-refused-{size}")
        form = page.locator("form", has=page.get_by_role("heading", name="导入地名库"))
        form.get_by_label("地名库文件", exact=False).set_input_files(str(good))
        form.get_by_label("合并", exact=False).check()
        with page.expect_navigation():
            form.get_by_role("button", name="导入地名库").click()
        assert page.get_by_text("已生成草稿", exact=False).first.is_visible()
        assert page.get_by_text("替换同名 0 个", exact=False).first.is_visible()
        no_sideways_scroll(page)
        shot(page, f"82-admin-ruleset-places-draft-{size}")
        page.get_by_label("诉求内容", exact=True).fill("银杏苑门口有人占道经营")
        with page.expect_navigation():
            page.get_by_role("button", name="试分派").click()
        assert page.get_by_text("振兴", exact=False).first.is_visible()
        no_sideways_scroll(page)
    finally:
        with db.transaction() as session:
            restore_seeded_ruleset(session)
            session.execute(delete(AuditEvent))
            session.execute(delete(RulesetRecord).where(RulesetRecord.source == "places"))
