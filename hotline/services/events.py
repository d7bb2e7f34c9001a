"""Building a ticket's events (append-only; timelines and metrics are computed from them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.events import EventKind
from ..models import Ticket, TicketEvent
from .actors import Actor


def new_event(
    ticket: Ticket,
    sequence: int,
    kind: EventKind,
    *,
    actor: Actor,
    now: datetime,
    public: bool,
    body: str | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """One event; ``kind`` must be an :class:`EventKind` (a bare string naming one is
    accepted and checked: nothing else is ever stored)."""
    return TicketEvent(
        ticket=ticket, sequence=sequence, kind=EventKind(kind).value, actor_id=actor.user_id,
        actor_label=actor.label, public=public, body=body, data=data or {}, created_at=now,
    )  # fmt: skip


def dispatched_body(lead: str, co_units: Sequence[str], *, again: bool = False) -> str:
    """The public text of a dispatch ("已转交…办理"), or of a re-dispatch ("已改派…办理")."""
    helpers = "、".join(name for name in co_units if name)
    verb = "改派" if again else "转交"
    return f"已{verb}{lead}办理" + (f"，{helpers}协办" if helpers else "") + "。"


def next_sequence(session: Session, ticket: Ticket) -> int:
    """The next free sequence number; callers hold the ticket (row lock or version check)."""
    last = session.scalar(
        select(func.max(TicketEvent.sequence)).where(TicketEvent.ticket_id == ticket.id)
    )
    return (last or 0) + 1
