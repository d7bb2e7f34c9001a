"""A search's results as a spreadsheet: every column a 12345 export has (named as the
importers' presets name them, with the results of handling that 12345 exports carry too),
read in chunks so that 100,000 rows stream in flat memory.

The caller opens one short transaction per chunk (:func:`export_rows`): an export of many
rows then never holds a database connection, nor SQLite's write lock, for its whole
duration. Chunks follow the search's order (received, newest first) with a keyset on
(created_at, id), which never changes, so a ticket is written once even if it changes while
the export runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from ..domain.events import EventKind
from ..domain.privacy import mask_name, mask_phone, may_see_phone
from ..domain.states import (
    CHANNEL_LABELS,
    PRIORITY_LABELS,
    SATISFACTION_LABELS,
    STATUS_LABELS,
    SUPERVISION_LABELS,
    WITH_UNIT,
    Channel,
    Priority,
    Role,
    Satisfaction,
    Status,
    UnitKind,
)
from ..models import Category, Ticket, TicketEvent, Unit, ticket_co_units
from .worklists import SearchFilters, search_conditions

CHUNK = 1000
EXPORT_MAX = 200_000  # rows in one file; more is refused with a request to narrow the search
COLUMNS = ("工单编号", "热线工单号", "来源", "工单标题", "诉求内容", "诉求类型", "来电时间",
           "受理时间", "来电号码", "求助人员", "事件发生地", "街道", "社区", "承办单位",
           "协办单位", "紧急程度", "签收时限", "办理时限", "工单状态", "是否超期", "督办",
           "办理结果", "办结时间", "回访时间", "诉求是否解决", "回访满意度",
           "不满原因")  # fmt: skip
# Column widths in an XLSX, in characters (the texts get room, the rest what a date needs).
WIDTHS = (17, 14, 10, 20, 50, 12, 17, 17, 14, 10, 30, 12, 14, 20, 20, 8, 17, 17, 12, 8, 6, 40,
          17, 17, 12, 10, 30)  # fmt: skip
TIME_FORMAT = "%Y-%m-%d %H:%M"
FIELDS = (Ticket.id, Ticket.number, Ticket.external_ref, Ticket.channel, Ticket.title,
          Ticket.description, Ticket.category_id, Ticket.reported_at, Ticket.created_at,
          Ticket.reporter_phone, Ticket.reporter_name, Ticket.anonymous, Ticket.consent_contact,
          Ticket.address, Ticket.territorial_unit_id, Ticket.lead_unit_id, Ticket.priority,
          Ticket.accept_by, Ticket.resolve_by, Ticket.status, Ticket.supervision_level,
          Ticket.resolved_at, Ticket.resolved_confirmed, Ticket.satisfaction)  # fmt: skip


@dataclass(frozen=True)
class Place:
    name: str
    kind: str
    parent_id: int | None


@dataclass(frozen=True)
class ExportPlan:
    """What every chunk needs, read once: the search's conditions, who reads the file,
    the names of units and categories, and how many rows there will be."""

    where: tuple[ColumnElement[bool], ...]
    total: int
    viewer_role: Role
    timezone: str
    now: datetime
    units: dict[int, Place]
    categories: dict[int, str]


Key = tuple[datetime, int]


def plan_export(session: Session, filters: SearchFilters, *, unit_ids: set[int] | None,
                viewer_role: Role, timezone: str, now: datetime) -> ExportPlan:  # fmt: skip
    where = tuple(search_conditions(session, filters, unit_ids=unit_ids, viewer_role=viewer_role,
                                    timezone=timezone, now=now))  # fmt: skip
    total = session.scalar(select(func.count(Ticket.id)).where(*where)) or 0
    units = {
        row.id: Place(row.name, row.kind, row.parent_id)
        for row in session.execute(select(Unit.id, Unit.name, Unit.kind, Unit.parent_id))
    }
    categories = dict(session.execute(select(Category.id, Category.name)).all())
    return ExportPlan(where, total, viewer_role, timezone, now, units, categories)  # fmt: skip


def export_rows(session: Session, plan: ExportPlan, *, after: Key | None = None,
                limit: int | None = None) -> tuple[list[list[str]], Key | None]:  # fmt: skip
    """The next ``limit`` (default ``CHUNK``) rows after ``after`` (None: from the start), and
    the key to pass for the chunk after them (None: that was the last)."""
    limit = limit or CHUNK
    stmt = select(*FIELDS).where(*plan.where)
    if after is not None:
        at, ticket_id = after
        stmt = stmt.where(or_(Ticket.created_at < at,
                              and_(Ticket.created_at == at, Ticket.id < ticket_id)))  # fmt: skip
    tickets = session.execute(
        stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    ).all()
    if not tickets:
        return [], None
    ids = [t.id for t in tickets]
    co_units: dict[int, list[str]] = {}
    for ticket_id, unit_id in session.execute(
        select(ticket_co_units.c.ticket_id, ticket_co_units.c.unit_id)
        .where(ticket_co_units.c.ticket_id.in_(ids))
    ):  # fmt: skip
        co_units.setdefault(ticket_id, []).append(_name(plan, unit_id))
    outcomes = _outcomes(session, ids)
    rows = [_row(plan, t, co_units.get(t.id, []), outcomes.get(t.id, {})) for t in tickets]
    last = tickets[-1]
    return rows, ((last.created_at, last.id) if len(tickets) == limit else None)


def _outcomes(session: Session, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each ticket's latest resolution (办理结果) and confirmation (回访), one query."""
    found: dict[int, dict[str, Any]] = {}
    kinds = (EventKind.RESOLVED.value, EventKind.CONFIRMED.value)
    for ticket_id, kind, body, data, at in session.execute(
        select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.body, TicketEvent.data,
               TicketEvent.created_at)
        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.kind.in_(kinds))
        .order_by(TicketEvent.ticket_id, TicketEvent.sequence)
    ):  # fmt: skip
        found.setdefault(ticket_id, {})[kind] = (body, data or {}, at)  # the last one wins
    return found


