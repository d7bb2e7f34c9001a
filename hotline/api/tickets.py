"""``/api/v1/tickets``: intake for machine clients and reading for staff."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..domain.states import Channel, Role
from ..errors import ValidationFailed
from ..extensions import hotline
from ..links import absolute, tracking_path
from ..schemas.tickets import (
    ApiTicketSubmissionSchema,
    TicketPageSchema,
    TicketQuerySchema,
    TicketSchema,
)
from ..services.intake import claim_idempotency_key, submit_ticket
from ..services.queries import get_ticket_for, list_tickets, visible_unit_ids
from .auth import authenticated, db_session, principal
from .presenters import ticket_for_staff

blp = Blueprint(
    "tickets",
    __name__,
    url_prefix="/api/v1/tickets",
    description="工单受理与查询（需 Bearer 访问令牌）",
)

IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")
IDEMPOTENCY_DOC = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "同一个键与相同内容重复提交时返回同一张工单，不会重复受理",
}
INTAKE_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY_RE.match(key):
        raise ValidationFailed({"Idempotency-Key": ["幂等键应为 1–255 个可见 ASCII 字符"]})
    return key


def _body_hash() -> str:
    canonical = json.dumps(request.get_json(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# Decorator order matters: the response schema dumps outside the request's transaction, so
# serialising never extends the time intake holds the day's numbering lock; authentication
# still runs before the body is parsed, so strangers get 401 before any 422.


@blp.route("")
class TicketCollection(MethodView):
    @blp.response(200, TicketPageSchema)
    @authenticated()
    @blp.arguments(TicketQuerySchema(), location="query", as_kwargs=True, unknown=RAISE)
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, **filters: Any) -> dict[str, Any]:
        """工单列表：按状态、类别、单位、受理日期筛选，按时间倒序游标分页"""
        app, who, session = hotline(), principal(), db_session()
        tickets, next_cursor = list_tickets(
            session,
            unit_ids=visible_unit_ids(session, who.role, who.unit_id),
            timezone=app.settings.timezone,
            statuses=filters.pop("status"),
            **filters,
        )
        items = [
            ticket_for_staff(t, role=who.role, timezone=app.settings.timezone) for t in tickets
        ]
        return {"items": items, "next_cursor": next_cursor}

    @blp.response(201, TicketSchema)
    @authenticated(*INTAKE_ROLES)
    @blp.arguments(ApiTicketSubmissionSchema())
    @blp.doc(security=[{"bearerAuth": []}], parameters=[IDEMPOTENCY_DOC])
    def post(self, data: dict[str, Any]) -> Any:
        """受理一张工单（调用方系统、坐席工具）"""
        app, who, session = hotline(), principal(), db_session()
        now = app.now()
        headers: dict[str, str] = {}
        claim = None
        if key := _idempotency_key():
            claim = claim_idempotency_key(
                session, user_id=who.user_id, key=key, request_hash=_body_hash(), now=now
            )
        if claim is not None and claim.ticket is not None:
            ticket = claim.ticket
            # The same answer as the first time (as Stripe does); the header tells it apart.
            headers["Idempotent-Replayed"] = "true"
        else:
            ticket = submit_ticket(
                session,
                data,
                now=now,
                policy=app.intake_policy,
                channel=Channel.API,
                actor=who.actor,
                routing=app.routers.active(session),
                sla_clock=app.calendars.clock(session),
            )
            if claim is not None:
                claim.ticket = ticket
                session.flush()
        result = ticket_for_staff(
            ticket,
            role=who.role,
            timezone=app.settings.timezone,
            tracking_url=absolute(tracking_path(ticket.number, ticket.tracking_salt)),
        )
        headers["Location"] = url_for("tickets.TicketItem", number=ticket.number)
        return result, 201, headers


@blp.route("/<string:number>")
class TicketItem(MethodView):
    @blp.response(200, TicketSchema)
    @authenticated()
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, number: str) -> dict[str, Any]:
        """一张工单的详情（承办单位只能看到本单位及下级单位的工单）"""
        app, who, session = hotline(), principal(), db_session()
        unit_ids = visible_unit_ids(session, who.role, who.unit_id)
        ticket = get_ticket_for(session, number, unit_ids)
        return ticket_for_staff(ticket, role=who.role, timezone=app.settings.timezone)
