"""POST /open311/v2/requests.{xml,json}: any Open311 client files a ticket (or, for a batch
service, gets a token) through the same intake, routing and numbering as every channel."""

from __future__ import annotations

from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select

from hotline.models import Ticket

OPERATOR = "hl_demo_operator"
VENDING = {
    "api_key": OPERATOR,
    "service_code": "street-vending",
    "lat": "30.2741",
    "long": "120.1551",
    "address_string": "文明区和平路 12 号菜市场门口",
    "description": "和平路菜市场门口每天傍晚流动摊贩占道经营，行人只能走机动车道。",
    "attribute[period]": "evening",
    "first_name": "晓明",
    "last_name": "王",
    "phone": "138 1234 1234",
    "email": "wang.xiaoming@example.cn",
}


def post(client, fmt="json", data=None, **more):
    """A real form body (repeated keys as clients send them), no charset in its type."""
    if data is None:
        data = {**VENDING, **more}
    pairs = list(data.items()) if isinstance(data, dict) else list(data)
    return client.post(f"/open311/v2/requests.{fmt}", data=urlencode(pairs).encode(),
                       content_type="application/x-www-form-urlencoded")  # fmt: skip


def ticket_of(db, number):
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        session.expunge(ticket)
        return ticket


def xml(response):
    return ET.fromstring(response.data)  # noqa: S314 - our own answer, in a test


def errors_of(response):
    body = response.get_json()
    assert isinstance(body, list) and body[0]["code"] == response.status_code
    return body[0]["description"]


def test_json_post_files_a_numbered_ticket_with_every_open311_field(client, db) -> None:
    response = post(client, "json", data=[*VENDING.items(), ("attribute[impact][]", "walkway"),
                                          ("attribute[impact][]", "noise"),
                                          ("attribute[stalls]", "6"),
                                          ("account_id", "fms-user-8812"),
                                          ("device_id", "ios-3F2A"),
                                          ("media_url", "https://photos.example.cn/p/8812.jpg")])
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    [answer] = response.get_json()
    assert answer["service_request_id"].startswith("WM")
    assert answer["service_notice"] == "已受理，请在 5 个工作日内留意处理结果"
    assert answer["account_id"] == "fms-user-8812"
    ticket = ticket_of(db, answer["service_request_id"])
    assert ticket.channel == "open311"
    assert ticket.reporter_name == "晓明 王"
    assert ticket.reporter_phone == "13812341234"
    assert ticket.reporter_email == "wang.xiaoming@example.cn"
    assert (ticket.latitude, ticket.longitude) == (30.2741, 120.1551)
    assert ticket.address == "文明区和平路 12 号菜市场门口"
    assert ticket.attributes == {"period": "evening", "impact": ["walkway", "noise"],
                                 "stalls": 6}  # fmt: skip
    assert ticket.media_url == "https://photos.example.cn/p/8812.jpg"
    assert ticket.client_ids == {"account_id": "fms-user-8812", "device_id": "ios-3F2A"}
    assert ticket.version == 1  # the Open311 fields are not a second version


def test_the_repeated_key_without_brackets_is_a_multivaluelist_too(client, db) -> None:
    response = post(client, data=[*VENDING.items(), ("attribute[impact]", "walkway"),
                                  ("attribute[impact]", "noise")])
    assert response.status_code == 201
    ticket = ticket_of(db, response.get_json()[0]["service_request_id"])
    assert ticket.attributes["impact"] == ["walkway", "noise"]


def test_xml_answer_is_a_service_requests_document(client) -> None:
    response = post(client, "xml")
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    root = xml(response)
    assert root.tag == "service_requests"
    number = root.findtext("request/service_request_id")
    assert number and number.startswith("WM")
    assert "工作日" in root.findtext("request/service_notice")


def test_the_ticket_is_routed_like_any_other_channel(client, db) -> None:
    number = post(client).get_json()[0]["service_request_id"]
    ticket = ticket_of(db, number)
    with db.transaction() as session:
        same = session.get(Ticket, ticket.id)
        assert same.category.code == "street-vending"
        assert same.lead_unit is not None  # dispatched to the unit the rules name


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_missing_or_bad_api_key_is_403_in_open311_format(client, fmt) -> None:
    for key in ("", "hl_not_a_token"):
        response = post(client, fmt, api_key=key)
        assert response.status_code == 403
        if fmt == "xml":
            root = xml(response)
            assert root.tag == "errors" and root.findtext("error/code") == "403"
        else:
            assert "api_key" in errors_of(response)


