"""The working-day calendar as the application uses it: national schedule + local overrides
from ``calendar_days``, re-read every minute so an import reaches every process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.calendar import WorkCalendar
from ..domain.sla import Clock
from ..errors import ValidationFailed
from ..models import CalendarDay


@dataclass
class CalendarCache:
    timezone: str = "Asia/Shanghai"
    refresh_seconds: float = 60.0
    monotonic: Callable[[], float] = time.monotonic
    _clock: Clock | None = None
    _loaded_at: float = field(default=-1e18)

    def forget(self) -> None:
        """Read the overrides again on next use (this process; others within a minute)."""
        self._clock = None

    def clock(self, session: Session) -> Clock:
        if self._clock is None or self.monotonic() - self._loaded_at >= self.refresh_seconds:
            overrides = dict(session.execute(select(CalendarDay.day, CalendarDay.working)).all())
            self._clock = Clock(WorkCalendar(overrides), self.timezone)
            self._loaded_at = self.monotonic()
        return self._clock


def import_days(session: Session, rows: Iterable[dict[str, str]]) -> int:
    """Rows with 日期/date, 是否上班/working (1/0, 是/否, true/false), 说明/note. All or nothing."""
    truthy = {"1", "true", "yes", "是", "上班", "工作日"}
    falsy = {"0", "false", "no", "否", "休息", "放假"}
    days: dict[date, tuple[bool, str | None]] = {}
    errors: list[str] = []
    for number, row in enumerate(rows, start=2):
        raw_day = (row.get("date") or row.get("日期") or "").strip()
        raw_working = (row.get("working") or row.get("是否上班") or "").strip().lower()
        try:
            day = date.fromisoformat(raw_day.replace("/", "-"))
        except ValueError:
            errors.append(f"第 {number} 行：日期“{raw_day}”应为 YYYY-MM-DD")
            continue
        if raw_working not in truthy | falsy:
            errors.append(f"第 {number} 行：是否上班“{raw_working}”应为 1/0 或 是/否")
            continue
        days[day] = (raw_working in truthy, (row.get("note") or row.get("说明") or None))
    if errors:
        raise ValidationFailed({"file": errors}, detail="；".join(errors[:3]))
    for day, (working, note) in days.items():
        session.merge(CalendarDay(day=day, working=working, note=note))
    session.flush()
    return len(days)
