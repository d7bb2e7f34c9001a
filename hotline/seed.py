"""The demo city and demo accounts. Upserts by code, so running it twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from .domain.states import Priority, Role, UnitKind
from .models import ApiToken, Category, Unit, User
from .services.auth import hash_password, hash_token, issue_token, password_matches


def seed_default_ruleset(session: Session, *, now: datetime) -> str:
    """Import routing/data/default_ruleset.yaml once, and activate it if nothing is active."""
    from routing.rules import load_yaml

    from .models import RulesetRecord, RulesetStatus
    from .services.actors import SYSTEM
    from .services.rulesets import activate, create_ruleset

    text = (files("routing") / "data" / "default_ruleset.yaml").read_text("utf-8")
    data = load_yaml(text).to_dict()
    record = session.scalar(select(RulesetRecord).where(RulesetRecord.name == data["name"]))
    if record is None:
        record = create_ruleset(session, data, source="seed", now=now)
    active = session.scalar(
        select(RulesetRecord.id).where(RulesetRecord.status == RulesetStatus.ACTIVE)
    )
    if active is None:
        activate(session, record, now=now, actor=SYSTEM)
    return f"{record.name} v{record.version}（{record.status}）"


def load_demo_city() -> dict[str, Any]:
    return yaml.safe_load((files("hotline") / "data" / "demo_city.yaml").read_text("utf-8"))


def _upsert_unit(session: Session, node: dict[str, Any], parent: Unit | None, now: datetime) -> int:
    unit = session.scalar(select(Unit).where(Unit.code == node["code"]))
    if unit is None:
        unit = Unit(code=node["code"], created_at=now)
        session.add(unit)
    unit.name = node["name"]
    unit.kind = UnitKind(node["kind"]).value
    unit.parent = parent
    unit.contact_name = node.get("contact_name")
    unit.contact_phone = node.get("contact_phone")
    unit.email = node.get("email")
    unit.aliases = list(node.get("aliases", []))
    session.flush()
    return 1 + sum(_upsert_unit(session, child, unit, now) for child in node.get("children", []))


def seed_city(
    session: Session, *, now: datetime, city: dict[str, Any] | None = None
) -> dict[str, int]:
    city = city or load_demo_city()
    units = sum(_upsert_unit(session, node, None, now) for node in city["units"])
    by_code = {u.code: u for u in session.scalars(select(Unit))}
    for order, item in enumerate(city["categories"]):
        category = session.scalar(select(Category).where(Category.code == item["code"]))
        if category is None:
            category = Category(code=item["code"])
            session.add(category)
        category.name = item["name"]
        category.group_name = item["group"]
        category.description = item.get("description", "")
        category.default_unit = by_code[item["default_unit"]] if item.get("default_unit") else None
        category.territorial = bool(item.get("territorial"))
        category.priority = Priority(item.get("priority", "normal")).value
        category.time_limit = item.get("time_limit", "ordinary")
        category.sort_order = order
        category.attributes = list(item.get("attributes", []))
        category.service_type = item.get("service_type", "realtime")
    session.flush()
    return {"units": units, "categories": len(city["categories"])}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    unit_code: str | None
    password: str
    token: str


# Fixed on purpose so a demo can be followed from the README; `make run` prints them.
DEMO_ACCOUNTS = (
    DemoAccount(
        "operator", "话务员小王", Role.OPERATOR, None, "demo-operator-1", "hl_demo_operator"
    ),
    DemoAccount("cgj", "城管局办件员", Role.UNIT, "dept-cgj", "demo-unit-1", "hl_demo_unit"),
    DemoAccount(
        "supervisor",
        "创建办督查员",
        Role.SUPERVISOR,
        "office",
        "demo-supervisor-1",
        "hl_demo_supervisor",
    ),
    DemoAccount("admin", "系统管理员", Role.ADMIN, None, "demo-admin-1", "hl_demo_admin"),
)


def seed_demo_accounts(session: Session, *, now: datetime) -> None:
    for account in DEMO_ACCOUNTS:
        user = session.scalar(select(User).where(User.username == account.username))
        if user is None:
            user = User(username=account.username, created_at=now, password_hash="")
            session.add(user)
        user.display_name = account.display_name
        user.role = Role(account.role).value
        user.unit_id = (
            session.scalar(select(Unit.id).where(Unit.code == account.unit_code))
            if account.unit_code
            else None
        )
        user.active = True
        if not user.password_hash or not password_matches(user, account.password):
            user.password_hash = hash_password(account.password)
        session.flush()
        known = session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_token(account.token))
        )
        if known is None:
            issue_token(session, user, name="demo", now=now, token=account.token)


@dataclass(frozen=True)
class Seeded:
    counts: dict[str, int]
    ruleset: str


def seed_demo(session: Session, *, now: datetime, accounts: bool = True) -> Seeded:
    """Everything `make run` needs: the demo city, its routing ruleset (active) and, with
    ``accounts``, the demo staff with their API tokens."""
    counts = seed_city(session, now=now)
    ruleset = seed_default_ruleset(session, now=now)
    if accounts:
        seed_demo_accounts(session, now=now)
    return Seeded(counts, ruleset)
