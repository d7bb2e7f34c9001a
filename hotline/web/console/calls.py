"""接听登记: an operator takes a call — the caller's earlier tickets by phone, likely
duplicates nearby, then register the complaint (with its urgency, kind and the time of the
call), or register it merged into one of those.

The lookups need no script: "查来电记录与相似工单" posts the form with step=check and the page
comes back with them. call.js does the same post while the operator types and swaps in the
two lookup sections of the answer: one endpoint, one template, with or without JavaScript."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from ...domain.privacy import may_see_phone
from ...domain.states import PRIORITY_LABELS, STATUS_LABELS, Channel, Priority, Role, Status
from ...domain.text import normalize_phone
from ...domain.workflow import Action
from ...errors import HotlineError
from ...extensions import hotline
from ...models import Category
from ...schemas.fields import Text
from ...schemas.tickets import CallTicketSchema
from ...services.intake import submit_ticket
from ...services.lifecycle import Who, perform
from ...services.lookups import earlier_by_phone, likely_duplicates
from ...services.queries import lock_ticket
from ..staff import current_actor, staff_only
from . import bp

FIELDS = ("category", "description", "address", "reporter_name", "reporter_phone",
          "reported_at", "priority")  # fmt: skip
# A call is registered while or soon after it happens: a time ahead of the clock is a typo.
CLOCK_SLACK = timedelta(minutes=5)
LOOKUP_TEXT = 500  # characters of the complaint the duplicate lookup reads
# An operator may paste a long order (real ones run to 7,000+ characters): as much as an
# import or a pushed call takes, not the resident form's 2,000.
DESCRIPTION_MAX = 20_000


class CallFormSchema(CallTicketSchema):
    description = Text(required=True, min_len=5, max_len=DESCRIPTION_MAX, multiline=True)


def _now_local() -> datetime:
    app = hotline()
    return app.now().astimezone(ZoneInfo(app.settings.timezone))


def _render(values: dict[str, str], errors: dict[str, list[str]], *, status: int = 200,
            message: str | None = None) -> tuple[str, int]:  # fmt: skip
    app = hotline()
    with app.db.transaction() as session:
        active = select(Category).where(Category.active)
        categories = list(session.scalars(active.order_by(Category.group_name, Category.code)))
        earlier, duplicates = [], []
        history_shown = may_see_phone(current_user.role, consent_contact=False)
        phone = values.get("reporter_phone", "").strip()
        if phone:
            try:
                number = normalize_phone(phone)
            except ValueError:
                errors.setdefault("reporter_phone", ["请填写有效的手机号码或带区号的固定电话"])
            else:
                # The caller's history lists tickets whatever the resident consented to, so
                # only roles that may see every phone get it (not admins).
                if history_shown:
                    earlier = earlier_by_phone(session, number)
        if values.get("description", "").strip():
            duplicates = likely_duplicates(
                session, text=values["description"][:LOOKUP_TEXT], address=values.get("address"),
                category=values.get("category") or None,
                routing=app.routers.active(session), now=app.now(),
            )  # fmt: skip
        html = render_template(
            "console/call.html", values=values, errors=errors, message=message,
            categories=categories, earlier=earlier, duplicates=duplicates,
            history_shown=history_shown, priorities=PRIORITY_LABELS,
            latest_call=_now_local().strftime("%Y-%m-%dT%H:%M"),
            labels=STATUS_LABELS, Status=Status,
        )  # fmt: skip
    return html, status


@bp.get("/console/call")
@staff_only(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
def call_form() -> Any:
    values = {name: request.args.get(name, "") for name in FIELDS}
    values["reported_at"] = values["reported_at"] or _now_local().strftime("%Y-%m-%dT%H:%M")
    values["priority"] = values["priority"] or Priority.NORMAL.value
    return _render(values, {})


def _call_time(data: dict[str, Any]) -> dict[str, list[str]]:
    """The form's own check of the time of the call (the schema cannot know the clock)."""
    at = data.get("reported_at")
    if at is not None and at > hotline().now() + CLOCK_SLACK:
        return {"reported_at": ["来电时间不能晚于现在"]}
    return {}


@bp.post("/console/call")
@staff_only(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
def call_submit() -> Any:
    values = {name: request.form.get(name, "") for name in FIELDS}
    step = request.form.get("step", "check")
    if step == "check":
        return _render(values, {})
    payload: dict[str, Any] = {k: v for k, v in values.items() if v.strip()}
    payload["consent_contact"] = "consent_contact" in request.form
    try:
        data = CallFormSchema().load(payload)
    except ValidationError as exc:
        errors = {k: v for k, v in exc.normalized_messages().items() if isinstance(v, list)}
        return _render(values, errors, status=422, message="请根据提示修改后重新登记。")
    late = _call_time(data)
    if late:
        return _render(values, late, status=422, message="请根据提示修改后重新登记。")
    into = step.removeprefix("merge:") if step.startswith("merge:") else None
    app = hotline()
    actor = current_actor()
    try:
        with app.db.transaction() as session:
            clock = app.calendars.clock(session)
            ticket = submit_ticket(
                session, data, now=app.now(), policy=app.intake_policy,
                channel=Channel.CALL_CENTRE, actor=actor,
                routing=None if into else app.routers.active(session),
                sla_clock=clock,
            )  # fmt: skip
            number = ticket.number
            if into:
                locked = lock_ticket(session, number, None)
                perform(session, locked, Action.MERGE, {"into": into},
                        who=Who(actor, current_user.role), now=app.now(), clock=clock)  # fmt: skip
    except HotlineError as exc:
        return _render(values, exc.errors or {}, status=exc.status, message=exc.detail)
    if into:
        flash(f"已登记工单 {number}，并与工单 {into} 合并办理", "success")
        return redirect(url_for("console.ticket_page", number=into))
    flash(f"已登记工单 {number}", "success")
    return redirect(url_for("console.ticket_page", number=number))
