"""待派单: the manual-dispatch queue — why each ticket is here and how long it has waited,
whether it may repeat an older open ticket (可能重复), routing's top two candidates, one click
to accept the suggestion, several tickets to one unit at once; filters by channel, category
and reason, and three orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...domain.states import CHANNEL_LABELS, STATUS_LABELS, Channel, Status
from ...domain.workflow import OPERATORS
from ...errors import HotlineError
from ...extensions import hotline
from ...models import Category, Unit
from ...services import dispatch_queue, worklists
from ..staff import CITY_WIDE, current_who, staff_only
from . import bp
from .lists import local, page_number

REASON_LABELS = {"unsure": "系统无把握", "disagreement": "有分歧待判断", "returned": "被退回"}
SORT_LABELS = {"confidence": "置信度低的在前", "waiting": "等待最久的在前",
               "newest": "最新的在前"}  # fmt: skip
FILTER_ARGS = ("channel", "category", "reason", "sort")
# Dispatch within half a working day (DOMAIN.md): past it a waiting ticket is marked.
DISPATCH_WITHIN_HOURS = 4.0


def queue_filters(args: Any) -> worklists.QueueFilters:
    """The filters from the query string; anything unknown is ignored."""
    channel = args.get("channel") if args.get("channel") in set(Channel) else None
    category = (args.get("category") or "")[:40] or None
    reason = args.get("reason") if args.get("reason") in worklists.QUEUE_REASONS else None
    sort = args.get("sort") if args.get("sort") in worklists.QUEUE_SORTS else "confidence"
    return worklists.QueueFilters(channel, category, reason, sort)


def waited(since: datetime, now: datetime) -> str:
    """How long, in the words an operator uses: 25 分钟, 3 小时, 2 天 4 小时."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, days = minutes // 60, minutes // (60 * 24)
    if days == 0:
        return f"{hours} 小时"
    rest = hours - days * 24
    return f"{days} 天 {rest} 小时" if rest else f"{days} 天"


def units_for_picking(session: Any) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.active).order_by(Unit.kind, Unit.code)))


@bp.get("/console/queue")
@staff_only(*CITY_WIDE)
def queue() -> str:
    app = hotline()
    now = app.now()
    filters = queue_filters(request.args)
    with app.db.transaction() as session:
        page = worklists.manual_queue(session, page=page_number(), filters=filters)
        returns = worklists.return_reasons(session, page.tickets)
        compiled = app.routers.active(session)
        directory = dispatch_queue.Directory.load(session, compiled)
        originals = dispatch_queue.likely_originals(session, page.tickets, compiled)
        clock = app.calendars.clock(session)
        rows = []
        for ticket in page.tickets:
            note = returns.get(ticket.id)
            since = note.at if note else ticket.created_at
            suggestion = dispatch_queue.suggest(
                ticket, directory, returned_by=note.unit_code if note else None
            )
            rows.append({
                "ticket": ticket, "returned": note, "suggestion": suggestion,
                "reason": "returned" if note or ticket.status == Status.RETURNED.value
                else ("disagreement" if (ticket.routing or {}).get("label") else "unsure"),
                "waited": waited(since, now), "since": local(since),
                "late": clock.working_hours_between(since, now) >= DISPATCH_WITHIN_HOURS,
                "terms": [term for c in suggestion.candidates for term, _ in c.terms],
                "channel": CHANNEL_LABELS.get(Channel(ticket.channel), ticket.channel),
                "duplicate": _duplicate(originals.get(ticket.id)),
            })  # fmt: skip
        categories = list(
            session.scalars(
                select(Category).where(Category.active).order_by(Category.group_name, Category.code)
            )
        )
        counts = worklists.queue_counts(session)
        return render_template(
            "console/queue.html", page=page, rows=rows, filters=filters,
            units=units_for_picking(session), categories=categories, counts=counts,
            reasons=REASON_LABELS, sorts=SORT_LABELS, channels=CHANNEL_LABELS,
            can_dispatch=current_user.role in OPERATORS,
            back=urlencode({k: v for k, v in request.args.items()
                            if k in (*FILTER_ARGS, "page")}),
        )  # fmt: skip


def _duplicate(match: Any) -> dict[str, str] | None:
    """The likely original as the row shows it: number, public words for its state, day."""
    if match is None:
        return None
    original = match.original
    return {"number": original.number, "why": match.why,
            "status": STATUS_LABELS.get(Status(original.status), original.status),
            "day": local(original.created_at).strftime("%m-%d")}  # fmt: skip


def _back() -> str:
    """Back to the queue as the operator saw it (only our own query arguments)."""
    kept = {k: v for k, v in parse_qsl(request.form.get("back", ""))
            if k in (*FILTER_ARGS, "page")}  # fmt: skip
    return url_for("console.queue", **kept)


def _version(number: str) -> int | None:
    raw = request.form.get(f"version-{number}") or request.form.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@bp.post("/console/queue/dispatch")
@staff_only(*OPERATORS)
def queue_dispatch() -> Any:
    """One click on a suggestion (``accept`` = number:unit), or the ticked tickets to one
    unit (``ticket`` × n with ``lead_unit``). Each ticket is its own version-checked
    dispatch; what could not be dispatched is listed with why, the rest go through."""
    if request.form.get("accept"):
        _accept_suggestion(request.form["accept"])
    else:
        _dispatch_ticked()
    return redirect(_back())


def _accept_suggestion(accept: str) -> None:
    app = hotline()
    number, _, unit = accept[:80].partition(":")
    version = _version(number)
    if version is None:
        flash(f"{number} 未派单：缺少版本号，请刷新后重试", "error")
        return
    try:
        with app.db.transaction() as session:
            directory = dispatch_queue.Directory.load(session, app.routers.active(session))
            done = dispatch_queue.dispatch_suggested(
                session, number, version, expected=unit, directory=directory,
                who=current_who(None), now=app.now(), clock=app.calendars.clock(session),
            )  # fmt: skip
    except HotlineError as exc:
        flash(f"{number} 未派单：{dispatch_queue.reason_of(exc)}", "error")
        return
    helpers = "、".join(done.co_unit_names)
    flash(f"已按建议派单：{number} → {done.lead_unit_name}"
          + (f"（协办：{helpers}）" if helpers else ""), "success")  # fmt: skip


def _dispatch_ticked() -> None:
    app = hotline()
    numbers = list(dict.fromkeys(n[:24] for n in request.form.getlist("ticket") if n))[:200]
    lead = request.form.get("lead_unit", "").strip()[:40]
    if not numbers:
        flash("请先勾选要派单的工单", "error")
        return
    if not lead:
        flash("请选择主办单位", "error")
        return
    items = [(n, v) for n in numbers if (v := _version(n)) is not None]
    missing = [n for n in numbers if _version(n) is None]
    try:
        with app.db.transaction() as session:
            outcome = dispatch_queue.dispatch_many(
                session, items, lead_unit=lead, who=current_who(None), now=app.now(),
                clock=app.calendars.clock(session),
            )  # fmt: skip
            name = session.scalar(select(Unit.name).where(Unit.code == lead))
    except HotlineError as exc:
        flash(f"未派单：{dispatch_queue.reason_of(exc)}", "error")
        return
    if outcome.done:
        flash(f"已派给{name} {len(outcome.done)} 件：{'、'.join(outcome.done)}", "success")
    for number, why in [*outcome.refused, *((n, "缺少版本号，请刷新后重试") for n in missing)]:
        flash(f"{number} 未派单：{why}", "error")
