"""Bearer-token authentication and the request's unit of work for the staff API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g, request
from sqlalchemy.orm import Session

from ..domain.states import Role
from ..errors import Forbidden, Unauthorized
from ..extensions import hotline
from ..services.actors import Actor
from ..services.auth import authenticate_token


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, detached from any session."""

    user_id: int
    role: Role
    unit_id: int | None
    display_name: str

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.display_name)


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticated(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Open the request's one transaction, authenticate in it, then run the view inside it.

    It wraps the argument parsing too, so a stranger gets 401 before any 422 tells them
    about the body. The view reads the session with :func:`db_session`; the transaction commits
    when the view returns and rolls back on any error.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _bearer_token()
            if token is None:
                raise Unauthorized("请在 Authorization 头中提供 Bearer 访问令牌")
            if request.mimetype == "multipart/form-data":
                # Read an upload before the transaction opens: a phone on a weak signal must
                # not hold a database connection (on SQLite, the write lock) while it sends.
                request.files  # noqa: B018 - parsing it is the point
            app = hotline()
            with app.db.transaction() as session:
                owner = authenticate_token(session, token, now=app.now())
                if owner is None:
                    raise Unauthorized("访问令牌无效、已过期或已被吊销")
                g.principal = Principal(
                    owner.user_id, Role(owner.role), owner.unit_id, owner.display_name
                )
                if roles and g.principal.role not in roles:
                    raise Forbidden("您的角色无权执行此操作")
                g.db_session = session
                try:
                    return view(*args, **kwargs)
                finally:
                    g.pop("db_session", None)

        return wrapper

    return decorate


def principal() -> Principal:
    return g.principal


def db_session() -> Session:
    return g.db_session
