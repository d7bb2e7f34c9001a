"""The complaint form: render it, check a submission, file the ticket."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ...domain.states import Channel
from ...errors import HotlineError, ValidationFailed
from ...extensions import hotline
from ...links import tracking_path
from ...models import Category
from ...photos import PreparedPhoto, prepare_uploads
from ...schemas.tickets import TicketSubmissionSchema
from ...services.intake import submit_ticket
from . import bp

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


def _categories() -> dict[str, list[Category]]:
    with hotline().db.transaction() as session:
        rows = session.scalars(
            select(Category)
            .where(Category.active)
            .order_by(Category.group_name, Category.sort_order, Category.id)
        ).all()
    grouped: dict[str, list[Category]] = {}
    for category in rows:
        grouped.setdefault(category.group_name, []).append(category)
    return grouped


def _render_form(
    values: dict[str, Any],
    errors: dict[str, list[str]],
    status: int = 200,
    message: str | None = None,
) -> Any:
    return render_template(
        "public/form.html",
        groups=_categories(),
        values=values,
        errors=errors,
        message=message,
    ), status


@bp.get("/")
def form() -> Any:
    # Consent to be called is asked, never assumed: the box starts unticked.
    return _render_form({}, {})


def _read_photos(files: list[FileStorage]) -> list[PreparedPhoto]:
    settings = hotline().settings
    return prepare_uploads(files, max_bytes=settings.max_photo_bytes,
                           max_count=settings.max_photos)  # fmt: skip


def _retry_message() -> str:
    # Browsers never refill a file input, so say so rather than let photos vanish silently.
    if any(f.filename for f in request.files.getlist("photos")):
        return "请根据提示修改后重新提交，照片需要重新选择。"
    return "请根据提示修改后重新提交。"


@bp.post("/")
def submit() -> Any:
    app = hotline()
    values = {name: request.form.get(name, "") for name in FORM_FIELDS}
    payload = {k: v for k, v in values.items() if k not in {"anonymous", "consent_contact"}}
    payload["anonymous"] = "anonymous" in request.form
    payload["consent_contact"] = "consent_contact" in request.form
    errors: dict[str, list[str]] = {}
    status = 422
    try:
        data = TicketSubmissionSchema().load(payload)
    except ValidationError as exc:
        errors = {k: v for k, v in exc.normalized_messages().items() if isinstance(v, list)}
    try:
        photos = _read_photos(request.files.getlist("photos"))
    except HotlineError as exc:  # too big, too many, not an image: said next to the field
        errors["photos"] = [exc.detail]
        status = exc.status if len(errors) == 1 else 422
    if errors:
        return _render_form(values, errors, status, _retry_message())

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
            number, salt = ticket.number, ticket.tracking_salt
    except ValidationFailed as exc:
        app.photos.delete(stored)
        return _render_form(values, exc.errors or {}, 422, _retry_message())
    except BaseException:
        app.photos.delete(stored)  # nothing accepted may be half-saved
        raise
    return redirect(tracking_path(number, salt, new="1"), code=303)
