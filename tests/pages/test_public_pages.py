"""The resident's pages: form at /, tracking at /track/<number>?token=..."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from hotline.models import Attachment, Ticket
from tests.helpers import csrf_token, image_bytes

FORM = {
    "category": "street-vending",
    "description": "和平路菜市场门口流动摊贩占道经营，行人只能走机动车道。",
    "address": "和平路 12 号",
    "reporter_name": "张三",
    "reporter_phone": "138 1234 1234",
    "consent_contact": "on",
}


def submit(client, data=None, photos=()):
    payload = {**(FORM if data is None else data), "csrf_token": csrf_token(client)}
    payload["photos"] = [(io.BytesIO(content), name) for content, name in photos]
    return client.post("/", data=payload, content_type="multipart/form-data")


def tickets(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def uploads(settings) -> list:
    return list(settings.upload_dir.glob("*")) if settings.upload_dir.exists() else []


def test_form_is_chinese_mobile_friendly_and_lists_categories(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and 'name="viewport"' in page
    assert "不确定" in page and "占道经营" in page
    assert 'name="csrf_token"' in page
    # Scripts only enhance (the form posts without them): our own files, never inline.
    assert re.findall(r"<script[^>]*>", page) == [
        '<script src="/static/photos.js">',
        '<script src="/static/resident_form.js">',
    ]


def test_submit_redirects_to_tracking_page_with_number(client, db) -> None:
    response = submit(client, photos=[(image_bytes("JPEG", exif=True), "现场.jpg")])
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/track/WM20261121-0001"
    token = parse_qs(location.query)["token"][0]
    page = client.get(f"{location.path}?{location.query}").get_data(as_text=True)
    assert "提交成功" in page and "WM20261121-0001" in page
    assert "138****1234" in page and "13812341234" not in page
    assert "张*" in page and "张三" not in page
    assert "您的诉求已受理" in page
    photo_url = re.search(r'src="(/track/WM20261121-0001/photos/\d+\?token=[^"]+)"', page)
    assert photo_url
    photo = client.get(photo_url.group(1).replace("&amp;", "&"))
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert client.get(photo_url.group(1).split("?")[0] + "?token=wrong").status_code == 404
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket))
        assert ticket.channel == "web" and ticket.reporter_phone == "13812341234"
    assert len(token) == 24


def test_missing_csrf_token_is_refused_kindly(client, db) -> None:
    response = client.post("/", data=FORM)
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert tickets(db) == 0


def test_validation_errors_are_shown_next_to_fields_in_chinese(client, db) -> None:
    response = submit(client, {**FORM, "description": "短", "reporter_phone": "123"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "至少需要 5 个字" in page and "请填写有效的手机号码" in page
    assert 'value="和平路 12 号"' in page  # what was typed is kept
    assert tickets(db) == 0
    with_photo = submit(client, {**FORM, "description": "短"}, photos=[(image_bytes(), "a.png")])
    assert "照片需要重新选择" in with_photo.get_data(as_text=True)


def test_anonymous_without_phone_is_accepted(client, db) -> None:
    data = {k: v for k, v in FORM.items() if k not in {"reporter_phone", "reporter_name"}}
    response = submit(client, {**data, "anonymous": "on"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "匿名" in page


def test_not_an_image_is_415_and_leaves_nothing(client, db, settings) -> None:
    response = submit(client, photos=[(b"MZ\x90\x00 not an image", "photo.jpg")])
    assert response.status_code == 415
    assert "不是有效的图片文件" in response.get_data(as_text=True)
    assert tickets(db) == 0 and uploads(settings) == []


def test_oversized_photo_is_413(client, db, settings) -> None:
    big = image_bytes("PNG") + b"\x00" * (settings.max_photo_bytes + 1)
    response = submit(client, photos=[(big, "big.png")])
    assert response.status_code == 413
    assert tickets(db) == 0 and uploads(settings) == []


def test_too_many_photos_is_413(client, db) -> None:
    photos = [(image_bytes(), f"{i}.png") for i in range(4)]
    assert submit(client, photos=photos).status_code == 413
    assert tickets(db) == 0


def test_whole_request_over_the_limit_is_413_page(client, settings) -> None:
    limit = settings.max_photos * settings.max_photo_bytes + 1024 * 1024
    response = client.post(
        "/", data={"description": "x" * (limit + 10)}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert "提交的内容过大" in response.get_data(as_text=True)


def test_failed_database_write_removes_stored_photos(client, db, settings, monkeypatch) -> None:
    from hotline.web.public import form as public

    def explode(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(public, "submit_ticket", explode)
    response = submit(client, photos=[(image_bytes(), "a.png")])
    assert response.status_code == 500
    assert "系统暂时出现问题" in response.get_data(as_text=True)
    assert "database went away" not in response.get_data(as_text=True)
    assert uploads(settings) == []


def test_script_in_description_is_escaped(client) -> None:
    response = submit(client, {**FORM, "description": "<script>alert('x')</script>垃圾没人收"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page


def test_wrong_token_and_missing_ticket_look_the_same(client) -> None:
    response = submit(client)
    path = urlsplit(response.headers["Location"]).path
    wrong = client.get(f"{path}?token=AAAAAAAAAAAAAAAAAAAAAAAA")
    missing = client.get("/track/WM20990101-0001?token=AAAAAAAAAAAAAAAAAAAAAAAA")
    no_token = client.get(path)
    assert wrong.status_code == missing.status_code == no_token.status_code == 404
    assert wrong.get_data() == missing.get_data() == no_token.get_data()


def test_photo_of_another_ticket_is_404(client, db) -> None:
    first = submit(client, photos=[(image_bytes(), "a.png")])
    second = submit(client)
    with db.transaction() as session:
        photo_id = session.scalar(select(Attachment.id))
    location = urlsplit(second.headers["Location"])
    url = f"{location.path}/photos/{photo_id}?{location.query}"
    assert client.get(url).status_code == 404
    assert first.status_code == 303


def test_unknown_page_is_a_chinese_404(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "未找到" in response.get_data(as_text=True)


def test_form_submissions_are_rate_limited_per_address(settings, db, clock) -> None:
    from dataclasses import replace

    from hotline.app import create_app

    app = create_app(replace(settings, form_rate_limit="2/minute"), database=db)
    app.extensions["hotline"].clock = clock
    client = app.test_client()
    assert [submit(client).status_code for _ in range(2)] == [303, 303]
    third = submit(client)
    assert third.status_code == 429
    assert "提交过于频繁" in third.get_data(as_text=True)
    assert tickets(db) == 2
    other = app.test_client()
    # Another address is not affected.
    payload = {**FORM, "csrf_token": csrf_token(other)}
    response = other.post("/", data=payload, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 303


def test_pages_forbid_scripts_and_framing(client) -> None:
    headers = client.get("/").headers
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_consent_to_be_called_starts_unticked(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'name="consent_contact"\s*>', page)


def test_tracking_page_is_not_cached_and_uses_public_base_url(settings, db, clock) -> None:
    from dataclasses import replace

    from hotline.app import create_app

    app = create_app(replace(settings, public_base_url="https://12345.example.gov.cn"), database=db)
    app.extensions["hotline"].clock = clock
    client = app.test_client()
    location = submit(client).headers["Location"]
    response = client.get(location)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "https://12345.example.gov.cn/track/WM20261121-0001?token=" in response.get_data(
        as_text=True
    )


def test_tracking_links_are_the_routes_own_urls(app) -> None:
    from flask import url_for

    from hotline.domain.tracking import tracking_token
    from hotline.links import tracking_path

    token = tracking_token("test-secret", "WM20261121-0001", "salt")
    for base_url in ("http://localhost/", "http://localhost/hotline/"):  # mounted below a path
        with app.test_request_context("/", base_url=base_url):
            assert tracking_path("WM20261121-0001", "salt", new="1") == url_for(
                "public.track", number="WM20261121-0001", token=token, new="1"
            )


def _resolve_via_api(client, number: str) -> None:
    unit, supervisor = (
        {"Authorization": "Bearer hl_demo_unit"},
        {"Authorization": "Bearer hl_demo_supervisor"},
    )
    for action, headers, payload in [
        ("accept", unit, {}), ("waive_co_units", supervisor, {}),
        ("resolve", unit, {"reply": "摊贩已劝离"}),
    ]:  # fmt: skip
        version = client.get(f"/api/v1/tickets/{number}", headers=supervisor).json["version"]
        response = client.post(f"/api/v1/tickets/{number}/actions/{action}",
                               json={"version": version, **payload}, headers=headers)  # fmt: skip
        assert response.status_code == 200, response.json


def test_resident_confirms_on_the_tracking_page(client, db) -> None:
    location = submit(client).headers["Location"]
    path, query = location.split("?", 1)
    number = path.rsplit("/", 1)[1]
    assert "请您评价" not in client.get(location).get_data(as_text=True)
    _resolve_via_api(client, number)
    page = client.get(location).get_data(as_text=True)
    assert "请您评价办理结果" in page and "摊贩已劝离" in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    token = query.split("token=")[1].split("&")[0]
    form = {"csrf_token": csrf_token(client), "version": version, "resolved": "yes",
            "satisfaction": "basic", "comment": "还可以"}  # fmt: skip
    response = client.post(f"{path}/confirm?token={token}", data=form)
    assert response.status_code == 303 and "thanks=1" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "感谢您的评价" in page and "基本满意" in page and "请您评价办理结果" not in page
    again = client.post(f"{path}/confirm?token={token}", data=form)
    assert again.status_code == 409
    wrong = client.post(f"{path}/confirm?token=AAAAAAAAAAAAAAAAAAAAAAAA", data=form)
    assert wrong.status_code == 404
