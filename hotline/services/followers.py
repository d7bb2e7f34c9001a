"""我也遇到了: a resident follows another resident's ticket (they hear of it by SMS and it
weighs one resident more in worklists and hotspots)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.states import FINAL, Status
from ..models import Ticket, TicketFollower


def can_follow(ticket: Ticket) -> bool:
    """Only tickets still open: a closed one has nothing more to tell."""
    return Status(ticket.status) not in FINAL


def add_follower(session: Session, ticket: Ticket, phone: str, now: datetime) -> bool:
    """Add ``phone`` (normalised) as a follower; False when it already follows the ticket or
    is the reporter's own (who hears of it anyway)."""
    if phone == ticket.reporter_phone:
        return False
    exists = select(TicketFollower.id).where(
        TicketFollower.ticket_id == ticket.id, TicketFollower.phone == phone
    )
    if session.scalar(exists) is not None:
        return False
    try:
        with session.begin_nested():  # two taps at once: the unique constraint decides
            session.add(TicketFollower(ticket_id=ticket.id, phone=phone, created_at=now))
    except IntegrityError:
        return False
    # A plain UPDATE: a follower is no workflow change, so staff holding the ticket's
    # version must not get a conflict for it.
    session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(follower_count=Ticket.follower_count + 1)
        .execution_options(synchronize_session=False)
    )
    return True
