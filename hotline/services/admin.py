"""Administration: staff accounts, units (the 条/块 tree) and categories. Every change is
audited."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.sla import POLICIES
from ..domain.states import PARENT_KIND, UNIT_KIND_LABELS, Priority, Role, UnitKind
from ..errors import NotFound, ValidationFailed
from ..models import Category, Unit, User
from . import audit
from .actors import Actor
from .auth import MIN_PASSWORD, hash_password, revoke_all_sessions
from .open311_peers import OPEN311_FIELDS, clean_open311, open311_audit
from .router_cache import reference_data_changed

USERNAME = re.compile(r"[A-Za-z0-9_.-]{2,50}")


def create_user(
    session: Session, *, username: str, display_name: str, role: str,
    unit_code: str | None, password: str, actor: Actor, now: datetime,
) -> User:  # fmt: skip
    errors: dict[str, list[str]] = {}
    if not USERNAME.fullmatch(username):
        errors["username"] = ["用户名为 2–50 位字母、数字或 _ . -"]
    elif session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = ["该用户名已被使用"]
    if not display_name.strip() or len(display_name) > 50:
        errors["display_name"] = ["请填写姓名（50 字以内）"]
    if role not in {r.value for r in Role}:
        errors["role"] = ["请选择角色"]
    unit = session.scalar(select(Unit).where(Unit.code == unit_code)) if unit_code else None
    if role == Role.UNIT.value and unit is None:
        errors["unit"] = ["承办单位人员须选择所属单位"]
    if len(password) < MIN_PASSWORD:
        errors["password"] = [f"初始密码至少 {MIN_PASSWORD} 位"]
    if errors:
        raise ValidationFailed(errors, detail="账号未创建，请根据提示修改")
    # The admin chose the first password, so its owner replaces it at the first sign-in.
    user = User(username=username, display_name=display_name.strip(), role=role,
                unit=unit, password_hash=hash_password(password), active=True,
                must_change_password=True, created_at=now)  # fmt: skip
    session.add(user)
    session.flush()
    audit.record(session, "user.created", f"user:{user.id}", actor, now,
                 {"username": username, "role": role, "unit": unit_code})  # fmt: skip
    return user


def set_user_active(session: Session, user_id: int, active: bool, *, actor: Actor,
                    now: datetime) -> User:  # fmt: skip
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("没有这个账号")
    if user.id == actor.user_id and not active:
        raise ValidationFailed({"active": ["不能停用自己的账号"]}, detail="不能停用自己的账号")
    user.active = active
    # Signed-in browsers end now; reactivating the account later does not bring them back.
    ended = 0 if active else revoke_all_sessions(session, user.id, now=now)
    audit.record(session, "user.activated" if active else "user.deactivated", f"user:{user.id}",
                 actor, now, {"username": user.username, "sessions_ended": ended})  # fmt: skip
    return user


# Temporary passwords are read out over the phone: no 0/O, 1/l/I.
_READABLE = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def temporary_password() -> str:
    """A random password for an admin's reset, 12 characters (about 70 bits)."""
    return "".join(secrets.choice(_READABLE) for _ in range(12))


def find_users(session: Session, *, q: str = "", role: str = "") -> list[User]:
    """Accounts by role and username, narrowed by words of the username, name or unit."""
    query = select(User).order_by(User.role, User.username)
    if role in {r.value for r in Role}:
        query = query.where(User.role == role)
    users = list(session.scalars(query))
    words = q.split()
    if not words:
        return users

    def text(user: User) -> str:
        return " ".join((user.username, user.display_name, user.unit.name if user.unit else ""))

    return [u for u in users if all(w.lower() in text(u).lower() for w in words)]


