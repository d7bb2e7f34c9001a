"""Password sign-in for staff, throttled per (username, address) and per address.

Failures are rows in ``login_failures`` (the database is the source of truth: every worker
sees the same counts, and the app clock moves them in tests). Known and unknown usernames go
through the same steps — one count, one password hash check, one insert — and get the same
message, so neither the answer nor its timing says which usernames exist. Nobody is locked
out by others: too many failures refuse only that (username, address) pair, or that address.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from ..errors import ValidationFailed
from ..models import LoginFailure, User
from . import audit
from .actors import Actor
from .auth import MIN_PASSWORD, hash_password, revoke_all_sessions

WINDOW = timedelta(minutes=15)
MAX_PAIR_FAILURES = 5  # one username from one address
MAX_ADDRESS_FAILURES = 20  # one address, whatever usernames it tries
WRONG = "用户名或密码错误"
THROTTLED = "登录失败次数过多，请 15 分钟后再试"


class LoginRefused(Exception):
    """Wrong credentials, or too many failures; the message is safe to show."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.throttled = throttled


@functools.cache
def _dummy_hash() -> str:
    """Checked when the user does not exist, so that every attempt costs one hash check."""
    return hash_password("not-a-real-password")


def _username_key(username: str) -> str:
    return hashlib.sha256(username.encode()).hexdigest()


def _throttled(session: Session, key: str, address: str, now: datetime) -> bool:
    recent = session.execute(
        select(func.count(), func.coalesce(func.sum(case((LoginFailure.username_hash == key, 1),
                                                          else_=0)), 0))
        .where(LoginFailure.address == address, LoginFailure.created_at > now - WINDOW)
    ).one()  # fmt: skip
    by_address, by_pair = recent
    return by_address >= MAX_ADDRESS_FAILURES or by_pair >= MAX_PAIR_FAILURES


def _record_failure(session: Session, key: str, address: str, now: datetime) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.created_at <= now - WINDOW))
    session.add(LoginFailure(username_hash=key, address=address, created_at=now))


def sign_in(session: Session, username: str, password: str, *, address: str | None,
            now: datetime) -> User:  # fmt: skip
    """The user these credentials name, or :class:`LoginRefused` (failures are recorded in
    ``session``: the caller commits even when sign-in is refused)."""
    username, address = username[:50], (address or "unknown")[:64]
    key = _username_key(username)
    if _throttled(session, key, address, now):
        raise LoginRefused(THROTTLED, throttled=True)
    user = session.scalar(select(User).where(User.username == username))
    matches = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    if user is None or not user.active or not matches:
        _record_failure(session, key, address, now)
        raise LoginRefused(WRONG)
    session.execute(delete(LoginFailure).where(LoginFailure.username_hash == key,
                                               LoginFailure.address == address))  # fmt: skip
    return user


def change_password(session: Session, user_id: int, *, current: str, new: str, confirm: str,
                    address: str | None, now: datetime) -> User:  # fmt: skip
    """A signed-in user's own password change; every session of theirs ends (the caller
    opens a fresh one for the browser that asked). Wrong current passwords count as failed
    sign-ins, so a stolen session cannot be used to guess the password. Refusals are
    raised before anything but that count is written."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise ValidationFailed({"current_password": [WRONG]}, detail="密码未修改")
    address = (address or "unknown")[:64]
    key = _username_key(user.username)
    errors: dict[str, list[str]] = {}
    if _throttled(session, key, address, now):
        errors["current_password"] = [THROTTLED]
    elif not check_password_hash(user.password_hash, current):
        _record_failure(session, key, address, now)
        errors["current_password"] = ["当前密码不正确"]
    if len(new) < MIN_PASSWORD:
        errors["new_password"] = [f"新密码至少 {MIN_PASSWORD} 位"]
    elif new == current:
        errors["new_password"] = ["新密码不能与当前密码相同"]
    if confirm != new:
        errors["confirm_password"] = ["两次输入的新密码不一致"]
    if errors:
        raise ValidationFailed(errors, detail="密码未修改，请根据提示修改")
    user.password_hash = hash_password(new)
    ended = revoke_all_sessions(session, user.id, now=now)
    audit.record(session, "user.password_changed", f"user:{user.id}",
                 Actor(user.id, user.display_name), now,
                 {"username": user.username, "sessions_ended": ended})  # fmt: skip
    return user
