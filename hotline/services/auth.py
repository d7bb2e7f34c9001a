"""API tokens and passwords. Tokens are random, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import ApiToken, User

TOKEN_PREFIX = "hl_"  # noqa: S105 - a label, not a secret


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
