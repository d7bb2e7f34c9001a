"""Finding a ticket again by its number and the reporter's phone: a 6-digit code sent by SMS
to that phone (through the outbox) opens the tracking page.

Whether a number and a phone matched is never told to the caller's caller: a request that
matched nothing and one held back by a limit look the same as one that sent a code. Only an
HMAC of each code is stored; the code itself travels in the outbox row's payload, which the
SMS needs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.templates import LOOKUP_CODE
from ..domain.text import normalize_phone
from ..models import LookupCode, OutboxMessage, Ticket

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5  # wrong codes after which a code is void
MIN_INTERVAL = timedelta(seconds=60)  # between two codes for one ticket
PER_HOUR = 5  # codes for one ticket within an hour


class Outcome(StrEnum):
    OPENED = "opened"  # the right code: open the tracking page
    WRONG = "wrong"  # a wrong code, or no code for that number
    EXPIRED = "expired"  # the latest code is past its 10 minutes
    VOID = "void"  # too many wrong codes, or already used: ask for a new one


@dataclass(frozen=True, slots=True)
class Checked:
    outcome: Outcome
    ticket: Ticket | None = None
    attempts_left: int = 0


def normalize_number(raw: str) -> str:
    """A ticket number as typed on a phone: full-width letters and digits, spaces, lower case."""
    return "".join(unicodedata.normalize("NFKC", raw).split()).upper()[:24]


def normalize_code(raw: str) -> str | None:
    """Six digits (full-width and spaces accepted), or None."""
    code = "".join(unicodedata.normalize("NFKC", raw).split())
    return code if len(code) == 6 and code.isascii() and code.isdigit() else None


def code_hash(secret: str, ticket_id: int, code: str) -> str:
    """What is stored instead of the code: an HMAC bound to the ticket."""
    message = f"lookup:{ticket_id}:{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _matching_ticket(session: Session, number: str, phone: str, *, lock: bool) -> Ticket | None:
    query = select(Ticket).where(Ticket.number == number, Ticket.reporter_phone == phone)
    ticket = session.scalar(query.with_for_update() if lock else query)
    # An erased ticket has no phone left; compared again in Python so that the database's
    # collation can never make two different strings equal.
    return ticket if ticket is not None and ticket.reporter_phone == phone else None


def request_code(session: Session, number: str, phone: str, *, secret: str, now: datetime) -> bool:
    """Write a code and its SMS if ``number`` and ``phone`` (as typed) belong to one
    ticket and its limits allow: at most one code a minute and ``PER_HOUR`` an hour. True
    when a code was written — for tests and logs; the resident is told the same either way."""
    number = normalize_number(number)
    try:
        phone = normalize_phone(phone)  # as the intake stored it
    except ValueError:
        return False
    ticket = _matching_ticket(session, number, phone, lock=True)  # one code at a time
    if ticket is None:
        return False
    recent = select(func.count()).select_from(LookupCode).where(LookupCode.ticket_id == ticket.id)
    if session.scalar(recent.where(LookupCode.created_at > now - MIN_INTERVAL)):
        return False
    if session.scalar(recent.where(LookupCode.created_at > now - timedelta(hours=1))) >= PER_HOUR:
        return False
    code = f"{secrets.randbelow(10**6):06d}"
    session.add_all([
        LookupCode(ticket_id=ticket.id, code_hash=code_hash(secret, ticket.id, code), attempts=0,
                   created_at=now, expires_at=now + CODE_LIFETIME),
        OutboxMessage(ticket=ticket, audience="resident", recipient=ticket.reporter_phone,
                      template=LOOKUP_CODE, payload={"event": "lookup_code", "code": code},
                      status="pending", attempts=0, next_attempt_at=now, created_at=now),
    ])  # fmt: skip
    session.flush()
    return True


def check_code(session: Session, number: str, code: str, *, secret: str, now: datetime) -> Checked:
    """``code`` against the latest one sent for ticket ``number`` (a new code replaces the
    older ones). A wrong code counts; after ``MAX_ATTEMPTS`` the code is void."""
    number = normalize_number(number)
    ticket = session.scalar(select(Ticket).where(Ticket.number == number).with_for_update())
    latest = None
    if ticket is not None:
        latest = session.scalar(
            select(LookupCode)
            .where(LookupCode.ticket_id == ticket.id)
            .order_by(LookupCode.created_at.desc(), LookupCode.id.desc())
            .limit(1)
        )
    if ticket is None or latest is None:
        return Checked(Outcome.WRONG, attempts_left=MAX_ATTEMPTS)
    if latest.used_at is not None or latest.attempts >= MAX_ATTEMPTS:
        return Checked(Outcome.VOID)
    if latest.expires_at <= now:
        return Checked(Outcome.EXPIRED)
    if not hmac.compare_digest(latest.code_hash, code_hash(secret, ticket.id, code)):
        latest.attempts += 1  # the ticket's row lock keeps concurrent guesses in line
        session.flush()
        left = MAX_ATTEMPTS - latest.attempts
        return Checked(Outcome.WRONG if left else Outcome.VOID, attempts_left=left)
    latest.used_at = now
    session.flush()
    return Checked(Outcome.OPENED, ticket)
