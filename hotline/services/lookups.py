"""What an operator wants to know while a resident is on the phone: the caller's earlier
tickets, and open tickets that look like the same problem (same place, same kind)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from ..domain.states import FINAL
from ..models import Ticket
from .router_cache import Compiled

RECENT = timedelta(days=30)


def earlier_by_phone(session: Session, phone: str, *, limit: int = 10) -> list[Ticket]:
    return list(session.scalars(
        select(Ticket).where(Ticket.reporter_phone == phone)
        .order_by(Ticket.created_at.desc()).limit(limit)
        .options(selectinload(Ticket.category), selectinload(Ticket.lead_unit))
    ))  # fmt: skip


def likely_duplicates(session: Session, *, text: str, address: str | None,
                      routing: Compiled | None, now: datetime, category: str | None = None,
                      limit: int = 5) -> list[tuple[Ticket, str]]:  # fmt: skip
    """Open tickets of the last 30 days at the same place about the same kind of problem,
    as routing reads the draft (the kind the operator chose, if any); each with why it is
    suggested."""
    if routing is None or not text.strip():
        return []
    decision = routing.router.route(text, place=address or "")
    city = routing.city
    kind = city.categories.get(category or "") or city.categories.get(decision.category or "")
    place = city.unit_ids.get(decision.territorial_unit or "")
    conditions = []
    if kind is not None and place is not None:
        conditions.append((Ticket.category_id == kind.id)
                          & (Ticket.territorial_unit_id == place))  # fmt: skip
    if address and len(address.strip()) >= 4:
        conditions.append(Ticket.address == address.strip())
    if not conditions:
        return []
    found = session.scalars(
        select(Ticket)
        .where(Ticket.status.notin_([s.value for s in FINAL]),
               Ticket.created_at >= now - RECENT, or_(*conditions))
        .order_by(Ticket.created_at.desc()).limit(limit)
        .options(selectinload(Ticket.category), selectinload(Ticket.territorial_unit))
    )  # fmt: skip
    results = []
    for ticket in found:
        if address and ticket.address == address.strip():
            why = "同一地址"
        else:
            why = f"同一地点（{ticket.territorial_unit.name}）同类问题（{ticket.category.name}）"
        results.append((ticket, why))
    return results
