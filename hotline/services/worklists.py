"""The lists people work from: the manual-dispatch queue, a unit's worklist by deadline, the
supervisor's boards and search. Pages of tickets, each list in one indexed query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from ..domain.events import EventKind
from ..domain.privacy import may_see_phone
from ..domain.sla import HOURS_PER_DAY, Clock
from ..domain.states import UNASSIGNED, WITH_UNIT, Role, Status
from ..domain.text import normalize_phone
from ..models import Category, ExtensionRequest, Ticket, TicketEvent, Unit
from .metrics import UnitRecord, unit_records
from .queries import handled_by, received_within, unit_subtree

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


# Why a ticket is in the manual-dispatch queue, and how the queue may be sorted.
QUEUE_REASONS = ("unsure", "disagreement", "returned")
QUEUE_SORTS = ("confidence", "waiting", "newest")


@dataclass(frozen=True)
class QueueFilters:
    channel: str | None = None
    category: str | None = None  # a category code, or NO_CATEGORY
    reason: str | None = None  # one of QUEUE_REASONS
    sort: str = "confidence"  # one of QUEUE_SORTS


NO_CATEGORY = "none"


def queued_since() -> ColumnElement[datetime]:
    """Since when a ticket waits for a person: its return (the last change of a returned
    ticket), else its intake."""
    return case((Ticket.status == Status.RETURNED.value, Ticket.updated_at),
                else_=Ticket.created_at)  # fmt: skip


def queue_reason() -> ColumnElement[str]:
    """returned; disagreement (routing knew the kind, but the resident's category or the
    call centre's unit said otherwise); unsure (routing had no confident answer)."""
    label = Ticket.routing["label"].as_string()
    return case((Ticket.status == Status.RETURNED.value, "returned"),
                (label.is_not(None), "disagreement"), else_="unsure")  # fmt: skip


def manual_queue(session: Session, *, page: int = 1,
                 filters: QueueFilters = QueueFilters()) -> Page:  # fmt: skip
    """Tickets no unit has: routing was unsure, someone disagreed, or a unit returned it —
    by default the least confident first, then the oldest."""
    stmt = select(Ticket).where(Ticket.status.in_([s.value for s in UNASSIGNED]))
    if filters.channel:
        stmt = stmt.where(Ticket.channel == filters.channel)
    if filters.category == NO_CATEGORY:
        stmt = stmt.where(Ticket.category_id.is_(None))
    elif filters.category:
        stmt = stmt.where(Ticket.category_id.in_(
            select(Category.id).where(Category.code == filters.category)))  # fmt: skip
    if filters.reason:
        stmt = stmt.where(queue_reason() == filters.reason)
    since = queued_since()
    if filters.sort == "waiting":
        stmt = stmt.order_by(since, Ticket.id)
    elif filters.sort == "newest":
        stmt = stmt.order_by(since.desc(), Ticket.id.desc())
    else:
        confidence = Ticket.routing["confidence"].as_float()
        stmt = stmt.order_by(func.coalesce(confidence, 0.0), Ticket.created_at, Ticket.id)
    return _page(session, stmt, page)


def queue_counts(session: Session) -> dict[str, int]:
    """How many tickets wait in the queue for each reason (for the filter's choices)."""
    reason = queue_reason()
    rows = session.execute(
        select(reason, func.count())
        .where(Ticket.status.in_([s.value for s in UNASSIGNED])).group_by(reason)
    )  # fmt: skip
    return {name: count for name, count in rows}


def next_deadline() -> ColumnElement[datetime | None]:
    """The first deadline still running, in SQL — as domain.deadlines.next_due reads it:
    accept-by until signed for, first-feedback-by until given, then resolve-by."""
    return case(
        (and_(Ticket.status == Status.DISPATCHED.value, Ticket.accepted_at.is_(None),
              Ticket.accept_by.is_not(None)), Ticket.accept_by),
        (and_(Ticket.first_feedback_at.is_(None), Ticket.feedback_by.is_not(None)),
         Ticket.feedback_by),
        else_=Ticket.resolve_by,
    )  # fmt: skip


def unit_worklist(session: Session, unit_ids: set[int], *, page: int = 1) -> Page:
    """A unit's open tickets (lead or co-unit), the nearest next deadline first (so a ticket
    to sign for within the hour comes before one to resolve next week)."""
    due = next_deadline()
    stmt = (
        select(Ticket)
        .where(Ticket.status.in_([s.value for s in WITH_UNIT]), handled_by(unit_ids))
        .order_by(due.is_(None), due, Ticket.id)
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


@dataclass(frozen=True)
class ReturnToRule:
    """A return waiting for a ruling, with what the ruling needs: who returned it and why."""

    ticket: Ticket
    unit_code: str | None  # the unit that returned it (overruling sends it back there)
    unit_name: str | None
    reason: str
    returned_at: datetime | None
    times: int  # how often this ticket has been returned


def returned(session: Session, *, page: int = 1) -> tuple[Page, list[ReturnToRule]]:
    """Returns waiting for a ruling (退单争议), the oldest first, each with its latest return
    (unit, reason, when) read in one query for the page. A return already ruled on (upheld:
    it waits in the dispatch queue) is not listed again."""
    returns, rulings = aliased(TicketEvent), aliased(TicketEvent)
    last_return = (select(func.max(returns.sequence))
                   .where(returns.ticket_id == Ticket.id,
                          returns.kind == EventKind.RETURNED.value)
                   .correlate(Ticket).scalar_subquery())  # fmt: skip
    ruled = (select(rulings.id)
             .where(rulings.ticket_id == Ticket.id,
                    rulings.kind == EventKind.ARBITRATED.value,
                    rulings.sequence > last_return)
             .exists())  # fmt: skip
    stmt = (select(Ticket).where(Ticket.status == Status.RETURNED.value, ~ruled)
            .order_by(Ticket.updated_at, Ticket.id))  # fmt: skip
    found = _page(session, stmt, page)
    latest: dict[int, TicketEvent] = {}
    times: dict[int, int] = {}
    if found.tickets:
        for event in session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id.in_([t.id for t in found.tickets]),
                   TicketEvent.kind == EventKind.RETURNED.value)
            .order_by(TicketEvent.sequence)
        ):  # fmt: skip
            latest[event.ticket_id] = event  # the last one wins
            times[event.ticket_id] = times.get(event.ticket_id, 0) + 1
    codes = {(e.data or {}).get("unit") for e in latest.values()} - {None}
    names = dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all())
    rows = []
    for ticket in found.tickets:
        event = latest.get(ticket.id)
        code = (event.data or {}).get("unit") if event else None
        rows.append(ReturnToRule(ticket, code, names.get(code), (event.body or "") if event else "",
                                 event.created_at if event else None,
                                 times.get(ticket.id, 0)))  # fmt: skip
    return found, rows


