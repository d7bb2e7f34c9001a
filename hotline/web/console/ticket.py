"""One ticket: the page, its photos and every action the workflow allows."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.privacy import may_see_phone
from ...domain.states import STATUS_LABELS, Status
from ...domain.workflow import Action, Refused, check
from ...errors import HotlineError
from ...extensions import hotline
from ...models import Attachment, Category, Ticket, TicketEvent, Unit
from ...schemas.actions import ACTIONS
from ...services.attachments import add_photos
from ...services.lifecycle import Who, perform, relation
from ...services.queries import get_ticket_for, lock_ticket
from ..files import private_file
from ..forms import action_form, action_forms, label
from ..staff import current_scope, current_who, staff_only
from . import bp
from .lists import local, matched_terms, urgency


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
        events=[(e, local(e.created_at)) for e in events], photos=photos,
        actions=actions, forms=action_forms(), labels={a: label(a) for a in ACTIONS},
        units=units, categories=categories, errors=errors or {}, failed=failed, message=message,
        form=request.form if failed else {}, terms=matched_terms(ticket),
        local=local, urgency=urgency(ticket, hotline().now()),
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