def _name(plan: ExportPlan, unit_id: int | None) -> str:
    place = plan.units.get(unit_id) if unit_id is not None else None
    return place.name if place else ""


def _within(plan: ExportPlan, unit_id: int | None, kind: UnitKind) -> str:
    """The unit of ``kind`` that ``unit_id`` is or lies in (a grid cell's community, street)."""
    seen: set[int] = set()
    while unit_id is not None and unit_id not in seen:
        place = plan.units.get(unit_id)
        if place is None:
            return ""
        if place.kind == kind.value:
            return place.name
        seen.add(unit_id)
        unit_id = place.parent_id
    return ""


def _row(plan: ExportPlan, t: Any, co_units: list[str],
         outcomes: dict[str, Any]) -> list[str]:  # fmt: skip
    zone = ZoneInfo(plan.timezone)

    def when(value: datetime | None) -> str:
        return value.astimezone(zone).strftime(TIME_FORMAT) if value else ""

    if t.anonymous:
        name, phone = "匿名", ""
    elif may_see_phone(plan.viewer_role, t.consent_contact):
        name, phone = t.reporter_name or "", t.reporter_phone or ""
    else:
        name, phone = mask_name(t.reporter_name) or "", mask_phone(t.reporter_phone) or ""
    resolved = outcomes.get(EventKind.RESOLVED.value)
    confirmed = outcomes.get(EventKind.CONFIRMED.value)
    unhappy = bool(confirmed) and (
        confirmed[1].get("resolved") is False
        or confirmed[1].get("satisfaction") == Satisfaction.DISSATISFIED
    )
    overdue = (t.status in {s.value for s in WITH_UNIT} and t.resolve_by is not None
               and t.resolve_by < plan.now)  # fmt: skip
    return [
        t.number, t.external_ref or "", CHANNEL_LABELS[Channel(t.channel)], t.title or "",
        t.description, plan.categories.get(t.category_id, "") if t.category_id else "",
        when(t.reported_at or t.created_at), when(t.created_at), phone, name, t.address or "",
        _within(plan, t.territorial_unit_id, UnitKind.STREET),
        _within(plan, t.territorial_unit_id, UnitKind.COMMUNITY),
        _name(plan, t.lead_unit_id), "、".join(sorted(co_units)),
        PRIORITY_LABELS[Priority(t.priority)], when(t.accept_by), when(t.resolve_by),
        STATUS_LABELS[Status(t.status)], "是" if overdue else "",
        SUPERVISION_LABELS.get(t.supervision_level, ""),
        (resolved[0] or "") if resolved else "", when(t.resolved_at),
        when(confirmed[2]) if confirmed else "",
        {True: "是", False: "否"}.get(t.resolved_confirmed, ""),
        SATISFACTION_LABELS[Satisfaction(t.satisfaction)] if t.satisfaction else "",
        (confirmed[1].get("comment") or "") if unhappy else "",
    ]  # fmt: skip
