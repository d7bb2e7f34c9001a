"""The unit page's Open311 fields in a real browser, on a phone (390) and a desktop (1366):
filled in with the page's own form, a wrong address refused next to its field, the key
never shown again, and no sideways scroll with the long explanation and URLs."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from hotline.models import Unit
from tests.e2e.conftest import no_sideways_scroll, shot, sign_in

SIZES = {"phone": (390, 844), "desktop": (1366, 900)}
KEY = "cgj-open311-密钥-2026"
FIELDS = ("open311_endpoint", "open311_api_key", "open311_service_code", "open311_jurisdiction")


@pytest.fixture
def cgj(db):
    with db.transaction() as session:
        unit = session.scalar(select(Unit).where(Unit.code == "dept-cgj"))
        saved = {name: getattr(unit, name) for name in FIELDS}
    yield
    with db.transaction() as session:
        session.execute(update(Unit).where(Unit.code == "dept-cgj").values(**saved))


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_open311_fields_on_the_unit_page(page, server, db, cgj, size) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server, "admin", "demo-admin-1")
    assert page.goto(f"{server}/console/admin/units/dept-cgj").status == 200
    no_sideways_scroll(page)
    box = page.locator("fieldset.open311")
    assert "GeoReport v2" in box.inner_text()

    box.get_by_label("接口地址").fill("cgj.example.gov.cn/open311/v2")
    box.get_by_label("服务代码").fill("CG-ZDJY")
    box.get_by_label("密钥").fill(KEY)
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    error = page.locator("#unit-open311_endpoint-error")
    assert "http:// 或 https://" in error.inner_text()
    no_sideways_scroll(page)
    shot(page, f"unit-open311-refused-{size}")

    box = page.locator("fieldset.open311")
    box.get_by_label("接口地址").fill("https://cgj.example.gov.cn/open311/v2")
    box.get_by_label("辖区编号").fill("wenming.gov.cn")
    box.get_by_label("密钥").fill(KEY)
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    assert "单位信息已保存" in page.content()
    assert KEY not in page.content() and "已设置，出于安全不再显示" in page.content()
    no_sideways_scroll(page)
    shot(page, f"unit-open311-{size}")
    with db.transaction() as session:
        unit = session.scalar(select(Unit).where(Unit.code == "dept-cgj"))
        assert (unit.open311_endpoint, unit.open311_api_key) == (
            "https://cgj.example.gov.cn/open311/v2", KEY)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_open311_fields_on_the_new_unit_page(page, server, size) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server, "admin", "demo-admin-1")
    assert page.goto(f"{server}/console/admin/units/new").status == 200
    assert "单位系统对接（Open311，可不填）" in page.locator("fieldset.open311").inner_text()
    no_sideways_scroll(page)
    shot(page, f"unit-new-open311-{size}")
