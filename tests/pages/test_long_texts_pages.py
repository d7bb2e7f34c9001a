"""A 7,000-character work order: lists show its first characters and "…", on one line; the
ticket page shows all of it with its line breaks; the operator may register a long call."""

from __future__ import annotations

import html
import re

from hotline.web.filters import excerpt
from tests.helpers import auth, signed_in, token_of
from tests.services.test_import_long_texts import CLOSING, long_complaint


def push(client, ref: str, text: str, unit: str) -> str:
    response = client.post("/api/v1/intake/calls", headers=auth(), json={
        "external_ref": ref, "description": text, "lead_unit": unit,
        "reported_at": "2026-11-21 08:15",
    })  # fmt: skip
    assert response.status_code == 201, response.json
    return response.json["number"]


def shown(page: str) -> str:
    """The page's text as read: tags dropped (highlights too), entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_excerpt_filter() -> None:
    text = "第一段：路灯不亮。\n\n第二段：  井盖缺失\n\n  Road 12"
    assert excerpt(text) == "第一段：路灯不亮。第二段：井盖缺失 Road 12"  # one line
    assert excerpt("很" * 120) == "很" * 120  # fits: unchanged
    assert excerpt("很" * 121) == "很" * 119 + "…"  # by character: Chinese has no spaces
    assert excerpt("很" * 50, 40) == "很" * 39 + "…" and excerpt(None) == ""


def test_lists_show_the_excerpt_and_the_ticket_page_the_whole(app, client) -> None:
    text = long_complaint(7000)
    number = push(client, "LONG-1", text, "城管局")
    queued = push(client, "LONG-2", text.replace("和平路", "建设路", 1), "不存在的局")
    head = excerpt(text, 60)
    assert head.endswith("…") and len(head) == 60

    unit = signed_in(app, "cgj", "demo-unit-1")
    worklist = shown(unit.get("/console/worklist").get_data(as_text=True))
    assert head in worklist and CLOSING not in worklist

    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    found = shown(supervisor.get("/console/search?q=烧烤店").get_data(as_text=True))
    assert head in found and CLOSING not in found

    operator = signed_in(app, "operator", "demo-operator-1")
    queue = shown(operator.get("/console/queue").get_data(as_text=True))
    assert excerpt(text.replace("和平路", "建设路", 1)) in queue and CLOSING not in queue
    assert queued

    page = unit.get(f"/console/tickets/{number}").get_data(as_text=True)
    description = re.search(r'<p class="description">(.*?)</p>', page, re.S).group(1)
    assert shown(description) == text  # every character, every line break


def test_the_operator_registers_a_long_call(app) -> None:
    operator = signed_in(app, "operator", "demo-operator-1")
    form = operator.get("/console/call").get_data(as_text=True)
    assert 'maxlength="20000"' in form
    response = operator.post("/console/call", data={
        "csrf_token": token_of(form), "step": "submit", "description": long_complaint(7000),
        "reporter_phone": "13812341234", "reported_at": "2026-11-21T08:15", "priority": "normal",
    })  # fmt: skip
    assert response.status_code == 302, shown(response.get_data(as_text=True))[:2000]
    over = operator.post("/console/call", data={
        "csrf_token": token_of(form), "step": "submit", "description": long_complaint(20_001),
        "reporter_phone": "13812341234", "reported_at": "2026-11-21T08:15", "priority": "normal",
    })  # fmt: skip
    assert over.status_code == 422 and "不能超过 20000 个字" in over.get_data(as_text=True)
