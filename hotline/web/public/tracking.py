"""The private tracking page: progress, who has it and until when, photos before and after,
and the resident's rating."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, redirect, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.events import EventKind
from ...domain.privacy import mask_name, mask_phone
from ...domain.promise import resolve_promise
from ...domain.states import (
    PUBLIC_ROLE_LABELS,
    PUBLIC_STATUS_LABELS,
    SATISFACTION_LABELS,
    Channel,
    Role,
    Status,
)
from ...domain.text import normalize_text
from ...domain.tracking import token_matches
from ...domain.workflow import Action, Party
from ...errors import Conflict, Forbidden
from ...extensions import hotline
from ...links import absolute, tracking_path
from ...models import Attachment, Ticket, TicketEvent, User
from ...services.actors import RESIDENT
from ...services.lifecycle import Who, perform
from ...services.queries import lock_ticket
from ..files import private_file
from . import bp, render_error_page

# Internal steps a resident should still understand, told without the internal reasons.
EXPLAINED = (EventKind.RETURNED, EventKind.EXTENSION_DECIDED)
RESOLVED_ANSWERS = {"yes": "已解决", "no": "未解决"}


def _service_name(ticket: Ticket) -> str:
    return "12345 热线" if ticket.channel == Channel.CALL_CENTRE.value else "文明直通车"


def _public_line(session: Session, ticket: Ticket, event: TicketEvent,
                 tz: ZoneInfo) -> dict[str, Any] | None:  # fmt: skip
    at = event.created_at.astimezone(tz)
    if event.kind == EventKind.SUBMITTED:  # the service answers; the text is shown above
        return {"at": at, "who": _service_name(ticket), "body": "您的诉求已受理。"}
    if event.kind == EventKind.RETURNED:
        return {"at": at, "who": "12345 热线",
                "body": "原承办单位反映该问题不属其职责，正在重新确定承办单位。"}  # fmt: skip
    if event.kind == EventKind.EXTENSION_DECIDED:
        data = event.data or {}
        if not data.get("approve") or not data.get("until"):
            return None  # a refused request changes nothing for the resident
        until = datetime.fromisoformat(data["until"]).astimezone(tz)
        body = f"因情况较复杂，经批准，办理期限延长至 {until:%Y-%m-%d %H:%M}。"
        return {"at": at, "who": "督办部门", "body": body}
    return {"at": at, "who": public_actor(session, event), "body": event.body}


def public_actor(session: Session, event: TicketEvent) -> str:
    """Who did it, as a resident may read it: the unit or the office, never a staff name."""
    if event.actor_id is None:
        return event.actor_label  # 市民 or 系统 (or the call centre of an import)
    user = session.get(User, event.actor_id)
    if user is None:
        return "工作人员"
    if user.role == Role.UNIT and user.unit:
        return user.unit.name
    return PUBLIC_ROLE_LABELS.get(user.role, "工作人员")


def _tracked_ticket(session: Session, number: str, token: str) -> Ticket:
    """The ticket if the token fits; anything else is the same bare 404."""
    app = hotline()
    ticket = session.scalar(select(Ticket).where(Ticket.number == number[:24]))
    if ticket is None or not token_matches(
        app.settings.secret_key, ticket.number, ticket.tracking_salt, token
    ):
        abort(404)
    return ticket


def _unit_name(ticket: Ticket) -> str:
    """Who has it, as the resident may read it."""
    status = Status(ticket.status)
    if status in (Status.REPORTED, Status.RETURNED) or ticket.lead_unit is None:
        return "正在确定承办单位"
    return ticket.lead_unit.name


def _photo_groups(ticket: Ticket) -> tuple[list[int], list[int]]:
    """The resident's photos (现场照片) and those a unit published when resolving (整改后)."""
    before: list[int] = []
    after: list[int] = []
    for photo in ticket.attachments:
        if photo.public:
            resident = photo.event is None or photo.event.kind == EventKind.SUBMITTED
            (before if resident else after).append(photo.id)
    return before, after