def reset_password(session: Session, user_id: int, password: str, *, actor: Actor,
                   now: datetime) -> User:  # fmt: skip
    """An admin sets a new password (the user forgot theirs, or it leaked): every session
    of that user ends, and the user must choose their own at the next sign-in (the admin
    knows this one)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("没有这个账号")
    if user.id == actor.user_id:  # one's own needs the current password (修改密码)
        raise ValidationFailed({"new_password": ["请在“修改密码”页面修改自己的密码"]},
                               detail="请在“修改密码”页面修改自己的密码")  # fmt: skip
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed({"new_password": [f"新密码至少 {MIN_PASSWORD} 位"]},
                               detail="密码未重置，请根据提示修改")  # fmt: skip
    user.password_hash = hash_password(password)
    user.must_change_password = True
    ended = revoke_all_sessions(session, user.id, now=now)
    audit.record(session, "user.password_reset", f"user:{user.id}", actor, now,
                 {"username": user.username, "sessions_ended": ended})  # fmt: skip
    return user


UNIT_FIELDS = ("contact_name", "contact_phone", "email", "webhook_url")
UNIT_CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")


def _contacts(values: dict[str, str], errors: dict[str, list[str]]) -> tuple[dict[str, str | None],
                                                                          list[str]]:  # fmt: skip
    """A unit's contact fields and aliases from a form, problems added to ``errors``."""
    cleaned = {name: (values.get(name) or "").strip() or None for name in UNIT_FIELDS}
    if cleaned["contact_name"] and len(cleaned["contact_name"]) > 50:
        errors["contact_name"] = ["联系人 50 字以内"]
    if cleaned["contact_phone"] and len(cleaned["contact_phone"]) > 30:
        errors["contact_phone"] = ["联系电话 30 字以内"]
    if cleaned["email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", cleaned["email"]):
        errors["email"] = ["邮箱格式不正确"]
    if cleaned["webhook_url"] and not re.fullmatch(r"https?://\S+", cleaned["webhook_url"]):
        errors["webhook_url"] = ["应为 http:// 或 https:// 开头的地址"]
    aliases = [a for a in re.split(r"[、,，;；\s]+", values.get("aliases", "")) if a]
    if any(len(a) > 50 for a in aliases) or len(aliases) > 20:
        errors["aliases"] = ["别名最多 20 个，每个 50 字以内"]
    return cleaned, aliases


def update_unit(session: Session, code: str, values: dict[str, str], *, actor: Actor,
                now: datetime) -> Unit:  # fmt: skip
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound("没有这个单位")
    errors: dict[str, list[str]] = {}
    cleaned, aliases = _contacts(values, errors)
    open311 = clean_open311(values, errors, unit.open311_api_key)
    if errors:
        raise ValidationFailed(errors, detail="单位信息未保存，请根据提示修改")
    before = {name: getattr(unit, name) for name in (*UNIT_FIELDS, *OPEN311_FIELDS)} | {
        "aliases": unit.aliases, "open311_api_key_set": bool(unit.open311_api_key)}
    after = cleaned | {"aliases": aliases} | open311_audit(open311, unit.open311_api_key)
    for name, value in (cleaned | open311).items():
        setattr(unit, name, value)
    unit.aliases = aliases
    audit.record(session, "unit.updated", f"unit:{code}", actor, now,
                 {"before": before, "after": after})  # fmt: skip
    reference_data_changed(session, now=now)  # routing's compiled copies know units' names
    return unit


def create_unit(session: Session, values: dict[str, str], *, actor: Actor,
                now: datetime) -> Unit:  # fmt: skip
    """A new department, or a district, street, community or grid under its parent."""
    errors: dict[str, list[str]] = {}
    code = (values.get("code") or "").strip().lower()
    name = (values.get("name") or "").strip()
    if not UNIT_CODE.fullmatch(code) or code == "new":  # /console/admin/units/new
        errors["code"] = ["编码为 2–40 位小写字母、数字或 -，如 grid-heping-03"]
    elif session.scalar(select(Unit.id).where(Unit.code == code)):
        errors["code"] = ["该编码已被使用"]
    if not name or len(name) > 100:
        errors["name"] = ["请填写单位名称（100 字以内）"]
    elif session.scalar(select(Unit.id).where(Unit.name == name)):
        errors["name"] = ["已有同名单位"]
    kind = values.get("kind", "")
    parent_code = (values.get("parent") or "").strip()
    parent = session.scalar(select(Unit).where(Unit.code == parent_code)) if parent_code else None
    if kind not in {k.value for k in UnitKind}:
        errors["kind"] = ["请选择单位类型"]
    else:
        wanted = PARENT_KIND[UnitKind(kind)]
        if parent_code and parent is None:
            errors["parent"] = ["没有这个上级单位"]
        elif wanted is None and parent is not None:
            errors["parent"] = [f"{UNIT_KIND_LABELS[UnitKind(kind)]}没有上级单位"]
        elif wanted is not None and parent is not None and parent.kind != wanted:
            errors["parent"] = [f"{UNIT_KIND_LABELS[UnitKind(kind)]}的上级应为"
                                f"{UNIT_KIND_LABELS[wanted]}"]  # fmt: skip
        elif wanted is not None and wanted is not UnitKind.DEPARTMENT and parent is None:
            errors["parent"] = [f"请选择所属{UNIT_KIND_LABELS[wanted]}"]
    cleaned, aliases = _contacts(values, errors)
    open311 = clean_open311(values, errors)
    if errors:
        raise ValidationFailed(errors, detail="单位未创建，请根据提示修改")
    unit = Unit(code=code, name=name, kind=kind, parent=parent, aliases=aliases, active=True,
                created_at=now, **cleaned, **open311)  # fmt: skip
    session.add(unit)
    session.flush()
    audit.record(session, "unit.created", f"unit:{code}", actor, now,
                 {"name": name, "kind": kind, "parent": parent_code or None})  # fmt: skip
    reference_data_changed(session, now=now)  # routing resolves places and names to units
    return unit


