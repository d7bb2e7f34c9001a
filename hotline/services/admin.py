"""Administration: staff accounts and units' contacts. Every change is audited."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.sla import POLICIES
from ..domain.states import Priority, Role
from ..errors import NotFound, ValidationFailed
from ..models import Category, Unit, User
from . import audit
from .actors import Actor
from .auth import MIN_PASSWORD, hash_password, revoke_all_sessions
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
    user = User(username=username, display_name=display_name.strip(), role=role,
                unit=unit, password_hash=hash_password(password), active=True,
                created_at=now)  # fmt: skip
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


def reset_password(session: Session, user_id: int, password: str, *, actor: Actor,
                   now: datetime) -> User:  # fmt: skip
    """An admin sets a new password (the user forgot theirs, or it leaked): every session
    of that user ends."""
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
    ended = revoke_all_sessions(session, user.id, now=now)
    audit.record(session, "user.password_reset", f"user:{user.id}", actor, now,
                 {"username": user.username, "sessions_ended": ended})  # fmt: skip
    return user


UNIT_FIELDS = ("contact_name", "contact_phone", "email", "webhook_url")


def update_unit(session: Session, code: str, values: dict[str, str], *, actor: Actor,
                now: datetime) -> Unit:  # fmt: skip
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound("没有这个单位")
    errors: dict[str, list[str]] = {}
    cleaned = {name: (values.get(name) or "").strip() or None for name in UNIT_FIELDS}
    if cleaned["email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", cleaned["email"]):
        errors["email"] = ["邮箱格式不正确"]
    if cleaned["webhook_url"] and not re.fullmatch(r"https?://\S+", cleaned["webhook_url"]):
        errors["webhook_url"] = ["应为 http:// 或 https:// 开头的地址"]
    aliases = [a for a in re.split(r"[、,，;；\s]+", values.get("aliases", "")) if a]
    if any(len(a) > 50 for a in aliases) or len(aliases) > 20:
        errors["aliases"] = ["别名最多 20 个，每个 50 字以内"]
    if errors:
        raise ValidationFailed(errors, detail="单位信息未保存，请根据提示修改")
    before = {name: getattr(unit, name) for name in UNIT_FIELDS} | {"aliases": unit.aliases}
    for name, value in cleaned.items():
        setattr(unit, name, value)
    unit.aliases = aliases
    audit.record(session, "unit.updated", f"unit:{code}", actor, now,
                 {"before": before, "after": cleaned | {"aliases": aliases}})  # fmt: skip
    reference_data_changed(session, now=now)  # routing's compiled copies know units' names
    return unit


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
