"""Server-rendered pages (Simplified Chinese, usable on a phone and without JavaScript)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, render_template, send_file

bp = Blueprint("public", __name__)


@bp.app_context_processor
def _photo_limits() -> dict[str, Any]:
    """What every photo field shows and checks in the browser (photos.js)."""
    from ..extensions import hotline
    from ..photos import ACCEPT

    settings = hotline().settings
    return {"photo_limits": {"bytes": settings.max_photo_bytes, "files": settings.max_photos,
                             "mb": f"{settings.max_photo_bytes / (1024 * 1024):g}",
                             "accept": ACCEPT}}  # fmt: skip


@bp.app_template_filter("mask_phone")
def _mask_phone(phone: str | None) -> str | None:
    from ..domain.privacy import mask_phone

    return mask_phone(phone)


@bp.app_template_filter("mask_name")
def _mask_name(name: str | None) -> str | None:
    from ..domain.privacy import mask_name

    return mask_name(name)


def render_error_page(status: int, title: str, detail: str) -> Any:
    return render_template("error.html", status=status, title=title, detail=detail), status


def private_file(path: Path, mimetype: str) -> Any:
    """A stored photo, never kept by shared caches (it belongs to one ticket's viewers)."""
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=mimetype, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


from . import admin, calls, console, public, staff  # noqa: E402,F401  (registers the routes on bp)
