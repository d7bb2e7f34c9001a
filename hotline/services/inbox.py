"""收件箱: what the outbox addressed to a staff member's unit or role, whether or not an SMS,
e-mail or webhook went out, and which of it they have read (per user, ``inbox_reads``).

Who reads what (the outbox's audiences, see ``outbox.recipients``):

- unit staff: messages to their unit and to every unit below it (a street also hears of its
  communities' and grid cells' dispatches, as it also sees their tickets): new dispatches,
  deadline warnings and overdue marks, supervision notices, reopenings (a resident's
  dissatisfied answer is one, shown with their words), confirmations, extension decisions,
  returns overruled back to them;
- supervisors and admins: the campaign office's messages — escalations, returns to rule on,
  extension requests;
- operators: the returns among those — a returned ticket waits in their dispatch queue.

Only the last ``INBOX_DAYS`` days are in the inbox, so neither the header's count nor
"mark all read" grows with the years of outbox rows behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, selectinload

from ..db import UTCDateTime
from ..domain.events import EventKind, event_label
from ..domain.states import STATUS_LABELS, Role, Satisfaction, Status
from ..domain.templates import template_key
from ..errors import NotFound
from ..models import InboxRead, OutboxMessage, Ticket, Unit

INBOX_DAYS = 30
UNREAD_CAP = 100  # the header counts up to here and then says "99+"
PER_PAGE = 50
RETURNS = template_key("supervisor", EventKind.RETURNED)
# Notices about the system rather than a ticket, for admins only (a learned routing draft):
# one row with no recipient is the inbox item; rows with an e-mail address are its e-mails.
ADMIN_AUDIENCE = "admin"
ADMIN_NOTICE_LABELS = {"routing_draft_ready": "规则草稿待审"}


@dataclass(frozen=True)
class Reader:
    """The signed-in staff member, as the inbox needs them."""

    user_id: int
    role: Role
    unit_id: int | None


@dataclass(frozen=True)
class Item:
    """One message as the inbox shows it."""

    id: int
    kind: str  # the event kind that caused it
    label: str  # that kind's label (派单, 退单, 延期审批…)
    at: datetime
    body: str | None  # what the event said: a return's reason, a supervision notice…
    unit_name: str | None  # the unit that returned it (returns)
    number: str | None
    category: str | None
    status: str | None  # the ticket's status now
    approved: bool | None  # an extension decision's verdict
    comment: str | None  # the resident's words, when their answer sent the ticket back
    read: bool
    openable: bool  # the reader may still open the ticket (a unit may have passed it on)
    link: str | None = None  # an admin notice's page (a learned draft), as a path


@dataclass(frozen=True)
class InboxPage:
    items: list[Item]
    total: int
    page: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _unit_codes(unit_id: int) -> Select:
    """The codes of a unit and of every unit below it, in one recursive query (UNION, not
    UNION ALL: a loop in bad data ends instead of running forever)."""
    tree = select(Unit.id).where(Unit.id == unit_id).cte("unit_tree", recursive=True)
    child = aliased(Unit)
    tree = tree.union(select(child.id).where(child.parent_id == tree.c.id))
    return select(Unit.code).where(Unit.id.in_(select(tree.c.id)))


def addressed_to(reader: Reader) -> ColumnElement[bool]:
    """The outbox rows this reader's inbox holds (see the module's docstring)."""
    role = Role(reader.role)  # a plain string from a caller is the same role
    if role is Role.UNIT:
        if reader.unit_id is None:
            return false()
        return and_(OutboxMessage.audience == "unit",
                    OutboxMessage.recipient.in_(_unit_codes(reader.unit_id)))  # fmt: skip
    if role is Role.ADMIN:
        return or_(OutboxMessage.audience == "supervisor",
                   and_(OutboxMessage.audience == ADMIN_AUDIENCE,
                        OutboxMessage.recipient.is_(None)))  # fmt: skip
    if role is Role.SUPERVISOR:
        return OutboxMessage.audience == "supervisor"
    return and_(OutboxMessage.audience == "supervisor", OutboxMessage.template == RETURNS)


def _read_by(user_id: int) -> ColumnElement[bool]:
    return exists().where(InboxRead.user_id == user_id, InboxRead.message_id == OutboxMessage.id)


def _in_inbox(reader: Reader, now: datetime) -> list[ColumnElement[bool]]:
    return [addressed_to(reader), OutboxMessage.created_at >= now - timedelta(days=INBOX_DAYS)]


def unread_count(session: Session, reader: Reader, *, now: datetime,
                 cap: int = UNREAD_CAP) -> int:  # fmt: skip
    """Unread messages, counted up to ``cap`` (the header's badge): one query that stops at
    ``cap`` rows however large the backlog."""
    unread = (select(OutboxMessage.id)
              .where(*_in_inbox(reader, now), ~_read_by(reader.user_id)).limit(cap))  # fmt: skip
    return session.scalar(select(func.count()).select_from(unread.subquery())) or 0


def inbox_page(session: Session, reader: Reader, *, now: datetime, scope: set[int] | None,
               unread_only: bool = False, page: int = 1) -> InboxPage:  # fmt: skip
    """A page of the inbox, the newest first; ``scope`` (the units whose tickets the reader
    may see, None: all) says which tickets can still be opened from it."""
    where = _in_inbox(reader, now)
    if unread_only:
        where.append(~_read_by(reader.user_id))
    total = session.scalar(select(func.count(OutboxMessage.id)).where(*where)) or 0
    page = max(1, min(page, max(1, -(-total // PER_PAGE))))
    read = (select(InboxRead.message_id)
            .where(InboxRead.user_id == reader.user_id,
                   InboxRead.message_id == OutboxMessage.id).exists())  # fmt: skip
    rows = session.execute(
        select(OutboxMessage, read.label("read"))
        .where(*where)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)
        .options(selectinload(OutboxMessage.event),
                 selectinload(OutboxMessage.ticket).selectinload(Ticket.category),
                 selectinload(OutboxMessage.ticket).selectinload(Ticket.co_units))
    ).all()  # fmt: skip
    codes = {(message.payload or {}).get("unit") for message, _ in rows} - {None}
    names = dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all())
    return InboxPage([_item(message, bool(is_read), scope, names) for message, is_read in rows],
                     total, page)  # fmt: skip


def _item(message: OutboxMessage, read: bool, scope: set[int] | None,
          names: dict[str, str]) -> Item:  # fmt: skip
    payload = message.payload or {}
    kind = payload.get("event") or (message.event.kind if message.event else "")
    ticket = message.ticket
    data = (message.event.data if message.event else None) or {}
    label = ADMIN_NOTICE_LABELS.get(kind) or event_label(kind)
    comment = None
    if kind == EventKind.CONFIRMED and (
        data.get("resolved") is False or data.get("satisfaction") == Satisfaction.DISSATISFIED
    ):
        # To the unit this answer is a reopening (重办), and the resident's reason is the news.
        kind, label, comment = (
            EventKind.REOPENED.value,
            event_label(EventKind.REOPENED),
            (data.get("comment") or None),
        )
    openable = ticket is not None and (
        scope is None or ticket.lead_unit_id in scope
        or any(unit.id in scope for unit in ticket.co_units)
    )  # fmt: skip
    return Item(
        id=message.id, kind=kind, label=label, at=message.created_at,
        body=payload.get("body"), unit_name=names.get(payload.get("unit") or ""),
        number=ticket.number if ticket else None,
        category=ticket.category.name if ticket and ticket.category else None,
        status=STATUS_LABELS[Status(ticket.status)] if ticket else None,
        approved=data.get("approve") if kind == EventKind.EXTENSION_DECIDED else None,
        comment=comment, read=read, openable=openable,
        link=payload.get("link_path") if message.audience == ADMIN_AUDIENCE else None,
    )  # fmt: skip


def _insert_read(session: Session) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING: two tabs marking the same message read at once are
    both fine."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(InboxRead.__table__)  # type: ignore[no-any-return]


def mark_read(session: Session, reader: Reader, message_id: int, *, now: datetime) -> str | None:
    """Mark one message of this reader's inbox read; returns its ticket's number. A message
    addressed to someone else is missing (404), like another unit's ticket."""
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id,
                                                         addressed_to(reader)))  # fmt: skip
    if message is None:
        raise NotFound("未找到这条消息")
    session.execute(_insert_read(session)
                    .values(user_id=reader.user_id, message_id=message.id, read_at=now)
                    .on_conflict_do_nothing())  # fmt: skip
    return message.ticket.number if message.ticket else None


