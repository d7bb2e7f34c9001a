"""Building a ticket's events (append-only; timelines and metrics are computed from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Ticket, TicketEvent
from .actors import Actor


def new_event(
    ticket: Ticket,
    sequence: int,
    kind: str,
    *,
    actor: Actor,
    now: datetime,
    public: bool,
    body: str | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    return TicketEvent(
        ticket=ticket, sequence=sequence, kind=kind, actor_id=actor.user_id,
        actor_label=actor.label, public=public, body=body, data=data or {}, created_at=now,
    )  # fmt: skip


def next_sequence(session: Session, ticket: Ticket) -> int:
    """The next free sequence number; callers hold the ticket (row lock or version check)."""
    last = session.scalar(
        select(func.max(TicketEvent.sequence)).where(TicketEvent.ticket_id == ticket.id)
    )
    return (last or 0) + 1
