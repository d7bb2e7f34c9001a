"""The Open311 endpoints that read (thin: load → service → document): discovery, services,
service definitions, requests, one request, tokens, and the public photo of a request."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from flask import Response, request, send_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.rules import Ruleset

from ..extensions import hotline
from ..models import Attachment, Ticket
from ..services import open311_catalog as catalog
from ..services import open311_requests as requests_service
from . import PREFIX, bp
from .formats import FORMATS, MIMETYPES, Open311Error, parse_w3c, respond

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this discovery document last changed (the spec's changeset: clients re-read on change).
CHANGESET = datetime(2026, 12, 4, tzinfo=UTC)
# Jurisdiction names every deployment answers to besides its own (see check_jurisdiction).
ALWAYS_OURS = ("default",)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, f"不支持的格式：{fmt[:20]}（可用 xml 或 json）")
    return fmt


def _ruleset(session: Session) -> Ruleset | None:
    compiled = hotline().routers.active(session)
    return compiled.router.ruleset if compiled else None


def _jurisdictions(session: Session) -> set[str]:
    """What names our one city: "default", the ticket prefix (WM), the city's own names from
    the active ruleset's home_regions (示范市), the service's name and the public host."""
    settings = hotline().settings
    names = {*ALWAYS_OURS, settings.ticket_prefix, settings.sms_signature}
    ruleset = _ruleset(session)
    names.update(ruleset.home_regions if ruleset else ())
    if settings.public_base_url:
        names.add(urlsplit(settings.public_base_url).hostname or "")
    return {name.strip().casefold() for name in names if name and name.strip()}


def check_jurisdiction(session: Session) -> None:
    given = (request.values.get("jurisdiction_id") or "").strip()
    if given and given.casefold() not in _jurisdictions(session):
        raise Open311Error(404, f"没有这个辖区：{given[:50]}")


def media_key(secret_key: str, ticket: Ticket, photo_id: int) -> str:
    """The unguessable part of a photo's public link: a photo id alone never opens it."""
    message = f"open311-media:{ticket.number}:{photo_id}:{ticket.tracking_salt}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def _photo_url(ticket: Ticket, photo: Attachment) -> str:
    settings = hotline().settings
    path = (f"{PREFIX}/media/{quote(ticket.number, safe='')}/{photo.id}"
            f"?key={media_key(settings.secret_key, ticket, photo.id)}")  # fmt: skip
    base = settings.public_base_url or request.host_url.rstrip("/")
    return base + request.script_root + path


@bp.get("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    fmt = _format(fmt)
    app = hotline()
    with app.db.transaction() as session:
        check_jurisdiction(session)
    base = (app.settings.public_base_url or request.host_url.rstrip("/")) + request.script_root
    document = {
        "changeset": CHANGESET,
        "contact": f"文明直通车 12345 热线；接入说明见 {base}/",
        "key_service": "api_key 为本平台的 API 令牌，请向平台管理员申请（hotline token create）",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base + PREFIX,
            "changeset": CHANGESET,
            "type": "production" if app.settings.production else "test",
            "formats": [MIMETYPES["xml"], MIMETYPES["json"]],
        }],
    }  # fmt: skip
    return respond(fmt, "discovery", document)


@bp.get("/services.<fmt>")
def services(fmt: str) -> Response:
    fmt = _format(fmt)
    with hotline().db.transaction() as session:
        check_jurisdiction(session)
        document = catalog.list_services(session, _ruleset(session))
    return respond(fmt, "services", document)


@bp.get("/services/<service_code>.<fmt>")
def service_definition(service_code: str, fmt: str) -> Response:
    fmt = _format(fmt)
    with hotline().db.transaction() as session:
        check_jurisdiction(session)
        category = catalog.find_service(session, service_code)
        if category is None:
            raise Open311Error(404, f"没有这个服务：{service_code[:40]}")
        document = catalog.service_definition(category)
    return respond(fmt, "service_definition", document)


def _search_arguments(timezone: ZoneInfo) -> requests_service.Search:
    args = request.args
    dates: dict[str, datetime | None] = {}
    for name in ("start_date", "end_date"):
        raw = args.get(name, "").strip()
        dates[name] = parse_w3c(raw, timezone=timezone) if raw else None
        if raw and dates[name] is None:
            raise Open311Error(400, f"{name} 应为 W3C 日期时间，如 2026-11-01T00:00:00Z")
    statuses = tuple(s.lower() for s in requests_service.comma_list(args.get("status")))
    if unknown := [s for s in statuses if s not in requests_service.STATUS_GROUPS]:
        raise Open311Error(400, f"status 只能是 open 或 closed，收到：{unknown[0][:20]}")
    return requests_service.Search(
        ids=requests_service.comma_list(args.get("service_request_id")),
        service_codes=requests_service.comma_list(args.get("service_code")),
        start=dates["start_date"], end=dates["end_date"], statuses=statuses,
    )  # fmt: skip


@bp.get("/requests.<fmt>")
def requests(fmt: str) -> Response:
    fmt = _format(fmt)
    app = hotline()
    with app.db.transaction() as session:
        check_jurisdiction(session)
        search = _search_arguments(ZoneInfo(app.settings.timezone))
        try:
            tickets = requests_service.search_tickets(session, search, now=app.now())
        except requests_service.SearchError as exc:
            raise Open311Error(400, str(exc)) from None
        document = requests_service.present_requests(session, tickets, photo_url=_photo_url)
    return respond(fmt, "service_requests", document)


@bp.get("/requests/<service_request_id>.<fmt>")
def one_request(service_request_id: str, fmt: str) -> Response:
    fmt = _format(fmt)
    with hotline().db.transaction() as session:
        check_jurisdiction(session)
        search = requests_service.Search(ids=(service_request_id,))
        tickets = requests_service.search_tickets(session, search, now=hotline().now())
        if not tickets:
            raise Open311Error(404, f"没有编号为 {service_request_id[:24]} 的请求")
        document = requests_service.present_requests(session, tickets, photo_url=_photo_url)
    return respond(fmt, "service_requests", document)


@bp.get("/tokens/<token>.<fmt>")
def token_status(token: str, fmt: str) -> Response:
    fmt = _format(fmt)
    with hotline().db.transaction() as session:
        check_jurisdiction(session)
        found = requests_service.token_status(session, token)
    if found is None:
        raise Open311Error(404, "没有这个 token")
    return respond(fmt, "service_requests", [found])


@bp.get("/media/<number>/<int:photo_id>")
def media(number: str, photo_id: int) -> Any:
    """A request's public photo (its media_url); the key comes from that link."""
    app = hotline()
    with app.db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number[:24]))
        photo = session.get(Attachment, photo_id)
        key = request.args.get("key", "")
        if (ticket is None or photo is None or photo.ticket_id != ticket.id
                or not photo.public or ticket.personal_data_erased_at is not None
                or not hmac.compare_digest(
                    media_key(app.settings.secret_key, ticket, photo_id).encode(),
                    key[:64].encode())):  # fmt: skip
            raise Open311Error(404, "没有这张照片")
        path, mimetype = app.photos.path(photo.stored_name), photo.content_type
    if not path.exists():
        raise Open311Error(404, "没有这张照片")
    response = send_file(path, mimetype=mimetype, max_age=3600)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

