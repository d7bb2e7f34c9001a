"""Admin pages under /console/admin, one module per page (or family of pages), all on the
``admin`` blueprint: accounts, units, categories, notification templates, failed
deliveries, call-centre imports, routing rulesets, the working-day calendar and erasing a
resident's personal data on request. Every change goes through a service that audits it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template

from ...domain.states import ROLE_LABELS, UNIT_KIND_LABELS
from ...extensions import hotline

bp = Blueprint("admin", __name__)


def local_time(value: datetime | None) -> str:
    """A stored UTC time as people here read it (Beijing time by default)."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(hotline().settings.timezone)).strftime("%Y-%m-%d %H:%M")


def page(template: str, **context: Any) -> str:
    """An admin page: its template under console/admin/ with the shared vocabularies."""
    kinds = {kind.value: label for kind, label in UNIT_KIND_LABELS.items()}
    return render_template(f"console/admin/{template}", role_names=ROLE_LABELS,
                           unit_kinds=kinds, local_time=local_time, **context)  # fmt: skip


from . import (  # noqa: E402,F401 - each registers its routes on bp
    accounts,
    calendar,
    categories,
    imports,
    outbox,
    privacy,
    routing,
    templates,
    units,
)
