"""The periodic SLA sweep: warnings at 75% of the time, overdue marks, escalation
(催办 → 督办 → 通报), closing resolved tickets the resident never rated, and erasing
residents' personal data from tickets closed longer than the retention period.

Idempotent: what was already warned, marked or raised is remembered on the ticket
(``ticket.sla``) or visible in its level, so a second run at the same moment changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.events import EventKind
from ..domain.sla import Clock, warning_at
from ..domain.states import WITH_UNIT, Status
from ..domain.workflow import Action, Party
from ..models import Ticket
from .actors import SYSTEM
from .events import new_event, next_sequence
from .lifecycle import Who, perform
from .outbox import notifications_for

log = logging.getLogger(__name__)
LEVEL_NAMES = {1: "催办", 2: "督办", 3: "通报"}
KIND_NAMES = {"accept": "签收", "feedback": "首次反馈", "resolve": "办结"}
# Overdue by this many working hours → at least this supervision level.
ESCALATION = ((0.0, 1), (8.0, 2), (24.0, 3))
UNRATED_AFTER = timedelta(days=7)
CALLBACK_ATTEMPTS = 3  # callbacks that reached nobody before it is closed as unrated


@dataclass
class SweepReport:
    warned: int = 0
    overdue: int = 0
    escalated: int = 0
    closed_unrated: int = 0
    personal_data_erased: int = 0
    tickets: list[str] = field(default_factory=list)


def _due(ticket: Ticket) -> list[tuple[str, datetime]]:
    """The deadlines still running for this ticket."""
    due = []
    if ticket.accept_by and ticket.accepted_at is None and ticket.status == Status.DISPATCHED:
        due.append(("accept", ticket.accept_by))
    if ticket.feedback_by and ticket.first_feedback_at is None:
        due.append(("feedback", ticket.feedback_by))
    if ticket.resolve_by:
        due.append(("resolve", ticket.resolve_by))
    return due


def sweep(
    session: Session,
    *,
    now: datetime,
    clock: Clock,
    unrated_after: timedelta = UNRATED_AFTER,
    callback_attempts: int = CALLBACK_ATTEMPTS,
) -> SweepReport:
    report = SweepReport()
    locked = select(Ticket).where(Ticket.status.in_([s.value for s in WITH_UNIT]))
    if session.get_bind().dialect.name == "postgresql":
        locked = locked.with_for_update(skip_locked=True)  # never wait for an operator
    for ticket in session.scalars(locked):
        changed = _sweep_one(session, ticket, now, clock, report)
        if changed:
            report.tickets.append(ticket.number)
    # Resolved and never rated: too long ago, or the operators' callbacks kept failing. The
    # attempt itself stays one event; closing is the system's, the same way for both reasons.
    unreachable = (Ticket.callback_attempts >= callback_attempts if callback_attempts > 0
                   else false())  # fmt: skip
    stale = select(Ticket).where(
        Ticket.status == Status.RESOLVED.value,
        or_(Ticket.resolved_at <= now - unrated_after, unreachable),
    )
    if session.get_bind().dialect.name == "postgresql":
        stale = stale.with_for_update(skip_locked=True)  # an operator may be on the phone
    system = Who(SYSTEM, Party.SYSTEM)
    for ticket in session.scalars(stale):
        tried = ticket.callback_attempts if 0 < callback_attempts <= ticket.callback_attempts else 0
        payload = {"callback_attempts": tried} if tried else {}
        perform(session, ticket, Action.CLOSE_UNRATED, payload, who=system, now=now, clock=clock)
        report.closed_unrated += 1
        report.tickets.append(ticket.number)
    session.flush()
    return report


def _sweep_one(
    session: Session, ticket: Ticket, now: datetime, clock: Clock, report: SweepReport
) -> bool:
    sla = dict(ticket.sla or {})
    warned, overdue = set(sla.get("warned", [])), set(sla.get("overdue", []))
    events = []
    for kind, deadline in _due(ticket):
        start = ticket.dispatched_at or ticket.created_at
        if kind not in warned and now >= warning_at(start, deadline) and now <= deadline:
            warned.add(kind)
            report.warned += 1
            body = f"{KIND_NAMES[kind]}时限将至（{deadline.astimezone(clock.tz):%m-%d %H:%M}）"
            events.append((EventKind.SLA_WARNING, body,
                           {"deadline": kind, "due": deadline.isoformat()}, False))  # fmt: skip
        if now > deadline and kind not in overdue:
            overdue.add(kind)
            warned.add(kind)
            report.overdue += 1
            events.append((EventKind.OVERDUE, f"已超过{KIND_NAMES[kind]}时限",
                           {"deadline": kind, "due": deadline.isoformat()}, False))  # fmt: skip
    if ticket.resolve_by and now > ticket.resolve_by:
        late = clock.working_hours_between(ticket.resolve_by, now)
        target = max(level for hours, level in ESCALATION if late >= hours)
        if target > ticket.supervision_level:
            ticket.supervision_level = target
            report.escalated += 1
            data = {"level": target, "late_working_hours": round(late, 1)}
            body = f"超期未办结，升级为{LEVEL_NAMES[target]}"
            events.append((EventKind.ESCALATED, body, data, True))
    if not events:
        return False
    ticket.sla = {**sla, "warned": sorted(warned), "overdue": sorted(overdue)}
    sequence = next_sequence(session, ticket)
    for offset, (kind, body, data, public) in enumerate(events):
        event = new_event(ticket, sequence + offset, kind, actor=SYSTEM, now=now,
                          public=public, body=body, data=data)  # fmt: skip
        session.add_all([event, *notifications_for(ticket, event, now)])
    ticket.updated_at = now
    return True


def sweep_now(session: Session, *, now: datetime, settings: Settings) -> SweepReport:
    """The sweep as the CLI and the scheduler run it: the stored calendar, the configured
    limits, and one bounded batch of personal-data erasure past its retention period."""
    from ..photos import PhotoStore
    from .calendar import CalendarCache
    from .privacy import erase_expired

    clock = CalendarCache(timezone=settings.timezone).clock(session)
    report = sweep(session, now=now, clock=clock,
                   unrated_after=timedelta(days=settings.unrated_close_days),
                   callback_attempts=settings.callback_attempts)  # fmt: skip
    # Its own savepoint: a problem with the photo directory must not stall deadlines.
    try:
        with session.begin_nested():
            erased = erase_expired(session, now=now, retention_days=settings.personal_data_days,
                                   photos=PhotoStore(settings.upload_dir))  # fmt: skip
    except OSError:
        log.exception("personal data erasure failed; it is retried on the next sweep")
    else:
        report.personal_data_erased = len(erased)
    return report