def mark_all_read(session: Session, reader: Reader, *, now: datetime) -> int:
    """Mark everything unread in this reader's inbox read, in one statement; returns how many."""
    unread = select(literal(reader.user_id), OutboxMessage.id, literal(now, UTCDateTime())).where(
        *_in_inbox(reader, now), ~_read_by(reader.user_id)
    )
    # Counted from RETURNING: a unit's query starts WITH RECURSIVE, and SQLite reports no
    # rowcount for a statement that does not start with INSERT.
    inserted = session.execute(
        _insert_read(session)
        .from_select(["user_id", "message_id", "read_at"], unread)
        .on_conflict_do_nothing()
        .returning(InboxRead.__table__.c.message_id)
    )
    return len(inserted.all())


def admin_notice(session: Session, *, kind: str, template: str, body: str, subject: str,
                 link_path: str, emails: list[str], now: datetime,
                 values: dict[str, str]) -> list[OutboxMessage]:  # fmt: skip
    """An admins' notice: the inbox item (nothing to deliver: written as sent) and one
    e-mail per address, pending for the notifications workers. ``body`` and ``subject`` are
    the rendered texts; ``values`` what they were rendered from."""
    payload = {"event": kind, "body": body, "subject": subject, "link_path": link_path,
               "values": values}  # fmt: skip
    rows = [OutboxMessage(audience=ADMIN_AUDIENCE, recipient=None, template=template,
                          payload=payload, status="sent", attempts=0, next_attempt_at=now,
                          created_at=now, sent_at=now)]  # fmt: skip
    rows += [OutboxMessage(audience=ADMIN_AUDIENCE, recipient=email, template=template,
                           payload=payload, status="pending", attempts=0, next_attempt_at=now,
                           created_at=now) for email in emails]  # fmt: skip
    session.add_all(rows)
    session.flush()
    return rows
