"""The countdowns units work to: which deadline comes next, and the time left as people say it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hotline.domain.calendar import WorkCalendar
from hotline.domain.deadlines import countdown, duration_text, is_overdue, next_due, running
from hotline.domain.sla import Clock

CLOCK = Clock(WorkCalendar())
MONDAY_9 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


@dataclass
class Ticket:
    status: str = "dispatched"
    priority: str = "normal"
    accept_by: datetime | None = MONDAY_9 + timedelta(hours=4)
    feedback_by: datetime | None = MONDAY_9 + timedelta(days=1)
    resolve_by: datetime | None = MONDAY_9 + timedelta(days=4)
    accepted_at: datetime | None = None
    first_feedback_at: datetime | None = None
    dispatched_at: datetime | None = MONDAY_9
    created_at: datetime = MONDAY_9


def test_the_next_deadline_follows_the_work() -> None:
    ticket = Ticket()
    assert [d.kind for d in running(ticket, None)] == ["accept", "feedback", "resolve"]
    assert next_due(ticket, None).kind == "accept"  # 签收 first
    ticket.status, ticket.accepted_at = "accepted", MONDAY_9
    assert next_due(ticket, None).kind == "feedback"
    ticket.first_feedback_at = MONDAY_9
    assert next_due(ticket, None).kind == "resolve"
    ticket.status = "resolved"  # no longer the unit's: nothing runs
    assert next_due(ticket, None) is None and not is_overdue(ticket, MONDAY_9 + timedelta(days=9))


def test_overdue_means_past_a_running_deadline_only() -> None:
    ticket = Ticket(status="accepted", accepted_at=MONDAY_9 + timedelta(hours=5))
    assert not is_overdue(ticket, MONDAY_9 + timedelta(hours=5))  # accepted late: history
    assert is_overdue(ticket, MONDAY_9 + timedelta(days=1, minutes=1))  # feedback missed


def test_time_left_counts_working_hours() -> None:
    ticket = Ticket()
    left = countdown(ticket, next_due(ticket, None), MONDAY_9 + timedelta(hours=2, minutes=40),
                     CLOCK)  # fmt: skip
    assert left.text == "签收剩 1小时20分" and not left.overdue and not left.warning  # 67% used
    soon = countdown(ticket, next_due(ticket, None), MONDAY_9 + timedelta(hours=3, minutes=10),
                     CLOCK)  # fmt: skip
    assert soon.text == "签收剩 50分钟" and soon.warning  # 79% used: the sweep warns at 75%
    late = countdown(ticket, next_due(ticket, None), MONDAY_9 + timedelta(hours=7), CLOCK)
    assert late.overdue and late.text == "签收超期 3小时" and not late.warning


def test_durations_as_people_say_them() -> None:
    assert duration_text(8 * 2 + 3, working=True) == "2个工作日3小时"
    assert duration_text(16, working=True) == "2个工作日"
    assert duration_text(1 + 20 / 60, working=True) == "1小时20分"
    assert duration_text(0.75, working=True) == "45分钟"
    assert duration_text(26, working=False) == "1天2小时"
    assert duration_text(0.5 / 60, working=True) == ""  # under a minute
