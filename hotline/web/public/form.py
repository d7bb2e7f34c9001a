"""The complaint form: render it, check a submission, file the ticket once; the place
suggestions, the nearest known place, and 我也遇到了 on a ticket already reported."""

from __future__ import annotations

import math
import re
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, jsonify, make_response, redirect, render_template, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer
from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from ...domain.privacy import mask_phone
from ...domain.states import Channel
from ...domain.text import normalize_phone
from ...errors import HotlineError, ValidationFailed
from ...extensions import hotline
from ...links import tracking_path
from ...models import Category, Ticket
from ...photos import PreparedPhoto, prepare_uploads
from ...schemas.tickets import FollowSchema, TicketSubmissionSchema
from ...services.followers import add_follower, can_follow
from ...services.intake import submit_ticket
from ...services.router_cache import Compiled
from ...services.similar import WITHIN_DAYS, resolve, similar_open_tickets
from . import bp, render_error_page

FORM_FIELDS = (
    "category",
    "description",
    "address",
    "latitude",
    "longitude",
    "reporter_name",
    "reporter_phone",
    "anonymous",
    "consent_contact",
)
# The error summary names each field as its label does, in the page's order.
FIELD_LABELS = {
    "category": "问题类别",
    "description": "问题描述",
    "address": "发生地点",
    "latitude": "我的位置",
    "longitude": "我的位置",
    "photos": "现场照片",
    "reporter_name": "姓名",
    "reporter_phone": "联系电话",
}
DESCRIPTION_MAX = 2000
# What secrets.token_urlsafe makes; anything else is ignored (no dedup), never an error.
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
FOLLOW_SALT = "hotline.follow"


# ---------------------------------------------------------------- rendering


def _categories(session: Any) -> dict[str, list[Category]]:
    rows = session.scalars(
        select(Category)
        .where(Category.active)
        .order_by(Category.group_name, Category.sort_order, Category.id)
    ).all()
    grouped: dict[str, list[Category]] = {}
    for category in rows:
        grouped.setdefault(category.group_name, []).append(category)
    return grouped


def _place_names(compiled: Compiled | None) -> list[str]:
    """The gazetteer's own names (aliases are for routing, not for suggesting)."""
    if compiled is None:
        return []
    return list(dict.fromkeys(place.name for place in compiled.router.ruleset.places))


def _no_store(response: Response) -> Response:
    # The back button after submitting must fetch a fresh form (a new key), not the filled one.
    response.headers["Cache-Control"] = "no-store"
    return response


def render_form(
    values: dict[str, Any],
    errors: dict[str, list[str]],
    status: int = 200,
    message: str | None = None,
) -> Response:
    """The form with what was typed, every error at once, and a summary that links to them."""
    app = hotline()
    with app.db.transaction() as session:
        groups = _categories(session)
        places = _place_names(app.routers.active(session))
    key = values.get("submission_key") or ""
    values = {**values, "submission_key": key if KEY_RE.match(key) else secrets.token_urlsafe(24)}
    order = [*FIELD_LABELS]
    summary = [
        {"field": name, "label": FIELD_LABELS[name], "message": text}
        for name in sorted(errors, key=lambda n: order.index(n) if n in order else len(order))
        for text in errors[name]
        if name in FIELD_LABELS
    ]
    page = render_template(
        "public/form.html",
        groups=groups,
        places=places,
        values=values,
        errors=errors,
        summary=summary,
        message=message,
        description_max=DESCRIPTION_MAX,
    )
    return _no_store(make_response(page, status))


@bp.get("/")
def form() -> Any:
    # Consent to be called is asked, never assumed: the box starts unticked.
    return render_form({}, {})


# ---------------------------------------------------------------- submitting


def _posted_values() -> dict[str, Any]:
    values: dict[str, Any] = {name: request.form.get(name, "") for name in FORM_FIELDS}
    values["submission_key"] = request.form.get("submission_key", "")
    return values


def _key() -> str | None:
    key = request.form.get("submission_key", "")
    return key if KEY_RE.match(key) else None