@dataclass(frozen=True)
class ExtensionToDecide:
    """An extension request with the facts to decide it: the date asked for against the
    current deadline, the extensions the ticket already had, and the unit's record."""

    ticket: Ticket
    request: ExtensionRequest
    extra_working_days: float | None  # what the requested date adds to the current resolve-by
    record: UnitRecord | None  # the lead unit's on-time record


def extension_requests(session: Session, *, now: datetime, clock: Clock,
                       limit: int = 200) -> list[ExtensionToDecide]:  # fmt: skip
    """Open tickets with an extension request waiting (few at any time), the oldest first."""
    tickets = list(session.scalars(
        select(Ticket)
        .join(ExtensionRequest, (ExtensionRequest.ticket_id == Ticket.id)
              & ExtensionRequest.decided_at.is_(None))
        .where(Ticket.status.in_([s.value for s in WITH_UNIT]))
        .order_by(ExtensionRequest.requested_at).limit(limit)
        .options(selectinload(Ticket.lead_unit), selectinload(Ticket.category),
                 selectinload(Ticket.pending_extension))
    ))  # fmt: skip
    records = unit_records(session, {t.lead_unit_id for t in tickets if t.lead_unit_id},
                           now=now)  # fmt: skip
    rows = []
    for ticket in tickets:
        request = ticket.pending_extension
        assert request is not None  # the join says so
        extra = (round(clock.working_hours_between(ticket.resolve_by, request.until)
                       / HOURS_PER_DAY, 1) if ticket.resolve_by else None)  # fmt: skip
        rows.append(ExtensionToDecide(ticket, request, extra, records.get(ticket.lead_unit_id)))
    return rows


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


@dataclass(frozen=True)
class ReturnNote:
    """A returned ticket's latest return: why, by which unit, when."""

    reason: str
    unit_code: str | None
    unit_name: str | None
    at: datetime


def return_reasons(session: Session, tickets: Sequence[Ticket]) -> dict[int, ReturnNote]:
    """The latest return of each returned ticket (for the dispatch queue): one query for
    the page's events, one for the units' names."""
    ids = [t.id for t in tickets if t.status == Status.RETURNED.value]
    if not ids:
        return {}
    rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.body, TicketEvent.data, TicketEvent.created_at)
        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.kind == EventKind.RETURNED.value)
        .order_by(TicketEvent.sequence)
    )
    latest = {ticket_id: (body, data or {}, at) for ticket_id, body, data, at in rows}
    codes = {data.get("unit") for _, data, _ in latest.values()} - {None}
    names = dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all())
    return {ticket_id: ReturnNote(body or "", data.get("unit"), names.get(data.get("unit")), at)
            for ticket_id, (body, data, at) in latest.items()}  # fmt: skip


