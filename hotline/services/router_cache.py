"""Compiled routers, cached per process: the city as routing sees it, a ruleset validated
against it, and which version is active."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing import rules as rules_mod
from routing.classifier import Router
from routing.rules import Ruleset, RulesetError

from ..models import Category, RulesetRecord, RulesetStatus, Unit


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    code: str
    name: str
    default_unit: str | None
    territorial: bool
    time_limit: str | None = None  # the SLA policy of tickets routed into it


@dataclass(frozen=True)
class CityModel:
    """Units and categories as routing needs them, by code: plain values, never ORM objects,
    because compiled routers outlive the session that loaded them."""

    units: dict[str, rules_mod.Unit]
    unit_ids: dict[str, int]
    categories: dict[str, CategoryInfo]

    @classmethod
    def load(cls, session: Session) -> CityModel:
        rows = list(
            session.execute(select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id))
        )
        code_of = {row.id: row.code for row in rows}
        units = {
            row.code: rules_mod.Unit(row.code, row.name, row.kind, code_of.get(row.parent_id))
            for row in rows
        }
        categories = {
            c.code: CategoryInfo(
                c.id, c.code, c.name, code_of.get(c.default_unit_id), c.territorial, c.time_limit
            )
            for c in session.scalars(select(Category))
        }
        return cls(units, {row.code: row.id for row in rows}, categories)

    def unit_name(self, code: str | None) -> str | None:
        return self.units[code].name if code in self.units else None


def build_ruleset(data: dict[str, Any], city: CityModel) -> Ruleset:
    """Validate ``data`` against the city and fill rule defaults from their categories
    (lead unit = the category's default unit, territorial co-handling as the category says)."""
    prepared = copy.deepcopy(data)
    problems: list[tuple[int | None, str]] = []
    for item in prepared.get("rules") or []:
        if not isinstance(item, dict) or not item.get("category"):
            continue
        category = city.categories.get(item["category"])
        if category is None:
            problems.append((item.get("__line__"), f"未知的类别：{item['category']}"))
            continue
        if not item.get("lead_unit") and category.default_unit:
            item["lead_unit"] = category.default_unit
        item.setdefault("territorial", category.territorial)
    try:
        ruleset = rules_mod.from_dict(prepared, units=city.units)
    except RulesetError as exc:
        raise RulesetError(problems + exc.problems) from None
    if problems:
        raise RulesetError(problems)
    return ruleset


@dataclass
class Compiled:
    record_id: int
    name: str
    version: int
    router: Router
    city: CityModel
    # Detached copies of every unit and category as of this compilation, for intake's ORM
    # writer: it sets a new ticket's relationships with session.merge(load=False), without
    # a query per ticket for reference data. Routing itself only reads ``city``.
    units: dict[int, Unit] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)


@dataclass
class RouterCache:
    """Compiled routers by ruleset version, and which one is active (re-checked every
    ``refresh_seconds``, so an activation reaches every process within that time)."""

    refresh_seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    _compiled: dict[tuple[int, datetime], Compiled] = field(default_factory=dict)
    _active: tuple[float, tuple[int, datetime] | None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def compiled(self, session: Session, record: RulesetRecord) -> Compiled:
        key = (record.id, record.updated_at)
        found = self._compiled.get(key)
        if found is None:
            city = CityModel.load(session)
            router = Router(build_ruleset(record.data, city))
            units = {u.id: u for u in session.scalars(select(Unit))}
            categories = {c.id: c for c in session.scalars(select(Category))}
            for item in (*units.values(), *categories.values()):
                session.expunge(item)
            found = Compiled(
                record.id, record.name, record.version, router, city, units, categories
            )
            with self._lock:
                self._compiled = {k: v for k, v in self._compiled.items() if k[0] != record.id}
                self._compiled[key] = found
        return found

    def active(self, session: Session) -> Compiled | None:
        now = self.clock()
        cached = self._active
        if cached is None or now - cached[0] >= self.refresh_seconds:
            row = session.execute(
                select(RulesetRecord.id, RulesetRecord.updated_at).where(
                    RulesetRecord.status == RulesetStatus.ACTIVE
                )
            ).first()
            self._active = cached = (now, (row.id, row.updated_at) if row else None)
        key = cached[1]
        if key is None:
            return None
        if key in self._compiled:
            return self._compiled[key]
        record = session.get(RulesetRecord, key[0])
        return self.compiled(session, record) if record else None

    def forget_active(self) -> None:
        self._active = None


def reference_data_changed(session: Session, *, now: datetime) -> None:
    """Categories or units changed: compiled rulesets carry copies of them, and a compiled
    ruleset is keyed by its record's ``updated_at``, so moving the active record's forward
    makes every process recompile within ``refresh_seconds``. Always forward, even when two
    edits share a timestamp (or the clock stepped back), or the second would go unseen."""
    record = session.scalar(
        select(RulesetRecord).where(RulesetRecord.status == RulesetStatus.ACTIVE)
    )
    if record is not None:
        record.updated_at = max(now, record.updated_at + timedelta(microseconds=1))
