"""Residents' SMS replies through POST /api/v1/sms/inbound, signed as the gateway signs them:
"3" sends the ticket back, "1" closes it, a repeat does nothing, anything else gets a polite
SMS, and nothing unsigned or badly signed is accepted."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import uuid

import pytest
from sqlalchemy import select

from hotline.models import InboundSms, OutboxMessage, Ticket, TicketEvent
from notifications.outbox import flush
from tests.helpers import VALID, api_act, auth

SECRET = "gateway-shared-secret"
URL = "/api/v1/sms/inbound"
OPERATOR, UNIT = auth(), auth("hl_demo_unit")
PHONE = VALID["reporter_phone"]


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, sms_inbound_secret=SECRET)


def signed_post(client, clock, body: dict, *, secret: str = SECRET, skew: int = 0,
                header: str | None = None):  # fmt: skip
    raw = json.dumps(body, ensure_ascii=False).encode()
    stamp = int(clock.now.timestamp()) + skew
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    signature = header if header is not None else f"t={stamp},v1={mac}"
    return client.post(URL, data=raw, headers={"Content-Type": "application/json",
                                               "X-Hotline-Signature": signature})  # fmt: skip


_context: dict = {}


@pytest.fixture(autouse=True)
def _delivery(settings, clock):
    _context.update(settings=settings, clock=clock)


def deliver(db) -> None:
    flush(_context["settings"], db, now=_context["clock"].now)


def reply(text: str, phone: str = PHONE, gateway_id: str | None = None) -> dict:
    return {"id": gateway_id or uuid.uuid4().hex, "phone": phone, "text": text}


def resolved_ticket(client) -> str:
    created = client.post("/api/v1/tickets", json=VALID, headers=OPERATOR)
    assert created.status_code == 201, created.json
    number = created.json["number"]
    api_act(client, number, "accept", UNIT)
    api_act(client, number, "waive_co_units", auth("hl_demo_supervisor"), reason="已口头报告")
    api_act(client, number, "resolve", UNIT, reply="摊贩已劝离")
    return number


def rating(db, number: str) -> tuple[str, str | None]:
    with db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        return ticket.status, ticket.satisfaction


def resident_texts(db, number: str) -> list[tuple[str, str]]:
    """(template, text as the demo channel rendered it) of the resident's messages, after
    delivering what waits (no SMS gateway in tests: the demo channel keeps the text)."""
    deliver(db)
    with db.transaction() as session:
        rows = session.scalars(
            select(OutboxMessage).join(Ticket).where(Ticket.number == number,
                                                     OutboxMessage.audience == "resident")
            .order_by(OutboxMessage.id)
        ).all()  # fmt: skip
        return [(r.template, (r.payload or {}).get("console_text", "")) for r in rows]


def test_a_reply_3_sends_the_ticket_back_without_thanks(client, db, clock) -> None:
    number = resolved_ticket(client)
    resolution = resident_texts(db, number)[-1]
    assert resolution[0] == "resident.resolved"
    assert "回复1满意、2基本满意、3不满意" in resolution[1] and "/track/" in resolution[1]
    answer = signed_post(client, clock, reply(" ３ "))  # full-width, with spaces
    assert answer.status_code == 200, answer.json
    assert answer.json == {"outcome": "reopened", "ticket": number, "repeated": False}
    ticket = client.get(f"/api/v1/tickets/{number}", headers=OPERATOR).json
    assert ticket["status"] == "reopened"
    with db.transaction() as session:
        event = session.scalars(select(TicketEvent).join(Ticket).where(
            Ticket.number == number).order_by(TicketEvent.sequence.desc())).first()  # fmt: skip
        assert event.kind == "confirmed" and event.data["channel"] == "sms"
        assert event.data["satisfaction"] == "dissatisfied" and event.data["resolved"] is False
        assert event.actor_label == "市民"
        stored = session.scalars(select(InboundSms)).one()
        assert (stored.outcome, stored.ticket_id, stored.body) == ("reopened", event.ticket_id,
                                                                   " ３ ")  # fmt: skip
    template, text = resident_texts(db, number)[-1]
    # One SMS for one reply, and it says what happens instead of thanking them.
    assert template == "resident.reopened"
    assert "重新办理" in text and "感谢" not in text
    assert [t for t, _ in resident_texts(db, number)].count("resident.confirmed") == 0


def test_a_reply_1_closes_it_satisfied_and_a_repeat_does_nothing(client, db, clock) -> None:
    number = resolved_ticket(client)
    message = reply("满意", phone="+86 138-1234-1234", gateway_id="gw-0001")
    first = signed_post(client, clock, message)
    assert first.json == {"outcome": "rated", "ticket": number, "repeated": False}
    assert rating(db, number) == ("closed", "satisfied")
    template, text = resident_texts(db, number)[-1]
    assert template == "resident.confirmed" and "感谢" in text
    with db.transaction() as session:
        counts = (len(session.scalars(select(TicketEvent.id)).all()),
                  len(session.scalars(select(OutboxMessage.id)).all()))  # fmt: skip
    again = signed_post(client, clock, {**message, "text": "3"})  # same id, other text
    assert again.status_code == 200
    assert again.json == {"outcome": "rated", "ticket": number, "repeated": True}
    with db.transaction() as session:
        assert (len(session.scalars(select(TicketEvent.id)).all()),
                len(session.scalars(select(OutboxMessage.id)).all())) == counts  # fmt: skip
        assert len(session.scalars(select(InboundSms.id)).all()) == 1
    assert client.get(f"/api/v1/tickets/{number}", headers=OPERATOR).json["status"] == "closed"


def test_a_reply_2_is_basically_satisfied(client, db, clock) -> None:
    number = resolved_ticket(client)
    assert signed_post(client, clock, reply("2")).json["outcome"] == "rated"
    assert rating(db, number) == ("closed", "basic")


def test_an_unknown_reply_gets_a_polite_sms_with_the_tracking_link(client, db, clock) -> None:
    number = resolved_ticket(client)
    answer = signed_post(client, clock, reply("师傅什么时候来？"))
    assert answer.json == {"outcome": "unknown_reply", "ticket": number, "repeated": False}
    assert client.get(f"/api/v1/tickets/{number}", headers=OPERATOR).json["status"] == "resolved"
    template, text = resident_texts(db, number)[-1]
    assert template == "resident.sms_reply_help"
    assert "回复1满意" in text and f"/track/{number}?token=" in text
    with db.transaction() as session:  # staff see what the resident wrote, internally
        note = session.scalars(select(TicketEvent).where(TicketEvent.kind == "note")).one()
        assert "师傅什么时候来" in note.body and note.public is False


def test_a_rating_with_nothing_to_rate_says_how_to_get_help(client, db, clock) -> None:
    answer = signed_post(client, clock, reply("1", phone="13900002222"))
    assert answer.json == {"outcome": "no_ticket", "ticket": None, "repeated": False}
    deliver(db)
    with db.transaction() as session:
        (message,) = session.scalars(select(OutboxMessage)).all()
        assert message.ticket_id is None and message.recipient == "13900002222"
        assert message.status == "sent"  # delivered by the demo channel, without a ticket
        assert "请拨打 12345" in message.payload["console_text"]


@pytest.mark.parametrize(
    ("header", "skew", "secret", "status"),
    [
        ("", 0, SECRET, 401),  # unsigned
        ("t=abc,v1=00", 0, SECRET, 401),  # malformed
        (None, 0, "not-the-secret", 403),  # wrong key
        (None, -301, SECRET, 403),  # replayed later
    ],
)
def test_bad_signatures_are_refused(client, db, clock, header, skew, secret, status) -> None:
    number = resolved_ticket(client)
    answer = signed_post(client, clock, reply("3"), secret=secret, skew=skew, header=header)
    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"
    assert answer.json["code"] == "bad-signature"
    assert client.get(f"/api/v1/tickets/{number}", headers=OPERATOR).json["status"] == "resolved"
    with db.transaction() as session:
        assert session.scalars(select(InboundSms)).all() == []


def test_bad_bodies_are_422(client, clock) -> None:
    missing = signed_post(client, clock, {"id": "x1", "text": "1"})
    assert missing.status_code == 422 and "phone" in missing.json["errors"]
    extra = signed_post(client, clock, {**reply("1"), "unexpected": 1})
    assert extra.status_code == 422
    not_a_phone = signed_post(client, clock, reply("1", phone="12345"))
    assert not_a_phone.status_code == 422 and "phone" in not_a_phone.json["errors"]


def test_without_a_secret_nothing_is_accepted(app, client, clock) -> None:
    app.extensions["hotline"].settings = dataclasses.replace(
        app.extensions["hotline"].settings, sms_inbound_secret=""
    )
    answer = signed_post(client, clock, reply("1"), secret="")
    assert answer.status_code == 404 and answer.json["code"] == "sms-inbound-disabled"


def test_the_endpoint_is_documented(client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/sms/inbound"]["post"]
    assert any(p["name"] == "X-Hotline-Signature" for p in operation["parameters"])
    assert "requestBody" in operation