def test_a_unit_token_may_not_file_tickets(client) -> None:
    assert post(client, api_key="hl_demo_unit").status_code == 403


def test_missing_service_code_is_400_and_an_unknown_one_404(client) -> None:
    data = {k: v for k, v in VENDING.items() if k != "service_code"}
    response = post(client, data=data)
    assert response.status_code == 400 and "service_code" in errors_of(response)
    response = post(client, service_code="no-such-service")
    assert response.status_code == 404 and "no-such-service" in errors_of(response)


def test_a_location_is_required(client) -> None:
    data = {k: v for k, v in VENDING.items() if k not in ("lat", "long", "address_string")}
    response = post(client, data=data)
    assert response.status_code == 400 and "lat" in errors_of(response)
    response = post(client, data={**data, "address_id": "HZ-330102-0012"})
    assert response.status_code == 201


def test_a_missing_required_attribute_is_named_in_chinese(client) -> None:
    response = post(client, **{"attribute[period]": ""})
    assert response.status_code == 400
    assert "摊贩通常在什么时段出现" in errors_of(response)


def test_wrong_answers_are_400(client) -> None:
    cases = [{"attribute[period]": "lunchtime"}, {"attribute[stalls]": "好几个"},
             {"attribute[impact]": "fireworks"}, {"phone": "12345"}, {"email": "not-an-email"},
             {"media_url": "javascript:alert(1)"}, {"long": ""}, {"lat": "91", "long": "1"},
             {"attribute[detail]": "很" * 2001}, {"description": "长" * 4001}]  # fmt: skip
    for case in cases:
        response = post(client, **case)
        assert response.status_code == 400, (case, response.get_data(as_text=True))


def test_descriptions_up_to_4000_characters_and_emoji_are_kept(client, db) -> None:
    text = ("和平路菜市场门口流动摊贩占道经营😡" * 250)[:4000]
    response = post(client, description=text)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert ticket_of(db, response.get_json()[0]["service_request_id"]).description == text


def test_without_description_the_ticket_says_what_was_answered(client, db) -> None:
    response = post(client, description="", **{"attribute[impact]": "noise"})
    assert response.status_code == 201
    ticket = ticket_of(db, response.get_json()[0]["service_request_id"])
    assert ticket.description.startswith("占道经营")
    assert "傍晚（17—20点）" in ticket.description and "噪音扰民" in ticket.description


