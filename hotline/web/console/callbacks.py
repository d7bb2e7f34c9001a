"""待回访: resolved tickets waiting for the resident's answer, each with the number to call,
the unit's answer and the calls so far. The operator records the answer (nothing preset) or
a call that reached nobody (未接通 / 拒绝回访: the ticket stays due; after the configured
number of such calls the sweep closes it as unrated) without leaving the list."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from ...domain.privacy import mask_name, mask_phone, may_see_phone
from ...domain.states import Status
from ...domain.workflow import CALLBACK_OUTCOMES, Action, Refused, check
from ...errors import HotlineError
from ...extensions import hotline
from ...schemas.actions import ACTIONS
from ...services import worklists
from ...services.lifecycle import perform
from ...services.queries import lock_ticket
from ..forms import action_form, label, posted
from ..staff import CITY_WIDE, current_who, staff_only
from . import bp
from .lists import local, page_number

# What may be recorded from the list: the answer, or a call that reached nobody.
RECORDED = (Action.CONFIRM, Action.CALLBACK_ATTEMPT)


def _may_record() -> bool:
    try:
        check(Action.CONFIRM, Status.RESOLVED, current_user.role)
    except Refused:
        return False
    return True


def _render(page_no: int, *, errors: dict[str, Any] | None = None, failed: str | None = None,
            status: int = 200) -> tuple[str, int]:  # fmt: skip
    """The list; after a refused answer ``failed`` is "number:action" and its form is shown
    again, open, with what was chosen and why it was refused."""
    app = hotline()
    limit = app.settings.callback_attempts
    with app.db.transaction() as session:
        page = worklists.callbacks_due(session, page=page_no, max_attempts=limit)
        notes = worklists.callback_notes(session, page.tickets)
        phones = may_see_phone(current_user.role, consent_contact=False)
        rows = [{"ticket": t, "note": notes.get(t.id), "resolved_at": local(t.resolved_at),
                 "last_at": local(notes[t.id].last_attempt_at) if t.id in notes else None,
                 "phone": t.reporter_phone if phones else mask_phone(t.reporter_phone),
                 "name": t.reporter_name if phones else mask_name(t.reporter_name)}
                for t in page.tickets]  # fmt: skip
        html = render_template(
            "console/callbacks.html", page=page, rows=rows, limit=limit,
            unrated_days=app.settings.unrated_close_days, outcomes=CALLBACK_OUTCOMES,
            confirm_form=action_form(Action.CONFIRM), may_record=_may_record(),
            errors=errors or {}, failed=failed, form=request.form if failed else {},
        )  # fmt: skip
    return html, status


@bp.get("/console/callbacks")
@staff_only(*CITY_WIDE)
def callbacks() -> Any:
    return _render(page_number())


@bp.post("/console/callbacks/<number>/<action_name>")
@staff_only(*CITY_WIDE)
def callback_record(number: str, action_name: str) -> Any:
    """回访登记 or 回访未成功 for one ticket of the list, then back to the same page."""
    try:
        action = Action(action_name)
    except ValueError:
        abort(404)
    if action not in RECORDED:
        abort(404)
    page_no = page_number_of(request.form.get("page", "1"))
    data = posted(action, request.form)
    app = hotline()
    try:
        loaded = ACTIONS[action].schema().load(data)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        return _render(page_no, errors=messages, failed=f"{number}:{action.value}", status=422)
    try:
        with app.db.transaction() as session:
            ticket = lock_ticket(session, number, loaded.pop("version"))
            if action is Action.CONFIRM:
                loaded["channel"] = "callback"
            perform(session, ticket, action, loaded, who=current_who(None), now=app.now(),
                    clock=app.calendars.clock(session))  # fmt: skip
            attempts = ticket.callback_attempts
    except HotlineError as exc:
        flash(f"{number}：{exc.detail}", "error")
        return redirect(url_for("console.callbacks", page=page_no))
    if action is Action.CONFIRM:
        flash(f"{label(action)}：{number} 已记录市民答复", "success")
    elif attempts >= app.settings.callback_attempts > 0:
        flash(f"{number}：第 {attempts} 次回访未成功，已达 {app.settings.callback_attempts} 次，"
              "系统将按未评价办结", "success")  # fmt: skip
    else:
        flash(f"{number}：第 {attempts} 次回访未成功（{CALLBACK_OUTCOMES[loaded['outcome']]}），"
              "仍在待回访中", "success")  # fmt: skip
    return redirect(url_for("console.callbacks", page=page_no))


def page_number_of(raw: str) -> int:
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
