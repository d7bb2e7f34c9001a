"""Application factory. No I/O at import; no migrations here (``hotline db upgrade`` does that)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from .api import API_PREFIX, init_api
from .api.health import bp as health_bp
from .api.problems import flatten_messages, problem
from .config import Settings
from .db import Database
from .errors import HotlineError
from .extensions import Hotline
from .open311 import init_open311, wants_open311
from .open311.formats import Open311Error, error_response, format_of
from .photos import PhotoStore
from .request import (
    DEFAULT_BODY_BYTES,
    FORM_FIELD_BYTES,
    HotlineRequest,
    apply_body_limit,
    install_converters,
)
from .services.calendar import CalendarCache
from .services.router_cache import RouterCache
from .web import init_web
from .web.public import render_error_page

log = logging.getLogger(__name__)
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Pages use only our own scripts, styles and images (no inline ones): a second line against
# XSS. Scripts may ask our own server again (the call intake's lookups while typing).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

HTTP_TITLES = {
    400: ("bad-request", "请求无效"),
    401: ("unauthorized", "需要登录或有效的访问令牌"),
    403: ("forbidden", "无权访问"),
    404: ("not-found", "未找到"),
    405: ("method-not-allowed", "不支持该请求方法"),
    409: ("conflict", "与当前状态冲突"),
    413: ("payload-too-large", "提交的内容过大"),
    415: ("unsupported-media-type", "不支持的内容类型"),
    422: ("validation-error", "提交的内容有误"),
    429: ("too-many-requests", "请求过于频繁，请稍后再试"),
}


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder="web/static", template_folder="web/templates")
    install_converters(app.url_map)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Defaults only: each request gets its endpoint's limits (see uploads.py).
        MAX_CONTENT_LENGTH=DEFAULT_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=FORM_FIELD_BYTES,
        MAX_FORM_PARTS=100,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session; forms may sit open
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["hotline"] = Hotline(
        settings=settings,
        db=database or Database(settings.database_url, echo=settings.sql_echo),
        photos=PhotoStore(settings.upload_dir),
        routers=RouterCache(refresh_seconds=settings.ruleset_refresh_seconds),
        calendars=CalendarCache(timezone=settings.timezone),
    )

    app.request_class = HotlineRequest
    app.before_request(apply_body_limit)  # before anything reads the body (CSRF does)
    csrf = CSRFProtect(app)
    app.before_request(_assign_request_id)
    init_api(app)
    for blueprint in list(app.blueprints.values()):
        if (blueprint.url_prefix or "").startswith(API_PREFIX):
            csrf.exempt(blueprint)  # bearer tokens only, never cookies: nothing to forge
    app.extensions["hotline.api"].register_blueprint(health_bp)
    init_web(app)
    init_open311(app)
    _limit_public_form(app, settings)
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.proxy_count,
            x_proto=settings.proxy_count,
            x_host=settings.proxy_count,
        )
    app.after_request(_security_headers)
    _register_error_handlers(app)
    return app


def warm_up(app: Flask) -> None:
    """Compile the active routing ruleset now, in the process that will fork (gunicorn
    --preload, the RQ worker), so no request pays for it and workers share it. The database
    pool is emptied afterwards: forked children must open their own connections."""
    extension = app.extensions["hotline"]
    try:
        with extension.db.transaction() as session:
            extension.routers.active(session)
    except OperationalError:
        log.warning("database not reachable during warm-up; routing compiles on first use")
    finally:
        extension.db.dispose()


def _limit_public_form(app: Flask, settings: Settings) -> None:
    """Throttle accepted complaints per address and phone, and more loosely per address (a
    refused form or a second post of one form costs nothing), and 我也遇到了 per address and
    phone. Counters live in Redis when configured; if Redis fails the limiter falls back to
    memory rather than refusing residents. A 429 on the form gives the form back, filled."""
    if not (settings.form_rate_limit or settings.form_address_rate_limit):
        return
    from flask_limiter.errors import RateLimitExceeded

    from .web.public import form

    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix="hotline-limits",
    )
    submit = app.view_functions["public.submit"]
    if settings.form_address_rate_limit:
        submit = limiter.limit(settings.form_address_rate_limit, scope="form-address",
                               deduct_when=form.filed_new_ticket,
                               exempt_when=form.is_replay)(submit)  # fmt: skip
    if settings.form_rate_limit:
        submit = limiter.limit(settings.form_rate_limit, scope="form-phone",
                               key_func=form.address_and_phone("reporter_phone"),
                               deduct_when=form.filed_new_ticket,
                               exempt_when=form.is_replay)(submit)  # fmt: skip
        follow = app.view_functions["public.follow"]
        app.view_functions["public.follow"] = limiter.limit(
            settings.form_rate_limit, scope="follow", key_func=form.address_and_phone("phone")
        )(follow)
    app.view_functions["public.submit"] = submit

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> Any:
        resets = [limit.reset_at for limit in limiter.current_limits if limit.breached]
        retry_after = max(1, int(max(resets, default=0) - time.time()))
        if request.endpoint == "public.submit":
            return form.render_rate_limited(retry_after)
        page, status = render_error_page(429, "请求过于频繁", f"请在 {retry_after} 秒后再试。")
        return page, status, {"Retry-After": str(retry_after)}


def _assign_request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex


def _security_headers(response: Any) -> Any:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")  # tracking tokens live in URLs
    if not request.path.startswith(API_PREFIX + "/docs"):  # Swagger UI needs inline script
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", CSP)
    return response


# Open311 clients show the description to people: plain words for the usual statuses.
OPEN311_TITLES = {404: "没有这个地址、服务或请求", 405: "不支持该请求方法", 413: "提交的内容太大",
                  429: "请求过于频繁，请稍后再试"}  # fmt: skip


def _wants_problem() -> bool:
    return request.path.startswith(API_PREFIX + "/") or request.path in {"/healthz", "/readyz"}


def _open311_error(status: int, description: str,
                   headers: dict[str, str] | None = None) -> Any:  # fmt: skip
    """Under /open311 every error is in Open311's format, in the format the URL asked for."""
    return error_response(format_of(request.path), status, description, headers=headers)


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Open311Error)
    def _open311(exc: Open311Error) -> Any:
        return _open311_error(exc.status, exc.description, exc.headers)

    @app.errorhandler(HotlineError)
    def _hotline_error(exc: HotlineError) -> Any:
        if wants_open311(request.path):
            return _open311_error(exc.status, exc.detail or exc.title, exc.headers)
        if _wants_problem():
            return problem(
                exc.status,
                exc.code,
                exc.title,
                exc.detail,
                errors=exc.errors,
                headers=exc.headers,
                extra=exc.extra,
            )
        return render_error_page(exc.status, exc.title, exc.detail)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Any:
        return render_error_page(
            400, "页面已过期", "页面停留时间过长或来源无效，请刷新后重新提交。"
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if status >= 500:
            return _internal_error(exc)
        code, title = HTTP_TITLES.get(status, ("http-error", exc.name))
        data = getattr(exc, "data", None) or {}
        errors = flatten_messages(data["messages"]) if "messages" in data else None
        if errors and len(errors) == 1 and "_body" in errors:
            errors = None
        # webargs nests by location ("json", "query", "headers"); people want the field name.
        if errors:
            errors = {k.split(".", 1)[1] if "." in k else k: v for k, v in errors.items()}
        detail = "请根据各字段的提示修改后重新提交" if errors else title
        if status == 413:
            detail = "提交的内容超过了大小限制，请减少或压缩照片后重试"
        headers = (
            {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
        )
        if wants_open311(request.path):
            return _open311_error(status, OPEN311_TITLES.get(status, title), headers)
        if _wants_problem():
            return problem(status, code, title, detail, errors=errors, headers=headers)
        return render_error_page(status, title, detail)

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError) -> Any:
        # The database went away (restart, failover, network). Nothing was committed, so the
        # caller can safely try again; the pool has already dropped the dead connection.
        log.warning("database unavailable (request_id=%s): %s", g.get("request_id"), exc.orig)
        title, detail = "服务暂时不可用", "系统正在恢复，您提交的内容尚未保存，请稍后重试。"
        headers = {"Retry-After": "5"}
        if wants_open311(request.path):
            return _open311_error(503, detail, headers)
        if _wants_problem():
            return problem(503, "service-unavailable", title, detail, headers=headers)
        page, status = render_error_page(503, title, detail)
        return page, status, headers

    @app.errorhandler(Exception)
    def _internal_error(exc: Exception) -> Any:
        log.exception("unhandled error (request_id=%s)", g.get("request_id"))
        title, detail = "服务器内部错误", "系统暂时出现问题，请稍后重试。如多次出现，请拨打 12345。"
        if wants_open311(request.path):
            return _open311_error(500, detail)
        if _wants_problem():
            return problem(500, "internal-error", title, detail)
        return render_error_page(500, title, detail)
