"""Template filters and the context every page shares, registered once by ``init_web``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from markupsafe import Markup, escape

from ..domain.events import event_label
from ..domain.privacy import mask_name, mask_phone
from ..extensions import hotline
from ..photos import ACCEPT
from ..services.dispatch_queue import unit_groups


def init_filters(app: Flask) -> None:
    app.context_processor(photo_limits)
    app.add_template_filter(mask_phone, "mask_phone")
    app.add_template_filter(mask_name, "mask_name")
    app.add_template_filter(event_label, "event_label")
    app.add_template_filter(merge_page, "merge_page")
    app.add_template_filter(highlight, "highlight")
    app.add_template_filter(excerpt, "excerpt")
    app.add_template_filter(unit_groups, "unit_groups")  # the dispatch form's 条 / 块 lists


def photo_limits() -> dict[str, Any]:
    """What every photo field shows and checks in the browser (photos.js)."""
    settings = hotline().settings
    return {"photo_limits": {"bytes": settings.max_photo_bytes, "files": settings.max_photos,
                             "mb": f"{settings.max_photo_bytes / (1024 * 1024):g}",
                             "accept": ACCEPT}}  # fmt: skip


def merge_page(query: dict[str, str], page: int) -> str:
    """The current query string with another page number."""
    return urlencode({**query, "page": page})


EXCERPT_CHARS = 120
_BLANKS = re.compile(r"\s+")
# A line break after full-width punctuation joins without a space, as Chinese is written.
_AFTER_CJK_STOP = re.compile(r"(?<=[，。！？；：、）」』】…])\s+")


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    """A work order's text as a list shows it: on one line, its first ``limit`` characters
    and "…" when there is more (orders run to 20,000 characters; the ticket page has them all).
    Chinese has no spaces to break at, so the cut is by character, not by word."""
    flat = _BLANKS.sub(" ", _AFTER_CJK_STOP.sub("", text or "")).strip()
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rstrip() + "…"


def highlight(text: str | None, terms: list[str]) -> Markup:
    """The text, escaped, with the terms routing matched marked."""
    safe = str(escape(text or ""))
    for term in sorted({t for t in terms if t}, key=len, reverse=True):
        escaped = str(escape(term))
        safe = safe.replace(escaped, f"<mark>{escaped}</mark>")
    return Markup(safe)  # noqa: S704 - built from escaped parts only
