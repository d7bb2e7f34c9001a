"""Which events notify whom: outbox rows written with the event, delivered later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import OutboxMessage, Ticket, TicketEvent

# event kind → audiences. The resident hears about progress on their own complaint; units
# about work given to them or running late; supervisors about escalations and disputes.
RESIDENT_EVENTS = {"accepted", "feedback", "resolved", "confirmed", "closed_unrated",
                   "rejected", "merged", "reopened"}  # fmt: skip
UNIT_EVENTS = {"dispatched", "sla_warning", "overdue", "supervised", "reopened", "confirmed"}
SUPERVISOR_EVENTS = {"escalated", "returned", "extension_requested"}


def _payload(event: TicketEvent) -> dict[str, Any]:
    # Only what the event itself says; number, category and deadlines are read from the
    # ticket when the message is composed (a new ticket has no number until its commit).
    return {"event": event.kind, "body": event.body}


def notifications_for(ticket: Ticket, event: TicketEvent, now: datetime) -> list[OutboxMessage]:
    """The outbox rows an event calls for (none for internal bookkeeping)."""
    kind, rows = event.kind, []

    def row(audience: str, recipient: str | None, template: str) -> None:
        rows.append(OutboxMessage(
            ticket=ticket, event=event, audience=audience, recipient=recipient,
            template=template, payload=_payload(event), status="pending",
            attempts=0, next_attempt_at=now, created_at=now,
        ))  # fmt: skip

    if kind in RESIDENT_EVENTS and ticket.reporter_phone and event.public:
        row("resident", ticket.reporter_phone, f"resident.{kind}")
    if kind in UNIT_EVENTS and ticket.lead_unit is not None:
        row("unit", ticket.lead_unit.code, f"unit.{kind}")
    if kind in SUPERVISOR_EVENTS:
        row("supervisor", None, f"supervisor.{kind}")
    return rows
