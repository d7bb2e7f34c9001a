from datetime import UTC, date, datetime

import pytest

from hotline.domain.numbering import format_number, local_day


def test_format_pads_to_four_digits() -> None:
    assert format_number("WM", date(2026, 11, 21), 7) == "WM20261121-0007"


def test_format_grows_past_9999() -> None:
    assert format_number("WM", date(2026, 11, 21), 12345) == "WM20261121-12345"


def test_sequence_starts_at_one() -> None:
    with pytest.raises(ValueError):
        format_number("WM", date(2026, 11, 21), 0)


def test_local_day_follows_shanghai_midnight() -> None:
    # 16:30 UTC on the 20th is 00:30 on the 21st in Shanghai.
    assert local_day(datetime(2026, 11, 20, 16, 30, tzinfo=UTC), "Asia/Shanghai") == date(
        2026, 11, 21
    )
    assert local_day(datetime(2026, 11, 20, 15, 59, tzinfo=UTC), "Asia/Shanghai") == date(
        2026, 11, 20
    )


def test_local_day_refuses_naive_time() -> None:
    with pytest.raises(ValueError):
        local_day(datetime(2026, 11, 21, 8, 0), "Asia/Shanghai")
