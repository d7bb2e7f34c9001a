"""One ticket: the page (what to know first, the next step, the rest of the actions), its
photos, its printable sheet, and every action the workflow allows now."""

from __future__ import annotations

from typing import Any

import segno
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.deadlines import milestones
from ...domain.open311 import describe_answers
from ...domain.privacy import may_see_phone
from ...domain.states import STATUS_LABELS, SUPERVISION_LABELS, Role, Status
from ...domain.workflow import CO, LEAD, Action
from ...errors import HotlineError
from ...extensions import hotline
from ...links import absolute
from ...models import Attachment, Category, Unit
from ...schemas.actions import ACTIONS
from ...services import dispatch_queue, ticket_facts
from ...services.evidence import keep_evidence
from ...services.lifecycle import perform, relation
from ...services.queries import get_ticket_for, lock_ticket
from ..files import private_file
from ..forms import action_forms, label, posted
from ..staff import current_scope, current_who, staff_only
from . import bp
from .lists import escalation, local, matched_terms, next_countdown, urgency

# The printed sheet keeps to one A4 page: the latest events, the text cut at this length.
PRINT_EVENTS = 10
PRINT_TEXT = 400


def _ticket_page(session: Session, number: str, scope: set[int] | None, *,
                 errors: dict[str, Any] | None = None, failed: str | None = None,
                 message: str | None = None, kept: int = 0,
                 status: int = 200) -> tuple[str, int]:  # fmt: skip
    """The page; after a refusal ``failed`` names the action whose form is shown again with
    what was typed, ``message`` says why, ``kept`` counts the photos stored anyway."""
    app = hotline()
    now = app.now()
    ticket = get_ticket_for(session, number, scope)
    who = current_who(scope)
    events = ticket_facts.events_of(session, ticket)
    known = ticket_facts.facts(session, ticket, events)
    offers = ticket_facts.offers(session, ticket, who, now, ACTIONS)
    clock = app.calendars.clock(session)
    time_limit = ticket.category.time_limit if ticket.category else None
    stands = relation(ticket, who)
    part = "主办" if LEAD in stands else ("协办" if CO in stands else None)
    units: list[Unit] = []
    categories: list[Category] = []
    suggestion = None
    if Action.DISPATCH in offers.allowed:  # the only form that lists them
        units = list(session.scalars(select(Unit).where(Unit.active)
                                     .order_by(Unit.kind, Unit.code)))  # fmt: skip
        categories = list(
            session.scalars(
                select(Category).where(Category.active).order_by(Category.group_name, Category.code)
            )
        )
        # Routing's suggestion, preselected in the form (never the unit that returned it).
        directory = dispatch_queue.Directory.load(session, app.routers.active(session))
        returned_by = dispatch_queue.returned_by(session, [ticket]).get(ticket.id)
        suggestion = dispatch_queue.suggest(ticket, directory, returned_by=returned_by)
    html = render_template(
        "console/ticket.html", ticket=ticket, status_label=STATUS_LABELS[Status(ticket.status)],
        events=[(e, local(e.created_at)) for e in events], facts=known, offers=offers,
        forms=action_forms(), labels={a: label(a) for a in ACTIONS},
        units=units, categories=categories, suggestion=suggestion,
        errors=errors or {}, failed=failed, message=message,
        kept=kept, form=request.form if failed else {}, terms=matched_terms(ticket), part=part,
        local=local, urgency=urgency(ticket, now), escalation=escalation(ticket),
        countdown=next_countdown(ticket, now, clock),
        milestones=milestones(ticket, time_limit, now, clock),
        return_by=local(ticket.return_by) if ticket.status == Status.DISPATCHED else None,
        return_open=bool(ticket.return_by and now <= ticket.return_by),
        may_see_phone=may_see_phone(current_user.role, ticket.consent_contact),
        answers=describe_answers(ticket.category.attributes if ticket.category else [],
                                 ticket.attributes or {}),
    )  # fmt: skip
    return html, status


