"""Photos of real size (4–5 MB, 12 MP, with GPS in EXIF) through every upload path: the
public form, the API's attachments and the console's evidence; and one byte over the limit."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from hotline.models import Attachment, Ticket
from tests.helpers import VALID, auth, csrf_token, signed_in
from tests.helpers import console_act as act
from tests.helpers.photos import MB, NAMES, has_exif, over_limit_photo, phone_photo

FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
FORM = {"description": "和平路菜市场门口流动摊贩占道经营，行人只能走机动车道。",
        "reporter_phone": "13812341234", "category": "street-vending",
        "address": "文明区和平路 12 号"}  # fmt: skip


@pytest.fixture
def real_limits(app, settings):
    """The production limits (4 photos × 5 MB), not the suite's small ones."""
    app.extensions["hotline"].settings = replace(settings, max_photo_bytes=5 * MB, max_photos=4)
    return app.extensions["hotline"].settings


def files(*formats: str) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(phone_photo(fmt)), NAMES[fmt]) for fmt in formats]


def submit(client, photos):
    data = {**FORM, "csrf_token": csrf_token(client), "photos": photos}
    return client.post("/", data=data, content_type="multipart/form-data")


def stored(settings) -> list:
    return sorted(settings.upload_dir.glob("*")) if settings.upload_dir.exists() else []


def count(db, model) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_form_takes_four_phone_photos_and_heic_becomes_jpeg(client, db, real_limits) -> None:
    response = submit(client, files(*FORMATS))
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with db.transaction() as session:
        rows = list(session.scalars(select(Attachment).order_by(Attachment.id)))
    assert [r.content_type for r in rows] == ["image/jpeg", "image/png", "image/webp",
                                               "image/jpeg"]  # fmt: skip
    assert rows[3].original_name == "IMG_0002.HEIC"
    for row in rows:
        content = (real_limits.upload_dir / row.stored_name).read_bytes()
        assert not has_exif(content), f"{row.original_name} kept its EXIF (GPS)"
        assert (row.width, row.height) != (0, 0)


def test_a_photo_one_byte_over_keeps_what_the_resident_typed(client, db, real_limits) -> None:
    photos = [*files("JPEG"), (io.BytesIO(over_limit_photo(5 * MB)), "IMG_9999.jpg")]
    response = submit(client, photos)
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert FORM["description"] in page and FORM["reporter_phone"] in page  # nothing lost
    error = re.search(r'<p class="error" id="photos-error">([^<]*)</p>', page)
    assert error and "IMG_9999.jpg" in error.group(1) and "5 MB" in error.group(1)
    assert 'aria-describedby="photos-error"' in page
    assert "重新选择" in page  # browsers never refill a file input: say so
    assert count(db, Ticket) == 0 and stored(real_limits) == []


def test_not_an_image_keeps_the_form_too(client, db, real_limits) -> None:
    fake = (io.BytesIO(b"%PDF-1.7\n" + bytes(range(256)) * 16000), "发票.jpg")
    response = submit(client, [fake])
    page = response.get_data(as_text=True)
    assert response.status_code == 415 and FORM["description"] in page
    assert "发票.jpg" in re.search(r'id="photos-error">([^<]*)<', page).group(1)
    assert count(db, Ticket) == 0


def test_the_form_warns_before_uploading(client, real_limits) -> None:
    page = client.get("/").get_data(as_text=True)
    field = re.search(r'<input id="photos"[^>]*>', page, re.S).group(0)
    assert f'data-max-bytes="{5 * MB}"' in field and 'data-max-files="4"' in field
    assert "image/heic" in field and ".heic" in field
    assert '<script src="/static/photos.js">' in page
    assert client.get("/static/photos.js").status_code == 200


def test_api_attachments_take_phone_photos_and_refuse_one_byte_over(client, real_limits) -> None:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    url = f"/api/v1/tickets/{number}/attachments"
    response = client.post(url, data={"photos": files(*FORMATS)}, headers=auth(),
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    assert [a["content_type"] for a in response.json] == ["image/jpeg", "image/png",
                                                          "image/webp", "image/jpeg"]  # fmt: skip
    too_big = client.post(url, data={"photos": [(io.BytesIO(over_limit_photo()), "big.jpg")]},
                          headers=auth(), content_type="multipart/form-data")  # fmt: skip
    assert too_big.status_code == 413 and too_big.mimetype == "application/problem+json"
    assert "big.jpg" in too_big.json["errors"]["photos"][0]


def _ready_to_resolve(app, client) -> tuple[object, str]:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    unit = signed_in(app, "cgj", "demo-unit-1")
    assert act(unit, number, "accept").status_code == 302
    current = client.get(f"/api/v1/tickets/{number}", headers=auth()).json
    if current["co_units"]:
        waived = client.post(f"/api/v1/tickets/{number}/actions/waive_co_units",
                             json={"version": current["version"]},
                             headers=auth("hl_demo_supervisor"))  # fmt: skip
        assert waived.status_code == 200
    return unit, number


def test_console_evidence_takes_phone_photos(app, client, db, real_limits) -> None:
    unit, number = _ready_to_resolve(app, client)
    done = act(unit, number, "resolve", reply="摊贩已劝离，设置了提示牌", photos=files(*FORMATS))
    assert done.status_code == 302, re.findall(r'class="error"[^>]*>([^<]*)',
                                               done.get_data(as_text=True))  # fmt: skip
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.status == "resolved"
        assert sorted(a.public for a in ticket.attachments) == [True] * 4


def test_console_evidence_one_byte_over_keeps_the_reply(app, client, db, real_limits) -> None:
    unit, number = _ready_to_resolve(app, client)
    photos = [(io.BytesIO(over_limit_photo()), "整改后.jpg")]
    refused = act(unit, number, "resolve", reply="摊贩已劝离，设置了提示牌", photos=photos)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 413
    assert "摊贩已劝离，设置了提示牌" in page  # the reply typed in the street is kept
    assert "整改后.jpg" in re.search(r'id="resolve-photos-error">([^<]*)<', page).group(1)
    assert count(db, Attachment) == 0 and stored(real_limits) == []


def test_imports_take_exports_of_several_megabytes(client, settings) -> None:
    header = "工单编号,诉求内容,来电时间,来电号码\n"
    row = "GD{n:07d},和平路菜市场门口流动摊贩占道经营，行人只能走机动车道，请尽快处理。" \
          "附近居民反映多次未解决,2026-11-20 09:30,13812341234\n"  # fmt: skip
    body = (header + "".join(row.format(n=n) for n in range(30_000))).encode()
    assert len(body) > 3 * MB
    response = client.post("/api/v1/imports", headers=auth(),
                           data={"file": (io.BytesIO(body), "export.csv")},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 202, response.get_data(as_text=True)[:300]
    assert response.json["total_rows"] == 30_000
    (kept,) = list(settings.import_dir.iterdir())
    assert kept.stat().st_size == len(body)
