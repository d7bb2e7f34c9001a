"""Time at the edges: the real clock the processes inject as ``now``, and local calendar days
as the UTC instants the database stores (stored UTC, shown in the city's time zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def utc_now() -> datetime:
    """The current moment, aware UTC. Only the edges (app, jobs, CLI) call it; everything
    below takes ``now`` as an argument so tests can set it."""
    return datetime.now(UTC)


def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The local calendar ``day`` in ``timezone`` as UTC instants [start, end): the local
    midnight that begins it and the one that begins the next day."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_period(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """Local days ``first`` to ``last`` (both included) as UTC instants [start, end)."""
    return local_day_bounds(first, timezone)[0], local_day_bounds(last, timezone)[1]