@bp.get("/console/tickets/<number>")
@staff_only()
def ticket_page(number: str) -> Any:
    with hotline().db.transaction() as session:
        return _ticket_page(session, number, current_scope(session))


@bp.get("/console/tickets/<number>/print")
@staff_only()
def ticket_print(number: str) -> Any:
    """工单打印: one A4 sheet for field work, with a QR code of the ticket page."""
    app = hotline()
    with app.db.transaction() as session:
        ticket = get_ticket_for(session, number, current_scope(session))
        events = ticket_facts.events_of(session, ticket)
        clock = app.calendars.clock(session)
        time_limit = ticket.category.time_limit if ticket.category else None
        link = absolute(url_for("console.ticket_page", number=ticket.number))
        # segno writes the SVG from the link alone (no text of ours inside): safe to inline.
        svg = segno.make(link, error="m").svg_inline(border=2, omitsize=True, svgclass="qr",
                                                     title="工单页面二维码")  # fmt: skip
        qr = Markup(svg)  # noqa: S704
        shown = events[-PRINT_EVENTS:]
        return render_template(
            "console/ticket_print.html", ticket=ticket, link=link, qr=qr,
            status_label=STATUS_LABELS[Status(ticket.status)],
            level=SUPERVISION_LABELS.get(ticket.supervision_level, ""),
            text=ticket.description if len(ticket.description) <= PRINT_TEXT
            else ticket.description[:PRINT_TEXT] + "……",
            events=[(e, local(e.created_at)) for e in shown], earlier=len(events) - len(shown),
            milestones=milestones(ticket, time_limit, app.now(), clock),
            printed_at=local(app.now()), local=local,
        )  # fmt: skip


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


def _chosen_evidence() -> list[int]:
    """Photos kept from an earlier try, ticked again in the resolve form."""
    return [int(v) for v in request.form.getlist("evidence") if v.isdigit() and len(v) < 10]


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
    now = app.now()
    stored: list[str] = []
    kept: list[Attachment] = []
    with app.db.transaction() as session:
        scope = current_scope(session)
        ticket = get_ticket_for(session, number, scope)  # others' tickets stay invisible
        who = current_who(scope)

        def refused(exc: HotlineError | None = None, **page: Any) -> tuple[str, int]:
            if exc is not None:
                page |= {"errors": exc.errors or {}, "message": exc.detail, "status": exc.status}
            return _ticket_page(session, number, scope, failed=action.value, kept=len(kept),
                                **page)  # fmt: skip

        files = [f for f in request.files.getlist("photos") if f and f.filename]
        if action is Action.RESOLVE and files:
            # Stored first, in a savepoint of their own: whatever refuses the resolution
            # below, the photos taken in the street stay with the ticket.
            try:
                kept = keep_evidence(session, ticket, files, who=who, settings=app.settings,
                                     photos=app.photos, now=now, stored=stored)  # fmt: skip
            except HotlineError as exc:
                app.photos.delete(stored)  # a refused photo: nothing half-saved
                return refused(exc)
        try:
            data = ACTIONS[action].schema().load(posted(action, request.form))
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {}
            return refused(errors=messages, status=422)
        if action is Action.RESOLVE:
            data["evidence"] = [*_chosen_evidence(), *(row.id for row in kept)]
        if action is Action.CONFIRM:
            data["channel"] = "callback"
        try:
            with session.begin_nested():
                locked = lock_ticket(session, number, data.pop("version"))
                perform(session, locked, action, data, who=who, now=now,
                        clock=app.calendars.clock(session))  # fmt: skip
        except HotlineError as exc:
            return refused(exc)
        gone = who.role is Role.UNIT and not relation(locked, who)
    if gone:  # returned (退单): no longer this unit's to see
        flash(f"工单 {number} 已退单，已移出您的待办，将由热线重新派单。", "success")
        return redirect(url_for("console.worklist"))
    flash(f"{label(action)}：已完成", "success")
    return redirect(url_for("console.ticket_page", number=number))
