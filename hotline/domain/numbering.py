"""Ticket numbers: ``WM20261121-0007`` = prefix, local calendar day, sequence of that day."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def local_day(now: datetime, timezone: str) -> date:
    """The calendar day in the city's time zone; numbering restarts at local midnight."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(timezone)).date()


def format_number(prefix: str, day: date, sequence: int) -> str:
    if sequence < 1:
        raise ValueError("sequence starts at 1")
    return f"{prefix}{day:%Y%m%d}-{sequence:04d}"