def _view(session: Session, ticket: Ticket, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    events = session.scalars(
        select(TicketEvent)
        .where(
            TicketEvent.ticket_id == ticket.id,
            TicketEvent.public | TicketEvent.kind.in_([k.value for k in EXPLAINED]),
        )
        .order_by(TicketEvent.sequence)
    ).all()
    before, after = _photo_groups(ticket)
    return {
        "number": ticket.number,
        "status_label": PUBLIC_STATUS_LABELS[Status(ticket.status)],
        "status": ticket.status,
        "category": ticket.category.name if ticket.category else "待确定",
        "description": ticket.description,
        "address": ticket.address,
        "reporter_name": "匿名"
        if ticket.anonymous
        else (mask_name(ticket.reporter_name) or "未填写"),
        "reporter_phone": mask_phone(ticket.reporter_phone) or "未填写",
        "created_at": ticket.created_at.astimezone(tz),
        "duplicate_of": ticket.duplicate_of.number if ticket.duplicate_of else None,
        # Anonymous without a phone: the number and phone lookup cannot find it again.
        "findable": bool(ticket.reporter_phone),
        "promise": resolve_promise(Status(ticket.status), ticket.resolve_by, now=now, tz=tz),
        "unit": _unit_name(ticket),
        "events": [line for e in events if (line := _public_line(session, ticket, e, tz))],
        "photos": before,
        "after_photos": after,
        "can_confirm": ticket.status == Status.RESOLVED.value,
        "version": ticket.version,
    }


def _track_page(number: str, token: str, *, rating: dict[str, Any] | None = None) -> Any:
    """The tracking page; ``rating`` is a refused rating's answers and errors (a 422)."""
    app = hotline()
    tz = ZoneInfo(app.settings.timezone)
    with app.db.transaction() as session:
        ticket = _tracked_ticket(session, number, token)
        view = _view(session, ticket, app.now(), tz)
        salt = ticket.tracking_salt
    page = render_template(
        "public/track.html",
        t=view,
        token=token,
        link=absolute(tracking_path(view["number"], salt)),
        new=request.args.get("new") == "1",
        resolved_answers=RESOLVED_ANSWERS,
        satisfaction_labels=SATISFACTION_LABELS,
        thanks=request.args.get("thanks") == "1",
        rating=rating or {},
    )
    return page, 422 if rating else 200, {"Cache-Control": "private, no-store"}


@bp.get("/track/<number>")
def track(number: str) -> Any:
    return _track_page(number, request.args.get("token", ""))


@bp.post("/track/<number>/confirm")
def confirm(number: str) -> Any:
    """The resident's answer: resolved or not, and how satisfied (回访 by the resident)."""
    app = hotline()
    token = request.args.get("token", "")
    resolved = request.form.get("resolved")
    satisfaction = request.form.get("satisfaction")
    comment = normalize_text(request.form.get("comment", ""))[:500] or None
    if resolved not in RESOLVED_ANSWERS or satisfaction not in SATISFACTION_LABELS:
        errors = {}
        if resolved not in RESOLVED_ANSWERS:
            errors["resolved"] = "请选择问题是否已解决"
        if satisfaction not in SATISFACTION_LABELS:
            errors["satisfaction"] = "请选择您的满意程度"
        rating = {"resolved": resolved, "satisfaction": satisfaction, "comment": comment or "",
                  "errors": errors}  # fmt: skip
        return _track_page(number, token, rating=rating)
    try:
        with app.db.transaction() as session:
            ticket = _tracked_ticket(session, number, token)
            locked = lock_ticket(session, ticket.number, _int(request.form.get("version")))
            perform(
                session, locked, Action.CONFIRM,
                {"resolved": resolved == "yes", "satisfaction": satisfaction,
                 "comment": comment, "channel": "tracking"},
                who=Who(RESIDENT, Party.RESIDENT), now=app.now(),
                clock=app.calendars.clock(session),
            )  # fmt: skip
    except (Conflict, Forbidden):
        return render_error_page(
            409, "评价未提交", "工单状态已变化（可能已评价或已重新办理），请刷新查询页面查看。"
        )
    return redirect(tracking_path(number, ticket.tracking_salt, thanks="1"), code=303)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@bp.get("/track/<number>/photos/<int:photo_id>")
def track_photo(number: str, photo_id: int) -> Any:
    app = hotline()
    with app.db.transaction() as session:
        ticket = _tracked_ticket(session, number, request.args.get("token", ""))
        photo = session.get(Attachment, photo_id)
        if photo is None or photo.ticket_id != ticket.id or not photo.public:
            abort(404)
        path, mimetype = app.photos.path(photo.stored_name), photo.content_type
    return private_file(path, mimetype)
