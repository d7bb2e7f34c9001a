"""Open311 GeoReport v2, the reading side: discovery, services, definitions, requests, one
request and tokens, in XML and JSON, with tickets made through the real API."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hotline.models import Open311Token, Ticket
from hotline.services import open311_requests, privacy
from tests.helpers import VALID, auth, image_bytes

OPERATOR, UNIT, SUPERVISOR = auth(), auth("hl_demo_unit"), auth("hl_demo_supervisor")
V2 = "/open311/v2"
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
NAME, PHONE, EMAILISH = "李秀英", "13812341234", "lixiuying@example.com"


def create(client, **overrides) -> dict:
    response = client.post("/api/v1/tickets", json={**VALID, **overrides}, headers=OPERATOR)
    assert response.status_code == 201, response.json
    return response.json


def act(client, ticket: dict, action: str, headers=OPERATOR, **body):
    response = client.post(
        f"/api/v1/tickets/{ticket['number']}/actions/{action}",
        json={"version": ticket["version"], **body}, headers=headers,
    )  # fmt: skip
    assert response.status_code == 200, response.json
    ticket.update(response.json)
    return response


def get_json(client, path: str, want: int = 200, **query):
    response = client.get(f"{V2}/{path}.json", query_string=query)
    assert response.status_code == want, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.get_data())


def get_xml(client, path: str, want: int = 200, **query) -> ET.Element:
    response = client.get(f"{V2}/{path}.xml", query_string=query)
    assert response.status_code == want, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    body = response.get_data()
    assert body.startswith(DECLARATION)
    return parse(body)


def parse(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - our own answer, in a test


def fields(element: ET.Element) -> dict[str, str]:
    return {child.tag: child.text or "" for child in element}


def assert_json_error(body, status: int) -> str:
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["code"] == status and body[0]["description"]
    return body[0]["description"]


def assert_xml_error(root: ET.Element, status: int) -> str:
    assert root.tag == "errors"
    (error,) = root.findall("error")
    assert error.findtext("code") == str(status) and error.findtext("description")
    return error.findtext("description")


# ---------------------------------------------------------------- discovery and services


def test_discovery_in_both_formats(client) -> None:
    body = get_json(client, "discovery")
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert body["changeset"].endswith("Z") and body["contact"] and body["key_service"]
    root = get_xml(client, "discovery")
    assert root.tag == "discovery"
    formats = [f.text for f in root.find("endpoints/endpoint/formats").findall("format")]
    assert formats == ["text/xml", "application/json"]


def test_services_are_the_active_categories_with_keywords_and_groups(client) -> None:
    services = {s["service_code"]: s for s in get_json(client, "services")}
    vending = services["street-vending"]
    assert vending["service_name"] == "占道经营" and vending["metadata"] is True
    assert vending["type"] == "realtime" and vending["group"] == "市容环境"
    assert "占道经营" in vending["keywords"].split(",")
    assert 1 <= len(vending["keywords"].split(",")) <= 5
    assert services["illegal-flyers"]["type"] == "batch"
    assert services["back-lanes"]["metadata"] is False
    root = get_xml(client, "services")
    assert root.tag == "services"
    xml_services = {s.findtext("service_code"): fields(s) for s in root.findall("service")}
    assert set(xml_services) == set(services)
    assert xml_services["street-vending"]["metadata"] == "true"
    assert xml_services["street-vending"]["keywords"] == vending["keywords"]
    assert xml_services["back-lanes"]["metadata"] == "false"


def test_inactive_category_is_no_service(client, db) -> None:
    from hotline.models import Category

    with db.transaction() as session:
        session.scalar(select(Category).where(Category.code == "back-lanes")).active = False
    try:
        assert "back-lanes" not in {s["service_code"] for s in get_json(client, "services")}
        assert_json_error(get_json(client, "services/back-lanes", 404), 404)
    finally:
        with db.transaction() as session:
            session.scalar(select(Category).where(Category.code == "back-lanes")).active = True


def test_service_definition_in_both_formats(client) -> None:
    body = get_json(client, "services/street-vending")
    assert body["service_code"] == "street-vending"
    attributes = {a["code"]: a for a in body["attributes"]}
    assert [a["order"] for a in body["attributes"]] == [1, 2, 3, 4]
    period = attributes["period"]
    assert period["variable"] is True and period["required"] is True
    assert period["datatype"] == "singlevaluelist" and period["datatype_description"]
    assert {"key": "evening", "name": "傍晚（17—20点）"} in period["values"]
    assert attributes["impact"]["datatype"] == "multivaluelist"
    assert "values" not in attributes["stalls"] and attributes["stalls"]["datatype"] == "number"
    root = get_xml(client, "services/street-vending")
    assert root.tag == "service_definition" and root.findtext("service_code") == "street-vending"
    xml_attributes = root.find("attributes").findall("attribute")
    assert [a.findtext("code") for a in xml_attributes] == ["period", "impact", "stalls", "detail"]
    values = xml_attributes[0].find("values").findall("value")
    assert (values[0].findtext("key"), values[0].findtext("name")) == ("morning", "早上（6—9点）")
    assert xml_attributes[0].findtext("required") == "true"
    assert xml_attributes[0].findtext("variable") == "true"


def test_definition_of_a_service_without_questions_is_empty(client) -> None:
    assert get_json(client, "services/back-lanes") == {"service_code": "back-lanes",
                                                        "attributes": []}  # fmt: skip
    root = get_xml(client, "services/back-lanes")
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0


# ---------------------------------------------------------------- requests


def test_request_fields_in_both_formats_and_nothing_personal(client) -> None:
    ticket = create(client, reporter_name=NAME, reporter_phone=PHONE, latitude=39.9042,
                    longitude=116.4074,
                    description=f"和平路菜市场门口流动摊贩占道经营🚧，联系我 {PHONE} "
                                f"或 {EMAILISH}，我是{NAME}。")  # fmt: skip
    act(client, ticket, "accept", UNIT)
    act(client, ticket, "feedback", UNIT, body="已安排执法队员前往现场🚓，处理后回复。")
    (item,) = get_json(client, f"requests/{ticket['number']}")
    assert item["service_request_id"] == ticket["number"]
    assert item["status"] == "open" and item["service_code"] == "street-vending"
    assert item["service_name"] == "占道经营"
    assert item["status_notes"] == "已安排执法队员前往现场🚓，处理后回复。"
    assert item["agency_responsible"] == ticket["lead_unit"]["name"]
    assert item["requested_datetime"] == "2026-11-21T02:30:00Z"
    assert item["updated_datetime"].endswith("Z")
    resolve_by = datetime.fromisoformat(ticket["resolve_by"]).astimezone(UTC)
    assert item["expected_datetime"] == resolve_by.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert item["address"] == "文明区和平路 12 号" and item["address_id"] == ""
    assert item["lat"] == 39.9042 and item["long"] == 116.4074
    assert item["description"].startswith("和平路菜市场门口流动摊贩占道经营🚧")
    assert item["media_url"] == "" and item["service_notice"] == "正在办理"
    (element,) = get_xml(client, f"requests/{ticket['number']}").findall("request")
    xml_item = fields(element)
    assert xml_item["description"] == item["description"]
    assert xml_item["status_notes"] == item["status_notes"]
    assert xml_item["lat"] == "39.9042" and xml_item["long"] == "116.4074"
    assert xml_item["requested_datetime"] == "2026-11-21T02:30:00Z"
    for path in (f"requests/{ticket['number']}", "requests"):
        for fmt in ("json", "xml"):
            text = client.get(f"{V2}/{path}.{fmt}").get_data(as_text=True)
            assert ticket["number"] in text
            for secret in (NAME, PHONE, "1381234", EMAILISH):
                assert secret not in text, (path, fmt, secret)


def test_default_is_the_last_ninety_days_newest_first(client, clock) -> None:
    old = create(client)["number"]
    clock.now += timedelta(days=100)
    newer, newest = create(client)["number"], None
    clock.now += timedelta(minutes=5)
    newest = create(client)["number"]
    assert [r["service_request_id"] for r in get_json(client, "requests")] == [newest, newer]
    in_range = get_json(client, "requests", start_date="2026-11-01T00:00:00Z",
                        end_date="2026-12-01T00:00:00Z")  # fmt: skip
    assert [r["service_request_id"] for r in in_range] == [old]
    # A lone start reaches 90 days forward, a lone end 90 days back.
    assert [r["service_request_id"]
            for r in get_json(client, "requests", start_date="2026-11-21")] == [old]
    lone_end = get_json(client, "requests", end_date="2026-11-20T00:00:00Z")
    assert lone_end == []
    # +08:00 unencoded arrives as a space and still means +08:00 (10:29 local = 02:29 UTC).
    response = client.get(f"{V2}/requests.json?start_date=2026-11-21T10:29:00+08:00"
                          "&end_date=2026-11-21T10:31:00+08:00")
    assert [r["service_request_id"] for r in response.json] == [old]


def test_span_over_ninety_days_is_400_in_both_formats(client) -> None:
    query = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
    assert "90" in assert_json_error(get_json(client, "requests", 400, **query), 400)
    assert "90" in assert_xml_error(get_xml(client, "requests", 400, **query), 400)
    reversed_ = {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}
    assert_json_error(get_json(client, "requests", 400, **reversed_), 400)
    assert_xml_error(get_xml(client, "requests", 400, start_date="昨天"), 400)
    for edge in ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:00-05:00"):
        assert_json_error(get_json(client, "requests", 400, end_date=edge), 400)
    far = {"start_date": "9999-12-01T00:00:00Z", "end_date": "9999-12-31T23:59:59Z"}
    assert get_json(client, "requests", **far) == []
    assert_json_error(get_json(client, "requests", 400, status="pending"), 400)


def test_results_stop_at_the_limit(client, monkeypatch) -> None:
    assert open311_requests.MAX_RESULTS == 1000
    numbers = [create(client)["number"] for _ in range(3)]
    monkeypatch.setattr(open311_requests, "MAX_RESULTS", 2)
    assert len(get_json(client, "requests")) == 2
    assert len(get_xml(client, "requests").findall("request")) == 2
    listed = get_json(client, "requests", service_request_id=",".join(numbers))
    assert len(listed) == 2


def test_empty_result_is_an_empty_list(client) -> None:
    assert get_json(client, "requests") == []
    root = get_xml(client, "requests")
    assert root.tag == "service_requests" and len(root) == 0


def test_service_request_id_list_overrides_the_other_arguments(client, clock) -> None:
    first = create(client)["number"]
    clock.now += timedelta(days=200)
    second = create(client, category="noise", description="楼下酒吧夜里唱歌噪音扰民")["number"]
    listed = get_json(
        client, "requests", service_request_id=f"{first}, {second},WM0-nothing",
        service_code="back-lanes", status="closed", start_date="2020-01-01T00:00:00Z",
        end_date="2020-02-01T00:00:00Z",
    )  # fmt: skip
    assert {r["service_request_id"] for r in listed} == {first, second}
    root = get_xml(client, "requests", service_request_id=first)
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [first]


def test_service_code_and_status_filters(client, db) -> None:
    vending = create(client)
    noise = create(client, category="noise", description="楼下酒吧夜里唱歌噪音扰民，吵得睡不着")
    manual = create(client, category=None, description="请问这个事情找谁办理呢")
    act(client, manual, "reject", reason="咨询类，已电话答复")
    codes = lambda **q: {r["service_request_id"] for r in get_json(client, "requests", **q)}  # noqa: E731
    assert codes(service_code="street-vending") == {vending["number"]}
    assert codes(service_code="street-vending,noise") == {vending["number"], noise["number"]}
    assert codes(status="closed") == {manual["number"]}
    assert codes(status="open") == {vending["number"], noise["number"]}
    assert codes(status="open,closed") == {vending["number"], noise["number"], manual["number"]}
    (closed,) = get_json(client, "requests", status="closed")
    assert closed["status"] == "closed" and closed["status_notes"] == "咨询类，已电话答复"
    root = get_xml(client, "requests", status="closed", service_code="noise")
    assert root.findall("request") == []


def test_a_resolved_ticket_is_closed_with_its_public_photo(client) -> None:
    ticket = create(client)
    act(client, ticket, "accept", UNIT)
    upload = client.post(
        f"/api/v1/tickets/{ticket['number']}/attachments",
        data={"photos": [(io.BytesIO(image_bytes("JPEG", (640, 480))), "after.jpg")]},
        headers=UNIT, content_type="multipart/form-data",
    )  # fmt: skip
    assert upload.status_code == 201, upload.json
    (before,) = get_json(client, f"requests/{ticket['number']}")
    assert before["media_url"] == ""  # the unit's photo is not public before the fix
    act(client, ticket, "waive_co_units", SUPERVISOR, reason="街道已口头报告")
    act(client, ticket, "resolve", UNIT, reply="摊贩已劝离，设置了宣传牌",
        evidence=[upload.json[0]["id"]])  # fmt: skip
    (item,) = get_json(client, f"requests/{ticket['number']}")
    assert item["status"] == "closed" and item["status_notes"] == "摊贩已劝离，设置了宣传牌"
    assert "/open311/v2/media/" in item["media_url"] and "key=" in item["media_url"]
    photo = client.get(item["media_url"].split("localhost", 1)[1])
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.data[:2] == b"\xff\xd8"
    forged = item["media_url"].split("localhost", 1)[1].split("key=")[0] + "key=" + "A" * 24
    assert_xml_error(parse(client.get(forged).data), 404)
    assert client.get(forged.replace("key=", "key=非")).status_code == 404


# ---------------------------------------------------------------- tokens and errors


def test_token_before_and_after_processing(client, db, clock) -> None:
    ticket = create(client)
    with db.transaction() as session:
        session.add(Open311Token(token="tok-waiting-1", service_code="illegal-flyers",
                                 payload={}, created_at=clock.now))  # fmt: skip
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == ticket["number"]))
        session.add(Open311Token(token="tok-done-1", service_code="illegal-flyers", payload={},
                                 created_at=clock.now, processed_at=clock.now,
                                 ticket_id=ticket_id))  # fmt: skip
    assert get_json(client, "tokens/tok-waiting-1") == [
        {"token": "tok-waiting-1", "service_request_id": ""}]  # fmt: skip
    assert get_json(client, "tokens/tok-done-1") == [
        {"token": "tok-done-1", "service_request_id": ticket["number"]}]  # fmt: skip
    (element,) = get_xml(client, "tokens/tok-done-1").findall("request")
    assert fields(element) == {"token": "tok-done-1", "service_request_id": ticket["number"]}


@pytest.mark.parametrize("path", ["services/no-such-service", "requests/WM20200101-9999",
                                  "tokens/no-such-token"])  # fmt: skip
def test_unknown_things_are_404_in_open311_format(client, path) -> None:
    assert_json_error(get_json(client, path, 404), 404)
    assert_xml_error(get_xml(client, path, 404), 404)


@pytest.mark.parametrize("path", ["services.yaml", "requests.html", "discovery.csv",
                                  "services/street-vending.txt", "requests/WM1.pdf",
                                  "nothing-here.json"])  # fmt: skip
def test_unknown_format_or_path_is_404(client, path) -> None:
    response = client.get(f"{V2}/{path}")
    assert response.status_code == 404
    if path.endswith(".json"):
        assert_json_error(response.json, 404)
    else:
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert response.data.startswith(DECLARATION)
        assert_xml_error(parse(response.data), 404)


@pytest.mark.parametrize("jurisdiction", ["", "default", "wm", "WM", "示范市", "文明直通车"])
def test_jurisdictions_naming_our_city_are_accepted(client, jurisdiction) -> None:
    number = create(client)["number"]
    for path in ("discovery", "services", "services/street-vending", "requests",
                 f"requests/{number}"):
        get_json(client, path, jurisdiction_id=jurisdiction)
        get_xml(client, path, jurisdiction_id=jurisdiction)


def test_unknown_jurisdiction_is_404_everywhere(client, db, clock) -> None:
    number = create(client)["number"]
    with db.transaction() as session:
        session.add(Open311Token(token="tok-j", service_code="illegal-flyers", payload={},
                                 created_at=clock.now))  # fmt: skip
    for path in ("discovery", "services", "services/street-vending", "requests",
                 f"requests/{number}", "tokens/tok-j"):
        description = assert_json_error(
            get_json(client, path, 404, jurisdiction_id="sfgov.org"), 404)  # fmt: skip
        assert "sfgov.org" in description
        assert_xml_error(get_xml(client, path, 404, jurisdiction_id="sfgov.org"), 404)


def test_chinese_and_emoji_round_trip_exactly(client) -> None:
    text = "小区门口🐶狗粪无人清理😡，“文明养犬”标语形同虚设——请处理！𠀀"
    number = create(client, category=None, description=text)["number"]
    (item,) = get_json(client, f"requests/{number}")
    assert item["description"] == text
    raw = client.get(f"{V2}/requests/{number}.json").data
    assert text.encode("utf-8") in raw  # as themselves, not \u escapes
    (element,) = get_xml(client, f"requests/{number}").findall("request")
    assert element.findtext("description") == text


def test_real_messages_round_trip(client) -> None:
    from pathlib import Path

    source = Path(__file__).resolve().parents[3] / "shared" / "data" / "public_messages_495.jsonl"
    if not source.exists():
        pytest.skip("../shared/data/public_messages_495.jsonl is not here")
    rows = [json.loads(line) for line in source.read_text("utf-8").splitlines()[:5] if line]
    numbers = {}
    for row in rows:
        text = " ".join(row["content"].split())[:2000]
        if len(text) < 5:
            continue
        numbers[create(client, category=None, description=text)["number"]] = text
    listed = get_json(client, "requests", service_request_id=",".join(numbers))
    seen = {r["service_request_id"]: r["description"] for r in listed}
    assert seen.keys() == numbers.keys()
    for number, text in numbers.items():
        # Only phone numbers or e-mails written inside a message are scrubbed.
        assert seen[number] == privacy.EMAIL.sub(
            privacy.ERASED_EMAIL, privacy.MOBILE.sub(privacy.ERASED_PHONE, text))  # fmt: skip


def test_public_host_names_the_city_too(app, client) -> None:
    from dataclasses import replace

    hotline = app.extensions["hotline"]
    hotline.settings = replace(hotline.settings, public_base_url="https://12345.shifan.gov.cn")
    get_json(client, "services", jurisdiction_id="12345.shifan.gov.cn")
    (endpoint,) = get_json(client, "discovery")["endpoints"]
    assert endpoint["url"] == "https://12345.shifan.gov.cn/open311/v2"
    assert_json_error(get_json(client, "services", 404, jurisdiction_id="shifan.gov.cn"), 404)


@pytest.mark.parametrize("query", [
    {"service_request_id": ",".join(f"WM20261121-{n:04d}" for n in range(3000))},
    {"service_code": ",".join(f"code-{n}" for n in range(3000))},
    {"service_request_id": "WM\x0020261121-0001", "service_code": "\x00"},
    {"status": "OPEN,closed,", "service_code": "占道经营" * 200},
    {"start_date": "2026-11-21T00:00:00\x00Z"}, {"jurisdiction_id": "示范市" * 500},
    {"start_date": "2026-02-30T00:00:00Z"}, {"end_date": "T"},
])  # fmt: skip
def test_hostile_searches_never_fail_the_server(client, query) -> None:
    create(client)
    for fmt in ("json", "xml"):
        response = client.get(f"{V2}/requests.{fmt}", query_string=query)
        assert response.status_code in (200, 400, 404), response.get_data(as_text=True)
        assert response.headers["Content-Type"].endswith("charset=utf-8")


def test_keywords_are_the_strongest_positive_ones_in_the_authors_order() -> None:
    from hotline.services.open311_catalog import keywords_by_category
    from routing.rules import Rule, Ruleset

    ruleset = Ruleset("示范市规则", rules=(
        Rule("停车", {"停车": 2.0, "车位": 1.0, "收费": -1.5}, category="parking"),
        Rule("停车收费", {"停车收费": 3.0, "收费": 2.0, "停车": 0.5}, category="parking-fees"),
        Rule("乱停车", {"乱停车": 3.0, "停车": 1.0}, category="parking"),
        Rule("其他", {"其他": 3.0}),
    ))  # fmt: skip
    assert keywords_by_category(ruleset, limit=3) == {
        "parking": ["乱停车", "停车", "车位"],
        "parking-fees": ["停车收费", "收费", "停车"],
    }
    assert keywords_by_category(None) == {}
