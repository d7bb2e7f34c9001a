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
from ..domain.states import Channel, Priority
from ..errors import ValidationFailed
from ..models import Attachment, Category, IdempotencyKey, OutboxMessage, Ticket
from ..photos import PreparedPhoto
from .actors import RESIDENT, Actor
from .events import new_event
from .lifecycle import clock_values
from .new_ticket import NewTicketPlan, Submission, plan_new_ticket
from .numbering import assign_number
from .router_cache import Compiled
from .ticket_routing import route_new_ticket


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
    """Create a ``reported`` ticket from a schema-validated ``data`` dict (routed, and
    dispatched when routing is confident, if a ruleset is given).

    ``photos`` pairs each prepared photo with the name it was already stored under.

    The day's number is taken last: every intake queues on the counter's row lock, so the
    lock should cover only one small UPDATE and the commit, not the inserts. Until then the
    ticket carries a provisional number that is unique by construction.
    """
    category = _category(session, data.get("category"))
    anonymous = bool(data.get("anonymous"))
    said = Submission(
        channel=channel.value, description=data["description"],
        priority=data.get("priority") or (category.priority if category else Priority.NORMAL.value),
        external_ref=data.get("external_ref"), title=data.get("title"),
        address=data.get("address"), latitude=data.get("latitude"),
        longitude=data.get("longitude"),
        reporter_name=None if anonymous else data.get("reporter_name"),
        reporter_phone=data.get("reporter_phone"), anonymous=anonymous,
        consent_contact=bool(data.get("consent_contact")),
        sms_opt_out=bool(data.get("sms_opt_out")),
        reported_at=data.get("reported_at"),  # when the call came in, if before the intake
    )  # fmt: skip
    chosen = category.code if category else None
    routed = None if routing is None else route_new_ticket(
        routing, text=said.description, title=said.title, place=said.address,
        lat=said.latitude, lng=said.longitude, chosen_category=chosen,
    )  # fmt: skip
    handover = routed.handover() if routed else None
    category_id, time_limit = (category.id, category.time_limit) if category else (None, None)
    if handover is not None and routed.category is not None:  # nobody chose: routing's
        category_id, time_limit = routed.category.id, routed.category.time_limit
    deadlines = None
    if handover is not None and sla_clock is not None:
        deadlines = clock_values(time_limit, said.priority, now, sla_clock)
    plan = plan_new_ticket(
        said, actor=actor, now=now, submitted={"channel": channel.value, "category": chosen},
        category_id=category_id,
        territorial_unit_id=routed.territorial.id if routed and routed.territorial else None,
        routing=routed.note() if routed else None, handover=handover, deadlines=deadlines,
    )  # fmt: skip
    return _write(session, plan, category=category, routing=routing, photos=photos, now=now,
                  policy=policy)  # fmt: skip


def _write(session: Session, plan: NewTicketPlan, *, category: Category | None,
           routing: Compiled | None, photos: Sequence[tuple[PreparedPhoto, str]],
           now: datetime, policy: IntakePolicy) -> Ticket:  # fmt: skip
    """The plan as ORM objects, flushed and numbered. Units and a category routing chose
    come from the compiled ruleset's detached copies: no query per ticket for them."""
    values = plan.values
    ticket = Ticket(number="~" + values["tracking_salt"][:23], **values)
    if category is not None and category.id == values["category_id"]:
        ticket.category = category
    elif values["category_id"] is not None and routing is not None:
        ticket.category = session.merge(routing.categories[values["category_id"]], load=False)
    else:
        ticket.category = None
    if plan.lead is not None and routing is not None:
        ticket.lead_unit = session.merge(routing.units[plan.lead.id], load=False)
        ticket.co_units = [session.merge(routing.units[i], load=False) for i in plan.co_unit_ids]
    if values["territorial_unit_id"] is not None and routing is not None:
        ticket.territorial_unit = session.merge(routing.units[values["territorial_unit_id"]],
                                                load=False)  # fmt: skip
    events = [new_event(ticket, sequence, e.kind, actor=e.actor, now=now, public=e.public,
                        body=e.body, data=e.data)
              for sequence, e in enumerate(plan.events, start=1)]  # fmt: skip
    attachments = [
        Attachment(
            ticket=ticket,
            event=events[0],
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
    messages = [OutboxMessage(ticket=ticket, event=events[m.event], **m.values)
                for m in plan.messages]  # fmt: skip
    session.add_all([ticket, *events, *attachments, *messages])
    session.flush()
    # Say what a new ticket does not have yet instead of letting the presenter lazy-load
    # empty relationships (and without making the flush track them).
    empty: list[tuple[str, object]] = [("duplicate_of", None), ("attachments", attachments)]
    if plan.lead is None:
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
