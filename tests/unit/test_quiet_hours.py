"""SMS to residents wait for the morning when they would arrive at night."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.config import Settings
from notifications.jobs import quiet_until

SETTINGS = Settings(database_url="sqlite://", secret_key="k")  # 22:00–08:00 Shanghai


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour - 8, minute, tzinfo=UTC) if hour >= 8 else \
        datetime(2026, 12, day - 1, hour + 16, minute, tzinfo=UTC)


def test_a_night_message_waits_until_eight_in_the_morning() -> None:
    assert quiet_until(shanghai(3, 2, 11), SETTINGS) == shanghai(3, 8)
    assert quiet_until(shanghai(3, 23, 30), SETTINGS) == shanghai(4, 8)
    assert quiet_until(shanghai(3, 22), SETTINGS) == shanghai(4, 8)


def test_a_day_message_goes_at_once() -> None:
    assert quiet_until(shanghai(3, 8), SETTINGS) is None
    assert quiet_until(shanghai(3, 21, 59), SETTINGS) is None


def test_equal_bounds_mean_no_quiet_hours() -> None:
    always = Settings(database_url="sqlite://", secret_key="k", sms_quiet_start=0, sms_quiet_end=0)
    assert quiet_until(shanghai(3, 2), always) is None
