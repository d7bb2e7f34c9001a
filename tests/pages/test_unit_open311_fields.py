"""A unit's Open311 system on the admin console: the four fields, checked, the key never
shown (nor kept in the audit log) once saved, kept when left empty, and cleared on purpose."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import delete, select, update

from hotline.models import AuditEvent, Unit
from tests.helpers import form_post, signed_in

ADMIN = ("admin", "demo-admin-1")
PAGE = "/console/admin/units/dept-cgj"
KEY = "o311-城管-密钥-7f3a9c"
OPEN311 = ("open311_endpoint", "open311_api_key", "open311_service_code",
           "open311_jurisdiction")  # fmt: skip


@pytest.fixture
def cgj(db):
    """dept-cgj as seeded, restored afterwards (units are seeded once per session)."""
    with db.transaction() as session:
        unit = session.scalar(select(Unit).where(Unit.code == "dept-cgj"))
        saved = {name: getattr(unit, name) for name in ("contact_name", "contact_phone",
                                                        "email", "webhook_url", "aliases",
                                                        *OPEN311)}  # fmt: skip
    yield
    with db.transaction() as session:
        session.execute(update(Unit).where(Unit.code == "dept-cgj").values(**saved))


def contacts(page: str) -> dict[str, str]:
    """What the seeded contact fields hold, so that a post changes only Open311's."""
    found = {}
    for name in ("contact_name", "contact_phone", "email", "webhook_url", "aliases"):
        match = re.search(rf'name="{name}" type="[^"]*" value="([^"]*)"', page)
        found[name] = match.group(1) if match else ""
    return found


def unit_row(db) -> Unit:
    with db.transaction() as session:
        return session.scalar(select(Unit).where(Unit.code == "dept-cgj"))


def test_the_unit_page_explains_checks_and_hides_the_key(app, db, cgj) -> None:
    admin = signed_in(app, *ADMIN)
    page = admin.get(PAGE).get_data(as_text=True)
    assert "单位系统对接（Open311）" in page and "GeoReport v2" in page
    assert 'name="open311_api_key" type="password" value=""' in page
    base = contacts(page)

    wrong = form_post(admin, PAGE, PAGE, **base, open311_endpoint="ftp://城管.example/v2",
                      open311_service_code="cg 01", open311_api_key=KEY)  # fmt: skip
    assert wrong.status_code == 422
    said = wrong.get_data(as_text=True)
    assert "应为 http:// 或 https:// 开头的接口根地址" in said and "服务代码 64 字以内" in said
    assert KEY not in said  # not even echoed back into the form
    endpoint_only = form_post(admin, PAGE, PAGE, **base,
                              open311_endpoint="https://cgj.example.gov.cn/open311/v2/requests.xml")
    assert endpoint_only.status_code == 422
    assert "不要带 requests.xml" in endpoint_only.get_data(as_text=True)
    no_key = form_post(admin, PAGE, PAGE, **base,
                       open311_endpoint="https://cgj.example.gov.cn/open311/v2",
                       open311_service_code="CG-ZDJY")  # fmt: skip
    assert no_key.status_code == 422 and "请填写对方系统给的密钥" in no_key.get_data(as_text=True)
    assert unit_row(db).open311_endpoint is None

    saved = form_post(admin, PAGE, PAGE, **base,
                      open311_endpoint="https://cgj.example.gov.cn/open311/v2/",
                      open311_service_code="CG-ZDJY", open311_jurisdiction="wenming.gov.cn",
                      open311_api_key=KEY)  # fmt: skip
    assert saved.status_code == 303
    unit = unit_row(db)
    assert unit.open311_endpoint == "https://cgj.example.gov.cn/open311/v2"  # no trailing /
    assert (unit.open311_api_key, unit.open311_service_code) == (KEY, "CG-ZDJY")
    assert unit.open311_jurisdiction == "wenming.gov.cn"
    page = admin.get(PAGE).get_data(as_text=True)
    assert KEY not in page and "已设置，出于安全不再显示" in page
    assert 'value="https://cgj.example.gov.cn/open311/v2"' in page
    with db.transaction() as session:
        entry = session.scalar(select(AuditEvent).where(AuditEvent.action == "unit.updated")
                               .order_by(AuditEvent.id.desc()).limit(1))  # fmt: skip
        logged = json.dumps(entry.data, ensure_ascii=False)
    assert KEY not in logged and entry.data["after"]["open311_api_key_set"] is True

    # Saving the contacts again with the key left empty keeps it.
    again = form_post(admin, PAGE, PAGE, **base, open311_endpoint=unit.open311_endpoint,
                      open311_service_code="CG-ZDJY-2")  # fmt: skip
    assert again.status_code == 303
    assert (unit_row(db).open311_api_key, unit_row(db).open311_service_code) == (KEY, "CG-ZDJY-2")

    # Clearing the key while the endpoint stays is refused; clearing both stops the link.
    half = form_post(admin, PAGE, PAGE, **base, open311_endpoint=unit.open311_endpoint,
                     open311_service_code="CG-ZDJY", open311_api_key_clear="1")  # fmt: skip
    assert half.status_code == 422 and unit_row(db).open311_api_key == KEY
    stopped = form_post(admin, PAGE, PAGE, **base, open311_api_key_clear="1")
    assert stopped.status_code == 303
    unit = unit_row(db)
    assert unit.open311_endpoint is None and unit.open311_api_key is None


def test_a_new_unit_may_come_with_its_open311_system(app, db) -> None:
    admin = signed_in(app, *ADMIN)
    form = "/console/admin/units/new"
    page = admin.get(form).get_data(as_text=True)
    assert "单位系统对接（Open311，可不填）" in page
    try:
        made = form_post(admin, form, form, kind="department", parent="", name="市水务集团",
                         code="dept-water-group",
                         open311_endpoint="http://10.2.3.4:8080/georeport/v2",
                         open311_service_code="water-leak", open311_api_key=KEY)  # fmt: skip
        assert made.status_code == 303
        with db.transaction() as session:
            unit = session.scalar(select(Unit).where(Unit.code == "dept-water-group"))
            assert unit.open311_endpoint == "http://10.2.3.4:8080/georeport/v2"
            assert unit.open311_api_key == KEY and unit.open311_jurisdiction is None
            logged = session.scalar(select(AuditEvent.data).where(
                AuditEvent.subject == "unit:dept-water-group"))  # fmt: skip
        assert KEY not in json.dumps(logged, ensure_ascii=False)
    finally:
        with db.transaction() as session:
            session.execute(delete(Unit).where(Unit.code == "dept-water-group"))
