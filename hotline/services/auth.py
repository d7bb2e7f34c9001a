"""API tokens, passwords and staff sessions. Tokens (API and session alike) are random and
stored as SHA-256 only."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import ApiToken, StaffSession, User

TOKEN_PREFIX = "hl_"  # noqa: S105 - a label, not a secret
MIN_PASSWORD = 10
# A session's last_seen_at is written at most this often, not on every request.
SESSION_TOUCH = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, user: User, *, name: str, now: datetime, token: str | None = None
) -> str:
    """Create a token for ``user`` and return its plaintext (only time it is visible)."""
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            name=name,
            token_hash=hash_token(token),
            prefix=token[:10],
            created_at=now,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class TokenOwner:
    user_id: int
    role: str
    unit_id: int | None
    display_name: str


# Built once: composing the query costs more CPU than running it, and it runs on every request.
_TOKEN_OWNER = (
    select(User.id, User.role, User.unit_id, User.display_name)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > bindparam("now")),
        User.active,
    )
)


def authenticate_token(session: Session, token: str, *, now: datetime) -> TokenOwner | None:
    """The active user owning a live token, in one query."""
    if not token or len(token) > 200:
        return None
    row = session.execute(_TOKEN_OWNER, {"token_hash": hash_token(token), "now": now}).first()
    return None if row is None else TokenOwner(*row)


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


# ---------------------------------------------------------------- staff sessions


def open_session(session: Session, user: User, *, now: datetime) -> str:
    """A new sign-in for ``user``; returns the token the session cookie will carry."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(user_id=user.id, token_hash=hash_token(token), created_at=now,
                             last_seen_at=now))  # fmt: skip
    session.flush()
    return token


def session_user(session: Session, token: str, *, now: datetime, idle: timedelta) -> User | None:
    """The active user of a live session: not revoked, used within ``idle``. Marks it used."""
    if not token or len(token) > 100:
        return None
    row = session.execute(
        select(StaffSession, User)
        .join(User, User.id == StaffSession.user_id)
        .where(StaffSession.token_hash == hash_token(token), StaffSession.revoked_at.is_(None),
               StaffSession.last_seen_at > now - idle, User.active)
    ).first()  # fmt: skip
    if row is None:
        return None
    staff_session, user = row
    if now - staff_session.last_seen_at >= SESSION_TOUCH:
        staff_session.last_seen_at = now
    return user


def revoke_session(session: Session, token: str, *, now: datetime) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == hash_token(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_all_sessions(session: Session, user_id: int, *, now: datetime) -> int:
    """End every sign-in of a user (password changed, account deactivated)."""
    return session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
