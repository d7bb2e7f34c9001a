"""The deadlines a unit works to and the time left on them: the countdowns of the worklist and
the ticket page ("签收剩 1小时20分", "办结剩 2个工作日", "反馈超期 3小时").

Which deadlines still run is read as the SLA sweep reads it (accept until signed for,
first feedback until given, resolve while the unit has the ticket). Time left counts working
hours on the working-day calendar, or plain hours for urgent matters (their limits are plain).
Pure: the clock and ``now`` come in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .sla import HOURS_PER_DAY, Clock, policy_for, warning_at
from .states import WITH_UNIT, Status

KIND_LABELS = {"accept": "签收", "feedback": "反馈", "resolve": "办结"}
DEADLINE_LABELS = {"accept": "签收时限", "feedback": "首次反馈时限", "resolve": "办结时限"}


class HasDeadlines(Protocol):
    status: str
    priority: str
    accept_by: datetime | None
    feedback_by: datetime | None
    resolve_by: datetime | None
    accepted_at: datetime | None
    first_feedback_at: datetime | None
    dispatched_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class Due:
    kind: str  # accept / feedback / resolve
    at: datetime
    plain: bool  # counted in plain hours (urgent matters), not working hours

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class Countdown:
    due: Due
    overdue: bool
    warning: bool  # 75% of the time used, not yet overdue
    text: str  # e.g. 签收剩 1小时20分


def running(ticket: HasDeadlines, time_limit: str | None) -> list[Due]:
    """The deadlines still to meet, in the order of the work (accept, feedback, resolve);
    none once the unit no longer has the ticket. ``time_limit``: the category's class."""
    if ticket.status not in WITH_UNIT:
        return []
    policy = policy_for(time_limit, ticket.priority)
    due = []
    if ticket.status == Status.DISPATCHED and ticket.accepted_at is None and ticket.accept_by:
        due.append(Due("accept", ticket.accept_by, policy.accept.plain))
    if ticket.first_feedback_at is None and ticket.feedback_by:
        due.append(Due("feedback", ticket.feedback_by, policy.feedback.plain))
    if ticket.resolve_by:
        due.append(Due("resolve", ticket.resolve_by, policy.resolve.plain))
    return due


def next_due(ticket: HasDeadlines, time_limit: str | None) -> Due | None:
    """The first deadline still running: the next thing the unit must do in time. (The
    worklist orders by the same choice in SQL: services.worklists.next_deadline.)"""
    due = running(ticket, time_limit)
    return due[0] if due else None


def is_overdue(ticket: HasDeadlines, now: datetime) -> bool:
    """Past any deadline still running (whatever its supervision level)."""
    return any(d.at < now for d in running(ticket, None))


def countdown(ticket: HasDeadlines, due: Due, now: datetime, clock: Clock,
              warned: bool = False) -> Countdown:  # fmt: skip
    """Time left on ``due`` (or how late it is). ``warned``: the sweep already warned."""
    overdue = now > due.at
    early, late = (due.at, now) if overdue else (now, due.at)
    if due.plain:
        hours = (late - early).total_seconds() / 3600
    else:
        hours = clock.working_hours_between(early, late)
    span = duration_text(hours, working=not due.plain)
    if overdue:
        text = f"{due.label}超期 {span}" if span else f"{due.label}已超期"
    else:
        text = f"{due.label}剩 {span or '不到1分钟'}"
    return Countdown(due, overdue, is_warning(ticket, due, now, warned), text)


def is_warning(ticket: HasDeadlines, due: Due, now: datetime, warned: bool = False) -> bool:
    """Not yet late but 75% of the time used (as the sweep warns), or already warned."""
    if now > due.at:
        return False
    start = ticket.dispatched_at or ticket.created_at
    return warned or (start < due.at and now >= warning_at(start, due.at))


def duration_text(hours: float, *, working: bool) -> str:
    """Hours as people say them: 2个工作日3小时, 1小时20分, 45分钟 (plain: 1天2小时).
    Rounded down (never promise more time than there is); empty under a minute."""
    minutes = int(hours * 60 + 1e-6)
    day = int(HOURS_PER_DAY * 60) if working else 24 * 60
    days, rest = divmod(minutes, day)
    h, m = divmod(rest, 60)
    if days:
        return f"{days}{'个工作日' if working else '天'}" + (f"{h}小时" if h else "")
    if h:
        return f"{h}小时{m}分" if m else f"{h}小时"
    return f"{m}分钟" if m else ""


class HasMilestones(HasDeadlines, Protocol):
    resolved_at: datetime | None
    sla: dict[str, Any]  # the sweep's marks: {"warned": [kinds], ...}


@dataclass(frozen=True)
class Milestone:
    """One row of the ticket page's deadlines: when it is due, and either when it was met or
    how much time is left."""

    label: str  # 签收时限 …
    at: datetime
    met_at: datetime | None  # when it was met (signed for, answered, resolved)
    late: bool  # met after the deadline
    countdown: Countdown | None  # still running


def milestones(ticket: HasMilestones, time_limit: str | None, now: datetime,
               clock: Clock) -> list[Milestone]:  # fmt: skip
    """签收, first feedback and resolution deadlines of the current round, met or running."""
    running_now = {d.kind: d for d in running(ticket, time_limit)}
    met = {"accept": ticket.accepted_at, "feedback": ticket.first_feedback_at,
           "resolve": ticket.resolved_at}  # fmt: skip
    rows = []
    for kind, at in (("accept", ticket.accept_by), ("feedback", ticket.feedback_by),
                     ("resolve", ticket.resolve_by)):  # fmt: skip
        if at is None:
            continue
        due = running_now.get(kind)
        done = None if due else met[kind]
        warned = kind in (ticket.sla or {}).get("warned", [])
        left = countdown(ticket, due, now, clock, warned) if due else None
        rows.append(Milestone(DEADLINE_LABELS[kind], at, done, bool(done and done > at), left))
    return rows