@dataclass
class UnitNode:
    """A unit with the units under it, for the tree."""

    unit: Unit
    children: list[UnitNode] = field(default_factory=list)


@dataclass(frozen=True)
class UnitTree:
    departments: list[UnitNode]  # 条: departments (and any under them)
    places: list[UnitNode]  # 块: district → street → community → grid
    paths: dict[int, list[Unit]]  # unit id → its ancestors, outermost first
    staff: dict[int, int]  # unit id → accounts of that unit


def unit_tree(session: Session) -> UnitTree:
    """Every unit once, under its parent, in the order they were created (the seed's order)."""
    units = list(session.scalars(select(Unit).order_by(Unit.id)))
    nodes = {u.id: UnitNode(u) for u in units}
    roots: list[UnitNode] = []
    for unit in units:
        parent = nodes.get(unit.parent_id) if unit.parent_id else None
        (parent.children if parent else roots).append(nodes[unit.id])
    by_id = {u.id: u for u in units}
    paths: dict[int, list[Unit]] = {}
    for unit in units:
        chain, seen = [], {unit.id}
        parent = by_id.get(unit.parent_id) if unit.parent_id else None
        while parent is not None and parent.id not in seen:  # a cycle would loop forever
            chain.append(parent)
            seen.add(parent.id)
            parent = by_id.get(parent.parent_id) if parent.parent_id else None
        paths[unit.id] = chain[::-1]
    staff = dict(session.execute(select(User.unit_id, func.count()).where(User.unit_id.isnot(None))
                                 .group_by(User.unit_id)).all())  # fmt: skip
    departments = [n for n in roots if n.unit.kind == UnitKind.DEPARTMENT.value]
    places = [n for n in roots if n.unit.kind != UnitKind.DEPARTMENT.value]
    return UnitTree(departments, places, paths, staff)


def search_units(tree: UnitTree, q: str) -> list[UnitNode]:
    """Units whose name, code, alias, contact or place in the tree has every word of ``q``
    (so "振兴 第一网格" finds the first grids of 振兴街道's communities)."""
    words = [w.lower() for w in q.split()]
    found: list[UnitNode] = []

    def walk(nodes: list[UnitNode]) -> None:
        for node in nodes:
            u = node.unit
            text = " ".join([u.name, u.code, u.contact_name or "", u.contact_phone or "",
                             *(u.aliases or []),
                             *(p.name for p in tree.paths.get(u.id, []))]).lower()  # fmt: skip
            if all(w in text for w in words):
                found.append(node)
            walk(node.children)

    walk(tree.departments + tree.places)
    return found


def find_categories(session: Session, q: str = "") -> list[Category]:
    """Categories in their form order, narrowed by words of the name, code or group."""
    categories = list(session.scalars(select(Category).order_by(Category.sort_order,
                                                                Category.code)))  # fmt: skip
    words = [w.lower() for w in q.split()]

    def text(c: Category) -> str:
        return " ".join((c.name, c.code, c.group_name, c.description or "")).lower()

    return [c for c in categories if all(w in text(c) for w in words)]


def update_category(session: Session, code: str, values: dict[str, str], *, actor: Actor,
                    now: datetime) -> Category:  # fmt: skip
    """A category's time-limit class, priority, default unit and whether it is offered."""
    category = session.scalar(select(Category).where(Category.code == code))
    if category is None:
        raise NotFound("没有这个类别")
    errors: dict[str, list[str]] = {}
    time_limit = values.get("time_limit", "")
    if time_limit not in POLICIES:
        errors["time_limit"] = ["请选择办理时限类别"]
    priority = values.get("priority", "")
    if priority not in {p.value for p in Priority}:
        errors["priority"] = ["请选择紧急程度"]
    unit_code = values.get("default_unit") or None
    unit = session.scalar(select(Unit).where(Unit.code == unit_code)) if unit_code else None
    if unit_code and unit is None:
        errors["default_unit"] = ["没有这个单位"]
    if errors:
        raise ValidationFailed(errors, detail="类别未保存，请根据提示修改")
    before = {"time_limit": category.time_limit, "priority": category.priority,
              "default_unit": category.default_unit.code if category.default_unit else None,
              "active": category.active}  # fmt: skip
    category.time_limit, category.priority, category.default_unit = time_limit, priority, unit
    category.active = values.get("active") == "1"
    after = {
        "time_limit": time_limit,
        "priority": priority,
        "default_unit": unit_code,
        "active": category.active,
    }
    audit.record(
        session,
        "category.updated",
        f"category:{code}",
        actor,
        now,
        {"before": before, "after": after},
    )
    # Routing dispatches on compiled copies of the categories (time limit, default unit):
    # every process recompiles, so the next ticket routing files here gets the new values.
    reference_data_changed(session, now=now)
    return category
