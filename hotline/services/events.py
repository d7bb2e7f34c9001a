"""Appending to a ticket's event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Ticket, TicketEvent, User


def append_event(
    session: Session,
    ticket: Ticket,
    *,
    kind: str,
    now: datetime,
    actor: User | None,
    actor_label: str,
    public: bool,
    body: str | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """Add the next event of ``ticket``. Callers hold the ticket row (version check or lock),
    so the sequence cannot be taken twice; the unique constraint backs that up."""
    last = session.scalar(
        select(func.max(TicketEvent.sequence)).where(TicketEvent.ticket_id == ticket.id)
    )
    event = TicketEvent(
        ticket_id=ticket.id,
        sequence=(last or 0) + 1,
        kind=kind,
        actor_id=actor.id if actor else None,
        actor_label=actor_label,
        public=public,
        body=body,
        data=data or {},
        created_at=now,
    )
    session.add(event)
    session.flush()
    return event
