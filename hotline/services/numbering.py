"""Gapless per-day ticket numbers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String, cast, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..domain.numbering import format_number
from ..models import Ticket, TicketCounter


def assign_number(session: Session, *, ticket_id: int, prefix: str, day: date) -> str:
    """Increment the day's counter and write the result as the ticket's number.

    The counter upsert takes a row lock held until the transaction ends, so concurrent intakes
    queue on it; a rolled-back intake rolls the counter back too, which keeps numbers gapless.
    Callers do this last, right before the commit, to keep that queue short. On PostgreSQL the
    increment and the update travel as one statement (a data-modifying CTE), so the lock is
    held for one round trip plus the commit.
    """
    counters, tickets = TicketCounter.__table__, Ticket.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    bump = (
        insert(counters)
        .values(day=day, last=1)
        .on_conflict_do_update(index_elements=[counters.c.day], set_={"last": counters.c.last + 1})
        .returning(counters.c.last)
    )
    if dialect != "postgresql":
        number = format_number(prefix, day, session.execute(bump).scalar_one())
        session.execute(update(tickets).where(tickets.c.id == ticket_id).values(number=number))
        return number
    n = bump.cte("n")
    digits = cast(n.c.last, String)
    # Same format as domain.numbering.format_number: at least four digits, more when needed.
    sql_number = literal(f"{prefix}{day:%Y%m%d}-") + func.lpad(
        digits, func.greatest(4, func.length(digits)), "0"
    )
    stmt = (
        update(tickets)
        .add_cte(n)
        .where(tickets.c.id == ticket_id)
        .values(number=select(sql_number).scalar_subquery())
        .returning(tickets.c.number)
    )
    return session.execute(stmt).scalar_one()
