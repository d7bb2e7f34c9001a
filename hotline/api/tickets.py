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
from sqlalchemy.exc import IntegrityError

from ..domain.states import Channel, Role
from ..domain.tracking import tracking_token
from ..errors import ValidationFailed
from ..extensions import hotline
from ..models import Ticket, User
from ..presenters import ticket_for_staff
from ..schemas import ApiTicketSubmissionSchema, TicketPageSchema, TicketQuerySchema, TicketSchema
from ..services.intake import find_idempotent, remember_idempotency, submit_ticket
from ..services.queries import get_ticket_for, list_tickets, visible_unit_ids
from .auth import principal, require_auth

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


def tracking_url(ticket: Ticket) -> str:
    app = hotline()
    token = tracking_token(app.settings.secret_key, ticket.number, ticket.tracking_salt)
    path = url_for("public.track", number=ticket.number, token=token)
    base = app.settings.public_base_url or request.host_url.rstrip("/")
    return base + path


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


@blp.route("")
class TicketCollection(MethodView):
    @require_auth()
    @blp.arguments(TicketQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
    @blp.response(200, TicketPageSchema)
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, **filters: Any) -> dict[str, Any]:
        """工单列表：按状态、类别、单位、受理日期筛选，按时间倒序游标分页"""
        app, who = hotline(), principal()
        with app.db.transaction() as session:
            unit_ids = visible_unit_ids(session, who.role, who.unit_id)
            tickets, next_cursor = list_tickets(
                session,
                unit_ids=unit_ids,
                timezone=app.settings.timezone,
                statuses=filters.pop("status"),
                **filters,
            )
            items = [
                ticket_for_staff(t, role=who.role, timezone=app.settings.timezone) for t in tickets
            ]
        return {"items": items, "next_cursor": next_cursor}

    @require_auth(*INTAKE_ROLES)
    @blp.arguments(ApiTicketSubmissionSchema)
    @blp.response(201, TicketSchema)
    @blp.doc(security=[{"bearerAuth": []}], parameters=[IDEMPOTENCY_DOC])
    def post(self, data: dict[str, Any]) -> Any:
        """受理一张工单（调用方系统、坐席工具）"""
        app, who = hotline(), principal()
        key = _idempotency_key()
        body_hash = _body_hash() if key else ""
        try:
            with app.db.transaction() as session:
                user = session.get(User, who.user_id)
                if key and (
                    earlier := find_idempotent(session, user=user, key=key, request_hash=body_hash)
                ):
                    return self._replay(earlier, who.role)
                now = app.now()
                ticket = submit_ticket(
                    session,
                    data,
                    now=now,
                    policy=app.intake_policy,
                    channel=Channel.API,
                    actor=user,
                )
                if key:
                    remember_idempotency(
                        session, user=user, key=key, request_hash=body_hash, ticket=ticket, now=now
                    )
                result = ticket_for_staff(
                    ticket,
                    role=who.role,
                    timezone=app.settings.timezone,
                    tracking_url=tracking_url(ticket),
                )
        except IntegrityError:
            # A concurrent request with the same key committed first: answer with its ticket.
            if not key:
                raise
            with app.db.transaction() as session:
                user = session.get(User, who.user_id)
                earlier = find_idempotent(session, user=user, key=key, request_hash=body_hash)
                if earlier is None:
                    raise
                return self._replay(earlier, who.role)
        return result, 201, {"Location": url_for("tickets.TicketItem", number=result["number"])}

    @staticmethod
    def _replay(ticket: Ticket, role: Role) -> Any:
        app = hotline()
        result = ticket_for_staff(
            ticket, role=role, timezone=app.settings.timezone, tracking_url=tracking_url(ticket)
        )
        # Same answer as the first time, as Stripe and the IETF draft do; the header tells.
        return result, 201, {"Idempotent-Replayed": "true"}


@blp.route("/<string:number>")
class TicketItem(MethodView):
    @require_auth()
    @blp.response(200, TicketSchema)
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, number: str) -> dict[str, Any]:
        """一张工单的详情（承办单位只能看到本单位及下级单位的工单）"""
        app, who = hotline(), principal()
        with app.db.transaction() as session:
            unit_ids = visible_unit_ids(session, who.role, who.unit_id)
            ticket = get_ticket_for(session, number, unit_ids)
            return ticket_for_staff(ticket, role=who.role, timezone=app.settings.timezone)
