"""督办: returns to rule on and extension requests to decide, each with the facts the decision
needs and a form to decide it on the board itself; overdue and escalated tickets; re-checks."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from ...domain.sla import MAX_EXTENSIONS
from ...domain.states import Role
from ...domain.workflow import Action
from ...errors import HotlineError
from ...extensions import hotline
from ...models import Ticket
from ...schemas.actions import ACTIONS
from ...services import worklists
from ...services.lifecycle import perform
from ...services.queries import lock_ticket
from ..forms import action_form, posted
from ..staff import current_scope, current_who, staff_only
from . import bp
from .lists import local, page_number, table_rows

# The decisions a supervisor takes from the board (the ticket page offers them too).
DECISIONS = (Action.ARBITRATE, Action.DECIDE_EXTENSION)


def _board(session: Session, *, failed: tuple[str, str] | None = None,
           errors: dict[str, Any] | None = None, message: str | None = None,
           status: int = 200) -> tuple[str, int]:  # fmt: skip
    app = hotline()
    now = app.now()
    late = worklists.overdue(session, now=now, page=page_number())
    returns_page, returns = worklists.returned(session)
    extensions = worklists.extension_requests(session, now=now,
                                              clock=app.calendars.clock(session))  # fmt: skip
    rechecks = worklists.recheck_due(session, now=now)
    html = render_template(
        "console/supervision.html", late=late, page=late,
        rows=table_rows(late, now, routing=False), returns=returns, returns_page=returns_page,
        extensions=extensions, rechecks=rechecks, local=local, max_extensions=MAX_EXTENSIONS,
        decision_forms={a.value: action_form(a) for a in DECISIONS},
        can_decide=current_user.role is Role.SUPERVISOR, failed=failed, errors=errors or {},
        message=message, form=request.form if failed else {},
    )  # fmt: skip
    return html, status


@bp.get("/console/supervision")
@staff_only(Role.SUPERVISOR, Role.ADMIN)
def supervision() -> Any:
    with hotline().db.transaction() as session:
        return _board(session)


def _done(action: Action, ticket: Ticket, data: dict[str, Any]) -> str:
    """What the supervisor reads back on the board once the decision is recorded."""
    number = ticket.number
    if action is Action.DECIDE_EXTENSION:
        if not data["approve"]:
            return f"{number}：已不批准延期，办结时限不变"
        return f"{number}：已批准延期，办结时限改为 {local(ticket.resolve_by):%Y-%m-%d %H:%M}"
    if data["decision"] == "overrule":
        return f"{number}：已退回原单位办理"
    return f"{number}：退单成立，工单已回到待派单，等待重新派单"


@bp.post("/console/supervision/<number>/<action_name>")
@staff_only(Role.SUPERVISOR)
def decide(number: str, action_name: str) -> Any:
    """One decision from the board; a refusal shows the board again with the reason next to
    that ticket's form, a success comes back to the board."""
    if action_name not in {a.value for a in DECISIONS}:
        abort(404)
    action = Action(action_name)
    app = hotline()
    with app.db.transaction() as session:
        try:
            data = ACTIONS[action].schema().load(posted(action, request.form))
        except ValidationError as exc:
            errors = exc.messages if isinstance(exc.messages, dict) else {}
            return _board(session, failed=(number, action.value), errors=errors, status=422)
        try:
            with session.begin_nested():
                ticket = lock_ticket(session, number, data.pop("version"))
                perform(session, ticket, action, data, who=current_who(current_scope(session)),
                        now=app.now(), clock=app.calendars.clock(session))  # fmt: skip
        except HotlineError as exc:
            return _board(session, failed=(number, action.value), errors=exc.errors or {},
                          message=exc.detail, status=exc.status)  # fmt: skip
        done = _done(action, ticket, data)
    flash(done, "success")
    return redirect(url_for("console.supervision"), 303)
