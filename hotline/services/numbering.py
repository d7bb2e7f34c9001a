"""Gapless per-day ticket numbers."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date

from sqlalchemy import String, bindparam, cast, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from ..domain.numbering import format_number
from ..models import Ticket, TicketCounter


@functools.cache
def _statements(dialect: str) -> tuple[Executable, Executable | None]:
    """Built once per process: composing SQLAlchemy constructs costs more CPU than running
    them, and this runs on every intake."""
    counters, tickets = TicketCounter.__table__, Ticket.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    bump = (
        insert(counters)
        .values(day=bindparam("day"), last=1)
        .on_conflict_do_update(index_elements=[counters.c.day], set_={"last": counters.c.last + 1})
        .returning(counters.c.last)
    )
    if dialect != "postgresql":
        rename = (
            update(tickets)
            .where(tickets.c.id == bindparam("ticket_id"))
            .values(number=bindparam("number"))
        )
        return bump, rename
    n = bump.cte("n")
    digits = cast(n.c.last, String)
    # Same format as domain.numbering.format_number: at least four digits, more when needed.
    number = bindparam("head", type_=String) + func.lpad(
        digits, func.greatest(4, func.length(digits)), "0"
    )
    stmt = (
        update(tickets)
        .add_cte(n)
        .where(tickets.c.id == bindparam("ticket_id"))
        .values(number=select(number).scalar_subquery())
        .returning(tickets.c.number)
    )
    return stmt, None


def assign_number(session: Session, *, ticket_id: int, prefix: str, day: date) -> str:
    """Increment the day's counter and write the result as the ticket's number.

    The counter upsert takes a row lock held until the transaction ends, so concurrent intakes
    queue on it; a rolled-back intake rolls the counter back too, which keeps numbers gapless.
    Callers do this last, right before the commit, to keep that queue short. On PostgreSQL the
    increment and the update travel as one statement (a data-modifying CTE), so the lock is
    held for one round trip plus the commit.
    """
    first, rename = _statements(session.get_bind().dialect.name)
    if rename is None:
        head = f"{prefix}{day:%Y%m%d}-"
        return session.execute(
            first, {"day": day, "ticket_id": ticket_id, "head": head}
        ).scalar_one()
    number = format_number(prefix, day, session.execute(first, {"day": day}).scalar_one())
    session.execute(rename, {"ticket_id": ticket_id, "number": number})
    return number


def reserve_numbers(session: Session, *, count: int, prefix: str, day: date) -> list[str]:
    """``count`` consecutive numbers of ``day`` for a batch (imports)."""
    return reserve_numbers_by_day(session, {day: count}, prefix=prefix).get(day, [])


def reserve_numbers_by_day(session: Session, counts: Mapping[date, int], *,
                           prefix: str) -> dict[date, list[str]]:  # fmt: skip
    """Consecutive numbers of each day for a batch: ``counts[day]`` of them, in order.

    One multi-row upsert moves every day's counter (a history import spans years: one
    statement, not one per day). The row locks it takes are held until the batch's
    transaction ends, and a rollback returns the numbers, so they stay gapless; days are
    locked in date order, so two batches never wait on each other in a circle.
    """
    wanted = sorted((day, count) for day, count in counts.items() if count > 0)
    if not wanted:
        return {}
    counters = TicketCounter.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(counters).values([{"day": day, "last": count} for day, count in wanted])
    stmt = stmt.on_conflict_do_update(
        index_elements=[counters.c.day], set_={"last": counters.c.last + stmt.excluded.last}
    ).returning(counters.c.day, counters.c.last)
    last = {day: value for day, value in session.execute(stmt)}
    return {day: [format_number(prefix, day, n) for n in range(last[day] - count + 1,
                                                               last[day] + 1)]
            for day, count in wanted}  # fmt: skip
