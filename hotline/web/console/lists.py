"""What the console's lists share: query arguments, deadline colours and countdowns,
escalation badges, table rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template, request

from ...domain.calendar import DAY_RANGE_MESSAGE, EARLIEST_DAY, LATEST_DAY
from ...domain.deadlines import Countdown, countdown, is_overdue, is_warning, next_due
from ...domain.sla import Clock
from ...domain.states import STATUS_LABELS, SUPERVISION_LABELS, Status
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
    """overdue / warning / "" — for the colour of a row: past a deadline still running, or
    75% of the next one's time used. Escalation is not lateness: see :func:`escalation`."""
    if is_overdue(ticket, now):
        return "overdue"
    due = next_due(ticket, None)
    if due is None:
        return ""
    warned = due.kind in (ticket.sla or {}).get("warned", [])
    return "warning" if is_warning(ticket, due, now, warned) else ""


def escalation(ticket: Ticket) -> str:
    """The supervision badge (催办 / 督办 / 通报), or "" — shown whatever the deadlines say."""
    return SUPERVISION_LABELS.get(ticket.supervision_level, "")


def next_countdown(ticket: Ticket, now: datetime, clock: Clock) -> Countdown | None:
    """The countdown to the next deadline still running ("签收剩 1小时20分"), or None."""
    time_limit = ticket.category.time_limit if ticket.category else None
    due = next_due(ticket, time_limit)
    if due is None:
        return None
    warned = due.kind in (ticket.sla or {}).get("warned", [])
    return countdown(ticket, due, now, clock, warned=warned)


def render_list(template: str, title: str, page: worklists.Page, *, intro: str = "",
                show_routing: bool = False, mine: set[int] | None = None,
                returns: dict[int, str] | None = None, clock: Clock | None = None,
                **context: Any) -> str:  # fmt: skip
    """A list page; with ``clock`` each row also carries its countdown (``row.due``)."""
    rows = table_rows(page, hotline().now(), routing=show_routing, mine=mine, returns=returns,
                      clock=clock)  # fmt: skip
    return render_template(template, title=title, intro=intro, page=page, rows=rows,
                           show_routing=show_routing, **context)  # fmt: skip


def table_rows(page: worklists.Page, now: datetime, *, routing: bool,
          mine: set[int] | None = None, returns: dict[int, str] | None = None,
          clock: Clock | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Table rows; ``mine`` (a unit's scope) marks whether it leads or helps on each; with
    ``clock``, ``due`` is the countdown to the next deadline and ``due_at`` its local time."""
    rows = []
    for t in page.tickets:
        due = next_countdown(t, now, clock) if clock is not None else None
        rows.append({
            "ticket": t, "urgency": urgency(t, now), "escalation": escalation(t),
            "status": STATUS_LABELS[Status(t.status)],
            "resolve_by": local(t.resolve_by), "created_at": local(t.created_at),
            "terms": matched_terms(t) if routing else [],
            "part": None if mine is None else ("主办" if t.lead_unit_id in mine else "协办"),
            "returned": (returns or {}).get(t.id),
            "due": due, "due_at": local(due.due.at) if due else None,
        })  # fmt: skip
    return rows


def matched_terms(ticket: Ticket) -> list[str]:
    candidates = (ticket.routing or {}).get("candidates") or []
    if not candidates:
        return []
    return [m["term"] for m in candidates[0].get("matches", []) if m.get("weight", 0) > 0]
