"""``/api/v1/tickets/<number>/actions/<action>`` and ``/events``: the lifecycle over HTTP."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema

from ..domain.states import Role
from ..domain.workflow import Action
from ..extensions import hotline
from ..schemas.actions import ACTIONS
from ..schemas.tickets import AttachmentSchema, EventSchema, TicketSchema
from ..services.lifecycle import Who, perform
from ..services.queries import get_ticket_for, lock_ticket, visible_unit_ids
from .auth import authenticated, db_session, principal
from .presenters import ticket_for_staff

blp = Blueprint(
    "actions", __name__, url_prefix="/api/v1/tickets",
    description="工单流转：派单、签收、退单、反馈、延期、办结、督办、回访、重办、合并……",
)  # fmt: skip
SECURITY = [{"bearerAuth": []}]


def _who() -> Who:
    who = principal()
    unit_ids = frozenset()
    if who.role is Role.UNIT:
        unit_ids = frozenset(visible_unit_ids(db_session(), who.role, who.unit_id) or ())
    return Who(who.actor, who.role, unit_ids)


def _make_view(action: Action, schema: type[Schema], summary: str) -> type[MethodView]:
    class ActionView(MethodView):
        @blp.response(200, TicketSchema)
        @authenticated()
        @blp.arguments(schema())
        @blp.doc(security=SECURITY, summary=summary)
        def post(self, data: dict[str, Any], number: str) -> dict[str, Any]:
            app, session = hotline(), db_session()
            ticket = lock_ticket(session, number, data.pop("version"))
            if action is Action.CONFIRM:
                data["channel"] = "callback"
            perform(session, ticket, action, data, who=_who(), now=app.now(),
                    clock=app.calendars.clock(session))  # fmt: skip
            return ticket_for_staff(ticket, role=principal().role, timezone=app.settings.timezone)

    ActionView.__name__ = f"{action.value.title().replace('_', '')}Action"
    return ActionView


for _action, _spec in ACTIONS.items():
    blp.route(f"/<string:number>/actions/{_action.value}", endpoint=f"action_{_action.value}")(
        _make_view(_action, _spec.schema, _spec.summary)
    )


@blp.route("/<string:number>/attachments")
class TicketAttachments(MethodView):
    @blp.response(201, AttachmentSchema(many=True))
    @authenticated()
    @blp.doc(
        security=SECURITY,
        requestBody={"content": {"multipart/form-data": {"schema": {
            "type": "object",
            "properties": {"photos": {"type": "array",
                                      "items": {"type": "string", "format": "binary"}}},
        }}}},
    )  # fmt: skip
    def post(self, number: str) -> list[dict[str, Any]]:
        """上传照片（整改证据等）：JPEG/PNG/WebP；办结时在 evidence 中引用后市民可见"""
        from flask import request

        from ..errors import Forbidden, ValidationFailed
        from ..services.attachments import add_photos
        from ..services.lifecycle import relation

        app, session = hotline(), db_session()
        ticket = lock_ticket(session, number, None)
        who = _who()
        if who.role is Role.UNIT and not relation(ticket, who):
            raise Forbidden("只有承办本工单的单位可以上传照片")
        files = [f for f in request.files.getlist("photos") if f and f.filename]
        if not files:
            raise ValidationFailed({"photos": ["请选择照片"]})
        stored: list[str] = []
        try:
            rows = add_photos(session, ticket, files, settings=app.settings, photos=app.photos,
                              now=app.now(), stored=stored)  # fmt: skip
        except BaseException:
            app.photos.delete(stored)  # nothing half-saved
            raise
        return [{"id": a.id, "content_type": a.content_type, "size": a.size,
                 "width": a.width, "height": a.height} for a in rows]  # fmt: skip


@blp.route("/<string:number>/events")
class TicketEvents(MethodView):
    @blp.response(200, EventSchema(many=True))
    @authenticated()
    @blp.doc(security=SECURITY)
    def get(self, number: str) -> list[dict[str, Any]]:
        """工单的全部事件（时间线），按顺序"""
        from sqlalchemy import select

        from ..models import TicketEvent

        app, who, session = hotline(), principal(), db_session()
        ticket = get_ticket_for(session, number, visible_unit_ids(session, who.role, who.unit_id))
        tz = ZoneInfo(app.settings.timezone)
        events = session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.sequence)
        )  # fmt: skip
        return [
            {"sequence": e.sequence, "kind": e.kind, "actor": e.actor_label, "public": e.public,
             "body": e.body, "data": e.data, "created_at": e.created_at.astimezone(tz)}
            for e in events
        ]  # fmt: skip