def _filed_with(key: str) -> tuple[str, str] | None:
    with hotline().db.transaction() as session:
        row = session.execute(
            select(Ticket.number, Ticket.tracking_salt).where(Ticket.submission_key == key)
        ).first()
    return (row.number, row.tracking_salt) if row else None


def is_replay() -> bool:
    """A post of a form already filed (the rate limit lets it through: it files nothing)."""
    key = _key()
    return key is not None and _filed_with(key) is not None


def filed_new_ticket(response: Response) -> bool:
    """Only accepted submissions count towards the rate limit."""
    return bool(g.get("filed_new_ticket"))


def address_and_phone(field: str) -> Any:
    """A rate-limit key: many residents share a carrier's address, so the phone counts too."""

    def key() -> str:
        try:
            phone = normalize_phone(request.form.get(field, "")[:30])
        except ValueError:
            phone = "-"
        return f"{get_remote_address()}|{phone}"

    return key


def _read_photos(files: list[FileStorage]) -> list[PreparedPhoto]:
    settings = hotline().settings
    return prepare_uploads(files, max_bytes=settings.max_photo_bytes,
                           max_count=settings.max_photos)  # fmt: skip


def _chose_photos() -> bool:
    return any(f.filename for f in request.files.getlist("photos"))


def _retry_message() -> str | None:
    # Browsers never refill a file input, so say so rather than let photos vanish silently.
    # Otherwise the error summary's heading says it all.
    return "照片需要重新选择（出于安全，浏览器不会保留已选的照片）。" if _chose_photos() else None


def _too_long(description: str) -> str | None:
    length = len(description.strip())
    if length <= DESCRIPTION_MAX:
        return None
    return (f"问题描述最多 {DESCRIPTION_MAX} 字，您输入了 {length} 字，"
            f"请删减 {length - DESCRIPTION_MAX} 字后再提交（内容已保留）")  # fmt: skip


def render_rate_limited(retry_after: int) -> Response:
    """A 429 on the form: everything typed is kept, with when to try again."""
    wait = f"{retry_after} 秒" if retry_after < 60 else f"{math.ceil(retry_after / 60)} 分钟"
    message = f"提交过于频繁，请在 {wait}后再提交。您填写的内容已保留"
    message += "，照片需要重新选择。" if _chose_photos() else "。"
    response = render_form(_posted_values(), {}, 429, message)
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.post("/")
def submit() -> Any:
    app = hotline()
    values = _posted_values()
    key = _key()
    if key is not None and (filed := _filed_with(key)) is not None:
        return redirect(tracking_path(*filed), code=303)  # a double tap, back button or retry
    payload = {k: v for k, v in values.items() if k in FORM_FIELDS}
    payload["anonymous"] = "anonymous" in request.form
    payload["consent_contact"] = "consent_contact" in request.form
    errors: dict[str, list[str]] = {}
    status = 422
    try:
        data = TicketSubmissionSchema().load(payload)
    except ValidationError as exc:
        errors = {k: v for k, v in exc.normalized_messages().items() if isinstance(v, list)}
    if "description" in errors and (said := _too_long(values["description"])):
        errors["description"] = [said]
    try:
        photos = _read_photos(request.files.getlist("photos"))
    except HotlineError as exc:  # too big, too many, not an image: said next to the field
        errors["photos"] = [exc.detail]
        status = exc.status if len(errors) == 1 else 422
    if errors:
        return render_form(values, errors, status, _retry_message())

    stored: list[str] = []
    try:
        stored = [app.photos.save(photo) for photo in photos]
        with app.db.transaction() as session:
            ticket = submit_ticket(
                session,
                data,
                now=app.now(),
                policy=app.intake_policy,
                channel=Channel.WEB,
                photos=list(zip(photos, stored, strict=True)),
                routing=app.routers.active(session),
                sla_clock=app.calendars.clock(session),
            )
            if key is not None:
                # A plain UPDATE (no version bump); the unique key makes a concurrent second
                # post of the same form fail here, before its commit.
                session.execute(
                    update(Ticket).where(Ticket.id == ticket.id).values(submission_key=key)
                )
            number, salt = ticket.number, ticket.tracking_salt
    except ValidationFailed as exc:
        app.photos.delete(stored)
        return render_form(values, exc.errors or {}, 422, _retry_message())
    except IntegrityError:
        app.photos.delete(stored)
        filed = _filed_with(key) if key is not None else None
        if filed is None:
            raise
        return redirect(tracking_path(*filed), code=303)  # the same form, posted twice at once
    except BaseException:
        app.photos.delete(stored)  # nothing accepted may be half-saved
        raise
    g.filed_new_ticket = True
    return redirect(tracking_path(number, salt, new="1"), code=303)


