"""``POST /api/v1/intake/calls``: the call-centre system pushes one work order at a time.

The same checks and the same effect as a row of an imported export; pushing a number again
returns the ticket it already made (200), updating what is still the call centre's to set.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy.exc import IntegrityError

from ..domain.states import Role
from ..errors import ValidationFailed
from ..extensions import hotline
from ..importers.batch import CALL_CENTRE
from ..importers.mapping import FIELDS, Binding, Mapping
from ..importers.records import CallRecord, RowReader
from ..links import absolute, tracking_path
from ..models import Ticket
from ..schemas import StrictSchema, TicketSchema
from ..services.actors import Actor
from ..services.imports import DEFAULT_SOURCE, ImportContext, apply_records
from .auth import authenticated, db_session, principal
from .presenters import ticket_for_staff

blp = Blueprint("calls", __name__, url_prefix="/api/v1/intake",
                description="12345 工单推送（逐单）")  # fmt: skip

_TEXT = {"validate": validate.Length(max=2000), "load_default": None, "allow_none": True}


class CallSchema(StrictSchema):
    source = fields.String(load_default=DEFAULT_SOURCE, validate=validate.Length(min=1, max=40),
                           metadata={"description": "来源热线系统，默认 12345"})  # fmt: skip
    external_ref = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                 metadata={"description": "工单编号（幂等键）"})  # fmt: skip
    description = fields.String(required=True, validate=validate.Length(max=4000),
                                metadata={"description": "诉求内容"})  # fmt: skip
    title = fields.String(**_TEXT, metadata={"description": "工单标题"})
    category = fields.String(**_TEXT, metadata={"description": "诉求类型"})
    reported_at = fields.String(**_TEXT, metadata={"description": "来电时间，如 2026-11-21 09:30"})
    phone = fields.String(**_TEXT, metadata={"description": "来电号码"})
    name = fields.String(**_TEXT, metadata={"description": "求助人员"})
    address = fields.String(**_TEXT, metadata={"description": "事件发生地"})
    street = fields.String(**_TEXT, metadata={"description": "街道"})
    community = fields.String(**_TEXT, metadata={"description": "社区"})
    lead_unit = fields.String(**_TEXT, metadata={"description": "承办单位（名称、简称或代码）"})
    co_units = fields.List(fields.String(validate=validate.Length(max=100)), load_default=list,
                           validate=validate.Length(max=10),
                           metadata={"description": "协办单位"})  # fmt: skip
    urgency = fields.String(**_TEXT, metadata={"description": "紧急程度：一般、紧急、特急"})
    deadline = fields.String(**_TEXT, metadata={"description": "办理时限"})


def _reader() -> RowReader:
    names = tuple(FIELDS)
    binding = Binding(Mapping("push", {f: (f,) for f in names}, exact=True), names,
                      {f: (i,) for i, f in enumerate(names)}, (), (), ())  # fmt: skip
    return RowReader(binding, hotline().settings.timezone)


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
        cells = [("、".join(data["co_units"]) if f == "co_units" else data.get(f) or "")
                 for f in FIELDS]  # fmt: skip
        record = _reader().read(cells)
        if not isinstance(record, CallRecord):
            errors: dict[str, list[str]] = {}
            for problem in record:
                errors.setdefault(problem.column or "body", []).append(problem.reason)
            raise ValidationFailed(errors)
        for attempt in (1, 2):
            try:
                with session.begin_nested():
                    context = ImportContext.load(
                        session, source=data["source"],
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
