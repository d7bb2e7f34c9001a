"""Inputs that once answered 500: NUL bytes where text is not cleaned, ids beyond the
integer range, dates at the ends of the calendar. Each must get a clear 4xx."""

from __future__ import annotations

import pytest

from tests.helpers import VALID, auth, signed_in

BIG = 99_999_999_999  # beyond a 32-bit integer column

API_GETS = [
    "/api/v1/tickets?unit=%00",
    "/api/v1/tickets?category=%00",
    "/api/v1/tickets?status=%00",
    "/api/v1/tickets?cursor=%00",
    "/api/v1/tickets/WM%00",
    "/api/v1/tickets/%00/events",
    f"/api/v1/imports/{BIG}",
    f"/api/v1/imports/{BIG}/rejected.csv",
    f"/api/v1/rulesets/{BIG}",
    f"/api/v1/rulesets/{BIG}/export",
    "/api/v1/metrics?from=0001-01-01&to=9999-12-31",
    "/api/v1/metrics?from=0001-01-01",
    "/api/v1/metrics?to=9999-12-31",
    "/api/v1/templates/%00",
]


@pytest.mark.parametrize("path", API_GETS)
def test_api_reads_answer_4xx(client, path: str) -> None:
    response = client.get(path, headers=auth("hl_demo_admin"))
    assert response.status_code < 500, (path, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"


API_POSTS = [
    ("/api/v1/tickets", {**VALID, "category": "\u0000"}),
    ("/api/v1/tickets", {**VALID, "address": "和平路\u0000"}),
    ("/api/v1/intake/calls", {"external_ref": "GD1", "description": "路灯不亮了好几天",
                              "source": "\u0000"}),
    ("/api/v1/intake/calls", {"external_ref": "\u0000", "description": "路灯不亮了好几天"}),
    ("/api/v1/intake/calls", {"external_ref": "GD2", "description": "路灯不亮了好几天",
                              "lead_unit": "\u0000", "co_units": ["\u0000"]}),
    ("/api/v1/outbox/retry", {"ids": [BIG]}),
    (f"/api/v1/rulesets/{BIG}/activate", None),
    (f"/api/v1/rulesets/{BIG}/copy", None),
    (f"/api/v1/rulesets/{BIG}/test", {"text": "路灯不亮"}),
    ("/api/v1/templates/%00/preview", {"body": "x"}),
]


@pytest.mark.parametrize(("path", "body"), API_POSTS)
def test_api_writes_answer_4xx(client, path: str, body) -> None:
    response = client.post(path, json=body, headers=auth("hl_demo_admin"))
    if response.status_code == 403:  # the admin may not create tickets: try the operator
        response = client.post(path, json=body, headers=auth())
    assert response.status_code < 500, (path, response.get_data(as_text=True)[:300])


def test_ticket_actions_with_huge_ids_and_nul(client) -> None:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    version = client.get(f"/api/v1/tickets/{number}", headers=auth()).json["version"]
    checks = [
        ("resolve", {"version": version, "reply": "已处理", "evidence": [BIG]}, "hl_demo_unit"),
        ("dispatch", {"version": version, "lead_unit": "\u0000"}, "hl_demo_operator"),
        ("dispatch", {"version": version, "lead_unit": "dept-cgj", "category": "\u0000",
                      "co_units": ["\u0000"]}, "hl_demo_operator"),
        ("merge", {"version": version, "into": "\u0000"}, "hl_demo_operator"),
        ("accept", {"version": BIG}, "hl_demo_unit"),
    ]
    for action, body, token in checks:
        response = client.post(f"/api/v1/tickets/{number}/actions/{action}", json=body,
                               headers=auth(token))  # fmt: skip
        assert response.status_code < 500, (action, response.get_data(as_text=True)[:300])


PAGES = [
    "/console/search?q=%00",
    "/console/search?q=%00&status=%00&from=0001-01-01&to=9999-12-31",
    "/console/tickets/%00",
    "/console/tickets/WM%00/photos/1",
    f"/console/tickets/WM20261121-0001/photos/{BIG}",
    "/console/dashboard?from=0001-01-01&to=9999-12-31&district=%00",
    "/console/dashboard.csv?from=0001-01-01&to=9999-12-31",
    "/console/queue?page=%00",
    f"/console/admin/routing/{BIG}",
    "/console/call?phone=%00&text=%00",
]


@pytest.mark.parametrize("path", PAGES)
def test_console_pages_answer_4xx(app, path: str) -> None:
    admin = signed_in(app, "admin", "demo-admin-1")
    response = admin.get(path)
    if response.status_code == 403:
        response = signed_in(app, "operator", "demo-operator-1").get(path)
    assert response.status_code < 500, (path, response.get_data(as_text=True)[:300])


def test_admin_posts_with_huge_ids(app) -> None:
    import re

    admin = signed_in(app, "admin", "demo-admin-1")
    page = admin.get("/console/admin/users").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for path in (f"/console/admin/users/{BIG}/active", f"/console/admin/routing/{BIG}/activate",
                 f"/console/admin/routing/{BIG}", "/console/admin/outbox/retry"):  # fmt: skip
        response = admin.post(path, data={"csrf_token": token, "active": "1", "ids": str(BIG)})
        assert response.status_code < 500, (path, response.get_data(as_text=True)[:300])


PUBLIC = [
    "/track/%00?token=x",
    "/track/WM20261121-0001?token=%00",
    f"/track/WM20261121-0001/photos/{BIG}?token=x",
    "/?category=%00",
]


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_answer_4xx(client, path: str) -> None:
    assert client.get(path).status_code < 500
