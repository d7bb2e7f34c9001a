"""Working days across the 2026 Spring Festival and National Day, and the SLA clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hotline.domain.calendar import WorkCalendar
from hotline.domain.sla import (
    POLICIES,
    Clock,
    Limit,
    deadlines,
    policy_for,
    warning_at,
)

CAL = WorkCalendar()
CLOCK = Clock(CAL)


def local(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return (
        datetime(y, m, d, h - 8, mi, tzinfo=UTC)
        if h >= 8
        else datetime(y, m, d - 1, h + 16, mi, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 13), True),  # Friday before the holiday
        (date(2026, 2, 14), True),  # Saturday make-up day (调休)
        (date(2026, 2, 15), False),  # Spring Festival holiday…
        (date(2026, 2, 17), False),
        (date(2026, 2, 23), False),  # …to the Monday after
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday make-up day
        (date(2026, 3, 1), False),  # an ordinary Sunday
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday make-up day
    ],
)
def test_national_schedule_2026(day: date, working: bool) -> None:
    assert CAL.is_workday(day) is working


def test_local_overrides_win() -> None:
    cal = WorkCalendar({date(2026, 3, 2): False, date(2026, 3, 1): True})
    assert not cal.is_workday(date(2026, 3, 2)) and cal.is_workday(date(2026, 3, 1))


def test_unknown_year_falls_back_to_weekdays() -> None:
    assert CAL.is_workday(date(2199, 6, 1)) is (date(2199, 6, 1).weekday() < 5)
    assert not CAL.knows(2199) and CAL.knows(2026)


def test_working_time_skips_the_spring_festival() -> None:
    start = local(2026, 2, 13, 16)  # Friday 16:00
    assert CLOCK.add(start, Limit(1)) == local(2026, 2, 13, 17)  # the last office hour
    assert CLOCK.add(start, Limit(2)) == local(2026, 2, 14, 10)  # make-up Saturday
    assert CLOCK.add(start, Limit.working_days(2)) == local(2026, 2, 24, 16)


def test_working_time_skips_national_day() -> None:
    start = local(2026, 9, 30, 10)  # Wednesday 10:00
    assert CLOCK.add(start, Limit.working_days(1)) == local(2026, 10, 8, 10)


def test_outside_office_hours_starts_at_next_opening() -> None:
    assert CLOCK.add(local(2026, 11, 20, 20), Limit(2)) == local(2026, 11, 23, 11)  # Fri night
    assert CLOCK.add(local(2026, 11, 23, 7), Limit(1)) == local(2026, 11, 23, 10)


def test_plain_hours_ignore_the_calendar() -> None:
    start = local(2026, 2, 15, 23)
    assert CLOCK.add(start, Limit(2, plain=True)) == local(2026, 2, 16, 1)


def test_working_hours_between_is_the_inverse_of_add() -> None:
    start = local(2026, 2, 12, 11)
    end = CLOCK.add(start, Limit(30))
    assert CLOCK.working_hours_between(start, end) == pytest.approx(30)
    assert CLOCK.working_hours_between(end, start) == 0


def test_policies_and_deadlines() -> None:
    assert policy_for("complex", "emergency") is POLICIES["emergency"]
    assert policy_for("ordinary", "urgent") is POLICIES["outage"]
    assert policy_for(None, "normal") is POLICIES["ordinary"]
    start = local(2026, 11, 23, 9)  # Monday 09:00
    d = deadlines(CLOCK, start, POLICIES["ordinary"])
    assert d.accept_by == local(2026, 11, 23, 13)
    assert d.resolve_by == local(2026, 11, 27, 17)  # five working days: Friday at closing
    assert d.accept_by <= d.feedback_by <= d.resolve_by
    assert warning_at(start, start.replace(hour=start.hour + 4)) == start.replace(
        hour=start.hour + 3
    )


def test_working_hours_between_stops_at_a_cap() -> None:
    # An order left open since 2019: only "more than a day late?" matters, not the years.
    start, end = local(2019, 3, 4, 9), local(2026, 11, 20, 9)
    assert CLOCK.working_hours_between(start, end, at_most=24) == 24
    short = CLOCK.add(start, Limit(5))
    assert CLOCK.working_hours_between(start, short, at_most=24) == pytest.approx(5)
