"""Finding a ticket again (/lookup): ticket number + phone, then the 6-digit code sent by SMS
to that phone opens the tracking page. The first answer never says whether the two matched."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from ...domain.text import normalize_phone
from ...extensions import hotline
from ...links import tracking_path
from ...services import lookup_codes
from ...services.lookup_codes import Outcome
from . import bp

# Per client address, on top of the per-ticket limits of the service: many residents may
# share a carrier's address, so these stay loose; they stop a script trying numbers.
SEND_LIMIT = parse("20/hour")
CHECK_LIMIT = parse("60/hour")
HEADERS = {"Cache-Control": "private, no-store"}


def _limiter() -> FixedWindowRateLimiter:
    # Made on first use, per app: Redis when configured (shared by the workers), else memory.
    found = current_app.extensions.get("hotline.lookup_limiter")
    if found is None:
        uri = hotline().settings.redis_url or "memory://"
        found = FixedWindowRateLimiter(storage_from_string(uri))
        current_app.extensions["hotline.lookup_limiter"] = found
    return found


def _allowed(limit: Any, scope: str) -> bool:
    try:
        return _limiter().hit(limit, "hotline-lookup", scope, get_remote_address())
    except Exception:  # a Redis outage must not lock residents out
        current_app.logger.warning("lookup rate limit unavailable", exc_info=True)
        return True


def _values() -> dict[str, str]:
    return {
        "number": lookup_codes.normalize_number(request.form.get("number", "")),
        "phone": request.form.get("phone", "")[:30].strip(),
    }


def _errors(values: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not values["number"]:
        errors["number"] = "请填写工单编号"
    if not values["phone"]:
        errors["phone"] = "请填写提交时留下的电话"
    else:
        try:
            normalize_phone(values["phone"])
        except ValueError:
            errors["phone"] = "电话号码格式不正确"
    return errors


@bp.get("/lookup")
def lookup() -> Any:
    return render_template("public/lookup.html", values={}, errors={}), 200, HEADERS


@bp.post("/lookup")
def lookup_send() -> Any:
    app = hotline()
    values = _values()
    errors = _errors(values)
    if errors:
        return render_template("public/lookup.html", values=values, errors=errors), 422, HEADERS
    if not _allowed(SEND_LIMIT, "send"):
        page = render_template("public/lookup.html", values=values, errors={},
                               alert="请求过于频繁，请稍后再试。")  # fmt: skip
        return page, 429, {**HEADERS, "Retry-After": "600"}
    with app.db.transaction() as session:
        lookup_codes.request_code(session, values["number"], values["phone"],
                                  secret=app.settings.secret_key, now=app.now())  # fmt: skip
    return render_template("public/lookup_code.html", values=values, error=None,
                           sent=True), 200, HEADERS  # fmt: skip


@bp.post("/lookup/code")
def lookup_check() -> Any:
    app = hotline()
    values = _values()
    code = "".join(ch for ch in request.form.get("code", "")[:20] if ch.isdigit())
    if len(code) != 6:
        return _code_page(values, "请输入短信中的 6 位数字验证码", 422)
    if not _allowed(CHECK_LIMIT, "check"):
        return _code_page(values, "尝试次数过多，请稍后再试。", 429)
    with app.db.transaction() as session:
        checked = lookup_codes.check_code(
            session, values["number"], code, secret=app.settings.secret_key, now=app.now()
        )
        ticket = checked.ticket
        target = tracking_path(ticket.number, ticket.tracking_salt) if ticket else None
    if checked.outcome == Outcome.OPENED and target:
        return redirect(target, code=303)
    if checked.outcome == Outcome.WRONG:
        return _code_page(values, f"验证码不正确，还可再试 {checked.attempts_left} 次", 422)
    if checked.outcome == Outcome.EXPIRED:
        return _code_page(values, "验证码已过期（10 分钟内有效），请重新获取", 422, resend=True)
    return _code_page(values, "验证码不正确或已失效，请重新获取", 422, resend=True)


def _code_page(values: dict[str, str], error: str, status: int, *, resend: bool = False) -> Any:
    page = render_template("public/lookup_code.html", values=values, error=error, sent=False,
                           resend=resend)  # fmt: skip
    return page, status, HEADERS
