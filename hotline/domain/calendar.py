"""Working days in China: weekends and public holidays off, make-up days (调休) on.

The national schedule comes from the `chinesecalendar` package (published schedules, updated
yearly), never typed by hand here. Local days off (or extra working days) are overrides that
an admin loads. Years the package does not know yet fall back to Monday–Friday.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import chinese_calendar

# Days a person may ask about (filters, periods, deadlines typed in a form): call-centre
# history goes back years, nothing real lies before 1990 or after 2099, and dates outside
# them overflow when turned into times.
EARLIEST_DAY = date(1990, 1, 1)
LATEST_DAY = date(2099, 12, 31)
DAY_RANGE_MESSAGE = f"日期应在 {EARLIEST_DAY} 到 {LATEST_DAY} 之间"


class WorkCalendar:
    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        """``overrides``: day → True (working) / False (day off), winning over the national
        schedule."""
        self.overrides = dict(overrides or {})
        self._known: dict[date, bool] = {}  # the package validates its input slowly

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        known = self._known.get(day)
        if known is None:
            try:
                known = bool(chinese_calendar.is_workday(day))
            except NotImplementedError:  # a year the package has no schedule for yet
                known = day.weekday() < 5
            self._known[day] = known
        return known

    def knows(self, year: int) -> bool:
        """Whether the national schedule for ``year`` is known (else weekends only)."""
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True
