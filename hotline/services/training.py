"""Labels of training files: which category or unit a label names, and units made for
labels nobody knows (``routing learn --create-units``)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.learn import Target

from ..models import Unit
from .router_cache import CityModel


def resolve_label(label: str, city: CityModel) -> Target | None:
    """A training label names a category or a unit, by code or by name."""
    for info in city.categories.values():
        if label in (info.code, info.name):
            return Target(info.code, info.default_unit, info.territorial)
    for unit in city.units.values():
        if label in (unit.code, unit.name):
            return Target(lead_unit=unit.code)
    return None


def create_unit_for_label(session: Session, label: str, *, now: datetime) -> str:
    """``--create-units``: a department named after an unknown label."""
    code = "unit-" + hashlib.sha1(label.encode()).hexdigest()[:8]  # noqa: S324 - a name, not security
    if session.scalar(select(Unit.id).where(Unit.code == code)) is None:
        session.add(Unit(code=code, name=label[:100], kind="department", created_at=now))
        session.flush()
    return code
