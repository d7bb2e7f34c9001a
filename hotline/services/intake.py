"""Intake (受理): turn a validated submission into a ticket with its first event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..domain.numbering import local_day
from ..domain.sla import Clock
from ..domain.states import Channel, Priority, Status
from ..domain.tracking import new_salt
from ..errors import ValidationFailed
from ..models import Attachment, Category, IdempotencyKey, Ticket
from ..photos import PreparedPhoto
from .actors import RESIDENT, Actor
from .events import new_event
from .lifecycle import start_clock
from .numbering import assign_number
from .outbox import notifications_for
from .routing import Compiled, apply_routing


@dataclass(frozen=True)
class IntakePolicy:
    prefix: str
    timezone: str


def submit_ticket(
    session: Session,
    data: dict[str, Any],
    *,
    now: datetime,
    policy: IntakePolicy,
    channel: Channel,
    actor: Actor = RESIDENT,
    photos: Sequence[tuple[PreparedPhoto, str]] = (),
    routing: Compiled | None = None,
    sla_clock: Clock | None = None,
) -> Ticket:
    """Create a ``reported`` ticket from a schema-validated ``data`` dict.

    ``photos`` pairs each prepared photo with the name it was already stored under.

    The day's number is taken last: every intake queues on the counter's row lock, so the
    lock should cover only one small UPDATE and the commit, not the inserts. Until then the
    ticket carries a provisional number that is unique by construction.
    """
    category = _category(session, data.get("category"))
    anonymous = bool(data.get("anonymous"))
    priority = data.get("priority") or (category.priority if category else Priority.NORMAL.value)
    salt = new_salt()
    ticket = Ticket(
        number="~" + salt[:23],
        channel=channel.value,
        external_ref=data.get("external_ref"),
        title=data.get("title"),
        description=data["description"],
        address=data.get("address"),
        latitude=data.get("latitude"),
        longitude=data.get("longitude"),
        reporter_name=None if anonymous else data.get("reporter_name"),
        reporter_phone=data.get("reporter_phone"),
        anonymous=anonymous,
        consent_contact=bool(data.get("consent_contact")),
        sms_opt_out=bool(data.get("sms_opt_out")),
        category=category,
        status=Status.REPORTED.value,
        priority=priority,
        supervision_level=0,
        tracking_salt=salt,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    event = new_event(
        ticket, 1, "submitted", actor=actor, now=now, public=True,
        body="您的诉求已受理，我们将尽快转交责任单位办理。",
        data={"channel": channel.value, "category": category.code if category else None},
    )  # fmt: skip
    attachments = [
        Attachment(
            ticket=ticket,
            event=event,
            stored_name=stored_name,
            original_name=photo.original_name,
            content_type=photo.content_type,
            size=len(photo.content),
            width=photo.width,
            height=photo.height,
            sha256=photo.sha256,
            public=True,
            created_at=now,
        )
        for photo, stored_name in photos
    ]
    events = [event]
    outcome = None
    if routing is not None:
        outcome = apply_routing(
            ticket, routing, chosen_category=category.code if category else None, now=now,
            sequence=2,
        )  # fmt: skip
        events += outcome.events
    if outcome and outcome.lead_unit_id:
        if outcome.category_id:
            ticket.category = routing.attach_category(session, outcome.category_id)
        ticket.lead_unit = routing.attach_unit(session, outcome.lead_unit_id)
        ticket.co_units = [routing.attach_unit(session, i) for i in outcome.co_unit_ids]
        if sla_clock is not None:
            start_clock(ticket, now, sla_clock)
    if routing is not None and ticket.territorial_unit_id:
        ticket.territorial_unit = routing.attach_unit(session, ticket.territorial_unit_id)
    messages = [m for e in events for m in notifications_for(ticket, e, now)]
    session.add_all([ticket, *events, *attachments, *messages])
    session.flush()
    # Say what a new ticket does not have yet instead of letting the presenter lazy-load
    # empty relationships (and without making the flush track them).
    empty: list[tuple[str, object]] = [("duplicate_of", None), ("attachments", attachments)]
    if not (outcome and outcome.lead_unit_id):
        empty += [("lead_unit", None), ("co_units", [])]
    if ticket.territorial_unit_id is None:
        empty.append(("territorial_unit", None))
    for name, value in empty:
        set_committed_value(ticket, name, value)
    # A plain UPDATE underneath: an ORM one would bump the version of a ticket nobody has seen.
    number = assign_number(
        session, ticket_id=ticket.id, prefix=policy.prefix, day=local_day(now, policy.timezone)
    )
    set_committed_value(ticket, "number", number)
    return ticket


def _category(session: Session, code: str | None) -> Category | None:
    if not code:
        return None
    category = session.scalar(select(Category).where(Category.code == code, Category.active))
    if category is None:
        raise ValidationFailed({"category": ["未知的问题类别，请从列表中选择或留空"]})
    return category


def claim_idempotency_key(
    session: Session, *, user_id: int, key: str, request_hash: str, now: datetime
) -> IdempotencyKey:
    """The record for ``key``: with ``ticket`` set when an earlier request created one, else a
    fresh claim to attach the new ticket to.

    A concurrent request with the same key blocks on the unique index until the first commits,
    then finds its ticket. The same key with a different body is the caller's mistake: 422, as
    the IETF Idempotency-Key draft recommends.
    """
    lookup = select(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
    )
    record = session.scalar(lookup)
    if record is None:
        claim = IdempotencyKey(user_id=user_id, key=key, request_hash=request_hash, created_at=now)
        try:
            with session.begin_nested():
                session.add(claim)
        except IntegrityError:
            record = session.scalar(lookup)
        else:
            return claim
    if record is None or record.request_hash != request_hash:
        raise ValidationFailed(
            {"Idempotency-Key": ["该幂等键已用于内容不同的请求"]},
            detail="Idempotency-Key 已被另一份内容使用，请为新的诉求使用新的键",
        )
    return record
