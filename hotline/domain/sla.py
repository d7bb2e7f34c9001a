"""The SLA clock: deadlines in working hours on the working-day calendar, or plain hours for
urgent matters. Pure: ``now`` and the calendar come in, datetimes go out (aware, UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .calendar import WorkCalendar

# Office hours used to count working time; one working day = 8 working hours.
DAY_START = time(9, 0)
DAY_END = time(17, 0)
HOURS_PER_DAY = 8.0
WARNING_SHARE = 0.75  # warn when 75% of the time is used


@dataclass(frozen=True)
class Limit:
    """A time limit: ``amount`` working hours, or plain hours when ``plain``."""

    hours: float
    plain: bool = False

    @classmethod
    def working_days(cls, days: float) -> Limit:
        return cls(days * HOURS_PER_DAY)


@dataclass(frozen=True)
class Policy:
    accept: Limit
    feedback: Limit
    resolve: Limit


# Defaults seen in practice (DOMAIN.md); categories name one of these by `time_limit`.
POLICIES: dict[str, Policy] = {
    "emergency": Policy(Limit(0.5, plain=True), Limit(2, plain=True), Limit(24, plain=True)),
    "outage": Policy(Limit(1, plain=True), Limit(4, plain=True), Limit(24, plain=True)),
    "consultation": Policy(Limit(4), Limit.working_days(1), Limit.working_days(3)),
    "ordinary": Policy(Limit(4), Limit.working_days(2), Limit.working_days(5)),
    "complex": Policy(Limit(4), Limit.working_days(3), Limit.working_days(15)),
}
RETURN_WINDOW = Limit.working_days(1)  # 退单 only within one working day of dispatch
MAX_EXTENSIONS = 3
MAX_EXTENSION = Limit.working_days(3)


def policy_for(time_limit: str | None, priority: str) -> Policy:
    """A ticket's policy: an emergency or urgent priority overrides the category's class."""
    if priority == "emergency":
        return POLICIES["emergency"]
    if priority == "urgent":
        return POLICIES["outage"]
    return POLICIES.get(time_limit or "ordinary", POLICIES["ordinary"])


class Clock:
    def __init__(self, calendar: WorkCalendar, timezone: str = "Asia/Shanghai") -> None:
        self.calendar = calendar
        self.tz = ZoneInfo(timezone)

    def add(self, start: datetime, limit: Limit) -> datetime:
        """The moment ``limit`` after ``start``."""
        if limit.plain:
            return start + timedelta(hours=limit.hours)
        return self.add_working_hours(start, limit.hours)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Walk forward through office hours of working days only."""
        local = start.astimezone(self.tz)
        remaining = timedelta(hours=hours)
        day = local.date()
        # Where counting starts: now if inside office hours of a working day, else next opening.
        cursor = local
        while True:
            opening = datetime.combine(day, DAY_START, tzinfo=self.tz)
            closing = datetime.combine(day, DAY_END, tzinfo=self.tz)
            if self.calendar.is_workday(day) and cursor < closing:
                cursor = max(cursor, opening)
                available = closing - cursor
                if remaining <= available:
                    return (cursor + remaining).astimezone(UTC)
                remaining -= available
            day += timedelta(days=1)
            cursor = datetime.combine(day, DAY_START, tzinfo=self.tz)

    def working_hours_between(self, start: datetime, end: datetime, *,
                              at_most: float | None = None) -> float:  # fmt: skip
        """Office hours of working days between two moments (0 if ``end`` ≤ ``start``).

        ``at_most`` stops counting once that many hours are reached (and returns it): a
        caller that only compares with a threshold need not walk years of days.
        """
        if end <= start:
            return 0.0
        a, b = start.astimezone(self.tz), end.astimezone(self.tz)
        total = timedelta()
        cap = timedelta(hours=at_most) if at_most is not None else None
        day = a.date()
        while day <= b.date():
            if self.calendar.is_workday(day):
                opening = datetime.combine(day, DAY_START, tzinfo=self.tz)
                closing = datetime.combine(day, DAY_END, tzinfo=self.tz)
                lo, hi = max(a, opening), min(b, closing)
                if hi > lo:
                    total += hi - lo
                if cap is not None and total >= cap:
                    return at_most  # type: ignore[return-value]
            day += timedelta(days=1)
        return total.total_seconds() / 3600


@dataclass(frozen=True)
class Deadlines:
    accept_by: datetime
    feedback_by: datetime
    resolve_by: datetime


def deadlines(clock: Clock, dispatched_at: datetime, policy: Policy) -> Deadlines:
    return Deadlines(
        accept_by=clock.add(dispatched_at, policy.accept),
        feedback_by=clock.add(dispatched_at, policy.feedback),
        resolve_by=clock.add(dispatched_at, policy.resolve),
    )


def warning_at(start: datetime, deadline: datetime) -> datetime:
    """When 75% of the time between ``start`` and ``deadline`` has passed (wall time)."""
    return start + (deadline - start) * WARNING_SHARE
