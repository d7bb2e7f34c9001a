"""Already reported? Open tickets of the same kind at the same place, for the complaint form.

What a resident may see of someone else's ticket is only its kind, place, day and public
status: never the description, the reporter or the photos."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.states import NOT_FINAL, PUBLIC_STATUS_LABELS, Status
from ..models import Category, Ticket, Unit
from .router_cache import Compiled

WITHIN_DAYS = 30
SHOWN = 5


@dataclass(frozen=True)
class Where:
    """What the typed place and kind resolve to: the territorial unit and the category."""

    category_id: int
    category_name: str
    unit_id: int
    unit_name: str
    place: str  # the gazetteer name that was recognised


@dataclass(frozen=True)
class SimilarTicket:
    id: int
    category: str
    place: str
    created_at: datetime
    status: str


def resolve(compiled: Compiled, *, category: str | None, description: str,
            address: str) -> Where | None:  # fmt: skip
    """The category (the chosen one, else routing's best guess from the description) and the
    territorial unit the typed place names; None when either is unknown."""
    if not address.strip():
        return None
    decision = compiled.router.route(description, place=address)
    places = [p for p in decision.places if p.source == "address"]
    if not places:
        return None  # the description alone is too vague a place to compare
    guess = category or decision.category
    if not guess and decision.candidates:
        guess = decision.candidates[0].category
    city = compiled.city
    info = city.categories.get(guess or "")
    unit = places[0].unit
    if info is None or unit not in city.unit_ids:
        return None
    return Where(info.id, info.name, city.unit_ids[unit], city.units[unit].name, places[0].name)


def similar_open_tickets(session: Session, where: Where, *, now: datetime,
                         limit: int = SHOWN) -> list[SimilarTicket]:  # fmt: skip
    """Open tickets of ``where``'s category in its territorial unit from the last 30 days,
    newest first."""
    rows = session.execute(
        select(Ticket.id, Ticket.status, Ticket.created_at, Ticket.routing, Category.name,
               Unit.name.label("unit_name"))
        .join(Category, Category.id == Ticket.category_id)
        .join(Unit, Unit.id == Ticket.territorial_unit_id)
        .where(Ticket.category_id == where.category_id,
               Ticket.territorial_unit_id == where.unit_id,
               Ticket.status.in_([s.value for s in NOT_FINAL]),
               Ticket.created_at >= now - timedelta(days=WITHIN_DAYS))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )  # fmt: skip
    return [
        SimilarTicket(
            row.id,
            row.name,
            _place(row.routing) or row.unit_name,
            row.created_at,
            PUBLIC_STATUS_LABELS[Status(row.status)],
        )
        for row in rows
    ]


def _place(routing: dict | None) -> str | None:
    # The gazetteer name routing recognised, never the typed address (it may be a home).
    for place in (routing or {}).get("places") or []:
        if isinstance(place, dict) and place.get("name"):
            return str(place["name"])
    return None
