"""Notices as admins wrote them, and to the campaign office: delivered through a receiver."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import select, update

from hotline.models import AuditEvent, OutboxMessage, Unit
from notifications.outbox import flush
from tests.helpers import VALID, auth

ADMIN = auth("hl_demo_admin")
URL = "/api/v1/templates"


def test_an_edited_text_is_what_residents_receive(client, db, settings, receiver) -> None:
    body = "【文明直通车】工单{{ number }}已签收，{{ resolve_by }}前办结。查看：{{ link }}"
    saved = client.put(f"{URL}/resident.accepted", headers=ADMIN,
                       json={"body": body, "sms_template_id": "SMS_1234"})  # fmt: skip
    assert saved.status_code == 200 and saved.json["customised"] is True
    ticket = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
    client.post(f"/api/v1/tickets/{ticket['number']}/actions/accept",
                json={"version": ticket["version"]}, headers=auth("hl_demo_unit"))  # fmt: skip
    flush(replace(settings, sms_gateway_url=receiver.url), db)
    (sms,) = [json.loads(r["body"]) for r in receiver.requests]
    assert sms["content"].startswith(f"【文明直通车】工单{ticket['number']}已签收，")
    assert sms["template_id"] == "SMS_1234"
    assert set(sms["params"]) == {"number", "category", "status", "accept_by", "resolve_by",
                                  "link"}  # fmt: skip  # nothing staff-only, no phone numbers
    with db.transaction() as session:
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "template.saved"))
        assert audit.subject == "template:resident.accepted" and audit.actor_label == "系统管理员"


def test_disputed_returns_reach_the_campaign_office(client, db, settings, receiver) -> None:
    with db.transaction() as session:
        session.execute(update(Unit).where(Unit.code == "office")
                        .values(webhook_url=receiver.url, webhook_secret="k"))  # fmt: skip
    try:
        ticket = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
        returned = client.post(f"/api/v1/tickets/{ticket['number']}/actions/return",
                               json={"version": ticket["version"], "reason": "属市场监管职责"},
                               headers=auth("hl_demo_unit"))  # fmt: skip
        assert returned.status_code == 200
        flush(settings, db)
    finally:
        with db.transaction() as session:
            session.execute(update(Unit).where(Unit.code == "office").values(webhook_url=None))
    (notice,) = [json.loads(r["body"]) for r in receiver.requests]
    assert notice["text"] == (f"工单{ticket['number']}（占道经营）被示范市城市管理局退单，"
                              "待裁定：属市场监管职责")  # fmt: skip
    with db.transaction() as session:
        row = session.scalar(select(OutboxMessage).where(
            OutboxMessage.template == "supervisor.returned"))  # fmt: skip
        assert row.status == "sent"


def test_residents_links_stand_on_the_public_base_url(client, db, settings, caplog) -> None:
    """Messages are sent without a request: the link needs HOTLINE_PUBLIC_BASE_URL, and
    without it (development) it stays relative and says so in the log, never a made-up host."""
    from notifications.compose import compose

    ticket = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
    client.post(f"/api/v1/tickets/{ticket['number']}/actions/accept",
                json={"version": ticket["version"]}, headers=auth("hl_demo_unit"))  # fmt: skip
    with db.transaction() as session:
        row = session.scalar(select(OutboxMessage)
                             .where(OutboxMessage.template == "resident.accepted"))  # fmt: skip
        public = replace(settings, public_base_url="https://12345.example.gov.cn")
        _, message = compose(session, row, public)
        assert f"https://12345.example.gov.cn/track/{ticket['number']}?token=" in message.text
        with caplog.at_level("WARNING", logger="notifications.compose"):
            _, message = compose(session, row, replace(settings, public_base_url=None))
    assert f"进度：/track/{ticket['number']}?token=" in message.text
    assert "127.0.0.1" not in message.text
    assert "HOTLINE_PUBLIC_BASE_URL is not set" in caplog.text
