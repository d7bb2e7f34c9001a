"""In a real browser, at a phone's and a desktop's size: a unit's worklist and the supervisor's
hotspots with the residents affected, an SMS reply "3" sending the ticket back, and the
admins' list of what the demo channel "sent". None of them scrolls sideways."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.models import Ticket, TicketFollower
from notifications.outbox import flush
from tests.e2e.conftest import no_sideways_scroll, sign_in
from tests.helpers import VALID, api_act, auth

SECRET = "gateway-secret"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
SHOTS = Path(os.environ.get("HOTLINE_SHOTS_DIR", "tests/artifacts")) / "sms"


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, sms_inbound_secret=SECRET)


def prepare(client, db) -> list[str]:
    numbers = [client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
               for _ in range(3)]  # fmt: skip
    with db.transaction() as session:  # two followers on the first, one on the second
        for number, phones in ((numbers[0], ("13900003333", "13900004444")),
                               (numbers[1], ("13900005555",))):  # fmt: skip
            ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
            for phone in phones:
                session.add(TicketFollower(ticket_id=ticket.id, phone=phone,
                                           created_at=datetime.now(UTC)))  # fmt: skip
            ticket.follower_count = len(phones)
    unit, supervisor = auth("hl_demo_unit"), auth("hl_demo_supervisor")
    api_act(client, numbers[0], "accept", unit)
    api_act(client, numbers[0], "waive_co_units", supervisor, reason="已口头报告")
    api_act(client, numbers[0], "resolve", unit, reply="摊贩已劝离")
    return numbers


def sms_reply(client, clock, text: str) -> dict:
    raw = json.dumps({"id": "e2e-1", "phone": VALID["reporter_phone"], "text": text}).encode()
    stamp = int(clock.now.timestamp())
    mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    answer = client.post(
        "/api/v1/sms/inbound",
        data=raw,
        headers={"Content-Type": "application/json", "X-Hotline-Signature": f"t={stamp},v1={mac}"},
    )
    assert answer.status_code == 200, answer.json
    return answer.json


def look(browser, server: str, user: tuple[str, str], path: str, name: str) -> list[str]:
    texts = []
    for size, viewport in SIZES.items():
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        page = context.new_page()
        sign_in(page, server, *user)
        page.goto(f"{server}{path}")
        no_sideways_scroll(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
        texts.append(page.locator("main").inner_text())
        context.close()
    return texts


def test_residents_affected_an_sms_reply_and_the_demo_messages(
    browser, server, client, db, settings, clock
) -> None:
    first, *_ = prepare(client, db)
    for text in look(browser, server, ("cgj", "demo-unit-1"), "/console/worklist", "worklist"):
        assert "2 位市民反映" in text  # the first is resolved: off the worklist
    dashboard = "/console/dashboard?from=2026-11-01&to=2026-11-30"
    for text in look(browser, server, ("supervisor", "demo-supervisor-1"), dashboard,
                     "hotspots"):  # fmt: skip
        assert "6 位市民反映" in text  # 3 tickets + 3 followers
    assert sms_reply(client, clock, "3") == {"outcome": "reopened", "ticket": first,
                                             "repeated": False}  # fmt: skip
    flush(settings, db, now=clock.now)
    for text in look(browser, server, ("cgj", "demo-unit-1"), f"/console/tickets/{first}",
                     "reopened-ticket"):  # fmt: skip
        assert "重办" in text
    for text in look(browser, server, ("admin", "demo-admin-1"), "/console/admin/outbox",
                     "outbox"):  # fmt: skip
        assert "最近发出的消息（演示通道）" in text and "已退回承办单位重新办理" in text
        assert "您关注的问题" in text
