"""Intake (受理): turn a validated submission into a ticket with its first event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.numbering import local_day
from ..domain.states import Channel, Priority, Status
from ..domain.tracking import new_salt
from ..errors import ValidationFailed
from ..models import Attachment, Category, IdempotencyKey, Ticket, User
from ..photos import PreparedPhoto
from .events import append_event
from .numbering import allocate_number


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
    actor: User | None = None,
    photos: Sequence[tuple[PreparedPhoto, str]] = (),
) -> Ticket:
    """Create a ``reported`` ticket from a schema-validated ``data`` dict.

    ``photos`` pairs each prepared photo with the name it was already stored under.
    """
    category = _category(session, data.get("category"))
    anonymous = bool(data.get("anonymous"))
    priority = data.get("priority") or (category.priority if category else Priority.NORMAL.value)
    ticket = Ticket(
        number=allocate_number(session, prefix=policy.prefix, day=local_day(now, policy.timezone)),
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
        category=category,
        status=Status.REPORTED.value,
        priority=priority,
        supervision_level=0,
        tracking_salt=new_salt(),
        created_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    event = append_event(
        session,
        ticket,
        kind="submitted",
        now=now,
        actor=actor,
        actor_label=actor.display_name if actor else "市民",
        public=True,
        body=f"您的诉求已受理，工单编号 {ticket.number}。",
        data={"channel": channel.value, "category": category.code if category else None},
    )
    for photo, stored_name in photos:
        session.add(
            Attachment(
                ticket=ticket,
                event_id=event.id,
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
        )
    session.flush()
    return ticket


def _category(session: Session, code: str | None) -> Category | None:
    if not code:
        return None
    category = session.scalar(select(Category).where(Category.code == code, Category.active))
    if category is None:
        raise ValidationFailed({"category": ["未知的问题类别，请从列表中选择或留空"]})
    return category


def find_idempotent(session: Session, *, user: User, key: str, request_hash: str) -> Ticket | None:
    """The ticket an earlier request with this key created, if any.

    The same key with a different body is the caller's mistake: 422, as the IETF
    Idempotency-Key draft recommends.
    """
    record = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key)
    )
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise ValidationFailed(
            {"Idempotency-Key": ["该幂等键已用于内容不同的请求"]},
            detail="Idempotency-Key 已被另一份内容使用，请为新的诉求使用新的键",
        )
    return session.get(Ticket, record.ticket_id)


def remember_idempotency(
    session: Session, *, user: User, key: str, request_hash: str, ticket: Ticket, now: datetime
) -> None:
    session.add(
        IdempotencyKey(
            user_id=user.id,
            key=key,
            request_hash=request_hash,
            ticket_id=ticket.id,
            created_at=now,
        )
    )
    session.flush()
