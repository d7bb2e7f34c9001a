"""What the tracking page promises a resident, in plain words: by when, and who has it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .states import Status

WEEKDAYS = "一二三四五六日"
OPEN_AT_A_UNIT = frozenset({Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS,
                            Status.REOPENED})  # fmt: skip


def plain_time(moment: datetime, tz: ZoneInfo) -> str:
    """``12月5日（星期五）18:00``: what a resident reads, without the year or seconds."""
    local = moment.astimezone(tz)
    return f"{local.month}月{local.day}日（星期{WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def resolve_promise(status: Status, resolve_by: datetime | None, *, now: datetime,
                    tz: ZoneInfo) -> str | None:  # fmt: skip
    """The resolve-by as a sentence, or None once it no longer applies (resolved, closed)."""
    if status in (Status.REPORTED, Status.RETURNED):
        return "正在确定承办单位，确定后将告知办理期限。"
    if status not in OPEN_AT_A_UNIT or resolve_by is None:
        return None
    if resolve_by <= now:
        return f"应于 {plain_time(resolve_by, tz)} 前办结，已超过办理期限，督办部门正在督促。"
    return f"应于 {plain_time(resolve_by, tz)} 前办结。"