def test_a_body_without_charset_is_read_as_utf8(client, db) -> None:
    body = urlencode(VENDING).encode("utf-8")
    response = client.post("/open311/v2/requests.xml", data=body,
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 201
    number = xml(response).findtext("request/service_request_id")
    assert ticket_of(db, number).address == VENDING["address_string"]


def test_an_unknown_format_is_404(client) -> None:
    assert post(client, "html").status_code == 404


def test_a_batch_service_answers_a_token_and_keeps_the_submission(client, db) -> None:
    from hotline.models import Open311Token

    response = post(client, service_code="illegal-flyers",
                    description="和平路公交站牌贴满了办证小广告，清理后第二天又贴上。")
    assert response.status_code == 201, response.get_data(as_text=True)
    [answer] = response.get_json()
    assert answer["token"] and "service_request_id" not in answer
    assert answer["service_notice"].startswith("已收到")
    find = select(Open311Token).where(Open311Token.token == answer["token"])
    with db.transaction() as session:
        row = session.scalar(find)
        assert (row.service_code, row.processed_at) == ("illegal-flyers", None)
        assert row.payload["ticket"]["reporter_phone"] == "13812341234"
    response.close()  # as the server does once the answer is sent: the hand-on runs
    with db.transaction() as session:
        row = session.scalar(find)
        # Without Redis the web process made the ticket once the answer was sent.
        assert (row.error, row.processed_at is not None) == (None, True)
        ticket = session.get(Ticket, row.ticket_id)
        assert (ticket.category.code, ticket.reporter_phone) == ("illegal-flyers",
                                                                 "13812341234")  # fmt: skip
        assert ticket.description.startswith("和平路公交站牌")


def test_rate_limit_per_api_key_is_429_in_open311_format(settings, db, clock) -> None:
    from dataclasses import replace

    from hotline.app import create_app

    app = create_app(replace(settings, open311_rate_limit="2/minute"), database=db)
    app.extensions["hotline"].clock = clock
    client = app.test_client()
    assert post(client).status_code == 201
    assert post(client, **{"attribute[period]": ""}).status_code == 400  # refused ones count
    response = post(client, "xml")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert xml(response).findtext("error/code") == "429"
    assert post(client, api_key="hl_demo_supervisor").status_code == 201  # another key


def test_an_unknown_jurisdiction_is_404_and_ours_is_accepted(client) -> None:
    assert post(client, jurisdiction_id="springfield").status_code == 404
    assert post(client, jurisdiction_id="default").status_code == 201


# ---------------------------------------------------------------- no 5xx from any form

FORM_KEYS = [*VENDING, "address_id", "media_url", "account_id", "device_id", "jurisdiction_id",
             "attribute[period]", "attribute[impact]", "attribute[impact][]", "attribute[stalls]",
             "attribute[detail]", "attribute[]", "attribute[[x]]"]  # fmt: skip
form_values = (
    st.text(max_size=80)
    | st.sampled_from(["", " ", "evening", "walkway", "nan", "inf", "-1e309", "91", "30.27",
                       "13812341234", "0571-88001234", "illegal-flyers", "street-vending",
                       "http://x", "a@b.cn", "\x00", "\ud7ff😡", "长" * 4001, OPERATOR])
)  # fmt: skip
forms = st.lists(st.tuples(st.sampled_from(FORM_KEYS) | st.text(max_size=12), form_values),
                 max_size=14)  # fmt: skip


@pytest.fixture
def unlimited_client(settings, db, clock):
    from dataclasses import replace

    from hotline.app import create_app

    app = create_app(replace(settings, open311_rate_limit=""), database=db)
    app.extensions["hotline"].clock = clock
    return app.test_client()


@hsettings(max_examples=150, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(pairs=forms, fmt=st.sampled_from(["json", "xml"]), keyed=st.booleans())
def test_random_forms_never_cause_a_server_error(unlimited_client, pairs, fmt, keyed) -> None:
    if keyed:
        pairs = [("api_key", OPERATOR), *pairs]
    response = unlimited_client.post(f"/open311/v2/requests.{fmt}",
                                     data=urlencode(pairs).encode(),
                                     content_type="application/x-www-form-urlencoded")
    assert response.status_code in (201, 400, 403, 404), response.get_data(as_text=True)
    if response.status_code != 201:
        body = response.get_json() if fmt == "json" else None
        assert body is None or body[0]["code"] == response.status_code


@hsettings(max_examples=60, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300))
def test_random_bytes_never_cause_a_server_error(unlimited_client, raw) -> None:
    response = unlimited_client.post("/open311/v2/requests.xml",
                                     data=b"api_key=hl_demo_operator&" + raw,
                                     content_type="application/x-www-form-urlencoded")
    assert response.status_code in (201, 400, 403, 404)


def test_control_characters_never_break_the_xml_answer(client) -> None:
    # A strict client that cannot parse our answer would take it as a failure and post again.
    answer = post(client, "xml", account_id="fms\x01-20418", device_id="dev\x0b1")
    assert answer.status_code == 201
    request = xml(answer).find("request")
    assert request.findtext("account_id") == "fms-20418"
    refused = post(client, "xml", service_code="street-vending\x01")
    assert refused.status_code == 404 and xml(refused).tag == "errors"


def test_the_api_key_is_read_from_the_body_only(client) -> None:
    # In a URL it would be written to every proxy's and server's access log.
    body = {k: v for k, v in VENDING.items() if k != "api_key"}
    answer = client.post(f"/open311/v2/requests.json?api_key={OPERATOR}",
                         data=urlencode(list(body.items())).encode(),
                         content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert answer.status_code == 403