# ---------------------------------------------------------------- where


def _coordinate(name: str, low: float, high: float) -> float | None:
    try:
        value = float(request.args.get(name, ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and low <= value <= high else None


@bp.get("/places/nearest")
def nearest_place() -> Any:
    """The known place nearest to the resident's position (within 1 km), for 使用我的位置."""
    lat, lng = _coordinate("lat", -90, 90), _coordinate("lng", -180, 180)
    if lat is None or lng is None:
        return jsonify(place=None, error="位置无效"), 400
    app = hotline()
    with app.db.transaction() as session:
        compiled = app.routers.active(session)
    matches = compiled.router.gazetteer.resolve([], [], lat, lng) if compiled else []
    if not matches:
        return jsonify(place=None)
    return jsonify(place=matches[0].name, distance_m=round((matches[0].distance_km or 0) * 1000))


# ---------------------------------------------------------------- already reported?


def _follow_signer() -> URLSafeSerializer:
    # Only tickets this list offered can be followed: their ids are signed, never guessed.
    return URLSafeSerializer(hotline().settings.secret_key, salt=FOLLOW_SALT)


@bp.get("/similar")
def similar() -> Any:
    """The open tickets of the same kind at the same place, as an HTML fragment the form's
    script shows (empty when nothing is known or nothing matches)."""
    app = hotline()
    args = request.args
    description = args.get("description", "")[:DESCRIPTION_MAX]
    with app.db.transaction() as session:
        compiled = app.routers.active(session)
        where = (
            None
            if compiled is None
            else resolve(
                compiled,
                category=args.get("category", "")[:40] or None,
                description=description,
                address=args.get("address", "")[:200],
            )
        )
        found = (similar_open_tickets(session, where, now=app.now(), description=description,
                                      routing=compiled) if where else [])  # fmt: skip
    signer, tz = _follow_signer(), ZoneInfo(app.settings.timezone)
    items = [{"ticket": t, "token": signer.dumps(t.id),
              "day": f"{t.created_at.astimezone(tz):%Y-%m-%d}"} for t in found]  # fmt: skip
    page = render_template("public/similar.html", items=items, days=WITHIN_DAYS)
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/similar/follow")
def follow() -> Any:
    """我也遇到了: the resident hears of that ticket by SMS instead of filing it again."""
    app = hotline()
    try:
        ticket_id = _follow_signer().loads(request.form.get("t", ""))
    except BadSignature:
        ticket_id = None
    if not isinstance(ticket_id, int):
        return render_error_page(404, "未找到该问题", "链接无效，请返回表单重新查看。")
    try:
        phone = FollowSchema().load({"phone": request.form.get("phone", "")})["phone"]
    except ValidationError as exc:
        error = exc.normalized_messages().get("phone", ["请填写有效的手机号码"])[0]
        page = render_template("public/followed.html", error=error, token=request.form.get("t"),
                               phone=request.form.get("phone", ""), created=False)  # fmt: skip
        return _no_store(make_response(page, 422))
    with app.db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or not can_follow(ticket):
            return render_error_page(
                404, "该问题已办结", "该问题已办结或不存在，如仍存在请重新反映。"
            )
        created = add_follower(session, ticket, phone, app.now())
    page = render_template("public/followed.html", error=None, created=created,
                           masked=mask_phone(phone))  # fmt: skip
    return _no_store(make_response(page))
