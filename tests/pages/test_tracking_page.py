"""The resident's tracking page: finding it again by number and phone (/lookup: the same answer
whether or not they match, the SMS code opens it), who has the ticket until when, photos
before and after, and a rating that keeps the answers when one is missing."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from hotline.domain.templates import LOOKUP_CODE
from hotline.models import LookupCode, OutboxMessage, Ticket
from tests.helpers import VALID, api_act, auth, csrf_token, image_bytes

SENT = "如信息匹配，验证码已发送到该手机"


def _ticket(client) -> str:
    return client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]


def _send(client, number: str, phone: str):
    return client.post("/lookup", data={"csrf_token": csrf_token(client), "number": number,
                                        "phone": phone})  # fmt: skip


def _enter(client, number: str, code: str):
    form = {"csrf_token": csrf_token(client), "number": number,
            "phone": VALID["reporter_phone"], "code": code}  # fmt: skip
    return client.post("/lookup/code", data=form)


def _code(db) -> str:
    with db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.template == LOOKUP_CODE)
                               .order_by(OutboxMessage.id)).all()  # fmt: skip
        return rows[-1].payload["code"]


def test_lookup_page_asks_for_number_and_phone(client) -> None:
    page = client.get("/lookup").get_data(as_text=True)
    assert 'name="number"' in page and 'name="phone"' in page and "发送验证码" in page


def test_lookup_answer_does_not_tell_whether_number_and_phone_match(client, db) -> None:
    number = _ticket(client)
    matched = _send(client, number, VALID["reporter_phone"])
    unmatched = _send(client, number, "13900000000")
    unknown = _send(client, "WM20000101-0001", VALID["reporter_phone"])
    assert matched.status_code == unmatched.status_code == unknown.status_code == 200
    for response in (matched, unmatched, unknown):
        assert SENT in response.get_data(as_text=True)
    with db.transaction() as session:
        assert len(session.scalars(select(LookupCode)).all()) == 1


def test_lookup_code_opens_the_tracking_page(client, db) -> None:
    number = _ticket(client)
    _send(client, f" {number.lower()} ", "138-1234-1234")
    response = _enter(client, number, _code(db))
    assert response.status_code == 303
    assert re.search(rf"/track/{number}\?token=\w+", response.headers["Location"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert number in page


def test_lookup_wrong_code_counts_and_expired_code_offers_a_new_one(client, db, clock) -> None:
    number = _ticket(client)
    _send(client, number, VALID["reporter_phone"])
    code = _code(db)
    wrong = "000000" if code != "000000" else "111111"
    answer = _enter(client, number, wrong)
    assert answer.status_code == 422 and "还可再试 4 次" in answer.get_data(as_text=True)
    clock.now += timedelta(minutes=11)
    expired = _enter(client, number, code).get_data(as_text=True)
    assert "已过期" in expired and "重新获取验证码" in expired


def test_lookup_empty_or_invalid_fields_are_told_in_chinese(client) -> None:
    answer = _send(client, "", "12")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert (
        "请填写工单编号" in page and "电话号码格式不正确" in page and 'aria-invalid="true"' in page
    )


def test_lookup_is_limited_per_client_address(client, db, monkeypatch) -> None:
    from limits import parse

    from hotline.web.public import lookup

    monkeypatch.setattr(lookup, "SEND_LIMIT", parse("2/hour"))
    answers = [_send(client, "WM20000101-0001", VALID["reporter_phone"]).status_code
               for _ in range(3)]  # fmt: skip
    assert answers == [200, 200, 429]


# ---------------------------------------------------------------- the page and its rating

FORM = {"category": "street-vending", "description": "和平路菜市场门口流动摊贩占道经营。",
        "address": "和平路 12 号", "reporter_name": "张三",
        "reporter_phone": VALID["reporter_phone"]}  # fmt: skip
UNIT, SUPERVISOR = auth("hl_demo_unit"), auth("hl_demo_supervisor")


def _file(client, data=None, photos=()) -> str:
    payload = {**(FORM if data is None else data), "csrf_token": csrf_token(client)}
    payload["photos"] = [(io.BytesIO(image_bytes("JPEG")), name) for name in photos]
    response = client.post("/", data=payload, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def _resolve(client, number: str, evidence: bool = False) -> None:
    api_act(client, number, "accept", UNIT)
    ids = []
    if evidence:
        upload = client.post(f"/api/v1/tickets/{number}/attachments", headers=UNIT,
                             data={"photos": [(io.BytesIO(image_bytes("JPEG")), "after.jpg")]},
                             content_type="multipart/form-data")  # fmt: skip
        ids = [upload.json[0]["id"]]
    api_act(client, number, "waive_co_units", SUPERVISOR, reason="已口头报告")
    api_act(client, number, "resolve", UNIT, reply="摊贩已劝离", evidence=ids)


def _number(location: str) -> str:
    return location.split("?")[0].rsplit("/", 1)[1]


def test_tracking_page_says_who_has_it_until_when_and_speaks_first(client, clock) -> None:
    location = _file(client)
    page = client.get(location).get_data(as_text=True)
    assert re.search(r"应于 \d+月\d+日（星期.）\d\d:\d\d 前办结", page)
    assert page.split("承办单位</dt><dd>")[1].startswith("示范市城市管理局</dd>")
    timeline = page.split('class="timeline"')[1]
    first = timeline.split("</li>")[0]
    assert "文明直通车" in first and "您的诉求已受理" in first and "市民" not in first
    assert 'data-copy="track-link"' in page and "track.js" in page and "本页链接" in page
    clock.now += timedelta(days=30)
    assert "已超过办理期限" in client.get(location.replace("&new=1", "")).get_data(as_text=True)


def test_anonymous_without_phone_is_told_to_keep_the_link(client) -> None:
    data = {**FORM, "anonymous": "on", "reporter_phone": "", "reporter_name": ""}
    page = client.get(_file(client, data)).get_data(as_text=True)
    assert "请保存查询链接" in page and "无法凭工单编号找回本页" in page
    assert "请保存查询链接" not in client.get(_file(client)).get_data(as_text=True)


def test_photos_before_and_after_the_fix_are_labelled(client) -> None:
    location = _file(client, photos=["street.jpg"])
    _resolve(client, _number(location), evidence=True)
    page = client.get(location).get_data(as_text=True)
    before, after = page.split("<h2>现场照片</h2>")[1].split("<h2>整改后</h2>")
    assert before.count("<img") == 1 and after.split("</section>")[0].count("<img") == 1


def test_missing_rating_answers_keep_the_choices_and_say_what_is_missing(client, db) -> None:
    location = _file(client)
    number = _number(location)
    _resolve(client, number)
    page = client.get(location).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    token = re.search(r"token=([\w-]+)", location).group(1)
    form = {"csrf_token": csrf_token(client), "version": version, "resolved": "no",
            "comment": "摊贩傍晚又来了"}  # fmt: skip
    answer = client.post(f"/track/{number}/confirm?token={token}", data=form)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "请您评价办理结果" in page
    assert re.search(r'value="no" checked', page) and "摊贩傍晚又来了" in page
    assert "请选择您的满意程度" in page and "请选择问题是否已解决" not in page
    assert 'aria-describedby="satisfaction-error"' in page
    with db.transaction() as session:
        assert session.scalars(select(Ticket.status)).one() == "resolved"


def test_the_form_page_leads_to_the_lookup(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'href="/lookup"' in page and "凭工单编号和手机号码查询进度" in page
