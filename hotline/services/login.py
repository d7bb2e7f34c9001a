"""Password sign-in for staff, with lockout after repeated failures."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import User
from .auth import hash_password, password_matches

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
# Checked against when the user does not exist, so that timing says nothing either.
_DUMMY_HASH = hash_password("not-a-real-password")


class LoginRefused(Exception):
    """Wrong credentials or locked; the message is safe to show."""


def sign_in(session: Session, username: str, password: str, *, now: datetime) -> User:
    user = session.scalar(select(User).where(User.username == username[:50]))
    if user is None or not user.active:
        from werkzeug.security import check_password_hash

        check_password_hash(_DUMMY_HASH, password)
        raise LoginRefused("用户名或密码错误")
    if user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise LoginRefused(f"连续输错次数过多，账号已锁定，请 {minutes} 分钟后再试")
    if not password_matches(user, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.failed_logins = 0
            user.locked_until = now + LOCKOUT
            raise LoginRefused("连续输错次数过多，账号已锁定 15 分钟")
        raise LoginRefused(f"用户名或密码错误（还可尝试 {MAX_FAILURES - user.failed_logins} 次）")
    user.failed_logins = 0
    user.locked_until = None
    return user
