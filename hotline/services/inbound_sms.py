"""A resident's SMS reply, as the gateway forwards it: a rating of their latest ticket that
awaits one ("1" satisfied, "2" basically satisfied, "3" dissatisfied → sent back to the unit),
through the same confirmation the tracking page makes; anything else gets a polite SMS with
the tracking link of their latest ticket.

Each gateway message is handled once (``InboundSms.gateway_id``): a repeat answers with the
first outcome and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.events import EventKind
from ..domain.sla import Clock
from ..domain.states import Satisfaction, Status
from ..domain.templates import SMS_REPLY_HELP
from ..domain.text import normalize_phone
from ..domain.workflow import Action, Party
from ..errors import Conflict, Forbidden
from ..models import InboundSms, OutboxMessage, Ticket
from .actors import RESIDENT
from .events import new_event, next_sequence
from .lifecycle import Who, perform
from .outbox import message_values
from .queries import lock_ticket

SIGNATURE_TOLERANCE = timedelta(minutes=5)
BODY_LIMIT = 500  # characters of a reply kept (InboundSms.body)

# Outcomes, as stored in InboundSms.outcome.
RATED = "rated"  # closed with the resident's rating
REOPENED = "reopened"  # dissatisfied: back to the unit
UNKNOWN_REPLY = "unknown_reply"  # not a rating: the polite SMS went out
NO_TICKET = "no_ticket"  # a rating, but nothing of that phone awaits one: the polite SMS

# What a reply may say, after NFKC (full-width digits become ASCII) and without spaces or
# punctuation: the digit, or the words of the choice.
_RATINGS = {"1": Satisfaction.SATISFIED, "满意": Satisfaction.SATISFIED,
            "非常满意": Satisfaction.SATISFIED,
            "2": Satisfaction.BASIC, "基本满意": Satisfaction.BASIC,
            "3": Satisfaction.DISSATISFIED, "不满意": Satisfaction.DISSATISFIED}  # fmt: skip
_NOISE = re.compile(r"[\s\W_]+")


def parse_rating(text: str) -> Satisfaction | None:
    """The rating a reply gives, or None for anything else ("1", "１", " 3 ", "不满意。")."""
    cleaned = _NOISE.sub("", unicodedata.normalize("NFKC", text or ""))
    return _RATINGS.get(cleaned)


class SignatureError(Exception):
    """The request is not the gateway's: ``status`` 401 (missing, malformed) or 403."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def verify_signature(secret: str, header: str | None, body: bytes, *, now: datetime) -> None:
    """Check ``X-Hotline-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>." + body>`` — the
    scheme of our own webhooks (notifications.channels.webhook.signature) — in constant time,
    refusing timestamps more than five minutes away (a captured request cannot be replayed)."""
    parts = dict(item.split("=", 1) for item in (header or "").split(",") if "=" in item)
    stamp, given = parts.get("t", "").strip(), parts.get("v1", "").strip()
    if not stamp.isdigit() or not given:
        raise SignatureError(401, "缺少有效的签名（X-Hotline-Signature: t=…,v1=…）")
    if abs(now.timestamp() - int(stamp)) > SIGNATURE_TOLERANCE.total_seconds():
        raise SignatureError(403, "签名已过期（时间戳与服务器时间相差超过 5 分钟）")
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise SignatureError(403, "签名不正确")


@dataclass(frozen=True)
class Reply:
    gateway_id: str
    phone: str  # as received; normalized here
    text: str
    received_at: datetime


@dataclass(frozen=True)
class Handled:
    outcome: str
    number: str | None  # the ticket it was matched to, if any
    repeated: bool  # the gateway sent this message before: nothing was done now


def awaiting_rating(session: Session, phone: str) -> Ticket | None:
    """The latest ticket this phone reported that waits for the resident's rating."""
    return session.scalar(
        select(Ticket)
        .where(Ticket.reporter_phone == phone, Ticket.status == Status.RESOLVED.value)
        .order_by(Ticket.resolved_at.desc(), Ticket.id.desc())
        .limit(1)
    )


