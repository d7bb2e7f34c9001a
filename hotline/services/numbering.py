"""Allocation of gapless per-day ticket numbers."""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..domain.numbering import format_number
from ..models import TicketCounter


def allocate_number(session: Session, *, prefix: str, day: date) -> str:
    """Increment the day's counter and return the next number.

    The upsert takes a row lock that is held until the transaction ends, so concurrent intakes
    queue on it; a rolled-back intake rolls the counter back too, which keeps numbers gapless.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = TicketCounter.__table__
    stmt = (
        insert(table)
        .values(day=day, last=1)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    sequence = session.execute(stmt).scalar_one()
    return format_number(prefix, day, sequence)
