"""``POST /api/v1/intake/calls``: the call-centre system pushes one work order at a time.

The same checks and the same effect as a row of an imported export; pushing a number again
returns the ticket it already made (200), updating what is still the call centre's to set.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from ..domain.call_records import CallRecord
from ..domain.states import Role
from ..errors import ValidationFailed
from ..extensions import hotline
from ..importers.batch import CALL_CENTRE
from ..importers.mapping import FIELDS
from ..importers.records import check_fields
from ..links import absolute, tracking_path
from ..models import Ticket
from ..schemas.calls import CallSchema
from ..schemas.tickets import TicketSchema
from ..services.actors import Actor
from ..services.imports import DEFAULT_SOURCE, ImportContext, apply_records
from .auth import authenticated, db_session, principal
from .presenters import ticket_for_staff

blp = Blueprint("calls", __name__, url_prefix="/api/v1/intake",
                description="12345 工单推送（逐单）")  # fmt: skip


def call_record(data: dict[str, Any], timezone: str) -> CallRecord:
    """A pushed call, checked as a row of an export is; 422 with each field's problem."""
    values = {f: ("、".join(data["co_units"]) if f == "co_units" else data.get(f) or "")
              for f in FIELDS}  # fmt: skip
    checked = check_fields(values, tz=ZoneInfo(timezone))
    if isinstance(checked, CallRecord):
        return checked
    errors: dict[str, list[str]] = {}
    for field, reason in checked:
        errors.setdefault(field, []).append(reason)
    raise ValidationFailed(errors)


@blp.route("/calls")
class Calls(MethodView):
    @blp.response(201, TicketSchema, description="新建的工单")
    @blp.alt_response(200, schema=TicketSchema, description="该工单编号已推送过：返回已有工单")
    @authenticated(Role.OPERATOR, Role.ADMIN)
    @blp.arguments(CallSchema())
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, data: dict[str, Any]) -> Any:
        """推送一张 12345 工单（按 来源 + 工单编号 幂等）"""
        app, who, session = hotline(), principal(), db_session()
        record = call_record(data, app.settings.timezone)
        for attempt in (1, 2):
            try:
                with session.begin_nested():
                    context = ImportContext.load(
                        session, source=data["source"] or DEFAULT_SOURCE,
                        actor=Actor(who.user_id, CALL_CENTRE),
                        routing=app.routers.active(session),
                        clock=app.calendars.clock(session),
                        prefix=app.settings.ticket_prefix, timezone=app.settings.timezone,
                    )  # fmt: skip
                    outcome = apply_records(session, [(1, record)], context, now=app.now())
                break
            except IntegrityError:
                if attempt == 2:  # a concurrent push of the same number won: read it now
                    raise
        ((_, result, ticket_id),) = outcome.tickets
        ticket = session.get(Ticket, ticket_id)
        body = ticket_for_staff(
            ticket, role=who.role, timezone=app.settings.timezone,
            tracking_url=absolute(tracking_path(ticket.number, ticket.tracking_salt)),
        )  # fmt: skip
        headers = {"Location": url_for("tickets.TicketItem", number=ticket.number),
                   "Import-Outcome": result}  # fmt: skip
        return body, 201 if result == "created" else 200, headers
