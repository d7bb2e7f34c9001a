"""Ruleset versions: drafts checked against the city, copies, and activation (audited)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from routing import rules as rules_mod
from routing.rules import RulesetError

from ..errors import Conflict, NotFound, ValidationFailed
from ..models import RulesetRecord, RulesetStatus
from . import audit
from .actors import SYSTEM, Actor
from .router_cache import CityModel, build_ruleset


def parse_ruleset_text(text: str, fmt: str) -> dict[str, Any]:
    """YAML or CSV text → the ruleset mapping, still marked with line numbers so that
    validation against the city can name them."""
    return rules_mod.csv_to_data(text) if fmt == "csv" else rules_mod.yaml_to_data(text)


def ruleset_problem(exc: RulesetError) -> ValidationFailed:
    return ValidationFailed(
        {"ruleset": [str(exc).splitlines()[i] for i in range(len(exc.problems))]},
        detail="规则集有误，未作任何保存：" + "；".join(str(exc).splitlines()[:3]),
    )


def get_ruleset(session: Session, ruleset_id: int) -> RulesetRecord:
    record = session.get(RulesetRecord, ruleset_id)
    if record is None:
        raise NotFound(f"未找到规则集 {ruleset_id}")
    return record


def find_ruleset(session: Session, ref: str | None) -> RulesetRecord:
    """By id, by name (its newest version), or the active one when ``ref`` is empty."""
    if not ref:
        record = session.scalar(
            select(RulesetRecord).where(RulesetRecord.status == RulesetStatus.ACTIVE)
        )
        if record is None:
            raise NotFound("没有生效中的规则集")
        return record
    if ref.isdigit():
        return get_ruleset(session, int(ref))
    record = session.scalar(
        select(RulesetRecord)
        .where(RulesetRecord.name == ref)
        .order_by(RulesetRecord.version.desc())
        .limit(1)
    )
    if record is None:
        raise NotFound(f"未找到规则集 {ref}")
    return record


def create_ruleset(
    session: Session,
    data: dict[str, Any],
    *,
    source: str,
    now: datetime,
    actor: Actor = SYSTEM,
    name: str | None = None,
    notes: str | None = None,
) -> RulesetRecord:
    """A new draft version; the data must be valid for this city or nothing is saved."""
    data = dict(data)
    if name:
        data["name"] = name
    try:
        ruleset = build_ruleset(data, CityModel.load(session))
    except RulesetError as exc:
        raise ruleset_problem(exc) from exc
    # Stored in canonical form: defaults spelled out, line markers gone, numbers as floats.
    data = ruleset.to_dict()
    latest = session.scalar(
        select(func.max(RulesetRecord.version)).where(RulesetRecord.name == ruleset.name)
    )
    record = RulesetRecord(
        name=ruleset.name, version=(latest or 0) + 1, status=RulesetStatus.DRAFT, source=source,
        data=data, notes=notes, created_at=now, created_by_id=actor.user_id, updated_at=now,
    )  # fmt: skip
    session.add(record)
    session.flush()
    return record


def update_draft(
    session: Session, record: RulesetRecord, data: dict[str, Any], *, now: datetime
) -> RulesetRecord:
    if record.status != RulesetStatus.DRAFT:
        raise Conflict("只能修改草稿；请先复制为新的草稿版本")
    data = {**data, "name": record.name}
    try:
        ruleset = build_ruleset(data, CityModel.load(session))
    except RulesetError as exc:
        raise ruleset_problem(exc) from exc
    record.data = ruleset.to_dict()
    record.updated_at = now
    session.flush()
    return record


def copy_as_draft(
    session: Session, record: RulesetRecord, *, now: datetime, actor: Actor
) -> RulesetRecord:
    return create_ruleset(
        session, copy.deepcopy(record.data), source="copy", now=now, actor=actor,
        notes=f"复制自 {record.name} v{record.version}",
    )  # fmt: skip


def activate(
    session: Session, record: RulesetRecord, *, now: datetime, actor: Actor
) -> RulesetRecord:
    """Make ``record`` the one active ruleset; the previous one is archived. Audited."""
    if record.status == RulesetStatus.ACTIVE:
        return record
    try:
        build_ruleset(record.data, CityModel.load(session))  # the city may have changed
    except RulesetError as exc:
        raise ruleset_problem(exc) from exc
    previous = session.scalar(
        select(RulesetRecord).where(RulesetRecord.status == RulesetStatus.ACTIVE)
    )
    session.execute(
        update(RulesetRecord)
        .where(RulesetRecord.status == RulesetStatus.ACTIVE)
        .values(status=RulesetStatus.ARCHIVED, updated_at=now)
    )
    record.status = RulesetStatus.ACTIVE
    record.activated_at = now
    record.activated_by_id = actor.user_id
    record.updated_at = now
    audit.record(session, "ruleset.activated", f"ruleset:{record.id}", actor, now, {
        "ruleset": {"id": record.id, "name": record.name, "version": record.version},
        "previous": None if previous is None else {
            "id": previous.id, "name": previous.name, "version": previous.version,
        },
    })  # fmt: skip
    session.flush()
    return record
