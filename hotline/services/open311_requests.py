"""Open311 service requests: finding tickets as GET requests asks, and presenting each as
the spec's plain fields. Nothing personal leaves: no name, phone or e-mail, and the
resident's own phone, name and e-mail are scrubbed from the texts that are shown."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..domain.events import EventKind
from ..domain.states import FINAL, PUBLIC_STATUS_LABELS, Status
from ..models import Attachment, Category, Open311Token, Ticket, TicketEvent
from .privacy import scrubber

MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
# Open311 has two statuses. "closed" is the spec's "resolved": a unit finished the work
# (已办结待确认 counts, as the resident's tracking page says 已办结), or nothing more will
# happen (closed, rejected, merged). A reopened ticket is open again.
CLOSED = frozenset({*FINAL, Status.RESOLVED})
OPEN = frozenset(Status) - CLOSED
STATUS_GROUPS = {"open": OPEN, "closed": CLOSED}
# What a unit tells the resident: the latest of these public events is the status_notes.
NOTE_KINDS = (EventKind.FEEDBACK, EventKind.RESOLVED, EventKind.REJECTED)


class SearchError(ValueError):
    """A search the spec does not allow (the message is for the client's user)."""


@dataclass(frozen=True)
class Search:
    """GET requests' arguments, already parsed. ``ids`` overrides everything else."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()  # "open" / "closed"; empty: both


def comma_list(raw: str | None) -> tuple[str, ...]:
    """``a, b,,c`` → ("a", "b", "c"), order kept, duplicates dropped."""
    items = (part.strip() for part in (raw or "").split(","))
    return tuple(dict.fromkeys(item for item in items if item))


def window(start: datetime | None, end: datetime | None, *,
           now: datetime) -> tuple[datetime, datetime]:  # fmt: skip
    """The requested_datetime range searched: the last 90 days by default, 90 days from a
    lone start or up to a lone end; a wider or reversed range is refused."""
    try:
        if start is None and end is None:
            return now - MAX_SPAN, now
        if start is None:
            assert end is not None
            return end - MAX_SPAN, end
        if end is None:
            return start, start + MAX_SPAN
    except OverflowError:  # 0001-01-01 or 9999-12-31
        raise SearchError("日期超出可查询的范围") from None
    if end < start:
        raise SearchError("end_date 早于 start_date")
    if end - start > MAX_SPAN:
        raise SearchError("start_date 与 end_date 的间隔不能超过 90 天")
    return start, end


def requested_at(ticket: Ticket) -> datetime:
    """When the resident reported it: the call of a 12345 work order, else our intake."""
    return ticket.reported_at or ticket.created_at


def search_tickets(session: Session, search: Search, *, now: datetime) -> list[Ticket]:
    """At most 1000 tickets, newest report first."""
    query = select(Ticket).options(
        selectinload(Ticket.category), selectinload(Ticket.lead_unit)
    )  # fmt: skip
    if search.ids:
        query = query.where(Ticket.number.in_([i[:24] for i in search.ids[:MAX_RESULTS]]))
    else:
        start, end = window(search.start, search.end, now=now)
        requested = func.coalesce(Ticket.reported_at, Ticket.created_at)
        # created_at ≥ the report time, so this bound may use the created_at index.
        query = query.where(Ticket.created_at >= start, requested >= start, requested <= end)
        if search.service_codes:
            query = query.join(Category, Ticket.category_id == Category.id).where(
                Category.code.in_([c[:40] for c in search.service_codes[:MAX_RESULTS]])
            )
        statuses = {s for name in search.statuses for s in STATUS_GROUPS[name]}
        if statuses and statuses != set(Status):
            query = query.where(Ticket.status.in_(sorted(s.value for s in statuses)))
        query = query.order_by(requested.desc(), Ticket.id.desc())
    return list(session.scalars(query.limit(MAX_RESULTS)))


def _scrubber(ticket: Ticket) -> Callable[[str | None], str]:
    scrub = scrubber(ticket.reporter_phone, ticket.reporter_name, emails=True)
    return lambda text: scrub(text) or ""


def _latest_notes(session: Session, ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.body)
        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.public.is_(True),
               TicketEvent.kind.in_([k.value for k in NOTE_KINDS]),
               TicketEvent.body.is_not(None))
        .order_by(TicketEvent.ticket_id, TicketEvent.sequence)
    )  # fmt: skip
    return {row.ticket_id: row.body for row in rows if row.body and row.body.strip()}


def _first_photos(session: Session, ids: list[int]) -> dict[int, Attachment]:
    photos: dict[int, Attachment] = {}
    for photo in session.scalars(
        select(Attachment).where(Attachment.ticket_id.in_(ids), Attachment.public.is_(True))
        .order_by(Attachment.ticket_id, Attachment.id)
    ):  # fmt: skip
        photos.setdefault(photo.ticket_id, photo)
    return photos


def present_requests(session: Session, tickets: Sequence[Ticket], *,
                     photo_url: Callable[[Ticket, Attachment], str]
                     ) -> list[dict[str, Any]]:  # fmt: skip
    """The spec's fields for each ticket; ``photo_url`` makes the public link of a photo."""
    ids = [t.id for t in tickets]
    notes = _latest_notes(session, ids) if ids else {}
    photos = _first_photos(session, ids) if ids else {}
    result = []
    for ticket in tickets:
        scrub = _scrubber(ticket)
        status = Status(ticket.status)
        photo = photos.get(ticket.id)
        if photo is not None and ticket.personal_data_erased_at is None:
            media = photo_url(ticket, photo)
        else:
            media = ticket.media_url or ""
        result.append({
            "service_request_id": ticket.number,
            "status": "closed" if status in CLOSED else "open",
            "status_notes": scrub(notes.get(ticket.id)),
            "service_name": ticket.category.name if ticket.category else "",
            "service_code": ticket.category.code if ticket.category else "",
            "description": scrub(ticket.description),
            "agency_responsible": ticket.lead_unit.name if ticket.lead_unit else "",
            "service_notice": PUBLIC_STATUS_LABELS[status],
            "requested_datetime": requested_at(ticket),
            "updated_datetime": ticket.updated_at,
            "expected_datetime": ticket.resolve_by,
            "address": scrub(ticket.address),
            "address_id": "",
            "zipcode": "",
            "lat": ticket.latitude,
            "long": ticket.longitude,
            "media_url": media,
        })  # fmt: skip
    return result


def token_status(session: Session, token: str) -> dict[str, Any] | None:
    """GET tokens/{token}: the ticket's number once the report was processed, else empty."""
    row = session.execute(
        select(Open311Token.token, Ticket.number)
        .outerjoin(Ticket, Ticket.id == Open311Token.ticket_id)
        .where(Open311Token.token == token[:64])
    ).first()  # fmt: skip
    if row is None:
        return None
    return {"token": row.token, "service_request_id": row.number or ""}
