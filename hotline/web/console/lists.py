"""What the console's lists share: query arguments, deadline colours, table rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template, request

from ...domain.calendar import DAY_RANGE_MESSAGE, EARLIEST_DAY, LATEST_DAY
from ...domain.states import STATUS_LABELS, WITH_UNIT, Status
from ...extensions import hotline
from ...models import Ticket
from ...services import worklists


def day_arg(name: str, default: date | None, errors: dict[str, str]) -> date | None:
    """A date from the query string; a wrong one is noted in ``errors`` and replaced."""
    raw = request.args.get(name, "")
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors[name] = "日期格式应为 2026-11-21"
        return default
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        errors[name] = DAY_RANGE_MESSAGE
        return default
    return day

def page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1

def local(value: datetime | None) -> datetime | None:
    return value.astimezone(ZoneInfo(hotline().settings.timezone)) if value else None

def urgency(ticket: Ticket, now: datetime) -> str:
    """overdue / warning / "" — for the colour of a worklist row."""
    if ticket.resolve_by is None or ticket.status not in WITH_UNIT:
        return ""
    if ticket.resolve_by < now or ticket.supervision_level > 0:
        return "overdue"
    if ticket.dispatched_at and ticket.resolve_by > ticket.dispatched_at:
        spent = (now - ticket.dispatched_at) / (ticket.resolve_by - ticket.dispatched_at)
        if spent >= 0.75 or (ticket.sla or {}).get("warned"):
            return "warning"
    return ""

def render_list(template: str, title: str, page: worklists.Page, *, intro: str = "",
                show_routing: bool = False, mine: set[int] | None = None,
                returns: dict[int, str] | None = None) -> str:  # fmt: skip
    rows = table_rows(page, hotline().now(), routing=show_routing, mine=mine, returns=returns)
    return render_template(template, title=title, intro=intro, page=page, rows=rows,
                           show_routing=show_routing)  # fmt: skip

def table_rows(page: worklists.Page, now: datetime, *, routing: bool,
          mine: set[int] | None = None,
          returns: dict[int, str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Table rows; ``mine`` (a unit's scope) marks whether it leads or helps on each."""
    return [{"ticket": t, "urgency": urgency(t, now), "status": STATUS_LABELS[Status(t.status)],
             "resolve_by": local(t.resolve_by), "created_at": local(t.created_at),
             "terms": matched_terms(t) if routing else [],
             "part": None if mine is None else ("主办" if t.lead_unit_id in mine else "协办"),
             "returned": (returns or {}).get(t.id)}
            for t in page.tickets]  # fmt: skip

def matched_terms(ticket: Ticket) -> list[str]:
    candidates = (ticket.routing or {}).get("candidates") or []
    if not candidates:
        return []
    return [m["term"] for m in candidates[0].get("matches", []) if m.get("weight", 0) > 0]
