"""Reading tickets for staff: visibility by role and unit, filters, keyset pagination."""

from __future__ import annotations

import base64
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session, selectinload

from ..domain.clock import local_day_bounds
from ..domain.states import Role, Status
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import Category, Ticket, Unit, ticket_co_units


def unit_subtree(session: Session, root_id: int) -> set[int]:
    """``root_id`` and every unit below it (a street sees its communities and grid cells)."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    seen, stack = set(), [root_id]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(children.get(current, []))
    return seen


def visible_unit_ids(
    session: Session, viewer_role: Role, viewer_unit_id: int | None
) -> set[int] | None:
    """None means "every ticket"; a unit user sees only tickets of their unit subtree."""
    if viewer_role is not Role.UNIT:
        return None
    return unit_subtree(session, viewer_unit_id) if viewer_unit_id else set()


def handled_by(unit_ids: Collection[int] | Select[Any]) -> ColumnElement[bool]:
    """Tickets these units lead or help on (``unit_ids``: ids, or a query of ids)."""
    co = select(ticket_co_units.c.ticket_id).where(ticket_co_units.c.unit_id.in_(unit_ids))
    return or_(Ticket.lead_unit_id.in_(unit_ids), Ticket.id.in_(co))


def _visible(stmt: Select, unit_ids: set[int] | None) -> Select:
    return stmt if unit_ids is None else stmt.where(handled_by(unit_ids))


def received_within(day_from: date | None, day_to: date | None,
                    timezone: str) -> list[ColumnElement[bool]]:  # fmt: skip
    """Tickets received on the local days ``day_from`` to ``day_to`` (both included; either
    may be left open)."""
    conditions = []
    if day_from:
        conditions.append(Ticket.created_at >= local_day_bounds(day_from, timezone)[0])
    if day_to:
        conditions.append(Ticket.created_at < local_day_bounds(day_to, timezone)[1])
    return conditions


def get_ticket_for(
    session: Session, number: str, unit_ids: set[int] | None, *, lock: bool = False
) -> Ticket:
    """A ticket the viewer may see; others' tickets are indistinguishable from missing ones.

    ``lock`` takes the row lock (PostgreSQL; SQLite writers are serialised anyway) so that a
    change and its event sequence cannot interleave with another.
    """
    stmt = _visible(select(Ticket).where(Ticket.number == number), unit_ids)
    if lock:
        stmt = stmt.with_for_update(of=Ticket)
    ticket = session.scalar(stmt.options(*_load_options()))
    if ticket is None:
        raise NotFound(f"未找到工单 {number}")
    return ticket


def lock_ticket(session: Session, number: str, version: int | None) -> Ticket:
    """The ticket, row-locked where the database can, at the version the caller last saw."""
    ticket = get_ticket_for(session, number, None, lock=True)
    if version is not None and ticket.version != version:
        raise Conflict(
            f"工单已被他人修改（当前版本 {ticket.version}），请刷新后重试",
            extra={"current_version": ticket.version},
        )
    return ticket


def _load_options() -> list:
    return [
        selectinload(Ticket.category),
        selectinload(Ticket.lead_unit),
        selectinload(Ticket.territorial_unit),
        selectinload(Ticket.co_units),
        selectinload(Ticket.attachments),
    ]


def encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"t{ticket_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("t"):
            raise ValueError(cursor)
        return int(raw[1:])
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed({"cursor": ["分页游标无效，请从第一页重新开始"]}) from exc


def list_tickets(
    session: Session,
    *,
    unit_ids: set[int] | None,
    timezone: str,
    statuses: Sequence[str] = (),
    category: str | None = None,
    unit: str | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Ticket], str | None]:
    """Newest first, keyset-paginated on the id (monotonic with intake time)."""
    errors: dict[str, list[str]] = {}
    bad = [s for s in statuses if s not in {m.value for m in Status}]
    if bad:
        errors["status"] = [f"未知的状态：{'、'.join(bad)}"]
    if created_from and created_to and created_from > created_to:
        errors["created_to"] = ["结束日期不能早于开始日期"]
    if errors:
        raise ValidationFailed(errors)

    stmt = _visible(select(Ticket), unit_ids)
    if statuses:
        stmt = stmt.where(Ticket.status.in_(statuses))
    if category:
        stmt = stmt.where(
            Ticket.category_id.in_(select(Category.id).where(Category.code == category))
        )
    if unit:
        stmt = stmt.where(handled_by(select(Unit.id).where(Unit.code == unit)))
    stmt = stmt.where(*received_within(created_from, created_to, timezone))
    if cursor:
        stmt = stmt.where(Ticket.id < decode_cursor(cursor))
    rows = list(
        session.scalars(stmt.order_by(Ticket.id.desc()).limit(limit + 1).options(*_load_options()))
    )
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor
