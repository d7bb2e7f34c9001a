"""The staff consoles: worklists, the manual-dispatch queue, supervision boards, search,
the ticket page with its actions, the dashboard and the password page — over the same
services and checks as the API. The call intake pages (calls.py) join this blueprint."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.calendar import DAY_RANGE_MESSAGE, EARLIEST_DAY, LATEST_DAY
from ..domain.privacy import may_see_phone
from ..domain.states import STATUS_LABELS, WITH_UNIT, Role, Status
from ..domain.workflow import Action, Refused, check
from ..errors import HotlineError
from ..exports import csv_text
from ..extensions import hotline
from ..models import Attachment, Category, Ticket, TicketEvent, Unit
from ..schemas.actions import ACTIONS
from ..services import dashboard, worklists
from ..services.attachments import add_photos
from ..services.auth import open_session
from ..services.lifecycle import Who, perform, relation
from ..services.login import change_password
from ..services.queries import get_ticket_for, lock_ticket
from .files import private_file
from .forms import action_form, action_forms, label
from .staff import CITY_WIDE, current_scope, current_who, staff_only, staff_user

bp = Blueprint("console", __name__)

def _day_arg(name: str, default: date | None, errors: dict[str, str]) -> date | None:
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


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(ZoneInfo(hotline().settings.timezone)) if value else None


def _urgency(ticket: Ticket, now: datetime) -> str:
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


def _render_list(title: str, page: worklists.Page, *, intro: str = "",
                 show_routing: bool = False, mine: set[int] | None = None,
                 returns: dict[int, str] | None = None) -> str:  # fmt: skip
    rows = _rows(page, hotline().now(), routing=show_routing, mine=mine, returns=returns)
    return render_template("console/list.html", title=title, intro=intro, page=page, rows=rows,
                           show_routing=show_routing)  # fmt: skip


def _rows(page: worklists.Page, now: datetime, *, routing: bool,
          mine: set[int] | None = None,
          returns: dict[int, str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Table rows; ``mine`` (a unit's scope) marks whether it leads or helps on each."""
    return [{"ticket": t, "urgency": _urgency(t, now), "status": STATUS_LABELS[Status(t.status)],
             "resolve_by": _local(t.resolve_by), "created_at": _local(t.created_at),
             "terms": _matched_terms(t) if routing else [],
             "part": None if mine is None else ("主办" if t.lead_unit_id in mine else "协办"),
             "returned": (returns or {}).get(t.id)}
            for t in page.tickets]  # fmt: skip


def _matched_terms(ticket: Ticket) -> list[str]:
    candidates = (ticket.routing or {}).get("candidates") or []
    if not candidates:
        return []
    return [m["term"] for m in candidates[0].get("matches", []) if m.get("weight", 0) > 0]


# ---------------------------------------------------------------- lists


@bp.get("/console")
@staff_only()
def console_home() -> Any:
    home = {Role.OPERATOR: "console.queue", Role.UNIT: "console.worklist",
            Role.SUPERVISOR: "console.supervision",
            Role.ADMIN: "console.dashboard_page"}  # fmt: skip
    return redirect(url_for(home[current_user.role]))


@bp.get("/console/queue")
@staff_only(*CITY_WIDE)
def queue() -> str:
    with hotline().db.transaction() as session:
        page = worklists.manual_queue(session, page=_page_number())
        intro = "系统无把握、类别有分歧或被退回的工单，置信度低的在前。"
        returns = worklists.return_reasons(session, page.tickets)
        return _render_list("待派单队列", page, show_routing=True, intro=intro, returns=returns)


@bp.get("/console/worklist")
@staff_only(Role.UNIT)
def worklist() -> str:
    with hotline().db.transaction() as session:
        mine = current_scope(session) or set()
        page = worklists.unit_worklist(session, mine, page=_page_number())
        intro = "按办结时限排序：红色已超期，黄色时限将至；协办的工单请报告协办情况。"
        return _render_list("我的待办", page, intro=intro, mine=mine)


@bp.get("/console/callbacks")
@staff_only(*CITY_WIDE)
def callbacks() -> str:
    with hotline().db.transaction() as session:
        page = worklists.callbacks_due(session, page=_page_number())
        return _render_list(
            "待回访", page, intro="已办结、等待市民确认的工单：电话回访后登记结果。"
        )


@bp.get("/console/supervision")
@staff_only(Role.SUPERVISOR, Role.ADMIN)
def supervision() -> str:
    app = hotline()
    with app.db.transaction() as session:
        late = worklists.overdue(session, now=app.now(), page=_page_number())
        disputes = worklists.returned(session)
        extensions = worklists.extension_requests(session)
        rechecks = worklists.recheck_due(session, now=app.now())
        return render_template("console/supervision.html", late=late, page=late,
                               rows=_rows(late, app.now(), routing=False),
                               disputes=disputes.tickets, extensions=extensions,
                               rechecks=rechecks)  # fmt: skip


@bp.get("/console/search")
@staff_only()
def search() -> str:
    app = hotline()
    args = request.args
    statuses = [s for s in args.getlist("status") if s in {x.value for x in Status}]
    errors: dict[str, str] = {}
    days = {name: _day_arg(name, None, errors) for name in ("from", "to")}
    with app.db.transaction() as session:
        page = worklists.search(
            session, unit_ids=current_scope(session), viewer_role=current_user.role,
            timezone=app.settings.timezone,
            text=args.get("q", "")[:100], statuses=statuses, day_from=days["from"],
            day_to=days["to"], page=_page_number(),
        )  # fmt: skip
        rows = _rows(page, app.now(), routing=False)
        return render_template("console/search.html", page=page, rows=rows, errors=errors,
                               statuses=statuses, labels=STATUS_LABELS, args=args)  # fmt: skip


# ---------------------------------------------------------------- one ticket


def _allowed_actions(ticket: Ticket, who: Who) -> list[Action]:
    allowed = []
    for action in ACTIONS:
        try:
            check(action, Status(ticket.status), who.role, relation(ticket, who))
        except Refused:
            continue
        allowed.append(action)
    return allowed


def _ticket_page(session: Session, number: str, scope: set[int] | None, *,
                 errors: dict[str, Any] | None = None, failed: str | None = None,
                 message: str | None = None, status: int = 200) -> tuple[str, int]:  # fmt: skip
    ticket = get_ticket_for(session, number, scope)
    who = current_who(scope)
    events = list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                  .order_by(TicketEvent.sequence)))  # fmt: skip
    photos = list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)))
    actions = _allowed_actions(ticket, who)
    units: list[Unit] = []
    categories: list[Category] = []
    if Action.DISPATCH in actions:  # the only form that lists them
        units = list(session.scalars(select(Unit).where(Unit.active)
                                     .order_by(Unit.kind, Unit.code)))  # fmt: skip
        categories = list(session.scalars(select(Category).where(Category.active)
                                          .order_by(Category.code)))  # fmt: skip
    html = render_template(
        "console/ticket.html", ticket=ticket, status_label=STATUS_LABELS[Status(ticket.status)],
        events=[(e, _local(e.created_at)) for e in events], photos=photos,
        actions=actions, forms=action_forms(), labels={a: label(a) for a in ACTIONS},
        units=units, categories=categories, errors=errors or {}, failed=failed, message=message,
        form=request.form if failed else {}, terms=_matched_terms(ticket),
        local=_local, urgency=_urgency(ticket, hotline().now()),
        may_see_phone=may_see_phone(current_user.role, ticket.consent_contact),
    )  # fmt: skip
    return html, status


@bp.get("/console/tickets/<number>")
@staff_only()
def ticket_page(number: str) -> Any:
    with hotline().db.transaction() as session:
        return _ticket_page(session, number, current_scope(session))


@bp.get("/console/tickets/<number>/photos/<int:attachment_id>")
@staff_only()
def staff_photo(number: str, attachment_id: int) -> Any:
    app = hotline()
    with app.db.transaction() as session:
        ticket = get_ticket_for(session, number, current_scope(session))
        photo = session.get(Attachment, attachment_id)
        if photo is None or photo.ticket_id != ticket.id:
            abort(404)
        path, mimetype = app.photos.path(photo.stored_name), photo.content_type
    return private_file(path, mimetype)


def _form_data(action: Action) -> dict[str, Any]:
    """The submitted form as the action's schema expects it (the API's JSON shapes)."""
    data: dict[str, Any] = {"version": request.form.get("version", "")}
    if data["version"].isdigit():
        data["version"] = int(data["version"])
    for name, _label, kind, required, _choices in action_form(action):
        if kind == "file":
            continue
        if kind == "units":
            data[name] = [v for v in request.form.getlist(name) if v]
            continue
        value = request.form.get(name, "").strip()
        if value or required:  # an empty required field: the schema says it is required
            data[name] = value
    return data


@bp.post("/console/tickets/<number>/<action_name>")
@staff_only()
def act(number: str, action_name: str) -> Any:
    try:
        action = Action(action_name)
    except ValueError:
        abort(404)
    if action not in ACTIONS:
        abort(404)
    app = hotline()
    schema = ACTIONS[action].schema
    stored: list[str] = []
    with app.db.transaction() as session:
        scope = current_scope(session)
        get_ticket_for(session, number, scope)  # others' tickets stay invisible
        try:
            data = schema().load(_form_data(action))
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {}
            return _ticket_page(session, number, scope, errors=messages, failed=action.value,
                                status=422)  # fmt: skip
        try:
            with session.begin_nested():
                ticket = lock_ticket(session, number, data.pop("version"))
                if action is Action.CONFIRM:
                    data["channel"] = "callback"
                if action is Action.RESOLVE:
                    files = [f for f in request.files.getlist("photos") if f and f.filename]
                    evidence = add_photos(
                        session,
                        ticket,
                        files,
                        settings=app.settings,
                        photos=app.photos,
                        now=app.now(),
                        stored=stored,
                    )
                    data["evidence"] = [row.id for row in evidence]
                perform(session, ticket, action, data, who=current_who(scope), now=app.now(),
                        clock=app.calendars.clock(session))  # fmt: skip
        except HotlineError as exc:
            app.photos.delete(stored)  # nothing half-saved
            return _ticket_page(session, number, scope, errors=exc.errors or {},
                                failed=action.value, message=exc.detail,
                                status=exc.status)  # fmt: skip
    flash(f"{label(action)}：已完成", "success")
    return redirect(url_for("console.ticket_page", number=number))


# ---------------------------------------------------------------- dashboard


def _dashboard_filters() -> tuple[dashboard.Filters, dict[str, str]]:
    app = hotline()
    today = app.now().astimezone(ZoneInfo(app.settings.timezone)).date()
    errors: dict[str, str] = {}
    days = {"from": _day_arg("from", today - timedelta(days=29), errors),
            "to": _day_arg("to", today, errors)}  # fmt: skip
    if days["from"] > days["to"]:
        errors["to"] = "结束日期不能早于开始日期"
        days["from"], days["to"] = days["to"], days["from"]
    if (days["to"] - days["from"]).days > 366:
        errors["from"] = "一次最多查看一年"
        days["from"] = days["to"] - timedelta(days=366)
    district = request.args.get("district") or None
    return dashboard.Filters(days["from"], days["to"], district), errors


@bp.get("/console/dashboard")
@staff_only(Role.SUPERVISOR, Role.ADMIN)
def dashboard_page() -> str:
    app = hotline()
    filters, errors = _dashboard_filters()
    tz = app.settings.timezone
    with app.db.transaction() as session:
        filters = dashboard.resolve(session, filters)
        ranking = dashboard.ranking(session, filters, now=app.now(), timezone=tz)
        weekly = dashboard.weekly(session, filters, timezone=tz)
        hotspots = dashboard.hotspots(session, filters, timezone=tz)
        districts = [(d.code, d.name) for d in dashboard.districts(session)]
    chart_data = {
        "ranking": [{"name": r["name"], "response": r["response_rate"],
                     "resolution": r["resolution_rate"], "satisfaction": r["satisfaction_rate"]}
                    for r in ranking[:15]],
        "weeks": weekly["weeks"], "volume": weekly["volume"], "trend": weekly["trend"],
    }  # fmt: skip
    return render_template(
        "console/dashboard.html", filters=filters, errors=errors, ranking=ranking,
        weekly=weekly, hotspots=[{**h, "last_at": _local(h["last_at"])} for h in hotspots],
        districts=districts, chart_data=chart_data, args=request.args,
    )  # fmt: skip


@bp.get("/console/dashboard.csv")
@staff_only(Role.SUPERVISOR, Role.ADMIN)
def dashboard_csv() -> Any:
    app = hotline()
    filters, _ = _dashboard_filters()
    with app.db.transaction() as session:
        filters = dashboard.resolve(session, filters)
        ranking = dashboard.ranking(session, filters, now=app.now(),
                                    timezone=app.settings.timezone)  # fmt: skip

    def pct(value: float | None) -> str:
        return "" if value is None else f"{value * 100:.1f}%"

    header = ["排名", "单位", "工单数", "响应率", "解决率", "满意率", "综合", "按时办结率",
              "退单率", "重办率", "超期"]  # fmt: skip
    lines = ([r["rank"], r["name"], r["tickets"], pct(r["response_rate"]),
              pct(r["resolution_rate"]), pct(r["satisfaction_rate"]), pct(r["score"]),
              pct(r["on_time_rate"]), pct(r["return_rate"]), pct(r["reopen_rate"]), r["overdue"]]
             for r in ranking)  # fmt: skip
    body = csv_text([header, *lines])
    name = f"三率排名-{filters.day_from}-{filters.day_to}.csv"
    from urllib.parse import quote

    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})  # fmt: skip


# ---------------------------------------------------------------- own account


@bp.route("/console/password", methods=["GET", "POST"])
@staff_only()
def password() -> Any:
    """修改密码: the current password, then the new one twice. Other sessions end."""
    if request.method == "GET":
        return render_template("console/password.html", errors={}, message=None)
    app = hotline()
    form = request.form
    with app.db.transaction() as session:
        try:
            user = change_password(
                session, current_user.id, current=form.get("current_password", ""),
                new=form.get("new_password", ""), confirm=form.get("confirm_password", ""),
                address=request.remote_addr, now=app.now(),
            )  # fmt: skip
        except HotlineError as exc:
            # Returned, not raised: like sign-in, a wrong current password stays counted.
            return render_template("console/password.html", errors=exc.errors or {},
                                   message=exc.detail), exc.status  # fmt: skip
        staff = staff_user(user, open_session(session, user, now=app.now()))
    login_user(staff)  # this browser stays signed in, on a fresh session
    flash("密码已修改，其他设备上的登录已全部退出", "success")
    return redirect(url_for("console.console_home"), code=303)
