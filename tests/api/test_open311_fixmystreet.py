"""FixMyStreet's Open311 module, as it posts to us: over HTTP, XML only, a form without a
charset, every attribute of the definition sent (``''`` for those not answered),
``last_name=''`` for a one-word name, its description layout; then the token polled a few
times for a batch service. Read back through the database and /api/v1, as staff see it."""

from __future__ import annotations

import time
from xml.etree import ElementTree as ET

import pytest
import requests
from sqlalchemy import select

from hotline.models import Open311Token, Ticket
from tests.helpers import auth

API_KEY = "hl_demo_operator"


@pytest.fixture
def server(server):
    """Open311's root on the app served on a real socket (tests/conftest.py)."""
    return f"{server}/open311/v2"


def xml(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - our own answer, in a test


def fms_params(service_code: str, name: str, attributes: dict[str, str | list[str]],
               title: str, detail: str) -> list[tuple[str, str]]:  # fmt: skip
    """What Open311.pm's _populate_service_request_params makes of a report."""
    first, _, last = name.partition(" ")  # FixMyStreet's split: last_name '' for one word
    params = [("api_key", API_KEY), ("jurisdiction_id", "default"),
              ("service_code", service_code), ("email", "resident.li@example.cn"),
              ("first_name", first), ("last_name", last),
              ("description", f"{title}\n\n{detail}\n\n"
                              "查看：https://fms.example.cn/report/8812"),
              ("lat", "30.274085"), ("long", "120.155070"),
              ("address_string", "示范市文明区和平路与解放路交叉口"),
              ("media_url", "https://fms.example.cn/photo/8812.0.full.jpeg")]  # fmt: skip
    for code, value in attributes.items():  # HTTP::Request::Common repeats list values' key
        for one in value if isinstance(value, list) else [value]:
            params.append((f"attribute[{code}]", one))
    return params


def fms_post(base: str, params: list[tuple[str, str]]) -> requests.Response:
    # LWP sends the form as application/x-www-form-urlencoded, no charset, UTF-8 bytes.
    response = requests.post(f"{base}/requests.xml", data=params, timeout=10)
    assert response.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    return response


def test_a_realtime_report_with_every_attribute_and_a_one_word_name(server, client, db) -> None:
    attributes = {"period": "evening", "impact": ["walkway", "litter"], "stalls": "",
                  "detail": ""}  # fmt: skip
    detail = "晚上摊贩把人行道全占了，污水直接倒在路边。"
    response = fms_post(server, fms_params("street-vending", "李娜", attributes,
                                           "和平路夜市占道", detail))
    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    request = xml(response.content).find("request")
    number = request.findtext("service_request_id")
    assert number  # FixMyStreet's whole test of success: a 2xx with a non-empty id
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.reporter_name == "李娜"
        assert ticket.attributes == {"period": "evening", "impact": ["walkway", "litter"]}
        assert ticket.description.startswith("和平路夜市占道\n\n晚上摊贩")
        assert ticket.reporter_email == "resident.li@example.cn"
        assert ticket.media_url.endswith("8812.0.full.jpeg")
    staff = client.get(f"/api/v1/tickets/{number}", headers=auth()).get_json()
    assert staff["channel"] == "open311" and staff["category"]["code"] == "street-vending"
    assert staff["address"] == "示范市文明区和平路与解放路交叉口"


def test_a_required_attribute_sent_empty_is_an_open311_xml_error(server) -> None:
    response = fms_post(server, fms_params("street-vending", "李 娜", {
        "period": "", "impact": "", "stalls": "", "detail": ""}, "占道", "有人摆摊卖水果"))
    assert response.status_code == 400
    root = xml(response.content)
    assert root.tag == "errors" and root.findtext("error/code") == "400"
    assert "摊贩通常在什么时段出现" in root.findtext("error/description")


def test_a_batch_report_is_a_token_then_a_number_when_polled(server, db) -> None:
    detail = "站牌和电线杆上贴满了办证、开锁小广告。"
    response = fms_post(server, fms_params("illegal-flyers", "王小明", {}, "公交站牌小广告",
                                           detail))
    assert response.status_code == 201, response.text
    request = xml(response.content).find("request")
    assert not request.findtext("service_request_id")
    token = request.findtext("token")
    assert token
    number = ""
    for _ in range(20):  # FixMyStreet polls a few times before giving up
        polled = requests.get(f"{server}/tokens/{token}.xml",
                              params={"api_key": API_KEY, "jurisdiction_id": "default"},
                              timeout=10)  # fmt: skip
        assert polled.status_code == 200, polled.text
        number = xml(polled.content).findtext("request/service_request_id") or ""
        if number:
            break
        time.sleep(0.1)
    with db.transaction() as session:
        row = session.scalar(select(Open311Token).where(Open311Token.token == token))
        ticket = session.get(Ticket, row.ticket_id)
        assert (ticket.number, ticket.channel, row.error) == (number, "open311", None)
        assert ticket.category.code == "illegal-flyers"
        assert ticket.reporter_name == "王小明"
