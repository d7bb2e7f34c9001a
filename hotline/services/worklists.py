"""The lists people work from: the manual-dispatch queue, a unit's worklist by deadline, the
supervisor's boards and search. Pages of tickets, each list in one indexed query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..domain.events import EventKind
from ..domain.privacy import may_see_phone
from ..domain.states import UNASSIGNED, WITH_UNIT, Role, Status
from ..domain.text import normalize_phone
from ..models import ExtensionRequest, Ticket, TicketEvent
from .queries import handled_by, received_within

PER_PAGE = 50


@dataclass(frozen=True)
class Page:
    tickets: list[Ticket]
    total: int
    page: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _page(session: Session, stmt: Select, page: int, per_page: int = PER_PAGE) -> Page:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    tickets = list(session.scalars(
        stmt.options(selectinload(Ticket.category), selectinload(Ticket.lead_unit),
                     selectinload(Ticket.territorial_unit))
        .limit(per_page).offset((page - 1) * per_page)
    ))  # fmt: skip
    return Page(tickets, total, page, per_page)


def manual_queue(session: Session, *, page: int = 1) -> Page:
    """Tickets no unit has: routing was unsure, someone disagreed, or a unit returned it —
    the least confident first, then the oldest."""
    confidence = Ticket.routing["confidence"].as_float()
    stmt = (
        select(Ticket)
        .where(Ticket.status.in_([s.value for s in UNASSIGNED]))
        .order_by(func.coalesce(confidence, 0.0), Ticket.created_at)
    )
    return _page(session, stmt, page)


def unit_worklist(session: Session, unit_ids: set[int], *, page: int = 1) -> Page:
    """A unit's open tickets (lead or co-unit), the nearest deadline first."""
    stmt = (
        select(Ticket)
        .where(Ticket.status.in_([s.value for s in WITH_UNIT]), handled_by(unit_ids))
        .order_by(Ticket.resolve_by.is_(None), Ticket.resolve_by, Ticket.id)
    )
    return _page(session, stmt, page)


def overdue(session: Session, *, now: datetime, page: int = 1) -> Page:
    """Open tickets past their resolve-by or raised by the sweep, the most escalated first."""
    stmt = (
        select(Ticket)
        .where(Ticket.status.in_([s.value for s in WITH_UNIT]),
               or_(Ticket.resolve_by < now, Ticket.supervision_level > 0))
        .order_by(Ticket.supervision_level.desc(), Ticket.resolve_by)
    )  # fmt: skip
    return _page(session, stmt, page)


def returned(session: Session, *, page: int = 1) -> Page:
    """Returns waiting for a ruling (退单争议)."""
    stmt = select(Ticket).where(Ticket.status == Status.RETURNED.value).order_by(Ticket.updated_at)
    return _page(session, stmt, page)


def extension_requests(session: Session) -> list[Ticket]:
    """Open tickets with an extension request waiting (few at any time)."""
    return list(session.scalars(
        select(Ticket)
        .join(ExtensionRequest, (ExtensionRequest.ticket_id == Ticket.id)
              & ExtensionRequest.decided_at.is_(None))
        .where(Ticket.status.in_([s.value for s in WITH_UNIT]))
        .order_by(ExtensionRequest.requested_at).limit(200)
        .options(selectinload(Ticket.lead_unit), selectinload(Ticket.category),
                 selectinload(Ticket.pending_extension))
    ))  # fmt: skip


def recheck_due(session: Session, *, now: datetime, limit: int = 20) -> list[Ticket]:
    """Tickets closed in the last 30 days that nobody has re-checked (回头看) yet."""
    rechecked = select(TicketEvent.ticket_id).where(TicketEvent.kind == EventKind.RECHECKED.value)
    return list(session.scalars(
        select(Ticket)
        .where(Ticket.status == Status.CLOSED.value, Ticket.closed_at >= now - timedelta(days=30),
               Ticket.id.notin_(rechecked))
        .order_by(Ticket.closed_at.desc()).limit(limit)
        .options(selectinload(Ticket.lead_unit), selectinload(Ticket.category))
    ))  # fmt: skip


def return_reasons(session: Session, tickets: Sequence[Ticket]) -> dict[int, str]:
    """The latest return reason of each returned ticket (for the dispatch queue)."""
    ids = [t.id for t in tickets if t.status == Status.RETURNED.value]
    if not ids:
        return {}
    rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.body)
        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.kind == EventKind.RETURNED.value)
        .order_by(TicketEvent.sequence)
    )
    return {ticket_id: body or "" for ticket_id, body in rows}  # the last one wins


def callbacks_due(session: Session, *, page: int = 1) -> Page:
    """Resolved tickets waiting for the resident's answer (回访), the oldest first."""
    stmt = (
        select(Ticket)
        .where(Ticket.status == Status.RESOLVED.value)
        .order_by(Ticket.resolved_at, Ticket.id)
    )
    return _page(session, stmt, page)


def _phone_match(viewer_role: Role, phone: str):  # type: ignore[no-untyped-def]
    """Tickets found by their reporter's phone: only those whose phone this viewer may see
    (hotline.domain.privacy): all for operators and supervisors, the consenting residents'
    for units, none for admins."""
    if may_see_phone(viewer_role, consent_contact=False):
        return Ticket.reporter_phone == phone
    if may_see_phone(viewer_role, consent_contact=True):
        return (Ticket.reporter_phone == phone) & Ticket.consent_contact.is_(True)
    return false()


def _as_phone(words: str) -> str | None:
    try:
        return normalize_phone(words)
    except ValueError:
        return None


def search(session: Session, *, unit_ids: set[int] | None, viewer_role: Role, timezone: str,
           text: str = "", statuses: Sequence[str] = (), day_from: date | None = None,
           day_to: date | None = None, page: int = 1) -> Page:  # fmt: skip
    """By number, phone, words of the text or the place, status and date received."""
    stmt = select(Ticket)
    words = text.strip()
    if words:
        like = f"%{words.replace('%', '').replace('_', '')}%"
        phone = _as_phone(words)
        found = [Ticket.number == words, Ticket.external_ref == words]
        if phone is not None:
            found.append(_phone_match(viewer_role, phone))
        if phone is None or may_see_phone(viewer_role, consent_contact=False):
            # A number typed by someone who may not look phones up must not find it in the
            # texts either (residents write their number into the description).
            found += [Ticket.description.like(like), Ticket.title.like(like),
                      Ticket.address.like(like)]  # fmt: skip
        stmt = stmt.where(or_(*found))
    if statuses:
        stmt = stmt.where(Ticket.status.in_(list(statuses)))
    stmt = stmt.where(*received_within(day_from, day_to, timezone))
    if unit_ids is not None:
        stmt = stmt.where(handled_by(unit_ids))
    return _page(session, stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()), page)
