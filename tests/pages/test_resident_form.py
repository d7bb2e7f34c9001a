"""The resident's complaint form (issue 14): one ticket per form however often it is posted,
every error at once, no silent cut, a rate limit that counts accepted complaints only, a
place without coordinates, and 我也遇到了 on a problem already reported."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from hotline.app import create_app
from hotline.models import Ticket, TicketFollower
from tests.conftest import TEST_DATABASE
from tests.helpers import csrf_token, image_bytes

FORM = {
    "category": "street-vending",
    "description": "和平农贸市场门口流动摊贩占道经营，行人只能走机动车道。",
    "address": "和平农贸市场",
    "reporter_name": "张三",
    "reporter_phone": "138 1234 1234",
}
KEY = "k" * 32


def form_page(client) -> str:
    return client.get("/").get_data(as_text=True)


def key_of(page: str) -> str:
    return re.search(r'name="submission_key" value="([^"]*)"', page).group(1)


def post(client, data=None, *, key: str | None = None, photos=(), address="127.0.0.1"):
    payload = {**(FORM if data is None else data), "csrf_token": csrf_token(client)}
    if key is not None:
        payload["submission_key"] = key
    payload["photos"] = [(io.BytesIO(content), name) for content, name in photos]
    return client.post("/", data=payload, content_type="multipart/form-data",
                       environ_base={"REMOTE_ADDR": address})  # fmt: skip


def count(db, model=Ticket) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def uploads(settings) -> list:
    return list(settings.upload_dir.glob("*")) if settings.upload_dir.exists() else []


def limited_client(settings, db, clock, **limits: str):
    app = create_app(replace(settings, **limits), database=db)
    app.extensions["hotline"].clock = clock
    return app.test_client()


# ---------------------------------------------------------------- one form, one ticket


def test_each_form_has_its_own_key_and_is_never_cached(client) -> None:
    first, second = client.get("/"), client.get("/")
    assert first.headers["Cache-Control"] == "no-store"
    keys = {key_of(first.get_data(as_text=True)), key_of(second.get_data(as_text=True))}
    assert len(keys) == 2 and all(re.fullmatch(r"[A-Za-z0-9_-]{32}", k) for k in keys)


def test_a_second_post_of_one_form_opens_the_first_ticket(client, db, settings) -> None:
    photo = [(image_bytes("JPEG"), "a.jpg")]
    first = post(client, key=KEY, photos=photo)
    assert first.status_code == 303 and "new=1" in first.headers["Location"]
    again = post(client, key=KEY, photos=photo)  # double tap, back button, retry
    assert again.status_code == 303
    first_url, again_url = urlsplit(first.headers["Location"]), urlsplit(again.headers["Location"])
    assert again_url.path == first_url.path == "/track/WM20261121-0001"
    assert "new=1" not in again_url.query
    assert client.get(again.headers["Location"]).status_code == 200
    assert count(db) == 1 and len(uploads(settings)) == 1
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket))
        assert ticket.submission_key == KEY and ticket.version == 1  # no stray version bump


@pytest.mark.parametrize("key", ["", "short", "has spaces and is long enough", "k" * 65])
def test_a_key_of_another_shape_is_ignored(client, db, key: str) -> None:
    assert post(client, key=key).status_code == 303
    assert post(client, key=key).status_code == 303
    assert count(db) == 2


def test_a_refused_form_keeps_its_key_for_the_retry(client, db) -> None:
    refused = post(client, {**FORM, "description": "短"}, key=KEY)
    assert refused.status_code == 422 and key_of(refused.get_data(as_text=True)) == KEY
    assert post(client, key=KEY).status_code == 303
    assert post(client, key=KEY).status_code == 303
    assert count(db) == 1


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="a real race needs PostgreSQL")
def test_concurrent_posts_of_one_form_make_one_ticket(app, db, settings) -> None:
    import threading

    barrier = threading.Barrier(6)
    results: list[tuple[int, str]] = []
    clients = [app.test_client() for _ in range(6)]
    tokens = [csrf_token(c) for c in clients]

    def send(client, token: str) -> None:
        data = {**FORM, "csrf_token": token, "submission_key": "race-" + "r" * 27,
                "photos": [(io.BytesIO(image_bytes("JPEG")), "a.jpg")]}  # fmt: skip
        barrier.wait()
        response = client.post("/", data=data, content_type="multipart/form-data")
        results.append((response.status_code, urlsplit(response.headers["Location"]).path))

    pairs = zip(clients, tokens, strict=True)
    threads = [threading.Thread(target=send, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [303] * 6
    assert len({path for _, path in results}) == 1
    assert count(db) == 1
    assert len(uploads(settings)) == 1  # the losers' photos are gone


# ---------------------------------------------------------------- every error at once


def test_an_empty_submit_lists_every_error_at_once(client, db) -> None:
    response = post(client, {"description": "", "reporter_phone": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary"[^>]*role="alert".*?</div>', page, re.S)
    assert summary, "the summary is first, announced"
    assert page.index("error-summary") < page.index('id="description"')
    assert '<a href="#description">问题描述：此项为必填项</a>' in summary.group(0)
    phone_link = '<a href="#reporter_phone">联系电话：请填写联系电话，或选择匿名反映</a>'
    assert phone_link in summary.group(0)
    textarea = re.search(r"<textarea[^>]*>", page).group(0)
    assert 'aria-invalid="true"' in textarea and "description-error" in textarea
    phone = re.search(r'<input id="reporter_phone"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in phone and 'aria-describedby="reporter_phone-error"' in phone
    assert 'id="description-error"' in page and 'id="reporter_phone-error"' in page
    name = re.search(r'<input id="reporter_name"[^>]*>', page).group(0)
    assert "aria-invalid" not in name
    assert count(db) == 0


def test_the_api_still_reports_one_message_per_field(client) -> None:
    from tests.helpers import auth

    response = client.post("/api/v1/tickets", json={"description": ""}, headers=auth())
    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["description"] == ["此项为必填项"]
    assert errors["reporter_phone"] == ["请填写联系电话，或选择匿名反映"]
    body = {"description": "这是足够长的描述", "reporter_phone": "123"}
    bad = client.post("/api/v1/tickets", headers=auth(), json=body)
    assert bad.json["errors"] == {"reporter_phone": ["请填写有效的手机号码或带区号的固定电话"]}


# ---------------------------------------------------------------- 2000 characters


def test_a_description_over_the_limit_is_kept_and_counted(client, db) -> None:
    assert "maxlength" not in re.search(r"<textarea[^>]*>", form_page(client)).group(0)
    text = "占道经营" * 600  # 2400 characters
    response = post(client, {**FORM, "description": text})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "问题描述最多 2000 字，您输入了 2400 字，请删减 400 字后再提交" in page
    assert f">{text}</textarea>" in page
    assert count(db) == 0


# ---------------------------------------------------------------- rate limit


def test_only_accepted_complaints_count_per_address_and_phone(settings, db, clock) -> None:
    client = limited_client(settings, db, clock, form_rate_limit="2/minute",
                            form_address_rate_limit="")  # fmt: skip
    for _ in range(4):  # mistakes cost nothing
        assert post(client, {**FORM, "description": "短"}).status_code == 422
    assert post(client, key=KEY).status_code == 303
    assert post(client).status_code == 303
    assert post(client, key=KEY).status_code == 303  # the same form again: files nothing
    third = post(client, {**FORM, "description": "第三次反映：和平农贸市场门口仍有摊贩"},
                 photos=[(image_bytes(), "a.png")])  # fmt: skip
    assert third.status_code == 429
    assert int(third.headers["Retry-After"]) >= 1
    assert third.headers["Cache-Control"] == "no-store"
    page = third.get_data(as_text=True)
    assert "提交过于频繁，请在" in page and "后再提交" in page and "照片需要重新选择" in page
    assert "第三次反映：和平农贸市场门口仍有摊贩" in page and 'value="138 1234 1234"' in page
    # Another resident behind the same carrier address is not affected.
    other = post(client, {**FORM, "reporter_phone": "139 0000 1111"})
    assert other.status_code == 303
    assert count(db) == 3


def test_a_looser_limit_per_address_alone(settings, db, clock) -> None:
    client = limited_client(settings, db, clock, form_rate_limit="5/minute",
                            form_address_rate_limit="2/hour")  # fmt: skip
    phones = ["139 0000 0001", "139 0000 0002", "139 0000 0003"]
    statuses = [post(client, {**FORM, "reporter_phone": p}).status_code for p in phones]
    assert statuses == [303, 303, 429]
    elsewhere = post(client, {**FORM, "reporter_phone": phones[2]}, address="10.0.0.9")
    assert elsewhere.status_code == 303


def test_rate_limit_settings_come_from_the_environment() -> None:
    from hotline.config import Settings

    defaults = Settings.from_env({"HOTLINE_SECRET_KEY": "x"})
    assert defaults.form_rate_limit == "5/minute;30/hour"
    assert defaults.form_address_rate_limit == "60/hour"
    env = {"HOTLINE_SECRET_KEY": "x", "HOTLINE_FORM_RATE_LIMIT": "1/minute",
           "HOTLINE_FORM_ADDRESS_RATE_LIMIT": ""}  # fmt: skip
    chosen = Settings.from_env(env)
    assert (chosen.form_rate_limit, chosen.form_address_rate_limit) == ("1/minute", "")


# ---------------------------------------------------------------- where, without coordinates


def test_the_place_field_suggests_the_active_rulesets_places(client) -> None:
    page = form_page(client)
    field = re.search(r'<input id="address"[^>]*>', page).group(0)
    assert 'list="places"' in field
    datalist = re.search(r'<datalist id="places">(.*?)</datalist>', page, re.S).group(1)
    assert '<option value="和平农贸市场">' in datalist and '<option value="和平路">' in datalist
    assert '<option value="和平新村">' not in datalist  # aliases route, they are not offered
    # No number fields for coordinates: only hidden ones the location button fills.
    assert 'inputmode="decimal"' not in page
    assert re.search(r'<input type="hidden" id="latitude" name="latitude"', page)
    assert re.search(r'<button type="button" class="secondary" id="locate" hidden>', page)


def test_a_suggested_place_routes_to_its_territorial_unit(client, db) -> None:
    data = {**FORM, "description": "这里有人乱扔垃圾，气味很大。", "category": "",
            "address": "和平农贸市场"}  # fmt: skip
    assert post(client, data).status_code == 303
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket))
        assert ticket.territorial_unit.code == "grid-heping-xincun-02"


def test_my_position_is_kept_with_the_ticket(client, db) -> None:
    data = {**FORM, "latitude": "30.2761", "longitude": "120.1540"}
    assert post(client, data).status_code == 303
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket))
        assert (ticket.latitude, ticket.longitude) == (30.2761, 120.154)


def test_the_nearest_known_place(client) -> None:
    near = client.get("/places/nearest?lat=30.27612&lng=120.15398")
    assert near.status_code == 200 and near.json["place"] == "和平农贸市场"
    assert near.json["distance_m"] < 10
    far = client.get("/places/nearest?lat=31.5&lng=121.0")
    assert far.status_code == 200 and far.json["place"] is None
    for query in ("lat=abc&lng=1", "lat=91&lng=1", "lat=nan&lng=1", "lng=1"):
        bad = client.get(f"/places/nearest?{query}")
        assert bad.status_code == 400 and bad.json["place"] is None


# ---------------------------------------------------------------- already reported?


def similar(client, **query: str):
    params = {"category": FORM["category"], "address": FORM["address"],
              "description": FORM["description"], **query}  # fmt: skip
    return client.get("/similar", query_string=params)


def test_open_tickets_of_the_same_kind_at_the_same_place_are_shown(client, db) -> None:
    assert post(client).status_code == 303
    response = similar(client, address="和平农贸市场北门")
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "附近已有 1 位市民反映过此问题" in page
    assert "占道经营" in page and "和平农贸市场" in page and "2026-11-21" in page
    assert "已受理" in page or "已转交" in page  # its public status
    for private in ("行人只能走机动车道", "张", "1234", "WM2026"):
        assert private not in page
    assert page.count(">我也遇到了</button>") == 1 and 'name="csrf_token"' in page
    # Another kind, in other words: nothing (the same words at the same place would be listed).
    assert similar(client, category="graffiti", description="和平农贸市场墙上被人乱涂乱画，很难看"
                   ).get_data(as_text=True).strip() == ""  # fmt: skip
    assert similar(client, address="红旗菜市场").get_data(as_text=True).strip() == ""
    assert similar(client, address="").get_data(as_text=True).strip() == ""


def test_unsure_of_the_kind_routing_guesses_it_from_the_description(client, db) -> None:
    assert post(client).status_code == 303
    page = similar(client, category="").get_data(as_text=True)
    assert "附近已有 1 位市民反映过此问题" in page


def test_closed_and_old_tickets_are_not_shown(client, db, clock) -> None:
    assert post(client).status_code == 303
    with db.transaction() as session:
        session.execute(update(Ticket).values(created_at=clock.now - timedelta(days=31)))
    assert similar(client).get_data(as_text=True).strip() == ""
    with db.transaction() as session:
        session.execute(update(Ticket).values(created_at=clock.now, status="closed"))
    assert similar(client).get_data(as_text=True).strip() == ""


def follow_form(client) -> dict[str, str]:
    page = similar(client).get_data(as_text=True)
    return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
            "t": re.search(r'name="t" value="([^"]+)"', page).group(1)}  # fmt: skip


def test_i_have_it_too_adds_a_follower_once(client, db) -> None:
    assert post(client).status_code == 303
    fields = follow_form(client)
    first = client.post("/similar/follow", data={**fields, "phone": "139 0000 1111"})
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert "已关注该问题" in page and "短信通知 139****1111" in page
    again = client.post("/similar/follow", data={**fields, "phone": "13900001111"})
    assert "您已关注" in again.get_data(as_text=True)
    own = client.post("/similar/follow", data={**fields, "phone": "13812341234"})
    assert "您已关注" in own.get_data(as_text=True)  # the reporter hears of it anyway
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket))
        assert ticket.follower_count == 1 and ticket.version == 1
        followers = session.scalars(select(TicketFollower.phone)).all()
        assert followers == ["13900001111"]


def test_i_have_it_too_refuses_what_it_cannot_take(client, db) -> None:
    assert post(client).status_code == 303
    fields = follow_form(client)
    bad_phone = client.post("/similar/follow", data={**fields, "phone": "123"})
    assert bad_phone.status_code == 422
    page = bad_phone.get_data(as_text=True)
    assert "请填写有效的手机号码" in page and 'aria-invalid="true"' in page
    assert f'value="{fields["t"]}"' in page  # the retry keeps the ticket
    forged = {**fields, "t": "1.forged", "phone": "13900001111"}
    forged = client.post("/similar/follow", data=forged)
    assert forged.status_code == 404
    no_csrf = client.post("/similar/follow", data={"t": fields["t"], "phone": "13900001111"})
    assert no_csrf.status_code == 400
    with db.transaction() as session:
        session.execute(update(Ticket).values(status="closed"))
    closed = client.post("/similar/follow", data={**fields, "phone": "13900001111"})
    assert closed.status_code == 404 and "已办结" in closed.get_data(as_text=True)
    assert count(db, TicketFollower) == 0


def test_i_have_it_too_is_rate_limited_per_address_and_phone(settings, db, clock) -> None:
    client = limited_client(settings, db, clock, form_rate_limit="2/minute")
    assert post(client).status_code == 303
    fields = follow_form(client)
    statuses = [client.post("/similar/follow", data={**fields, "phone": "13900001111"}).status_code
                for _ in range(3)]  # fmt: skip
    assert statuses == [200, 200, 429]
    other = client.post("/similar/follow", data={**fields, "phone": "13900002222"})
    assert other.status_code == 200


def test_a_follower_from_the_form_gets_the_next_update(client, db, settings, clock) -> None:
    """我也遇到了 end to end: the follow form, then the unit's next step reaches the follower."""
    from hotline.models import OutboxMessage
    from notifications.outbox import flush
    from tests.helpers import api_act, auth

    assert post(client).status_code == 303
    fields = follow_form(client)
    followed = client.post("/similar/follow", data={**fields, "phone": "13900001111"})
    assert followed.status_code == 200
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket))
        number, lead = ticket.number, ticket.lead_unit.code if ticket.lead_unit else None
    assert lead is not None  # the form's complaint was dispatched by routing
    api_act(client, number, "accept", auth("hl_demo_unit"))
    flush(settings, db, now=clock.now)
    with db.transaction() as session:
        sent = session.scalars(select(OutboxMessage).where(
            OutboxMessage.audience == "follower")).all()  # fmt: skip
        assert [(m.recipient, m.template, m.status) for m in sent] == [
            ("13900001111", "follower.accepted", "sent")]  # fmt: skip
        assert number in sent[0].payload["console_text"]