def callbacks_due(session: Session, *, page: int = 1, max_attempts: int = 0) -> Page:
    """Resolved tickets waiting for the resident's answer (回访): those nobody has tried yet
    first, then by resolution, the oldest first; those without a phone to call last. Tickets
    whose callbacks reached nobody ``max_attempts`` times wait for the sweep to close them."""
    stmt = select(Ticket).where(Ticket.status == Status.RESOLVED.value)
    if max_attempts > 0:
        stmt = stmt.where(Ticket.callback_attempts < max_attempts)
    stmt = stmt.order_by(Ticket.reporter_phone.is_(None), Ticket.callback_attempts,
                         Ticket.resolved_at, Ticket.id)  # fmt: skip
    return _page(session, stmt, page)


@dataclass(frozen=True)
class CallbackNote:
    """What the operator reads before calling: the unit's answer, the last failed call."""

    reply: str | None  # the lead unit's 办理结果, as the resident was told
    last_attempt: str | None  # its outcome label's code (no_answer, refused)
    last_attempt_at: datetime | None


def callback_notes(session: Session, tickets: Sequence[Ticket]) -> dict[int, CallbackNote]:
    """The latest resolution and failed callback of each ticket, in one query for the page."""
    ids = [t.id for t in tickets]
    if not ids:
        return {}
    kinds = (EventKind.RESOLVED.value, EventKind.CALLBACK_ATTEMPTED.value)
    replies: dict[int, str | None] = {}
    attempts: dict[int, tuple[str | None, datetime]] = {}
    for ticket_id, kind, body, data, at in session.execute(
        select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.body, TicketEvent.data,
               TicketEvent.created_at)
        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.kind.in_(kinds))
        .order_by(TicketEvent.sequence)
    ):  # fmt: skip
        if kind == EventKind.RESOLVED.value:
            replies[ticket_id] = body
            attempts.pop(ticket_id, None)  # attempts before a new fix no longer count
        else:
            attempts[ticket_id] = ((data or {}).get("outcome"), at)
    return {i: CallbackNote(replies.get(i), *attempts.get(i, (None, None))) for i in ids}


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


@dataclass(frozen=True)
class SearchFilters:
    """What 查询 narrows by, with the query string's names (agreed with the dashboard, whose
    figures link here). Units, categories and streets are named by their codes."""

    text: str = ""  # q: our number, the 12345 work-order number, a phone, words of text/place
    unit: str | None = None  # unit: the lead unit (主办), as the dashboard's ranking counts
    category: str | None = None  # category
    street: str | None = None  # street: where it happened, its communities and grid cells too
    statuses: tuple[str, ...] = ()  # status (repeatable)
    overdue: bool = False  # overdue=1: with a unit and past resolve-by, as the dashboard counts
    channel: str | None = None  # channel
    day_from: date | None = None  # from: received on or after this local day
    day_to: date | None = None  # to: received on or before this local day


def search_conditions(session: Session, filters: SearchFilters, *, unit_ids: set[int] | None,
                      viewer_role: Role, timezone: str,
                      now: datetime) -> list[ColumnElement[bool]]:  # fmt: skip
    """The WHERE of a search, for its pages and its export alike."""
    conditions: list[ColumnElement[bool]] = []
    words = filters.text.strip()
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
        conditions.append(or_(*found))
    if filters.unit:
        conditions.append(Ticket.lead_unit_id.in_(select(Unit.id).where(Unit.code == filters.unit)))
    if filters.category:
        conditions.append(Ticket.category_id.in_(
            select(Category.id).where(Category.code == filters.category)))  # fmt: skip
    if filters.street:
        street = session.scalar(select(Unit.id).where(Unit.code == filters.street))
        conditions.append(Ticket.territorial_unit_id.in_(unit_subtree(session, street))
                          if street is not None else false())  # fmt: skip
    if filters.statuses:
        conditions.append(Ticket.status.in_(list(filters.statuses)))
    if filters.overdue:
        conditions += [Ticket.status.in_([s.value for s in WITH_UNIT]), Ticket.resolve_by < now]
    if filters.channel:
        conditions.append(Ticket.channel == filters.channel)
    conditions += received_within(filters.day_from, filters.day_to, timezone)
    if unit_ids is not None:
        conditions.append(handled_by(unit_ids))
    return conditions


def search(session: Session, filters: SearchFilters, *, unit_ids: set[int] | None,
           viewer_role: Role, timezone: str, now: datetime, page: int = 1) -> Page:  # fmt: skip
    """Tickets matching ``filters`` that the viewer may see, the newest first."""
    where = search_conditions(session, filters, unit_ids=unit_ids, viewer_role=viewer_role,
                              timezone=timezone, now=now)  # fmt: skip
    stmt = select(Ticket).where(*where).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    return _page(session, stmt, page)
