"""Which events notify whom: outbox rows written with the event, delivered later."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session

from ..domain.events import EventKind as E
from ..domain.privacy import mask_phone
from ..domain.states import Status
from ..domain.templates import template_key
from ..models import OutboxMessage, Ticket, TicketEvent, TicketFollower

# event kind → audiences. The resident hears about progress on their own complaint; units
# about work given to them or running late, and the supervisor's decisions on their
# requests (an extension; a return overruled sends the ticket back to them); supervisors
# about escalations and disputes. Staff read the same rows in the console's inbox.
RESIDENT_EVENTS = frozenset({E.ACCEPTED, E.FEEDBACK, E.RESOLVED, E.CONFIRMED, E.CLOSED_UNRATED,
                            E.REJECTED, E.MERGED, E.REOPENED})  # fmt: skip
UNIT_EVENTS = frozenset({E.DISPATCHED, E.SLA_WARNING, E.OVERDUE, E.SUPERVISED, E.REOPENED,
                        E.CONFIRMED, E.EXTENSION_DECIDED, E.ARBITRATED})  # fmt: skip
SUPERVISOR_EVENTS = frozenset({E.ESCALATED, E.RETURNED, E.EXTENSION_REQUESTED})
# Followers (我也遇到了) hear what the reporter hears, in texts of their own: no tracking
# link (that page is the reporter's) and no request to rate.
FOLLOWER_EVENTS = RESIDENT_EVENTS


def payload_for(kind: str, body: str | None, data: dict[str, Any] | None) -> dict[str, Any]:
    # Only what the event itself says; number, category and deadlines are read from the
    # ticket when the message is composed (a new ticket has no number until its commit).
    payload = {"event": kind, "body": body}
    if (data or {}).get("unit"):  # a return names the unit that gave the ticket back
        payload["unit"] = data["unit"]
    return payload


def recipients(kind: str, *, public: bool, reporter_phone: str | None,
               lead_unit: str | None) -> list[tuple[str, str | None]]:  # fmt: skip
    """(audience, recipient) for each message an event of ``kind`` calls for."""
    found: list[tuple[str, str | None]] = []
    if kind in RESIDENT_EVENTS and reporter_phone and public:
        found.append(("resident", reporter_phone))
    if kind in UNIT_EVENTS and lead_unit is not None:
        found.append(("unit", lead_unit))
    if kind in SUPERVISOR_EVENTS:
        found.append(("supervisor", None))  # the campaign office, as configured when sent
    return found


def template_for(audience: str, kind: str, data: dict[str, Any] | None = None) -> str:
    """The template an event's message uses. A confirmation that sent the ticket back (not
    resolved, or dissatisfied) is a reopening to residents: no thanks, and one SMS only."""
    sent_back = kind == E.CONFIRMED and (data or {}).get("to") == Status.REOPENED.value
    if sent_back and audience in ("resident", "follower"):
        kind = E.REOPENED
    return template_key(audience, kind)


def message_values(audience: str, recipient: str | None, kind: str, payload: dict[str, Any],
                   now: datetime, data: dict[str, Any] | None = None
                   ) -> dict[str, Any]:  # fmt: skip
    """An outbox row's columns, bar its ticket and event."""
    return {"audience": audience, "recipient": recipient,
            "template": template_for(audience, kind, data), "payload": payload,
            "status": "pending", "attempts": 0, "next_attempt_at": now,
            "created_at": now}  # fmt: skip


def notifications_for(ticket: Ticket, event: TicketEvent, now: datetime) -> list[OutboxMessage]:
    """The outbox rows an event calls for (none for internal bookkeeping)."""
    lead = ticket.lead_unit.code if ticket.lead_unit is not None else None
    found = recipients(event.kind, public=event.public, reporter_phone=ticket.reporter_phone,
                       lead_unit=lead)  # fmt: skip
    found += [("follower", phone) for phone in follower_phones(ticket, event)]
    return [
        OutboxMessage(ticket=ticket, event=event,
                      **message_values(audience, recipient, event.kind,
                                       payload_for(event.kind, event.body, event.data), now,
                                       event.data))
        for audience, recipient in found
    ]  # fmt: skip


def follower_phones(ticket: Ticket, event: TicketEvent) -> list[str]:
    """The followers an event reaches: public updates residents hear about, never the
    reporter twice (a reporter who also pressed 我也遇到了 gets their own text only)."""
    session = object_session(ticket)
    if event.kind not in FOLLOWER_EVENTS or not event.public or session is None:
        return []
    if ticket.id is None:
        return []  # a ticket being filed has no followers yet
    phones = session.scalars(select(TicketFollower.phone)
                             .where(TicketFollower.ticket_id == ticket.id)
                             .order_by(TicketFollower.id))  # fmt: skip
    return [phone for phone in phones if phone and phone != ticket.reporter_phone]


def retry_failed(session: Session, *, now: datetime, ids: list[int] | None = None) -> int:
    """An admin's retry of failed or dead rows: they become pending again."""
    stmt = update(OutboxMessage).where(OutboxMessage.status.in_(["failed", "dead"]))
    if ids:
        stmt = stmt.where(OutboxMessage.id.in_(ids))
    return session.execute(stmt.values(status="pending", next_attempt_at=now)).rowcount


def summary(session: Session, *, failures: int = 20) -> dict[str, Any]:
    """Counts per status and the latest failures with their reasons (for admins, /readyz)."""
    by_status = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    counts = {status: count for status, count in session.execute(by_status)}
    latest = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(["failed", "dead"]))
        .order_by(OutboxMessage.id.desc())
        .limit(failures)
    )
    return {
        "counts": counts,
        "failures": [
            {"id": m.id, "template": m.template, "recipient": m.recipient,
             "attempts": m.attempts, "error": m.last_error, "status": m.status}
            for m in latest
        ],
    }  # fmt: skip


# The tracking link's token confirms the ticket as the resident: never shown to staff.
_TOKEN = re.compile(r"(token=)[^\s&#]+")
PHONED = frozenset({"resident", "follower"})


def console_messages(session: Session, *, limit: int = 30, scan: int = 500) -> list[dict[str, Any]]:
    """The latest messages the demo channel "sent" (no SMS gateway, or a unit without webhook
    or e-mail), as rendered, for admins: residents' phones masked (admins manage the system,
    not cases) and tracking tokens hidden — the server's output has them in full. The
    delivery keeps the text in the payload; only the last ``scan`` sent rows are read, which
    is plenty for a demo and bounded in production."""
    latest = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "sent")
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(scan)
    )
    found = []
    for message in latest:
        text = (message.payload or {}).get("console_text")
        if text:
            to = message.recipient
            if message.audience in PHONED:
                to = mask_phone(to)
                text = _TOKEN.sub(r"\1…", text)
                if message.recipient:  # a text that quotes the number, if an admin wrote one
                    text = text.replace(message.recipient, to or "")
            found.append({"id": message.id, "sent_at": message.sent_at,
                          "audience": message.audience, "recipient": to,
                          "template": message.template, "text": text})  # fmt: skip
            if len(found) >= limit:
                break
    return found
