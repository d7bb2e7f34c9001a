"""The private tracking page: progress, photos, and the resident's rating."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, redirect, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.events import EventKind
from ...domain.privacy import mask_name, mask_phone
from ...domain.states import (
    PUBLIC_ROLE_LABELS,
    PUBLIC_STATUS_LABELS,
    SATISFACTION_LABELS,
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


def _public_line(session: Session, event: TicketEvent, tz: ZoneInfo) -> dict[str, Any] | None:
    at = event.created_at.astimezone(tz)
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


@bp.get("/track/<number>")
def track(number: str) -> Any:
    app = hotline()
    tz = ZoneInfo(app.settings.timezone)
    token = request.args.get("token", "")
    with app.db.transaction() as session:
        ticket = _tracked_ticket(session, number, token)
        events = session.scalars(
            select(TicketEvent)
            .where(
                TicketEvent.ticket_id == ticket.id,
                TicketEvent.public | TicketEvent.kind.in_([k.value for k in EXPLAINED]),
            )
            .order_by(TicketEvent.sequence)
        ).all()
        view = {
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
            "events": [line for e in events if (line := _public_line(session, e, tz))],
            "photos": [a.id for a in ticket.attachments if a.public],
            "can_confirm": ticket.status == Status.RESOLVED.value,
            "version": ticket.version,
        }
    page = render_template(
        "public/track.html",
        t=view,
        token=token,
        link=absolute(tracking_path(view["number"], ticket.tracking_salt)),
        new=request.args.get("new") == "1",
        satisfaction_labels=SATISFACTION_LABELS,
        thanks=request.args.get("thanks") == "1",
    )
    return page, 200, {"Cache-Control": "private, no-store"}


@bp.post("/track/<number>/confirm")
def confirm(number: str) -> Any:
    """The resident's answer: resolved or not, and how satisfied (回访 by the resident)."""
    app = hotline()
    token = request.args.get("token", "")
    resolved = request.form.get("resolved")
    satisfaction = request.form.get("satisfaction")
    if resolved not in ("yes", "no") or satisfaction not in SATISFACTION_LABELS:
        return render_error_page(422, "请完整填写评价", "请选择问题是否解决以及您的满意程度。")
    comment = normalize_text(request.form.get("comment", ""))[:500] or None
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
