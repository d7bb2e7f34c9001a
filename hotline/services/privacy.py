"""Residents' personal data over its lifecycle (个人信息保护法): erased from closed tickets once
the retention period is over (the sweep), or from every ticket of one resident who asks.

Erased: the reporter's name and phone; the photos the resident sent (rows and files); the
followers (我也遇到了) with their phones (the ticket keeps their count, its weight); the SMS
replies received about it (their phone and text); the phones as the recipients of outbox
rows (messages not yet delivered are skipped) and the demo channel's copy of texts; the name,
the phone and any other mainland mobile number inside the ticket's texts — title,
description, event bodies and their notes/comments/reasons, outbox payloads, the copies kept
as routing corrections, extension requests' reasons. Kept: category, units, address and
place, every time and milestone, statuses, supervision levels, ratings and the routing
decision — so every metric reads the same afterwards. Staff's evidence photos stay (they
document the fix). The ticket is marked (``personal_data_erased_at``) and gets an internal
event; a second run changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..domain.events import EventKind
from ..domain.privacy import mask_phone
from ..domain.states import FINAL
from ..domain.text import normalize_phone
from ..errors import ValidationFailed
from ..models import (
    Attachment,
    ExtensionRequest,
    InboundSms,
    OutboxMessage,
    RoutingCorrection,
    Ticket,
    TicketEvent,
    TicketFollower,
)
from ..photos import PhotoStore
from . import audit
from .actors import SYSTEM, Actor
from .events import new_event, next_sequence

ERASED_PHONE = "[电话已删除]"
ERASED_NAME = "某某"
ERASED_EMAIL = "[邮箱已删除]"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REASONS = {"retention": "保存期满", "request": "本人申请"}
# A mainland mobile number, also written with spaces or dashes (138 1234 1234).
MOBILE = re.compile(r"(?<!\d)1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
UNSENT = ("pending", "queued", "failed", "dead")
PHONED = ("resident", "follower")  # audiences whose recipient is a resident's phone
BATCH = 200  # tickets per sweep run; the sweep runs every minute and catches up


def scrubber(phone: str | None, name: str | None, *,
             emails: bool = False) -> Callable[[str | None], str | None]:  # fmt: skip
    """Replaces the resident's phone (however spaced), any mobile number and their name
    (and any e-mail address, with ``emails``) in a text."""
    digits = re.sub(r"\D", "", phone or "")
    own = re.compile(r"(?<!\d)" + r"[\s-]?".join(digits) + r"(?!\d)") if digits else None
    name = (name or "").strip()

    def scrub(text: str | None) -> str | None:
        if not text:
            return text
        if own is not None:
            text = own.sub(ERASED_PHONE, text)
        text = MOBILE.sub(ERASED_PHONE, text)
        if emails:
            text = EMAIL.sub(ERASED_EMAIL, text)
        if len(name) >= 2:  # a one-character "name" would hit ordinary words
            text = text.replace(name, ERASED_NAME)
        return text

    return scrub


def _scrub_dict(values: dict[str, Any] | None, scrub: Callable[[str | None], str | None]
                ) -> dict[str, Any]:  # fmt: skip
    return {k: scrub(v) if isinstance(v, str) else v for k, v in (values or {}).items()}


def erase_ticket(session: Session, ticket: Ticket, *, reason: str, actor: Actor,
                 now: datetime, photos: PhotoStore) -> int:  # fmt: skip
    """Erase one ticket's personal data (see the module docstring); returns photos removed.

    The photo files go before the commit: if the commit fails the ticket stays unmarked and
    the next run erases it again (missing files are fine), so nothing outlives a failure.
    """
    scrub = scrubber(ticket.reporter_phone, ticket.reporter_name, emails=True)
    ticket.reporter_name = ticket.reporter_phone = None
    if ticket.attributes:  # free-text answers to a category's questions (Open311)
        ticket.attributes = _scrub_dict(ticket.attributes, scrub)
    # What an Open311 client sent of the person: e-mail, its account and device, a photo link.
    ticket.reporter_email = ticket.client_ids = ticket.media_url = None
    ticket.description = scrub(ticket.description) or ""
    ticket.title = scrub(ticket.title)
    for event in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)):
        body, data = scrub(event.body), _scrub_dict(event.data, scrub)
        if body != event.body or data != (event.data or {}):
            event.body, event.data = body, data
    for message in session.scalars(select(OutboxMessage)
                                   .where(OutboxMessage.ticket_id == ticket.id)):  # fmt: skip
        payload = _scrub_dict(message.payload, scrub)
        payload.pop("console_text", None)  # the rendered text may name the resident
        if payload != (message.payload or {}):
            message.payload = payload
        if message.audience in PHONED:
            message.recipient = None
            if message.status in UNSENT:
                message.status, message.last_error = "skipped", "个人信息已删除，不再发送"
    session.execute(delete(TicketFollower).where(TicketFollower.ticket_id == ticket.id))
    for reply in session.scalars(select(InboundSms).where(InboundSms.ticket_id == ticket.id)):
        reply.phone, reply.body = ERASED_PHONE, scrub(reply.body) or ""
    corrections = select(RoutingCorrection).where(RoutingCorrection.ticket_id == ticket.id)
    for correction in session.scalars(corrections):
        correction.text = scrub(correction.text) or ""
    requests = select(ExtensionRequest).where(ExtensionRequest.ticket_id == ticket.id)
    for request in session.scalars(requests):  # a unit may quote the resident in its reason
        request.reason = scrub(request.reason) or ""
        request.decision_note = scrub(request.decision_note)
    sent = list(session.scalars(
        select(Attachment).join(TicketEvent, Attachment.event_id == TicketEvent.id)
        .where(Attachment.ticket_id == ticket.id, TicketEvent.kind == EventKind.SUBMITTED.value)
    ))  # fmt: skip
    for attachment in sent:
        session.delete(attachment)
    session.add(new_event(
        ticket, next_sequence(session, ticket), EventKind.PERSONAL_DATA_ERASED, actor=actor,
        now=now, public=False,
        body=f"已删除诉求人的姓名、电话和照片（{REASONS[reason]}）",
        data={"reason": reason, "photos": len(sent)},
    ))  # fmt: skip
    ticket.personal_data_erased_at = now
    ticket.updated_at = now
    session.flush()
    photos.delete([a.stored_name for a in sent])
    return len(sent)


def erase_expired(session: Session, *, now: datetime, retention_days: int, photos: PhotoStore,
                  limit: int = BATCH) -> list[str]:  # fmt: skip
    """Closed tickets past the retention period, oldest first, at most ``limit`` per call."""
    stmt = (
        select(Ticket)
        .where(Ticket.personal_data_erased_at.is_(None),
               Ticket.closed_at <= now - timedelta(days=retention_days),
               Ticket.status.in_([s.value for s in FINAL]))
        .order_by(Ticket.closed_at, Ticket.id)
        .limit(limit)
    )  # fmt: skip
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)  # another sweep may hold some
    numbers = []
    for ticket in session.scalars(stmt).all():
        erase_ticket(session, ticket, reason="retention", actor=SYSTEM, now=now, photos=photos)
        numbers.append(ticket.number)
    if numbers:
        data = {"retention_days": retention_days, "tickets": numbers}
        audit.record(session, "privacy.expired", "tickets", SYSTEM, now, data)
    return numbers


def resident_phone(raw: str) -> str:
    """The phone an erasure request names, as tickets store it."""
    try:
        return normalize_phone(raw)
    except ValueError as exc:
        raise ValidationFailed({"phone": ["请填写有效的手机号码或带区号的固定电话"]},
                               detail="号码无效") from exc  # fmt: skip


@dataclass(frozen=True)
class Matches:
    tickets: int
    open: int  # not closed yet: the unit can no longer call back once erased


def check_resident(session: Session, phone: str, *, actor: Actor, now: datetime) -> Matches:
    """How many tickets an erasure by this phone would touch. Counts only, never which
    (admins may not find a resident's tickets by phone), and audited: the count still tells
    whether someone complained, so asking leaves a trace."""
    reported = Ticket.reporter_phone == phone
    total = session.scalar(select(func.count()).where(reported)) or 0
    running = session.scalar(select(func.count()).where(
        reported, Ticket.status.notin_([s.value for s in FINAL]))) or 0  # fmt: skip
    audit.record(session, "privacy.checked", f"phone:{mask_phone(phone)}", actor, now,
                 {"tickets": total})  # fmt: skip
    return Matches(total, running)


def erase_resident(session: Session, phone: str, *, actor: Actor, now: datetime,
                   photos: PhotoStore) -> list[str]:  # fmt: skip
    """Erase every ticket this phone reported, on the resident's request; audited with the
    masked number only (the audit must not keep what was erased)."""
    tickets = list(session.scalars(select(Ticket).where(Ticket.reporter_phone == phone)
                                   .order_by(Ticket.id)))  # fmt: skip
    removed = sum(erase_ticket(session, t, reason="request", actor=actor, now=now,
                               photos=photos) for t in tickets)  # fmt: skip
    # Messages naming the phone outside those tickets (none expected; cheap to be sure).
    addressed = OutboxMessage.recipient == phone
    session.execute(update(OutboxMessage).where(addressed, OutboxMessage.status.in_(UNSENT))
                    .values(status="skipped", last_error="个人信息已删除，不再发送"))  # fmt: skip
    session.execute(update(OutboxMessage).where(addressed).values(recipient=None))
    # The tickets they followed and the SMS they sent that matched none of theirs.
    session.execute(delete(TicketFollower).where(TicketFollower.phone == phone))
    session.execute(update(InboundSms).where(InboundSms.phone == phone)
                    .values(phone=ERASED_PHONE, body=""))  # fmt: skip
    numbers = [t.number for t in tickets]
    audit.record(session, "privacy.erased", f"phone:{mask_phone(phone)}", actor, now,
                 {"tickets": numbers, "photos": removed})  # fmt: skip
    return numbers
