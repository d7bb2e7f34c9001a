"""POST requests: a report from any Open311 client, through the same intake as every channel.

The body is a form (``application/x-www-form-urlencoded``; one without a charset is read
as UTF-8, as Werkzeug reads every form). ``api_key`` is one of our API tokens, of a role
that may file tickets through ``/api/v1/tickets``. A realtime service answers 201 with our
ticket number as ``service_request_id``; a batch service answers 201 with a ``token`` that
is made a ticket in the background (``background.open311_tokens``). Clients treat any 2xx
with the id (or token) as success.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from flask import Response, after_this_request, current_app, request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from ..background.open311_tokens import hand_on
from ..domain.states import Role
from ..extensions import hotline
from ..services.actors import Actor
from ..services.auth import authenticate_token
from ..services.open311_intake import (
    Intake,
    check_submission,
    create_token,
    file_ticket,
    token_id,
)
from . import bp
from .formats import FORMATS, Open311Error, respond
from .views import check_jurisdiction

# The roles POST /api/v1/tickets lets file tickets.
INTAKE_ROLES = (Role.OPERATOR.value, Role.SUPERVISOR.value, Role.ADMIN.value)


def _limiter() -> tuple[FixedWindowRateLimiter, list[Any]] | None:
    """Made on first use, per app: counters in Redis when configured (shared by the web
    workers), else in memory; None when ``HOTLINE_OPEN311_RATE_LIMIT`` is empty."""
    found = current_app.extensions.get("hotline.open311_limiter")
    if found is None:
        settings = hotline().settings
        limits = parse_many(settings.open311_rate_limit) if settings.open311_rate_limit else []
        storage = storage_from_string(settings.redis_url or "memory://")
        found = (FixedWindowRateLimiter(storage), limits)
        current_app.extensions["hotline.open311_limiter"] = found
    return found if found[1] else None


def _throttle(api_key: str) -> None:
    """429 once this api_key used up any of its limits (a Redis outage lets requests in)."""
    found = _limiter()
    if found is None:
        return
    limiter, limits = found
    key = hashlib.sha256(api_key.encode()).hexdigest()[:32]  # never the token in Redis
    try:
        breached = [limit for limit in limits if not limiter.hit(limit, "open311-post", key)]
        reset = max((limiter.get_window_stats(limit, "open311-post", key).reset_time
                     for limit in breached), default=0.0)  # fmt: skip
    except Exception:
        current_app.logger.warning("open311 rate limit unavailable", exc_info=True)
        return
    if breached:
        wait = max(1, int(reset - time.time()))
        raise Open311Error(429, f"请求过于频繁，请在 {wait} 秒后再试",
                           headers={"Retry-After": str(wait)})  # fmt: skip


def _intake() -> Intake:
    app = hotline()
    return Intake(app.intake_policy, app.routers, app.calendars)


@bp.post("/requests.<fmt>")
def post_request(fmt: str) -> Response:
    """Create a service request (or, for a batch service, a token)."""
    if fmt not in FORMATS:
        raise Open311Error(404, "不支持的格式，请使用 .xml 或 .json")
    items = [(key, value) for key, value in request.form.items(multi=True)]
    # From the body only: a key in the query string ends up in proxies' and access logs.
    api_key = (request.form.get("api_key") or "").strip()
    if not api_key:
        raise Open311Error(403, "缺少 api_key")
    app = hotline()
    now = app.now()
    with app.db.transaction() as session:
        owner = authenticate_token(session, api_key, now=now)
        if owner is None:
            raise Open311Error(403, "api_key 无效、已过期或已被吊销")
        if owner.role not in INTAKE_ROLES:
            raise Open311Error(403, "该 api_key 无权提交诉求")
        _throttle(api_key)
        check_jurisdiction(session)
        actor = Actor(owner.user_id, owner.display_name)
        checked = check_submission(session, items)
        account_id = (checked.extras.get("client_ids") or {}).get("account_id")
        if checked.batch:
            token = create_token(session, checked, now=now, actor=actor)
            row_id = token_id(session, token)
            answer = {"token": token, "service_notice": checked.notice,
                      "account_id": account_id}  # fmt: skip
        else:
            ticket = file_ticket(session, checked, now=now, intake=_intake(), actor=actor)
            row_id = None
            answer = {"service_request_id": ticket.number, "service_notice": checked.notice,
                      "account_id": account_id}  # fmt: skip
    if row_id is not None:
        _hand_on_after_response(row_id)
    return respond(fmt, "service_requests", [answer], 201)


def _hand_on_after_response(row_id: int) -> None:
    """Once the answer is sent (the token is committed by then): its job, or its ticket."""
    app = hotline()
    intake = _intake()

    @after_this_request
    def later(response: Response) -> Response:
        response.call_on_close(lambda: hand_on(app.settings, app.db, row_id, intake=intake))
        return response
