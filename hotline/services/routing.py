"""Routing in the application: rulesets stored as versions, compiled routers cached per
process, routing and dispatch on intake, and operators' corrections."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from routing import rules as rules_mod
from routing.classifier import Decision, Router
from routing.learn import Target
from routing.rules import Ruleset, RulesetError

from ..domain.states import Status
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import (
    AuditEvent,
    Category,
    RulesetRecord,
    RulesetStatus,
    Ticket,
    Unit,
)
from .actors import SYSTEM, Actor
from .events import new_event

# ---------------------------------------------------------------- loading and validation


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    code: str
    name: str
    default_unit: str | None
    territorial: bool


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
                c.id, c.code, c.name, code_of.get(c.default_unit_id), c.territorial
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


def parse_ruleset_text(text: str, fmt: str) -> dict[str, Any]:
    """YAML or CSV text → the ruleset mapping, still marked with line numbers so that
    validation against the city can name them."""
    return rules_mod.csv_to_data(text) if fmt == "csv" else rules_mod.yaml_to_data(text)


def ruleset_problem(exc: RulesetError) -> ValidationFailed:
    return ValidationFailed(
        {"ruleset": [str(exc).splitlines()[i] for i in range(len(exc.problems))]},
        detail="规则集有误，未作任何保存：" + "；".join(str(exc).splitlines()[:3]),
    )


# ---------------------------------------------------------------- compiled routers


@dataclass
class Compiled:
    record_id: int
    name: str
    version: int
    router: Router
    city: CityModel
    # Detached copies of the units and categories routing can dispatch to. Intake attaches
    # them with session.merge(load=False): no query per ticket for reference data.
    units: dict[int, Unit] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)

    def attach_unit(self, session: Session, unit_id: int) -> Unit:
        return session.merge(self.units[unit_id], load=False)

    def attach_category(self, session: Session, category_id: int) -> Category:
        return session.merge(self.categories[category_id], load=False)


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


# ---------------------------------------------------------------- ruleset lifecycle


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
    session.add(
        AuditEvent(
            action="ruleset.activated",
            subject=f"ruleset:{record.id}",
            actor_id=actor.user_id,
            actor_label=actor.label,
            data={
                "ruleset": {"id": record.id, "name": record.name, "version": record.version},
                "previous": None if previous is None else {
                    "id": previous.id, "name": previous.name, "version": previous.version,
                },
            },
            created_at=now,
        )
    )  # fmt: skip
    session.flush()
    return record


# ---------------------------------------------------------------- routing tickets


def route_ticket(compiled: Compiled, ticket: Ticket) -> Decision:
    return compiled.router.route(
        ticket.description, title=ticket.title or "", place=ticket.address or "",
        lat=ticket.latitude, lng=ticket.longitude,
    )  # fmt: skip


def decision_record(compiled: Compiled, decision: Decision) -> dict[str, Any]:
    """What is stored on the ticket and shown to operators."""
    data = decision.to_dict()
    data["ruleset_id"] = compiled.record_id
    data["ruleset_version"] = compiled.version
    data["lead_unit_name"] = compiled.city.unit_name(decision.lead_unit)
    data["territorial_unit_name"] = compiled.city.unit_name(decision.territorial_unit)
    return data


@dataclass(frozen=True)
class RoutingOutcome:
    events: list[Any]
    category_id: int | None = None
    lead_unit_id: int | None = None
    co_unit_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class RoutingPlan:
    """What routing decided for a new ticket, as plain values (no ORM objects)."""

    record: dict[str, Any]  # stored on the ticket and shown to operators
    reason: str
    routed_data: dict[str, Any]  # the "routed" event's data
    territorial: str | None
    lead: str | None = None  # set when it is confident enough to dispatch
    co_units: tuple[str, ...] = ()
    category: str | None = None  # routing's category, when nobody chose one
    dispatched_body: str | None = None


def plan_routing(compiled: Compiled, decision: Decision, *,
                 chosen_category: str | None) -> RoutingPlan:  # fmt: skip
    """A category someone chose is a hint, not an order: if routing confidently says
    something else, an operator decides."""
    city = compiled.city
    record = decision_record(compiled, decision)
    dispatch, reason = decision.confident, decision.reason
    if dispatch and chosen_category and decision.category and chosen_category != decision.category:
        dispatch = False
        reason = f"市民所选类别与自动识别（{decision.label}）不一致，请人工判断"
        record.update(reason=reason, confident=False)
    data = {"ruleset_id": compiled.record_id, "ruleset_version": compiled.version,
            "label": decision.label, "confidence": decision.confidence,
            "dispatched": dispatch}  # fmt: skip
    territorial = decision.territorial_unit if decision.territorial_unit in city.unit_ids else None
    if not dispatch or decision.lead_unit not in city.unit_ids:
        return RoutingPlan(record, reason, {**data, "dispatched": False}, territorial)
    lead = decision.lead_unit
    co_codes = tuple(c for c in decision.co_units if c in city.unit_ids)
    helpers = "、".join(filter(None, (city.unit_name(c) for c in co_codes)))
    body = f"已转交{city.unit_name(lead)}办理" + (f"，{helpers}协办" if helpers else "") + "。"
    category = decision.category if decision.category in city.categories else None
    return RoutingPlan(record, reason, data, territorial, lead, co_codes,
                       None if chosen_category else category, body)  # fmt: skip


def apply_routing(
    ticket: Ticket,
    compiled: Compiled,
    *,
    chosen_category: str | None,
    now: datetime,
    sequence: int,
) -> RoutingOutcome:
    """Route a new ticket and, when confident, say where it goes; the caller attaches the
    units. Events start at ``sequence``."""
    plan = plan_routing(compiled, route_ticket(compiled, ticket), chosen_category=chosen_category)
    city = compiled.city
    ticket.ruleset_id = compiled.record_id
    ticket.routing = plan.record
    if plan.territorial:
        ticket.territorial_unit_id = city.unit_ids[plan.territorial]
    routed = new_event(ticket, sequence, "routed", actor=SYSTEM, now=now, public=False,
                       body=plan.reason, data=plan.routed_data)  # fmt: skip
    if plan.lead is None:
        return RoutingOutcome([routed])
    ticket.status = Status.DISPATCHED.value
    dispatched = new_event(
        ticket, sequence + 1, "dispatched", actor=SYSTEM, now=now, public=True,
        body=plan.dispatched_body,
        data={"lead_unit": plan.lead, "co_units": list(plan.co_units), "automatic": True},
    )  # fmt: skip
    category = city.categories.get(plan.category or "")
    return RoutingOutcome(
        [routed, dispatched],
        category_id=category.id if category else None,
        lead_unit_id=city.unit_ids[plan.lead],
        co_unit_ids=tuple(city.unit_ids[c] for c in plan.co_units),
    )


# ---------------------------------------------------------------- labels of training files


def resolve_label(label: str, city: CityModel) -> Target | None:
    """A training label names a category or a unit, by code or by name."""
    for info in city.categories.values():
        if label in (info.code, info.name):
            return Target(info.code, info.default_unit, info.territorial)
    for unit in city.units.values():
        if label in (unit.code, unit.name):
            return Target(lead_unit=unit.code)
    return None


def label_matcher(ruleset: Ruleset, city: CityModel) -> Callable[[str, str], bool]:
    """Whether a predicted rule label answers a gold label given as a label, code or name."""
    by_label = {rule.label: rule for rule in ruleset.rules}

    def same(predicted: str, gold: str) -> bool:
        if predicted == gold:
            return True
        rule = by_label.get(predicted)
        if rule is None:
            return False
        target = resolve_label(gold, city)
        if target is None:
            return False
        if target.category:
            return rule.category == target.category
        return rule.category is None and rule.lead_unit == target.lead_unit

    return same


def create_unit_for_label(session: Session, label: str, *, now: datetime) -> str:
    """``--create-units``: a department named after an unknown label."""
    import hashlib

    code = "unit-" + hashlib.sha1(label.encode()).hexdigest()[:8]  # noqa: S324 - a name, not security
    if session.scalar(select(Unit.id).where(Unit.code == code)) is None:
        session.add(Unit(code=code, name=label[:100], kind="department", created_at=now))
        session.flush()
    return code
