"""What an operator wants to know while a resident is on the phone: the caller's earlier
tickets, and open tickets that look like the same problem (services/duplicates.py: same
place, same kind, same address, similar words)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..models import Ticket
from . import duplicates
from .router_cache import Compiled


def earlier_by_phone(session: Session, phone: str, *, limit: int = 10) -> list[Ticket]:
    return list(session.scalars(
        select(Ticket).where(Ticket.reporter_phone == phone)
        .order_by(Ticket.created_at.desc()).limit(limit)
        .options(selectinload(Ticket.category), selectinload(Ticket.lead_unit))
    ))  # fmt: skip


def likely_duplicates(session: Session, *, text: str, address: str | None,
                      routing: Compiled | None, now: datetime, category: str | None = None,
                      limit: int = 5) -> list[duplicates.Match]:  # fmt: skip
    """Open tickets of the last 30 days that may be the problem the caller describes (the
    kind the operator chose, if any, else routing's reading), likeliest first, each with
    why it is suggested (``Match.why``)."""
    probe = duplicates.probe_for_draft(routing, text=text, address=address, now=now,
                                       category=category)  # fmt: skip
    if probe is None:
        return []
    return duplicates.find_one(session, probe, routing=routing, limit=limit)
