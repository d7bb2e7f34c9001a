"""A search's results as a spreadsheet in the 12345 layout our importer reads: every column
named as ``PRESETS["12345"]`` names it, with values the importer reads back (status words,
satisfaction words, dates), so that an export imported with ``--history`` into an empty
instance gives the same tickets. Our own columns (系统编号, 系统受理时间, 来源, 签收时限,
是否超期, 督办) come along; an import names them as unrecognised and leaves them.

Rows are read in chunks so that 100,000 rows stream in flat memory. The caller opens one
short transaction per chunk (:func:`export_rows`): an export of many rows then never holds a
database connection, nor SQLite's write lock, for its whole duration. Chunks follow the
search's order (received, newest first) with a keyset on (created_at, id), which never
changes, so a ticket is written once even if it changes while the export runs.
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
EXPORT_MAX = 200_000  # rows in one file from the web; more is refused (narrow the search)
COLUMNS = ("工单编号", "系统编号", "来源", "工单标题", "诉求内容", "诉求类型", "工单性质",
           "来电时间", "系统受理时间", "来电号码", "求助人员", "事件发生地", "街道", "社区",
           "承办单位", "协办单位", "紧急程度", "签收时限", "办理时限", "工单状态", "是否超期",
           "督办", "派单时间", "签收时间", "办结时间", "答复意见", "回访时间", "诉求是否解决",
           "回访满意度", "不满原因")  # fmt: skip
# Column widths in an XLSX, in characters (the texts get room, the rest what a date needs).
WIDTHS = (17, 17, 10, 20, 50, 12, 10, 17, 17, 14, 10, 30, 12, 14, 20, 20, 8, 17, 17, 10, 8,
          6, 17, 17, 17, 40, 17, 12, 10, 30)  # fmt: skip
TIME_FORMAT = "%Y-%m-%d %H:%M"  # what the importer's parse_date reads; seconds are dropped
# Our status → a 工单状态 word of the importer's (hotline.importers.records.STANDINGS) for
# the same standing: open ones keep a finer word (still open to the importer). A merged
# ticket is a duplicate handled under another number: 已作废 brings it back closed as not
# accepted, with the merge note as its reason, never as live work of its own.
STATUS_WORDS = {
    Status.REPORTED: "待派单", Status.DISPATCHED: "已派单", Status.ACCEPTED: "已签收",
    Status.RETURNED: "待派单", Status.IN_PROGRESS: "办理中", Status.REOPENED: "重办",
    Status.RESOLVED: "待回访", Status.CLOSED: "已办结", Status.REJECTED: "不予受理",
    Status.MERGED: "已作废",
}  # fmt: skip
CONFIRMED_LABELS = {True: "是", False: "否"}
# Who sees residents' names and phones: as the viewer's role allows (the web), in full (the
# administrator's command line), or masked for everyone.
PEOPLE_BY_ROLE, PEOPLE_FULL, PEOPLE_MASKED = "role", "full", "masked"
FIELDS = (Ticket.id, Ticket.number, Ticket.external_ref, Ticket.channel, Ticket.title,
          Ticket.description, Ticket.category_id, Ticket.order_kind, Ticket.reported_at,
          Ticket.created_at, Ticket.reporter_phone, Ticket.reporter_name, Ticket.anonymous,
          Ticket.consent_contact, Ticket.address, Ticket.territorial_unit_id,
          Ticket.lead_unit_id, Ticket.priority, Ticket.accept_by, Ticket.resolve_by,
          Ticket.status, Ticket.supervision_level, Ticket.dispatched_at, Ticket.accepted_at,
          Ticket.resolved_at, Ticket.closed_at, Ticket.resolved_confirmed,
          Ticket.satisfaction)  # fmt: skip
# The events whose latest one a row needs: the reply (public only: what the resident was
# told), the callback, and the reason of a rejection or a merge.
OUTCOME_KINDS = (EventKind.RESOLVED.value, EventKind.CONFIRMED.value,
                 EventKind.REJECTED.value, EventKind.MERGED.value)  # fmt: skip


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
    people: str = PEOPLE_BY_ROLE


Key = tuple[datetime, int]


def plan_export(session: Session, filters: SearchFilters, *, unit_ids: set[int] | None,
                viewer_role: Role, timezone: str, now: datetime,
                people: str = PEOPLE_BY_ROLE) -> ExportPlan:  # fmt: skip
    """``people``: PEOPLE_BY_ROLE (the web: as ``viewer_role`` may see them), PEOPLE_FULL
    or PEOPLE_MASKED (the command line, which has no role of its own)."""
    if people not in (PEOPLE_BY_ROLE, PEOPLE_FULL, PEOPLE_MASKED):
        raise ValueError(f"unknown people mode {people!r}")
    where = tuple(search_conditions(session, filters, unit_ids=unit_ids, viewer_role=viewer_role,
                                    timezone=timezone, now=now))  # fmt: skip
    total = session.scalar(select(func.count(Ticket.id)).where(*where)) or 0
    units = {
        row.id: Place(row.name, row.kind, row.parent_id)
        for row in session.execute(select(Unit.id, Unit.name, Unit.kind, Unit.parent_id))
    }
    categories = dict(session.execute(select(Category.id, Category.name)).all())
    return ExportPlan(where, total, viewer_role, timezone, now, units, categories, people)


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
    """Each ticket's latest public resolution (答复意见), confirmation (回访), rejection and
    merge, one query."""
    found: dict[int, dict[str, Any]] = {}
    for ticket_id, kind, public, body, data, at in session.execute(
        select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.public, TicketEvent.body,
               TicketEvent.data, TicketEvent.created_at)
        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.kind.in_(OUTCOME_KINDS))
        .order_by(TicketEvent.ticket_id, TicketEvent.sequence)
    ):  # fmt: skip
        if kind == EventKind.RESOLVED.value and not public:
            continue
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


def _person(plan: ExportPlan, t: Any) -> tuple[str, str]:
    """(求助人员, 来电号码) as this file may show them; an anonymous resident stays 匿名."""
    if t.anonymous:
        return "匿名", ""
    if plan.people == PEOPLE_FULL or (
        plan.people == PEOPLE_BY_ROLE and may_see_phone(plan.viewer_role, t.consent_contact)
    ):
        return t.reporter_name or "", t.reporter_phone or ""
    return mask_name(t.reporter_name) or "", mask_phone(t.reporter_phone) or ""


def _row(plan: ExportPlan, t: Any, co_units: list[str],
         outcomes: dict[str, Any]) -> list[str]:  # fmt: skip
    zone = ZoneInfo(plan.timezone)

    def when(value: datetime | None) -> str:
        return value.astimezone(zone).strftime(TIME_FORMAT) if value else ""

    name, phone = _person(plan, t)
    status = Status(t.status)
    confirmed = outcomes.get(EventKind.CONFIRMED.value)
    # Answered again after the resident sent it back, it waits for a new callback: the last
    # one answered the round before (and, dated before this answer, would have the importer
    # refuse the row), so none of the callback's columns go out.
    earlier_round = (status is Status.RESOLVED and confirmed is not None
                     and t.resolved_at is not None and confirmed[2] < t.resolved_at)  # fmt: skip
    if earlier_round:
        confirmed = None
    unhappy = bool(confirmed) and (
        confirmed[1].get("resolved") is False
        or confirmed[1].get("satisfaction") == Satisfaction.DISSATISFIED
    )
    overdue = (t.status in {s.value for s in WITH_UNIT} and t.resolve_by is not None
               and t.resolve_by < plan.now)  # fmt: skip
    # A rejection or merge answers with its reason, dated when it closed the ticket (so the
    # importer closes it then); anything else with the unit's reply when it resolved.
    ended = {Status.REJECTED: EventKind.REJECTED, Status.MERGED: EventKind.MERGED}.get(status)
    if ended is not None:
        reply, answered_at = outcomes.get(ended.value), t.closed_at
    else:
        reply, answered_at = outcomes.get(EventKind.RESOLVED.value), t.resolved_at
    # The callback closed it (a confirmation, or no answer in time): when it was closed.
    if status is Status.CLOSED:
        called_at = t.closed_at
    else:
        called_at = confirmed[2] if confirmed and ended is None else None
    return [
        t.external_ref or t.number, t.number, CHANNEL_LABELS[Channel(t.channel)], t.title or "",
        t.description, plan.categories.get(t.category_id, "") if t.category_id else "",
        t.order_kind or "", when(t.reported_at or t.created_at), when(t.created_at), phone,
        name, t.address or "", _within(plan, t.territorial_unit_id, UnitKind.STREET),
        _within(plan, t.territorial_unit_id, UnitKind.COMMUNITY),
        _name(plan, t.lead_unit_id), "、".join(sorted(co_units)),
        PRIORITY_LABELS[Priority(t.priority)], when(t.accept_by), when(t.resolve_by),
        STATUS_WORDS[status], "是" if overdue else "",
        SUPERVISION_LABELS.get(t.supervision_level, ""), when(t.dispatched_at),
        when(t.accepted_at), when(answered_at), (reply[0] or "") if reply else "",
        when(called_at), "" if earlier_round else CONFIRMED_LABELS.get(t.resolved_confirmed, ""),
        SATISFACTION_LABELS[Satisfaction(t.satisfaction)]
        if t.satisfaction and not earlier_round else "",
        (confirmed[1].get("comment") or "") if unhappy else "",
    ]  # fmt: skip
