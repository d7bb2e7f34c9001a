"""Already reported? Open tickets at the same place of the same kind or reading alike, for the
complaint form.

What a resident may see of someone else's ticket is only its kind, place, day and public
status: never the description, the reporter or the photos."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.states import PUBLIC_STATUS_LABELS, Status
from ..models import Ticket
from . import duplicates
from .router_cache import Compiled

WITHIN_DAYS = duplicates.WINDOW.days
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
                         description: str = "", routing: Compiled | None = None,
                         limit: int = SHOWN) -> list[SimilarTicket]:  # fmt: skip
    """Open tickets from the last 30 days in ``where``'s territorial unit, of its category or
    reading like ``description`` (services/duplicates.py), likeliest first."""
    probe = duplicates.Probe(
        duplicates.ticket_text(None, description),
        now,
        category_id=where.category_id,
        territorial_unit_id=where.unit_id,
    )
    # A resident compares within the place they typed; a long list would not be read.
    matches = [m for m in duplicates.find_one(session, probe, routing=routing, limit=4 * limit)
               if m.same_place][:limit]  # fmt: skip
    if not matches:
        return []
    stored = dict(session.execute(
        select(Ticket.id, Ticket.routing).where(Ticket.id.in_([m.original.id for m in matches]))
    ).all())  # fmt: skip
    return [
        SimilarTicket(
            m.original.id,
            m.original.category_name or "其他",
            _place(stored.get(m.original.id)) or m.original.unit_name or where.unit_name,
            m.original.created_at,
            PUBLIC_STATUS_LABELS[Status(m.original.status)],
        )
        for m in matches
    ]


def _place(routing: dict | None) -> str | None:
    # The gazetteer name routing recognised, never the typed address (it may be a home).
    for place in (routing or {}).get("places") or []:
        if isinstance(place, dict) and place.get("name"):
            return str(place["name"])
    return None