def latest_ticket(session: Session, phone: str) -> Ticket | None:
    """The latest ticket this phone reported, whatever its status (for the link)."""
    newest = select(Ticket).where(Ticket.reporter_phone == phone)
    return session.scalar(newest.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1))


def _number(session: Session, ticket_id: int | None) -> str | None:
    return (
        session.scalar(select(Ticket.number).where(Ticket.id == ticket_id)) if ticket_id else None
    )


def receive(session: Session, reply: Reply, *, now: datetime, clock: Clock) -> Handled:
    """Record and act on one reply. Raises ValueError for a phone that is not one."""
    phone = normalize_phone(reply.phone)
    seen = session.scalar(select(InboundSms).where(InboundSms.gateway_id == reply.gateway_id))
    if seen is not None:
        return Handled(seen.outcome, _number(session, seen.ticket_id), repeated=True)
    record = InboundSms(gateway_id=reply.gateway_id, phone=phone, body=reply.text[:BODY_LIMIT],
                        outcome=UNKNOWN_REPLY, received_at=reply.received_at)  # fmt: skip
    try:
        with session.begin_nested():  # the same id arriving twice at once: one wins
            session.add(record)
    except IntegrityError:
        seen = session.scalar(select(InboundSms).where(InboundSms.gateway_id == reply.gateway_id))
        if seen is None:
            raise
        return Handled(seen.outcome, _number(session, seen.ticket_id), repeated=True)
    rating = parse_rating(reply.text)
    ticket = awaiting_rating(session, phone) if rating is not None else None
    if rating is not None and ticket is not None:
        try:
            _confirm(session, ticket, rating, now=now, clock=clock)
        except (Conflict, Forbidden):  # rated on the tracking page a moment ago
            ticket = None
        else:
            record.ticket_id = ticket.id
            record.outcome = REOPENED if ticket.status == Status.REOPENED.value else RATED
            return Handled(record.outcome, ticket.number, repeated=False)
    record.outcome = UNKNOWN_REPLY if rating is None else NO_TICKET
    latest = latest_ticket(session, phone)
    _answer(session, latest, phone, reply.text, now=now)
    record.ticket_id = latest.id if latest is not None else None
    session.flush()
    return Handled(record.outcome, latest.number if latest else None, repeated=False)


def _confirm(session: Session, ticket: Ticket, rating: Satisfaction, *, now: datetime,
             clock: Clock) -> None:  # fmt: skip
    locked = lock_ticket(session, ticket.number, None)
    dissatisfied = rating is Satisfaction.DISSATISFIED
    # "3" is "not resolved" too: the workflow sends the ticket back to the unit (重办).
    perform(session, locked, Action.CONFIRM,
            {"resolved": not dissatisfied, "satisfaction": rating.value, "comment": None,
             "channel": "sms"},
            who=Who(RESIDENT, Party.RESIDENT), now=now, clock=clock)  # fmt: skip


def _answer(session: Session, ticket: Ticket | None, phone: str, text: str, *,
            now: datetime) -> None:  # fmt: skip
    """The polite SMS, and on the resident's latest ticket an internal note of what they
    wrote (staff see the reply on the timeline; it is not a rating)."""
    event = None
    if ticket is not None:
        event = new_event(ticket, next_sequence(session, ticket), EventKind.NOTE, actor=RESIDENT,
                          now=now, public=False, body=f"市民短信回复（未识别为评价）：{text[:200]}",
                          data={"channel": "sms"})  # fmt: skip
        session.add(event)
    payload = {"event": "sms_reply", "body": None}
    values = message_values("resident", phone, "sms_reply", payload, now)
    values["template"] = SMS_REPLY_HELP
    session.add(OutboxMessage(ticket=ticket, event=event, **values))
    session.flush()
