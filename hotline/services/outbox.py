"""Which events notify whom: outbox rows written with the event, delivered later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..domain.events import EventKind as E
from ..domain.templates import template_key
from ..models import OutboxMessage, Ticket, TicketEvent

# event kind → audiences. The resident hears about progress on their own complaint; units
# about work given to them or running late, and the supervisor's decisions on their
# requests (an extension; a return overruled sends the ticket back to them); supervisors
# about escalations and disputes. Staff read the same rows in the console's inbox.
RESIDENT_EVENTS = frozenset({E.ACCEPTED, E.FEEDBACK, E.RESOLVED, E.CONFIRMED, E.CLOSED_UNRATED,
                            E.REJECTED, E.MERGED, E.REOPENED})  # fmt: skip
UNIT_EVENTS = frozenset({E.DISPATCHED, E.SLA_WARNING, E.OVERDUE, E.SUPERVISED, E.REOPENED,
                        E.CONFIRMED, E.EXTENSION_DECIDED, E.ARBITRATED})  # fmt: skip
SUPERVISOR_EVENTS = frozenset({E.ESCALATED, E.RETURNED, E.EXTENSION_REQUESTED})


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


def message_values(audience: str, recipient: str | None, kind: str, payload: dict[str, Any],
                   now: datetime) -> dict[str, Any]:  # fmt: skip
    """An outbox row's columns, bar its ticket and event."""
    return {"audience": audience, "recipient": recipient,
            "template": template_key(audience, kind), "payload": payload,
            "status": "pending", "attempts": 0, "next_attempt_at": now,
            "created_at": now}  # fmt: skip


def notifications_for(ticket: Ticket, event: TicketEvent, now: datetime) -> list[OutboxMessage]:
    """The outbox rows an event calls for (none for internal bookkeeping)."""
    lead = ticket.lead_unit.code if ticket.lead_unit is not None else None
    return [
        OutboxMessage(ticket=ticket, event=event,
                      **message_values(audience, recipient, event.kind,
                                       payload_for(event.kind, event.body, event.data), now))
        for audience, recipient in recipients(event.kind, public=event.public,
                                              reporter_phone=ticket.reporter_phone,
                                              lead_unit=lead)
    ]  # fmt: skip


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
